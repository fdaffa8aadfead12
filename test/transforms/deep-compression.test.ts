// deepCompress from code: stages in order, conv settings by weight rank, per-layer pruning, report = model, errors before any work.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Conv2D, createTextModel, Dense, Flatten, type Model, sequential } from '../../src/nn/index.js';
import { CodebookMap } from '../../src/sharing/index.js';
import { deepCompress, type DeepCompressEvent, modelSizes, NothingToCompressError } from '../../src/transforms/index.js';
import { modelFromCheckpoint, modelToCheckpoint } from '../../src/io/model-file.js';
import { Rng } from '../helpers/random.js';

/** Three classes told apart by which third of a 6×6 image is bright, plus noise. */
function data(n: number, seed: number): { x: { data: Float32Array; shape: number[] }; y: { data: Int32Array; shape: number[] } } {
  const r = new Rng(seed);
  const x = new Float32Array(n * 36), y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    y[i] = r.int(0, 2);
    for (let p = 0; p < 36; p++) x[i * 36 + p] = 0.3 * r.normal() + (Math.floor((p % 6) / 2) === y[i] ? 1 : 0);
  }
  return { x: { data: x, shape: [n, 6, 6, 1] }, y: { data: y, shape: [n] } };
}

const train = data(96, 1), testSet = data(48, 2);

