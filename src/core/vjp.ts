// The vector-Jacobian table: one rule per op; the mapped type makes a missing rule a compile error.
import type { OutputActivation } from '../backend/backend.js';
import { NotDifferentiableError } from './errors.js';
import { BlockGrad } from './grad-store.js';
import type { MultiOutputOp, Op, OpAttrs } from './op-types.js';
import {
  avgPool2dGrad, avgPool2dWith, conv2dBackpropFilter, conv2dBackpropInput, conv2dWith, maxPool2dBiasActGrad, maxPool2dGrad,
} from './ops/conv.js';
import {
  add, cast, cos, div, equal, erf, exp, greaterEqual, lessEqual, log, mul, neg, pow, reluGrad, sign, sin, square, sub, where,
} from './ops/elementwise.js';
import { attentionVjp, causalMask, maskedSoftmaxGrad } from './ops/attention.js';
import { matmul } from './ops/linalg.js';
import { fwht } from './ops/fwht.js';
import { layerNormGrad } from './ops/norm.js';
import { biasActGrad, biasGeluSlopeGrad, gather, logSoftmaxPickGrad, scatterAdd } from './ops/nn.js';
import { rnnSequenceGrad } from './ops/recurrent.js';
import { sum } from './ops/reduce.js';
import { recording } from './tape.js';
import { zerosLike } from './ops/creation.js';
import { broadcastTo, concat, reshape, slice, sumToShape, transpose } from './ops/shape-ops.js';
import type { Tensor } from './tensor.js';

/** ∂L/∂input as a rule returns it: a tensor of the input's shape, one nonzero only on a block, or null (zero). */
export type InputGrad = Tensor | BlockGrad | null;

/**
 * Given ∂L/∂output, the op's inputs, output and attributes, returns ∂L/∂input for each input.
 * `needs[i]` is false when nobody wants input i's gradient: costly rules skip it (returning null).
 */
export type SingleVjpRule<K extends Op> = (g: Tensor, inputs: readonly Tensor[], y: Tensor, attrs: OpAttrs[K], needs: readonly boolean[]) => InputGrad[];

/** The rule of a multi-output op: one ∂L/∂output per output (null where an output got none). */
export type MultiVjpRule<K extends Op> = (
  gs: readonly (Tensor | null)[], inputs: readonly Tensor[], ys: readonly Tensor[], attrs: OpAttrs[K], needs: readonly boolean[],
) => InputGrad[];

/** The rule of op K: single- or multi-output. */
export type VjpRule<K extends Op> = K extends MultiOutputOp ? MultiVjpRule<K> : SingleVjpRule<K>;

const none = (): (Tensor | null)[] => [null, null, null];
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

/** Shape of a reduction's output with the reduced axes kept as size 1. */
function keptShape(x: Tensor, axes: readonly number[]): number[] {
  return x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
}

/** ∂L/∂z of y = act(z) (biasAct's activations) from g = ∂L/∂y and y. */
function actGrad(g: Tensor, y: Tensor, act: OutputActivation): Tensor {
  return act === 'relu' ? reluGrad(g, y) : act === 'sigmoid' ? mul(g, mul(y, sub(1, y))) : act === 'tanh' ? mul(g, sub(1, square(y))) : g;
}

/**
 * [∂L/∂z, ∂L/∂bias] of y = act(z) with z = x + bias (or a convolution plus bias): one fused pass when the bias's
 * gradient is wanted and the activation is not linear, else dz alone (linear: g itself) and its sum.
 */
function biasGrads(g: Tensor, y: Tensor, bias: Tensor, act: OutputActivation, needBias: boolean): [Tensor, Tensor | null] {
  if (needBias && act !== 'linear') return biasActGrad(g, y, act);
  const dz = actGrad(g, y, act);
  return [dz, needBias ? sumToShape(dz, bias.shape) : null];
}

/** Gradient of max/min: g split equally among the positions equal to the extreme value. */
function extremeVjp(g: Tensor, x: Tensor, y: Tensor, axes: number[]): Tensor {
  const shape = keptShape(x, axes);
  const mask = equal(x, reshape(y, shape));
  return div(mul(mask, reshape(g, shape)), sum(mask, axes, true));
}

