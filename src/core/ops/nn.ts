// Neural-network ops: softmax, fused bias + activation, gather / scatter-add, one-hot and losses.
import type { BiasActivation } from '../../backend/backend.js';
import { fmt, IndexError, ShapeError } from '../errors.js';
import { normAxis, sizeOf } from '../shape.js';
import { record } from '../tape.js';
import { empty, type Tensor } from '../tensor.js';
import { cast, equal, mul, neg, sub } from './elementwise.js';
import { mean, sum } from './reduce.js';
import { expandDims, reshape, transpose } from './shape-ops.js';
import { range } from './creation.js';
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

/** act(x + bias) with bias [C] added along the last axis of x [..., C]; one fused kernel. */
export function biasAct(x: Tensor, bias: Tensor, act: BiasActivation = 'linear'): Tensor {
  const b = backendOf('biasAct', x, bias);
  requireDType('biasAct', 'float32', x, bias);
  const cols = x.shape[x.rank - 1];
  if (x.rank < 1 || bias.rank !== 1 || bias.shape[0] !== cols) {
    throw new ShapeError('biasAct', `bias ${fmt(bias.shape)} does not match the last axis of ${fmt(x.shape)}`);
  }
  const y = empty(x.shape, 'float32', b);
  b.biasAct(x.buf, bias.buf, y.buf, cols === 0 ? 0 : x.size / cols, cols, act);
  return record('biasAct', [x, bias], y, { act });
}

function checkIndex(op: string, code: number, indices: Tensor, axisLen: number): void {
  if (code < 0) return;
  const bad = indices.data()[code];
  throw new IndexError(op, `index ${bad} at position ${code} of indices ${fmt(indices.shape)} is outside [0, ${axisLen})`);
}

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
  return record('gather', [x, indices], y, { axis: a });
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
  requireDType('oneHot', 'int32', labels);
  return equal(expandDims(cast(labels, 'float32'), -1), range(0, depth));
}

/**
 * Mean cross-entropy between logits [B, C] and int32 labels [B] (sparse categorical, from logits),
 * computed stably through log-softmax. Throws on labels outside [0, C).
 */
export function softmaxCrossEntropy(logits: Tensor, labels: Tensor): Tensor {
  requireDType('softmaxCrossEntropy', 'int32', labels);
  if (logits.rank !== 2 || labels.rank !== 1 || labels.shape[0] !== logits.shape[0]) {
    throw new ShapeError('softmaxCrossEntropy', `logits must be [B,C] and labels [B], got ${fmt(logits.shape)} and ${fmt(labels.shape)}`);
  }
  const c = logits.shape[1];
  const l = labels.data();
  for (let i = 0; i < l.length; i++) {
    if (l[i] < 0 || l[i] >= c) throw new IndexError('softmaxCrossEntropy', `label ${l[i]} at position ${i} is outside [0, ${c})`);
  }
  const picked = sum(mul(logSoftmax(logits), oneHot(labels, c)), 1);
  return neg(mean(picked));
}

/** Mean squared error over all elements. */
export function meanSquaredError(pred: Tensor, target: Tensor): Tensor {
  const d = sub(pred, target);
  return mean(mul(d, d));
}

/** Flattens all axes after the first: [N, ...] → [N, prod(...)]. */
export function flatten(x: Tensor): Tensor {
  return reshape(x, [x.shape[0], sizeOf(x.shape.slice(1))]);
}
