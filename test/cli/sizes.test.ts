// Sizes from the command line (issue 15, found by the argv fuzz suite): models, thread counts and mixtures too large to make are usage errors naming the flag, before anything is allocated or read.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lockOutput, writeFileAtomic, WriteError } from '../../src/io/files.js';
import { MixturePrior } from '../../src/transforms/mixture-prior.js';
import { memory } from '../../src/core/engine.js';
import { runCli } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'ws-sizes-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

/** Asserts a usage error of `command`: exit 2, its first line matching `re`, at most the --help hint after it. */
function usage(r: { code: number; out: string; err: string }, command: string, re: RegExp): void {
  assert.equal(r.code, 2, r.err);
  const lines = r.err.split('\n').filter(Boolean);
  assert.ok(lines[0]!.startsWith(`weightshare ${command}: `), r.err);
  assert.match(lines[0]!, re);
  assert.ok(lines.length === 1 || /^Run 'weightshare \S+ --help' for usage\.$/.test(lines[1]!), r.err);
}

test('a model too large to make is refused from its config, naming the flags that sized it, with no memory taken', async () => {
  const out = join(dir, 'big.wsm');
  const cases: [string[], string, RegExp][] = [
    [['train', '--model', 'mlp:999999999', '--out', out], 'train', /^weightshare train: model 'mlp:999999999' \(--model mlp:999999999\): weight 'dense\/kernel' \[784,999999999\] has 783999999216 elements, above the limit of 268435456 per weight/],
    [['train', '--model', 'mlp:4096,4096,4096,4096,4096', '--out', out], 'train', /\(--model mlp:4096,4096,4096,4096,4096\): the weights up to 'dense_4\/kernel' \[4096,4096\] add up to 70\d+ elements, above the limit of 67108864 per model/],
    [['intrinsic-dim', '--model', 'mlp:16,999999999'], 'intrinsic-dim', /\(--model mlp:16,999999999\): weight 'dense_1\/kernel' \[16,999999999\]/],
  ];
  const text = join(dir, 'book.txt');
  writeFileSync(text, 'the cat sat on the mat. '.repeat(50));
  cases.push([['train', '--model', 'char-lstm', '--dataset', 'text', '--data', text, '--hidden', '999999999', '--out', out], 'train', /\(--model char-lstm --hidden 999999999\): weight 'lstm\/kernel' \[128,3999999996\]/]);
  for (const [argv, command, re] of cases) {
    const tensors = memory().tensors;
    const rss = Math.max(process.resourceUsage().maxRSS * 1024, process.memoryUsage.rss());
    const r = await runCli(...argv);
    const rise = process.resourceUsage().maxRSS * 1024 - rss;
    assert.ok(rise < 64 * 2 ** 20, `${argv.join(' ')}: peak RSS rose by ${(rise / 2 ** 20).toFixed(0)} MiB`);
    usage(r, command, re);
    assert.ok(!existsSync(out) && !existsSync(`${out}.lock`), 'nothing written');
    assert.equal(memory().tensors, tensors, 'no tensor left');
  }
  const env = process.env.WEIGHTSHARE_MAX_MODEL_ELEMENTS;
  process.env.WEIGHTSHARE_MAX_MODEL_ELEMENTS = '1000';
  try {
    usage(await runCli('train', '--model', 'mlp:8', '--out', out), 'train', /the weights up to 'dense\/kernel' \[784,8\] add up to 6272 elements, above the limit of 1000 per model/);
  } finally {
    if (env === undefined) delete process.env.WEIGHTSHARE_MAX_MODEL_ELEMENTS;
    else process.env.WEIGHTSHARE_MAX_MODEL_ELEMENTS = env;
  }
});

test('--threads above 256, --components above 256, an unknown intrinsic-dim --model and --dims in other notations are usage errors', async () => {
  usage(await runCli('eval', 'm.wsm', '--threads', '100000'), 'eval', /^weightshare eval: --threads must be at most 256, got 100000$/);
  usage(await runCli('compress', 'm.wsm', '--method', 'soft-sharing', '--components', '999999999'), 'compress', /--components must be at most 256, got 999999999$/);
  assert.throws(() => new MixturePrior(new Float32Array(10), { components: 257, pi0: 0.9 }, 'softWeightSharing'), /^RangeError: softWeightSharing: components must be at most 256, got 257/);
  usage(await runCli('intrinsic-dim', '--model', 'resnet'), 'intrinsic-dim', /^weightshare intrinsic-dim: --model: /);
  for (const d of ['1e3', '0x10', '1.5']) usage(await runCli('intrinsic-dim', '--dims', d), 'intrinsic-dim', new RegExp(`--dims: '${d.replace('.', '\\.')}' is not a positive integer$`));
});

test('writes refuse an empty path and a NUL byte by name (a WriteError, nothing created)', () => {
  for (const f of [() => writeFileAtomic('', 'x'), () => lockOutput('')]) assert.throws(f, (e: Error) => e instanceof WriteError && e.message === ': an empty path names no file to write');
  const nul = join(dir, 'a\0b.wsm');
  for (const f of [() => writeFileAtomic(nul, 'x'), () => lockOutput(nul)]) assert.throws(f, (e: Error) => e instanceof WriteError && e.message === `${nul}: the path holds a NUL byte, which no file name can`);
  assert.ok(!existsSync('.lock'), 'no lock file named .lock in the working folder');
});
