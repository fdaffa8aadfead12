// Wasm wrappers of 2-D max/avg pooling (NHWC) and their gradients.
import type { Buf, OutputActivation, Pool2DParams } from '../backend.js';
import { BiasAct } from '../opcodes.js';
import type { WasmContext } from './context.js';
import { wasmBiasActGrad } from './elementwise.js';
import { wasmReduce } from './reduce.js';

/** Window cells a thread should visit at least before the work is split. */
const WORK_PER_THREAD = 1 << 15;

/** The geometry as the kernels read it: i32[12] = [N, H, W, C, KH, KW, SH, SW, PT, PL, OH, OW]. */
export function poolGeometry(ctx: WasmContext, p: Pool2DParams): number {
  return ctx.params([p.n, p.h, p.w, p.c, p.kh, p.kw, p.strideH, p.strideW, p.padTop, p.padLeft, p.oh, p.ow]);
}

/** Units (output rows of OW·C outputs, KH·KW cells each) per thread for WORK_PER_THREAD cells. */
function minRows(p: Pool2DParams, cellsPerUnit: number): number {
  return Math.max(1, Math.ceil(WORK_PER_THREAD / Math.max(1, cellsPerUnit)));
}

/** y[N,OH,OW,C] = max over each window of x[N,H,W,C] (padded cells never win; NaN propagates). */
export function wasmMaxPool2d(ctx: WasmContext, x: Buf, y: Buf, p: Pool2DParams): void {
  ctx.parallel('pool_max', [x, y, poolGeometry(ctx, p)], p.n * p.oh, 1, minRows(p, p.ow * p.c * p.kh * p.kw));
}

/** y[N,OH,OW,C] = mean over each window's valid cells of x[N,H,W,C]. */
export function wasmAvgPool2d(ctx: WasmContext, x: Buf, y: Buf, p: Pool2DParams): void {
  ctx.parallel('pool_avg', [x, y, poolGeometry(ctx, p)], p.n * p.oh, 1, minRows(p, p.ow * p.c * p.kh * p.kw));
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
  ctx.parallel('pool_max_grad', [x, dy, dx, poolGeometry(ctx, p), rowMode], units, 1, minRows(p, cells));
}

/** True when the windows tile the input: stride = window, no padding, every window inside (the fused kernels' case). */
export function poolTiles(p: Pool2DParams): boolean {
  return p.strideH === p.kh && p.strideW === p.kw && p.padTop === 0 && p.padLeft === 0 && p.oh * p.kh <= p.h && p.ow * p.kw <= p.w && p.oh > 0 && p.ow > 0;
}

/**
 * dz = act'(y)·maxPool2dGrad(y, dy), db = Σ dz: where the windows tile y and C % 4 = 0, one pass split over output rows
 * (the column sums of each row's cells, then those added in order by red_reduce); else maxPool2dGrad then biasActGrad.
 */
export function wasmMaxPool2dBiasActGrad(ctx: WasmContext, y: Buf, dy: Buf, dz: Buf, db: Buf, p: Pool2DParams, act: OutputActivation): void {
  if (!(poolTiles(p) && p.c % 4 === 0 && p.n > 0)) {
    wasmMaxPool2dGrad(ctx, y, dy, dz, p);
    wasmBiasActGrad(ctx, dz, y, dz, db, p.n * p.h * p.w, p.c, act);
    return;
  }
  const units = p.n * p.oh;
  const part = ctx.allocTemp(units * p.c * 4);
  try {
    ctx.parallel('pool_max_grad_act', [y, dy, dz, part, poolGeometry(ctx, p), BiasAct[act]], units, 1, minRows(p, p.ow * p.c * p.kh * p.kw));
    wasmReduce(ctx, 'sum', part, db, 1, units, p.c);
  } finally {
    ctx.freeTemp(part);
  }
}

/** dx[N,H,W,C] = dy spread evenly over each window's valid cells (gather form over input rows); overwrites dx. */
export function wasmAvgPool2dGrad(ctx: WasmContext, dy: Buf, dx: Buf, p: Pool2DParams): void {
  const windowsPerCell = Math.ceil(p.kh / p.strideH) * Math.ceil(p.kw / p.strideW);
  ctx.parallel('pool_avg_grad', [dy, dx, poolGeometry(ctx, p)], p.n * p.h, 1, minRows(p, p.w * p.c * windowsPerCell));
}
