// Wasm wrapper of the fast Walsh–Hadamard transform along the last axis.
import type { Buf } from '../backend.js';
import type { WasmContext } from './context.js';

/** y[rows, n] = H_n · x[rows, n] row by row (n a power of 2; x may equal y), split over rows. */
export function wasmFwht(ctx: WasmContext, x: Buf, y: Buf, rows: number, n: number): void {
  if (rows === 0 || n === 0) return;
  ctx.parallel('fwht_rows', [x, y, n], rows, 1, Math.max(1, Math.ceil((1 << 15) / n)));
}
