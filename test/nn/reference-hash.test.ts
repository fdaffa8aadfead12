// Pins the reference experiment bit for bit: SHA-256 of the seed CNN's weights after one epoch of `weightshare train`'s recipe on 4,000 digits.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { createWasmBackendAsync } from '../../src/backend/wasm/wasm.js';
import { getBackend, memory, setBackend } from '../../src/core/engine.js';
import { loadDataset } from '../../src/data/index.js';
import { createModel } from '../../src/nn/index.js';
import { createOptimizer } from '../../src/optim/index.js';

/**
 * The weights after one epoch of the reference recipe (seed-cnn built with seed 0, Adam at its defaults, batch 32,
 * shuffled with seed 0, sparse categorical cross-entropy) on the first 4,000 mnist-sample training digits (half of
 * `npm start`'s epoch, to keep the test short), by kernel build. A change of any bit of any kernel, initialiser,
 * shuffle or optimizer step changes them: a refactoring must keep them; a deliberate change of the numbers updates
 * them (and README's recorded `npm start` output).
 * Last moved by (issue 16): the second convolution (3×3, 32 → 64) computed by Winograd F(4×4,3×3) in all three passes
 * (outputs whose taps read only zeros exactly 0), its grad filter summing the tiles in chunks of 64; bias gradients
 * summed in blocks of 64 rows (biasActGrad), or per pooled row where a convolution and its max pooling run fused
 * (maxPool2dBiasActGrad).
 */
const EXPECTED = {
  relaxed: 'ad2ef1f2539d0fd236c19ffd863f3f96f7a4cf50008327ef23bc0c7f944cc08f',
  simd: 'e09a5100e6d893b932eb7940eb2b6da2c532c6bf8abe0bdb324c4f057ea08549',
};

/** Training digits used (the first of mnist-sample's 8,000). */
const SAMPLES = 4000;

/** SHA-256 over the weights' names and float32 bytes, in the model's order. */
function weightsHash(weights: Map<string, Float32Array>): string {
  const h = createHash('sha256');
  for (const [name, w] of weights) {
    h.update(name);
    h.update(new Uint8Array(w.buffer, w.byteOffset, w.byteLength));
  }
  return h.digest('hex');
}

/** Trains the reference CNN for one epoch as `weightshare train` does and returns the hash of its weights. */
async function trainOneEpoch(): Promise<string> {
  const ds = loadDataset('mnist-sample');
  const n = SAMPLES;
  const m = createModel('seed-cnn').build(0);
  m.compile({ optimizer: createOptimizer({ name: 'adam' }), loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'] });
  await m.fit({ data: ds.xTrain.subarray(0, n * 784), shape: [n, 28, 28, 1] }, { data: ds.yTrain.subarray(0, n), shape: [n] }, { epochs: 1, batchSize: 32, seed: 0, shuffle: true });
  const hash = weightsHash(m.getWeights());
  m.dispose();
  return hash;
}

for (const relaxedSimd of [true, false]) {
  const build = relaxedSimd ? 'relaxed' : 'simd';
  const threadCounts = relaxedSimd ? [2, 1] : [2];
  test(`the reference CNN after one epoch has the pinned weights (${build} kernels, ${threadCounts.join(' and ')} threads)`, async (t) => {
    const before = getBackend();
    const used = memory();
    for (const threads of threadCounts) {
      const be = await createWasmBackendAsync({ threads, relaxedSimd });
      if (be.relaxedSimd !== relaxedSimd) {
        be.dispose();
        t.skip('this runtime has no relaxed SIMD');
        return;
      }
      setBackend(be);
      try {
        assert.equal(await trainOneEpoch(), EXPECTED[build], `${build} kernels, ${threads} thread(s)`);
      } finally {
        setBackend(before);
        be.dispose();
      }
    }
    assert.deepEqual(memory(), used);
  });
}
