// The fused Adam kernel: wasm (1 and 2 threads) against the reference backend, with and without AdamW's decay.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AdamHyper, Backend } from '../../src/backend/backend.js';
import { RefBackend } from '../../src/backend/ref/ref.js';
import { wasmBackends } from '../helpers/backends.js';
import { Rng } from '../helpers/random.js';

const ref = new RefBackend();
const [wasm2, wasm1] = wasmBackends(2, 1);

function run(be: Backend, p: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, h: AdamHyper, steps: number): Float32Array[] {
  const bufs = [p, g, m, v].map((a) => {
    const b = be.alloc(a.length, 'float32');
    if (a.length) be.write(b, a);
    return b;
  });
  for (let i = 0; i < steps; i++) be.adam(bufs[0], bufs[1], bufs[2], bufs[3], p.length, h);
  const out = [0, 2, 3].map((i) => be.read(bufs[i], 'float32', p.length) as Float32Array);
  bufs.forEach((b) => be.free(b));
  return out;
}

test('adam: wasm equals ref to the last bit on odd sizes, for Adam and AdamW, over several steps', () => {
  const rng = new Rng(7);
  for (const n of [0, 1, 3, 4, 5, 17, 1000, 70001]) {
    const arr = (scale: number, positive = false): Float32Array => Float32Array.from({ length: n }, () => (positive ? Math.abs(rng.normal()) : rng.normal()) * scale);
    const [p, g, m, v] = [arr(1), arr(0.1), arr(0.01), arr(0.001, true)];
    for (const keep of [1, 1 - 0.001 * 0.01]) {
      const h: AdamHyper = { beta1: 0.9, beta2: 0.999, c1: 1 - 0.9, c2: 1 - 0.999, stepSize: 0.001 / (1 - 0.9 ** 3), sqrtBc2: Math.sqrt(1 - 0.999 ** 3), epsilon: 1e-7, keep };
      const want = run(ref, p, g, m, v, h, 3);
      for (const be of [wasm1, wasm2]) {
        const got = run(be, p, g, m, v, h, 3);
        got.forEach((a, k) => assert.deepEqual(a, want[k], `n=${n} keep=${keep} output ${['p', 'm', 'v'][k]} on ${be.name}`));
      }
    }
  }
});
