// The fused recurrence op: a whole SimpleRNN / LSTM / GRU sequence as one tape node, and its backward through time.
//
// Legend: N batch, T time steps, U units, G gates (SimpleRNN 1, LSTM 4 in Keras order i, f, c, o; GRU 3: z, r, h),
// S values saved per unit and step (1, 6, 4).
import { type OutputActivation, RNN_GATES, RNN_SAVED, type RnnCell, type RnnParams } from '../../backend/backend.js';
import { checkOptions, fmt, IndexError, ShapeError } from '../errors.js';
import { shapesEqual } from '../shape.js';
import { recordMany } from '../tape.js';
import { empty, type Tensor } from '../tensor.js';
import { backendOf, requireDType } from './util.js';

/** Options of {@link rnnSequence}. */
export interface RnnSequenceOptions {
  cell: RnnCell;
  /** The cell's activation (Keras `activation`). */
  activation: OutputActivation;
  /** The gates' activation (Keras `recurrent_activation`; SimpleRNN has none). */
  recurrentActivation?: OutputActivation;
  /** Process time steps T−1…0 (Keras go_backwards); outputs stay in processing order. */
  reverse?: boolean;
  /** Masked steps output 0 instead of the previous output (Keras zero_output_for_mask). */
  zeroOutputForMask?: boolean;
  /** LSTM: the initial cell state c0 [N, U]. */
  c0?: Tensor;
  /** GRU: the recurrent bias [G·U], added to h·U before the reset gate scales its h block. */
  recurrentBias?: Tensor;
  /** float32 [N, T]: 0 marks a step to skip (state carried over), anything else a real step. */
  mask?: Tensor;
  /**
   * int32 [N, T]: p is then a table [V, G·U] and row n at time τ takes its projection from row ids[n, τ] (an Embedding
   * feeding the layer: p = (embeddings·W + b)[ids] without writing out all N·T rows); ∂L/∂p sums into the table's rows.
   */
  ids?: Tensor;
}

/** What {@link rnnSequence} returns. */
export interface RnnSequenceResult {
  /** Outputs of every step, [N, T, U], in processing order. */
  y: Tensor;
  /** Final state h [N, U]. */
  h: Tensor;
  /** LSTM: final cell state c [N, U]. */
  c?: Tensor;
}

/** Attributes recorded with an rnnSequence / rnnSequenceGrad node. */
export interface RnnAttrs {
  q: RnnParams;
  hasBias: boolean;
  hasMask: boolean;
  hasIds: boolean;
}

/**
 * A whole recurrence given the input projections p [N, T, G·U] = x·W + b (one GEMM over all steps, done by the caller)
 * and the recurrent kernel u [U, G·U] (Keras layout), from the initial state h0 [N, U]: per step one GEMM h·u and the
 * fused cell (see Kernels.rnnForward). One tape node whose backward runs through time (rnnSequenceGrad) and returns
 * ∂L/∂p, ∂L/∂u, ∂L/∂h0 (∂L/∂c0, ∂L/∂recurrentBias). Throws a ShapeError naming the operand and both shapes.
 */
