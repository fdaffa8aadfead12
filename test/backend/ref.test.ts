// Tests of the reference backend on small hand-computed cases.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Buf, Conv2DParams, DType, GemmParams, Pool2DParams } from '../../src/backend/backend.js';
import { RefBackend } from '../../src/backend/ref/ref.js';

const be = new RefBackend();

/** Uploads values as a new buffer of `dtype`. */
function up(values: number[], dtype: DType = 'float32'): Buf {
  const buf = be.alloc(values.length, dtype);
  be.write(buf, dtype === 'int32' ? Int32Array.from(values) : Float32Array.from(values));
  return buf;
}

/** Reads `n` elements as plain numbers. */
function down(buf: Buf, n: number, dtype: DType = 'float32'): number[] {
  return Array.from(be.read(buf, dtype, n));
}

/** Asserts element-wise closeness with absolute tolerance `tol`. */
function close(actual: number[], expected: number[], tol = 1e-6): void {
  assert.equal(actual.length, expected.length);
  actual.forEach((v, i) => assert.ok(Math.abs(v - expected[i]) <= tol, `[${i}] ${v} vs ${expected[i]}`));
}

const gemmP = (o: Partial<GemmParams>): GemmParams => ({
  batch: 1, m: 2, n: 2, k: 3, transA: false, transB: false, strideA: 0, strideB: 0, strideC: 0, accumulate: false, ...o,
});

test('gemm 2×3·3×2 with every transpose and accumulate', () => {
  // A = [[1,2,3],[4,5,6]], B = [[7,8],[9,10],[11,12]], A·B = [[58,64],[139,154]]
  const A = [1, 2, 3, 4, 5, 6], At = [1, 4, 2, 5, 3, 6];
  const B = [7, 8, 9, 10, 11, 12], Bt = [7, 9, 11, 8, 10, 12];
  const want = [58, 64, 139, 154];
  for (const [transA, transB] of [[false, false], [true, false], [false, true], [true, true]]) {
    const c = be.alloc(4, 'float32');
    be.gemm(up(transA ? At : A), up(transB ? Bt : B), c, gemmP({ transA, transB }));
    assert.deepEqual(down(c, 4), want, `transA=${transA} transB=${transB}`);
    be.gemm(up(A), up(B), c, gemmP({ accumulate: true }));
    assert.deepEqual(down(c, 4), want.map((v) => 2 * v));
  }
});

test('gemm batches with a broadcast operand (stride 0)', () => {
  // A_0 = I, A_1 = 2I (2×2), B shared = [[1,2],[3,4]]
  const c = be.alloc(8, 'float32');
  be.gemm(up([1, 0, 0, 1, 2, 0, 0, 2]), up([1, 2, 3, 4]), c,
    gemmP({ batch: 2, k: 2, strideA: 4, strideB: 0, strideC: 4 }));
  assert.deepEqual(down(c, 8), [1, 2, 3, 4, 2, 4, 6, 8]);
});

test('conv2d with padding and stride, and both gradients', () => {
  // x 1×3×3×1 = 1..9, w 2×2×1×1 = [1,0,0,1] (a + d of each 2×2 patch), pad 1 top/left, stride 2 → 2×2 out.
  const p: Conv2DParams = {
    n: 1, h: 3, w: 3, c: 1, f: 1, kh: 2, kw: 2, strideH: 2, strideW: 2, dilationH: 1, dilationW: 1,
    padTop: 1, padLeft: 1, oh: 2, ow: 2,
  };
  const x = up([1, 2, 3, 4, 5, 6, 7, 8, 9]);
  const w = up([1, 0, 0, 1]);
  const y = be.alloc(4, 'float32');
  be.conv2d(x, w, y, p);
  // out(0,0): window rows -1..0, cols -1..0 → 0 + x(0,0)=1; (0,1): rows -1..0 cols 1..2 → x(0,2)=3;
  // (1,0): rows 1..2 cols -1..0 → x(2,0)=7; (1,1): x(1,1)+x(2,2) = 5+9 = 14.
  assert.deepEqual(down(y, 4), [1, 3, 7, 14]);
  const dx = be.alloc(9, 'float32');
  be.conv2dGradInput(up([1, 1, 1, 1]), w, dx, p);
  assert.deepEqual(down(dx, 9), [1, 0, 1, 0, 1, 0, 1, 0, 1]);
  const dw = be.alloc(4, 'float32');
  be.conv2dGradFilter(x, up([1, 1, 1, 1]), dw, p);
  // tap (0,0) reads x(1,1)=5 only; (0,1) reads x(1,0),x(1,2)=4+6; (1,0) x(0,1),x(2,1)=2+8; (1,1) 1+3+7+9.
  assert.deepEqual(down(dw, 4), [5, 10, 10, 20]);
});

