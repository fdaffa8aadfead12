// Wasm wrappers of the fused recurrences (rnn_forward / rnn_backward): one parallel call for the whole sequence split
// over batch rows, or, for a batch too small to split, one call per step split over units.
//
// Legend: N batch, T steps, U units, G gates, S saved values per unit (see backend.ts). All [N, T, ·] tensors are
// batch-major: step s's slice starts s (or τ) rows of its width in and has a row stride of T·width.
import {
  type Buf, RNN_GATES, RNN_SAVED, type RnnBackwardBufs, type RnnForwardBufs, type RnnParams, rnnTimeOf as timeOf,
} from '../backend.js';
import { BiasAct, Cell } from '../opcodes.js';
import { wasmCopy } from './copy.js';
import { wasmFill } from './elementwise.js';
import { MACS_PER_THREAD } from './gemm.js';
import { SCRATCH_BYTES, type WasmContext } from './context.js';

/** GEMM panel width (RT_NR in src/kernels/lib/gemm-rows.ts): a unit split starts at a panel. */
const NR = 8;
/** GEMM tile height (RT_MR): a row split starts at a tile. */
const MR = 4;
/** Most rows a block holds (the kernels' rb), before the scratch limit. */
const MAX_BLOCK_ROWS = 64;
/** Fewest rows per thread for a row split (else each step is split over units). */
const MIN_ROWS_PER_THREAD = 4;
/**
 * Fewest multiply-adds per thread and step for a split over units: every thread waits for the others at each step, which
 * on a busy machine can cost more than a small step's work (~25 µs here).
 */
const MIN_STEP_MACS_PER_THREAD = 1 << 20;

/** Floats of a [k, n] matrix packed by packB8 (ceil(n/8) zero-padded panels of k rows). */
function packedSize(k: number, n: number): number {
  return k * Math.ceil(n / NR) * NR;
}

/** Byte address of element `i` of buffer `b`. */
function at(b: Buf, i: number): Buf {
  return b + i * 4;
}

/** Copies an [N, U] block between buffers with the given row strides (elements). */
function copyRows(ctx: WasmContext, src: Buf, srcRow: number, dst: Buf, dstRow: number, n: number, units: number): void {
  wasmCopy(ctx, src, dst, { shape: [n, units], srcStrides: [srcRow, 1], srcOffset: 0, dstStrides: [dstRow, 1], dstOffset: 0 });
}

/**
 * How a recurrence is split over threads. Rows (each thread runs every step for its rows, no wait between steps) when
 * every thread gets at least MIN_ROWS_PER_THREAD rows, or on one thread; else one call per step split over units. The
 * kernels give the same bits either way. `rb` is the most rows a block holds: a multiple of 4 whose packed rows (and
 * forward GEMM output) fit a thread's scratch.
 */
function plan(ctx: WasmContext, q: RnnParams, floatsPerRow: number): { rows: boolean; rb: number; flags: number } {
  const rows = ctx.threads === 1 || q.n >= MIN_ROWS_PER_THREAD * ctx.threads;
  const rb = Math.max(MR, Math.min(MAX_BLOCK_ROWS, Math.floor(SCRATCH_BYTES / 4 / floatsPerRow / MR) * MR));
  return { rows, rb, flags: (q.reverse ? 1 : 0) | (q.zeroOutput ? 2 : 0) | (rows ? 4 : 0) };
}

/**
 * Runs `name` over steps lo … hi−1: one call for all of them split over rows, or one call per step split over units,
 * in ascending order (descending when `down`).
 */
function runSteps(ctx: WasmContext, name: string, q: RnnParams, rows: boolean, lo: number, hi: number, down: boolean,
  args: (s0: number, s1: number) => number[]): void {
  if (rows) {
    ctx.parallel(name, args(lo, hi), q.n, MR, MR);
    return;
  }
  const min = Math.ceil(MIN_STEP_MACS_PER_THREAD / Math.max(1, q.n * RNN_GATES[q.cell] * q.units));
  for (let k = 0; k < hi - lo; k++) {
    const s = down ? hi - 1 - k : lo + k;
    ctx.parallel(name, args(s, s + 1), q.units, NR, min);
  }
}

