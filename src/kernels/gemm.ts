// GEMM kernels: Goto/BLIS-style packed, cache-blocked f32x4 GEMM: a 3×12 micro-kernel for gemm_f32, the 4×8 one for convolution.
//
// Legend: C[M,N] (+)= A[M,K]·B[K,N]. A is read at A + (i·rsa + p·csa), B at B + (p·rsb + j·csb), C at
// C + (i·rsc + j·csc) (element strides), so transposes are just swapped strides. MR×NR is the register
// tile, KC/MC/NC the cache blocks. Packed A: panels of MR rows, each kc × MR (k-major); packed B:
// panels of NR columns, each kc × NR. Edge panels are zero-padded so edge elements get the same
// arithmetic. Every C element is Σ over KC blocks taken in order from k = 0, whatever the split.

import { storeTail, storeTransposed4 } from './lib/vecmath';

export const gemm_MR: i32 = 4;
export const gemm_NR: i32 = 8;
/** Largest KC block; a reduction of length k is cut into equal blocks of at most this (see gemm_kcBlock). */
export const gemm_KC: i32 = 384;
export const gemm_MC: i32 = 128;
export const gemm_NC: i32 = 1024;
/** Scratch layout of gemm_sub: packed B (KC×NC) at 0, packed A (MC×KC) at gemm_AP, the macro-kernel's tmp at gemm_TMP. */
export const gemm_AP: i32 = gemm_KC * gemm_NC * 4;
export const gemm_TMP: i32 = gemm_AP + gemm_MC * gemm_KC * 4;
/** Bytes of the macro-kernel's tmp area: one C tile and an A and a B edge panel. */
export const gemm_TMP_BYTES: i32 = 128 + (gemm_MR + gemm_NR) * gemm_KC * 4;
export const gemm_SCRATCH: i32 = gemm_TMP + gemm_TMP_BYTES;

const DIRECT_A_MAX_N: i32 = 32;
const DIRECT_B_MAX_M: i32 = 64;

/** KC block length for a reduction of length k: equal blocks ≤ gemm_KC (a function of k alone, so of no split). */
export function gemm_kcBlock(k: i32): i32 {
  const blocks = (k + gemm_KC - 1) / gemm_KC;
  return (k + blocks - 1) / blocks;
}

@inline function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) {
    return f32x4.relaxed_madd(a, b, c);
  } else {
    return f32x4.add(c, f32x4.mul(a, b));
  }
}

@inline function st(c: usize, v: v128, add: bool): void {
  if (add) v = f32x4.add(v128.load(c), v);
  v128.store(c, v);
}

/**
 * Micro-kernel: tile C[4,8] (row stride ldc bytes, columns contiguous) (+)= A[4,kc] · B[kc,8]; A(i,p) at
 * a + i·ars + p·acs, B(p,j) at b + p·bs + 4j (bytes). Packed panels are ars = 4, acs = 16, bs = 32.
 */
export function gemm_micro(kc: i32, a: usize, ars: usize, acs: usize, b: usize, bs: usize, c: usize, ldc: usize, add: bool): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0), c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0), c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  const a2 = ars * 2, a3 = ars * 3;
  for (let p = 0; p < kc; p++) {
    const b0 = v128.load(b), b1 = v128.load(b, 16);
    let av = v128.load32_splat(a);
    c00 = madd(av, b0, c00); c01 = madd(av, b1, c01);
    av = v128.load32_splat(a + ars);
    c10 = madd(av, b0, c10); c11 = madd(av, b1, c11);
    av = v128.load32_splat(a + a2);
    c20 = madd(av, b0, c20); c21 = madd(av, b1, c21);
    av = v128.load32_splat(a + a3);
    c30 = madd(av, b0, c30); c31 = madd(av, b1, c31);
    a += acs; b += bs;
  }
  st(c, c00, add); st(c + 16, c01, add); c += ldc;
  st(c, c10, add); st(c + 16, c11, add); c += ldc;
  st(c, c20, add); st(c + 16, c21, add); c += ldc;
  st(c, c30, add); st(c + 16, c31, add);
}

