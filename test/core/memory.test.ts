// Deterministic memory release: tidy scopes, views, and a training loop that does not grow.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../../src/core/ops/index.js';
import { keep, memory, setBackend, tidy } from '../../src/core/engine.js';
import { valueAndGrads } from '../../src/core/tape.js';
import { DisposedError } from '../../src/core/errors.js';

for (const backend of ['ref', 'wasm'] as const) {
  test(`tidy frees everything but the result (${backend})`, () => {
    setBackend(backend);
    const before = memory();
    const y = tidy(() => {
      const a = T.ones([3, 3]);
      const b = T.add(a, 2);
      return T.mul(b, b);
    });
    assert.equal(memory().tensors, before.tensors + 1);
    assert.deepEqual(Array.from(y.f32()), new Array(9).fill(9));
    y.dispose();
    assert.deepEqual(memory(), before);
  });

  test(`views share storage and free it with the last view (${backend})`, () => {
    setBackend(backend);
    const before = memory();
    const a = T.range(0, 6);
    const v = T.reshape(a, [2, 3]);
    a.dispose();
    assert.deepEqual(Array.from(v.f32()), [0, 1, 2, 3, 4, 5]);
    assert.throws(() => a.data(), DisposedError);
    v.dispose();
    assert.deepEqual(memory(), before);
  });

  test(`a gradient of a gradient inside tidy frees everything but the result (${backend})`, () => {
    setBackend(backend);
    const x = T.tensor([1.5, -2, 0.5], [3]);
    const before = memory().tensors;
    for (let i = 0; i < 3; i++) {
      const g = tidy(() => valueAndGrads(() => T.sum(valueAndGrads(() => T.sum(T.mul(T.mul(x, x), x)), [x]).grads[0]), [x]).grads[0]);
      assert.deepEqual(Array.from(g.f32()), [9, -12, 3]); // ∂/∂x Σ 3x² = 6x
      g.dispose();
    }
    assert.equal(memory().tensors, before);
    x.dispose();
  });
  test(`a long forward+backward loop does not grow memory (${backend})`, () => {
    setBackend(backend);
    const w1 = keep(T.randomNormal([3, 3, 1, 4], { seed: 1, stddev: 0.3 }));
    const w2 = keep(T.randomNormal([36, 10], { seed: 2, stddev: 0.3 }));
    const b2 = keep(T.zeros([10]));
    const x = keep(T.randomUniform([8, 8, 8, 1], { seed: 3 }));
    const labels = keep(T.tensor(Int32Array.from({ length: 8 }, (_, i) => i % 10), [8], 'int32'));
    const step = (): void =>
      tidy(() => {
        const { grads } = valueAndGrads(() => {
          const h = T.flatten(T.maxPool2d(T.relu(T.conv2d(x, w1))));
          return T.softmaxCrossEntropy(T.biasAct(T.matmul(h, w2), b2), labels);
        }, [w1, w2, b2]);
        assert.equal(grads.length, 3);
      });
    for (let i = 0; i < 3; i++) step();
    const warm = memory();
    for (let i = 0; i < 100; i++) step();
    assert.deepEqual(memory(), warm);
    for (const t of [w1, w2, b2, x, labels]) t.dispose();
  });
}

test('numbers promoted to scalars outside any scope are freed at once', () => {
  setBackend('wasm');
  const x = T.ones([4]);
  const before = memory();
  const y = T.where(T.greater(x, 0.5), T.mul(T.add(x, 1), 2), 0);
  // Only the four op outputs (greater, add, mul, where) remain: no scalar tensors.
  assert.equal(memory().tensors, before.tensors + 4);
  assert.deepEqual(Array.from(y.f32()), [4, 4, 4, 4]);
  x.dispose();
});
