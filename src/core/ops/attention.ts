// Attention's fused masked softmax (scale, causal mask, Keras mask, softmax in one pass) and its gradient.
import type { MaskedSoftmaxParams } from '../../backend/backend.js';
import { fmt, ShapeError } from '../errors.js';
import { shapesEqual } from '../shape.js';
import { record } from '../tape.js';
import { empty, type Tensor } from '../tensor.js';
import { tensor } from './creation.js';
import { backendOf, requireDType } from './util.js';

/** Keras' causal mask as float32 [1, Tq, Tv]: 1 where j ≤ i (lower triangular from the top left corner), else 0. */
export function causalMask(tq: number, tv: number): Tensor {
  const d = new Float32Array(tq * tv);
  for (let i = 0; i < tq; i++) d.fill(1, i * tv, i * tv + Math.min(i + 1, tv));
  return tensor(d, [1, tq, tv]);
}

/** Options of {@link maskedSoftmax}. */
export interface MaskedSoftmaxOptions {
  /** Multiplies the scores first (attention's 1/√keyDim); default 1. */
  scale?: number;
  /** Query step i attends only to value steps j ≤ i (Keras' causal mask, from the top left corner); default false. */
  causal?: boolean;
  /** float32 [N, Tq, Tv] for scores [N, ..., Tq, Tv] (or [Tq, Tv] for rank 2): 0 where query step i may not attend to j. */
  mask?: Tensor;
}

/** The kernels' geometry for scores x [N, ..., Tq, Tv]. */
function params(op: string, x: Tensor, scale: number, causal: boolean): MaskedSoftmaxParams {
  if (x.rank < 2) throw new ShapeError(op, `needs scores [..., Tq, Tv] of rank ≥ 2, got ${fmt(x.shape)}`);
  if (!Number.isFinite(scale)) throw new RangeError(`${op}: scale must be a finite number, got ${scale}`);
  const [tq, cols] = x.shape.slice(-2);
  const heads = x.rank === 2 ? 1 : x.shape.slice(1, -2).reduce((a, b) => a * b, 1);
  return { rows: cols === 0 ? 0 : x.size / cols, cols, tq, heads, scale, causal };
}

/**
 * Attention probabilities in one pass over the last axis: y = softmax(scale·x + (1 − live)·(−1e9))·live, where live
 * (query step i may attend to value step j) is j ≤ i when `causal` and mask[n, i, j] ≠ 0 when a mask is given — Keras'
 * masked Softmax: 0 at masked steps, and a query step with nothing to attend to gets zeros. The causal mask's dead
 * columns are never read (half the work of a causal row). Its gradient is {@link maskedSoftmaxGrad}.
 */
export function maskedSoftmax(x: Tensor, o: MaskedSoftmaxOptions = {}): Tensor {
  const { mask, scale = 1, causal = false } = o;
  const b = mask ? backendOf('maskedSoftmax', x, mask) : backendOf('maskedSoftmax', x);
  requireDType('maskedSoftmax', 'float32', ...(mask ? [x, mask] : [x]));
  const p = params('maskedSoftmax', x, scale, causal);
  const want = x.rank === 2 ? x.shape : [x.shape[0], ...x.shape.slice(-2)];
  if (mask && !shapesEqual(mask.shape, want)) throw new ShapeError('maskedSoftmax', `mask ${fmt(mask.shape)} does not fit scores ${fmt(x.shape)}: expected ${fmt(want)}`);
  const y = empty(x.shape, 'float32', b);
  b.maskedSoftmax(x.buf, mask ? mask.buf : null, y.buf, p);
  return record('maskedSoftmax', mask ? [x, mask] : [x], y, { scale, causal });
}

/**
 * The gradient of {@link maskedSoftmax} from g = ∂L/∂y and its output y: ∂L/∂x = scale·y·(g − Σ_last g·y), one pass;
 * zero at the causal mask's dead columns (y is zero at masked ones).
 */
export function maskedSoftmaxGrad(g: Tensor, y: Tensor, scale = 1, causal = false): Tensor {
  const b = backendOf('maskedSoftmaxGrad', g, y);
  requireDType('maskedSoftmaxGrad', 'float32', g, y);
  if (!shapesEqual(g.shape, y.shape)) throw new ShapeError('maskedSoftmaxGrad', `gradient ${fmt(g.shape)} and output ${fmt(y.shape)} must have one shape`);
  const p = params('maskedSoftmaxGrad', y, scale, causal);
  const dx = empty(y.shape, 'float32', b);
  b.maskedSoftmaxGrad(g.buf, y.buf, dx.buf, p);
  return record('maskedSoftmaxGrad', [g, y], dx, { scale, causal });
}
