// Gradual magnitude pruning: TF-MOT's PolynomialDecay values, masks tightening during fit on mnist-sample, deepCompress with a schedule, bad options.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tidy } from '../../src/core/engine.js';
import type { Tensor } from '../../src/core/tensor.js';
import { loadDataset } from '../../src/data/datasets.js';
import { Dense, Flatten, type Model, sequential } from '../../src/nn/index.js';
import { CodebookMap, PrunedMap } from '../../src/sharing/index.js';
import { deepCompress, type DeepCompressEvent } from '../../src/transforms/index.js';
import { gradualPruning, polynomialDecay } from '../../src/transforms/prune-schedule.js';

test('polynomialDecay: final + (initial − final)(1 − p)³, updates every `frequency` steps inside [begin, end] (TF-MOT; exact to 1e-12)', () => {
  const o = { initialSparsity: 0.1, finalSparsity: 0.9, beginStep: 20, endStep: 120, frequency: 10 };
  const at = (step: number): [boolean, number] => {
    const r = polynomialDecay(o, step);
    return [r.update, +r.sparsity.toFixed(12)];
  };
  assert.deepEqual(at(0), [false, 0.1]);
  assert.deepEqual(at(20), [true, 0.1]);
  assert.deepEqual(at(70), [true, +(0.9 - 0.8 * 0.5 ** 3).toFixed(12)]);
  assert.deepEqual(at(75), [false, +(0.9 - 0.8 * 0.45 ** 3).toFixed(12)]);
  assert.deepEqual(at(120), [true, 0.9]);
  assert.deepEqual(at(130), [false, 0.9]);
});

