// Strided copy of 4-byte words over a shape of rank ≤ 8 (transpose, slice, concat, broadcast).
// Geometry: shape i32[rank]; strides i32[2·rank] = [src strides, dst strides] (elements, may be 0 or negative);
// offsets srcOff/dstOff in elements. Partition over the flat positions of `shape`.
import { walkStart, walkNextRow, walkOffset } from './strided';

/** y[dstOff + Σ i_d·dstStride_d] = x[srcOff + Σ i_d·srcStride_d] over `shape`. */
export function copy_strided(x: usize, y: usize, rank: i32, shape: usize, strides: usize, srcOff: i32, dstOff: i32, begin: i32, end: i32, scratch: usize): void {
  const last = rank - 1;
  const cols = load<i32>(shape + (<usize>last << 2));
  const ss = load<i32>(strides + (<usize>last << 2));
  const ds = load<i32>(strides + (<usize>(rank + last) << 2));
  let col = walkStart(rank, shape, strides, 2, begin, scratch);
  let pos = begin;
  while (pos < end) {
    const len = min(cols - col, end - pos);
    let ps = x + (<usize>(srcOff + walkOffset(scratch, 0) + col * ss) << 2);
    let pd = y + (<usize>(dstOff + walkOffset(scratch, 1) + col * ds) << 2);
    if (ss == 1 && ds == 1) {
      memory.copy(pd, ps, <usize>len << 2);
    } else if (ss == 0 && ds == 1) {
      const bits = load<i32>(ps);
      const v = i32x4.splat(bits);
      let k = 0;
      for (; k + 4 <= len; k += 4) v128.store(pd + (<usize>k << 2), v);
      for (; k < len; k++) store<i32>(pd + (<usize>k << 2), bits);
    } else {
      const sb = <usize>ss << 2, db = <usize>ds << 2;
      for (let k = 0; k < len; k++) {
        store<i32>(pd, load<i32>(ps));
        ps += sb;
        pd += db;
      }
    }
    pos += len;
    col = 0;
    if (pos < end) walkNextRow(rank, shape, strides, 2, scratch);
  }
}
