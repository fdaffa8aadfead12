// Neural-network ops: softmax, fused bias + activation, gather / scatter-add, dense projections, one-hot and losses.
import { BIAS_ACTIVATIONS, type BiasActivation } from '../../backend/backend.js';
import { fmt, IndexError, quote, ShapeError } from '../errors.js';
import { normAxis, shapesEqual, sizeOf } from '../shape.js';
import { record, recordMany, watching } from '../tape.js';
import { empty, inPlaceWriteCount, type Tensor } from '../tensor.js';
import { cast, equal, mul, neg, sub } from './elementwise.js';
import { matmul } from './linalg.js';
import { mean, sum } from './reduce.js';
import { expandDims, reshape, transpose } from './shape-ops.js';
import { range, tensor } from './creation.js';
import { backendOf, requireDType } from './util.js';

function softmaxLike(op: 'softmax' | 'logSoftmax', x: Tensor, axis: number): Tensor {
  const b = backendOf(op, x);
  requireDType(op, 'float32', x);
  if (x.rank === 0) throw new ShapeError(op, 'needs a tensor of rank ≥ 1');
  const a = normAxis(op, axis, x.rank);
  if (a !== x.rank - 1) {
    const perm = x.shape.map((_, i) => i);
    perm[a] = x.rank - 1;
    perm[x.rank - 1] = a;
    return transpose(softmaxLike(op, transpose(x, perm), -1), perm);
  }
  const cols = x.shape[a];
  const y = empty(x.shape, 'float32', b);
  b.softmax(x.buf, y.buf, cols === 0 ? 0 : x.size / cols, cols, op === 'logSoftmax');
  return record(op, [x], y, {});
}

/** Softmax along `axis` (default: last), numerically stable. */
export const softmax = (x: Tensor, axis = -1): Tensor => softmaxLike('softmax', x, axis);
/** Log-softmax along `axis` (default: last): x − max − log Σ exp(x − max). */
export const logSoftmax = (x: Tensor, axis = -1): Tensor => softmaxLike('logSoftmax', x, axis);

/** Rows and columns of logits [rows, C] with int32 labels [rows] ({@link logSoftmaxPick} and its gradient). */
function pickGeometry(op: string, logits: Tensor, labels: Tensor): [number, number] {
  requireDType(op, 'float32', logits);
  requireDType(op, 'int32', labels);
  if (logits.rank !== 2 || labels.rank !== 1 || labels.shape[0] !== logits.shape[0]) {
    throw new ShapeError(op, `needs logits [rows, C] and labels [rows], got logits ${fmt(logits.shape)} and labels ${fmt(labels.shape)}`);
  }
  return [logits.shape[0], logits.shape[1]];
}

/**
 * The log-softmax of each row of logits [rows, C] at its label only, log softmax(x_r)[l_r] for int32 labels [rows] in
 * [0, C): the sparse cross-entropy's per-position term without its [rows, C] intermediates (one-hot, product, the
 * whole log-softmax), in the same float32 bits as `logSoftmax` gives at those columns. Returns [logp [rows], the rows'
 * statistics [rows, 2] (max, log Σ e^{x − max}), kept for the gradient and not differentiable].
 */
export function logSoftmaxPick(logits: Tensor, labels: Tensor): [Tensor, Tensor] {
  const b = backendOf('logSoftmaxPick', logits, labels);
  const [rows, cols] = pickGeometry('logSoftmaxPick', logits, labels);
  const l = labels.data();
  for (let i = 0; i < rows; i++) {
    if (!(l[i] >= 0 && l[i] < cols)) throw new IndexError('logSoftmaxPick', `label ${l[i]} at position ${i} of labels ${fmt(labels.shape)} is outside [0, ${cols}) (logits ${fmt(logits.shape)})`);
  }
  const logp = empty([rows], 'float32', b), stats = empty([rows, 2], 'float32', b);
  b.logSoftmaxPick(logits.buf, labels.buf, logp.buf, stats.buf, rows, cols);
  const [a, s] = recordMany('logSoftmaxPick', [logits, labels], [logp, stats], {});
  return [a, s];
}