/** Packs rows [0,mc) × k [0,kc) of A (element strides rsa, csa) into MR-row panels at ap, zero-padding the last panel. */
export function gemm_packA(mc: i32, kc: i32, a: usize, rsa: i32, csa: i32, ap: usize): void {
  for (let i0 = 0; i0 < mc; i0 += gemm_MR) {
    const rows = min(gemm_MR, mc - i0);
    const src = a + <usize>(i0 * rsa) * 4;
    if (rows == gemm_MR && csa == 1) {
      const rs = <usize>rsa * 4;
      let p = 0;
      for (; p + 4 <= kc; p += 4) {
        const s = src + <usize>p * 4;
        storeTransposed4(ap + <usize>p * 16, v128.load(s), v128.load(s + rs), v128.load(s + 2 * rs), v128.load(s + 3 * rs), 16);
      }
      for (; p < kc; p++) {
        const s = src + <usize>p * 4, d = ap + <usize>p * 16;
        store<f32>(d, load<f32>(s)); store<f32>(d, load<f32>(s + rs), 4);
        store<f32>(d, load<f32>(s + 2 * rs), 8); store<f32>(d, load<f32>(s + 3 * rs), 12);
      }
    } else if (rows == gemm_MR && rsa == 1) {
      for (let p = 0; p < kc; p++) v128.store(ap + <usize>p * 16, v128.load(src + <usize>(p * csa) * 4));
    } else {
      for (let p = 0; p < kc; p++) {
        for (let i = 0; i < gemm_MR; i++) {
          const v: f32 = i < rows ? load<f32>(src + <usize>(i * rsa + p * csa) * 4) : 0;
          store<f32>(ap + <usize>(p * gemm_MR + i) * 4, v);
        }
      }
    }
    ap += <usize>(kc * gemm_MR) * 4;
  }
}

/** Packs k [0,kc) × columns [0,nc) of B (element strides rsb, csb) into NR-column panels at bp, zero-padding the last panel. */
export function gemm_packB(kc: i32, nc: i32, b: usize, rsb: i32, csb: i32, bp: usize): void {
  for (let j0 = 0; j0 < nc; j0 += gemm_NR) {
    const cols = min(gemm_NR, nc - j0);
    const src = b + <usize>(j0 * csb) * 4;
    if (cols == gemm_NR && csb == 1) {
      const rs = <usize>rsb * 4;
      let s = src, d = bp;
      for (let p = 0; p < kc; p++) {
        v128.store(d, v128.load(s)); v128.store(d, v128.load(s, 16), 16);
        s += rs; d += 32;
      }
    } else if (cols == gemm_NR && rsb == 1) {
      const cs = <usize>csb * 4;
      let p = 0;
      for (; p + 4 <= kc; p += 4) {
        const s = src + <usize>p * 4, d = bp + <usize>p * 32;
        storeTransposed4(d, v128.load(s), v128.load(s + cs), v128.load(s + 2 * cs), v128.load(s + 3 * cs), 32);
        const s4 = s + 4 * cs;
        storeTransposed4(d + 16, v128.load(s4), v128.load(s4 + cs), v128.load(s4 + 2 * cs), v128.load(s4 + 3 * cs), 32);
      }
      for (; p < kc; p++) {
        for (let j = 0; j < gemm_NR; j++) store<f32>(bp + <usize>(p * gemm_NR + j) * 4, load<f32>(src + <usize>(p + j * csb) * 4));
      }
    } else {
      for (let p = 0; p < kc; p++) {
        for (let j = 0; j < gemm_NR; j++) {
          const v: f32 = j < cols ? load<f32>(src + <usize>(p * rsb + j * csb) * 4) : 0;
          store<f32>(bp + <usize>(p * gemm_NR + j) * 4, v);
        }
      }
    }
    bp += <usize>(kc * gemm_NR) * 4;
  }
}

