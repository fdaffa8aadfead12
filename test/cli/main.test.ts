// End-to-end tests of the `weightshare` CLI: help and usage errors, train → eval → summary → predict, resume,
// Ctrl-C, NaN, and bad input files. In-process through `main()` where possible; spawned for exit codes and signals.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encode as encodeJpeg } from 'jpeg-js';
import { trainSpec } from '../../src/cli/train.js';
import { evalSpec, predictSpec, summarySpec } from '../../src/cli/inspect.js';
import { loadDataset } from '../../src/data/datasets.js';
import { writeIdx } from '../../src/data/idx.js';
import { writePng } from '../../src/data/png.js';
import { loadCheckpoint, loadModel, saveCheckpoint, saveModel } from '../../src/io/files.js';
import { createModel } from '../../src/nn/zoo.js';
import { modelFromConfig } from '../../src/nn/model.js';
import { assertCliError, type CliResult, runCli as run } from '../helpers/cli.js';

const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'ws-cli-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));
const tmp = (name: string): string => join(dir, name);

type Result = CliResult;


/** Runs the compiled CLI as a child process; `onErr` sees stderr as it grows (and may signal the child). */
function spawnCli(args: string[], onErr?: (soFar: string, child: ReturnType<typeof spawn>) => void): Promise<Result & { signal: NodeJS.Signals | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
      onErr?.(err, child);
    });
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code: code ?? -1, signal, out, err }));
  });
}

const lines = (s: string): string[] => s.split('\n').filter((l) => l.trim() !== '');
const STACK = /^\s+at /m;

/** A usage error: exit 2, one error line naming the problem (plus at most the "Run ... --help" hint), no stack trace. */
function assertUsage(r: Result, re: RegExp): void {
  assert.equal(r.code, 2, r.err);
  assert.equal(r.out, '');
  const l = lines(r.err);
  assert.match(l[0]!, /^weightshare( \w+)?: /);
  assert.match(l[0]!, re);
  assert.ok(l.length === 1 || (l.length === 2 && /^Run 'weightshare( \w+)? --help' for usage\.$/.test(l[1]!)), r.err);
  assert.doesNotMatch(r.err, STACK);
}

/** A runtime error: the given exit code, exactly one line on stderr (after any progress lines) starting 'weightshare: error: ', no stack trace. */
const assertError = assertCliError;

// ---------------------------------------------------------------------------------------------------------------
// Help, version, usage errors

test('--help, no arguments and `help` list the commands; `help train` equals `train --help`', async () => {
  for (const argv of [['--help'], ['-h'], [], ['help']]) {
    const r = await run(...argv);
    assert.equal(r.code, 0);
    assert.equal(r.err, '');
    assert.match(r.out, /^Usage: weightshare <command>/);
    for (const c of ['train', 'eval', 'predict', 'summary']) assert.match(r.out, new RegExp(`^  ${c} `, 'm'), c);
  }
  const a = await run('help', 'train');
  const b = await run('train', '--help');
  assert.equal(a.code, 0);
  assert.equal(b.code, 0);
  assert.equal(a.out, b.out);
  assert.match(a.out, /^Usage: weightshare train \[options\]/);
});

test('--version prints the package version', async () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
  for (const flag of ['--version', '-v']) {
    const r = await run(flag);
    assert.equal(r.code, 0);
    assert.equal(r.out, `weightshare ${pkg.version}\n`);
  }
});

test('each command\'s --help lists every flag and positional', async () => {
  for (const spec of [trainSpec, evalSpec, predictSpec, summarySpec]) {
    const r = await run(spec.name, '--help');
    assert.equal(r.code, 0, spec.name);
    assert.equal(r.err, '');
    for (const [flag, f] of Object.entries(spec.flags)) {
      const shown = f.type === 'boolean' ? `--[no-]${flag}` : `--${flag}`;
      assert.ok(r.out.includes(shown), `${spec.name} --help lacks ${shown}`);
    }
    for (const p of (spec as { positionals?: readonly { name: string }[] }).positionals ?? []) {
      assert.ok(r.out.includes(p.name), `${spec.name} --help lacks <${p.name}>`);
    }
  }
  const t = await run('train', '--help');
  assert.match(t.out, /-o, --out <file>/);
  assert.match(t.out, /seed-cnn, seed-cnn-local, mlp,\s+lenet-300-100, lenet5, or mlp:H1,H2/);
});

test('usage errors: exit code 2, one line naming the problem, no stack trace', async () => {
  assertUsage(await run('trian'), /unknown command 'trian' \(did you mean 'train'\?\)/);
  assertUsage(await run('frobnicate'), /unknown command 'frobnicate'; run 'weightshare --help'/);
  assertUsage(await run('help', 'bogus'), /unknown command 'bogus'/);
  assertUsage(await run('train', '--epocs', '2'), /^weightshare train: unknown flag --epocs \(did you mean --epochs\?\)/);
  assertUsage(await run('train', '--epochs', 'ten'), /--epochs expects an integer, got 'ten'/);
  assertUsage(await run('train', '--epochs', '0'), /--epochs must be at least 1, got 0/);
  assertUsage(await run('train', '--dataset', 'cifar'), /--dataset must be one of mnist-sample, mnist, fashion-mnist, idx, sotu, spam-assassin, text; got 'cifar'/);
  assertUsage(await run('train', '--lr', 'fast'), /--lr expects a number, got 'fast'/);
  assertUsage(await run('eval'), /^weightshare eval: missing required argument <model>/);
  assertUsage(await run('predict', 'model.wsm'), /missing required argument <input>/);
  // --verbose may add a stack trace, but the exit code stays 2.
  assert.equal((await run('train', '--epochs', 'ten', '--verbose')).code, 2);
});

test('spawned: usage and runtime errors have exit codes 2 and 1 and no stack trace; --verbose adds one', async () => {
  const u = await spawnCli(['train', '--epochs', 'ten']);
  assertUsage(u, /--epochs expects an integer/);
  const d = await spawnCli(['train', '--dataset', 'cifar']);
  assertUsage(d, /--dataset must be one of/);
  const missing = tmp('does-not-exist.wsm');
  const r = await spawnCli(['eval', missing]);
  assertError(r, /does-not-exist\.wsm: no such file/);
  assert.equal(r.out, '');
  const v = await spawnCli(['eval', missing, '--verbose']);
  assert.equal(v.code, 1);
  assert.match(lines(v.err)[0]!, /^weightshare: error: .*does-not-exist\.wsm: no such file$/);
  assert.match(v.err, /CheckpointError: /);
  assert.match(v.err, STACK);
});