/** The gradient of {@link logSoftmaxPick} from g = ∂L/∂logp [rows]: g_r·([k = l_r] − softmax(x_r)_k), one pass. */
export function logSoftmaxPickGrad(g: Tensor, logits: Tensor, labels: Tensor, stats: Tensor): Tensor {
  const b = backendOf('logSoftmaxPickGrad', g, logits, labels, stats);
  const [rows, cols] = pickGeometry('logSoftmaxPickGrad', logits, labels);
  requireDType('logSoftmaxPickGrad', 'float32', g, stats);
  if (!shapesEqual(g.shape, [rows]) || !shapesEqual(stats.shape, [rows, 2])) {
    throw new ShapeError('logSoftmaxPickGrad', `gradient ${fmt(g.shape)} and statistics ${fmt(stats.shape)} do not fit logits ${fmt(logits.shape)}: expected [${rows}] and [${rows}, 2]`);
  }
  const dx = empty([rows, cols], 'float32', b);
  b.logSoftmaxPickGrad(g.buf, logits.buf, labels.buf, stats.buf, dx.buf, rows, cols);
  return record('logSoftmaxPickGrad', [g, logits, labels, stats], dx, {});
}

/** act(x + bias) with bias [C] added along the last axis of x [..., C]; one fused kernel. */
export function biasAct(x: Tensor, bias: Tensor, act: BiasActivation = 'linear'): Tensor {
  const b = backendOf('biasAct', x, bias);
  if (!(BIAS_ACTIVATIONS as readonly string[]).includes(act)) throw new RangeError(`biasAct: activation must be one of ${BIAS_ACTIVATIONS.join(', ')}, got ${quote(act)}`);
  requireDType('biasAct', 'float32', x, bias);
  const cols = x.shape[x.rank - 1];
  if (x.rank < 1 || bias.rank !== 1 || bias.shape[0] !== cols) {
    throw new ShapeError('biasAct', `bias ${fmt(bias.shape)} does not match the last axis of ${fmt(x.shape)}`);
  }
  const y = empty(x.shape, 'float32', b);
  // Taped GELU keeps its slope (computed with y, from the same exp): the backward pass then only multiplies.
  const slope = act === 'gelu' && watching([x, bias]) ? empty(x.shape, 'float32', b) : undefined;
  b.biasAct(x.buf, bias.buf, y.buf, cols === 0 ? 0 : x.size / cols, cols, act, slope?.buf);
  return record('biasAct', [x, bias], y, slope ? { act, slope } : { act });
}

/**
 * [dz = g·slope, db = dz summed over all axes but the last] from the slope a taped GELU biasAct kept: biasActGrad's
 * bits without recomputing the slope. Not recorded (no second derivative): for backward passes no tape records.
 */
export function biasGeluSlopeGrad(g: Tensor, slope: Tensor): [Tensor, Tensor] {
  const b = backendOf('biasGeluSlopeGrad', g, slope);
  if (!shapesEqual(g.shape, slope.shape) || g.rank < 1) throw new ShapeError('biasGeluSlopeGrad', `gradient ${fmt(g.shape)} and slope ${fmt(slope.shape)} must have one shape of rank ≥ 1`);
  const cols = g.shape[g.rank - 1];
  const dz = empty(g.shape, 'float32', b);
  const db = empty([cols], 'float32', b);
  b.biasActGrad(g.buf, slope.buf, dz.buf, db.buf, cols === 0 ? 0 : g.size / cols, cols, 'gelu');
  return [dz, db];
}

/**
 * The gradients of y = act(x + bias) (biasAct) from g = ∂L/∂y and y, in one pass: [dz = ∂L/∂x = g·act'(x + bias),
 * db = ∂L/∂bias = dz summed over all axes but the last]. The same dz as the composed ops (reluGrad, mul, sub).
 * GELU's slope is not a function of y: for 'gelu' pass the input x in place of y and the bias
 * (dz = g·(Φ(z) + z·φ(z)), z = x + bias as biasAct rounds it).
 */
export function biasActGrad(g: Tensor, y: Tensor, act: BiasActivation, bias?: Tensor): [Tensor, Tensor] {
  const b = bias ? backendOf('biasActGrad', g, y, bias) : backendOf('biasActGrad', g, y);
  requireDType('biasActGrad', 'float32', g, y);
  if (g.rank < 1 || !shapesEqual(g.shape, y.shape)) {
    throw new ShapeError('biasActGrad', `gradient ${fmt(g.shape)} and output ${fmt(y.shape)} must have one shape of rank ≥ 1`);
  }
  const cols = y.shape[y.rank - 1];
  if ((act === 'gelu') !== (bias !== undefined)) {
    throw new ShapeError('biasActGrad', act === 'gelu' ? 'gelu needs the bias (its slope reads z = x + bias)' : `${act} takes no bias (its slope reads y)`);
  }
  if (bias) {
    requireDType('biasActGrad', 'float32', bias);
    if (bias.rank !== 1 || bias.shape[0] !== cols) throw new ShapeError('biasActGrad', `bias ${fmt(bias.shape)} does not match the last axis of ${fmt(y.shape)}`);
  }
  const dz = empty(y.shape, 'float32', b);
  const db = empty([cols], 'float32', b);
  b.biasActGrad(g.buf, y.buf, dz.buf, db.buf, cols === 0 ? 0 : y.size / cols, cols, act, bias?.buf);
  const [z, s] = recordMany('biasActGrad', bias ? [g, y, bias] : [g, y], [dz, db], { act });
  return [z, s];
}

