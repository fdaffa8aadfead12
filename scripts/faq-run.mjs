#!/usr/bin/env node
// One run of the FAQ experiments (RESULTS.md, "The seed's FAQ"): train a model as `weightshare train` does, optionally
// compress it after training, and print one JSON line with test accuracy, training-set accuracy in eval mode and sizes.
// Usage (after `npm run build`): node scripts/faq-run.mjs '<spec JSON>'; the driver is scripts/faq-experiments.mjs.
// Spec: { model, dataset, limit?, seed, epochs, sharing?, l2?, validationSplit?, subspace?: dim, post?: { kind: 'prune',
//   prune, epochs, lr } | { kind: 'codebook', clusters, epochs, lr } }.
//   model: a zoo name or mlp:H1,H2 (as `train --model`), or seed-cnn:U — the reference CNN with its dense layer 1600→U.
//   sharing / l2: as `train --sharing` / `--l2` (same library functions). subspace: random-subspace training of d
//   numbers (as `intrinsic-dim`, Fastfood, Adam lr 0.03). post prune: magnitude-prune every kernel by that fraction,
//   retrain with the masks fixed (Adam); post codebook: k-means every kernel to that many centroids, fine-tune them.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { key } from './faq-plan.mjs';

process.env.WEIGHTSHARE_THREADS ??= '1';
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const ws = await import(join(root, 'dist/src/index.js'));
const { createModel } = await import(join(root, 'dist/src/nn/zoo.js'));
const { applySharing } = await import(join(root, 'dist/src/cli/train.js'));
const { applyKernelRegularizer } = await import(join(root, 'dist/src/cli/regularize.js'));
const { readDataset } = await import(join(root, 'dist/src/cli/common.js'));
const { splitData } = await import(join(root, 'dist/src/data/dataset.js'));

const spec = JSON.parse(process.argv[2] ?? '{}');
const { seed = 0, epochs = 10, batchSize = 32, lr = 1e-3 } = spec;
const ds = readDataset(spec.dataset ?? 'mnist-sample', undefined, spec.limit, spec.testLimit);
const train = splitData(ds, 'train'), test = splitData(ds, 'test');
const shapes = { inputShape: ds.shape, classes: ds.classes };

/** The model of `spec.model`: zoo names as the CLI, `seed-cnn:U` the reference CNN with a dense layer of U units. */
function make(name) {
  const narrow = /^seed-cnn:(\d+)$/.exec(name);
  if (!narrow) return createModel(name, shapes);
  const L = ws.layers;
  return ws.sequential([
    L.conv2d({ filters: 32, kernelSize: 3, activation: 'relu' }), L.maxPooling2d({ poolSize: 2 }),
    L.conv2d({ filters: 64, kernelSize: 3, activation: 'relu' }), L.maxPooling2d({ poolSize: 2 }), L.flatten(),
    L.dense({ units: Number(narrow[1]), activation: 'relu' }), L.dense({ units: ds.classes, activation: 'softmax' }),
  ], { name, inputShape: ds.shape });
}

const started = performance.now();
let m = make(spec.model);
if (spec.sharing) applySharing(m, spec.sharing);
applyKernelRegularizer(m, undefined, spec.l2);
let runLr = lr;
if (spec.subspace) {
  m = ws.subspace(m, { dim: spec.subspace, projection: 'fastfood', seed, initSeed: seed });
  runLr = spec.subspaceLr ?? 0.03;
} else m.build(seed);
m.compile({ optimizer: { name: 'adam', learningRate: runLr }, loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'] });
// A run that compresses after training starts from the same trained model for every compression: its weights are
// kept in a cache (FAQ_CACHE, default /tmp/faq-cache) by the spec without `post`; training is deterministic, so a
// cached model is the one the run would train (only the history of the last epoch is not kept).
const cacheFile = spec.post ? join(process.env.FAQ_CACHE ?? '/tmp/faq-cache', `${createHash('sha256').update(key({ ...spec, post: undefined })).digest('hex').slice(0, 20)}.json`) : undefined;
let h = { history: {} };
if (cacheFile && existsSync(cacheFile)) {
  const saved = JSON.parse(readFileSync(cacheFile, 'utf8'));
  m.setWeights(new Map(Object.entries(saved).map(([k, v]) => [k, Float32Array.from(v)])));
} else {
  h = await m.fit(train.x, train.y, { epochs, batchSize, seed, shuffle: true, validationSplit: spec.validationSplit });
  if (cacheFile) {
    mkdirSync(dirname(cacheFile), { recursive: true });
    writeFileSync(cacheFile, JSON.stringify(Object.fromEntries([...m.getWeights()].map(([k, v]) => [k, Array.from(v)]))));
  }
}
const lastOf = (k) => (h.history[k] ? h.history[k][h.history[k].length - 1] : undefined);
const evaluate = () => ({ train: m.evaluate(train.x, train.y, { batchSize: 256 }), test: m.evaluate(test.x, test.y, { batchSize: 256 }) });

let before;
if (spec.post) {
  before = evaluate();
  const p = spec.post;
  if (p.kind === 'prune') ws.pruneWeights(m, { prune: p.prune });
  else if (p.kind === 'codebook') ws.clusterWeights(m, { clusters: p.clusters, seed });
  else throw new Error(`unknown post '${p.kind}'`);
  if (p.epochs > 0) {
    m.compile({ optimizer: { name: 'adam', learningRate: p.lr }, loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'] });
    await m.fit(train.x, train.y, { epochs: p.epochs, batchSize, seed, shuffle: true });
  }
}
const r = evaluate();
const sizes = ws.modelSizes(m);
const free = m.countParams();
// The maps' own count of free numbers: for a pruned map the kept weights (countParams counts θ whole), for a codebook its centroids.
const freeStored = m.weights().reduce((a, w) => a + w.map.stats().free, 0);
console.log(JSON.stringify({
  ...spec, dataset: ds.name, trainSamples: train.y.shape[0], testSamples: test.y.shape[0],
  freeParameters: free, freeStored, virtualParameters: sizes.float32Bits / 32, storedBits: sizes.bits,
  ratioFree: sizes.float32Bits / 32 / freeStored, ratioBits: sizes.float32Bits / sizes.bits,
  testAccuracy: r.test.accuracy, testLoss: r.test.loss, testError: 1 - r.test.accuracy,
  trainAccuracy: r.train.accuracy, trainLoss: r.train.loss, gap: r.train.accuracy - r.test.accuracy,
  lastEpochAccuracy: lastOf('accuracy'), valAccuracy: lastOf('val_accuracy'), valLoss: lastOf('val_loss'),
  ...(before ? { before: { testAccuracy: before.test.accuracy, trainAccuracy: before.train.accuracy } } : {}),
  seconds: (performance.now() - started) / 1000,
}));
m.dispose();