/**
 * Macro-kernel: C[mc,nc] (+)= A[mc,kc] · B[kc,nc] over one KC block; add = false overwrites C.
 * A is packed MR-row panels when rsa = 0, else read in place with element strides (rsa, csa);
 * B is packed NR-column panels when rsb = 0, else read in place as rows of stride rsb with contiguous columns.
 * In-place edge panels are packed (zero-padded) into tmp; tmp holds gemm_TMP_BYTES.
 */
export function gemm_macro(mc: i32, nc: i32, kc: i32, a: usize, rsa: i32, csa: i32, b: usize, rsb: i32,
  c: usize, rsc: i32, csc: i32, add: bool, tmp: usize): void {
  const ldc = <usize>rsc * 4;
  const edgeA = tmp + 128, edgeB = edgeA + <usize>(gemm_MR * gemm_KC) * 4;
  const ars: usize = rsa ? <usize>rsa * 4 : 4, acs: usize = rsa ? <usize>csa * 4 : 16;
  const aps: usize = rsa ? <usize>rsa * 16 : <usize>kc * 16;
  const bs: usize = rsb ? <usize>rsb * 4 : 32, bps: usize = rsb ? 32 : <usize>kc * 32;
  const mEdge = mc & ~(gemm_MR - 1);
  if (rsa && mEdge < mc) gemm_packA(mc - mEdge, kc, a + <usize>(mEdge * rsa) * 4, rsa, csa, edgeA);
  for (let j0 = 0; j0 < nc; j0 += gemm_NR) {
    const cols = min(gemm_NR, nc - j0);
    let bpan = b + <usize>(j0 >> 3) * bps, pbs = bs;
    if (rsb && cols < gemm_NR) {
      gemm_packB(kc, cols, b + <usize>j0 * 4, rsb, 1, edgeB);
      bpan = edgeB; pbs = 32;
    }
    for (let i0 = 0; i0 < mc; i0 += gemm_MR) {
      const rows = min(gemm_MR, mc - i0);
      let apan = a + <usize>(i0 >> 2) * aps, pars = ars, pacs = acs;
      if (rsa && rows < gemm_MR) { apan = edgeA; pars = 4; pacs = 16; }
      const ct = c + <usize>(i0 * rsc + j0 * csc) * 4;
      if (rows == gemm_MR && cols == gemm_NR && csc == 1) {
        gemm_micro(kc, apan, pars, pacs, bpan, pbs, ct, ldc, add);
      } else {
        gemm_micro(kc, apan, pars, pacs, bpan, pbs, tmp, 32, false);
        for (let i = 0; i < rows; i++) {
          for (let j = 0; j < cols; j++) {
            const d = ct + <usize>(i * rsc + j * csc) * 4;
            const v = load<f32>(tmp + <usize>(i * gemm_NR + j) * 4);
            store<f32>(d, add ? load<f32>(d) + v : v);
          }
        }
      }
    }
  }
}

// GEMM path (gemm_sub / gemm_f32): a 3×12 register tile. Nine independent accumulator chains (vs eight for
// 4×8) keep both FMA pipes busy despite the FMA latency, and it still fits V8's ~15 xmm registers (9 + 3 + 1).
// The 4×8 panels and macro-kernel above stay for the convolution kernels.
export const gemm3_MR: i32 = 3;
export const gemm3_NR: i32 = 12;
/** Row / column blocks of the 3×12 path: multiples of the tile that fit the packed-A and packed-B areas. */
const G3_MC: i32 = 126;
const G3_NC: i32 = 1020;
/** Within gemm_SCRATCH: the C tile and A edge panel after the packed B (≤ KC×G3_NC), the B edge panel at gemm_TMP. */
const G3_TILE: i32 = 192;
const G3_TMP: i32 = gemm_KC * G3_NC * 4;