function checkIndex(op: string, code: number, indices: Tensor, axisLen: number): void {
  if (code < 0) return;
  const bad = indices.data()[code];
  throw new IndexError(op, `index ${bad} at position ${code} of indices ${fmt(indices.shape)} is outside [0, ${axisLen})`, bad, code);
}

/**
 * Row lookups: the output of gather along axis 0 of a matrix (an Embedding's output) → that table and those ids, and the
 * in-place write count then (the table must not have changed since).
 */
const lookups = new WeakMap<Tensor, { table: Tensor; ids: Tensor; writes: number }>();

/** Picks slices of x along `axis` at int32 `indices`: out shape = x[:axis] + indices.shape + x[axis+1:]. */
export function gather(x: Tensor, indices: Tensor, axis = 0): Tensor {
  const b = backendOf('gather', x, indices);
  requireDType('gather', 'int32', indices);
  const a = normAxis('gather', axis, x.rank);
  const shape = [...x.shape.slice(0, a), ...indices.shape, ...x.shape.slice(a + 1)];
  const y = empty(shape, x.dtype, b);
  const outer = sizeOf(x.shape.slice(0, a));
  const inner = sizeOf(x.shape.slice(a + 1));
  checkIndex('gather', b.gather(x.buf, indices.buf, y.buf, outer, x.shape[a], inner, indices.size), indices, x.shape[a]);
  if (a === 0 && x.rank === 2) lookups.set(y, { table: x, ids: indices, writes: inPlaceWriteCount() });
  return record('gather', [x, indices], y, { axis: a });
}

/**
 * When x was made by gather along axis 0 of a matrix (a row lookup, such as an Embedding's output) and nothing has been
 * written in place since (x is still table[ids]): that table and those ids, so that a product of x can be taken once per
 * table row (see {@link dense}).
 */
export function lookupOf(x: Tensor): { table: Tensor; ids: Tensor } | undefined {
  const look = lookups.get(x);
  if (!look || look.table.isDisposed || look.ids.isDisposed || look.writes !== inPlaceWriteCount()) return undefined;
  return { table: look.table, ids: look.ids };
}

/**
 * x·kernel (+ bias) over the last axis: x [..., K], kernel [K, M] (Keras layout), bias [M] → [..., M]. When x is a row
 * lookup table[ids] (gather along axis 0 of a [V, K] table, e.g. an Embedding's output) with fewer table rows than x has
 * rows, it computes table·kernel (+ bias) once and looks its rows up instead: the same sums for each row, and V instead of
 * x's rows in the GEMMs of the backward pass (the gradients reach table, kernel and bias through the lookup's
 * scatter-add). An Embedding with a small vocabulary feeding an LSTM saves two thirds of its input projection's work.
 */
export function dense(x: Tensor, kernel: Tensor, bias?: Tensor): Tensor {
  const k = x.shape[x.rank - 1];
  if (x.rank < 1 || kernel.rank !== 2 || kernel.shape[0] !== k) {
    throw new ShapeError('dense', `needs x [..., K] and kernel [K, M], got x ${fmt(x.shape)} and kernel ${fmt(kernel.shape)}`);
  }
  const rows = k === 0 ? 0 : x.size / k;
  const look = lookupOf(x);
  if (look && look.table.shape[0] < rows) {
    const t = matmul(look.table, kernel);
    return gather(bias ? biasAct(t, bias) : t, look.ids, 0);
  }
  const y = matmul(x.rank === 2 ? x : reshape(x, [rows, k]), kernel);
  const out = bias ? biasAct(y, bias) : y;
  return x.rank === 2 ? out : reshape(out, [...x.shape.slice(0, -1), kernel.shape[1]]);
}

/**
 * The adjoint of gather: a zero tensor with `axisLen` entries along `axis` into which the slices of
 * `updates` (shape x[:axis] + indices.shape + x[axis+1:]) are added at `indices` (duplicates accumulate).
 */
