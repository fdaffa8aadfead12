// Wasm wrappers of the layer-normalisation kernels (src/kernels/norm.ts).
import type { Buf } from '../backend.js';
import type { WasmContext } from './context.js';
import { wasmFill } from './elementwise.js';
import { wasmReduce } from './reduce.js';

/** Rows per partial dγ/dβ sum of ln_backward: a constant, so the order of summation never depends on the split. */
const LN_GRAD_ROWS = 64;
/** Elements per thread below which the kernels stay on the calling thread. */
const LN_WORK = 1 << 14;

/** Layer normalisation over the last axis (Kernels.layerNorm), split over rows. */
export function wasmLayerNorm(ctx: WasmContext, x: Buf, gamma: Buf | null, beta: Buf | null, y: Buf, rows: number, cols: number, epsilon: number): void {
  if (cols === 0) return;
  ctx.parallel('ln_forward', [x, gamma ?? 0, beta ?? 0, y, cols, epsilon], rows, 1, Math.ceil(LN_WORK / cols));
}

/**
 * The gradients of layerNorm (Kernels.layerNormGrad): dx and the column sums of dy·x̂ and dy over fixed blocks of rows in
 * one pass (split over the blocks), then the blocks' sums added in order (red_reduce), so the split never changes a bit.
 */
export function wasmLayerNormGrad(ctx: WasmContext, dy: Buf, x: Buf, gamma: Buf | null, dx: Buf, dgamma: Buf, dbeta: Buf, rows: number, cols: number,
  epsilon: number): void {
  if (cols === 0) return;
  const blocks = Math.ceil(rows / LN_GRAD_ROWS);
  if (blocks === 0) {
    wasmFill(ctx, dgamma, 'float32', cols, 0);
    wasmFill(ctx, dbeta, 'float32', cols, 0);
    return;
  }
  const partG = ctx.allocTemp(blocks * cols * 4), partB = ctx.allocTemp(blocks * cols * 4);
  try {
    ctx.parallel('ln_backward', [dy, x, gamma ?? 0, dx, partG, partB, rows, cols, epsilon, LN_GRAD_ROWS], blocks, 1, Math.ceil(LN_WORK / (LN_GRAD_ROWS * cols)));
    wasmReduce(ctx, 'sum', partG, dgamma, 1, blocks, cols);
    wasmReduce(ctx, 'sum', partB, dbeta, 1, blocks, cols);
  } finally {
    ctx.freeTemp(partB);
    ctx.freeTemp(partG);
  }
}
