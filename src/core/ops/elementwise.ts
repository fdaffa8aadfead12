// Element-wise ops: unary functions, broadcasting binary arithmetic and comparisons, where, cast.
import type { BinaryOp, DType, UnaryOp } from '../../backend/backend.js';
import { DTypeError, quote } from '../errors.js';
import { broadcastShapes, broadcastStrides } from '../shape.js';
import { record, recording } from '../tape.js';
import { empty, type Tensor } from '../tensor.js';
import { backendOf, lift, requireDType, type TensorLike } from './util.js';

function unary(op: UnaryOp, x: Tensor): Tensor {
  const b = backendOf(op, x);
  requireDType(op, 'float32', x);
  const y = empty(x.shape, 'float32', b);
  b.unary(op, x.buf, y.buf, x.size);
  return record(op, [x], y, {});
}

/** −x */
export const neg = (x: Tensor): Tensor => unary('neg', x);
/** |x| */
export const abs = (x: Tensor): Tensor => unary('abs', x);
/** sign(x) ∈ {−1, 0, 1} */
export const sign = (x: Tensor): Tensor => unary('sign', x);
/** eˣ */
export const exp = (x: Tensor): Tensor => unary('exp', x);
/** ln x */
export const log = (x: Tensor): Tensor => unary('log', x);
/** √x */
export const sqrt = (x: Tensor): Tensor => unary('sqrt', x);
/** 1/√x */
export const rsqrt = (x: Tensor): Tensor => unary('rsqrt', x);
/** x² */
export const square = (x: Tensor): Tensor => unary('square', x);
/** 1/x */
export const reciprocal = (x: Tensor): Tensor => unary('reciprocal', x);
/** max(x, 0) */
export const relu = (x: Tensor): Tensor => unary('relu', x);
/** 1 where x > 0, else 0 (zero gradient). */
export const step = (x: Tensor): Tensor => unary('step', x);
/** 1/(1+e⁻ˣ) */
export const sigmoid = (x: Tensor): Tensor => unary('sigmoid', x);
/** tanh x */
export const tanh = (x: Tensor): Tensor => unary('tanh', x);
/** The error function. */
export const erf = (x: Tensor): Tensor => unary('erf', x);
/** Exact GELU, x·Φ(x). */
export const gelu = (x: Tensor): Tensor => unary('gelu', x);
/** sin x */
export const sin = (x: Tensor): Tensor => unary('sin', x);
/** cos x */
export const cos = (x: Tensor): Tensor => unary('cos', x);

/** Keras 3's (and PyTorch's) hard sigmoid, clip(x/6 + 1/2, 0, 1) = relu6(x + 3)/6; its slope is 1/6 inside (−3, 3), 0 outside. */
export function hardSigmoid(x: Tensor): Tensor {
  return minimum(maximum(add(mul(x, 1 / 6), 0.5), 0), 1);
}

/** Frees scalars promoted from numbers at once unless a tape holds them (otherwise tidy frees them). */
function releaseLifted(args: readonly TensorLike[], lifted: readonly Tensor[]): void {
  if (recording()) return;
  args.forEach((a, i) => {
    if (typeof a === 'number') lifted[i].dispose();
  });
}

function binary(op: BinaryOp, a: TensorLike, b: TensorLike): Tensor {
  const ta = lift(a, typeof b === 'number' ? undefined : b);
  const tb = lift(b, ta);
  const be = backendOf(op, ta, tb);
  requireDType(op, 'float32', ta, tb);
  const shape = broadcastShapes(op, ta.shape, tb.shape);
  const y = empty(shape, 'float32', be);
  be.binary(op, ta.buf, tb.buf, y.buf, { shape, strides: [broadcastStrides(ta.shape, shape), broadcastStrides(tb.shape, shape)] });
  record(op, [ta, tb], y, {});
  releaseLifted([a, b], [ta, tb]);
  return y;
}

/** a + b (broadcasting) */
export const add = (a: TensorLike, b: TensorLike): Tensor => binary('add', a, b);
/** a − b */
export const sub = (a: TensorLike, b: TensorLike): Tensor => binary('sub', a, b);
/** a · b */
export const mul = (a: TensorLike, b: TensorLike): Tensor => binary('mul', a, b);
/** a / b */
export const div = (a: TensorLike, b: TensorLike): Tensor => binary('div', a, b);
/** aᵇ */
export const pow = (a: TensorLike, b: TensorLike): Tensor => binary('pow', a, b);
/** max(a, b) element-wise */
export const maximum = (a: TensorLike, b: TensorLike): Tensor => binary('maximum', a, b);
/** min(a, b) element-wise */
export const minimum = (a: TensorLike, b: TensorLike): Tensor => binary('minimum', a, b);
/** 1 where a > b, else 0 */
export const greater = (a: TensorLike, b: TensorLike): Tensor => binary('greater', a, b);
/** 1 where a ≥ b */
export const greaterEqual = (a: TensorLike, b: TensorLike): Tensor => binary('greaterEqual', a, b);
/** 1 where a < b */
export const less = (a: TensorLike, b: TensorLike): Tensor => binary('less', a, b);
/** 1 where a ≤ b */
export const lessEqual = (a: TensorLike, b: TensorLike): Tensor => binary('lessEqual', a, b);
/** 1 where a = b */
export const equal = (a: TensorLike, b: TensorLike): Tensor => binary('equal', a, b);
/** 1 where a ≠ b */
export const notEqual = (a: TensorLike, b: TensorLike): Tensor => binary('notEqual', a, b);

/** b > 0 ? a : 0 — the gradient `a` of relu routed through where relu's input (or output) `b` is positive; one pass. */
export const reluGrad = (a: TensorLike, b: TensorLike): Tensor => binary('reluGrad', a, b);

/** cond ≠ 0 ? a : b, broadcasting all three. */
export function where(cond: Tensor, a: TensorLike, b: TensorLike): Tensor {
  const ta = lift(a, cond);
  const tb = lift(b, cond);
  const be = backendOf('where', cond, ta, tb);
  requireDType('where', 'float32', cond, ta, tb);
  const shape = broadcastShapes('where', cond.shape, ta.shape, tb.shape);
  const y = empty(shape, 'float32', be);
  be.where(cond.buf, ta.buf, tb.buf, y.buf, {
    shape,
    strides: [broadcastStrides(cond.shape, shape), broadcastStrides(ta.shape, shape), broadcastStrides(tb.shape, shape)],
  });
  record('where', [cond, ta, tb], y, {});
  releaseLifted([a, b], [ta, tb]);
  return y;
}

/** Converts between float32 and int32 (float → int truncates toward zero). */
export function cast(x: Tensor, to: DType): Tensor {
  const b = backendOf('cast', x);
  if (to !== 'float32' && to !== 'int32') throw new DTypeError('cast', `casts to 'float32' or 'int32', got ${quote(to)}`);
  const y = empty(x.shape, to, b);
  if (x.dtype === to) b.copy(x.buf, y.buf, { shape: [x.size], srcStrides: [1], srcOffset: 0, dstStrides: [1], dstOffset: 0 });
  else b.cast(x.buf, x.dtype, y.buf, to, x.size);
  return record('cast', [x], y, { to });
}
