// `dense` (x·kernel + bias over the last axis): through an Embedding-style lookup it multiplies the table, not the rows.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { GemmParams } from '../../src/backend/backend.js';
import { getBackend, setBackend, tidy } from '../../src/core/engine.js';
import * as T from '../../src/core/ops/index.js';
import { valueAndGrads } from '../../src/core/tape.js';
import { assign, type Tensor } from '../../src/core/tensor.js';
import { SGD } from '../../src/optim/index.js';
import { compareBits, compareClose, relTol } from '../helpers/compare.js';
import { Rng } from '../helpers/random.js';

/** Runs f with every GEMM's row count recorded. */
function gemmRows<R>(f: () => R): { result: R; rows: number[] } {
  const be = getBackend();
  const own = Object.getOwnPropertyDescriptor(be, 'gemm');
  const gemm = be.gemm.bind(be);
  const rows: number[] = [];
  be.gemm = (a, b, c, p: GemmParams) => {
    rows.push(p.m);
    gemm(a, b, c, p);
  };
  try {
    return { result: f(), rows };
  } finally {
    if (own) Object.defineProperty(be, 'gemm', own);
    else delete (be as { gemm?: unknown }).gemm;
  }
}

for (const backend of ['ref', 'wasm'] as const) {
  test(`dense through a lookup multiplies the table's 7 rows instead of 2×9: the same outputs, gradients within rounding (${backend})`, () => {
    setBackend(backend);
    tidy(() => {
      const rng = new Rng(5);
      const table = T.tensor(rng.uniforms(7 * 6, -1, 1), [7, 6]);
      const kernel = T.tensor(rng.uniforms(6 * 10, -1, 1), [6, 10]);
      const bias = T.tensor(rng.uniforms(10, -1, 1), [10]);
      const ids = T.tensor(Int32Array.from({ length: 18 }, (_, i) => (i * 5) % 7), [2, 9], 'int32');
      const weights = T.tensor(rng.uniforms(2 * 9 * 10, -1, 1), [2, 9, 10]);
      // mul(x, 1) is the same x but not a lookup: the plain path over all 18 rows.
      const run = (lookup: boolean): { y: Tensor; grads: Tensor[] } => {
        let y: Tensor | undefined;
        const { grads } = valueAndGrads(() => {
          const x = T.gather(table, ids, 0);
          y = T.dense(lookup ? x : T.mul(x, 1), kernel, bias);
          return T.sum(T.mul(y, weights));
        }, [table, kernel, bias]);
        return { y: y!, grads };
      };
      const folded = gemmRows(() => run(true));
      const plain = gemmRows(() => run(false));
      assert.deepEqual(folded.rows.slice(0, 1), [7], 'forward GEMM over the table rows');
      assert.deepEqual(plain.rows.slice(0, 1), [18], 'forward GEMM over every row');
      assert.deepEqual(folded.result.y.shape, [2, 9, 10]);
      // Each row's sum is the same sequence of products, so the outputs agree to the bit.
      assert.equal(compareBits(folded.result.y.f32(), plain.result.y.f32()).message, undefined);
      ['table', 'kernel', 'bias'].forEach((name, i) => {
        // The backward sums the 18 rows in another order: float32 rounding of sums of ≤ 18 terms.
        const cmp = compareClose(folded.result.grads[i].f32(), plain.result.grads[i].f32(), relTol(1e-5, 1e-5));
        assert.equal(cmp.message, undefined, `∂/∂${name}: ${cmp.message}`);
      });
    });
  });

  test(`dense: a lookup whose table was written in place since (assign, an optimizer step) is multiplied as it is (${backend})`, () => {
    setBackend(backend);
    tidy(() => {
      const table = T.tensor([[1, 2], [3, 4]]);
      const kernel = T.tensor([[1, 0, 1], [0, 1, 1]]);
      const x = T.gather(table, T.tensor(Int32Array.from([1, 0, 1]), [3], 'int32'));
      assert.ok(T.lookupOf(x), 'a fresh lookup');
      assign(table, T.tensor([[9, 9], [9, 9]]));
      assert.equal(T.lookupOf(x), undefined, 'stale after assign');
      const looked = gemmRows(() => T.dense(x, kernel));
      assert.deepEqual(looked.rows, [3]);
      assert.deepEqual(Array.from(looked.result.data()), [3, 4, 7, 1, 2, 3, 3, 4, 7]);
      const y = T.gather(table, T.tensor(Int32Array.from([0, 0, 1]), [3], 'int32'));
      new SGD({ learningRate: 0.1 }).step([table], [T.onesLike(table)]);
      assert.equal(T.lookupOf(y), undefined, 'stale after an optimizer step');
    });
  });

  test(`dense: a lookup with as many table rows as rows, and plain inputs, take the plain path; shapes are checked (${backend})`, () => {
    setBackend(backend);
    tidy(() => {
      const table = T.ones([4, 3]);
      const kernel = T.ones([3, 2]);
      const looked = gemmRows(() => T.dense(T.gather(table, T.tensor(Int32Array.from([0, 1, 2, 3]), [4], 'int32')), kernel));
      assert.deepEqual(looked.rows, [4]);
      assert.deepEqual(Array.from(looked.result.data()), [3, 3, 3, 3, 3, 3, 3, 3]);
      assert.deepEqual(T.dense(T.ones([2, 3, 3]), kernel, T.tensor([1, -1])).shape, [2, 3, 2]);
      assert.throws(() => T.dense(T.ones([2, 4]), kernel), /dense: needs x \[\.\.\., K\] and kernel \[K, M\], got x \[2,4\] and kernel \[3,2\]/);
    });
  });
}
