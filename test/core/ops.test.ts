// Forward behaviour of the core ops on both backends: hand-computed values, shapes and seeded randomness.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../../src/core/ops/index.js';
import { setBackend, tidy } from '../../src/core/engine.js';
import type { Tensor } from '../../src/core/tensor.js';

const arr = (t: Tensor): number[] => Array.from(t.data());
const close = (a: number[], b: number[], tol = 1e-6): void => {
  assert.equal(a.length, b.length);
  a.forEach((v, i) => assert.ok(Math.abs(v - b[i]) <= tol * Math.max(1, Math.abs(b[i])), `[${i}] ${v} vs ${b[i]}`));
};

for (const backend of ['ref', 'wasm'] as const) {
  test(`data movement ops (${backend})`, () => {
    setBackend(backend);
    tidy(() => {
      const x = T.reshape(T.range(0, 24), [2, 3, 4]);
      assert.deepEqual(T.reshape(x, [4, -1]).shape, [4, 6]);
      const tr = T.transpose(x, [2, 0, 1]);
      assert.deepEqual(tr.shape, [4, 2, 3]);
      assert.deepEqual(arr(tr).slice(0, 6), [0, 4, 8, 12, 16, 20]);
      assert.deepEqual(arr(T.slice(x, [1, 1, 2], [1, 2, -1])), [18, 19, 22, 23]);
      assert.deepEqual(arr(T.pad(T.tensor([[1, 2]]), [[1, 0], [0, 1]], 9)), [9, 9, 9, 1, 2, 9]);
      assert.deepEqual(arr(T.concat([T.tensor([[1], [2]]), T.tensor([[3, 4], [5, 6]])], 1)), [1, 3, 4, 2, 5, 6]);
      assert.deepEqual(arr(T.broadcastTo(T.tensor([1, 2]), [2, 2])), [1, 2, 1, 2]);
      assert.deepEqual(T.stack([T.zeros([2]), T.ones([2])], 1).shape, [2, 2]);
      assert.deepEqual(T.squeeze(T.zeros([1, 3, 1])).shape, [3]);
      assert.deepEqual(arr(T.cast(T.tensor([-1.7, 2.9]), 'int32')), [-1, 2]);
      const ints = T.tensor(Int32Array.from([5, 6, 7, 8]), [2, 2], 'int32');
      assert.deepEqual(arr(T.transpose(ints)), [5, 7, 6, 8]);
    });
  });

  test(`arithmetic, reductions and nn ops (${backend})`, () => {
    setBackend(backend);
    tidy(() => {
      const x = T.tensor([[1, -2, 3], [-4, 5, -6]]);
      assert.deepEqual(arr(T.add(x, T.tensor([10, 20, 30]))), [11, 18, 33, 6, 25, 24]);
      assert.deepEqual(arr(T.mul(x, T.tensor([[2], [-1]]))), [2, -4, 6, 4, -5, 6]);
      assert.deepEqual(arr(T.sub(1, x)), [0, 3, -2, 5, -4, 7]);
      assert.deepEqual(arr(T.sum(x, 0)), [-3, 3, -3]);
      assert.deepEqual(T.sum(x, 1, true).shape, [2, 1]);
      assert.deepEqual(arr(T.mean(x)), [-0.5]);
      assert.deepEqual(arr(T.max(x, 1)), [3, 5]);
      assert.deepEqual(arr(T.min(x, [0, 1])), [-6]);
      assert.deepEqual(arr(T.argmax(x)), [2, 1]);
      assert.deepEqual(arr(T.argmax(x, 0)), [0, 1, 0]);
      assert.deepEqual(arr(T.where(T.greater(x, 0), x, 0)), [1, 0, 3, 0, 5, 0]);
      assert.deepEqual(arr(T.matmul(x, T.tensor([[1], [1], [1]]))), [2, -5]);
      const batched = T.matmul(T.reshape(T.range(0, 8), [2, 2, 2]), T.tensor([[1, 0], [0, 2]]));
      assert.deepEqual(arr(batched), [0, 2, 2, 6, 4, 10, 6, 14]);
      close(arr(T.softmax(T.tensor([[0, Math.log(3)]]))), [0.25, 0.75]);
      close(arr(T.logSoftmax(T.tensor([[0, Math.log(3)]]))), [Math.log(0.25), Math.log(0.75)]);
      assert.deepEqual(arr(T.biasAct(x, T.tensor([1, 1, 1]), 'relu')), [2, 0, 4, 0, 6, 0]);
      const g = T.gather(T.reshape(T.range(0, 6), [2, 3]), T.tensor(Int32Array.from([2, 0]), [2], 'int32'), 1);
      assert.deepEqual(arr(g), [2, 0, 5, 3]);
      const s = T.scatterAdd(T.ones([3]), T.tensor(Int32Array.from([1, 1, 3]), [3], 'int32'), 4);
      assert.deepEqual(arr(s), [0, 2, 0, 1]);
      assert.deepEqual(arr(T.oneHot(T.tensor(Int32Array.from([2, 0]), [2], 'int32'), 3)), [0, 0, 1, 1, 0, 0]);
      const ce = T.softmaxCrossEntropy(T.tensor([[0, 0], [0, Math.log(3)]]), T.tensor(Int32Array.from([0, 1]), [2], 'int32'));
      close([ce.item()], [(Math.log(2) - Math.log(0.75)) / 2]);
      close(arr(T.gelu(T.tensor([-1, 0, 1]))), [-0.15865525, 0, 0.84134475], 1e-5);
    });
  });

  test(`seeded random tensors are reproducible and distributed as asked (${backend})`, () => {
    setBackend(backend);
    tidy(() => {
      const a = arr(T.randomNormal([4000], { seed: 42 }));
      assert.deepEqual(a, arr(T.randomNormal([4000], { seed: 42 })));
      assert.notDeepEqual(a, arr(T.randomNormal([4000], { seed: 43 })));
      const m = a.reduce((s, v) => s + v, 0) / a.length;
      const sd = Math.sqrt(a.reduce((s, v) => s + (v - m) ** 2, 0) / a.length);
      assert.ok(Math.abs(m) < 0.05 && Math.abs(sd - 1) < 0.05, `mean ${m} sd ${sd}`);
      const t = arr(T.truncatedNormal([4000], { seed: 1, stddev: 0.5 }));
      assert.ok(t.every((v) => Math.abs(v) <= 1.0000001));
      const u = arr(T.randomUniform([4000], { seed: 2, min: -3, max: 5 }));
      assert.ok(u.every((v) => v >= -3 && v < 5));
    });
  });
}