function micro3(kc: i32, a: usize, ars: usize, acs: usize, b: usize, bs: usize, c: usize, ldc: usize, add: bool): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0), c02 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0), c12 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0), c22 = f32x4.splat(0);
  const a2 = ars * 2;
  for (let p = 0; p < kc; p++) {
    const b0 = v128.load(b), b1 = v128.load(b, 16), b2 = v128.load(b, 32);
    let av = v128.load32_splat(a);
    c00 = madd(av, b0, c00); c01 = madd(av, b1, c01); c02 = madd(av, b2, c02);
    av = v128.load32_splat(a + ars);
    c10 = madd(av, b0, c10); c11 = madd(av, b1, c11); c12 = madd(av, b2, c12);
    av = v128.load32_splat(a + a2);
    c20 = madd(av, b0, c20); c21 = madd(av, b1, c21); c22 = madd(av, b2, c22);
    a += acs; b += bs;
  }
  st(c, c00, add); st(c + 16, c01, add); st(c + 32, c02, add); c += ldc;
  st(c, c10, add); st(c + 16, c11, add); st(c + 32, c12, add); c += ldc;
  st(c, c20, add); st(c + 16, c21, add); st(c + 32, c22, add);
}

/** micro3 on a packed A panel (ars = 4, acs = 12) and packed-layout B (bs = 48): constant offsets, pointer-bounded loop. */
function micro3p(kc: i32, a: usize, b: usize, c: usize, ldc: usize, add: bool): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0), c02 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0), c12 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0), c22 = f32x4.splat(0);
  const bend = b + <usize>kc * 48;
  while (b < bend) {
    const b0 = v128.load(b), b1 = v128.load(b, 16), b2 = v128.load(b, 32);
    let av = v128.load32_splat(a);
    c00 = madd(av, b0, c00); c01 = madd(av, b1, c01); c02 = madd(av, b2, c02);
    av = v128.load32_splat(a, 4);
    c10 = madd(av, b0, c10); c11 = madd(av, b1, c11); c12 = madd(av, b2, c12);
    av = v128.load32_splat(a, 8);
    c20 = madd(av, b0, c20); c21 = madd(av, b1, c21); c22 = madd(av, b2, c22);
    a += 12; b += 48;
  }
  st(c, c00, add); st(c + 16, c01, add); st(c + 32, c02, add); c += ldc;
  st(c, c10, add); st(c + 16, c11, add); st(c + 32, c12, add); c += ldc;
  st(c, c20, add); st(c + 16, c21, add); st(c + 32, c22, add);
}

/**
 * Four 3-row panels of a transposed A (rows contiguous: rsa = 1) from rows [0, 12) at src: per k, 12 contiguous values
 * in three loads, stored 3 to a panel (a full vector whose fourth lane the next k overwrites; the last k stores three).
 */
// @ts-ignore: decorator
@inline function packA3x4Transposed(kc: i32, src: usize, cs: usize, ap: usize): void {
  const ps = <usize>kc * 12;
  let s = src, d = ap;
  for (let p = 0; p < kc - 1; p++) {
    const v0 = v128.load(s), v1 = v128.load(s, 16), v2 = v128.load(s, 32);
    v128.store(d, v0);
    v128.store(d + ps, i32x4.shuffle(v0, v1, 3, 4, 5, 6));
    v128.store(d + 2 * ps, i32x4.shuffle(v1, v2, 2, 3, 4, 5));
    v128.store(d + 3 * ps, i32x4.shuffle(v2, v2, 1, 2, 3, 0));
    s += cs; d += 12;
  }
  const v0 = v128.load(s), v1 = v128.load(s, 16), v2 = v128.load(s, 32);
  storeTail(d, v0, 3);
  storeTail(d + ps, i32x4.shuffle(v0, v1, 3, 4, 5, 6), 3);
  storeTail(d + 2 * ps, i32x4.shuffle(v1, v2, 2, 3, 4, 5), 3);
  storeTail(d + 3 * ps, i32x4.shuffle(v2, v2, 1, 2, 3, 0), 3);
}

/** One 3-row panel of a row-major A (csa = 1), four k at a time: rows r0..r2 [4 k each] → 12 values k-major in three stores. */
// @ts-ignore: decorator
@inline function packA3RowMajor4(r0: v128, r1: v128, r2: v128, d: usize): void {
  const t01 = i32x4.shuffle(r0, r1, 0, 4, 1, 5), t23 = i32x4.shuffle(r0, r1, 2, 6, 3, 7); // (a0 b0 a1 b1), (a2 b2 a3 b3)
  v128.store(d, i32x4.shuffle(t01, r2, 0, 1, 4, 2));
  v128.store(d, i32x4.shuffle(i32x4.shuffle(t01, r2, 3, 5, 0, 0), t23, 0, 1, 4, 5), 16);
  v128.store(d, i32x4.shuffle(r2, t23, 2, 6, 7, 3), 32);
}