test('conv2d with dilation and two channels/filters', () => {
  // x 1×3×3×2 (channel 1 = 10× channel 0), w 2×2 dilated 2 picks the corners, C=2, F=2.
  const p: Conv2DParams = {
    n: 1, h: 3, w: 3, c: 2, f: 2, kh: 2, kw: 2, strideH: 1, strideW: 1, dilationH: 2, dilationW: 2,
    padTop: 0, padLeft: 0, oh: 1, ow: 1,
  };
  const xs: number[] = [];
  for (let i = 1; i <= 9; i++) xs.push(i, 10 * i);
  // w[kh,kw,c,f]: filter 0 = sum of channel 0, filter 1 = sum of channel 1.
  const w = up([1, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 1]);
  const y = be.alloc(2, 'float32');
  be.conv2d(up(xs), w, y, p);
  assert.deepEqual(down(y, 2), [1 + 3 + 7 + 9, 10 * (1 + 3 + 7 + 9)]);
});

const poolP: Pool2DParams = { n: 1, h: 3, w: 3, c: 1, kh: 2, kw: 2, strideH: 2, strideW: 2, padTop: 1, padLeft: 1, oh: 2, ow: 2 };

test('max pooling with padding: padded cells never win, grad goes to the first max', () => {
  const x = up([-1, -2, -3, -4, -5, -6, -7, -8, -9]);
  const y = be.alloc(4, 'float32');
  be.maxPool2d(x, y, poolP);
  assert.deepEqual(down(y, 4), [-1, -2, -4, -5]);
  const dx = be.alloc(9, 'float32');
  be.maxPool2dGrad(x, up([1, 2, 3, 4]), dx, poolP);
  assert.deepEqual(down(dx, 9), [1, 2, 0, 3, 4, 0, 0, 0, 0]);
  // ties: 2×2 window over equal values routes to the first cell in window order.
  const tieP = { ...poolP, h: 2, w: 2, padTop: 0, padLeft: 0, oh: 1, ow: 1 };
  const dx2 = be.alloc(4, 'float32');
  be.maxPool2dGrad(up([7, 7, 7, 7]), up([5]), dx2, tieP);
  assert.deepEqual(down(dx2, 4), [5, 0, 0, 0]);
  // NaN propagates and counts as maximal.
  be.maxPool2d(up([1, NaN, 3, 4]), y, tieP);
  assert.ok(Number.isNaN(down(y, 1)[0]));
});

test('avg pooling with padding counts valid cells only', () => {
  const y = be.alloc(4, 'float32');
  be.avgPool2d(up([1, 2, 3, 4, 5, 6, 7, 8, 9]), y, poolP);
  // windows: {1}, {2,3}, {4,7}, {5,6,8,9}
  assert.deepEqual(down(y, 4), [1, 2.5, 5.5, 7]);
  const dx = be.alloc(9, 'float32');
  be.avgPool2dGrad(up([1, 2, 4, 8]), dx, poolP);
  assert.deepEqual(down(dx, 9), [1, 1, 1, 2, 2, 2, 2, 2, 2]);
});

test('softmax rows sum to 1, log-softmax matches, huge inputs stay finite', () => {
  const x = up([1, 2, 3, 1000, 1000, 1000, -5, 0, 5]);
  const y = be.alloc(9, 'float32');
  be.softmax(x, y, 3, 3, false);
  const v = down(y, 9);
  for (let r = 0; r < 3; r++) close([v[3 * r] + v[3 * r + 1] + v[3 * r + 2]], [1], 1e-6);
  close(v.slice(3, 6), [1 / 3, 1 / 3, 1 / 3]);
  const e = [Math.exp(1), Math.exp(2), Math.exp(3)];
  const s = e[0] + e[1] + e[2];
  close(v.slice(0, 3), e.map((t) => t / s));
  be.softmax(x, y, 3, 3, true);
  close(down(y, 3), e.map((t) => Math.log(t / s)));
});