export const vjp: { [K in Op]: VjpRule<K> } = {
  // Unary
  neg: (g) => [neg(g)],
  abs: (g, [x]) => [mul(g, sign(x))],
  sign: none,
  exp: (g, _, y) => [mul(g, y)],
  log: (g, [x]) => [div(g, x)],
  sqrt: (g, _, y) => [div(mul(g, 0.5), y)],
  rsqrt: (g, _, y) => [mul(g, mul(-0.5, mul(y, square(y))))],
  square: (g, [x]) => [mul(g, mul(x, 2))],
  reciprocal: (g, _, y) => [neg(mul(g, square(y)))],
  relu: (g, [x]) => [reluGrad(g, x)],
  step: none,
  sigmoid: (g, _, y) => [mul(g, mul(y, sub(1, y)))],
  tanh: (g, _, y) => [mul(g, sub(1, square(y)))],
  erf: (g, [x]) => [mul(g, mul(2 / Math.sqrt(Math.PI), exp(neg(square(x)))))],
  // gelu'(x) = Φ(x) + x·φ(x), Φ(x) = (1 + erf(x/√2))/2, φ(x) = e^{−x²/2}/√(2π)
  gelu: (g, [x]) => {
    const cdf = mul(add(erf(mul(x, Math.SQRT1_2)), 1), 0.5);
    const pdf = mul(exp(mul(square(x), -0.5)), INV_SQRT_2PI);
    return [mul(g, add(cdf, mul(x, pdf)))];
  },
  sin: (g, [x]) => [mul(g, cos(x))],
  cos: (g, [x]) => [neg(mul(g, sin(x)))],
  // Binary (with broadcasting: each gradient is summed back to its input's shape)
  add: (g, [a, b], _, __, needs) => [needs[0] ? sumToShape(g, a.shape) : null, needs[1] ? sumToShape(g, b.shape) : null],
  sub: (g, [a, b], _, __, needs) => [needs[0] ? sumToShape(g, a.shape) : null, needs[1] ? sumToShape(neg(g), b.shape) : null],
  // A constant operand (a mask, a scale) gets no gradient: no product, no reduction.
  mul: (g, [a, b], _, __, needs) => [needs[0] ? sumToShape(mul(g, b), a.shape) : null, needs[1] ? sumToShape(mul(g, a), b.shape) : null],
  div: (g, [a, b], y, __, needs) => [needs[0] ? sumToShape(div(g, b), a.shape) : null, needs[1] ? sumToShape(neg(div(mul(g, y), b)), b.shape) : null],
  pow: (g, [a, b], y) => [
    sumToShape(mul(g, mul(b, pow(a, sub(b, 1)))), a.shape),
    sumToShape(mul(g, mul(y, log(where(greaterEqual(a, 0), a, 1)))), b.shape),
  ],
  maximum: (g, [a, b]) => {
    const m = greaterEqual(a, b);
    return [sumToShape(mul(g, m), a.shape), sumToShape(mul(g, sub(1, m)), b.shape)];
  },
  minimum: (g, [a, b]) => {
    const m = lessEqual(a, b);
    return [sumToShape(mul(g, m), a.shape), sumToShape(mul(g, sub(1, m)), b.shape)];
  },
  greater: none,
  greaterEqual: none,
  less: none,
  lessEqual: none,
  equal: none,
  notEqual: none,
  reluGrad: (g, [a, b]) => [sumToShape(reluGrad(g, b), a.shape), null],
  where: (g, [c, a, b]) => [null, sumToShape(where(c, g, 0), a.shape), sumToShape(where(c, 0, g), b.shape)],
  // Linear algebra
  matmul: (g, [a, b], _, { transA, transB }, needs) => {
    const da = !needs[0] ? null : transA ? (transB ? matmul(b, g, true, true) : matmul(b, g, false, true)) : matmul(g, b, false, !transB);
    const db = !needs[1] ? null : transB ? (transA ? matmul(g, a, true, true) : matmul(g, a, true, false)) : matmul(a, g, !transA, false);
    return [da && sumToShape(da, a.shape), db && sumToShape(db, b.shape)];
  },
  conv2d: (g, [x, w], _, { p }, needs) => [needs[0] ? conv2dBackpropInput(g, w, p) : null, needs[1] ? conv2dBackpropFilter(x, g, p) : null],
  conv2dBiasAct: (g, [x, w, bias], y, { p, act }, needs) => {
    const [dz, db] = biasGrads(g, y, bias, act, needs[2]);
    return [needs[0] ? conv2dBackpropInput(dz, w, p) : null, needs[1] ? conv2dBackpropFilter(x, dz, p) : null, db];
  },
  conv2dGradInput: (g, [dy, w], _, { p }) => [conv2dWith(g, w, p), conv2dBackpropFilter(g, dy, p)],
  conv2dGradFilter: (g, [x, dy], _, { p }) => [conv2dBackpropInput(dy, g, p), conv2dWith(x, g, p)],
  maxPool2d: (g, [x], _, { p }) => [maxPool2dGrad(x, g, p)],
  maxPool2dGrad: () => {
    throw new NotDifferentiableError('maxPool2dGrad', 'second derivatives through max pooling are not supported');
  },
  // gy (y's own uses) is null when the graph fused the pooling: then the pooling's and the activation's gradients and
  // the bias's in one pass.
  conv2dBiasActPool: ([gy, gp], [x, w, bias], [y], { cp, pp, act }, needs) => {
    let dz: Tensor, db: Tensor | null;
    if (gp && !gy) [dz, db] = maxPool2dBiasActGrad(y, gp, pp, act);
    else [dz, db] = biasGrads(gp ? (gy ? add(maxPool2dGrad(y, gp, pp), gy) : maxPool2dGrad(y, gp, pp)) : gy!, y, bias, act, needs[2]);
    return [needs[0] ? conv2dBackpropInput(dz, w, cp) : null, needs[1] ? conv2dBackpropFilter(x, dz, cp) : null, needs[2] ? db : null];
  },
  maxPool2dBiasActGrad: () => {
    throw new NotDifferentiableError('maxPool2dBiasActGrad', 'second derivatives through max pooling are not supported');
  },
  avgPool2d: (g, _x, _y, { p }) => [avgPool2dGrad(g, p)],
  avgPool2dGrad: (g, _x, _y, { p }) => [avgPool2dWith(g, p)],
  // Reductions
  sum: (g, [x], _, { axes }) => [broadcastTo(reshape(g, keptShape(x, axes)), x.shape)],
  mean: (g, [x], _, { axes }) => {
    const n = axes.reduce((acc, a) => acc * x.shape[a], 1);
    return [broadcastTo(reshape(mul(g, 1 / n), keptShape(x, axes)), x.shape)];
  },
  max: (g, [x], y, { axes }) => [extremeVjp(g, x, y, axes)],
  min: (g, [x], y, { axes }) => [extremeVjp(g, x, y, axes)],
  // Softmax family (last axis)
  softmax: (g, _, y) => [mul(y, sub(g, sum(mul(g, y), -1, true)))],
  logSoftmax: (g, _, y) => [sub(g, mul(exp(y), sum(g, -1, true)))],
  logSoftmaxPick: ([g], [logits, labels], [, stats], _, needs) => [needs[0] && g ? logSoftmaxPickGrad(g, logits, labels, stats) : null, null],
  logSoftmaxPickGrad: () => {
    throw new NotDifferentiableError('logSoftmaxPickGrad', 'second derivatives of the fused sparse cross-entropy are not supported');
  },
  attention: ([go, gp], inputs, [, p], a) => attentionVjp(go, gp, inputs, p, a),
  maskedSoftmax: (g, _, y, { scale, causal }) => [maskedSoftmaxGrad(g, y, scale, causal), null],
  // dx = s·y·(g − c), c = Σ g·y over each row's causal span: a cotangent t pulls back to the same map of t for g, and to
  // s·(t·(g − c) − g·Σ t·y) for y, where t and y count only inside the span (dx neither reads nor writes beyond it).
  maskedSoftmaxGrad: (t, [g, y], _, { scale, causal }, needs) => {
    const dg = needs[0] ? maskedSoftmaxGrad(t, y, scale, causal) : null;
    if (!needs[1]) return [dg, null];
    const live = causal ? reshape(causalMask(y.shape[y.rank - 2], y.shape[y.rank - 1]), y.shape.slice(-2)) : undefined;
    const [tl, yl] = live ? [mul(t, live), mul(y, live)] : [t, y];
    const dy = mul(sub(mul(tl, sub(g, sum(mul(g, yl), -1, true))), mul(g, sum(mul(tl, yl), -1, true))), scale);
    return [dg, live ? mul(dy, live) : dy];
  },
  layerNorm: (g, [x, ...ws], _, { epsilon, scale, center }) => {
    const [dx, dg, db] = layerNormGrad(g, x, scale ? ws[0] : undefined, epsilon);
    return [dx, ...(scale ? [dg] : []), ...(center ? [db] : [])];
  },
  layerNormGrad: () => {
    throw new NotDifferentiableError('layerNormGrad', 'second derivatives of the fused layer normalisation are not supported');
  },
  biasAct: (g, [x, bias], y, { act, slope }, needs) => {
    if (act !== 'gelu') return biasGrads(g, y, bias, act, needs[1]);
    if (slope && !recording()) { // the slope the forward pass kept, unless this backward pass is itself differentiated
      const [dz, db] = biasGeluSlopeGrad(g, slope);
      if (!needs[1]) db.dispose();
      return [dz, needs[1] ? db : null];
    }
    const [dz, db] = biasActGrad(g, x, act, bias); // GELU's slope reads z = x + bias
    return [dz, needs[1] ? db : null];
  },
  // dz = g·φ'(y), db = Σ_rows dz: the cotangent t = gdz + gdb (broadcast) pulls back to t·φ'(y) for g and to
  // g·t·∂φ'/∂y for y (sigmoid: φ' = y(1 − y), ∂/∂y = 1 − 2y; tanh: φ' = 1 − y², ∂/∂y = −2y; relu, linear: 0).
  // GELU (inputs g, x, bias; z = x + bias): t·gelu'(z) for g, and t·g·gelu''(z), gelu'' = φ(z)·(2 − z²), for x and
  // (summed over rows) for the bias.
  biasActGrad: ([gdz, gdb], [g, y, bias], _, { act }, needs) => {
    const t = gdz && gdb ? add(gdz, gdb) : gdz ?? broadcastTo(gdb!, g.shape);
    if (act === 'gelu') {
      const dg = needs[0] ? biasActGrad(t, y, act, bias)[0] : null;
      if (!needs[1] && !needs[2]) return [dg, null, null];
      const z = add(y, bias), zz = square(z);
      const dx = mul(mul(t, g), mul(mul(exp(mul(zz, -0.5)), INV_SQRT_2PI), sub(2, zz)));
      return [dg, needs[1] ? dx : null, needs[2] ? sumToShape(dx, bias.shape) : null];
    }
    const dy = !needs[1] ? null : act === 'sigmoid' ? mul(mul(t, g), sub(1, mul(2, y))) : act === 'tanh' ? mul(mul(t, g), mul(-2, y)) : null;
    return [needs[0] ? actGrad(t, y, act) : null, dy];
  },
  gather: (g, [x, idx], _, { axis }) => [scatterAdd(g, idx, x.shape[axis], axis), null],
  scatterAdd: (g, [, idx], _, { axis }) => [gather(g, idx, axis), null],
  // Data movement
  reshape: (g, [x]) => [reshape(g, x.shape)],
  transpose: (g, _, _y, { perm }) => {
    const inv = new Array<number>(perm.length);
    perm.forEach((a, i) => (inv[a] = i));
    return [transpose(g, inv)];
  },
  // Added into x's gradient buffer in place, block only (not a full-size pad per slice).
  slice: (g, _x, _y, { begin, size }) => [new BlockGrad(g, begin, size)],
  // All pieces' gradients joined into one buffer, zeros for pieces that got none.
  split: (gs, [x], _, { axis, sizes }) => [
    concat(gs.map((g, i) => {
      const shape = x.shape.map((d, j) => (j === axis ? sizes[i] : d));
      return g ? reshape(g, shape) : zerosLike(x, shape);
    }), axis),
  ],
  pad: (g, [x], _, { paddings }) => [slice(g, paddings.map(([l]) => l), x.shape)],
  concat: (g, xs, _, { axis }) => {
    let at = 0;
    return xs.map((x) => {
      const begin = x.shape.map((_, i) => (i === axis ? at : 0));
      at += x.shape[axis];
      return slice(g, begin, x.shape);
    });
  },
  broadcastTo: (g, [x]) => [sumToShape(g, x.shape)],
  cast: (g, [x]) => [x.dtype === 'float32' ? cast(g, 'float32') : null],
  // H is symmetric: the VJP of y = H·x is H·g.
  fwht: (g) => [fwht(g)],
  // Back through time in one kernel, with ∂L/∂u = Σ_steps hprevᵀ·dr over all N·T rows; ∂L/∂bRec = Σ dr; a projection
  // table looked up by ids gets the sums of its rows' gradients.
  rnnSequence: (gs, inputs, ys, a, needs) => {
    const { n, t, cell } = a.q;
    const c = cell === 'lstm';
    const { dp, dr, dh0, dc0, du } = rnnSequenceGrad(
      inputs, ys, gs[0] ?? zerosLike(ys[0]), gs[1] ?? zerosLike(ys[1]), c ? gs[2] ?? zerosLike(ys[2]) : undefined, a, needs[1],
    );
    const ids = a.hasIds ? inputs[inputs.length - 1] : undefined;
    const grads: InputGrad[] = [ids ? (needs[0] ? scatterAdd(dp, ids, inputs[0].shape[0], 0) : null) : dp, du ?? null, dh0];
    if (c) grads.push(dc0!);
    if (a.hasBias) grads.push(needs[grads.length] ? sum(reshape(dr, [n * t, dr.shape[2]]), 0) : null);
    if (a.hasMask) grads.push(null);
    if (ids) grads.push(null);
    return grads;
  },
  rnnSequenceGrad: () => {
    throw new NotDifferentiableError('rnnSequenceGrad', 'second derivatives through a fused recurrence are not supported');
  },
};
