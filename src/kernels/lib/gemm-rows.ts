// A GEMM for few rows (a batch of recurrent states) times a pre-packed matrix: 4×8 register tile, both operands packed.
//
// Legend: C[M, N] (+)= A[M, K]·B[K, N]. Packed A (gemm_packA over the whole of k): 4-row panels, element (i, p) of panel
// t at t·4K + 4p + i (rows past M zero). Packed B (packB8): k cut into equal blocks of ≤ KB rows (kBlock), each block holding
// every 8-column panel of N (columns past N zero): block b starting at row k0 begins at k0·8P (P = panels), its panel j
// at j·8·kc within it. C has whole tiles: M rounded up to 4 rows, N to 8 columns. Each C element is one chain of
// multiply-adds over k in order (from 0, or from C's value when accumulating), so the result does not depend on which
// rows or panels a call computes (threads may split either).

import { gemm_MR, gemm_NR, gemm_packB } from '../gemm';

export const RT_MR: i32 = gemm_MR;
export const RT_NR: i32 = gemm_NR;
/** Largest k block: a block's B panel (8 KiB) and A panel (4 KiB) stay in L1. */
const KB: i32 = 256;

/** c + a·b, fused in the relaxed-SIMD build. */
// @ts-ignore: decorator
@inline export function fma(a: v128, b: v128, c: v128): v128 {
  return ASC_FEATURE_RELAXED_SIMD ? f32x4.relaxed_madd(a, b, c) : f32x4.add(c, f32x4.mul(a, b));
}

/** Rows of each k block for a reduction of length k: equal blocks of at most KB. */
export function kBlock(k: i32): i32 {
  const blocks = (k + KB - 1) / KB;
  return (k + blocks - 1) / blocks;
}

/** Floats of B [k, n] packed by packB8. */
export function packedB8Size(k: i32, n: i32): i32 {
  return k * ((n + RT_NR - 1) / RT_NR) * RT_NR;
}

/** Tile C[4, 8] (row stride ldc bytes) = (add ? C : 0) + A panel [4, kc] · B panel [kc, 8], both packed: one chain of multiply-adds per element. */
function micro48(kc: i32, a: usize, b: usize, c: usize, ldc: usize, add: bool): void {
  const l2 = ldc << 1, l3 = l2 + ldc;
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0), c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0), c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  if (add) {
    c00 = v128.load(c); c01 = v128.load(c, 16); c10 = v128.load(c + ldc); c11 = v128.load(c + ldc, 16);
    c20 = v128.load(c + l2); c21 = v128.load(c + l2, 16); c30 = v128.load(c + l3); c31 = v128.load(c + l3, 16);
  }
  const bend = b + (<usize>kc << 5);
  while (b < bend) {
    const b0 = v128.load(b), b1 = v128.load(b, 16);
    let av = v128.load32_splat(a);
    c00 = fma(av, b0, c00); c01 = fma(av, b1, c01);
    av = v128.load32_splat(a, 4);
    c10 = fma(av, b0, c10); c11 = fma(av, b1, c11);
    av = v128.load32_splat(a, 8);
    c20 = fma(av, b0, c20); c21 = fma(av, b1, c21);
    av = v128.load32_splat(a, 12);
    c30 = fma(av, b0, c30); c31 = fma(av, b1, c31);
    a += 16; b += 32;
  }
  v128.store(c, c00); v128.store(c, c01, 16); v128.store(c + ldc, c10); v128.store(c + ldc, c11, 16);
  v128.store(c + l2, c20); v128.store(c + l2, c21, 16); v128.store(c + l3, c30); v128.store(c + l3, c31, 16);
}

/**
 * Six rows of C [·, 8] (+)= A·B panel, twelve chains: rows p[0], p[1], p[2], p[3] (the lanes of the 4-row panel at p) into
 * C rows at c4, c4 + ldc, …, and q[0], q[1] (two lanes of a panel at q) into rows c2, c2 + ldc. Twelve independent
 * chains hide the multiply-add's latency on both pipes where micro48's eight cannot quite (12 accumulators, two B
 * vectors and the A splat: the fifteen vector registers V8 allocates on x64). Each element is still one chain over k in
 * order, so the bits are micro48's.
 */
