// Offset views: slice without a copy, split and unstack (values, shared memory, leaks) and the O(T) backward of a time loop.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { BinaryOp, Broadcast, Buf, CopyParams, DType } from '../../src/backend/backend.js';
import { RefBackend } from '../../src/backend/ref/ref.js';
import { memory, setBackend, tidy } from '../../src/core/engine.js';
import { ShapeError } from '../../src/core/errors.js';
import * as T from '../../src/core/ops/index.js';
import { sizeOf, stridesOf } from '../../src/core/shape.js';
import { valueAndGrads } from '../../src/core/tape.js';
import { assign, type Tensor, viewAt } from '../../src/core/tensor.js';

/** The block of row-major `data` of `shape` at `begin` of extent `size`, by plain index arithmetic. */
function refBlock(data: ArrayLike<number>, shape: number[], begin: number[], size: number[]): number[] {
  const st = stridesOf(shape);
  const out: number[] = [];
  const walk = (d: number, off: number): void => {
    if (d === shape.length) out.push(data[off]);
    else for (let i = 0; i < size[d]; i++) walk(d + 1, off + (begin[d] + i) * st[d]);
  };
  walk(0, 0);
  return out;
}

/** 0, 1, … as a tensor of `shape`. */
const iota = (shape: number[]): Tensor => tidy(() => T.reshape(T.range(0, sizeOf(shape)), shape));

