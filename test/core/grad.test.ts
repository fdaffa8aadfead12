// Finite-difference gradient checks for every op in the VJP table, on both backends.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Op } from '../../src/core/op-types.js';
import * as T from '../../src/core/ops/index.js';
import { Random } from '../../src/core/random.js';
import { setBackend, tidy } from '../../src/core/engine.js';
import { valueAndGrads } from '../../src/core/tape.js';
import type { Tensor } from '../../src/core/tensor.js';
import { conv2dParams, pool2dParams } from '../../src/core/shape.js';
import { checkGradients, type GradCheckOptions } from '../helpers/gradcheck.js';

/** Random float32 tensor with values in [lo, hi), optionally kept away from 0 (kinks). */
function rand(shape: number[], seed: number, lo = -1, hi = 1, awayFromZero = 0): Tensor {
  const r = new Random(seed);
  const d = Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => {
    let v = lo + (hi - lo) * r.uniform();
    if (Math.abs(v) < awayFromZero) v += v < 0 ? -awayFromZero : awayFromZero;
    return v;
  });
  return T.tensor(d, shape);
}

/** Distinct values (no ties) so max-type ops have a unique derivative. */
function distinct(shape: number[], seed: number): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const r = new Random(seed);
  const perm = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = r.int(i + 1);
    [perm[i], perm[j]] = [perm[j], perm[i]];
  }
  return T.tensor(Float32Array.from(perm, (v) => (v - n / 2) * 0.1), shape);
}

interface Case {
  f: (...xs: Tensor[]) => Tensor;
  inputs: () => Tensor[];
  options?: GradCheckOptions;
  /** The gradient is refused with an error matching this. */
  throws?: RegExp;
}

const idx = (values: number[], shape = [values.length]): Tensor => T.tensor(Int32Array.from(values), shape, 'int32');
const convP = conv2dParams('test', [2, 5, 6, 3], [3, 2, 3, 4], { strides: [2, 1], padding: 'same', dilations: 1 });
const convP2 = conv2dParams('test', [1, 7, 7, 2], [2, 2, 2, 3], { strides: 1, padding: 'valid', dilations: 2 });
const poolP = pool2dParams('test', [2, 5, 5, 3], { poolSize: 3, strides: 2, padding: 'same' });
const poolP2 = pool2dParams('test', [2, 4, 4, 4], {});