/** A small MLP on the first 512 mnist-sample digits. */
function net(): { m: Model; x: { data: Float32Array; shape: number[] }; y: { data: Int32Array; shape: number[] } } {
  const ds = loadDataset('mnist-sample');
  const n = 512;
  const m = sequential([new Flatten({ inputShape: [28, 28, 1] }), new Dense({ units: 16, activation: 'relu', name: 'h' }), new Dense({ units: 10, activation: 'softmax', name: 'out' })]).build(2);
  m.compile({ optimizer: { name: 'adam', learningRate: 1e-3 }, loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'] });
  return { m, x: { data: ds.xTrain.subarray(0, n * 784), shape: [n, 28, 28, 1] }, y: { data: ds.yTrain.subarray(0, n), shape: [n] } };
}

test('gradualPruning on mnist-sample: masks only tighten, follow the schedule at its steps, end at ⌊final·n⌋ pruned with W = 0 there', async () => {
  const { m, x, y } = net();
  const cb = gradualPruning(m, { finalSparsity: (w) => (w.layer.name === 'h' ? 0.8 : 0.5), endStep: 24, frequency: 4 });
  const h = m.getLayer('h').weight('kernel') as PrunedMap;
  assert.ok(h instanceof PrunedMap && h.kept() === 784 * 16);
  const pruned: number[] = [];
  await m.fit(x, y, { epochs: 2, batchSize: 32, seed: 0, callbacks: [cb, { onBatchEnd: () => void pruned.push(784 * 16 - h.kept()) }] });
  // After update k (k = 1…32) the schedule ran at step k: at multiples of 4 up to 24 the count is ⌊s(k)·n⌋.
  for (let k = 1; k <= 32; k++) {
    if (k > 1) assert.ok(pruned[k - 1] >= pruned[k - 2], `step ${k}: ${pruned[k - 1]} < ${pruned[k - 2]}`);
    if (k % 4 === 0 && k <= 24) assert.equal(pruned[k - 1], Math.floor(polynomialDecay({ finalSparsity: 0.8, endStep: 24, frequency: 4 }, k).sparsity * 784 * 16), `step ${k}`);
  }
  assert.equal(pruned[31], Math.floor(0.8 * 784 * 16));
  assert.equal(784 * 16 - h.kept(), Math.floor(0.8 * 784 * 16));
  const out = m.getLayer('out').weight('kernel') as PrunedMap;
  assert.equal(160 - out.kept(), 80);
  // W = θ ⊙ mask is exactly 0 where the mask is (θ may drift there under Adam's leftover moments; W cannot).
  const mask = h.maskValues(), w = tidy(() => h.materialize().f32() as unknown as Tensor) as unknown as Float32Array;
  for (let i = 0; i < mask.length; i++) if (!mask[i]) assert.ok(w[i] === 0, `W[${i}] = ${w[i]}`);
  assert.deepEqual(cb.report().map((r) => [r.path, r.pruned]), [['h/kernel', Math.floor(0.8 * 784 * 16)], ['out/kernel', 80]]);
  m.dispose();
});

test('deepCompress with pruneSchedule: prunes while retraining, then clusters the survivors; bad schedules fail before any work', async () => {
  const { m, x, y } = net();
  await m.fit(x, y, { epochs: 1, batchSize: 32, seed: 0 });
  const data = { train: { x, y }, test: { x, y } };
  await assert.rejects(deepCompress(m, data, { clusters: 4, prune: 0.5, pruneSchedule: {} }), /^RangeError: deepCompress: pruneSchedule prunes during the retraining, so it needs pruneFinetuneEpochs > 0, got 0$/);
  await assert.rejects(deepCompress(m, data, { clusters: 4, prune: 0.5, pruneFinetuneEpochs: 1, pruneSchedule: { initialSparsity: 1 } }), /^RangeError: deepCompress: pruneSchedule: initialSparsity must be a fraction in \[0, 1\), got 1$/);
  await assert.rejects(deepCompress(m, data, { clusters: 4, prune: 0.5, pruneFinetuneEpochs: 1, pruneSchedule: { beginStep: 10, endStep: 5 } }), /^RangeError: deepCompress: pruneSchedule: endStep must be an integer ≥ 10, got 5$/);
  await assert.rejects(deepCompress(m, data, { clusters: 4, prune: 1, pruneFinetuneEpochs: 1, pruneSchedule: {} }), /prune must be a fraction in \[0, 1\), got 1/);
  // A misspelt schedule key was ignored (the default ran); it is named, as gradualPruning names its own.
  await assert.rejects(deepCompress(m, data, { clusters: 4, prune: 0.5, pruneFinetuneEpochs: 1, pruneSchedule: { frequncy: 2 } as never }), /^ArgumentError: deepCompress: pruneSchedule: unknown option 'frequncy' \(options: initialSparsity, beginStep, endStep, frequency, power\)$/);
  const hashed = sequential([new Dense({ units: 3, maps: { kernel: 'hashed:1/2' } })], { inputShape: [4] }).build(0);
  assert.throws(() => gradualPruning(hashed, { finalSparsity: 0.5, endStep: 10 }), /^RangeError: gradualPruning: no dense weight to prune \(dense\/kernel is 'hashed'\)/);
  hashed.dispose();
  assert.throws(() => gradualPruning(m, { finalSparsity: 0.5, endStep: 10, sparsity: 0.5 } as never), /^ArgumentError: gradualPruning: unknown option 'sparsity' \(options: finalSparsity, layers, initialSparsity, beginStep, endStep, frequency, power\); the final sparsity is finalSparsity$/);
  assert.equal(m.getLayer('h').weight('kernel').kind, 'dense');
  const events: DeepCompressEvent[] = [];
  const r = await deepCompress(m, data, { clusters: 4, prune: 0.75, pruneFinetuneEpochs: 2, pruneLr: 1e-3, finetuneEpochs: 0, batchSize: 64, pruneSchedule: { frequency: 2 } }, { onProgress: (e) => events.push(e) });
  assert.deepEqual(events.map((e) => e.kind), ['original', 'trainBegin', 'epochEnd', 'epochEnd', 'pruned', 'retrained', 'clustered']);
  assert.deepEqual(r.pruning!.layers.map((l) => l.pruned), [Math.floor(0.75 * 784 * 16), Math.floor(0.75 * 160)]);
  const cb = m.getLayer('h').weight('kernel') as CodebookMap;
  assert.ok(cb instanceof CodebookMap && cb.kept() === 784 * 16 - Math.floor(0.75 * 784 * 16));
  m.dispose();
});