export function scatterAdd(updates: Tensor, indices: Tensor, axisLen: number, axis = 0): Tensor {
  const b = backendOf('scatterAdd', updates, indices);
  requireDType('scatterAdd', 'int32', indices);
  requireDType('scatterAdd', 'float32', updates);
  const a = normAxis('scatterAdd', axis, updates.rank - indices.rank + 1);
  const mid = updates.shape.slice(a, a + indices.rank);
  if (mid.length !== indices.rank || mid.some((d, i) => d !== indices.shape[i])) {
    throw new ShapeError('scatterAdd', `updates ${fmt(updates.shape)} do not have indices ${fmt(indices.shape)} at axis ${a}`);
  }
  const shape = [...updates.shape.slice(0, a), axisLen, ...updates.shape.slice(a + indices.rank)];
  const y = empty(shape, 'float32', b);
  b.fill(y.buf, 'float32', y.size, 0);
  const outer = sizeOf(shape.slice(0, a));
  const inner = sizeOf(shape.slice(a + 1));
  checkIndex('scatterAdd', b.scatterAdd(updates.buf, indices.buf, y.buf, outer, axisLen, inner, indices.size), indices, axisLen);
  return record('scatterAdd', [updates, indices], y, { axis: a, axisLen });
}

/** One-hot float32 encoding of int32 labels: [...labels.shape, depth]. Labels outside [0, depth) give a zero row. */
export function oneHot(labels: Tensor, depth: number): Tensor {
  backendOf('oneHot', labels);
  requireDType('oneHot', 'int32', labels);
  if (!Number.isInteger(depth) || depth < 0) throw new RangeError(`oneHot: depth must be an integer ≥ 0, got ${quote(depth)}`);
  return equal(expandDims(cast(labels, 'float32'), -1), range(0, depth));
}

/**
 * How a loss weighs its positions (Keras `sample_weight`, mask and `ignore_class`; PyTorch `ignore_index`).
 * Positions are the label entries of a cross-entropy ([...] for predictions [..., C]) or the elements of MSE.
 * The loss is Σ weight·loss over the positions that count, divided by how many count (Keras
 * `sum_over_batch_size`): without a mask or ignoreClass that is every position; if none counts, the loss is 0.
 */
export interface LossWeighting {
  /** Per-position weights, float32, shaped like a prefix of the positions ([B] or [B, T] for [B, T]) and broadcast over the rest. */
  weights?: Tensor;
  /** Which positions count (nonzero), shaped like a prefix of the positions; the mean divides by their number. */
  mask?: Tensor;
  /** A label whose positions do not count (e.g. a padding id 0, or −100); sparse labels only. Default: none. */
  ignoreClass?: number;
  /** Who errors name (a loss passes its Keras name); default: the op's name. */
  name?: string;
}

/** Per-position weights resolved by {@link positionWeights}. */
export interface PositionWeights {
  /** sampleWeight at each position that counts, 0 elsewhere (row-major over the positions). */
  weight: Float64Array;
  /** 1 where the position counts (mask nonzero, label ≠ ignoreClass). */
  counts: Uint8Array;
  /** How many positions count. */
  valid: number;
}

/** True when `o` asks for anything beyond a plain mean over all positions. */
export function isWeighted(o: LossWeighting): boolean {
  return o.weights !== undefined || o.mask !== undefined || o.ignoreClass !== undefined;
}

/** The values of `t` broadcast from a prefix of `positions` over the rest; throws naming `what`, both shapes and what would fit. */
function prefixValues(name: string, what: string, t: Tensor, positions: readonly number[]): { v: ArrayLike<number>; block: number } {
  if (t.rank > positions.length || t.shape.some((d, i) => d !== positions[i])) {
    const fits = positions.map((_, i) => fmt(positions.slice(0, i + 1))).join(' or ');
    throw new ShapeError(name, `${what} ${fmt(t.shape)} do not fit positions ${fmt(positions)}: expected ${fits}`);
  }
  return { v: t.data(), block: sizeOf(positions.slice(t.rank)) };
}

/**
 * Resolves {@link LossWeighting} over `positions`: sample weights and mask (prefixes, broadcast) and, with
 * `labels`, ignoreClass. Throws ShapeError naming `o.name ?? op`, both shapes and the shapes that would fit.
 */