// ---------------------------------------------------------------------------------------------------------------
// train → eval → summary → predict

const TEST_LIMIT = '300';
let trainedModel: { file: string; summary: TrainSummary } | undefined;
interface TrainSummary {
  model: string; dataset: string; parameters: number; epochs: number; trainSamples: number; testSamples: number;
  history: Record<string, number[]>; test: { loss: number; accuracy: number }; out: string;
}

/** An mlp trained once for 1 epoch on 500 mnist-sample digits (shared by the tests that only read it). */
async function trained(): Promise<{ file: string; summary: TrainSummary }> {
  if (trainedModel) return trainedModel;
  const file = tmp('mlp.wsm');
  const r = await run('train', '--model', 'mlp', '--epochs', '1', '--limit', '500', '--test-limit', TEST_LIMIT, '--out', file, '--json');
  assert.equal(r.code, 0, r.err);
  trainedModel = { file, summary: JSON.parse(r.out) as TrainSummary };
  return trainedModel;
}

let sample: ReturnType<typeof loadDataset> | undefined;
const mnistSample = (): ReturnType<typeof loadDataset> => (sample ??= loadDataset('mnist-sample'));

test('train --json: exit 0, writes the model file, prints a JSON summary with test accuracy, history and parameters', async () => {
  const { file, summary: s } = await trained();
  assert.ok(existsSync(file));
  assert.equal(s.model, 'mlp');
  assert.equal(s.dataset, 'mnist-sample');
  assert.equal(s.parameters, 784 * 200 + 200 + 200 * 200 + 200 + 200 * 10 + 10);
  assert.equal(s.epochs, 1);
  assert.equal(s.trainSamples, 500);
  assert.equal(s.testSamples, Number(TEST_LIMIT));
  assert.equal(s.out, file);
  assert.equal(s.history.loss!.length, 1);
  assert.equal(s.history.accuracy!.length, 1);
  assert.ok(s.test.accuracy > 0.3 && s.test.accuracy <= 1, `test accuracy ${s.test.accuracy}`);
  assert.ok(Number.isFinite(s.test.loss));
  const { model, meta } = loadModel(file);
  assert.equal(model.countParams(), s.parameters);
  assert.equal(meta.training?.epoch, 1);
  assert.equal(meta.training?.epochs, 1);
});

test('train without --json prints nothing on stdout and reports progress on stderr', async () => {
  const file = tmp('quiet.wsm');
  const r = await run('train', '--model', 'mlp', '--epochs', '1', '--limit', '64', '--test-limit', '32', '-o', file);
  assert.equal(r.code, 0, r.err);
  assert.equal(r.out, '');
  assert.match(r.err, /^Training mlp \(199,210 parameters\) on mnist-sample: 64 training samples, 1 epochs/);
  assert.match(r.err, /Epoch 1\/1 /);
  assert.match(r.err, /test accuracy: [\d.]+ % on 32 test samples/);
  assert.ok(r.err.includes(`Saved ${file}`));
  assert.ok(existsSync(file));
});

test('eval reports the same test accuracy as train on the same test samples', async () => {
  const { file, summary } = await trained();
  const j = await run('eval', file, '--test-limit', TEST_LIMIT, '--json');
  assert.equal(j.code, 0, j.err);
  const e = JSON.parse(j.out) as { dataset: string; samples: number; accuracy: number; loss: number };
  assert.equal(e.dataset, 'mnist-sample');
  assert.equal(e.samples, Number(TEST_LIMIT));
  assert.equal(e.accuracy, summary.test.accuracy);
  assert.ok(Math.abs(e.loss - summary.test.loss) < 1e-6, `${e.loss} vs ${summary.test.loss}`);
  const t = await run('eval', file, '--test-limit', TEST_LIMIT);
  assert.equal(t.code, 0);
  assert.equal(t.out, `mnist-sample test set (300 samples): loss ${summary.test.loss.toFixed(4)} - accuracy ${(100 * summary.test.accuracy).toFixed(2)} %\n`);
});

test('eval --confusion adds the confusion matrix (rows: true class) whose diagonal gives the same accuracy, and recall per class', async () => {
  const { file, summary } = await trained();
  const j = await run('eval', file, '--test-limit', TEST_LIMIT, '--confusion', '--json');
  assert.equal(j.code, 0, j.err);
  const e = JSON.parse(j.out) as { accuracy: number; confusion: number[][]; recall: (number | null)[] };
  assert.equal(e.confusion.length, 10);
  const labels = mnistSample().yTest.subarray(0, Number(TEST_LIMIT));
  e.confusion.forEach((row, c) => assert.equal(row.reduce((a, b) => a + b, 0), labels.filter((l) => l === c).length, `class ${c}`));
  const diagonal = e.confusion.reduce((s, row, c) => s + row[c], 0);
  assert.equal(diagonal / Number(TEST_LIMIT), summary.test.accuracy);
  e.recall.forEach((r, c) => assert.equal(r, e.confusion[c][c] / e.confusion[c].reduce((a, b) => a + b, 0)));
  const t = await run('eval', file, '--test-limit', TEST_LIMIT, '--confusion');
  const lines = t.out.trimEnd().split('\n');
  assert.match(lines[1], /^true \\ predicted +0 +1 +2 +3 +4 +5 +6 +7 +8 +9 +recall$/);
  assert.equal(lines.length, 12);
  assert.match(lines[2], new RegExp(`^0 +${e.confusion[0].join(' +')} +[\\d.]+ %$`));
});

