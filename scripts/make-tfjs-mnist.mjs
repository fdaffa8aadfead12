#!/usr/bin/env node
// Trains a small MNIST MLP in TF.js itself (tfjs-layers, CPU backend) on the mnist-sample digits and saves it as tfjs-layers'
// file:// handler does (model.json + weights.bin): the model README imports, compresses and re-exports. Needs `npm run build`.
// Usage: node scripts/make-tfjs-mnist.mjs [OUT_DIR=mnist-tfjs] [EPOCHS=3]
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadDataset } from '../dist/src/data/index.js';
// TF.js with the chained tensor methods tfjs-layers calls registered (the test helper does it for the tests too).
import { tf, tfl } from '../dist/test/helpers/tfjs.js';

const out = process.argv[2] ?? 'mnist-tfjs';
const epochs = Number(process.argv[3] ?? 3);
const ds = loadDataset('mnist-sample');
const nTrain = ds.yTrain.length, nTest = ds.yTest.length;
const seeded = (seed) => tfl.initializers.glorotUniform({ seed });
const model = tfl.sequential({
  name: 'tfjs_mnist_mlp',
  layers: [
    tfl.layers.flatten({ inputShape: [28, 28, 1] }),
    tfl.layers.dense({ units: 256, activation: 'relu', kernelInitializer: seeded(1) }),
    tfl.layers.dense({ units: 10, activation: 'softmax', kernelInitializer: seeded(2) }),
  ],
});
model.compile({ optimizer: tf.train.adam(1e-3), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
const x = tf.tensor4d(ds.xTrain, [nTrain, 28, 28, 1]);
const y = tf.tensor2d(Float32Array.from(ds.yTrain), [nTrain, 1]);
const t0 = performance.now();
// No shuffling (tfjs shuffles with Math.random): the same weights on every run with the same TF.js.
const h = await model.fit(x, y, { epochs, batchSize: 64, shuffle: false, verbose: 0 });
const steps = epochs * Math.ceil(nTrain / 64);
const [loss, acc] = model.evaluate(tf.tensor4d(ds.xTest, [nTest, 28, 28, 1]), tf.tensor2d(Float32Array.from(ds.yTest), [nTest, 1]));
console.error(`trained in TF.js ${tf.version_core}: ${steps} steps (${epochs} epochs of ${nTrain} digits, batch 64, Adam 1e-3) in ${((performance.now() - t0) / 1000).toFixed(1)} s; ` +
  `train loss ${h.history.loss.at(-1).toFixed(4)}; mnist-sample test (${nTest}): loss ${(await loss.data())[0].toFixed(4)}, accuracy ${(100 * (await acc.data())[0]).toFixed(2)} %`);
mkdirSync(out, { recursive: true });
await model.save(tf.io.withSaveHandler(async (a) => {
  const json = { modelTopology: a.modelTopology, format: a.format, generatedBy: a.generatedBy, convertedBy: a.convertedBy, weightsManifest: [{ paths: ['weights.bin'], weights: a.weightSpecs }] };
  writeFileSync(join(out, 'model.json'), JSON.stringify(json));
  writeFileSync(join(out, 'weights.bin'), new Uint8Array(a.weightData));
  return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
}));
console.error(`saved ${join(out, 'model.json')} and ${join(out, 'weights.bin')}`);
