// What a bundled page checks (test/package/bundle.test.ts): the wasm backend against ref, mnist-sample by URL, a short training run.
import * as ws from 'weightshare';

/** Largest |a - b| / (1 + |b|). */
function maxRelDiff(a, b) {
  let m = a.length === b.length ? 0 : Infinity;
  for (let i = 0; i < a.length && m < Infinity; i++) m = Math.max(m, Math.abs(a[i] - b[i]) / (1 + Math.abs(b[i])));
  return m;
}

/** A 200×300 · 300×100 product (large enough to be split over the worker threads) on the current backend. */
function product() {
  return ws.tidy(() => ws.matmul(ws.randomNormal([200, 300], { seed: 1 }), ws.randomNormal([300, 100], { seed: 2 })).data());
}

/**
 * Starts the wasm backend with `init` (plus 2 threads), compares a product with ref, loads mnist-sample from `mnistUrl`
 * (undefined: the default) and trains a softmax regression for one epoch on 2,048 of its digits.
 */
export async function run(init, mnistUrl) {
  const out = { crossOriginIsolated: globalThis.crossOriginIsolated === true };
  try {
    const be = await ws.initWasmBackend({ threads: 2, ...init });
    out.threads = be.threads;
    out.relaxedSimd = be.relaxedSimd;
    ws.setBackend('wasm');
    const wasm = product();
    ws.setBackend('ref');
    out.diff = maxRelDiff(wasm, product());
    ws.setBackend('wasm');
    const ds = await ws.fetchMnistSample(mnistUrl === undefined ? {} : { url: mnistUrl });
    let sum = 0;
    for (const v of ds.xTest) sum += v;
    out.mnist = { train: ds.yTrain.length, test: ds.yTest.length, testPixelSum: sum, trainLabels: Array.from(ds.yTrain.subarray(0, 20)) };
    const n = 2048;
    const m = ws.sequential([ws.layers.flatten({ inputShape: [28, 28, 1] }), ws.layers.dense({ units: 10, activation: 'softmax' })]).build(0);
    m.compile({ optimizer: { name: 'adam', learningRate: 0.01 }, loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'] });
    await m.fit({ data: ds.xTrain.subarray(0, n * 784), shape: [n, 28, 28, 1] }, { data: ds.yTrain.subarray(0, n), shape: [n] }, { epochs: 1, batchSize: 32, seed: 0 });
    out.testAccuracy = m.evaluate({ data: ds.xTest, shape: [2000, 28, 28, 1] }, { data: ds.yTest, shape: [2000] }).accuracy;
    m.dispose();
  } catch (e) {
    out.error = String(e && e.message || e);
  }
  return out;
}
