// Strided copy of 4-byte words over a shape of rank ≤ 8 (transpose, slice, concat, broadcast).
// Geometry: shape i32[rank]; strides i32[2·rank] = [src strides, dst strides] (elements, may be 0 or negative);
// offsets srcOff/dstOff in elements. Partition over the flat positions of `shape`.
import { walkStart, walkNextRow, walkOffset } from './lib/strided';

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

/** Rows of the source column strip one unit of copy_transpose handles. */
const TR: i32 = 16;

/**
 * Batched transpose, the common case of copy_strided: y[b, r, c] = x[b, c, r] with x[srcOff + b·sb + r + c·sC] and
 * y[dstOff + b·tb + r·tR + c] over [B, R, C]. A unit is 16 rows r of one batch b (units = B·⌈R/16⌉): 4×4 blocks are
 * transposed in registers, so both sides move whole vectors.
 */
export function copy_transpose(x: usize, y: usize, bCount: i32, rows: i32, cols: i32, sb: i32, sC: i32, tb: i32, tR: i32, srcOff: i32, dstOff: i32, begin: i32, end: i32, scratch: usize): void {
  const blocks = (rows + TR - 1) / TR;
  const cols4 = cols & ~3;
  const sCb = <usize>sC << 2, tRb = <usize>tR << 2;
  for (let u = begin; u < end; u++) {
    const b = u / blocks;
    const r0 = (u - b * blocks) * TR;
    const nr = min(TR, rows - r0);
    const src = x + (<usize>(srcOff + b * sb + r0) << 2);
    const dst = y + (<usize>(dstOff + b * tb + r0 * tR) << 2);
    const r4 = nr & ~3;
    for (let r = 0; r < r4; r += 4) {
      const ps = src + (<usize>r << 2), pd = dst + <usize>r * tRb;
      for (let c = 0; c < cols4; c += 4) {
        const s = ps + <usize>c * sCb;
        const a0 = v128.load(s), a1 = v128.load(s + sCb), a2 = v128.load(s + 2 * sCb), a3 = v128.load(s + 3 * sCb);
        const t0 = i32x4.shuffle(a0, a1, 0, 4, 1, 5), t1 = i32x4.shuffle(a0, a1, 2, 6, 3, 7);
        const t2 = i32x4.shuffle(a2, a3, 0, 4, 1, 5), t3 = i32x4.shuffle(a2, a3, 2, 6, 3, 7);
        const d = pd + (<usize>c << 2);
        v128.store(d, i32x4.shuffle(t0, t2, 0, 1, 4, 5));
        v128.store(d + tRb, i32x4.shuffle(t0, t2, 2, 3, 6, 7));
        v128.store(d + 2 * tRb, i32x4.shuffle(t1, t3, 0, 1, 4, 5));
        v128.store(d + 3 * tRb, i32x4.shuffle(t1, t3, 2, 3, 6, 7));
      }
      for (let c = cols4; c < cols; c++) {
        for (let k = 0; k < 4; k++) store<i32>(pd + <usize>k * tRb + (<usize>c << 2), load<i32>(ps + <usize>c * sCb + (<usize>k << 2)));
      }
    }
    for (let r = r4; r < nr; r++) {
      const ps = src + (<usize>r << 2), pd = dst + <usize>r * tRb;
      for (let c = 0; c < cols; c++) store<i32>(pd + (<usize>c << 2), load<i32>(ps + <usize>c * sCb));
    }
  }
}