for (const backend of ['ref', 'wasm'] as const) {
  test(`slice: a view when only leading axes are cut, a copy otherwise; values as index arithmetic (${backend})`, () => {
    setBackend(backend);
    const before = memory();
    tidy(() => {
      for (const [shape, begin, size, isView] of [
        [[3, 4, 5], [1, 0, 0], [1, 4, 5], true],
        [[3, 4, 5], [1, 0, 0], [2, 4, 5], true],
        [[3, 4, 5], [1, 2, 0], [1, 2, 5], true],
        [[3, 4, 5], [2, 3, 1], [1, 1, 3], true],
        [[3, 4, 5], [0, 0, 0], [3, 4, 5], true],
        [[1, 4, 5], [0, 1, 0], [1, 3, 5], true],
        [[3, 4, 5], [0, 1, 0], [2, 2, 5], false],
        [[3, 4, 5], [1, 0, 1], [1, 4, 3], false],
        [[3, 1, 5], [0, 0, 2], [3, 1, 1], false],
        [[7], [6], [1], true],
        [[3, 4], [1, 0], [0, 4], false],
      ] as [number[], number[], number[], boolean][]) {
        const x = iota(shape);
        const y = T.slice(x, begin, size);
        const label = `[${shape}] at [${begin}] size [${size}]`;
        assert.deepEqual(y.shape, size, label);
        assert.equal(y.storage === x.storage, isView, `${label}: view?`);
        assert.deepEqual(Array.from(y.f32()), refBlock(x.f32(), shape, begin, size), label);
      }
    });
    assert.deepEqual(memory(), before);
  });

  test(`split and unstack: pieces, views along leading axes, copies elsewhere; bad sizes throw (${backend})`, () => {
    setBackend(backend);
    const before = memory();
    tidy(() => {
      const x = iota([3, 4, 5]);
      const d = x.f32();
      const check = (ys: Tensor[], begins: number[][], sizes: number[][], shapes: number[][], views: boolean): void => {
        assert.equal(ys.length, begins.length);
        ys.forEach((y, i) => {
          assert.deepEqual(y.shape, shapes[i]);
          assert.equal(y.storage === x.storage, views, `piece ${i} view?`);
          assert.deepEqual(Array.from(y.f32()), refBlock(d, [3, 4, 5], begins[i], sizes[i]), `piece ${i}`);
        });
      };
      check(T.split(x, [1, 2]), [[0, 0, 0], [1, 0, 0]], [[1, 4, 5], [2, 4, 5]], [[1, 4, 5], [2, 4, 5]], true);
      check(T.split(x, 2, 1), [[0, 0, 0], [0, 2, 0]], [[3, 2, 5], [3, 2, 5]], [[3, 2, 5], [3, 2, 5]], false);
      check(T.split(x, [2, 0, 3], -1), [[0, 0, 0], [0, 0, 2], [0, 0, 2]], [[3, 4, 2], [3, 4, 0], [3, 4, 3]], [[3, 4, 2], [3, 4, 0], [3, 4, 3]], false);
      check(T.unstack(x), [0, 1, 2].map((t) => [t, 0, 0]), [0, 1, 2].map(() => [1, 4, 5]), [0, 1, 2].map(() => [4, 5]), true);
      check(T.unstack(x, 2), [0, 1, 2, 3, 4].map((t) => [0, 0, t]), [0, 1, 2, 3, 4].map(() => [3, 4, 1]), [0, 1, 2, 3, 4].map(() => [3, 4]), false);
      // Axes before the split axis of size 1: still views.
      const one = iota([1, 3, 1]);
      const rows = T.unstack(one, 1);
      assert.ok(rows.every((r) => r.storage === one.storage && r.rank === 2));
      assert.deepEqual(rows.map((r) => r.item()), [0, 1, 2]);
      assert.deepEqual(T.split(one, 1).map((p) => p.shape), [[1, 3, 1]]);
      // stack(unstack(x)) round-trips.
      assert.deepEqual(Array.from(T.stack(T.unstack(x, 1), 1).f32()), Array.from(d));
      assert.throws(() => T.split(x, 2), ShapeError);
      assert.throws(() => T.split(x, [1, 1]), ShapeError);
      assert.throws(() => T.split(x, [4, -1]), ShapeError);
      assert.throws(() => T.unstack(x, 3), ShapeError);
    });
    assert.deepEqual(memory(), before);
  });

  test(`views keep their storage alive after the base is disposed; assign writes through (${backend})`, () => {
    setBackend(backend);
    const before = memory();
    const x = iota([4, 3]);
    const rows = T.unstack(x);
    const [, row1, row2] = rows;
    const tail = T.slice(x, [2, 0], [2, -1]);
    const inner = viewAt(tail, 1, [2]);
    x.dispose();
    assert.deepEqual(Array.from(row1.f32()), [3, 4, 5]);
    assert.deepEqual(Array.from(inner.f32()), [7, 8]);
    tidy(() => void assign(row2, T.tensor([-1, -2, -3])));
    assert.deepEqual(Array.from(tail.f32()), [-1, -2, -3, 9, 10, 11]);
    assert.deepEqual(Array.from(inner.f32()), [-2, -3]);
    // Overlapping views of one storage: assign copies through a temporary.
    tidy(() => void assign(T.slice(tail, [1, 0], [1, -1]), T.reshape(row2, [1, 3])));
    assert.deepEqual(Array.from(tail.f32()), [-1, -2, -3, -1, -2, -3]);
    const shifted = viewAt(tail, 1, [4]);
    tidy(() => void assign(shifted, viewAt(tail, 0, [4])));
    assert.deepEqual(Array.from(tail.f32()), [-1, -1, -2, -3, -1, -3]);
    assert.throws(() => viewAt(tail, 3, [4]), RangeError);
    for (const t of [tail, inner, shifted]) t.dispose();
    assert.ok(memory().bytes > before.bytes, 'the rows still hold the storage');
    for (const t of rows) t.dispose();
    assert.deepEqual(memory(), before);
  });

  test(`backward through slices, split and unstack frees everything but the gradients (${backend})`, () => {
    setBackend(backend);
    const x = T.randomNormal([5, 3, 4], { seed: 1 });
    const before = memory();
    const g = tidy(() => {
      const { value, grads } = valueAndGrads(() => {
        const [a, b] = T.split(x, [2, 3]);
        const cols = T.unstack(x, 2);
        let h = T.mul(T.sum(a, 0), T.sum(b, 0));
        for (let t = 0; t < 5; t++) h = T.add(h, T.tanh(T.reshape(T.slice(x, [t, 0, 0], [1, -1, -1]), [3, 4])));
        return T.add(T.sum(h), T.sum(T.square(cols[1])));
      }, [x]);
      value.dispose();
      return grads[0];
    });
    assert.equal(memory().tensors, before.tensors + 1);
    g.dispose();
    assert.deepEqual(memory(), before);
    x.dispose();
  });

  test(`gradients shared between inputs are never summed into in place (${backend})`, () => {
    setBackend(backend);
    tidy(() => {
      // add's rule hands the same tensor to both inputs; each input then gets further contributions.
      const x = T.tensor([1, 2, 3]);
      const w = T.tensor([4, 5, 6]);
      const c = T.tensor([0.5, -1, 2]);
      const { grads } = valueAndGrads(
        () => T.add(T.add(T.sum(T.mul(T.add(x, w), c)), T.sum(T.mul(x, 3))), T.add(T.sum(T.mul(w, 5)), T.sum(T.slice(x, [1], [2])))),
        [x, w],
      );
      assert.deepEqual(Array.from(grads[0].f32()), [3.5, 3, 6]);
      assert.deepEqual(Array.from(grads[1].f32()), [5.5, 4, 7]);
      // The user's tensors are untouched.
      assert.deepEqual(Array.from(c.f32()), [0.5, -1, 2]);
      assert.deepEqual(Array.from(x.f32()), [1, 2, 3]);
    });
  });
}