/** Packs rows [0,mc) × k [0,kc) of A into 3-row panels (k-major) at ap, zero-padding the last panel. */
function packA3(mc: i32, kc: i32, a: usize, rsa: i32, csa: i32, ap: usize): void {
  if (rsa == 1) { // transposed A: four panels at a time
    let i0 = 0;
    for (; i0 + 4 * gemm3_MR <= mc; i0 += 4 * gemm3_MR) {
      packA3x4Transposed(kc, a + <usize>i0 * 4, <usize>csa * 4, ap);
      ap += <usize>(kc * 4 * gemm3_MR) * 4;
    }
    if (i0 == mc) return;
    a += <usize>i0 * 4;
    mc -= i0;
  }
  for (let i0 = 0; i0 < mc; i0 += gemm3_MR) {
    const rows = min(gemm3_MR, mc - i0);
    const src = a + <usize>(i0 * rsa) * 4;
    if (rows == gemm3_MR && csa == 1) { // row-major A: four k at a time
      const rs = <usize>rsa * 4;
      let p = 0;
      for (; p + 4 <= kc; p += 4) {
        const s = src + <usize>p * 4;
        packA3RowMajor4(v128.load(s), v128.load(s + rs), v128.load(s + 2 * rs), ap + <usize>p * 12);
      }
      for (; p < kc; p++) {
        const s = src + <usize>p * 4, d = ap + <usize>p * 12;
        store<f32>(d, load<f32>(s)); store<f32>(d, load<f32>(s + rs), 4); store<f32>(d, load<f32>(s + 2 * rs), 8);
      }
    } else if (rows == gemm3_MR) {
      const rs = <usize>rsa * 4, cs = <usize>csa * 4;
      let s = src, d = ap;
      for (let p = 0; p < kc; p++) {
        store<f32>(d, load<f32>(s)); store<f32>(d, load<f32>(s + rs), 4); store<f32>(d, load<f32>(s + 2 * rs), 8);
        s += cs; d += 12;
      }
    } else {
      for (let p = 0; p < kc; p++) {
        for (let i = 0; i < gemm3_MR; i++) {
          const v: f32 = i < rows ? load<f32>(src + <usize>(i * rsa + p * csa) * 4) : 0;
          store<f32>(ap + <usize>(p * gemm3_MR + i) * 4, v);
        }
      }
    }
    ap += <usize>(kc * gemm3_MR) * 4;
  }
}

/** Packs k [0,kc) × columns [0,nc) of B into 12-column panels at bp, zero-padding the last panel. */
function packB12(kc: i32, nc: i32, b: usize, rsb: i32, csb: i32, bp: usize): void {
  for (let j0 = 0; j0 < nc; j0 += gemm3_NR) {
    const cols = min(gemm3_NR, nc - j0);
    const src = b + <usize>(j0 * csb) * 4;
    if (cols == gemm3_NR && csb == 1) {
      const rs = <usize>rsb * 4;
      let s = src, d = bp;
      for (let p = 0; p < kc; p++) {
        v128.store(d, v128.load(s)); v128.store(d, v128.load(s, 16), 16); v128.store(d, v128.load(s, 32), 32);
        s += rs; d += 48;
      }
    } else if (cols == gemm3_NR && rsb == 1) {
      const cs = <usize>csb * 4;
      let p = 0;
      for (; p + 4 <= kc; p += 4) {
        const s = src + <usize>p * 4, d = bp + <usize>p * 48;
        storeTransposed4(d, v128.load(s), v128.load(s + cs), v128.load(s + 2 * cs), v128.load(s + 3 * cs), 48);
        const s4 = s + 4 * cs;
        storeTransposed4(d + 16, v128.load(s4), v128.load(s4 + cs), v128.load(s4 + 2 * cs), v128.load(s4 + 3 * cs), 48);
        const s8 = s + 8 * cs;
        storeTransposed4(d + 32, v128.load(s8), v128.load(s8 + cs), v128.load(s8 + 2 * cs), v128.load(s8 + 3 * cs), 48);
      }
      for (; p < kc; p++) {
        for (let j = 0; j < gemm3_NR; j++) store<f32>(bp + <usize>(p * gemm3_NR + j) * 4, load<f32>(src + <usize>(p + j * csb) * 4));
      }
    } else {
      for (let p = 0; p < kc; p++) {
        for (let j = 0; j < gemm3_NR; j++) {
          const v: f32 = j < cols ? load<f32>(src + <usize>(p * rsb + j * csb) * 4) : 0;
          store<f32>(bp + <usize>(p * gemm3_NR + j) * 4, v);
        }
      }
    }
    bp += <usize>(kc * gemm3_NR) * 4;
  }
}

