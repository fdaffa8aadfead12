// Wasm wrapper of the strided copy kernel, and the stride simplification shared with the element-wise wrappers.
import type { Buf, CopyParams } from '../backend.js';
import type { WasmContext } from './context.js';

/** A shape with one stride list per operand, after dropping size-1 dimensions and merging contiguous ones. */
export interface StridedGeometry {
  shape: number[];
  strides: number[][];
}

/**
 * Drops size-1 dimensions and merges neighbours d, d+1 that every operand walks contiguously
 * (stride[d] = stride[d+1]·shape[d+1]), so kernels see the fewest, longest rows. Rank ≥ 1 on return.
 */
export function simplifyStrides(shape: readonly number[], strides: readonly (readonly number[])[]): StridedGeometry {
  if (shape.length > 8) throw new RangeError(`weightshare wasm backend: rank ${shape.length} exceeds 8`);
  for (const s of strides) {
    if (s.length !== shape.length) throw new RangeError(`weightshare wasm backend: strides [${s}] do not match shape [${shape}]`);
  }
  const outShape: number[] = [];
  const outStrides: number[][] = strides.map(() => []);
  for (let d = 0; d < shape.length; d++) {
    const n = shape[d];
    if (n === 1) continue;
    const last = outShape.length - 1;
    if (last >= 0 && strides.every((s, k) => outStrides[k][last] === s[d] * n)) {
      outShape[last] *= n;
      strides.forEach((s, k) => (outStrides[k][last] = s[d]));
    } else {
      outShape.push(n);
      strides.forEach((s, k) => outStrides[k].push(s[d]));
    }
  }
  if (outShape.length === 0) return { shape: [1], strides: strides.map(() => [0]) };
  return { shape: outShape, strides: outStrides };
}

/** Number of elements of a shape. */
export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Strided copy of 4-byte words, see {@link CopyParams}; x and y must not overlap. */
export function wasmCopy(ctx: WasmContext, x: Buf, y: Buf, p: CopyParams): void {
  const total = sizeOf(p.shape);
  if (total === 0) return;
  const g = simplifyStrides(p.shape, [p.srcStrides, p.dstStrides]);
  const rank = g.shape.length;
  const [src, dst] = g.strides;
  // [B,] R, C with the two inner dims swapped (source contiguous along R, destination along C): tiled transpose.
  if ((rank === 2 || rank === 3) && src[rank - 2] === 1 && dst[rank - 1] === 1 && g.shape[rank - 2] >= 4 && g.shape[rank - 1] >= 4) {
    const bCount = rank === 3 ? g.shape[0] : 1;
    const rows = g.shape[rank - 2], cols = g.shape[rank - 1];
    const args = [x, y, bCount, rows, cols, rank === 3 ? src[0] : 0, src[rank - 1], rank === 3 ? dst[0] : 0, dst[rank - 2], p.srcOffset, p.dstOffset];
    ctx.parallel('copy_transpose', args, bCount * Math.ceil(rows / 16), 1, Math.max(1, Math.ceil((1 << 16) / (16 * cols))));
    return;
  }
  const shape = ctx.params(g.shape);
  const strides = ctx.params([...src, ...dst]);
  // Contiguous runs are memory-bound: threads pay off only for large copies; gathers from strided rows sooner.
  const contiguous = src[rank - 1] === 1 && dst[rank - 1] === 1;
  ctx.parallel('copy_strided', [x, y, rank, shape, strides, p.srcOffset, p.dstOffset], total, 16, contiguous ? 1 << 17 : 1 << 15);
}
