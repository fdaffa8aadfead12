// Attention's fused masked softmax (scale, causal mask, Keras mask, softmax in one pass) and its gradient, and the
// fused scaled dot-product attention (scores, softmax and the weighted sum in one op per sample and head).
import type { AttentionOperand, AttentionParams, MaskedSoftmaxParams } from '../../backend/backend.js';
import { checkOptions, fmt, quote, ShapeError } from '../errors.js';
import { shapesEqual } from '../shape.js';
import { record, recording, recordMany } from '../tape.js';
import { empty, type Tensor } from '../tensor.js';
import { tensor, zerosLike } from './creation.js';
import { add } from './elementwise.js';
import { matmul } from './linalg.js';
import { concat, reshape, split, transpose } from './shape-ops.js';
import { backendOf, checkHostElements, requireDType } from './util.js';

/** Keras' causal mask as float32 [1, Tq, Tv]: 1 where j ≤ i (lower triangular from the top left corner), else 0. */
export function causalMask(tq: number, tv: number): Tensor {
  for (const [k, v] of [['query steps', tq], ['value steps', tv]] as const) {
    if (!Number.isInteger(v) || v < 0) throw new RangeError(`causalMask: ${k} must be an integer ≥ 0, got ${quote(v)}`);
  }
  checkHostElements('causalMask', tq * tv);
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
  checkScale(op, scale);
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
  checkOptions('maskedSoftmax', o, ['scale', 'causal', 'mask'], { casual: 'write it causal' });
  const { mask, scale = 1, causal = false } = o;
  if (typeof causal !== 'boolean') throw new RangeError(`maskedSoftmax: causal must be true or false, got ${quote(causal)}`);
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

/** Options of {@link attention} and {@link packedAttention}. */
export interface AttentionOptions {
  /** Multiplies the scores (default 1/√Dk). */
  scale?: number;
  /** Query step i attends only to value steps j ≤ i (from the top left corner); default false. */
  causal?: boolean;
}

/** What the tape keeps of an attention: its scale and mask, and whether its one input is a packed [N, T, 3, H, D]. */
export interface AttentionAttrs {
  scale: number;
  causal: boolean;
  packed: boolean;
}

/** The kernels' geometry of q [N, Tq, H, Dk], k [N, Tv, H, Dk], v [N, Tv, H, Dv], or of one packed qkv [N, T, 3, H, D]. */
function geometry(op: string, inputs: readonly Tensor[], packed: boolean, o: AttentionOptions): AttentionParams {
  const at = (offset: number, step: number, t: number): AttentionOperand => ({ offset, step, sample: step * t });
  if (packed) {
    const [x] = inputs;
    if (x.rank !== 5 || x.shape[2] !== 3) throw new ShapeError(op, `needs qkv [batch, time, 3, heads, depth], got ${fmt(x.shape)}`);
    const [n, t, , heads, d] = x.shape;
    const step = 3 * heads * d;
    return {
      n, heads, tq: t, tv: t, dk: d, dv: d, scale: scaleOf(op, o, d), causal: o.causal ?? false,
      layout: [at(0, step, t), at(heads * d, step, t), at(2 * heads * d, step, t)],
    };
  }
  const [q, k, v] = inputs;
  if (q.rank !== 4 || k.rank !== 4 || v.rank !== 4) {
    throw new ShapeError(op, `needs q, k, v of rank 4 [batch, time, heads, depth], got ${fmt(q.shape)}, ${fmt(k.shape)}, ${fmt(v.shape)}`);
  }
  const [n, tq, heads, dk] = q.shape;
  const [, tv, , dv] = v.shape;
  if (!shapesEqual(k.shape, [n, tv, heads, dk]) || v.shape[0] !== n || v.shape[2] !== heads) {
    throw new ShapeError(op, `q ${fmt(q.shape)}, k ${fmt(k.shape)} and v ${fmt(v.shape)} do not fit: expected k [${n}, Tv, ${heads}, ${dk}] and v [${n}, Tv, ${heads}, Dv]`);
  }
  return {
    n, heads, tq, tv, dk, dv, scale: scaleOf(op, o, dk), causal: o.causal ?? false,
    layout: [at(0, heads * dk, tq), at(0, heads * dk, tv), at(0, heads * dv, tv)],
  };
}

function scaleOf(op: string, o: AttentionOptions, dk: number): number {
  if (o.scale === undefined) {
    if (dk === 0) throw new ShapeError(op, 'q and k have depth 0, so the default scale 1/√depth is undefined: pass options.scale');
    return 1 / Math.sqrt(dk);
  }
  return checkScale(op, o.scale);
}

/** A scale option as given: a finite number, else a RangeError naming the op and what came (a string's quotes kept). */
function checkScale(op: string, scale: unknown): number {
  if (typeof scale !== 'number' || !Number.isFinite(scale)) {
    throw new RangeError(`${op}: scale must be a finite number, got ${typeof scale === 'number' ? scale : `${typeof scale} ${JSON.stringify(scale) ?? String(scale)}`}`);
  }
  return scale;
}

/** Per-head views of attention inputs: [Q, K, V], each [N, H, T, D] (a packed qkv split first). */
function headsOf(inputs: readonly Tensor[], packed: boolean): Tensor[] {
  const parts = packed ? split(inputs[0], 3, 2).map((t) => reshape(t, [t.shape[0], t.shape[1], t.shape[3], t.shape[4]])) : inputs;
  return parts.map((t) => transpose(t, [0, 2, 1, 3]));
}

/** Gradients [N, H, T, D] of Q, K, V back in the inputs' layout ([dq, dk, dv], or one packed dqkv). */
function fromHeads(gs: Tensor[], packed: boolean): Tensor[] {
  const back = gs.map((g) => transpose(g, [0, 2, 1, 3]));
  if (!packed) return back;
  return [concat(back.map((g) => reshape(g, [g.shape[0], g.shape[1], 1, g.shape[2], g.shape[3]])), 2)];
}

/** q, k and v as the kernels take them: three tensors, or a packed qkv three times (the layout tells them apart). */
function qkvOf(inputs: readonly Tensor[], packed: boolean): readonly Tensor[] {
  return packed ? [inputs[0], inputs[0], inputs[0]] : inputs;
}

/** [o, P]: the attention's output and its probabilities [N, H, Tq, Tv] (0 at masked columns), both differentiable. */
function attend(op: string, inputs: Tensor[], packed: boolean, o: AttentionOptions): [Tensor, Tensor] {
  checkOptions(op, o, ['scale', 'causal'], { casual: 'write it causal', mask: 'attention takes causal; a mask of your own goes to maskedSoftmax, or to the MultiHeadAttention layer' });
  if (o.causal !== undefined && typeof o.causal !== 'boolean') throw new RangeError(`${op}: causal must be true or false, got ${quote(o.causal)}`);
  const b = backendOf(op, ...inputs);
  requireDType(op, 'float32', ...inputs);
  const a = geometry(op, inputs, packed, o);
  if (!b.fusedAttention(a)) {
    const [q, k, v] = headsOf(inputs, packed);
    const p = maskedSoftmax(matmul(q, k, false, true), { scale: a.scale, causal: a.causal });
    return [transpose(matmul(p, v), [0, 2, 1, 3]), p];
  }
  const out = empty([a.n, a.tq, a.heads, a.dv], 'float32', b);
  const p = empty([a.n, a.heads, a.tq, a.tv], 'float32', b);
  const [q, k, v] = qkvOf(inputs, packed);
  b.attention(q.buf, k.buf, v.buf, out.buf, p.buf, a);
  const [y, probs] = recordMany('attention', inputs, [out, p], { scale: a.scale, causal: a.causal, packed });
  return [y, probs];
}

/**
 * Scaled dot-product attention in the projections' layout: q [N, Tq, H, Dk], k [N, Tv, H, Dk], v [N, Tv, H, Dv] →
 * o [N, Tq, H, Dv], o[n, i, h] = Σ_j P[n, h, i, j]·v[n, j, h] with P = {@link maskedSoftmax}(q·kᵀ per head, scale,
 * causal). One op where the backend takes the geometry: no head transposes, the probabilities kept for the backward
 * pass, and under the causal mask only the live triangle computed; else composed of transpose, matmul and
 * maskedSoftmax (the same values).
 */
export function attention(q: Tensor, k: Tensor, v: Tensor, o: AttentionOptions = {}): Tensor {
  return attend('attention', [q, k, v], false, o)[0];
}

/** {@link attention} and its probabilities P [N, H, Tq, Tv] (Keras' attention scores: 0 at masked columns). */
export function attentionWithScores(q: Tensor, k: Tensor, v: Tensor, o: AttentionOptions = {}): [Tensor, Tensor] {
  return attend('attention', [q, k, v], false, o);
}

/**
 * {@link attention} of the three slices of one packed projection qkv [N, T, 3, H, D] (q = qkv[:, :, 0], k = qkv[:, :, 1],
 * v = qkv[:, :, 2]) → [N, T, H, D], read in place; its gradient is one packed tensor too.
 */
export function packedAttention(qkv: Tensor, o: AttentionOptions = {}): Tensor {
  return attend('packedAttention', [qkv], true, o)[0];
}

/** {@link packedAttention} and its probabilities P [N, H, T, T]. */
export function packedAttentionWithScores(qkv: Tensor, o: AttentionOptions = {}): [Tensor, Tensor] {
  return attend('packedAttention', [qkv], true, o);
}

/**
 * The gradients of a fused attention node from ∂L/∂o and ∂L/∂P (null when unused). One kernel pass when nothing
 * differentiates the backward pass (and P has no gradient of its own); else composed of matmul and maskedSoftmaxGrad,
 * which a tape can differentiate again.
 */
export function attentionVjp(go: Tensor | null, gp: Tensor | null, inputs: readonly Tensor[], p: Tensor, a: AttentionAttrs): Tensor[] {
  const { packed, scale, causal } = a;
  if (go && !gp && !recording()) {
    const b = backendOf('attention', go, p, ...inputs);
    const g = geometry('attention', inputs, packed, { scale, causal });
    const grads = inputs.map((x) => empty(x.shape, 'float32', b));
    const [q, k, v] = qkvOf(inputs, packed);
    const [dq, dk, dv] = qkvOf(grads, packed);
    b.attentionGrad(go.buf, q.buf, k.buf, v.buf, p.buf, dq.buf, dk.buf, dv.buf, g);
    return grads;
  }
  const [qh, kh, vh] = headsOf(inputs, packed);
  const goh = go ? transpose(go, [0, 2, 1, 3]) : null;
  let dp = goh ? matmul(goh, vh, false, true) : gp!;
  if (goh && gp) dp = add(dp, gp);
  const ds = maskedSoftmaxGrad(dp, p, scale, causal);
  const dv = goh ? matmul(p, goh, true, false) : zerosLike(vh);
  return fromHeads([matmul(ds, kh), matmul(ds, qh, true, false), dv], packed);
}
