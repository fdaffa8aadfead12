// Wasm wrappers of the reductions: reduce (sum/mean/max/min), argmax, softmax / log-softmax, attention's masked softmax.
import type { Buf, MaskedSoftmaxParams, ReduceOp } from '../backend.js';
import { Reduce } from '../opcodes.js';
import type { WasmContext } from './context.js';

/** Elements of input a thread should get at least before the work is split. */
const WORK_PER_THREAD = 1 << 16;

/** Outputs per thread so that each thread reads at least WORK_PER_THREAD inputs (`size` inputs per output). */
function minOutputs(size: number, work = WORK_PER_THREAD): number {
  return Math.max(1, Math.ceil(work / Math.max(1, size)));
}

/** y[outer, inner] = op over s of x[outer, size, inner] (partitioned over outputs, so any thread count gives the same bits). */
export function wasmReduce(ctx: WasmContext, op: ReduceOp, x: Buf, y: Buf, outer: number, size: number, inner: number): void {
  const total = outer * inner;
  ctx.parallel('red_reduce', [Reduce[op], x, y, outer, size, inner], total, inner === 1 ? 1 : 16, minOutputs(size));
}

/** y[outer, inner] (int32) = index of the first maximum over s of x[outer, size, inner]; NaN counts as maximal. */
export function wasmArgmax(ctx: WasmContext, x: Buf, y: Buf, outer: number, size: number, inner: number): void {
  const total = outer * inner;
  ctx.parallel('red_argmax', [x, y, outer, size, inner], total, inner === 1 ? 1 : 16, minOutputs(size, WORK_PER_THREAD / 4));
}

/** y[rows, cols] = softmax (log-softmax when `log`) of each row of x, shifted by the row max (x may equal y). */
export function wasmSoftmax(ctx: WasmContext, x: Buf, y: Buf, rows: number, cols: number, log: boolean): void {
  ctx.parallel('red_softmax', [x, y, rows, cols, log ? 1 : 0], rows, 1, minOutputs(cols, 1 << 14));
}

/** The log-softmax at each row's label, with the row statistics (Kernels.logSoftmaxPick), split over rows. */
export function wasmLogSoftmaxPick(ctx: WasmContext, x: Buf, labels: Buf, logp: Buf, stats: Buf, rows: number, cols: number): void {
  ctx.parallel('red_logsm_pick', [x, labels, logp, stats, rows, cols], rows, 1, minOutputs(cols, 1 << 14));
}

/** The gradient of logSoftmaxPick (Kernels.logSoftmaxPickGrad), split over rows. */
export function wasmLogSoftmaxPickGrad(ctx: WasmContext, g: Buf, x: Buf, labels: Buf, stats: Buf, dx: Buf, rows: number, cols: number): void {
  ctx.parallel('red_logsm_pick_grad', [g, x, labels, stats, dx, rows, cols], rows, 1, minOutputs(cols, 1 << 14));
}

/** Attention probabilities (Kernels.maskedSoftmax), split over rows. */
export function wasmMaskedSoftmax(ctx: WasmContext, x: Buf, mask: Buf | null, y: Buf, p: MaskedSoftmaxParams): void {
  ctx.parallel('attn_softmax', [x, mask ?? 0, y, p.cols, p.tq, p.heads, p.scale, p.causal ? 1 : 0], p.rows, 1, minOutputs(p.cols, 1 << 14));
}

/** The gradient of the attention probabilities (Kernels.maskedSoftmaxGrad), split over rows. */
export function wasmMaskedSoftmaxGrad(ctx: WasmContext, g: Buf, y: Buf, dx: Buf, p: MaskedSoftmaxParams): void {
  ctx.parallel('attn_softmax_grad', [g, y, dx, p.cols, p.tq, p.scale, p.causal ? 1 : 0], p.rows, 1, minOutputs(p.cols, 1 << 14));
}