/** gemm_macro for the 3×12 tile (same conventions; tmp: C tile then A edge panel; edgeB: B edge panel). */
function macro3(mc: i32, nc: i32, kc: i32, a: usize, rsa: i32, csa: i32, b: usize, rsb: i32,
  c: usize, rsc: i32, csc: i32, add: bool, tmp: usize, edgeB: usize): void {
  const ldc = <usize>rsc * 4;
  const edgeA = tmp + <usize>G3_TILE;
  const ars: usize = rsa ? <usize>rsa * 4 : 4, acs: usize = rsa ? <usize>csa * 4 : 12;
  const aps: usize = rsa ? <usize>rsa * 12 : <usize>kc * 12;
  const bs: usize = rsb ? <usize>rsb * 4 : 48, bps: usize = rsb ? 48 : <usize>kc * 48;
  const mEdge = mc - mc % gemm3_MR;
  if (rsa && mEdge < mc) packA3(mc - mEdge, kc, a + <usize>(mEdge * rsa) * 4, rsa, csa, edgeA);
  let bcur = b;
  for (let j0 = 0; j0 < nc; j0 += gemm3_NR) {
    const cols = min(gemm3_NR, nc - j0);
    let bpan = bcur, pbs = bs;
    bcur += bps;
    if (rsb && cols < gemm3_NR) {
      packB12(kc, cols, b + <usize>j0 * 4, rsb, 1, edgeB);
      bpan = edgeB; pbs = 48;
    }
    const full = cols == gemm3_NR && csc == 1;
    let acur = a, ct = c + <usize>(j0 * csc) * 4;
    const cstep = ldc * gemm3_MR;
    let i0 = 0;
    if (full) {
      if (!rsa && pbs == 48) {
        for (; i0 + gemm3_MR <= mc; i0 += gemm3_MR) {
          micro3p(kc, acur, bpan, ct, ldc, add);
          acur += aps; ct += cstep;
        }
      } else {
        for (; i0 + gemm3_MR <= mc; i0 += gemm3_MR) {
          micro3(kc, acur, ars, acs, bpan, pbs, ct, ldc, add);
          acur += aps; ct += cstep;
        }
      }
    }
    for (; i0 < mc; i0 += gemm3_MR) {
      const rows = min(gemm3_MR, mc - i0);
      let apan = acur, pars = ars, pacs = acs;
      if (rsa && rows < gemm3_MR) { apan = edgeA; pars = 4; pacs = 12; }
      micro3(kc, apan, pars, pacs, bpan, pbs, tmp, 48, false);
      for (let i = 0; i < rows; i++) {
        let j = 0;
        if (csc == 1) {
          for (; j + 4 <= cols; j += 4) st(ct + <usize>(i * rsc + j) * 4, v128.load(tmp + <usize>(i * gemm3_NR + j) * 4), add);
        }
        for (; j < cols; j++) {
          const d = ct + <usize>(i * rsc + j * csc) * 4;
          const v = load<f32>(tmp + <usize>(i * gemm3_NR + j) * 4);
          store<f32>(d, add ? load<f32>(d) + v : v);
        }
      }
      acur += aps; ct += cstep;
    }
  }
}