test('gather and scatterAdd: duplicates, word copies of int32, first bad index position', () => {
  // x [2 outer, 3 axis, 2 inner]
  const x = up([0, 1, 2, 3, 4, 5, 10, 11, 12, 13, 14, 15], 'int32');
  const y = be.alloc(12, 'int32');
  assert.equal(be.gather(x, up([2, 0, 2], 'int32'), y, 2, 3, 2, 3), -1);
  assert.deepEqual(down(y, 12, 'int32'), [4, 5, 0, 1, 4, 5, 14, 15, 10, 11, 14, 15]);
  assert.equal(be.gather(x, up([0, 3, -1], 'int32'), y, 2, 3, 2, 3), 1);
  assert.equal(be.gather(x, up([0, 1, -1], 'int32'), y, 2, 3, 2, 3), 2);
  const acc = up([0, 0, 0]);
  assert.equal(be.scatterAdd(up([1, 2, 4]), up([1, 1, 0], 'int32'), acc, 1, 3, 1, 3), -1);
  assert.deepEqual(down(acc, 3), [4, 3, 0]);
  assert.equal(be.scatterAdd(up([1, 2]), up([0, 3], 'int32'), acc, 1, 3, 1, 2), 1);
});

test('binary broadcasting: row, column, scalar', () => {
  const a = up([1, 2, 3, 4, 5, 6]); // [2,3]
  const y = be.alloc(6, 'float32');
  be.binary('add', a, up([10, 20, 30]), y, { shape: [2, 3], strides: [[3, 1], [0, 1]] });
  assert.deepEqual(down(y, 6), [11, 22, 33, 14, 25, 36]);
  be.binary('sub', a, up([1, 2]), y, { shape: [2, 3], strides: [[3, 1], [1, 0]] });
  assert.deepEqual(down(y, 6), [0, 1, 2, 2, 3, 4]);
  be.binary('mul', up([2]), a, y, { shape: [2, 3], strides: [[0, 0], [3, 1]] });
  assert.deepEqual(down(y, 6), [2, 4, 6, 8, 10, 12]);
  be.binary('greaterEqual', a, up([3]), y, { shape: [2, 3], strides: [[3, 1], [0, 0]] });
  assert.deepEqual(down(y, 6), [0, 0, 1, 1, 1, 1]);
  const nan = up([NaN, 1, 2]);
  be.binary('maximum', nan, up([0]), y, { shape: [3], strides: [[1], [0]] });
  assert.ok(Number.isNaN(down(y, 1)[0]));
  be.binary('notEqual', nan, nan, y, { shape: [3], strides: [[1], [1]] });
  assert.deepEqual(down(y, 3), [1, 0, 0]);
  be.binary('pow', up([1, NaN, -1]), up([NaN, 0, Infinity]), y, { shape: [3], strides: [[1], [1]] });
  assert.deepEqual(down(y, 3), [1, 1, 1]);
});

test('unary ops, including exact gelu/erf and NaN/Inf', () => {
  const x = up([-2, -0.5, 0, 0.5, 2, NaN, Infinity, -Infinity]);
  const y = be.alloc(8, 'float32');
  const run = (op: Parameters<RefBackend['unary']>[0]) => {
    be.unary(op, x, y, 8);
    return down(y, 8);
  };
  close(run('erf').slice(0, 5), [-0.9953222650189527, -0.5204998778130465, 0, 0.5204998778130465, 0.9953222650189527]);
  close(run('gelu').slice(0, 5), [-0.04550026389635842, -0.15426876936299347, 0, 0.34573123063700653, 1.9544997361036416]);
  assert.deepEqual(run('relu').slice(0, 5), [0, 0, 0, 0.5, 2]);
  assert.deepEqual(run('step'), [0, 0, 0, 1, 1, 0, 1, 0]);
  const g = run('gelu');
  assert.ok(Number.isNaN(g[5]) && g[6] === Infinity && g[7] === 0);
  const s = run('sigmoid');
  assert.ok(Number.isNaN(s[5]) && s[6] === 1 && s[7] === 0);
  assert.ok(Number.isNaN(run('relu')[5]));
  assert.deepEqual(run('sign').slice(0, 5), [-1, -1, 0, 1, 1]);
});

