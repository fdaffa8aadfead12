// The CLI's writes: --out must be a regular file (symbolic links followed), read-only only with --force, one writer per --out (lock),
// checked before training; stale temp files removed; --resume keeps --test-limit; empty test sets, --dims '' and huge integers refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeIdx } from '../../src/data/idx.js';
import { loadModel } from '../../src/io/files.js';
import { assertCliError, runCli as run } from '../helpers/cli.js';

const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'ws-writes-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));
const tmp = (name: string): string => join(dir, name);
/** A quick run: a small MLP, one epoch on 64 samples, 16 test samples. */
const QUICK = ['--model', 'mlp:8', '--epochs', '1', '--limit', '64', '--test-limit', '16'];
/** No process has this id (above Linux's largest pid_max): its lock and temp files are stale. */
const DEAD_PID = 2 ** 31 - 2;

/** The run failed before any training: no "Training …" line, no epoch. */
const beforeTraining = (err: string): void => assert.doesNotMatch(err, /^Training |Epoch 1\/1/m, err);

test('--out naming a directory, a FIFO or (as root) /dev/full fails at the start by name, and leaves it as it was', async () => {
  const sub = tmp('a-folder');
  mkdirSync(sub);
  const r = await run('train', ...QUICK, '--out', sub);
  assertCliError(r, new RegExp(`${sub}: is a directory, not a regular file: refusing to replace it$`));
  beforeTraining(r.err);
  const fifo = tmp('fifo.wsm');
  if (spawnSync('mkfifo', [fifo]).status === 0) {
    const f = await run('train', ...QUICK, '--out', fifo);
    assertCliError(f, /fifo\.wsm: is a FIFO \(named pipe\), not a regular file/);
    beforeTraining(f.err);
    assert.ok(lstatSync(fifo).isFIFO());
  }
  if (process.getuid?.() === 0 && existsSync('/dev/full')) {
    const d = await run('train', ...QUICK, '--out', '/dev/full');
    assertCliError(d, /^weightshare: error: \/dev\/full: is a character device, not a regular file: refusing to replace it$/);
    beforeTraining(d.err);
    assert.ok(lstatSync('/dev/full').isCharacterDevice());
  }
});

test('an --out whose folder cannot be made fails before training, not after the first epoch', async () => {
  writeFileSync(tmp('plain-file'), '');
  const r = await run('train', ...QUICK, '--out', join(tmp('plain-file'), 'model.wsm'));
  assertCliError(r, /plain-file\/model\.wsm: cannot create its folder/);
  beforeTraining(r.err);
});

