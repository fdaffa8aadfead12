// Attention's masked softmax and its gradient, one pass per row over scores [outer, heads, Tq, Tv].
// Legend: rows = outer·heads·Tq, cols = Tv; row r is query step i = r mod Tq of sample o = r / (heads·Tq).
// Column j of row r is live when j ≤ i (causal) and mask[o, i, j] ≠ 0 (mask [outer, Tq, Tv], when given).
// Both kernels partition rows, so any split gives the same bits; row sums accumulate in float64.
import { gemm_micro } from './gemm';
import { fma } from './lib/gemm-rows';
import { addPromoted, laneMask, loadTail, storeTail, vexp } from './lib/vecmath';

/** Number of columns of row r that the causal mask leaves: min(i + 1, cols) with i = r mod tq, else cols. */
// @ts-ignore: decorator
@inline function span(r: i32, cols: i32, tq: i32, causal: i32): i32 {
  return causal ? min(r % tq + 1, cols) : cols;
}

/** dst[0, n) = src[0, n) (float32, non-overlapping): vector moves, as memory.copy costs a call per row. */
// @ts-ignore: decorator
@inline function copyF32(dst: usize, src: usize, n: i32): void {
  let k = 0;
  for (; k + 8 <= n; k += 8) {
    const o = <usize>k << 2;
    v128.store(dst + o, v128.load(src + o));
    v128.store(dst + o, v128.load(src + o, 16), 16);
  }
  for (; k + 4 <= n; k += 4) v128.store(dst + (<usize>k << 2), v128.load(src + (<usize>k << 2)));
  for (; k < n; k++) store<f32>(dst + (<usize>k << 2), load<f32>(src + (<usize>k << 2)));
}

/** dst[0, n) = 0 (float32). */
// @ts-ignore: decorator
@inline function zeroF32(dst: usize, n: i32): void {
  const z = f32x4.splat(0);
  let k = 0;
  for (; k + 4 <= n; k += 4) v128.store(dst + (<usize>k << 2), z);
  for (; k < n; k++) store<f32>(dst + (<usize>k << 2), 0);
}

/**
 * One row of attention probabilities: py[k] = e^{z_k − max} / Σ e^{z − max} over k < n, z = scale·px[k] (−∞ where the
 * mask row pm, unless 0, holds 0); zero from n to `width`, and the whole row when no column is live. px may be py.
 */
