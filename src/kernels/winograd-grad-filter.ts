// The Winograd grad filter of 3×3 stride-1 convolutions (the transposed algorithm): dW = Gᵀ[Σ_t (A dy_t Aᵀ) ⊙ (Bᵀ d_t B)]G.
// Legend as in winograd.ts: x[N,H,W,C], dy[N,OH,OW,F], dw[3,3,C,F], tile side m, α = m + 2, positions pos = ξ·α + ν.
// Geometry comes as 15 int32 at `g` (see winograd.ts).

import { gemm_micro } from './gemm';
import { storeTail } from './lib/vecmath';
import {
  A, C, CS, F, M, RS, T, ag, agRows, bt, btRows, dyWindow, geom, gt, tileAt, xWindow,
} from './lib/winograd';

/** Bytes of per-thread scratch the grad filter's chunk of transformed tiles may use. */
const GF_BUDGET = 6 << 20;

/** Tiles per reduction chunk of the grad filter: a function of the geometry alone (it fixes the summation order). */
function chunkTiles(): i32 {
  const cp = (C + 3) & ~3, fp8 = (F + 7) & ~7;
  return max(4, min(64, GF_BUDGET / (A * A * (cp + fp8) * 4)));
}

/**
 * Grad filter, transform and reduce, parallel over rows ξ [begin, end) of the α² positions:
 * s[pos][C'][F'] = Σ_t (Bᵀ d_t B)[pos] ⊗ (A dy_t Aᵀ)[pos] (C' = C rounded up to 4, F' = F to 8) for pos = ξ·α + ν,
 * over the tiles in chunks of chunkTiles(), each chunk transformed into the micro-kernel's packed panels and added.
 */
export function wino_gradFilter(x: usize, dy: usize, s: usize, g: usize, m: i32, begin: i32, end: i32, scratch: usize): void {
  geom(g, m);
  const cp = (C + 3) & ~3, fp8 = (F + 7) & ~7, ncq = cp >> 2, nfp = fp8 >> 3, np = (end - begin) * A, tcs = chunkTiles();
  const vps = <usize>(ncq * tcs) * 16 + 64, zps = <usize>(nfp * tcs) * 32 + 64;
  const vp = scratch, zp = vp + <usize>np * vps, tin = zp + <usize>np * zps, tmid = tin + <usize>(A * A) * 16;
  // The first pass of each 2-D transform: all its rows (one thread), or only this thread's (the same bits either way).
  const all = begin == 0 && end == A;
  for (let t0 = 0; t0 < T; t0 += tcs) {
    const tc = min(tcs, T - t0);
    for (let i = 0; i < tc; i++) {
      tileAt(t0 + i);
      for (let c = 0; c < C; c += 4) {
        const src = xWindow(x, c, tin), rs = RS, cs = CS;
        if (all) for (let j = 0; j < A; j++) bt(src + <usize>j * cs, rs, tmid + <usize>j * 16, <usize>A * 16);
        else for (let j = 0; j < A; j++) btRows(src + <usize>j * cs, rs, tmid + <usize>j * 16, <usize>A * 16, begin, end);
        const d = vp + <usize>((c >> 2) * tcs + i) * 16;
        for (let xi = begin; xi < end; xi++) bt(tmid + <usize>(xi * A) * 16, 16, d + <usize>((xi - begin) * A) * vps, vps);
      }
      for (let f = 0; f < fp8; f += 4) {
        const src = dyWindow(dy, f, tin), rs = RS, cs = CS;
        if (all) for (let j = 0; j < M; j++) ag(src + <usize>j * cs, rs, tmid + <usize>j * 16, <usize>M * 16);
        else for (let j = 0; j < M; j++) agRows(src + <usize>j * cs, rs, tmid + <usize>j * 16, <usize>M * 16, begin, end);
        const d = zp + <usize>((f >> 3) * tcs + i) * 32 + <usize>(f & 4) * 4;
        for (let xi = begin; xi < end; xi++) ag(tmid + <usize>(xi * M) * 16, 16, d + <usize>((xi - begin) * A) * zps, zps);
      }
    }
    for (let pl = 0; pl < np; pl++) {
      const sp0 = s + <usize>((begin * A + pl) * cp * fp8) * 4;
      for (let cq = 0; cq < ncq; cq++) {
        for (let fq = 0; fq < nfp; fq++) {
          gemm_micro(tc, vp + <usize>pl * vps + <usize>(cq * tcs) * 16, 4, 16, zp + <usize>pl * zps + <usize>(fq * tcs) * 32, 32,
            sp0 + <usize>((cq * 4) * fp8 + fq * 8) * 4, <usize>fp8 * 4, t0 > 0);
        }
      }
    }
  }
}

/** Grad filter, inverse transform, parallel over input channels [begin, end): dw[3,3,C,F] = Gᵀ s[·][c] G (s from wino_gradFilter). */
export function wino_gradFilterOut(s: usize, dw: usize, g: usize, m: i32, begin: i32, end: i32, scratch: usize): void {
  geom(g, m);
  const cp = (C + 3) & ~3, fp8 = (F + 7) & ~7, ps = <usize>(cp * fp8) * 4;
  const mid = scratch, out = mid + <usize>(3 * A) * 16;
  for (let c = begin; c < end; c++) {
    for (let f = 0; f < F; f += 4) {
      const base = s + <usize>(c * fp8 + f) * 4, nf = min(4, F - f);
      for (let nu = 0; nu < A; nu++) gt(base + <usize>nu * ps, <usize>A * ps, mid + <usize>nu * 16, <usize>A * 16);
      for (let kh = 0; kh < 3; kh++) gt(mid + <usize>(kh * A) * 16, 16, out + <usize>(kh * 3) * 16, 16);
      for (let k = 0; k < 9; k++) {
        const v = v128.load(out + <usize>k * 16), d = dw + <usize>((k * C + c) * F + f) * 4;
        if (nf == 4) v128.store(d, v);
        else storeTail(d, v, nf);
      }
    }
  }
}