export function rnnSequence(p: Tensor, u: Tensor, h0: Tensor, o: RnnSequenceOptions): RnnSequenceResult {
  checkOptions('rnnSequence', o, ['cell', 'activation', 'recurrentActivation', 'reverse', 'zeroOutputForMask', 'c0', 'recurrentBias', 'mask', 'ids'], { goBackwards: 'write it reverse' });
  const { cell, ids } = o;
  const extra = [o.c0, o.recurrentBias, o.mask].filter((t): t is Tensor => t !== undefined);
  const be = backendOf('rnnSequence', p, u, h0, ...extra, ...(ids ? [ids] : []));
  requireDType('rnnSequence', 'float32', p, u, h0, ...extra);
  const G = RNN_GATES[cell];
  const pRank = ids ? 2 : 3;
  if (p.rank !== pRank || u.rank !== 2 || p.shape[pRank - 1] !== u.shape[1] || u.shape[1] !== G * u.shape[0]) {
    const wanted = ids ? `a projection table p [V, ${G}·U] (with ids)` : `projections p [N, T, ${G}·U]`;
    throw new ShapeError('rnnSequence', `${cell} needs ${wanted} and recurrent kernel u [U, ${G}·U], got p ${fmt(p.shape)} and u ${fmt(u.shape)}`);
  }
  if (ids) {
    requireDType('rnnSequence', 'int32', ids);
    if (ids.rank !== 2) throw new ShapeError('rnnSequence', `ids must be int32 [N, T], got ${fmt(ids.shape)}`);
    checkRows(ids, p.shape[0]);
  }
  const [n, t] = ids ? ids.shape : p.shape;
  const units = u.shape[0];
  const state = [n, units];
  const expect = (what: string, x: Tensor | undefined, shape: number[], wanted: boolean): void => {
    if (wanted && x === undefined) throw new ShapeError('rnnSequence', `${cell} needs ${what} ${fmt(shape)}`);
    if (!wanted && x !== undefined) throw new ShapeError('rnnSequence', `${cell} takes no ${what}, got ${fmt(x.shape)}`);
    if (x && !shapesEqual(x.shape, shape)) throw new ShapeError('rnnSequence', `${what} must be ${fmt(shape)} for p ${fmt(p.shape)}, got ${fmt(x.shape)}`);
  };
  expect('initial state h0', h0, state, true);
  expect('initial cell state c0', o.c0, state, cell === 'lstm');
  if (o.recurrentBias) expect('recurrent bias', o.recurrentBias, [G * units], cell === 'gru');
  if (o.mask) expect('mask', o.mask, [n, t], true);
  const q: RnnParams = {
    cell, n, t, units, act: o.activation, recAct: o.recurrentActivation ?? 'sigmoid',
    reverse: o.reverse ?? false, zeroOutput: o.zeroOutputForMask ?? false,
  };
  const y = empty([n, t, units], 'float32', be);
  const h = empty(state, 'float32', be);
  const c = cell === 'lstm' ? empty(state, 'float32', be) : undefined;
  const hprev = empty([n, t, units], 'float32', be);
  const save = empty([n, t, RNN_SAVED[cell] * units], 'float32', be);
  be.rnnForward({
    p: p.buf, u: u.buf, h0: h0.buf, c0: o.c0?.buf, bRec: o.recurrentBias?.buf, mask: o.mask?.buf, ids: ids?.buf,
    y: y.buf, h: h.buf, c: c?.buf, hprev: hprev.buf, save: save.buf,
  }, q);
  const inputs = [p, u, h0, ...extra, ...(ids ? [ids] : [])];
  const outputs = [y, h, ...(c ? [c] : []), hprev, save];
  recordMany('rnnSequence', inputs, outputs, { q, hasBias: o.recurrentBias !== undefined, hasMask: o.mask !== undefined, hasIds: ids !== undefined });
  return { y, h, c };
}

/** Throws an IndexError naming the first id outside [0, rows). */
function checkRows(ids: Tensor, rows: number): void {
  const d = ids.data();
  for (let i = 0; i < d.length; i++) {
    if (!(d[i] >= 0 && d[i] < rows)) {
      throw new IndexError('rnnSequence', `id ${d[i]} at position ${i} of ids ${fmt(ids.shape)} is outside the table's rows [0, ${rows})`, d[i], i);
    }
  }
}

/**
 * The backward pass through time of one rnnSequence node: given its inputs, its outputs (y, h, [c], hprev, save) and
 * the gradients gy, gh, [gc] of y, h, [c], returns { dp, dr, dh0, dc0?, du? } where dr is ∂L/∂(h·u + bRec) per step
 * (for the other cells it is dp itself) and du = ∂L/∂u (when `withKernel`). Recorded so a gradient of a gradient fails
 * loudly instead of silently.
 */
export function rnnSequenceGrad(inputs: readonly Tensor[], outputs: readonly Tensor[], gy: Tensor, gh: Tensor, gc: Tensor | undefined, a: RnnAttrs,
  withKernel: boolean): { dp: Tensor; dr: Tensor; dh0: Tensor; dc0?: Tensor; du?: Tensor } {
  const { q } = a;
  const [, u, , ...rest] = inputs;
  const c0 = q.cell === 'lstm' ? rest[0] : undefined;
  const bRec = a.hasBias ? rest[q.cell === 'lstm' ? 1 : 0] : undefined;
  const mask = a.hasMask ? rest[rest.length - (a.hasIds ? 2 : 1)] : undefined;
  const [hprev, save] = outputs.slice(-2);
  const be = backendOf('rnnSequenceGrad', u, hprev, save, gy, gh);
  const G = RNN_GATES[q.cell];
  const dp = empty([q.n, q.t, G * q.units], 'float32', be);
  const dr = q.cell === 'gru' ? empty(dp.shape, 'float32', be) : dp;
  const dh0 = empty([q.n, q.units], 'float32', be);
  const dc0 = c0 ? empty([q.n, q.units], 'float32', be) : undefined;
  const du = withKernel ? empty(u.shape, 'float32', be) : undefined;
  be.rnnBackward({
    u: u.buf, bRec: bRec?.buf, mask: mask?.buf, c0: c0?.buf, hprev: hprev.buf, save: save.buf,
    gy: gy.buf, gh: gh.buf, gc: gc?.buf, dp: dp.buf, dr: dr === dp ? undefined : dr.buf, dh0: dh0.buf, dc0: dc0?.buf, du: du?.buf,
  }, q);
  const extra = [c0, bRec, mask, gc].filter((t): t is Tensor => t !== undefined);
  const outs = [dp, ...(dr !== dp ? [dr] : []), dh0, ...(dc0 ? [dc0] : []), ...(du ? [du] : [])];
  recordMany('rnnSequenceGrad', [u, hprev, save, gy, gh, ...extra], outs, a);
  return { dp, dr, dh0, dc0, du };
}
