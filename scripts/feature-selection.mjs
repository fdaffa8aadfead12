#!/usr/bin/env node
// The feature-selection baseline of the FAQ experiments: keep k input pixels by a stated criterion, retrain an MLP on them,
// print one JSON line (test error, train accuracy, train − test gap, free parameters).
// Usage (after `npm run build`): node scripts/feature-selection.mjs --k 98 [--criterion mutual-information|weight-magnitude]
//   [--hidden 100] [--epochs 10] [--batch-size 32] [--lr 1e-3] [--seed 0] [--dataset mnist-sample|fashion-mnist|mnist] [--data DIR]
//   [--limit N] (train on the first N training samples only, as `train --limit`)
//   mutual-information: I(pixel; label), each pixel cut into 2 bins (ink / no ink) on the training split;
//   weight-magnitude: Σ_j |W1[i, j]| of the same MLP trained first on all pixels (same seed and epochs).
// Deterministic for a seed (WEIGHTSHARE_THREADS=1 is set).
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

process.env.WEIGHTSHARE_THREADS ??= '1';
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const ws = await import(join(root, 'dist/src/index.js'));
const { loadDataset } = await import(join(root, 'dist/src/node.js'));
const { limitDataset } = await import(join(root, 'dist/src/data/dataset.js'));

const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : fallback;
};
const k = Number(opt('k', '98')), criterion = opt('criterion', 'mutual-information'), hidden = Number(opt('hidden', '100'));
const epochs = Number(opt('epochs', '10')), batchSize = Number(opt('batch-size', '32')), lr = Number(opt('lr', '1e-3')), seed = Number(opt('seed', '0'));
if (!ws.FEATURE_CRITERIA.includes(criterion)) throw new Error(`--criterion must be one of ${ws.FEATURE_CRITERIA.join(', ')}, got '${criterion}'`);
const limit = opt('limit', undefined);
const ds = limitDataset(loadDataset(opt('dataset', 'mnist-sample'), { dataDir: opt('data', undefined) }), limit === undefined ? undefined : Number(limit));
const features = ds.shape.reduce((a, b) => a * b, 1);
const nTrain = ds.yTrain.length, nTest = ds.yTest.length;

/** An MLP features → hidden (relu) → classes, trained; returns it with its train and test accuracy. */
async function train(inputs, xTrain, xTest) {
  const m = ws.sequential([ws.layers.dense({ units: hidden, activation: 'relu', inputShape: [inputs] }), ws.layers.dense({ units: ds.classes, activation: 'softmax' })]).build(seed);
  m.compile({ optimizer: { name: 'adam', learningRate: lr }, loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'] });
  await m.fit({ data: xTrain, shape: [nTrain, inputs] }, { data: ds.yTrain, shape: [nTrain] }, { epochs, batchSize, seed });
  const trainAcc = m.evaluate({ data: xTrain, shape: [nTrain, inputs] }, { data: ds.yTrain, shape: [nTrain] }, { batchSize: 256 }).accuracy;
  const testAcc = m.evaluate({ data: xTest, shape: [nTest, inputs] }, { data: ds.yTest, shape: [nTest] }, { batchSize: 256 }).accuracy;
  return { m, trainAcc, testAcc };
}

let scores;
if (criterion === 'mutual-information') scores = ws.mutualInformation(ds.xTrain, ds.yTrain, features, { bins: 2, classes: ds.classes });
else {
  const full = await train(features, ds.xTrain, ds.xTest);
  scores = ws.firstLayerMagnitude(full.m);
  full.m.dispose();
}
const picked = ws.selectFeatures(scores, k);
const r = await train(k, ws.takeFeatures(ds.xTrain, features, picked), ws.takeFeatures(ds.xTest, features, picked));
console.log(JSON.stringify({
  method: 'feature-selection', criterion, k, hidden, epochs, seed, dataset: ds.name, freeParameters: r.m.countParams(),
  testError: 1 - r.testAcc, trainAccuracy: r.trainAcc, gap: r.trainAcc - r.testAcc, pixels: [...picked],
}));
r.m.dispose();
