// Wasm wrappers of gather and scatter-add along one axis (indices are validated before anything is written).
import type { Buf } from '../backend.js';
import type { WasmContext } from './context.js';

/** Position of the first index outside [0, axisLen), or -1 (SIMD scan on the calling thread). */
function firstBadIndex(ctx: WasmContext, idx: Buf, nIdx: number, axisLen: number): number {
  if (nIdx <= 0) return -1;
  return ctx.exports.gather_check(idx, nIdx, axisLen) as number;
}

/**
 * y[outer, nIdx, inner] = x[outer, idx[j], inner] (4-byte words, any dtype).
 * Returns -1, or the position j of the first index outside [0, axisLen) (y is then untouched).
 */
export function wasmGather(ctx: WasmContext, x: Buf, idx: Buf, y: Buf, outer: number, axisLen: number, inner: number, nIdx: number): number {
  const bad = firstBadIndex(ctx, idx, nIdx, axisLen);
  if (bad >= 0) return bad;
  if (inner === 0) return -1;
  const rows = outer * nIdx;
  ctx.parallel('gather_rows', [x, idx, y, outer, axisLen, inner, nIdx], rows, 1, Math.max(1, Math.ceil((1 << 16) / inner)));
  return -1;
}

/**
 * y[outer, idx[j], inner] += upd[outer, j, inner] for j < nIdx, duplicates accumulated in j order (float32).
 * Returns -1, or the position j of the first index outside [0, axisLen) (y is then untouched).
 * Split over the outer·inner columns when there are enough; with few columns (e.g. flat hashed weights,
 * outer = inner = 1) it runs on the calling thread, since a split by destination row would still scan every j.
 */
export function wasmScatterAdd(ctx: WasmContext, upd: Buf, idx: Buf, y: Buf, outer: number, axisLen: number, inner: number, nIdx: number): number {
  const bad = firstBadIndex(ctx, idx, nIdx, axisLen);
  if (bad >= 0) return bad;
  if (nIdx === 0 || inner === 0) return -1;
  const args = [upd, idx, y, outer, axisLen, inner, nIdx];
  const columns = outer * inner;
  if (columns >= 64) {
    ctx.parallel('gather_scatter_add', args, columns, 16, Math.max(16, Math.ceil((1 << 16) / nIdx)));
  } else {
    const rows = outer * axisLen;
    ctx.parallel('gather_scatter_add_rows', args, rows, 1, rows + 1);
  }
  return -1;
}