test('a read-only --out is refused unless --force, which replaces it and keeps it read-only (train, compress, export, and --resume)', async () => {
  const ro = tmp('ro.wsm');
  assert.equal((await run('train', ...QUICK, '--out', ro)).code, 0);
  chmodSync(ro, 0o444);
  const before = readFileSync(ro);
  const r = await run('train', ...QUICK, '--seed', '1', '--out', ro);
  assertCliError(r, /ro\.wsm: is read-only \(mode 0444\): not replaced unless forced \(--force on the command line/);
  beforeTraining(r.err);
  const resumed = await run('train', '--resume', ro, '--epochs', '2');
  assertCliError(resumed, /ro\.wsm: is read-only/);
  assert.deepEqual(readFileSync(ro), before);
  // compress and export refuse before their work too.
  const cro = tmp('ro-compressed.wsm');
  writeFileSync(cro, 'old');
  chmodSync(cro, 0o444);
  assertCliError(await run('compress', ro, '--finetune-epochs', '0', '--test-limit', '16', '--out', cro), /ro-compressed\.wsm: is read-only/);
  assert.equal(readFileSync(cro, 'utf8'), 'old');
  assert.equal((await run('compress', ro, '--finetune-epochs', '0', '--test-limit', '16', '--out', cro, '--force')).code, 0);
  assert.equal(statSync(cro).mode & 0o777, 0o444);
  const onnx = tmp('ro.onnx');
  writeFileSync(onnx, 'old');
  chmodSync(onnx, 0o444);
  assertCliError(await run('export', ro, '--out', onnx), /ro\.onnx: is read-only/);
  assert.equal((await run('export', ro, '--out', onnx, '--force')).code, 0);
  assert.notEqual(readFileSync(onnx, 'utf8'), 'old');
  // --force on train: the file is replaced (another seed, other weights) and stays read-only.
  const forced = await run('train', ...QUICK, '--seed', '1', '--out', ro, '--force');
  assert.equal(forced.code, 0, forced.err);
  assert.notDeepEqual(readFileSync(ro), before);
  assert.equal(statSync(ro).mode & 0o777, 0o444);
  assert.equal((await run('train', '--resume', ro, '--epochs', '2', '--force')).code, 0);
  assert.equal(loadModel(ro).meta.training?.epoch, 2);
});

test('an --out that is a symbolic link: the model goes to its target and the link stays a link', async () => {
  const target = tmp('real.wsm'), link = tmp('link.wsm');
  symlinkSync('real.wsm', link);
  const r = await run('train', ...QUICK, '--out', link);
  assert.equal(r.code, 0, r.err);
  assert.ok(lstatSync(link).isSymbolicLink());
  assert.ok(statSync(target).isFile());
  assert.equal(loadModel(link).meta.training?.epoch, 1);
});

test('two runs with the same --out: the second fails at its start naming the first one\'s pid; a killed run\'s lock is stale', async () => {
  const out = tmp('shared.wsm');
  const child = spawn(process.execPath, [CLI, 'train', '--model', 'mlp', '--epochs', '100', '--limit', '3000', '--test-limit', '16', '--out', out],
    { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));
  // Its lock is taken before the "Training" line is printed.
  await new Promise<void>((resolve, reject) => {
    let err = '';
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      if (/^Training /m.test(err)) resolve();
    });
    child.on('close', () => reject(new Error(`the first run ended early: ${err}`)));
  });
  try {
    assert.equal(readFileSync(`${out}.lock`, 'utf8'), `${child.pid}\n`);
    const second = await run('train', ...QUICK, '--out', out);
    assertCliError(second, new RegExp(`shared\\.wsm: is being written by process ${child.pid} \\(lock file .*shared\\.wsm\\.lock\\); wait for it to finish or write elsewhere$`));
    beforeTraining(second.err);
  } finally {
    child.kill('SIGKILL');
    await exited;
  }
  // SIGKILL left the lock behind; its process is gone, so the next run takes it over and removes it at the end.
  assert.ok(existsSync(`${out}.lock`));
  const third = await run('train', ...QUICK, '--out', out);
  assert.equal(third.code, 0, third.err);
  assert.ok(!existsSync(`${out}.lock`));
});

test('a save removes the temp files that killed writers left beside --out, and keeps others', async () => {
  const out = tmp('tmps.wsm');
  const stale = `tmps.wsm.tmp-${DEAD_PID}-00112233aabb`, live = `tmps.wsm.tmp-${process.ppid}-00112233aabb`;
  writeFileSync(tmp(stale), 'half a model');
  writeFileSync(tmp(live), 'another writer\'s');
  assert.equal((await run('train', ...QUICK, '--out', out)).code, 0);
  const left = readdirSync(dir).filter((f) => f.startsWith('tmps.wsm'));
  assert.deepEqual(left.sort(), ['tmps.wsm', live].sort());
});

test('--resume keeps --test-limit (and notes a new one is ignored): the resumed run evaluates what the direct run does', async () => {
  const part = tmp('tl-part.wsm'), whole = tmp('tl-whole.wsm');
  const flags = ['--model', 'mlp:8', '--limit', '64', '--test-limit', '16'];
  assert.equal((await run('train', ...flags, '--epochs', '1', '--out', part)).code, 0);
  assert.equal(loadModel(part).meta.training?.testLimit, 16);
  const r = await run('train', '--resume', part, '--epochs', '2', '--test-limit', '8', '--json');
  assert.equal(r.code, 0, r.err);
  assert.match(r.err, /^note: --test-limit is ignored with --resume \(the run keeps its own settings\)$/m);
  const d = await run('train', ...flags, '--epochs', '2', '--out', whole, '--json');
  const [rs, ds] = [JSON.parse(r.out), JSON.parse(d.out)] as { testSamples: number; test: Record<string, number> }[];
  assert.equal(rs.testSamples, 16);
  assert.deepEqual(rs.test, ds.test); // exact: same weights, same 16 samples
  // The gpt flags too are the model's own on --resume.
  assert.match((await run('train', '--resume', part, '--epochs', '3', '--heads', '2')).err, /note: --heads is ignored with --resume/);
});

