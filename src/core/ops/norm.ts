// Layer normalisation over the last axis in one pass (mean, variance, normalise, γ, β) and its gradient in one pass.
import { checkOptions, fmt, ShapeError } from '../errors.js';
import { shapesEqual } from '../shape.js';
import { record, recordMany } from '../tape.js';
import { empty, type Tensor } from '../tensor.js';
import { backendOf, requireDType } from './util.js';

/** Options of {@link layerNorm}. */
export interface LayerNormOptions {
  /** Multiplies by gamma [C] (Keras `scale`). */
  gamma?: Tensor;
  /** Adds beta [C] (Keras `center`). */
  beta?: Tensor;
  /** Added to the variance before the square root (Keras' default 1e-3). */
  epsilon?: number;
}

/** Rows and columns of x [..., C], checking x and the optional [C] weights. */
function geometry(op: string, x: Tensor, weights: readonly (Tensor | undefined)[], epsilon: number): [number, number] {
  if (x.rank < 1) throw new ShapeError(op, 'needs a tensor of rank ≥ 1');
  if (!(epsilon > 0 && Number.isFinite(epsilon))) throw new RangeError(`${op}: epsilon must be a positive number, got ${epsilon}`);
  const cols = x.shape[x.rank - 1];
  for (const w of weights) {
    if (w && (w.rank !== 1 || w.shape[0] !== cols)) throw new ShapeError(op, `gamma/beta ${fmt(w.shape)} does not match the last axis of ${fmt(x.shape)}`);
  }
  return [cols === 0 ? 0 : x.size / cols, cols];
}

/**
 * y = (x − mean)/√(var + ε)·γ + β over the last axis of x [..., C] (mean and biased variance per row; γ, β [C]
 * optional), one kernel. Its gradient is {@link layerNormGrad}, which recomputes the row statistics from x.
 */
export function layerNorm(x: Tensor, o: LayerNormOptions = {}): Tensor {
  checkOptions('layerNorm', o, ['gamma', 'beta', 'epsilon'], { scale: 'the scale is gamma', center: 'the offset is beta', eps: 'write it epsilon' });
  const { gamma, beta, epsilon = 1e-3 } = o;
  const ws = [gamma, beta].filter((w): w is Tensor => w !== undefined);
  const b = backendOf('layerNorm', x, ...ws);
  requireDType('layerNorm', 'float32', x, ...ws);
  const [rows, cols] = geometry('layerNorm', x, ws, epsilon);
  const y = empty(x.shape, 'float32', b);
  b.layerNorm(x.buf, gamma ? gamma.buf : null, beta ? beta.buf : null, y.buf, rows, cols, epsilon);
  return record('layerNorm', [x, ...ws], y, { epsilon, scale: gamma !== undefined, center: beta !== undefined });
}

/**
 * The gradients of {@link layerNorm} from dy = ∂L/∂y: [dx, dγ = Σ dy·x̂, dβ = Σ dy] (sums over every axis but the last,
 * in an order that does not depend on the thread count), x̂ = (x − mean)·rstd recomputed from x.
 */
export function layerNormGrad(dy: Tensor, x: Tensor, gamma: Tensor | undefined, epsilon: number): [Tensor, Tensor, Tensor] {
  const ws = gamma ? [gamma] : [];
  const b = backendOf('layerNormGrad', dy, x, ...ws);
  requireDType('layerNormGrad', 'float32', dy, x, ...ws);
  if (!shapesEqual(dy.shape, x.shape)) throw new ShapeError('layerNormGrad', `gradient ${fmt(dy.shape)} and input ${fmt(x.shape)} must have one shape`);
  const [rows, cols] = geometry('layerNormGrad', x, ws, epsilon);
  const dx = empty(x.shape, 'float32', b), dg = empty([cols], 'float32', b), db = empty([cols], 'float32', b);
  b.layerNormGrad(dy.buf, x.buf, gamma ? gamma.buf : null, dx.buf, dg.buf, db.buf, rows, cols, epsilon);
  const [a, c, d] = recordMany('layerNormGrad', [dy, x, ...ws], [dx, dg, db], { epsilon, scale: gamma !== undefined, center: true });
  return [a, c, d];
}