function micro62(kc: i32, p: usize, q: usize, b: usize, c4: usize, c2: usize, ldc: usize, add: bool): void {
  const l2 = ldc << 1, l3 = l2 + ldc;
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0), c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0), c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  let c40 = f32x4.splat(0), c41 = f32x4.splat(0), c50 = f32x4.splat(0), c51 = f32x4.splat(0);
  if (add) {
    c00 = v128.load(c4); c01 = v128.load(c4, 16); c10 = v128.load(c4 + ldc); c11 = v128.load(c4 + ldc, 16);
    c20 = v128.load(c4 + l2); c21 = v128.load(c4 + l2, 16); c30 = v128.load(c4 + l3); c31 = v128.load(c4 + l3, 16);
    c40 = v128.load(c2); c41 = v128.load(c2, 16); c50 = v128.load(c2 + ldc); c51 = v128.load(c2 + ldc, 16);
  }
  const bend = b + (<usize>kc << 5);
  while (b < bend) {
    const b0 = v128.load(b), b1 = v128.load(b, 16);
    let av = v128.load32_splat(p);
    c00 = fma(av, b0, c00); c01 = fma(av, b1, c01);
    av = v128.load32_splat(p, 4);
    c10 = fma(av, b0, c10); c11 = fma(av, b1, c11);
    av = v128.load32_splat(p, 8);
    c20 = fma(av, b0, c20); c21 = fma(av, b1, c21);
    av = v128.load32_splat(p, 12);
    c30 = fma(av, b0, c30); c31 = fma(av, b1, c31);
    av = v128.load32_splat(q);
    c40 = fma(av, b0, c40); c41 = fma(av, b1, c41);
    av = v128.load32_splat(q, 4);
    c50 = fma(av, b0, c50); c51 = fma(av, b1, c51);
    p += 16; q += 16; b += 32;
  }
  v128.store(c4, c00); v128.store(c4, c01, 16); v128.store(c4 + ldc, c10); v128.store(c4 + ldc, c11, 16);
  v128.store(c4 + l2, c20); v128.store(c4 + l2, c21, 16); v128.store(c4 + l3, c30); v128.store(c4 + l3, c31, 16);
  v128.store(c2, c40); v128.store(c2, c41, 16); v128.store(c2 + ldc, c50); v128.store(c2 + ldc, c51, 16);
}

/** Packs B [k, n] (element strides rsb, csb) into k blocks of 8-column panels at bp (see the legend). */
export function packB8(k: i32, n: i32, b: usize, rsb: i32, csb: i32, bp: usize): void {
  const kb = kBlock(k), panels = (n + RT_NR - 1) / RT_NR;
  for (let k0 = 0; k0 < k; k0 += kb) {
    gemm_packB(min(kb, k - k0), n, b + (<usize>(k0 * rsb) << 2), rsb, csb, bp + (<usize>(k0 * panels * RT_NR) << 2));
  }
}

/**
 * C[mp, panels j0 … j1) (+)= A·B: A packed by gemm_packA (mp = its rows rounded up to 4), B packed by packB8 with `panels`
 * panels; C's column of panel j starts at 8j, row stride ldc elements. add = false overwrites C; k blocks after the
 * first continue the chains from C.
 */
export function gemmRows(mp: i32, j0: i32, j1: i32, k: i32, ap: usize, bp: usize, panels: i32, c: usize, ldc: i32, add: bool): void {
  const kb = kBlock(k), ldcb = <usize>ldc << 2;
  for (let k0 = 0; k0 < k; k0 += kb) {
    const kc = min(kb, k - k0);
    const blockB = bp + (<usize>(k0 * panels * RT_NR) << 2), blockA = ap + (<usize>k0 << 4);
    const acc = add || k0 > 0;
    const ps = <usize>k << 4; // bytes between A panels
    for (let j = j0; j < j1; j++) {
      const bpan = blockB + (<usize>(j * kc * RT_NR) << 2);
      let apan = blockA, ct = c + (<usize>(j * RT_NR) << 2);
      let i = 0;
      // Twelve rows (three A panels) as two 6-row tiles: panel 0 with panel 1's first two rows, then panel 1's last two
      // rows with panel 2 (micro62); the rows left, 4 at a time (micro48).
      for (; i + 12 <= mp; i += 12) {
        micro62(kc, apan, apan + ps, bpan, ct, ct + (ldcb << 2), ldcb, acc);
        micro62(kc, apan + 2 * ps, apan + ps + 8, bpan, ct + (ldcb << 3), ct + 6 * ldcb, ldcb, acc);
        apan += 3 * ps;
        ct += 12 * ldcb;
      }
      for (; i < mp; i += RT_MR) {
        micro48(kc, apan, bpan, ct, ldcb, acc);
        apan += ps;
        ct += ldcb << 2;
      }
    }
  }
}