/** A small conv net, trained a little. */
async function trained(): Promise<Model> {
  const m = sequential([
    new Conv2D({ filters: 4, kernelSize: 3, activation: 'relu', inputShape: [6, 6, 1], name: 'conv' }),
    new Flatten(),
    new Dense({ units: 3, activation: 'softmax', name: 'fc' }),
  ]).build(0);
  m.compile({ optimizer: { name: 'adam', learningRate: 0.01 }, loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'] });
  await m.fit(train.x, train.y, { epochs: 2, batchSize: 16, seed: 0 });
  return m;
}

test('deepCompress: prune (conv and per-layer fractions), retrain, cluster (conv clusters by rank), fine-tune; the report matches the model', async () => {
  const m = await trained();
  const events: DeepCompressEvent[] = [];
  const r = await deepCompress(m, { train, test: testSet }, {
    clusters: 4, convClusters: 8, prune: 0.5, convPrune: 0.25, layerPrune: { fc: 0.1 }, pruneFinetuneEpochs: 1, pruneLr: 1e-3, finetuneEpochs: 2, lr: 1e-3, batchSize: 16, seed: 3,
  }, { onProgress: (e) => events.push(e) });
  assert.deepEqual(events.map((e) => e.kind + ('phase' in e ? `:${e.phase}` : '')), [
    'original', 'pruned', 'trainBegin:retrain', 'epochEnd:retrain', 'retrained', 'clustered', 'trainBegin:finetune', 'epochEnd:finetune', 'epochEnd:finetune', 'finetuned',
  ]);
  const begin = events[2] as Extract<DeepCompressEvent, { kind: 'trainBegin' }>;
  assert.deepEqual([begin.epochs, begin.learningRate, begin.batchSize, begin.samples], [1, 1e-3, 16, 96]);
  // conv/kernel [3,3,1,4] (rank 4): convPrune 0.25 → ⌊0.25·36⌋, 8 centroids; fc/kernel [64,3]: layerPrune 0.1 → ⌊0.1·192⌋, 4 centroids.
  assert.deepEqual(r.pruning!.layers.map((w) => [w.path, w.pruned]), [['conv/kernel', 9], ['fc/kernel', 19]]);
  assert.deepEqual(r.layers.map((w) => [w.path, w.clusters, w.pruned]), [['conv/kernel', 8, 9], ['fc/kernel', 4, 19]]);
  const fc = m.getLayer('fc').weight('kernel') as CodebookMap;
  assert.ok(fc instanceof CodebookMap && fc.kept() === 192 - 19);
  assert.equal(m.getLayer('fc').weight('bias').kind, 'dense');
  const now = m.evaluate(testSet.x, testSet.y, { batchSize: 256 });
  assert.equal(r.finetuned.accuracy, now.accuracy);
  assert.equal(r.finetuned.loss, now.loss);
  assert.equal(r.bits.float32, 32 * (36 + 4 + 192 + 3));
  assert.equal(r.bits.after, m.weights().reduce((s, w) => s + w.map.stats().bits, 0));
  assert.ok(r.bits.after < r.pruning!.bits && r.pruning!.bits < r.bits.before, JSON.stringify(r.bits));
  assert.equal(r.ratio, r.bits.float32 / r.bits.after);
  assert.ok(r.before.accuracy > 0.6, `trained accuracy ${r.before.accuracy}`);
  m.dispose();
});

test('deepCompress is reproducible: the same model, data and seed give the same weights', async () => {
  const m = await trained();
  const file = modelToCheckpoint(m);
  const run = async (): Promise<Map<string, Float32Array>> => {
    const c = modelFromCheckpoint(file).model;
    await deepCompress(c, { train, test: testSet }, { clusters: 4, prune: 0.5, finetuneEpochs: 1, init: 'kmeans++', seed: 7, batchSize: 16 });
    const w = c.getWeights();
    c.dispose();
    return w;
  };
  assert.deepEqual(await run(), await run());
  m.dispose();
});

test('deepCompress: bad options fail before any work, naming what is wrong', async () => {
  const m = await trained();
  const w0 = m.getWeights();
  const d = { train, test: testSet };
  await assert.rejects(deepCompress(m, d, { clusters: 4, convClusters: 100 }), /layer 'conv' kernel, scheme 'codebook': clusters must be an integer in \[2, 36\]/);
  await assert.rejects(deepCompress(m, d, { clusters: 4, prune: 1, pruneFinetuneEpochs: 1 }), /layer 'conv' kernel, scheme 'pruned': prune must be a fraction in \[0, 1\), got 1/);
  await assert.rejects(deepCompress(m, d, { clusters: 4, layerPrune: { nope: 0.5 } }), /layerPrune names no layer of model '.*': 'nope' \(layers: conv, flatten, fc;/);
  assert.deepEqual(m.getWeights(), w0, 'nothing changed');
  const bare = sequential([new Flatten({ inputShape: [6, 6, 1] }), new Dense({ units: 3, maps: { kernel: 'hashed:1/4' } })]).build(0);
  await assert.rejects(deepCompress(bare, d, { clusters: 4 }), /is not compiled/);
  bare.compile({ optimizer: 'adam', loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'] });
  await assert.rejects(deepCompress(bare, d, { clusters: 4 }), (e: Error) => e instanceof NothingToCompressError && e.found === "dense/kernel is 'hashed'");
  bare.dispose();
  m.dispose();
});

test('the float32 original of a tied model stores the tied table once (compression ratios are not inflated by the tie)', () => {
  const m = createTextModel('word-lstm', { vocab: 50, length: 6, embed: 8, hidden: 8, tied: true }).build(1);
  assert.equal(modelSizes(m).float32Bits, 32 * m.countParams());
  assert.equal(modelSizes(m).bits, 32 * m.countParams());
  m.dispose();
});

test('deepCompress keeps the model’s compile settings: its metrics (accuracy measured besides) and ignoreClass', async () => {
  const m = await trained();
  m.compile({ optimizer: { name: 'adam', learningRate: 0.01 }, loss: 'sparse_categorical_crossentropy', metrics: ['perplexity'], ignoreClass: 2 });
  const r = await deepCompress(m, { train, test: testSet }, { clusters: 4, finetuneEpochs: 1, batchSize: 16 });
  const c = m.compileConfig()!;
  assert.deepEqual([c.metrics, c.ignoreClass, c.loss, c.optimizer.learningRate], [['perplexity'], 2, 'sparse_categorical_crossentropy', 1e-4]);
  // The reported accuracy counts only the labels that are not ignored, as the model's loss does.
  const y = testSet.y.data, keep = [...y.keys()].filter((i) => y[i] !== 2);
  const p = m.predict({ data: testSet.x.data, shape: testSet.x.shape }).data();
  const right = keep.filter((i) => [0, 1, 2].reduce((b, k) => (p[i * 3 + k] > p[i * 3 + b] ? k : b), 0) === y[i]).length;
  assert.ok(Math.abs(r.finetuned.accuracy - right / keep.length) < 1e-6, `${r.finetuned.accuracy} vs ${right / keep.length}`);
  m.dispose();
});