/** The reference backend, counting the elements it allocates, copies and combines (a proxy for work). */
class CountingBackend extends RefBackend {
  elements = 0;
  override alloc(length: number, dtype: DType): Buf {
    this.elements += length;
    return super.alloc(length, dtype);
  }
  override copy(x: Buf, y: Buf, p: CopyParams): void {
    this.elements += sizeOf(p.shape);
    super.copy(x, y, p);
  }
  override binary(op: BinaryOp, a: Buf, b: Buf, y: Buf, bc: Broadcast): void {
    this.elements += sizeOf(bc.shape);
    super.binary(op, a, b, y, bc);
  }
  override fill(y: Buf, dtype: DType, n: number, value: number): void {
    this.elements += n;
    super.fill(y, dtype, n, value);
  }
}

/** Elements touched by the forward and the backward pass of a T-step loop over x[T,4,8] (x[t] by slice or unstack). */
function loopCost(steps: number, by: 'slice' | 'unstack'): { forward: number; backward: number } {
  const be = new CountingBackend();
  setBackend(be);
  try {
    return tidy(() => {
      const x = T.randomUniform([steps, 4, 8], { seed: steps });
      const start = be.elements;
      let forward = 0;
      valueAndGrads(() => {
        const xs = by === 'unstack' ? T.unstack(x) : Array.from({ length: steps }, (_, t) => T.reshape(T.slice(x, [t, 0, 0], [1, -1, -1]), [4, 8]));
        let h = T.zeros([4, 8]);
        for (const xt of xs) h = T.tanh(T.add(T.mul(h, 0.5), xt));
        forward = be.elements - start;
        return T.sum(h);
      }, [x]);
      return { forward, backward: be.elements - start - forward };
    });
  } finally {
    setBackend('ref');
  }
}

test('the forward and backward passes of a T-step slice / unstack loop are linear in T (elements touched, not time)', () => {
  for (const by of ['slice', 'unstack'] as const) {
    const costs = [32, 64, 128].map((steps) => loopCost(steps, by));
    for (let i = 1; i < costs.length; i++) {
      for (const pass of ['forward', 'backward'] as const) {
        const ratio = costs[i][pass] / costs[i - 1][pass];
        // Linear: doubling T doubles the work (≈ 2); a full-size pad per slice would make it ≈ 4.
        assert.ok(ratio > 1.8 && ratio < 2.2, `${by} ${pass}: T ${32 << (i - 1)} → ${32 << i} multiplies the elements touched by ${ratio.toFixed(2)}`);
      }
    }
  }
});