test('an empty test set is an error naming the dataset (not "0.00 % on 0 test samples", exit 0), before training; so for eval, intrinsic-dim and an empty training set', async () => {
  const data = tmp('no-test');
  mkdirSync(data);
  const put = (file: string, shape: number[], folder = data): void => writeFileSync(join(folder, file), writeIdx({ shape, dtype: 'uint8', data: new Uint8Array(shape.reduce((a, b) => a * b, 1)) }));
  put('train-images-idx3-ubyte', [6, 8, 8]);
  put('train-labels-idx1-ubyte', [6]);
  put('t10k-images-idx3-ubyte', [0, 8, 8]);
  put('t10k-labels-idx1-ubyte', [0]);
  const r = await run('train', '--model', 'mlp:4', '--dataset', 'idx', '--data', data, '--epochs', '1', '--out', tmp('no-test.wsm'));
  assertCliError(r, /^weightshare: error: dataset '[^']+' has no test samples: nothing to report the test loss on$/);
  beforeTraining(r.err);
  assert.ok(!existsSync(tmp('no-test.wsm')));
  const full = tmp('with-test');
  mkdirSync(full);
  for (const [file, shape] of [['train-images-idx3-ubyte', [6, 8, 8]], ['train-labels-idx1-ubyte', [6]], ['t10k-images-idx3-ubyte', [2, 8, 8]], ['t10k-labels-idx1-ubyte', [2]]] as const) {
    put(file, [...shape], full);
  }
  const model = tmp('eight.wsm');
  assert.equal((await run('train', '--model', 'mlp:4', '--dataset', 'idx', '--data', full, '--epochs', '1', '--out', model)).code, 0);
  assertCliError(await run('eval', model, '--dataset', 'idx', '--data', data), /has no test samples: nothing to evaluate$/);
  // No training samples: named, not "ProgressBar: total must be a positive integer, got 0".
  const noTrain = tmp('no-train');
  mkdirSync(noTrain);
  for (const [file, shape] of [['train-images-idx3-ubyte', [0, 8, 8]], ['train-labels-idx1-ubyte', [0]], ['t10k-images-idx3-ubyte', [2, 8, 8]], ['t10k-labels-idx1-ubyte', [2]]] as const) {
    put(file, [...shape], noTrain);
  }
  const nt = await run('train', '--model', 'mlp:4', '--dataset', 'idx', '--data', noTrain, '--epochs', '1', '--out', tmp('no-train.wsm'));
  assertCliError(nt, /^weightshare: error: dataset '[^']+' has no training samples: nothing to train on$/);
  beforeTraining(nt.err);
  assertCliError(await run('intrinsic-dim', '--model', 'mlp:4', '--dataset', 'idx', '--data', data, '--dims', '2'), /has no test samples: nothing to measure the accuracy on$/);
});

test('--dims \'\' and integer flags above 2^53 are usage errors naming the flag (exit 2)', async () => {
  const dims = await run('intrinsic-dim', '--dims', '');
  assert.equal(dims.code, 2);
  assert.match(dims.err, /^weightshare intrinsic-dim: --dims needs at least one value, got ''$/m);
  const big = await run('train', '--epochs', '9007199254740993');
  assert.equal(big.code, 2);
  assert.match(big.err, /^weightshare train: --epochs expects an integer of at most 9007199254740991 \(2\^53 − 1\) in size, got '9007199254740993'$/m);
  const frac = await run('train', '--limit', '2.5');
  assert.equal(frac.code, 2);
  assert.match(frac.err, /^weightshare train: --limit expects an integer, got '2\.5'$/m);
});