test('reduce on each axis, argmax first max and NaN, where', () => {
  // x [2,3] = [[1,5,5],[NaN,2,0]]
  const x = up([1, 5, 5, NaN, 2, 0]);
  const y = be.alloc(3, 'float32');
  be.reduce('sum', up([1, 2, 3, 4, 5, 6]), y, 1, 2, 3);
  assert.deepEqual(down(y, 3), [5, 7, 9]);
  be.reduce('mean', up([1, 2, 3, 4, 5, 6]), y, 2, 3, 1);
  assert.deepEqual(down(y, 2), [2, 5]);
  be.reduce('max', x, y, 2, 3, 1);
  const m = down(y, 2);
  assert.ok(m[0] === 5 && Number.isNaN(m[1]));
  be.reduce('min', x, y, 1, 2, 3);
  const mn = down(y, 3);
  assert.ok(Number.isNaN(mn[0]) && mn[1] === 2 && mn[2] === 0);
  const idx = be.alloc(3, 'int32');
  be.argmax(x, idx, 2, 3, 1);
  assert.deepEqual(down(idx, 2, 'int32'), [1, 0]);
  be.argmax(x, idx, 1, 2, 3);
  assert.deepEqual(down(idx, 3, 'int32'), [1, 0, 0]);
  const w = be.alloc(4, 'float32');
  be.where(up([1, 0]), up([1, 2, 3, 4]), up([-1]), w, { shape: [2, 2], strides: [[1, 0], [2, 1], [0, 0]] });
  assert.deepEqual(down(w, 4), [1, 2, -1, -1]);
});

test('biasAct, copy (transpose), fill, cast', () => {
  const y = be.alloc(6, 'float32');
  be.biasAct(up([1, -2, 3, -4, 5, -6]), up([1, 1, 1]), y, 2, 3, 'relu');
  assert.deepEqual(down(y, 6), [2, 0, 4, 0, 6, 0]);
  // transpose [2,3] → [3,2] on int32 words and on NaN float bits
  const t = be.alloc(6, 'int32');
  be.copy(up([1, 2, 3, 4, 5, 6], 'int32'), t, { shape: [3, 2], srcStrides: [1, 3], srcOffset: 0, dstStrides: [2, 1], dstOffset: 0 });
  assert.deepEqual(down(t, 6, 'int32'), [1, 4, 2, 5, 3, 6]);
  be.fill(t, 'int32', 6, 7);
  assert.deepEqual(down(t, 6, 'int32'), [7, 7, 7, 7, 7, 7]);
  be.cast(up([1.9, -1.9, -0.5, NaN, 3e9, -3e9]), 'float32', t, 'int32', 6);
  assert.deepEqual(down(t, 6, 'int32'), [1, -1, 0, 0, 2147483647, -2147483648]);
  be.cast(up([16777217, -3], 'int32'), 'int32', y, 'float32', 2);
  assert.deepEqual(down(y, 2), [16777216, -3]);
});

test('alloc validates length, bytesInUse tracks live buffers, free rejects unknown handles', () => {
  const fresh = new RefBackend();
  assert.throws(() => fresh.alloc(-1, 'float32'), /non-negative integer/);
  assert.throws(() => fresh.alloc(2.5, 'float32'), /non-negative integer/);
  const a = fresh.alloc(10, 'float32');
  const b = fresh.alloc(3, 'int32');
  assert.equal(fresh.bytesInUse(), 52);
  fresh.free(a);
  assert.equal(fresh.bytesInUse(), 12);
  assert.throws(() => fresh.free(a), /unknown or freed/);
  fresh.free(b);
  assert.equal(fresh.bytesInUse(), 0);
});
