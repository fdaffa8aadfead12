// The CLI on the transformer: train --model gpt with sharing across depth, generate, eval, compress, resume; its usage errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadModel } from '../../src/io/files.js';
import { assertResumeExact, runCli as run } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'ws-cli-gpt-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));
const tmp = (name: string): string => join(dir, name);


const SMALL = ['--dim', '16', '--heads', '2', '--layers', '3', '--context', '16', '--limit', '64', '--test-limit', '32', '--batch-size', '16', '--threads', '2'];

test('train --model gpt --share-layers all: one block at every depth (counted once), bits per character falling; eval agrees', async () => {
  const out = tmp('gpt-all.wsm');
  const r = await run('train', '--model', 'gpt', '--share-layers', 'all', '--epochs', '2', '--lr', '3e-3', ...SMALL, '--out', out, '--json');
  assert.equal(r.code, 0, r.err);
  assert.match(r.err, /Training gpt \([\d,]+ parameters\) on sotu: 64 training samples/);
  assert.match(r.err, /Weight sharing: block \([\d,]+ weights\) is applied at 3 depths/);
  const j = JSON.parse(r.out);
  assert.ok(j.history.bits_per_char[1] < j.history.bits_per_char[0], 'bits per character fall over the two epochs');
  const { model, tokenizer, meta } = loadModel(out);
  assert.equal(tokenizer?.kind, 'char');
  assert.deepEqual(meta.training?.text, { task: 'language-model', level: 'char', bptt: 16 });
  const none = await run('train', '--model', 'gpt', '--share-layers', 'none', '--epochs', '1', ...SMALL, '--out', tmp('gpt-none.wsm'), '--json');
  assert.equal(none.code, 0, none.err);
  const block = model.layers.find((l) => l.name === 'block')!.countParams();
  assert.equal(JSON.parse(none.out).parameters, j.parameters + 2 * block, 'unshared: two more copies of the block');
  model.dispose();
  const e = await run('eval', out, '--test-limit', '32', '--json');
  assert.equal(e.code, 0, e.err);
  assert.ok(Math.abs(JSON.parse(e.out).bits_per_char - j.test.bits_per_char) < 1e-6);
});

test('gpt: a run interrupted after epoch 1 resumes to the same weights as one uninterrupted run', async () => {
  await assertResumeExact(['--model', 'gpt', '--share-layers', 'attention', '--dropout', '0.1', ...SMALL], tmp('whole.wsm'), tmp('part.wsm'));
});

