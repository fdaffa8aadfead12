// Attention's masked softmax and its gradient, one pass per row over scores [outer, heads, Tq, Tv].
// Legend: rows = outer·heads·Tq, cols = Tv; row r is query step i = r mod Tq of sample o = r / (heads·Tq).
// Column j of row r is live when j ≤ i (causal) and mask[o, i, j] ≠ 0 (mask [outer, Tq, Tv], when given).
// Both kernels partition rows, so any split gives the same bits; row sums accumulate in float64.
import { addPromoted, laneMask, loadTail, storeTail, vexp } from './lib/vecmath';

/** Number of columns of row r that the causal mask leaves: min(i + 1, cols) with i = r mod tq, else cols. */
// @ts-ignore: decorator
@inline function span(r: i32, cols: i32, tq: i32, causal: i32): i32 {
  return causal ? min(r % tq + 1, cols) : cols;
}

/**
 * y[rows, cols] = e^{z − max} / Σ e^{z − max} over the live columns of each row, z = scale·x[rows, cols]; 0 at the
 * other columns and over a row without live columns. mask: 0 or float32 [outer, tq, cols]. Partition over rows.
 */
export function attn_softmax(x: usize, mask: usize, y: usize, cols: i32, tq: i32, heads: i32, scale: f32, causal: i32,
  begin: i32, end: i32, scratch: usize): void {
  const vs = f32x4.splat(scale);
  const ninf = f32x4.splat(-Infinity);
  const zero = f32x4.splat(0);
  for (let r = begin; r < end; r++) {
    const n = span(r, cols, tq, causal);
    const vecEnd = n & ~3, rem = n & 3;
    const px = x + (<usize>r * <usize>cols << 2);
    const py = y + (<usize>r * <usize>cols << 2);
    const pm: usize = mask == 0 ? 0 : mask + ((<usize>(r / (heads * tq)) * <usize>tq + <usize>(r % tq)) * <usize>cols << 2);
    // z (−∞ where masked) into y, and its maximum.
    let vmax = ninf;
    let k = 0;
    for (; k < vecEnd; k += 4) {
      const o = <usize>k << 2;
      let z = f32x4.mul(v128.load(px + o), vs);
      if (pm) z = v128.bitselect(z, ninf, f32x4.ne(v128.load(pm + o), zero));
      v128.store(py + o, z);
      vmax = f32x4.pmax(vmax, z);
    }
    if (rem) {
      const o = <usize>k << 2;
      let z = v128.bitselect(f32x4.mul(loadTail(px + o, rem), vs), ninf, laneMask(rem));
      if (pm) z = v128.bitselect(z, ninf, f32x4.ne(loadTail(pm + o, rem), zero));
      storeTail(py + o, z, rem);
      vmax = f32x4.pmax(vmax, z);
    }
    const m = max(max(f32x4.extract_lane(vmax, 0), f32x4.extract_lane(vmax, 1)), max(f32x4.extract_lane(vmax, 2), f32x4.extract_lane(vmax, 3)));
    if (m == -Infinity) {
      memory.fill(py, 0, <usize>cols << 2);
      continue;
    }
    // e = exp(z − m) in place, Σ e in float64 (exp(−∞) = 0 at masked columns).
    const vm = f32x4.splat(m);
    let acc = f64x2.splat(0);
    for (k = 0; k < vecEnd; k += 4) {
      const o = <usize>k << 2;
      const e = vexp(f32x4.sub(v128.load(py + o), vm));
      v128.store(py + o, e);
      acc = addPromoted(acc, e);
    }
    if (rem) {
      const o = <usize>k << 2;
      const e = v128.and(vexp(f32x4.sub(loadTail(py + o, rem), vm)), laneMask(rem));
      storeTail(py + o, e, rem);
      acc = addPromoted(acc, e);
    }
    const sum = <f32>(f64x2.extract_lane(acc, 0) + f64x2.extract_lane(acc, 1));
    const vsum = f32x4.splat(sum);
    for (k = 0; k < vecEnd; k += 4) {
      const o = <usize>k << 2;
      v128.store(py + o, f32x4.div(v128.load(py + o), vsum));
    }
    for (; k < n; k++) store<f32>(py + (<usize>k << 2), load<f32>(py + (<usize>k << 2)) / sum);
    if (n < cols) memory.fill(py + (<usize>n << 2), 0, <usize>(cols - n) << 2);
  }
}

/**
 * dx[rows, cols] = scale·y·(g − c) with c = Σ_{k<n} g[r, k]·y[r, k] (float64), over the first n = span(r) columns of
 * each row, 0 beyond (the causal mask's dead columns). Partition over rows.
 */
export function attn_softmax_grad(g: usize, y: usize, dx: usize, cols: i32, tq: i32, scale: f32, causal: i32,
  begin: i32, end: i32, scratch: usize): void {
  const vs = f32x4.splat(scale);
  for (let r = begin; r < end; r++) {
    const n = span(r, cols, tq, causal);
    const vecEnd = n & ~3, rem = n & 3;
    const row = <usize>r * <usize>cols << 2;
    const pg = g + row, py = y + row, pd = dx + row;
    let acc = f64x2.splat(0);
    let k = 0;
    for (; k < vecEnd; k += 4) {
      const o = <usize>k << 2;
      acc = addPromoted(acc, f32x4.mul(v128.load(pg + o), v128.load(py + o)));
    }
    if (rem) {
      const o = <usize>k << 2;
      acc = addPromoted(acc, f32x4.mul(loadTail(pg + o, rem), loadTail(py + o, rem)));
    }
    const vc = f32x4.splat(<f32>(f64x2.extract_lane(acc, 0) + f64x2.extract_lane(acc, 1)));
    for (k = 0; k < vecEnd; k += 4) {
      const o = <usize>k << 2;
      v128.store(pd + o, f32x4.mul(vs, f32x4.mul(v128.load(py + o), f32x4.sub(v128.load(pg + o), vc))));
    }
    if (rem) {
      const o = <usize>k << 2;
      storeTail(pd + o, f32x4.mul(vs, f32x4.mul(loadTail(py + o, rem), f32x4.sub(loadTail(pg + o, rem), vc))), rem);
    }
    if (n < cols) memory.fill(pd + (<usize>n << 2), 0, <usize>(cols - n) << 2);
  }
}
