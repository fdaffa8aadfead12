// Wasm wrappers of the fused recurrences: the time loop in TypeScript, one parallel kernel call per step (rnn_step_*).
//
// Legend: N batch, T steps, U units, G gates, S saved values per unit (see backend.ts). All [N, T, ·] tensors are
// batch-major: step s's slice starts s (or τ) rows of its width in and has a row stride of T·width.
import {
  type Buf, RNN_GATES, RNN_SAVED, type RnnBackwardBufs, type RnnForwardBufs, type RnnParams, rnnTimeOf as timeOf,
} from '../backend.js';
import { BiasAct, Cell } from '../opcodes.js';
import type { WasmContext } from './context.js';
import { wasmCopy } from './copy.js';
import { wasmFill } from './elementwise.js';
import { MACS_PER_THREAD } from './gemm.js';

/** Units are split in multiples of the GEMM's 12-column panels (gemm3_NR): a chunk starts at a packed panel. */
const GRAIN = 12;

/** Floats of a [k, n] matrix packed by gemm_pack_b (every KC block holds k's rows of ceil(n/12) zero-padded panels). */
function packedSize(k: number, n: number): number {
  return k * Math.ceil(n / GRAIN) * GRAIN;
}

/** Byte address of element `i` of buffer `b`. */
function at(b: Buf, i: number): Buf {
  return b + i * 4;
}

/** Copies an [N, U] block between buffers with the given row strides (elements). */
function copyRows(ctx: WasmContext, src: Buf, srcRow: number, dst: Buf, dstRow: number, n: number, units: number): void {
  wasmCopy(ctx, src, dst, { shape: [n, units], srcStrides: [srcRow, 1], srcOffset: 0, dstStrides: [dstRow, 1], dstOffset: 0 });
}

/** The thread split of one step: U units, at least enough units per thread for MACS_PER_THREAD multiply-adds. */
function split(q: RnnParams): [number, number, number] {
  const perUnit = q.n * RNN_GATES[q.cell] * q.units;
  return [q.units, GRAIN, Math.ceil(MACS_PER_THREAD / Math.max(1, perUnit))];
}

/** The forward recurrence (Kernels.rnnForward): T calls of rnn_step_forward. */
export function wasmRnnForward(ctx: WasmContext, b: RnnForwardBufs, q: RnnParams): void {
  const { n, t: T, units: U, cell } = q;
  if (n === 0 || U === 0) return;
  const GU = RNN_GATES[cell] * U;
  const SU = RNN_SAVED[cell] * U;
  if (T === 0) {
    copyRows(ctx, b.h0, U, b.h, U, n, U);
    if (b.c) copyRows(ctx, b.c0!, U, b.c, U, n, U);
    return;
  }
  copyRows(ctx, b.h0, U, at(b.hprev, timeOf(q, 0) * U), T * U, n, U);
  // u's gate blocks [U, U], each packed once for the T GEMMs h·u.
  const G = RNN_GATES[cell];
  const block = packedSize(U, U);
  const upk = ctx.allocTemp(G * block * 4);
  try {
    for (let g = 0; g < G; g++) ctx.exports.gemm_pack_b(U, U, at(b.u, g * U), GU, 1, at(upk, g * block));
    forwardSteps(ctx, b, q, upk);
  } finally {
    ctx.freeTemp(upk);
  }
  if (b.c) copyRows(ctx, at(b.save, timeOf(q, T - 1) * SU + 4 * U), T * SU, b.c, U, n, U);
}

/** The T parallel calls of the forward recurrence, u packed at upk. */
function forwardSteps(ctx: WasmContext, b: RnnForwardBufs, q: RnnParams, upk: Buf): void {
  const { n, t: T, units: U, cell } = q;
  const GU = RNN_GATES[cell] * U;
  const SU = RNN_SAVED[cell] * U;
  const head = [Cell[cell], BiasAct[q.act], BiasAct[q.recAct], n, U, q.zeroOutput ? 1 : 0];
  const [total, grain, min] = split(q);
  for (let s = 0; s < T; s++) {
    const tau = timeOf(q, s);
    const last = s === T - 1;
    const hn = last ? b.h : at(b.hprev, timeOf(q, s + 1) * U);
    const [c, cRow] = cell !== 'lstm' ? [0, 0] : s === 0 ? [b.c0!, U] : [at(b.save, timeOf(q, s - 1) * SU + 4 * U), T * SU];
    ctx.parallel('rnn_step_forward', [
      ...head, at(b.p, tau * GU), T * GU, upk, Math.ceil(U / GRAIN), b.bRec ?? 0, at(b.hprev, tau * U), T * U, c, cRow,
      at(b.save, tau * SU), T * SU, hn, last ? U : T * U, at(b.y, s * U), s === 0 ? 0 : at(b.y, (s - 1) * U), T * U,
      b.mask === undefined ? 0 : at(b.mask, tau), T,
    ], total, grain, min);
  }
}

/**
 * The backward recurrence (Kernels.rnnBackward): rnn_step_backward for s = T−1 … 0, then once more (s = −1) for the last
 * GEMM dh0 += dr_0·uᵀ; dh0 / dc0 serve as the running dh / dc.
 */
export function wasmRnnBackward(ctx: WasmContext, b: RnnBackwardBufs, q: RnnParams): void {
  const { n, t: T, units: U, cell } = q;
  if (n === 0 || U === 0) return;
  const GU = RNN_GATES[cell] * U;
  const SU = RNN_SAVED[cell] * U;
  const [total, grain, min] = split(q);
  copyRows(ctx, b.gh, U, b.dh0, U, n, U);
  if (b.dc0) copyRows(ctx, b.gc!, U, b.dc0, U, n, U);
  if (T === 0) return;
  const dr = b.dr ?? b.dp;
  const ut = ctx.allocTemp(packedSize(GU, U) * 4);
  const carry = ctx.allocTemp(n * U * 4);
  try {
    // uᵀ [GU, U] packed once for the T GEMMs dr·uᵀ.
    ctx.exports.gemm_pack_b(GU, U, b.u, 1, GU, ut);
    wasmFill(ctx, carry, 'float32', n * U, 0);
    const head = [Cell[cell], BiasAct[q.act], BiasAct[q.recAct], n, U, q.zeroOutput ? 1 : 0];
    for (let s = T - 1; s >= -1; s--) {
      const drNext = s === T - 1 ? 0 : at(dr, timeOf(q, s + 1) * GU);
      if (s < 0) {
        ctx.parallel('rnn_step_backward', [...head, 0, drNext, T * GU, ut, Math.ceil(U / GRAIN), b.dh0, ...new Array<number>(14).fill(0)], total, grain, min);
        break;
      }
      const tau = timeOf(q, s);
      const [cb, cbRow] = cell !== 'lstm' ? [0, 0] : s === 0 ? [b.c0!, U] : [at(b.save, timeOf(q, s - 1) * SU + 4 * U), T * SU];
      ctx.parallel('rnn_step_backward', [
        ...head, 1, drNext, T * GU, ut, Math.ceil(U / GRAIN), b.dh0, b.dc0 ?? 0, carry, at(b.gy, s * U), T * U,
        b.mask === undefined ? 0 : at(b.mask, tau), T, at(b.save, tau * SU), T * SU, at(b.hprev, tau * U), T * U, cb, cbRow,
        at(b.dp, tau * GU), b.dr === undefined ? 0 : at(b.dr, tau * GU),
      ], total, grain, min);
    }
  } finally {
    ctx.freeTemp(ut);
    ctx.freeTemp(carry);
  }
}