test('generate continues a prompt with a gpt model, deterministically; a prompt longer than the context is an error', async () => {
  const out = tmp('gpt-all.wsm');
  const a = await run('generate', out, '--prompt', 'The ', '--length', '30', '--seed', '1');
  const b = await run('generate', out, '--prompt', 'The ', '--length', '30', '--seed', '1');
  assert.equal(a.code, 0, a.err);
  assert.equal(a.out, b.out);
  assert.ok(a.out.startsWith('The '));
  assert.equal([...a.out.trimEnd()].length >= 'The '.length + 25, true);
  const long = await run('generate', out, '--prompt', 'x'.repeat(17), '--length', '3');
  assert.equal(long.code, 1);
  assert.match(long.err, /prompt has 17 tokens, more than the model's context of 16/);
});

test('compress clusters a gpt model on its own text and reports bits per character', async () => {
  const out = tmp('gpt-c.wsm');
  const r = await run('compress', tmp('gpt-all.wsm'), '--clusters', '8', '--finetune-epochs', '1', '--limit', '32', '--test-limit', '32', '--out', out, '--json');
  assert.equal(r.code, 0, r.err);
  assert.match(r.err, /gpt on sotu \(32 test samples\): [\d.]+ bits per character/);
  assert.match(r.err, /block\/feed_forward\/intermediate\/kernel: [\d,]+ weights → 8 centroids/);
  assert.match(r.err, /after fine-tuning: [\d.]+ bits per character/);
  // The fine-tuning's epochs and the JSON carry the model's own metric, not only next-character accuracy.
  assert.match(r.err, /^Epoch 1\/1 - .* - loss: [\d.]+ - accuracy: [\d.]+ - bits_per_char: [\d.]+$/m);
  const j = JSON.parse(r.out) as Record<'before' | 'clustered' | 'finetuned', { loss: number; metrics: { bits_per_char: number } }>;
  for (const k of ['before', 'clustered', 'finetuned'] as const) assert.ok(Math.abs(j[k].metrics.bits_per_char - j[k].loss / Math.LN2) < 1e-4, k);
  const e = await run('eval', out, '--test-limit', '32', '--json');
  assert.equal(e.code, 0, e.err);
  assert.ok(Number.isFinite(JSON.parse(e.out).bits_per_char));
});

test('gpt usage errors are one line and name the option and value', async () => {
  const cases: [string[], RegExp][] = [
    [['train', '--model', 'gpt', '--heads', '3', '--limit', '10'], /heads 3 must divide dim 128/],
    [['train', '--model', 'gpt', '--hidden', '32', '--limit', '10'], /--hidden is for the recurrent text models; 'gpt' takes --dim/],
    [['train', '--model', 'gpt', '--bptt', '32', '--limit', '10'], /'gpt' takes --context/],
    [['train', '--model', 'char-lstm', '--share-layers', 'all', '--limit', '10'], /--share-layers is for the transformer models/],
    [['train', '--model', 'gpt', '--share-layers', 'some', '--limit', '10'], /share-layers/],
    [['train', '--model', 'mlp', '--heads', '2'], /--heads is for text models/],
    // Refused before any batch: 4 layers × 32 × 4 heads × 100000² floats (was the engine's "use smaller batches" advice).
    [['train', '--model', 'gpt', '--context', '100000', '--limit', '2000'], /^weightshare train: --context 100000 with --batch-size 32: a training step would need about 46\.9 TiB \(the attention probabilities alone: 4 layers × 32 × 4 heads × 100000² × 4 bytes = 18\.6 TiB; each layer's activations besides\), more than fits in the engine's 4 GiB of memory .*; give a shorter --context \(at most 778 at this batch\), a smaller --batch-size or --dim$/],
    // Its probabilities alone would fit (2 GiB); the whole step (8 GiB by the measured fit) would not: it ran out of memory after the first batch's 14 s.
    [['train', '--model', 'gpt', '--context', '1024', '--limit', '2000'], /^weightshare train: --context 1024 with --batch-size 32: a training step would need about 8\.22 GiB .*at most 778 at this batch/],
  ];
  for (const [argv, re] of cases) {
    const r = await run(...argv);
    assert.notEqual(r.code, 0, argv.join(' '));
    const l = r.err.split('\n').filter((x) => x.trim());
    assert.match(l[0], re, argv.join(' '));
    assert.doesNotMatch(r.err, /^\s+at /m);
  }
});

test('eval and compress refuse a text model on images, an image model on text and a language model on labelled texts, in one line naming the file', async () => {
  const gpt = tmp('gpt-all.wsm'), mlp = tmp('mlp.wsm');
  assert.equal((await run('train', '--model', 'mlp', '--epochs', '1', '--limit', '64', '--test-limit', '32', '--out', mlp)).code, 0);
  const cases: [string[], RegExp][] = [
    [['eval', gpt, '--dataset', 'mnist-sample'], /gpt-all\.wsm: is a text model; evaluate it on text \(--dataset sotu/],
    [['compress', gpt, '--dataset', 'mnist-sample'], /gpt-all\.wsm: is a text model; compress it on text/],
    [['eval', mlp, '--dataset', 'sotu'], /mlp\.wsm: is not a text model .* cannot be evaluated on 'sotu'/],
    [['compress', mlp, '--dataset', 'sotu'], /mlp\.wsm: is not a text model .* cannot be compressed on 'sotu'/],
    // A language model on the classification set: what the model is and what it takes (was: advice to train a classifier).
    [['eval', gpt, '--dataset', 'spam-assassin'], /gpt-all\.wsm: is a language model and 'spam-assassin' is a classification set .*; evaluate it on running text \(--dataset sotu/],
    [['compress', gpt, '--dataset', 'spam-assassin'], /gpt-all\.wsm: is a language model .*; compress it on running text/],
  ];
  for (const [argv, re] of cases) {
    const r = await run(...argv);
    assert.equal(r.code, 1, argv.join(' '));
    assert.match(r.err.split('\n').filter((x) => x.trim())[0], re, argv.join(' '));
  }
});