/** The forward recurrence (Kernels.rnnForward). */
export function wasmRnnForward(ctx: WasmContext, b: RnnForwardBufs, q: RnnParams): void {
  const { n, t: T, units: U, cell } = q;
  if (n === 0 || U === 0) return;
  const G = RNN_GATES[cell];
  const SU = RNN_SAVED[cell] * U;
  if (T === 0) {
    copyRows(ctx, b.h0, U, b.h, U, n, U);
    if (b.c) copyRows(ctx, b.c0!, U, b.c, U, n, U);
    return;
  }
  copyRows(ctx, b.h0, U, at(b.hprev, timeOf(q, 0) * U), T * U, n, U);
  const { rows, rb, flags } = plan(ctx, q, U + G * Math.ceil(U / NR) * NR);
  // u's gate blocks [U, U], each packed once for the T GEMMs h·u.
  const upk = ctx.allocTemp(G * packedSize(U, U) * 4);
  try {
    ctx.exports.rnn_pack(Cell[cell], U, 0, b.u, upk);
    const head = [Cell[cell], BiasAct[q.act], BiasAct[q.recAct], n, T, U, flags];
    const tail = [upk, b.bRec ?? 0, b.hprev, b.c0 ?? 0, b.save, b.y, b.h, b.mask ?? 0, b.ids ?? 0];
    runSteps(ctx, 'rnn_forward', q, rows, 0, T, false, (s0, s1) => [...head, s0, s1, rb, b.p, ...tail]);
  } finally {
    ctx.freeTemp(upk);
  }
  if (b.c) copyRows(ctx, at(b.save, timeOf(q, T - 1) * SU + 4 * U), T * SU, b.c, U, n, U);
}

/**
 * The backward recurrence (Kernels.rnnBackward): steps T−1 … 0 and a last GEMM dh0 = dh + dr_0·uᵀ ("step −1"). The
 * running dh lives in a [ceil4(N), Up] buffer (whole GEMM tiles), dc0 serves as the running dc.
 */
export function wasmRnnBackward(ctx: WasmContext, b: RnnBackwardBufs, q: RnnParams): void {
  const { n, t: T, units: U, cell } = q;
  if (n === 0 || U === 0) return;
  const GU = RNN_GATES[cell] * U;
  const up = Math.ceil(U / NR) * NR;
  if (b.dc0) copyRows(ctx, b.gc!, U, b.dc0, U, n, U);
  if (T === 0) {
    copyRows(ctx, b.gh, U, b.dh0, U, n, U);
    return;
  }
  const { rows, rb, flags } = plan(ctx, q, GU);
  const ut = ctx.allocTemp(packedSize(GU, U) * 4);
  const dh = ctx.allocTemp(Math.ceil(n / MR) * MR * up * 4);
  const carry = ctx.allocTemp(n * U * 4);
  try {
    // uᵀ [GU, U] packed once for the T GEMMs dr·uᵀ.
    ctx.exports.rnn_pack(Cell[cell], U, 1, b.u, ut);
    wasmFill(ctx, dh, 'float32', Math.ceil(n / MR) * MR * up, 0);
    copyRows(ctx, b.gh, U, dh, up, n, U);
    wasmFill(ctx, carry, 'float32', n * U, 0);
    const head = [Cell[cell], BiasAct[q.act], BiasAct[q.recAct], n, T, U, flags];
    const tail = [ut, dh, b.dc0 ?? 0, carry, b.gy, b.mask ?? 0, b.save, b.hprev, b.c0 ?? 0, b.dp, b.dr ?? 0];
    runSteps(ctx, 'rnn_backward', q, rows, -1, T, true, (s0, s1) => [...head, s0, s1, rb, ...tail]);
    copyRows(ctx, dh, up, b.dh0, U, n, U);
    if (b.du) kernelGrad(ctx, b.du, b.hprev, b.dr ?? b.dp, n * T, U, GU);
  } finally {
    ctx.freeTemp(ut);
    ctx.freeTemp(dh);
    ctx.freeTemp(carry);
  }
}

/**
 * du [U, GU] = hprevᵀ·dr over all R = N·T rows (rnn_kernel_grad), split over GU's 8-column panels; through a buffer
 * of whole tiles when U is not a multiple of 4 or GU of 8.
 */
function kernelGrad(ctx: WasmContext, du: Buf, hprev: Buf, dr: Buf, rows: number, U: number, GU: number): void {
  const panels = Math.ceil(GU / NR);
  const direct = U % MR === 0 && GU % NR === 0;
  const ldc = panels * NR;
  const c = direct ? du : ctx.allocTemp(Math.ceil(U / MR) * MR * ldc * 4);
  try {
    ctx.parallel('rnn_kernel_grad', [U, GU, rows, hprev, dr, c, ldc], panels, 1, Math.ceil(MACS_PER_THREAD / Math.max(1, U * NR * rows)));
    if (!direct) copyRows(ctx, c, ldc, du, GU, U, GU);
  } finally {
    if (!direct) ctx.freeTemp(c);
  }
}
