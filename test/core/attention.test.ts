// The fused maskedSoftmax against its composition (Keras' masked Softmax: add −1e9 where masked, softmax, multiply by the mask), forward and backward.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { memory, setBackend, tidy } from '../../src/core/engine.js';
import * as T from '../../src/core/ops/index.js';
import { valueAndGrads } from '../../src/core/tape.js';
import type { Tensor } from '../../src/core/tensor.js';
import { compareClose, relTol } from '../helpers/compare.js';
import { Rng } from '../helpers/random.js';

/** softmax(scale·x + (1 − m)·(−1e9))·m with m = mask [N, Tq, Tv] · causal [1, Tq, Tv], broadcast over the heads. */
function composed(x: Tensor, scale: number, causal: boolean, mask?: Tensor): Tensor {
  const [tq, tv] = x.shape.slice(-2);
  const parts = [...(mask ? [mask] : []), ...(causal ? [T.causalMask(tq, tv)] : [])];
  const z = T.mul(x, scale);
  if (!parts.length) return T.softmax(z);
  const m = T.expandDims(parts.length === 2 ? T.mul(parts[0], parts[1]) : parts[0], 1);
  return T.mul(T.softmax(T.add(z, T.mul(T.sub(1, m), -1e9))), m);
}

for (const backend of ['ref', 'wasm'] as const) {
  describe(`maskedSoftmax (${backend})`, () => {
    test('equals the composition of Keras\' masked softmax, and so does its gradient, for causal, masked and empty rows', () => {
      setBackend(backend);
      const before = memory().tensors;
      const rng = new Rng(4);
      for (const [n, h, tq, tv] of [[2, 3, 5, 7], [1, 2, 6, 6], [3, 1, 4, 9]]) {
        for (const causal of [false, true]) {
          for (const masked of [false, true]) {
            tidy(() => {
              const x = T.tensor(rng.normals(n * h * tq * tv, 2), [n, h, tq, tv]);
              const mask = masked ? T.tensor(Float32Array.from(rng.uniforms(n * tq * tv), (u, i) => (u < 0.25 || i < tv ? 0 : 1)), [n, tq, tv]) : undefined;
              const r = T.tensor(rng.normals(x.size), x.shape);
              const label = `[${x.shape}] causal=${causal} mask=${masked}`;
              const fused = valueAndGrads(() => T.sum(T.mul(T.maskedSoftmax(x, { scale: 0.4, causal, mask }), r)), [x]);
              const comp = valueAndGrads(() => T.sum(T.mul(composed(x, 0.4, causal, mask), r)), [x]);
              const y = T.maskedSoftmax(x, { scale: 0.4, causal, mask }).f32();
              const yc = composed(x, 0.4, causal, mask).f32();
              const cy = compareClose(y, yc, relTol(2e-6, 1e-7));
              assert.equal(cy.message, undefined, `${label}: y ${cy.message}`);
              // Masked entries are exact zeros in both.
              yc.forEach((v, i) => { if (v === 0) assert.equal(y[i], 0, `${label}: y[${i}] should be 0`); });
              const cg = compareClose(fused.grads[0].f32(), comp.grads[0].f32(), relTol(1e-5, 1e-6));
              assert.equal(cg.message, undefined, `${label}: dx ${cg.message}`);
            });
          }
        }
      }
      assert.equal(memory().tensors, before, 'tensors leaked');
    });

    test('checks the mask\'s shape and the scores\' rank', () => {
      setBackend(backend);
      tidy(() => {
        assert.throws(() => T.maskedSoftmax(T.zeros([2, 3, 4, 5]), { mask: T.ones([2, 5, 4]) }), /maskedSoftmax.*mask \[2,5,4\] does not fit scores \[2,3,4,5\]: expected \[2,4,5\]/);
        assert.throws(() => T.maskedSoftmax(T.zeros([5])), /needs scores \[\.\.\., Tq, Tv\] of rank ≥ 2, got \[5\]/);
      });
    });
  });
}