test('summary shows the layers, Total params, compile settings and training record', async () => {
  const { file } = await trained();
  const r = await run('summary', file);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /Model: "mlp"/);
  assert.match(r.out, /Total params: 199,210/);
  assert.match(r.out, /dense_2 \(Dense\)/);
  assert.match(r.out, /Compiled: adam \(lr 0\.001\), loss sparse_categorical_crossentropy, metrics accuracy/);
  // 199,210 float32 weights = 778.2 KiB, and Adam's two slots per weight (zeros coded small only where still zero).
  const size = statSync(file).size;
  const m = /File: ([\d.]+) (KiB|MiB) \(weights 778\.2 KiB, optimizer state ([\d.]+) (KiB|MiB), header ([\d.]+) KiB\)/.exec(r.out);
  assert.ok(m, r.out);
  assert.ok(Math.abs(Number(m[1]) * (m[2] === 'MiB' ? 1 << 20 : 1024) - size) < (m[2] === 'MiB' ? 6000 : 60), `${m[0]} vs ${size} bytes`);
  assert.match(r.out, /Trained: 1\/1 epochs on mnist-sample, batch 32, seed 0; last epoch: loss [\d.]+, accuracy [\d.]+ %/);
  const j = await run('summary', file, '--json');
  assert.equal(j.code, 0);
  const s = JSON.parse(j.out) as { parameters: number; layers: { className: string }[]; training: { epoch: number } };
  assert.equal(s.parameters, 199210);
  assert.deepEqual(s.layers.map((l) => l.className), ['Flatten', 'Dense', 'Dense', 'Dense']);
  assert.equal(s.training.epoch, 1);
});

/** The model's classes for images [N, 28, 28] of bytes, computed in this process. */
function classesOf(file: string, bytes: Uint8Array): number[] {
  const n = bytes.length / 784;
  const { model } = loadModel(file);
  const p = model.predict({ data: Float32Array.from(bytes, (b) => b / 255), shape: [n, 28, 28, 1] });
  const probs = p.f32();
  p.dispose();
  return Array.from({ length: n }, (_, i) => {
    const row = Array.from(probs.subarray(i * 10, i * 10 + 10));
    return row.indexOf(Math.max(...row));
  });
}

/** The first `n` mnist-sample test digits as bytes, and their labels. */
function testDigits(n: number): { bytes: Uint8Array; labels: number[] } {
  const ds = mnistSample();
  return { bytes: Uint8Array.from(ds.xTest.subarray(0, n * 784), (v) => Math.round(v * 255)), labels: Array.from(ds.yTest.subarray(0, n)) };
}

test('predict classifies a PNG of a real test digit', async () => {
  const { file } = await trained();
  const { bytes, labels } = testDigits(50);
  const predicted = classesOf(file, bytes);
  // A digit the model gets right (a 1-epoch mlp gets most of them), written as an 8-bit grey PNG.
  const k = predicted.findIndex((c, i) => c === labels[i]);
  assert.ok(k >= 0, 'the model classifies none of the first 50 test digits correctly');
  const png = tmp('digit.png');
  writeFileSync(png, writePng({ width: 28, height: 28, channels: 1, data: bytes.slice(k * 784, (k + 1) * 784) }));
  const j = await run('predict', file, png, '--json', '--top', '3');
  assert.equal(j.code, 0, j.err);
  const r = JSON.parse(j.out) as { input: string; predictions: { class: number; probability: number }[][] };
  assert.equal(r.input, png);
  assert.equal(r.predictions.length, 1);
  const top = r.predictions[0]!;
  assert.equal(top.length, 3);
  assert.equal(top[0]!.class, labels[k]);
  assert.ok(top[0]!.probability >= top[1]!.probability && top[1]!.probability >= top[2]!.probability);
  assert.ok(top.reduce((a, c) => a + c.probability, 0) <= 1 + 1e-5);
  const t = await run('predict', file, png);
  assert.equal(t.code, 0);
  const limited = await run('predict', file, png, '--limit', '3');
  assert.equal(limited.code, 2, 'one image takes no --limit (it was ignored)');
  assert.match(limited.err, /--limit 3: .*digit\.png is one image; --limit takes the first N images of an IDX file/);
  assert.match(t.out, new RegExp(`^${labels[k]} [\\d.]+ %\\n$`));
});