/** One GEMM on the calling thread: C[m,n] (+)= A[m,k]·B[k,n] with element strides; scratch ≥ gemm_SCRATCH bytes. */
export function gemm_sub(m: i32, n: i32, k: i32, a: usize, rsa: i32, csa: i32, b: usize, rsb: i32, csb: i32,
  c: usize, rsc: i32, csc: i32, accumulate: bool, scratch: usize): void {
  if (k <= 0) {
    if (!accumulate) {
      for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) store<f32>(c + <usize>(i * rsc + j * csc) * 4, 0);
    }
    return;
  }
  const bp = scratch, ap = scratch + <usize>gemm_AP, tmp = scratch + <usize>G3_TMP, edgeB = scratch + <usize>gemm_TMP;
  const kcb = gemm_kcBlock(k);
  // Packing pays when a panel is reused often: A across the NR panels of N, B across the MR panels of M.
  const directA = n <= DIRECT_A_MAX_N && rsa != 0;
  const directB = m <= DIRECT_B_MAX_M && csb == 1 && rsb != 0;
  for (let jc = 0; jc < n; jc += G3_NC) {
    const nc = min(G3_NC, n - jc);
    for (let pc = 0; pc < k; pc += kcb) {
      const kc = min(kcb, k - pc);
      const bk = b + <usize>(pc * rsb + jc * csb) * 4;
      if (!directB) packB12(kc, nc, bk, rsb, csb, bp);
      for (let ic = 0; ic < m; ic += G3_MC) {
        const mc = min(G3_MC, m - ic);
        const ak = a + <usize>(ic * rsa + pc * csa) * 4;
        if (!directA) packA3(mc, kc, ak, rsa, csa, ap);
        macro3(mc, nc, kc, directA ? ak : ap, directA ? rsa : 0, csa, directB ? bk : bp, directB ? rsb : 0,
          c + <usize>(ic * rsc + jc * csc) * 4, rsc, csc, accumulate || pc > 0, tmp, edgeB);
      }
    }
  }
}

/**
 * Batched GEMM, parallel over output tiles: C_b[m,n] (+)= op(A_b)[m,k]·op(B_b)[k,n] (C row-major, row stride n).
 * Work items are batch × tiles, a tile being MR rows (flags bit 1 clear) or NR columns (bit 1 set); bit 0 = accumulate.
 * Strides sa, sb, sc are element offsets between batch matrices (0 broadcasts).
 */
export function gemm_f32(a: usize, b: usize, c: usize, m: i32, n: i32, k: i32, rsa: i32, csa: i32, rsb: i32, csb: i32,
  sa: i32, sb: i32, sc: i32, flags: i32, begin: i32, end: i32, scratch: usize): void {
  const accumulate = (flags & 1) != 0, splitN = (flags & 2) != 0;
  const tiles = splitN ? (n + gemm3_NR - 1) / gemm3_NR : (m + gemm3_MR - 1) / gemm3_MR;
  let item = begin;
  while (item < end) {
    const bi = item / tiles, t0 = item % tiles;
    const t1 = min(tiles, t0 + (end - item));
    const ab = a + <usize>bi * <usize>sa * 4, bb = b + <usize>bi * <usize>sb * 4, cb = c + <usize>bi * <usize>sc * 4;
    if (splitN) {
      const j0 = t0 * gemm3_NR, j1 = min(n, t1 * gemm3_NR);
      gemm_sub(m, j1 - j0, k, ab, rsa, csa, bb + <usize>(j0 * csb) * 4, rsb, csb, cb + <usize>j0 * 4, n, 1, accumulate, scratch);
    } else {
      const i0 = t0 * gemm3_MR, i1 = min(m, t1 * gemm3_MR);
      gemm_sub(i1 - i0, n, k, ab + <usize>(i0 * rsa) * 4, rsa, csa, bb, rsb, csb, cb + <usize>(i0 * n) * 4, n, 1, accumulate, scratch);
    }
    item += t1 - t0;
  }
}