/** One case per op: the mapped type makes a missing case a compile error. */
const cases: { [K in Op]: Case } = {
  neg: { f: T.neg, inputs: () => [rand([3, 4], 1)] },
  abs: { f: T.abs, inputs: () => [rand([3, 4], 2, -1, 1, 0.1)] },
  sign: { f: T.sign, inputs: () => [rand([5], 3, -1, 1, 0.2)] },
  exp: { f: T.exp, inputs: () => [rand([2, 3, 2], 4)] },
  log: { f: T.log, inputs: () => [rand([7], 5, 0.5, 3)] },
  sqrt: { f: T.sqrt, inputs: () => [rand([7], 6, 0.5, 3)] },
  rsqrt: { f: T.rsqrt, inputs: () => [rand([7], 7, 0.5, 3)] },
  square: { f: T.square, inputs: () => [rand([3, 3], 8)] },
  reciprocal: { f: T.reciprocal, inputs: () => [rand([6], 9, 0.5, 2)] },
  relu: { f: T.relu, inputs: () => [rand([4, 5], 10, -1, 1, 0.1)] },
  step: { f: T.step, inputs: () => [rand([4], 11, -1, 1, 0.2)] },
  sigmoid: { f: T.sigmoid, inputs: () => [rand([9], 12, -3, 3)] },
  tanh: { f: T.tanh, inputs: () => [rand([9], 13, -2, 2)] },
  erf: { f: T.erf, inputs: () => [rand([9], 14, -2, 2)] },
  gelu: { f: T.gelu, inputs: () => [rand([9], 15, -3, 3)] },
  sin: { f: T.sin, inputs: () => [rand([9], 16, -3, 3)] },
  cos: { f: T.cos, inputs: () => [rand([9], 17, -3, 3)] },
  add: { f: T.add, inputs: () => [rand([2, 3, 4], 18), rand([3, 1], 19)] },
  sub: { f: T.sub, inputs: () => [rand([4], 20), rand([2, 3, 4], 21)] },
  mul: { f: T.mul, inputs: () => [rand([2, 1, 4], 22), rand([3, 1], 23)] },
  div: { f: T.div, inputs: () => [rand([2, 3], 24), rand([3], 25, 0.5, 2)] },
  pow: { f: T.pow, inputs: () => [rand([2, 3], 26, 0.5, 2), rand([3], 27, -1.5, 1.5)] },
  maximum: { f: T.maximum, inputs: () => [distinct([3, 4], 28), T.mul(distinct([4], 29), 1.37)] },
  minimum: { f: T.minimum, inputs: () => [distinct([3, 4], 30), T.mul(distinct([4], 31), 1.37)] },
  greater: { f: T.greater, inputs: () => [distinct([5], 32), T.add(distinct([5], 33), 0.05)] },
  greaterEqual: { f: T.greaterEqual, inputs: () => [distinct([5], 34), T.add(distinct([5], 35), 0.05)] },
  less: { f: T.less, inputs: () => [distinct([5], 36), T.add(distinct([5], 37), 0.05)] },
  lessEqual: { f: T.lessEqual, inputs: () => [distinct([5], 38), T.add(distinct([5], 39), 0.05)] },
  equal: { f: T.equal, inputs: () => [distinct([5], 40), T.add(distinct([5], 41), 0.05)] },
  notEqual: { f: T.notEqual, inputs: () => [distinct([5], 42), T.add(distinct([5], 43), 0.05)] },
  reluGrad: { f: T.reluGrad, inputs: () => [rand([3, 4], 49), rand([4], 50, -1, 1, 0.1)] },
  where: { f: (c, a, b) => T.where(T.greater(c, 0), a, b), inputs: () => [rand([3, 4], 44, -1, 1, 0.1), rand([3, 4], 45), rand([4], 46)] },
  matmul: { f: (a, b) => T.matmul(a, b), inputs: () => [rand([3, 5], 47), rand([5, 4], 48)] },
  conv2d: {
    f: (x, w) => T.conv2d(x, w, { strides: [2, 1], padding: 'same' }),
    inputs: () => [rand([2, 5, 6, 3], 49), rand([3, 2, 3, 4], 50)],
  },
  conv2dBiasAct: {
    f: (x, w, b) => T.conv2dBiasAct(x, w, b, 'tanh', { strides: [2, 1], padding: 'same' }),
    inputs: () => [rand([2, 5, 6, 3], 104), rand([3, 2, 3, 4], 105), rand([4], 106)],
  },
  conv2dGradInput: { f: (dy, w) => T.conv2dBackpropInput(dy, w, convP), inputs: () => [rand([2, convP.oh, convP.ow, 4], 51), rand([3, 2, 3, 4], 52)] },
  conv2dGradFilter: { f: (x, dy) => T.conv2dBackpropFilter(x, dy, convP2), inputs: () => [rand([1, 7, 7, 2], 53), rand([1, convP2.oh, convP2.ow, 3], 54)] },
  maxPool2d: { f: (x) => T.maxPool2d(x, { poolSize: 3, strides: 2, padding: 'same' }), inputs: () => [distinct([2, 5, 5, 3], 55)] },
  // Second derivatives through max pooling are refused with a clear error rather than computed wrongly.
  maxPool2dGrad: {
    f: (dy) => T.maxPool2dGrad(distinct([2, 5, 5, 3], 56), dy, poolP),
    inputs: () => [rand([2, 3, 3, 3], 57)],
    throws: /second derivatives through max pooling are not supported/,
  },
  maxPool2dBiasActGrad: {
    f: (dy) => T.add(T.maxPool2dBiasActGrad(distinct([2, 4, 4, 4], 119), dy, poolP2, 'relu')[1], 1),
    inputs: () => [rand([2, 2, 2, 4], 120)],
    throws: /second derivatives through max pooling are not supported/,
  },
  layerNorm: {
    f: (x, g, b) => T.layerNorm(x, { gamma: g, beta: b, epsilon: 1e-3 }),
    inputs: () => [rand([3, 7], 147), rand([7], 148, 0.5, 1.5), rand([7], 149)],
  },
  layerNormGrad: {
    f: (dy) => T.add(T.layerNormGrad(dy, rand([2, 5], 150), undefined, 1e-3)[0], 1),
    inputs: () => [rand([2, 5], 151)],
    throws: /second derivatives of the fused layer normalisation are not supported/,
  },
  // 2×2 pooling of a 3×3 'same' convolution (tanh: no kink at 0).
  conv2dBiasActPool: {
    f: (x, w, b) => T.conv2dBiasActPool(x, w, b, 'tanh', { padding: 'same' }),
    inputs: () => [rand([2, 4, 6, 4], 121), rand([3, 3, 4, 5], 122, -0.5, 0.5), rand([5], 123)],
  },
  avgPool2d: { f: (x) => T.avgPool2d(x, { poolSize: 3, strides: 2, padding: 'same' }), inputs: () => [rand([2, 5, 5, 3], 58)] },
  avgPool2dGrad: { f: (dy) => T.avgPool2dGrad(dy, poolP), inputs: () => [rand([2, 3, 3, 3], 59)] },
  sum: { f: (x) => T.sum(x, [0, 2]), inputs: () => [rand([2, 3, 4], 60)] },
  mean: { f: (x) => T.mean(x, 1, true), inputs: () => [rand([2, 3, 4], 61)] },
  max: { f: (x) => T.max(x, [1]), inputs: () => [distinct([3, 4, 2], 62)] },
  min: { f: (x) => T.min(x, [0, 2]), inputs: () => [distinct([3, 4, 2], 63)] },
  softmax: { f: (x) => T.softmax(x), inputs: () => [rand([3, 5], 64, -2, 2)] },
  logSoftmax: { f: (x) => T.logSoftmax(x, 0), inputs: () => [rand([4, 3], 65, -2, 2)] },
  // Seven columns (a vector of four and a tail of three); labels at both ends and in the tail.
  logSoftmaxPick: { f: (x) => T.logSoftmaxPick(x, idx([0, 6, 3, 5, 1]))[0], inputs: () => [rand([5, 7], 152, -2, 2)] },
  logSoftmaxPickGrad: {
    f: (g) => {
      const x = rand([2, 4], 153);
      const l = idx([1, 3]);
      return T.logSoftmaxPickGrad(g, x, l, T.logSoftmaxPick(x, l)[1]);
    },
    inputs: () => [rand([2], 154)],
    throws: /second derivatives of the fused sparse cross-entropy are not supported/,
  },
  // Scores [2, 2, 4, 5], causal and a mask with a fully masked query step (its row gets zeros and no gradient).
  maskedSoftmax: {
    f: (x) => T.maskedSoftmax(x, { scale: 0.7, causal: true, mask: T.tensor(Float32Array.from({ length: 40 }, (_, i) => (i % 7 === 3 || (i >= 25 && i < 30) ? 0 : 1)), [2, 4, 5]) }),
    inputs: () => [rand([2, 2, 4, 5], 136, -2, 2)],
  },
  // Fused attention, causal, odd sizes (Tq = Tv = 5, Dk = 3, Dv = 6: partial tiles everywhere).
  attention: { f: (q, k, v) => T.attention(q, k, v, { causal: true }), inputs: () => [rand([2, 5, 2, 3], 170), rand([2, 5, 2, 3], 171), rand([2, 5, 2, 6], 172)] },
  // Any y (not only a softmax's), causal: both pullbacks, the span's edge included.
  maskedSoftmaxGrad: { f: (g, y) => T.maskedSoftmaxGrad(g, y, 0.6, true), inputs: () => [rand([2, 3, 4, 5], 137), rand([2, 3, 4, 5], 138, 0, 1)] },
  gather: { f: (x) => T.gather(x, idx([2, 0, 2, 1]), 1), inputs: () => [rand([2, 3, 2], 66)] },
  scatterAdd: { f: (u) => T.scatterAdd(u, idx([1, 1, 0], [3]), 4, 0), inputs: () => [rand([3, 2], 67)] },
  biasAct: { f: (x, b) => T.biasAct(x, b, 'relu'), inputs: () => [rand([4, 3], 68, -1, 1, 0.1), rand([3], 69, -0.05, 0.05)] },
  biasActGrad: {
    f: (g, y) => {
      const [dz, db] = T.biasActGrad(g, y, 'sigmoid');
      return T.add(T.mul(dz, 1.3), db);
    },
    inputs: () => [rand([4, 3], 113), rand([4, 3], 114, 0.05, 0.95)],
  },
  reshape: { f: (x) => T.reshape(x, [3, -1]), inputs: () => [rand([2, 3, 2], 70)] },
  transpose: { f: (x) => T.transpose(x, [2, 0, 1]), inputs: () => [rand([2, 3, 4], 71)] },
  slice: { f: (x) => T.slice(x, [1, 0, 1], [1, -1, 2]), inputs: () => [rand([2, 3, 4], 72)] },
  // Pieces along a middle axis (copies); the middle piece is unused, so its gradient is null.
  split: {
    f: (x) => {
      const [a, , c] = T.split(x, [1, 3, 1], 1);
      return T.concat([T.mul(c, 3), T.square(a)], 1);
    },
    inputs: () => [rand([2, 5, 3], 79)],
  },
  pad: { f: (x) => T.pad(x, [[1, 0], [2, 1]]), inputs: () => [rand([2, 3], 73)] },
  concat: { f: (a, b) => T.concat([a, b], 1), inputs: () => [rand([2, 1, 3], 74), rand([2, 2, 3], 75)] },
  broadcastTo: { f: (x) => T.broadcastTo(x, [2, 3, 4]), inputs: () => [rand([3, 1], 76)] },
  cast: { f: (x) => T.cast(x, 'float32'), inputs: () => [rand([5], 77)] },
  fwht: { f: T.fwht, inputs: () => [rand([3, 16], 78)] },
  // LSTM over 3 steps: every output (sequence, h, c) and every input (p, u, h0, c0).
  rnnSequence: {
    f: (p, u, h0, c0) => {
      const r = T.rnnSequence(p, u, h0, { cell: 'lstm', activation: 'tanh', c0 });
      return T.concat([T.reshape(r.y, [2, -1]), r.h, T.mul(r.c!, 2)], 1);
    },
    inputs: () => [rand([2, 3, 12], 104), rand([3, 12], 105), rand([2, 3], 106), rand([2, 3], 107)],
  },
  // A gradient of a gradient through the fused recurrence is refused with a clear error.
  rnnSequenceGrad: {
    f: (p) => valueAndGrads(() => T.sum(T.rnnSequence(p, T.ones([2, 2]), T.zeros([1, 2]), { cell: 'simple', activation: 'tanh' }).y), [p]).grads[0],
    inputs: () => [rand([1, 3, 2], 108)],
    throws: /second derivatives through a fused recurrence are not supported/,
  },
};

