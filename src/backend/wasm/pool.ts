// Wasm wrappers of 2-D max/avg pooling (NHWC) and their gradients.
import type { Buf, Pool2DParams } from '../backend.js';
import type { WasmContext } from './context.js';

/** Window cells a thread should visit at least before the work is split. */
const WORK_PER_THREAD = 1 << 15;

/** The geometry as the kernels read it: i32[12] = [N, H, W, C, KH, KW, SH, SW, PT, PL, OH, OW]. */
function geometry(ctx: WasmContext, p: Pool2DParams): number {
  return ctx.params([p.n, p.h, p.w, p.c, p.kh, p.kw, p.strideH, p.strideW, p.padTop, p.padLeft, p.oh, p.ow]);
}

/** Units (output rows of OW·C outputs, KH·KW cells each) per thread for WORK_PER_THREAD cells. */
function minRows(p: Pool2DParams, cellsPerUnit: number): number {
  return Math.max(1, Math.ceil(WORK_PER_THREAD / Math.max(1, cellsPerUnit)));
}

/** y[N,OH,OW,C] = max over each window of x[N,H,W,C] (padded cells never win; NaN propagates). */
export function wasmMaxPool2d(ctx: WasmContext, x: Buf, y: Buf, p: Pool2DParams): void {
  ctx.parallel('pool_max', [x, y, geometry(ctx, p)], p.n * p.oh, 1, minRows(p, p.ow * p.c * p.kh * p.kw));
}

/** y[N,OH,OW,C] = mean over each window's valid cells of x[N,H,W,C]. */
export function wasmAvgPool2d(ctx: WasmContext, x: Buf, y: Buf, p: Pool2DParams): void {
  ctx.parallel('pool_avg', [x, y, geometry(ctx, p)], p.n * p.oh, 1, minRows(p, p.ow * p.c * p.kh * p.kw));
}

/**
 * dx[N,H,W,C] = dy routed to the first maximum (window order) of each window of x; overwrites dx.
 * Non-overlapping rows of windows (strideH ≥ KH) split over output rows, otherwise over images.
 */
export function wasmMaxPool2dGrad(ctx: WasmContext, x: Buf, dy: Buf, dx: Buf, p: Pool2DParams): void {
  const rowMode = p.strideH >= p.kh && p.oh > 0 ? 1 : 0;
  const units = rowMode ? p.n * p.oh : p.n;
  const cells = (p.ow * p.c * p.kh * p.kw) * (rowMode ? 1 : Math.max(1, p.oh));
  if (units === 0 || p.oh === 0) {
    // No window: the gradient is all zeros.
    ctx.parallel('ew_fill', [dx, 0, p.n * p.h * p.w * p.c], p.n * p.h * p.w * p.c, 16, 1 << 18);
    return;
  }
  ctx.parallel('pool_max_grad', [x, dy, dx, geometry(ctx, p), rowMode], units, 1, minRows(p, cells));
}

/** dx[N,H,W,C] = dy spread evenly over each window's valid cells (gather form over input rows); overwrites dx. */
export function wasmAvgPool2dGrad(ctx: WasmContext, dy: Buf, dx: Buf, p: Pool2DParams): void {
  const windowsPerCell = Math.ceil(p.kh / p.strideH) * Math.ceil(p.kw / p.strideW);
  ctx.parallel('pool_avg_grad', [dy, dx, geometry(ctx, p)], p.n * p.h, 1, minRows(p, p.w * p.c * windowsPerCell));
}