export function positionWeights(op: string, positions: readonly number[], o: LossWeighting, labels?: ArrayLike<number>): PositionWeights {
  const name = o.name ?? op;
  const n = sizeOf(positions);
  const w = o.weights && prefixValues(name, 'sample weights', o.weights, positions);
  const m = o.mask && prefixValues(name, 'mask', o.mask, positions);
  const weight = new Float64Array(n);
  const counts = new Uint8Array(n);
  let valid = 0;
  for (let i = 0; i < n; i++) {
    if (m && m.v[Math.floor(i / m.block)] === 0) continue;
    if (labels && o.ignoreClass !== undefined && labels[i] === o.ignoreClass) continue;
    counts[i] = 1;
    weight[i] = w ? w.v[Math.floor(i / w.block)] : 1;
    valid++;
  }
  return { weight, counts, valid };
}

/** Σ values·weight / valid: the weighted mean of per-position values [positions] (0 when no position counts). */
export function weightedSum(values: Tensor, pw: PositionWeights): Tensor {
  const scale = new Float32Array(pw.weight.length);
  if (pw.valid > 0) for (let i = 0; i < scale.length; i++) scale[i] = pw.weight[i] / pw.valid;
  return sum(mul(values, tensor(scale, values.shape)));
}

/**
 * Checks sparse labels [...] against predictions [..., C] (int32, the leading shape, values in [0, C) at the
 * positions that count) and resolves the weighting; errors name `o.name ?? op` and both shapes.
 */
export function sparseLabels(op: string, pred: Tensor, labels: Tensor, o: LossWeighting = {}): { values: ArrayLike<number>; weights: PositionWeights | undefined } {
  const name = o.name ?? op;
  requireDType(name, 'int32', labels);
  const positions = pred.shape.slice(0, -1);
  if (pred.rank < 2 || labels.rank !== positions.length || labels.shape.some((d, i) => d !== positions[i])) {
    throw new ShapeError(name, `predictions [..., C] need labels of their leading shape: predictions ${fmt(pred.shape)} need labels ${pred.rank < 2 ? '[B, ...]' : fmt(positions)}, got ${fmt(labels.shape)}`);
  }
  const c = pred.shape[pred.rank - 1];
  const l = labels.data();
  const pw = isWeighted(o) ? positionWeights(name, positions, o, l) : undefined;
  for (let i = 0; i < l.length; i++) {
    if ((pw === undefined || pw.counts[i]) && (l[i] < 0 || l[i] >= c)) {
      throw new IndexError(name, `label ${l[i]} at position ${i} of labels ${fmt(labels.shape)} is outside [0, ${c}) (predictions ${fmt(pred.shape)})`);
    }
  }
  return { values: l, weights: pw };
}

/**
 * Mean cross-entropy between logits [..., C] and int32 labels [...] (sparse categorical, from logits),
 * computed stably through log-softmax, optionally weighted and masked ({@link LossWeighting}). Throws on
 * labels outside [0, C) at positions that count, and on labels or weights whose shape does not fit.
 */
export function softmaxCrossEntropy(logits: Tensor, labels: Tensor, o: LossWeighting = {}): Tensor {
  const { values: l, weights: pw } = sparseLabels('softmaxCrossEntropy', logits, labels, o);
  const c = logits.shape[logits.rank - 1];
  const rows = l.length;
  // One fused pass per row picks each position's log-probability (the bits the log-softmax gives there); positions that
  // do not count pick class 0 and weigh 0.
  const flat = pw ? Int32Array.from({ length: rows }, (_, i) => (pw.counts[i] ? l[i] : 0)) : undefined;
  const [picked] = logSoftmaxPick(logits.rank === 2 ? logits : reshape(logits, [rows, c]), flat ? tensor(flat, [rows], 'int32') : labels.rank === 1 ? labels : reshape(labels, [rows]));
  return pw ? neg(weightedSum(reshape(picked, labels.shape), pw)) : neg(mean(picked));
}

/** Mean squared error over all elements of any shape, optionally weighted and masked per element prefix ({@link LossWeighting}). */
export function meanSquaredError(pred: Tensor, target: Tensor, o: LossWeighting = {}): Tensor {
  const d = sub(pred, target);
  if (!isWeighted(o)) return mean(mul(d, d));
  if (o.ignoreClass !== undefined) throw new RangeError(`${o.name ?? 'meanSquaredError'}: ignoreClass needs sparse labels (a cross-entropy)`);
  return weightedSum(mul(d, d), positionWeights('meanSquaredError', d.shape, o));
}

/** Flattens all axes after the first: [N, ...] → [N, prod(...)]. */
export function flatten(x: Tensor): Tensor {
  return reshape(x, [x.shape[0], sizeOf(x.shape.slice(1))]);
}