/** Ops that need extra coverage beyond their table entry (other variants of the same rule). */
const extra: Record<string, Case> = {
  // Gradients of gradients (valueAndGrads inside valueAndGrads): the inner backward pass is itself recorded and its
  // tensors are read by the outer one.
  'a gradient of a gradient: ∂/∂(x, w) of ∂ sum(tanh(x·w))/∂x': {
    f: (x, w) => valueAndGrads(() => T.sum(T.tanh(T.matmul(x, w))), [x, w]).grads[0],
    inputs: () => [rand([3, 4], 160), rand([4, 5], 161)],
  },
  'a gradient of a gradient: ∂/∂x of ∂ sum(exp(x)·sigmoid(x)·x)/∂x, taken twice in one function': {
    f: (x) => {
      const g1 = valueAndGrads(() => T.sum(T.mul(T.mul(T.exp(x), T.sigmoid(x)), x)), [x]).grads[0];
      return T.add(g1, valueAndGrads(() => T.sum(T.mul(x, x)), [x]).grads[0]);
    },
    inputs: () => [rand([2, 5], 162)],
  },
  'attention not causal, Tq ≠ Tv, explicit scale': {
    f: (q, k, v) => T.attention(q, k, v, { scale: 0.8 }), inputs: () => [rand([1, 3, 2, 4], 173), rand([1, 9, 2, 4], 174), rand([1, 9, 2, 2], 175)],
  },
  'attention causal, Tq > Tv (rows past the keys attend to all)': {
    f: (q, k, v) => T.attention(q, k, v, { causal: true }), inputs: () => [rand([2, 7, 1, 5], 176), rand([2, 3, 1, 5], 177), rand([2, 3, 1, 3], 178)],
  },
  'packedAttention causal (one qkv [N, T, 3, H, D], its gradient packed too)': {
    f: (qkv) => T.packedAttention(qkv, { causal: true }), inputs: () => [rand([2, 6, 3, 2, 4], 179)],
  },
  'a gradient of a gradient through attention (the backward pass composed, P differentiated)': {
    f: (q, k, v) => valueAndGrads(() => T.sum(T.mul(T.attention(q, k, v, { causal: true }), v)), [q, k, v]).grads[1],
    inputs: () => [rand([1, 4, 2, 3], 180), rand([1, 4, 2, 3], 181), rand([1, 4, 2, 3], 182)],
  },
  'matmul transA': { f: (a, b) => T.matmul(a, b, true, false), inputs: () => [rand([5, 3], 80), rand([5, 4], 81)] },
  'matmul transB': { f: (a, b) => T.matmul(a, b, false, true), inputs: () => [rand([3, 5], 82), rand([4, 5], 83)] },
  'matmul both': { f: (a, b) => T.matmul(a, b, true, true), inputs: () => [rand([5, 3], 84), rand([4, 5], 85)] },
  'matmul batched with broadcast': { f: (a, b) => T.matmul(a, b), inputs: () => [rand([2, 3, 5], 86), rand([5, 2], 87)] },
  'matmul rank 4 transB (attention scores)': { f: (a, b) => T.matmul(a, b, false, true), inputs: () => [rand([2, 3, 4, 5], 130), rand([2, 3, 3, 5], 131)] },
  'matmul rank 4 transA, a rank-2 operand broadcast': { f: (a, b) => T.matmul(a, b, true, false), inputs: () => [rand([2, 2, 5, 3], 132), rand([5, 4], 133)] },
  'matmul rank 4 by a batch of one [1, 1, K, N], both transposed': { f: (a, b) => T.matmul(a, b, true, true), inputs: () => [rand([2, 3, 5, 2], 134), rand([1, 1, 4, 5], 135)] },
  'logSoftmaxPick, eight columns (no tail)': { f: (x) => T.logSoftmaxPick(x, idx([7, 0, 4]))[0], inputs: () => [rand([3, 8], 155, -3, 3)] },
  'maskedSoftmax rank 2, no mask, not causal': { f: (x) => T.maskedSoftmax(x, { scale: 1.3 }), inputs: () => [rand([3, 6], 139, -2, 2)] },
  'maskedSoftmaxGrad not causal': { f: (g, y) => T.maskedSoftmaxGrad(g, y, 1.5), inputs: () => [rand([2, 3, 7], 140), rand([2, 3, 7], 141, 0, 1)] },
  'conv2d dilation valid': { f: (x, w) => T.conv2d(x, w, { dilations: 2 }), inputs: () => [rand([1, 7, 7, 2], 88), rand([2, 2, 2, 3], 89)] },
  // The rules on small shapes (the Winograd kernels need ≥ 256 output pixels, too many for finite differences across
  // relu's and max pooling's kinks; test/backend/wasm-vs-ref-winograd.test.ts checks those kernels against ref).
  'conv2dBiasAct relu 3x3 same': {
    f: (x, w, b) => T.conv2dBiasAct(x, w, b, 'relu', { padding: 'same' }),
    inputs: () => [rand([1, 5, 4, 4], 107), rand([3, 3, 4, 5], 108, -0.5, 0.5), rand([5], 109, 0.2, 0.4)],
  },
  'conv2dBiasAct sigmoid 3x3 valid': {
    f: (x, w, b) => T.conv2dBiasAct(x, w, b, 'sigmoid'),
    inputs: () => [rand([2, 6, 5, 4], 110), rand([3, 3, 4, 4], 111, -0.5, 0.5), rand([4], 112)],
  },
  'biasActGrad tanh, db only': { f: (g, y) => T.biasActGrad(g, y, 'tanh')[1], inputs: () => [rand([5, 2], 115), rand([5, 2], 116, -0.9, 0.9)] },
  'biasActGrad relu, dz only': { f: (g, y) => T.biasActGrad(g, y, 'relu')[0], inputs: () => [rand([3, 5], 117), rand([3, 5], 118, -1, 1, 0.1)] },
  // C = 1, F = 16, no padding: the direct kernel pooling its own rows on wasm (3×3 windows, 7 → 2 rows: one left over).
  'conv2dBiasActPool direct 3x3 pool': {
    f: (x, w, b) => T.conv2dBiasActPool(x, w, b, 'sigmoid', {}, { poolSize: 3 }),
    inputs: () => [rand([1, 9, 8, 1], 124), rand([3, 3, 1, 16], 125), rand([16], 126)],
    options: { eps: 1e-3 },
  },
  // Overlapping windows: conv2dBiasAct then maxPool2d.
  'conv2dBiasActPool overlapping pool': {
    f: (x, w, b) => T.conv2dBiasActPool(x, w, b, 'linear', { strides: 2 }, { poolSize: 3, strides: 1 }),
    inputs: () => [rand([1, 9, 9, 2], 127), rand([2, 2, 2, 3], 128), rand([3], 129)],
  },
  'hardSigmoid (composed: min(max(x/6 + 1/2, 0), 1); both flat sides and the slope)': { f: (x) => T.hardSigmoid(x), inputs: () => [rand([12], 161, -5, 5)] },
  'biasAct sigmoid': { f: (x, b) => T.biasAct(x, b, 'sigmoid'), inputs: () => [rand([4, 3], 90), rand([3], 91)] },
  'layerNorm without gamma and beta, rank 3': { f: (x) => T.layerNorm(x), inputs: () => [rand([2, 3, 5], 152)] },
  'layerNorm gamma only over 1 column': { f: (x, g) => T.layerNorm(x, { gamma: g, epsilon: 0.5 }), inputs: () => [rand([4, 1], 153), rand([1], 154)] },
  'biasAct tanh': { f: (x, b) => T.biasAct(x, b, 'tanh'), inputs: () => [rand([4, 3], 92), rand([3], 93)] },
  'biasAct gelu (z over both tails and the slope\'s zero)': { f: (x, b) => T.biasAct(x, b, 'gelu'), inputs: () => [rand([4, 5], 139, -4, 4), rand([5], 140)] },
  // GELU's gradient op reads [g, x, bias]: all three pulled back (second derivatives of the fused GELU).
  'biasActGrad gelu': {
    f: (g, x, b) => {
      const [dz, db] = T.biasActGrad(g, x, 'gelu', b);
      return T.add(T.mul(dz, 1.3), db);
    },
    inputs: () => [rand([4, 3], 141), rand([4, 3], 142, -3, 3), rand([3], 143)],
  },
  'biasActGrad gelu, dz only': { f: (g, x, b) => T.biasActGrad(g, x, 'gelu', b)[0], inputs: () => [rand([3, 5], 144), rand([3, 5], 145, -3, 3), rand([5], 146)] },
  'softmaxCrossEntropy': { f: (x) => T.softmaxCrossEntropy(x, idx([2, 0, 1, 2])), inputs: () => [rand([4, 3], 94, -3, 3)] },
  'gather with duplicates axis 0': { f: (x) => T.gather(x, idx([1, 1, 0, 3, 1], [5])), inputs: () => [rand([4, 2], 95)] },
  'dense over rows [2, 3, 4]': { f: (x, w, b) => T.dense(x, w, b), inputs: () => [rand([2, 3, 4], 120), rand([4, 5], 121), rand([5], 122)] },
  'dense through a lookup (table rows < rows: table·kernel looked up), duplicate ids': {
    f: (table, w, b) => T.dense(T.gather(table, idx([2, 0, 2, 1, 2, 0], [2, 3])), w, b),
    inputs: () => [rand([3, 4], 123), rand([4, 5], 124), rand([5], 125)],
  },
  'slice leading axis (views), overlapping, plus the whole input': {
    f: (x) => T.add(T.mul(T.slice(x, [0, 0, 0], [2, -1, -1]), T.slice(x, [1, 0, 0], [2, -1, -1])), T.slice(T.square(x), [0, 0, 0], [2, 3, 2])),
    inputs: () => [rand([3, 3, 2], 97)],
  },
  'slice middle axes (copies) after the whole input, then before it': {
    f: (x) => {
      const a = T.slice(x, [0, 1, 0], [2, 2, -1]);
      const b = T.slice(x, [1, 0, 1], [1, 3, 1]);
      return T.concat([T.reshape(T.exp(a), [-1]), T.reshape(b, [-1]), T.reshape(T.square(x), [-1]), T.reshape(T.slice(x, [0, 2, 0], [2, 1, 2]), [-1])], 0);
    },
    inputs: () => [rand([2, 3, 2], 102)],
  },
  'slice leading axis before the whole input': { f: (x) => T.concat([T.slice(x, [2, 0], [1, -1]), T.mul(x, 2)], 0), inputs: () => [rand([3, 4], 103)] },
  'slice of a slice (offset view of an offset view)': { f: (x) => T.exp(T.slice(T.slice(x, [1, 0], [3, -1]), [1, 1], [1, 3])), inputs: () => [rand([5, 4], 98)] },
  'split axis 0 by count (views), one piece used twice': {
    f: (x) => {
      const [a, b, c] = T.split(x, 3);
      return T.concat([T.mul(a, b), T.mul(a, c), T.sin(a)], 0);
    },
    inputs: () => [rand([6, 1, 3], 99)],
  },
  'unstack axis 0 (views)': { f: (x) => T.stack(T.unstack(x).map((t, i) => T.mul(t, i + 1)), 1), inputs: () => [rand([3, 2, 3], 100)] },
  'unstack axis 2 (copies), odd sizes': { f: (x) => T.add(T.unstack(x, -1)[0], T.square(T.unstack(x, 2)[2])), inputs: () => [rand([3, 1, 3], 101)] },
  'maxPool2d valid 2x2': { f: (x) => T.maxPool2d(x), inputs: () => [distinct([2, 6, 5, 2], 96)] },
  'rnnSequence gru, recurrent bias, mask, reverse': {
    f: (p, u, h0, b) => {
      const mask = T.tensor([[1, 0, 1, 1], [0, 1, 1, 0]]);
      const r = T.rnnSequence(p, u, h0, { cell: 'gru', activation: 'tanh', recurrentBias: b, mask, reverse: true });
      return T.concat([T.reshape(r.y, [2, -1]), r.h], 1);
    },
    inputs: () => [rand([2, 4, 9], 109), rand([3, 9], 110), rand([2, 3], 111), rand([9], 112)],
  },
  'rnnSequence simple relu, masked, zero outputs at masked steps': {
    f: (p, u, h0) => {
      const mask = T.tensor([[0, 1, 1], [1, 1, 0], [1, 0, 1]]);
      const r = T.rnnSequence(p, u, h0, { cell: 'simple', activation: 'relu', mask, zeroOutputForMask: true });
      return T.concat([T.reshape(r.y, [3, -1]), r.h], 1);
    },
    inputs: () => [rand([3, 3, 5], 113, -1, 1, 0.2), rand([5, 5], 114, -0.3, 0.3), rand([3, 5], 115)],
  },
  'rnnSequence lstm, projections looked up in a table by ids (duplicates)': {
    f: (table, u, h0, c0) => {
      const r = T.rnnSequence(table, u, h0, { cell: 'lstm', activation: 'tanh', c0, ids: idx([2, 0, 2, 1, 1, 2], [2, 3]) });
      return T.concat([T.reshape(r.y, [2, -1]), r.h, r.c!], 1);
    },
    inputs: () => [rand([3, 8], 126), rand([2, 8], 127, -0.5, 0.5), rand([2, 2], 128), rand([2, 2], 129)],
  },
  'rnnSequence lstm, linear gates and sigmoid cell activation, masked': {
    f: (p, u, h0, c0) => {
      const mask = T.tensor([[1, 1, 0], [0, 1, 1]]);
      const r = T.rnnSequence(p, u, h0, { cell: 'lstm', activation: 'sigmoid', recurrentActivation: 'linear', c0, mask });
      return T.concat([T.reshape(r.y, [2, -1]), r.h, r.c!], 1);
    },
    inputs: () => [rand([2, 3, 8], 116), rand([2, 8], 117, -0.5, 0.5), rand([2, 2], 118), rand([2, 2], 119)],
  },
};

for (const backend of ['ref', 'wasm'] as const) {
  describe(`gradients (${backend})`, () => {
    test('setup', () => {
      setBackend(backend);
    });
    for (const [name, c] of [...Object.entries(cases), ...Object.entries(extra)]) {
      test(name, () => {
        setBackend(backend);
        tidy(() => {
          const xs = c.inputs();
          if (c.throws) assert.throws(() => checkGradients(name, c.f, xs, c.options), c.throws);
          else checkGradients(`${name} (${backend})`, c.f, xs, c.options);
        });
      });
    }
  });
}