test('a model ending without a softmax (logits, as a PyTorch export): predict shows softmax probabilities, eval takes the scores as logits; a one-output model is no classifier', async () => {
  // The trained mlp with its last activation removed: the same classes, its scores logits.
  const { file } = await trained();
  const { model } = loadModel(file);
  const { bytes } = testDigits(20);
  const x = { data: Float32Array.from(bytes, (b) => b / 255), shape: [20, 28, 28, 1] };
  const probs = model.predict(x).f32();
  const spec = model.toJSON();
  const last = spec.layers[spec.layers.length - 1];
  (last.config as { activation: string }).activation = 'linear';
  const logitsModel = modelFromConfig(spec).build(0);
  logitsModel.setWeights(model.getWeights());
  const logitsFile = tmp('logits.wsm');
  saveModel(logitsFile, logitsModel);
  const idx = tmp('digits20.idx');
  writeFileSync(idx, writeIdx({ dtype: 'uint8', shape: [20, 28, 28], data: bytes }));
  const r = await run('predict', logitsFile, idx, '--json', '--top', '10');
  assert.equal(r.code, 0, r.err);
  assert.match(r.err, /^note: .*logits\.wsm ends without a softmax: its scores are shown as the softmax's probabilities$/m);
  const rows = (JSON.parse(r.out) as { predictions: { class: number; probability: number }[][] }).predictions;
  rows.forEach((row, i) => {
    assert.ok(Math.abs(row.reduce((a, c) => a + c.probability, 0) - 1) < 1e-5, 'probabilities sum to 1');
    for (const c of row) assert.ok(Math.abs(c.probability - probs[i * 10 + c.class]) < 1e-5, 'the softmax model\'s probabilities');
  });
  const e1 = await run('eval', file, '--test-limit', '100', '--json');
  const e2 = await run('eval', logitsFile, '--test-limit', '100', '--json');
  assert.equal(e2.code, 0, e2.err);
  const [l1, l2] = [JSON.parse(e1.out).loss as number, JSON.parse(e2.out).loss as number];
  assert.ok(Math.abs(l1 - l2) < 1e-4, `the same loss: ${l1} and ${l2}`);
  // One output per image: not a classifier.
  const reg = createModel('mlp:4', { inputShape: [28, 28, 1], classes: 1 }).build(0);
  saveModel(tmp('one.wsm'), reg);
  reg.dispose();
  assertCliError(await run('predict', tmp('one.wsm'), idx), /one\.wsm: outputs \[1\] per image, not scores of 2 or more classes/);
  // --top goes up to the model's classes (it stopped at 10); an IDX file of no images is named (it printed nothing).
  assert.equal((await run('predict', logitsFile, idx, '--top', '10')).code, 0);
  const top11 = await run('predict', logitsFile, idx, '--top', '11');
  assert.equal(top11.code, 2);
  assert.match(top11.err, /^weightshare predict: --top 11: the model has 10 classes$/m);
  writeFileSync(tmp('none.idx'), writeIdx({ dtype: 'uint8', shape: [0, 28, 28], data: new Uint8Array(0) }));
  assertCliError(await run('predict', logitsFile, tmp('none.idx')), /none\.idx: holds no images: nothing to classify/);
  model.dispose();
  logitsModel.dispose();
});

test('predict reads JPEG too: a colour JPEG of a test digit, twice the size, is classified as its PNG is', async () => {
  const { file } = await trained();
  const { bytes, labels } = testDigits(50);
  const predicted = classesOf(file, bytes);
  const k = predicted.findIndex((c, i) => c === labels[i]);
  // 56×56 RGB (each pixel doubled, grey in every channel), quality 95: predict converts to grey and scales back to 28×28.
  const rgba = new Uint8Array(56 * 56 * 4);
  for (let y = 0; y < 56; y++) {
    for (let x = 0; x < 56; x++) {
      const v = bytes[k * 784 + (y >> 1) * 28 + (x >> 1)];
      rgba.set([v, v, v, 255], (y * 56 + x) * 4);
    }
  }
  const jpg = tmp('digit.jpg'), png = tmp('digit-56.png');
  writeFileSync(jpg, encodeJpeg({ width: 56, height: 56, data: rgba }, 95).data);
  writeFileSync(png, writePng({ width: 56, height: 56, channels: 4, data: rgba }));
  const fromJpeg = JSON.parse((await run('predict', file, jpg, '--json', '--top', '10')).out) as { predictions: { class: number; probability: number }[][] };
  const fromPng = JSON.parse((await run('predict', file, png, '--json', '--top', '10')).out) as typeof fromJpeg;
  assert.equal(fromJpeg.predictions[0]![0]!.class, labels[k]);
  // JPEG's loss moves the probabilities a little (quality 95: each within 0.05 of the lossless PNG's).
  for (const c of fromPng.predictions[0]!) {
    const j = fromJpeg.predictions[0]!.find((p) => p.class === c.class)!;
    assert.ok(Math.abs(j.probability - c.probability) < 0.05, `class ${c.class}: ${j.probability} vs ${c.probability}`);
  }
  const fake = tmp('fake.jpg');
  writeFileSync(fake, 'not a jpeg');
  const bad = await run('predict', file, fake);
  assert.equal(bad.code, 1);
  assert.match(bad.err, /fake\.jpg: has a \.jpg name but is not a JPEG file \(no FF D8 FF start of image at byte offset 0\)/);
  const cut = tmp('cut.jpg');
  writeFileSync(cut, readFileSync(jpg).subarray(0, 200));
  const truncated = await run('predict', file, cut);
  assert.equal(truncated.code, 1);
  assert.match(truncated.err, /cut\.jpg: is not a JPEG this reader can decode: /);
});

test('predict classifies the first images of an IDX file (--limit 3 --json)', async () => {
  const { file } = await trained();
  const { bytes } = testDigits(5);
  const idx = tmp('t10k-5-images-idx3-ubyte');
  writeFileSync(idx, writeIdx({ shape: [5, 28, 28], dtype: 'uint8', data: bytes }));
  const j = await run('predict', file, idx, '--limit', '3', '--json');
  assert.equal(j.code, 0, j.err);
  const r = JSON.parse(j.out) as { predictions: { class: number; probability: number }[][] };
  assert.equal(r.predictions.length, 3);
  assert.deepEqual(r.predictions.map((p) => p[0]!.class), classesOf(file, bytes).slice(0, 3));
  for (const p of r.predictions) assert.equal(p.length, 1);
  const gz = tmp('t10k-5-images-idx3-ubyte.gz');
  writeFileSync(gz, writeIdx({ shape: [5, 28, 28], dtype: 'uint8', data: bytes }, { gzip: true }));
  const t = await run('predict', file, gz);
  assert.equal(t.code, 0, t.err);
  assert.equal(lines(t.out).length, 5);
  assert.match(t.out, /^0: \d [\d.]+ %$/m);
});

// ---------------------------------------------------------------------------------------------------------------
// Resume

/** Asserts that two model files hold bit-identical weights and the same optimizer position. */
function assertSameWeights(a: string, b: string): void {
  const ma = loadModel(a), mb = loadModel(b);
  const wa = ma.model.getWeights(), wb = mb.model.getWeights();
  assert.deepEqual([...wa.keys()], [...wb.keys()]);
  for (const [name, x] of wa) {
    const y = wb.get(name)!;
    assert.equal(x.length, y.length, name);
    const ux = new Uint32Array(x.buffer, x.byteOffset, x.length), uy = new Uint32Array(y.buffer, y.byteOffset, y.length);
    for (let i = 0; i < ux.length; i++) if (ux[i] !== uy[i]) assert.fail(`${name}[${i}]: ${x[i]} vs ${y[i]}`);
  }
  assert.deepEqual(ma.meta.optimizer, mb.meta.optimizer);
}

test('train --resume FILE --epochs 2 equals a direct 2-epoch run bit for bit', async () => {
  const resumed = tmp('resume.wsm'), direct = tmp('direct.wsm');
  const common = ['--model', 'mlp', '--limit', '300', '--test-limit', '50', '--seed', '7'];
  assert.equal((await run('train', ...common, '--epochs', '1', '--out', resumed)).code, 0);
  // --test-limit is the run's own: the resumed run evaluates the same 50 test samples without being told.
  const r = await run('train', '--resume', resumed, '--epochs', '2', '--json');
  assert.equal(r.code, 0, r.err);
  assert.match(r.err, /^Resuming mlp .* seed 7, .*; from epoch 2$/m);
  const s = JSON.parse(r.out) as TrainSummary;
  assert.equal(s.out, resumed);
  assert.equal(s.history.loss!.length, 2);
  const d = await run('train', ...common, '--epochs', '2', '--out', direct, '--json');
  assert.equal(d.code, 0, d.err);
  assertSameWeights(resumed, direct);
  const sd = JSON.parse(d.out) as TrainSummary;
  assert.deepEqual(s.history, sd.history);
  assert.deepEqual(s.test, sd.test);
});

test('--early-stopping stops when val_loss stalls, restores the best epoch, resumes exactly, and refuses to resume a stopped run', async () => {
  const common = ['--model', 'mlp', '--limit', '400', '--test-limit', '50', '--validation-split', '0.25', '--early-stopping', '1', '--restore-best'];
  const whole = tmp('es-whole.wsm'), part = tmp('es-part.wsm');
  const r = await run('train', ...common, '--epochs', '10', '--out', whole, '--json');
  assert.equal(r.code, 0, r.err);
  const s = JSON.parse(r.out) as TrainSummary & { earlyStopping: { bestEpoch: number; stoppedEpoch: number; restored: boolean; best: number } };
  // val_loss 1.407 … 0.345 (epoch 6), 0.358 (epoch 7): stopped after epoch 7 with epoch 6's weights (counted from 1, as printed).
  assert.deepEqual([s.earlyStopping.bestEpoch, s.earlyStopping.stoppedEpoch, s.earlyStopping.restored], [6, 7, true]);
  assert.equal(s.history.val_loss!.length, 7);
  assert.equal(s.earlyStopping.best, Math.min(...s.history.val_loss!));
  assert.match(r.err, /^Early stopping: val_loss has not improved for 1 epoch; stopped after epoch 7 of 10; best epoch 6 \(val_loss [\d.]+\), whose weights are restored$/m);
  // The file holds the restored weights: evaluating it gives the run's test figures.
  const e = await run('eval', whole, '--test-limit', '50', '--json');
  assert.deepEqual(JSON.parse(e.out).loss, s.test.loss);
  // The same run in two parts (4 epochs, then --resume): the same stop, the same weights, bit for bit.
  assert.equal((await run('train', ...common, '--epochs', '4', '--out', part)).code, 0);
  const rr = await run('train', '--resume', part, '--epochs', '10', '--test-limit', '50', '--json');
  assert.equal(rr.code, 0, rr.err);
  assert.deepEqual(JSON.parse(rr.out).earlyStopping, s.earlyStopping);
  assertSameWeights(part, whole);
  // A checkpoint whose kept best weights do not fit the model is refused by name.
  const bad = tmp('es-bad.wsm');
  assert.equal((await run('train', ...common, '--epochs', '2', '--out', bad)).code, 0);
  const c = loadCheckpoint(bad);
  c.tensors.set('best/dense/kernel', { dtype: 'float32', shape: [3], data: new Float32Array(3) });
  saveCheckpoint(bad, c);
  assertError(await run('train', '--resume', bad, '--epochs', '4'), /es-bad\.wsm: early stopping's tensor 'best\/dense\/kernel' \(float32, 3 values\) matches no weight of the model/);
  assertError(await run('train', '--resume', whole, '--epochs', '12'), /es-whole\.wsm: training stopped early after epoch 7 \(val_loss had not improved for 1 epoch\); there is nothing to resume/);
  assertUsage(await run('train', '--early-stopping', '2'), /--early-stopping watches val_loss: give --validation-split too/);
  assertUsage(await run('train', '--validation-split', '0.1', '--restore-best'), /--restore-best needs --early-stopping PATIENCE/);
});

test('resuming a finished run without a larger --epochs is a clear error', async () => {
  const file = tmp('finished.wsm');
  assert.equal((await run('train', '--model', 'mlp', '--epochs', '1', '--limit', '64', '--test-limit', '32', '--out', file)).code, 0);
  const before = readFileSync(file);
  assertError(await run('train', '--resume', file), /finished\.wsm: already trained for 1 of 1 epochs; pass --epochs N with N > 1 to continue/);
  assertError(await run('train', '--resume', file, '--epochs', '1'), /already trained for 1 of 1 epochs/);
  assert.deepEqual(readFileSync(file), before, 'the failed resume must not touch the file');
  // A model file without training state (saved by the library, not by `train`).
  const plain = tmp('plain.wsm');
  const m = createModel('mlp');
  m.build(0);
  saveModel(plain, m);
  assertError(await run('train', '--resume', plain, '--epochs', '2'), /plain\.wsm: has no training state to resume/);
  // --resume with settings that cannot change: a note, not an error.
  const r = await run('train', '--resume', file, '--epochs', '2', '--batch-size', '64', '--test-limit', '32');
  assert.equal(r.code, 0, r.err);
  assert.match(r.err, /note: --batch-size is ignored with --resume/);
});

// ---------------------------------------------------------------------------------------------------------------
// Ctrl-C

/** Runs `train … --out file` and sends `signal` once it is training; the run's result. */
async function stopTraining(file: string, args: string[], signal: 'SIGINT' | 'SIGTERM'): Promise<Awaited<ReturnType<typeof spawnCli>>> {
  let sent = false;
  const r = await spawnCli(['train', ...args, '--out', file], (err, child) => {
    // No progress bar without a TTY: wait for the "Training" line, then give it a moment (the handler is installed right after that line).
    if (!sent && /^Training /m.test(err)) {
      sent = true;
      setTimeout(() => child.kill(signal), 100);
    }
  });
  assert.ok(sent, r.err);
  assert.equal(r.signal, null, r.err);
  return r;
}

test('Ctrl-C saves a checkpoint, exits 130, and --resume finishes the run exactly', async () => {
  const file = tmp('interrupted.wsm');
  const args = ['--model', 'mlp', '--epochs', '3', '--limit', '3000', '--test-limit', '50'];
  const r = await stopTraining(file, args, 'SIGINT');
  assert.equal(r.code, 130, r.err);
  assert.match(r.err, /interrupted: finishing this batch and saving a checkpoint/);
  assert.ok(r.err.includes(`saved checkpoint ${file}`), r.err);
  assert.ok(r.err.includes(`weightshare train --resume ${file}`), r.err);
  assert.doesNotMatch(r.err, STACK);
  assert.ok(existsSync(file));
  const t = loadModel(file).meta.training!;
  assert.ok(t.epoch < 3, `interrupted after ${t.epoch} epochs`);

  const done = await spawnCli(['train', '--resume', file]);
  assert.equal(done.code, 0, done.err);
  assert.match(done.err, /^Resuming mlp/m);
  assert.match(done.err, /Epoch 3\/3 /);
  const s = await run('summary', file);
  assert.match(s.out, /Trained: 3\/3 epochs on mnist-sample/);
  // Stopping mid-epoch and resuming gives the same weights as never stopping.
  const direct = tmp('uninterrupted.wsm');
  assert.equal((await run('train', ...args, '--out', direct)).code, 0);
  assertSameWeights(file, direct);
});

test('Ctrl-C handled after an epoch\'s last batch stops between epochs: reported as interrupted (exit 130), not as a finished run', async () => {
  // One batch per epoch, so the signal always lands at an epoch's end (it used to print the test loss and exit 0).
  const file = tmp('between-epochs.wsm');
  const args = ['--model', 'mlp', '--epochs', '30', '--limit', '1000', '--batch-size', '1000', '--test-limit', '50'];
  const r = await stopTraining(file, [...args, '--json'], 'SIGINT');
  assert.equal(r.code, 130, r.err);
  const done = loadModel(file).meta.training!.epoch;
  assert.ok(done >= 1 && done < 30, `stopped after ${done} epochs`);
  assert.ok(r.err.includes(`Interrupted after epoch ${done}/30`), r.err);
  assert.ok(r.err.includes(`saved checkpoint ${file} (after epoch ${done}); continue with: weightshare train --resume ${file}`), r.err);
  assert.doesNotMatch(r.err, /Test loss|^Saved /m);
  assert.equal(r.out, '', 'no --json summary of a finished run');
  const resumed = await spawnCli(['train', '--resume', file]);
  assert.equal(resumed.code, 0, resumed.err);
  const direct = tmp('between-epochs-direct.wsm');
  assert.equal((await run('train', ...args, '--out', direct)).code, 0);
  assertSameWeights(file, direct);
});

test('SIGTERM during the test evaluation after the last epoch: the run finishes and says so, exit 0, no lock left (it was killed silently)', async () => {
  const file = tmp('after-training.wsm');
  let sent = false;
  // The CNN's evaluation of 2,000 test digits takes a while after the epoch line; the signal lands in it (or in the save).
  const r = await spawnCli(['train', '--model', 'seed-cnn', '--epochs', '1', '--limit', '64', '--out', file], (err, child) => {
    if (!sent && /^Epoch 1\/1 /m.test(err)) {
      sent = true;
      child.kill('SIGTERM');
    }
  });
  assert.ok(sent, r.err);
  assert.equal(r.signal, null, r.err);
  assert.equal(r.code, 0, r.err);
  assert.match(r.err, /^Test loss: /m);
  assert.match(r.err, /^Saved /m);
  assert.match(r.err, /SIGTERM after training had finished: .*after-training\.wsm holds the whole run \(1 epoch\)|SIGTERM: finishing this batch/);
  assert.ok(!existsSync(`${file}.lock`), 'the lock is removed');
  assert.equal(loadModel(file).meta.training!.epoch, 1);
});

test('SIGTERM (kill, timeout, docker stop) saves a checkpoint like Ctrl-C, exits 143, removes the lock, and --resume finishes the run', async () => {
  const file = tmp('terminated.wsm');
  const r = await stopTraining(file, ['--model', 'mlp', '--epochs', '2', '--limit', '3000', '--test-limit', '50'], 'SIGTERM');
  assert.equal(r.code, 143, r.err);
  assert.match(r.err, /SIGTERM: finishing this batch and saving a checkpoint/);
  assert.ok(r.err.includes(`saved checkpoint ${file}`), r.err);
  assert.doesNotMatch(r.err, STACK);
  assert.ok(existsSync(file));
  assert.ok(!existsSync(`${file}.lock`), 'the lock must be removed');
  assert.ok(loadModel(file).meta.training!.epoch < 2);
  const done = await spawnCli(['train', '--resume', file]);
  assert.equal(done.code, 0, done.err);
  assert.match(done.err, /Epoch 2\/2 /);
});

test('Ctrl-C during compress stops its training after the batch, writes the model compressed so far (its record says where), exits 130', async () => {
  const src = tmp('to-compress.wsm'), out = tmp('compressed-interrupted.wsm');
  assert.equal((await run('train', '--model', 'mlp', '--epochs', '1', '--limit', '500', '--test-limit', '50', '--out', src)).code, 0);
  let sent = false;
  const r = await spawnCli(['compress', src, '--clusters', '8', '--finetune-epochs', '1000', '--limit', '500', '--test-limit', '50', '--out', out], (err, child) => {
    if (!sent && /^Epoch 1\/1000 /m.test(err)) {
      sent = true;
      child.kill('SIGINT');
    }
  });
  assert.ok(sent, r.err);
  assert.equal(r.code, 130, r.err);
  assert.match(r.err, /^interrupted: fine-tuning the centroids stops after this batch \(epoch \d+ of 1000\) and the model is written as compressed so far/m);
  assert.match(r.err, /training was stopped \(fine-tuning the centroids, in epoch \d+ of 1000\): .*compressed-interrupted\.wsm holds the model compressed with less training than asked/);
  assert.doesNotMatch(r.err, STACK);
  const { model, meta } = loadModel(out);
  assert.match(meta.training!.compress!.interrupted!, /^fine-tuning the centroids, in epoch \d+ of 1000$/);
  assert.ok(model.weights().some((w) => w.map.kind === 'codebook') && model.weights().every((w) => w.map.kind === 'codebook' || w.role !== 'kernel'), 'the kernels are clustered');
  assert.ok(!existsSync(`${out}.lock`));
});

// ---------------------------------------------------------------------------------------------------------------
// NaN

test('a diverging run stops with a one-line NaN/Infinity message naming the checkpoint', async () => {
  const file = tmp('nan.wsm');
  const r = await run('train', '--model', 'mlp', '--lr', '1e9', '--optimizer', 'sgd', '--epochs', '2', '--limit', '500', '--out', file);
  assert.notEqual(r.code, 0);
  assertError(r, /training stopped: loss became (NaN|-?Infinity) at epoch 1, batch \d+;.*No checkpoint was written \(no epoch completed\)/, r.code);
  assert.ok(!existsSync(file));

  // Diverging in epoch 2 of a resumed run: the epoch-1 checkpoint stays good and is named.
  const good = tmp('good.wsm');
  assert.equal((await run('train', '--model', 'mlp', '--optimizer', 'sgd', '--epochs', '1', '--limit', '500', '--test-limit', '32', '--out', good)).code, 0);
  const before = readFileSync(good);
  const d = await spawnCli(['train', '--resume', good, '--epochs', '3', '--lr', '1e9']);
  assert.notEqual(d.code, 0);
  const line = assertError(d, /loss became (NaN|-?Infinity) at epoch 2, batch \d+/, d.code);
  assert.ok(line.includes(`The last good checkpoint is ${good}`), line);
  assert.deepEqual(readFileSync(good), before);
  for (const w of loadModel(good).model.getWeights().values()) assert.ok(w.every(Number.isFinite));
});

// ---------------------------------------------------------------------------------------------------------------
// Bad input files

/** A folder with the four IDX files of a tiny 10-class dataset; `labels` overrides the training labels. */
function idxFolder(name: string, o: { trainLabels?: number[] } = {}): string {
  const { bytes, labels } = testDigits(30);
  const images = (a: number, b: number): Uint8Array => writeIdx({ shape: [b - a, 28, 28], dtype: 'uint8', data: bytes.subarray(a * 784, b * 784) });
  const lab = (v: number[]): Uint8Array => writeIdx({ shape: [v.length], dtype: 'uint8', data: Uint8Array.from(v) });
  const real = mkdtempSync(join(dir, `${name}-`));
  writeFileSync(join(real, 'train-images-idx3-ubyte'), images(0, 20));
  writeFileSync(join(real, 'train-labels-idx1-ubyte'), lab(o.trainLabels ?? labels.slice(0, 20)));
  writeFileSync(join(real, 't10k-images-idx3-ubyte'), images(20, 30));
  writeFileSync(join(real, 't10k-labels-idx1-ubyte'), lab(labels.slice(20, 30)));
  return real;
}

test('a valid --data folder trains; a truncated IDX file is named with its offset; a bad label is named', async () => {
  const ok = idxFolder('good-idx');
  const r = await run('train', '--model', 'mlp', '--dataset', 'mnist', '--data', ok, '--epochs', '1', '--out', tmp('idx.wsm'), '--json');
  assert.equal(r.code, 0, r.err);
  assert.equal((JSON.parse(r.out) as TrainSummary).trainSamples, 20);
  // eval finds the same folder again from the model file.
  const e = await run('eval', tmp('idx.wsm'), '--json');
  assert.equal(e.code, 0, e.err);
  assert.equal((JSON.parse(e.out) as { samples: number }).samples, 10);

  const cut = idxFolder('cut-idx');
  const images = join(cut, 'train-images-idx3-ubyte');
  truncateSync(images, 16 + 20 * 784 - 100);
  const t = await spawnCli(['train', '--model', 'mlp', '--dataset', 'mnist', '--data', cut, '--epochs', '1']);
  const line = assertError(t, /truncated at byte offset 16\+15580: expected 15680 bytes of data for shape \[20, 28, 28\] uint8, found 15580/);
  assert.ok(line.includes(images), line);

  const bad = idxFolder('label-idx', { trainLabels: [...Array.from({ length: 19 }, (_, i) => i % 10), 12] });
  const b = await run('train', '--model', 'mlp', '--dataset', 'mnist', '--data', bad, '--epochs', '1');
  const l2 = assertError(b, /label out of range at index 19 \(byte offset 27\): expected 0–9, found 12/);
  assert.ok(l2.includes(join(bad, 'train-labels-idx1-ubyte')), l2);

  const none = await run('train', '--model', 'mlp', '--dataset', 'mnist', '--data', tmp('no-such-dir'), '--epochs', '1');
  assertError(none, /no-such-dir\/train-images-idx3-ubyte: no such file/);
});

test('a damaged model file: checksum mismatch, newer format version, truncation, not a model file, missing file', async () => {
  const { file } = await trained();
  const good = readFileSync(file);

  const flipped = tmp('flipped.wsm');
  const b = Uint8Array.from(good);
  b[b.length - 100]! ^= 0x01; // a weight byte
  writeFileSync(flipped, b);
  assertError(await run('eval', flipped), /flipped\.wsm: checksum mismatch: file is damaged/);
  assertError(await run('predict', flipped, tmp('digit.png')), /checksum mismatch/);

  const newer = tmp('newer.wsm');
  const v = Uint8Array.from(good);
  new DataView(v.buffer).setUint32(4, 4, true);
  writeFileSync(newer, v);
  assertError(await run('eval', newer), /newer\.wsm: written by format version 4; this weightshare reads up to version 3 — upgrade weightshare/);
  assertError(await run('summary', newer), /upgrade/);

  const short = tmp('short.wsm');
  writeFileSync(short, good.subarray(0, good.length - 1000));
  assertError(await run('summary', short), /short\.wsm: file is truncated/);

  const notModel = tmp('not-a-model.wsm');
  copyFileSync(tmp('digit.png'), notModel);
  assertError(await run('eval', notModel), /not-a-model\.wsm: not a weightshare model file \(magic 89 50 4e 47/);

  assertError(await run('summary', tmp('nowhere.wsm')), /nowhere\.wsm: no such file/);
  assertError(await run('train', '--resume', tmp('nowhere.wsm'), '--epochs', '2'), /nowhere\.wsm: no such file/);
});

test('predict on a file that is not an image is a clear error', async () => {
  const { file } = await trained();
  const text = tmp('notes.txt');
  writeFileSync(text, 'these are not pixels\n');
  assertError(await run('predict', file, text), /notes\.txt: bad magic number at byte offset 0: .*\(not an IDX file\?\)/);
  const fake = tmp('fake.png');
  writeFileSync(fake, 'GIF89a not really');
  assertError(await run('predict', file, fake), /fake\.png: has a \.png name but is not a PNG file/);
  const labelsFile = tmp('labels-idx1-ubyte');
  writeFileSync(labelsFile, writeIdx({ shape: [3], dtype: 'uint8', data: Uint8Array.of(1, 2, 3) }));
  assertError(await run('predict', file, labelsFile), /expected uint8 images \[N, 28, 28\] \(the model takes \[28, 28, 1\]\), found uint8 \[3\]/);
  assertError(await run('predict', file, tmp('missing.png')), /missing\.png: no such file$/);
  assertError(await run('predict', file, dir), /ws-cli-\w+: is a directory, not a regular file$/);
});

// ---------------------------------------------------------------------------------------------------------------
// Data beyond 28×28 and metrics beyond accuracy

/** A folder of the four IDX files with 8×8 images of 3 classes (each class a different band of bright rows). */
function smallIdxFolder(name: string): string {
  const images = (n: number): Uint8Array => {
    const px = new Uint8Array(n * 64);
    for (let i = 0; i < n; i++) for (let r = 0; r < 2; r++) px.fill(250, i * 64 + ((i % 3) * 2 + r) * 8, i * 64 + ((i % 3) * 2 + r + 1) * 8);
    return px;
  };
  const real = mkdtempSync(join(dir, `${name}-`));
  const put = (file: string, shape: number[], data: Uint8Array): void => writeFileSync(join(real, file), writeIdx({ shape, dtype: 'uint8', data }));
  put('train-images-idx3-ubyte', [30, 8, 8], images(30));
  put('train-labels-idx1-ubyte', [30], Uint8Array.from({ length: 30 }, (_, i) => i % 3));
  put('t10k-images-idx3-ubyte', [9, 8, 8], images(9));
  put('t10k-labels-idx1-ubyte', [9], Uint8Array.from({ length: 9 }, (_, i) => i % 3));
  return real;
}

test('train on 8×8 images of 3 classes (--dataset idx): the model is built for the data; --metrics reach the history and --json; eval refuses a model that does not fit', async () => {
  const data = smallIdxFolder('small');
  const file = tmp('small.wsm');
  const r = await run('train', '--model', 'mlp:16', '--dataset', 'idx', '--data', data, '--epochs', '2', '--validation-split', '0.2',
    '--metrics', 'accuracy,top_k_accuracy,perplexity,bits_per_char', '--out', file, '--json');
  assert.equal(r.code, 0, r.err);
  const s = JSON.parse(r.out) as TrainSummary & { test: Record<string, number> };
  assert.equal(s.parameters, 64 * 16 + 16 + 16 * 3 + 3);
  assert.deepEqual([s.trainSamples, s.testSamples], [30, 9]);
  for (const k of ['accuracy', 'sparse_top_k_categorical_accuracy', 'perplexity', 'bits_per_char']) {
    assert.equal(s.history[k]?.length, 2, k);
    assert.equal(s.history[`val_${k}`]?.length, 2, `val_${k}`);
    assert.ok(Number.isFinite(s.test[k]), `test ${k}`);
  }
  assert.ok(Math.abs(Math.log(s.test.perplexity) / Math.LN2 - s.test.bits_per_char) < 1e-9);
  assert.match(r.err, /Test loss: \d\.\d{4} - test accuracy: [\d.]+ % - test sparse_top_k_categorical_accuracy: 100\.00 % - test perplexity: \d+\.\d{4} - test bits_per_char/);
  const e = await run('eval', file, '--json');
  assert.equal(e.code, 0, e.err);
  assert.deepEqual(Object.keys(JSON.parse(e.out) as object).filter((k) => k.includes('perplexity')), ['perplexity']);
  assertError(await run('eval', file, '--dataset', 'mnist-sample'), /model 'mlp:16' takes inputs \[8, 8, 1\] but dataset 'mnist-sample' has samples \[28, 28, 1\]/);
  assertError(await run('eval', (await trained()).file, '--dataset', 'idx', '--data', data), /takes inputs \[28, 28, 1\] but dataset 'small-\w+' has samples \[8, 8, 1\]/);
  assertUsage(await run('train', '--metrics', 'f1', '--epochs', '1'), /--metrics: unknown metric 'f1'/);
  // Offered by Keras for one-hot labels; every label here is a class id (it failed after 'Training …' on shapes).
  assertUsage(await run('train', '--metrics', 'accuracy,top_k_categorical_accuracy', '--epochs', '1'), /--metrics top_k_categorical_accuracy compares with one-hot labels, but the command line's labels are class ids: use sparse_top_k_categorical_accuracy \(or top_k_accuracy\)/);
  // predict reads IDX images of the model's size.
  const idx = tmp('eight.idx');
  writeFileSync(idx, writeIdx({ shape: [2, 8, 8], dtype: 'uint8', data: new Uint8Array(128) }));
  const p = await run('predict', file, idx, '--json');
  assert.equal(p.code, 0, p.err);
  assert.equal((JSON.parse(p.out) as { predictions: unknown[] }).predictions.length, 2);
});

test('out of memory names the size flags the user gave (a long --bptt), beside the generic advice', async () => {
  const { outOfMemory } = await import('../../src/cli/main.js');
  const { WasmOutOfMemoryError } = await import('../../src/backend/wasm/allocator.js');
  const e = new WasmOutOfMemoryError(1.22 * 2 ** 30, 2.9 * 2 ** 30, 4 * 2 ** 30);
  const msg = outOfMemory(e, ['train', '--model', 'word-lstm', '--bptt', '1024', '--batch-size=64', '--epochs', '1']);
  assert.match(msg, /^out of memory: .*cannot hold another 1\.22 GiB with 2\.9 GiB in use; use a smaller --batch-size, a shorter sequence \(--bptt, --context\) or smaller model sizes \(given: --bptt 1024, --batch-size 64\)$/);
  assert.doesNotMatch(outOfMemory(e, ['eval', 'm.wsm']), /given/);
});

test('the "Weight sharing" line keeps convolution\'s own saving apart from --sharing maps on Conv2D layers', async () => {
  const r = await run('train', '--sharing', 'conv2d_1=lowRank:8,dense=hashed:1/8', '--epochs', '1', '--limit', '64', '--test-limit', '32', '--out', tmp('conv-maps.wsm'));
  assert.equal(r.code, 0, r.err);
  // 2,481,354 / 30,218 = 82.1× mixes conv2d_1's low-rank kernel in; against plain Conv2D kernels (45,834) it is 54.1×.
  assert.match(r.err, /^Weight sharing: seed-cnn has 30,218 parameters; .* would have 2,481,354: sharing saves 2,451,136 \(82\.1× fewer\): convolution's own sharing 54\.1× \(against 45,834 with plain Conv2D kernels\), the --sharing maps of Conv2D layers the rest$/m);
});