// @ts-ignore: decorator
@inline function softmaxRow(px: usize, pm: usize, py: usize, n: i32, width: i32, scale: f32): void {
  const vs = f32x4.splat(scale);
  const ninf = f32x4.splat(-Infinity);
  const zero = f32x4.splat(0);
  const vecEnd = n & ~3, rem = n & 3;
  // z (−∞ where masked) into y, and its maximum: NaN when a live z is NaN (pmax would skip it, and a row of NaN would
  // pass for a dead one), so that the row is NaN.
  let vmax = ninf, vnan = zero;
  let k = 0;
  for (; k < vecEnd; k += 4) {
    const o = <usize>k << 2;
    let z = f32x4.mul(v128.load(px + o), vs);
    if (pm) z = v128.bitselect(z, ninf, f32x4.ne(v128.load(pm + o), zero));
    v128.store(py + o, z);
    vmax = f32x4.pmax(vmax, z);
    vnan = v128.or(vnan, f32x4.ne(z, z));
  }
  if (rem) {
    const o = <usize>k << 2;
    let z = v128.bitselect(f32x4.mul(loadTail(px + o, rem), vs), ninf, laneMask(rem));
    if (pm) z = v128.bitselect(z, ninf, f32x4.ne(loadTail(pm + o, rem), zero));
    storeTail(py + o, z, rem);
    vmax = f32x4.pmax(vmax, z);
    vnan = v128.or(vnan, f32x4.ne(z, z));
  }
  const m: f32 = v128.any_true(vnan) ? <f32>NaN : max(max(f32x4.extract_lane(vmax, 0), f32x4.extract_lane(vmax, 1)), max(f32x4.extract_lane(vmax, 2), f32x4.extract_lane(vmax, 3)));
  if (m == -Infinity) {
    zeroF32(py, width);
    return;
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
  if (n < width) zeroF32(py + (<usize>n << 2), width - n);
}

/**
 * y[rows, cols] = e^{z − max} / Σ e^{z − max} over the live columns of each row, z = scale·x[rows, cols]; 0 at the
 * other columns and over a row without live columns. mask: 0 or float32 [outer, tq, cols]. Partition over rows.
 */
export function attn_softmax(x: usize, mask: usize, y: usize, cols: i32, tq: i32, heads: i32, scale: f32, causal: i32,
  begin: i32, end: i32, scratch: usize): void {
  for (let r = begin; r < end; r++) {
    const row = <usize>r * <usize>cols << 2;
    const pm: usize = mask == 0 ? 0 : mask + ((<usize>(r / (heads * tq)) * <usize>tq + <usize>(r % tq)) * <usize>cols << 2);
    softmaxRow(x + row, pm, y + row, span(r, cols, tq, causal), cols, scale);
  }
}

/**
 * One row of the softmax gradient: pd[k] = scale·py[k]·(pg[k] − c) with c = Σ_{k<n} pg[k]·py[k] (float64) for k < n,
 * 0 from n to `width`. pd may be pg.
 */
// @ts-ignore: decorator
@inline function softmaxGradRow(pg: usize, py: usize, pd: usize, n: i32, width: i32, scale: f32): void {
  const vs = f32x4.splat(scale);
  const vecEnd = n & ~3, rem = n & 3;
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
  if (n < width) zeroF32(pd + (<usize>n << 2), width - n);
}

/**
 * dx[rows, cols] = scale·y·(g − c) with c = Σ_{k<n} g[r, k]·y[r, k] (float64), over the first n = span(r) columns of
 * each row, 0 beyond (the causal mask's dead columns). Partition over rows.
 */
export function attn_softmax_grad(g: usize, y: usize, dx: usize, cols: i32, tq: i32, scale: f32, causal: i32,
  begin: i32, end: i32, scratch: usize): void {
  for (let r = begin; r < end; r++) {
    const row = <usize>r * <usize>cols << 2;
    softmaxGradRow(g + row, y + row, dx + row, span(r, cols, tq, causal), cols, scale);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Fused attention: per (sample, head), P = softmax(scale·Q·Kᵀ) over the live columns and O = P·V, with Q, K, V read
// in the projections' layout [N, T, H, D] (any step and sample strides, so the three may sit in one packed buffer) and
// O written as [N, Tq, H, Dv]: no head transposes, and under the causal mask only the live triangle is computed.
// Products run on gemm_micro (4×8 tiles, reduction in order from 0, as gemm_f32 sums one KC block) over operands
// packed into the thread's scratch, zero-padded to whole tiles. Items are (sample, head) pairs, so any split gives
// the same bits.
// Layout block (int32): heads, tq, tv, dk, dv, causal, then for q, k, v: offset, step stride, sample stride (elements).

// @ts-ignore: decorator
@inline function roundUp(x: i32, m: i32): i32 {
  return (x + m - 1) / m * m;
}

/**
 * C[rows, cols] = A·B over 4-row blocks and 8-column tiles (rows, cols multiples of 4 and 8: padded buffers); A(i, p)
 * at a + i·ars + p·acs, B(p, j) at b + p·bs + 4j, C row stride ldc (bytes). mode 0: every tile, p over [0, kdim);
 * 1 (causal scores): only tiles j0 < i0 + 4; 2 (A zero right of its diagonal, p > i): p ≤ i; 3 (A zero left of it,
 * p < i): p ≥ i. Modes 2 and 3 skip the causal mask's dead terms exactly, the diagonal 4×4 block's too (diagonalTerms),
 * so that a NaN or ∞ in B never reaches a row that does not see it (0·NaN would); finite results equal mode 0's up to
 * the order of the sum.
 */
function attnTiles(rows: i32, cols: i32, kdim: i32, a: usize, ars: usize, acs: usize, b: usize, bs: usize, c: usize, ldc: usize, mode: i32): void {
  for (let i0 = 0; i0 < rows; i0 += 4) {
    let cEnd = cols, k0 = 0, k1 = kdim;
    if (mode == 1) cEnd = min(cols, roundUp(i0 + 4, 8));
    else if (mode == 2) k1 = min(kdim, i0);
    else if (mode == 3) k0 = min(i0 + 4, kdim);
    const ai = a + <usize>i0 * ars + <usize>k0 * acs, bk = b + <usize>k0 * bs, ci = c + <usize>i0 * ldc;
    for (let j0 = 0; j0 < cEnd; j0 += 8) {
      if (k1 > k0) gemm_micro(k1 - k0, ai, ars, acs, bk + (<usize>j0 << 2), bs, ci + (<usize>j0 << 2), ldc, false);
      else for (let r = 0; r < 4; r++) zeroF32(ci + <usize>r * ldc + (<usize>j0 << 2), 8);
    }
    if ((mode == 2 || mode == 3) && i0 < kdim) {
      diagonalTerms(min(4, kdim - i0), a + <usize>i0 * (ars + acs), ars, acs, b + <usize>i0 * bs, bs, ci, ldc, cols, mode == 2);
    }
  }
}

/**
 * Adds a diagonal block's live terms to C's 4 rows: A(r, q)·B(q, ·) for q < nq and q ≤ r (`lower`: p ≤ i) or q ≥ r
 * (p ≥ i); a at A(i0, i0), b at B's row i0, C tile rows at c (see attnTiles).
 */
function diagonalTerms(nq: i32, a: usize, ars: usize, acs: usize, b: usize, bs: usize, c: usize, ldc: usize, cols: i32, lower: bool): void {
  const l2 = ldc << 1, l3 = l2 + ldc, a2 = ars << 1, a3 = a2 + ars;
  for (let j0 = 0; j0 < cols; j0 += 8) {
    const cj = c + (<usize>j0 << 2);
    let c00 = v128.load(cj), c01 = v128.load(cj, 16), c10 = v128.load(cj + ldc), c11 = v128.load(cj + ldc, 16);
    let c20 = v128.load(cj + l2), c21 = v128.load(cj + l2, 16), c30 = v128.load(cj + l3), c31 = v128.load(cj + l3, 16);
    for (let q = 0; q < nq; q++) {
      const bq = b + <usize>q * bs + (<usize>j0 << 2), aq = a + <usize>q * acs;
      const b0 = v128.load(bq), b1 = v128.load(bq, 16);
      // Row r takes column q when q ≤ r (lower) or q ≥ r.
      if (lower ? q == 0 : true) { const av = v128.load32_splat(aq); c00 = fma(av, b0, c00); c01 = fma(av, b1, c01); }
      if (lower ? q <= 1 : q >= 1) { const av = v128.load32_splat(aq + ars); c10 = fma(av, b0, c10); c11 = fma(av, b1, c11); }
      if (lower ? q <= 2 : q >= 2) { const av = v128.load32_splat(aq + a2); c20 = fma(av, b0, c20); c21 = fma(av, b1, c21); }
      if (lower ? true : q == 3) { const av = v128.load32_splat(aq + a3); c30 = fma(av, b0, c30); c31 = fma(av, b1, c31); }
    }
    v128.store(cj, c00); v128.store(cj, c01, 16); v128.store(cj + ldc, c10); v128.store(cj + ldc, c11, 16);
    v128.store(cj + l2, c20); v128.store(cj + l2, c21, 16); v128.store(cj + l3, c30); v128.store(cj + l3, c31, 16);
  }
}

/** dst[r, c] = src[r·ss + c] for r < rows, c < cols; zero in columns [cols, dcols) and rows [rows, drows) (dst row stride dcols). */
function packRows(src: usize, ss: i32, rows: i32, cols: i32, dst: usize, drows: i32, dcols: i32): void {
  for (let r = 0; r < drows; r++) {
    const d = dst + (<usize>(r * dcols) << 2);
    if (r < rows) {
      copyF32(d, src + (<usize>(r * ss) << 2), cols);
      if (dcols > cols) zeroF32(d + (<usize>cols << 2), dcols - cols);
    } else {
      zeroF32(d, dcols);
    }
  }
}

/** dst[c, r] = src[r·ss + c] (transposed) for r < rows, c < cols; zero in columns [rows, drs) (dst row stride drs). */
function packTransposed(src: usize, ss: i32, rows: i32, cols: i32, dst: usize, drs: i32): void {
  for (let c = 0; c < cols; c++) {
    const d = dst + (<usize>(c * drs) << 2);
    let s = src + (<usize>c << 2);
    const step = <usize>ss << 2;
    for (let r = 0; r < rows; r++) {
      store<f32>(d + (<usize>r << 2), load<f32>(s));
      s += step;
    }
    if (drs > rows) zeroF32(d + (<usize>rows << 2), drs - rows);
  }
}

/** dst[r·ds + c] = src[r, c] for r < rows, c < cols (src row stride scs). */
function unpackRows(src: usize, scs: i32, rows: i32, cols: i32, dst: usize, ds: i32): void {
  for (let r = 0; r < rows; r++) copyF32(dst + (<usize>(r * ds) << 2), src + (<usize>(r * scs) << 2), cols);
}

/**
 * Fused attention forward over items [begin, end) of N·H (item = n·H + h): o [N, Tq, H, Dv] and the probabilities
 * p [N, H, Tq, Tv] (0 at dead columns), from q, k, v as the layout block `lay` places them.
 */
export function attn_fused(q: usize, k: usize, v: usize, o: usize, p: usize, lay: usize, scale: f32, begin: i32, end: i32, scratch: usize): void {
  const H = load<i32>(lay), tq = load<i32>(lay, 4), tv = load<i32>(lay, 8), dk = load<i32>(lay, 12), dv = load<i32>(lay, 16);
  const causal = load<i32>(lay, 20);
  const qOff = load<i32>(lay, 24), qT = load<i32>(lay, 28), qN = load<i32>(lay, 32);
  const kOff = load<i32>(lay, 36), kT = load<i32>(lay, 40), kN = load<i32>(lay, 44);
  const vOff = load<i32>(lay, 48), vT = load<i32>(lay, 52), vN = load<i32>(lay, 56);
  const tq4 = roundUp(tq, 4), tv8 = roundUp(tv, 8), dk8 = roundUp(dk, 8), dv8 = roundUp(dv, 8);
  const qp = scratch;                                   // [tq4, dk8]: Q rows
  const kt = qp + (<usize>(tq4 * dk8) << 2);            // [dk, tv8]: Kᵀ
  const vp = kt + (<usize>(dk * tv8) << 2);             // [tv, dv8]: V rows
  const s = vp + (<usize>(tv * dv8) << 2);              // [tq4, tv8]: scores, then probabilities
  const ot = s + (<usize>(tq4 * tv8) << 2);             // [tq4, dv8]: O
  for (let item = begin; item < end; item++) {
    const n = item / H, h = item % H;
    packRows(q + (<usize>(qOff + n * qN + h * dk) << 2), qT, tq, dk, qp, tq4, dk8);
    packTransposed(k + (<usize>(kOff + n * kN + h * dk) << 2), kT, tv, dk, kt, tv8);
    packRows(v + (<usize>(vOff + n * vN + h * dv) << 2), vT, tv, dv, vp, tv, dv8);
    attnTiles(tq4, tv8, dk, qp, <usize>dk8 << 2, 4, kt, <usize>tv8 << 2, s, <usize>tv8 << 2, causal ? 1 : 0);
    const pItem = p + (<usize>item * <usize>(tq * tv) << 2);
    for (let i = 0; i < tq4; i++) {
      const row = s + (<usize>(i * tv8) << 2);
      if (i >= tq) {
        zeroF32(row, tv8);
        continue;
      }
      softmaxRow(row, 0, row, causal ? min(i + 1, tv) : tv, tv8, scale);
      copyF32(pItem + (<usize>(i * tv) << 2), row, tv);
    }
    attnTiles(tq4, dv8, tv, s, <usize>tv8 << 2, 4, vp, <usize>dv8 << 2, ot, <usize>dv8 << 2, causal ? 2 : 0);
    unpackRows(ot, dv8, tq, dv, o + (<usize>((n * tq * H + h) * dv) << 2), H * dv);
  }
}

/**
 * The gradient of attn_fused over items [begin, end): from go = ∂L/∂o [N, Tq, H, Dv] and the saved p, dS = scale·P·(dP −
 * Σ dP·P) with dP = dO·Vᵀ (as attn_softmax_grad computes it), then dq = dS·K, dk = dSᵀ·Q, dv = Pᵀ·dO, written in the
 * layouts of q, k and v (`lay`: dq, dk, dv share q's, k's and v's offsets and strides).
 */
export function attn_fused_grad(go: usize, q: usize, k: usize, v: usize, p: usize, dq: usize, dk_: usize, dv_: usize, lay: usize,
  scale: f32, begin: i32, end: i32, scratch: usize): void {
  const H = load<i32>(lay), tq = load<i32>(lay, 4), tv = load<i32>(lay, 8), dk = load<i32>(lay, 12), dv = load<i32>(lay, 16);
  const causal = load<i32>(lay, 20);
  const qOff = load<i32>(lay, 24), qT = load<i32>(lay, 28), qN = load<i32>(lay, 32);
  const kOff = load<i32>(lay, 36), kT = load<i32>(lay, 40), kN = load<i32>(lay, 44);
  const vOff = load<i32>(lay, 48), vT = load<i32>(lay, 52), vN = load<i32>(lay, 56);
  const tq4 = roundUp(tq, 4), tv4 = roundUp(tv, 4), tv8 = roundUp(tv, 8), dk8 = roundUp(dk, 8), dv8 = roundUp(dv, 8);
  const qp = scratch;                                   // [tq4, dk8]: Q rows
  const kp = qp + (<usize>(tq4 * dk8) << 2);            // [tv, dk8]: K rows
  const vt = kp + (<usize>(tv * dk8) << 2);             // [dv, tv8]: Vᵀ
  const gp = vt + (<usize>(dv * tv8) << 2);             // [tq4, dv8]: dO rows
  const ds = gp + (<usize>(tq4 * dv8) << 2);            // [tq4, tv8]: dP, then dS
  const pp = ds + (<usize>(tq4 * tv8) << 2);            // [tq4, tv8]: P rows
  const out = pp + (<usize>(tq4 * tv8) << 2);           // [max(tq4, tv4), max(dk8, dv8)]: one gradient's rows
  for (let item = begin; item < end; item++) {
    const n = item / H, h = item % H;
    const qb = <usize>(qOff + n * qN + h * dk) << 2, kb = <usize>(kOff + n * kN + h * dk) << 2, vb = <usize>(vOff + n * vN + h * dv) << 2;
    packRows(q + qb, qT, tq, dk, qp, tq4, dk8);
    packRows(k + kb, kT, tv, dk, kp, tv, dk8);
    packTransposed(v + vb, vT, tv, dv, vt, tv8);
    packRows(go + (<usize>((n * tq * H + h) * dv) << 2), H * dv, tq, dv, gp, tq4, dv8);
    const pItem = p + (<usize>item * <usize>(tq * tv) << 2);
    packRows(pItem, tv, tq, tv, pp, tq4, tv8);
    attnTiles(tq4, tv8, dv, gp, <usize>dv8 << 2, 4, vt, <usize>tv8 << 2, ds, <usize>tv8 << 2, causal ? 1 : 0);
    for (let i = 0; i < tq4; i++) {
      const pg = ds + (<usize>(i * tv8) << 2), py = pp + (<usize>(i * tv8) << 2);
      if (i >= tq) {
        zeroF32(pg, tv8);
        continue;
      }
      softmaxGradRow(pg, py, pg, causal ? min(i + 1, tv) : tv, tv8, scale);
    }
    // dq = dS·K (dS zero right of the diagonal when causal).
    attnTiles(tq4, dk8, tv, ds, <usize>tv8 << 2, 4, kp, <usize>dk8 << 2, out, <usize>dk8 << 2, causal ? 2 : 0);
    unpackRows(out, dk8, tq, dk, dq + qb, qT);
    // dk = dSᵀ·Q: A(j, i) = dS[i, j] (zero for i < j when causal).
    attnTiles(tv4, dk8, tq, ds, 4, <usize>tv8 << 2, qp, <usize>dk8 << 2, out, <usize>dk8 << 2, causal ? 3 : 0);
    unpackRows(out, dk8, tv, dk, dk_ + kb, kT);
    // dv = Pᵀ·dO.
    attnTiles(tv4, dv8, tq, pp, 4, <usize>tv8 << 2, gp, <usize>dv8 << 2, out, <usize>dv8 << 2, causal ? 3 : 0);
    unpackRows(out, dv8, tv, dv, dv_ + vb, vT);
  }
}
