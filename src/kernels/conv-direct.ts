// Direct 2-D convolution kernels for small K = KH·KW·C (e.g. a first layer with C = 1): no im2col packing.
//
// Legend as in conv.ts: x[N,H,W,C], w[KH,KW,C,F], y/dy[N,OH,OW,F], tap k = (kh·KW + kw)·C + c.
// Geometry comes as 15 int32 at `g`: n h w c f kh kw sH sW dH dW padT padL oh ow. The wrapper uses these
// kernels only where they apply (see src/backend/wasm/conv.ts). Every output element is computed by one
// thread in an order fixed by its position alone, so results are bit-identical for any split.

import { BiasAct } from '../backend/opcodes';
import { biasActVec } from './lib/vecmath';

@inline function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) {
    return f32x4.relaxed_madd(a, b, c);
  } else {
    return f32x4.add(c, f32x4.mul(a, b));
  }
}

/** Writes the byte offset of every tap k < kpad (taps past K repeat tap K−1) relative to a window origin as i32 at t. */
function tapTable(g: usize, kpad: i32, t: usize): void {
  const W = load<i32>(g, 8), C = load<i32>(g, 12), KH = load<i32>(g, 20), KW = load<i32>(g, 24);
  const DH = load<i32>(g, 36), DW = load<i32>(g, 40), K = KH * KW * C;
  for (let k = 0; k < kpad; k++) {
    const kk = min(k, K - 1), seg = kk / C, c = kk - seg * C, kh = seg / KW, kw = seg - kh * KW;
    store<i32>(t + <usize>k * 4, ((kh * DH * W + kw * DW) * C + c) * 4);
  }
}

/** y[2 pixels, 16 filters] = Σ_k x(p0 + i·ps + off[k]) · w[k, 0..16] (w rows of fs bytes, y rows of fs bytes). */
@inline function fwd2(p0: usize, ps: usize, offs: usize, K: i32, wf: usize, fs: usize, yo: usize, act: i32, bias: usize): void {
  let a00 = f32x4.splat(0), a01 = f32x4.splat(0), a02 = f32x4.splat(0), a03 = f32x4.splat(0);
  let a10 = f32x4.splat(0), a11 = f32x4.splat(0), a12 = f32x4.splat(0), a13 = f32x4.splat(0);
  const p1 = p0 + ps;
  for (let k = 0; k < K; k++) {
    const o = <usize>load<i32>(offs + <usize>k * 4);
    const s0 = v128.load32_splat(p0 + o), s1 = v128.load32_splat(p1 + o);
    const w0 = v128.load(wf), w1 = v128.load(wf, 16), w2 = v128.load(wf, 32), w3 = v128.load(wf, 48);
    a00 = madd(s0, w0, a00); a01 = madd(s0, w1, a01); a02 = madd(s0, w2, a02); a03 = madd(s0, w3, a03);
    a10 = madd(s1, w0, a10); a11 = madd(s1, w1, a11); a12 = madd(s1, w2, a12); a13 = madd(s1, w3, a13);
    wf += fs;
  }
  if (act >= 0) {
    const b0 = v128.load(bias), b1 = v128.load(bias, 16), b2 = v128.load(bias, 32), b3 = v128.load(bias, 48);
    a00 = epi(act, a00, b0); a01 = epi(act, a01, b1); a02 = epi(act, a02, b2); a03 = epi(act, a03, b3);
    a10 = epi(act, a10, b0); a11 = epi(act, a11, b1); a12 = epi(act, a12, b2); a13 = epi(act, a13, b3);
  }
  v128.store(yo, a00); v128.store(yo, a01, 16); v128.store(yo, a02, 32); v128.store(yo, a03, 48);
  yo += fs;
  v128.store(yo, a10); v128.store(yo, a11, 16); v128.store(yo, a12, 32); v128.store(yo, a13, 48);
}

/** y[1 pixel, 16 filters] = Σ_k x(p0 + off[k]) · w[k, 0..16] (same order as fwd2). */
@inline function fwd1(p0: usize, offs: usize, K: i32, wf: usize, fs: usize, yo: usize, act: i32, bias: usize): void {
  let a00 = f32x4.splat(0), a01 = f32x4.splat(0), a02 = f32x4.splat(0), a03 = f32x4.splat(0);
  for (let k = 0; k < K; k++) {
    const s0 = v128.load32_splat(p0 + <usize>load<i32>(offs + <usize>k * 4));
    a00 = madd(s0, v128.load(wf), a00); a01 = madd(s0, v128.load(wf, 16), a01);
    a02 = madd(s0, v128.load(wf, 32), a02); a03 = madd(s0, v128.load(wf, 48), a03);
    wf += fs;
  }
  if (act >= 0) {
    a00 = epi(act, a00, v128.load(bias)); a01 = epi(act, a01, v128.load(bias, 16));
    a02 = epi(act, a02, v128.load(bias, 32)); a03 = epi(act, a03, v128.load(bias, 48));
  }
  v128.store(yo, a00); v128.store(yo, a01, 16); v128.store(yo, a02, 32); v128.store(yo, a03, 48);
}

// The forward's geometry and tap table, set by convd_forward for convRow (module globals: one instance per thread).
let fH = 0, fW = 0, fC = 0, fF = 0, fK = 0, fSH = 0, fSW = 0, fOH = 0, fOW = 0;
let fOffs: usize = 0;

/** act(v + b) (a BiasAct code). */
// @ts-ignore: decorator
@inline function epi(act: i32, v: v128, b: v128): v128 {
  return biasActVec(act, f32x4.add(v, b));
}

/** convRow for one activation (act −1: no bias), a constant after inlining, so the epilogue costs no branches. */
// @ts-ignore: decorator
@inline function convRowAct(act: i32, x: usize, w: usize, r: i32, dst: usize, bias: usize): void {
  const n = r / fOH, oh = r - n * fOH, F = fF, K = fK, offs = fOffs;
  const row = x + <usize>((n * fH + oh * fSH) * fW * fC) * 4, ps = <usize>(fSW * fC) * 4, fs = <usize>F * 4;
  let ow = 0;
  for (; ow + 2 <= fOW; ow += 2) {
    const p0 = row + <usize>ow * ps, yo = dst + <usize>(ow * F) * 4;
    for (let f = 0; f < F; f += 16) fwd2(p0, ps, offs, K, w + <usize>f * 4, fs, yo + <usize>f * 4, act, bias + <usize>f * 4);
  }
  if (ow < fOW) {
    const p0 = row + <usize>ow * ps, yo = dst + <usize>(ow * F) * 4;
    for (let f = 0; f < F; f += 16) fwd1(p0, offs, K, w + <usize>f * 4, fs, yo + <usize>f * 4, act, bias + <usize>f * 4);
  }
}

/** Output row r of N·OH into dst (OW·F floats): the convolution, then act(· + bias) when bias ≠ 0, before each store. */
function convRow(x: usize, w: usize, r: i32, dst: usize, bias: usize, act: i32): void {
  if (!bias) convRowAct(-1, x, w, r, dst, bias);
  else if (act == BiasAct.relu) convRowAct(BiasAct.relu, x, w, r, dst, bias);
  else if (act == BiasAct.linear) convRowAct(BiasAct.linear, x, w, r, dst, bias);
  else if (act == BiasAct.sigmoid) convRowAct(BiasAct.sigmoid, x, w, r, dst, bias);
  else convRowAct(BiasAct.tanh, x, w, r, dst, bias);
}

/**
 * Forward: y[N,OH,OW,F] = conv(x[N,H,W,C], w[KH,KW,C,F]); with bias ≠ 0, y = act(conv + bias[F]) (act a BiasAct code,
 * as ew_bias_act computes it), applied row by row while the row is in cache. Requires F % 16 == 0 and every tap of
 * every output pixel inside the image (no padding in effect). Without pooling (pool = 0), parallel over output rows
 * [begin, end) of N·OH. With pool ≠ 0 and pg its geometry (i32[12] as pool_max's, windows that tile the rows: SH = KH,
 * SW = KW, no padding), parallel over pooled rows [begin, end) of N·POH: each computes its KH rows of y (into y, or
 * into scratch when y = 0, which then stores no y; rows below the last window go with the last) and pools them into
 * pool[N,POH,POW,F] as pool_max does.
 */
export function convd_forward(x: usize, w: usize, y: usize, g: usize, bias: usize, act: i32, pool: usize, pg: usize,
  begin: i32, end: i32, scratch: usize): void {
  fH = load<i32>(g, 4); fW = load<i32>(g, 8); fC = load<i32>(g, 12); fF = load<i32>(g, 16);
  fK = load<i32>(g, 20) * load<i32>(g, 24) * fC; fSH = load<i32>(g, 28); fSW = load<i32>(g, 32);
  fOH = load<i32>(g, 52); fOW = load<i32>(g, 56);
  fOffs = scratch;
  tapTable(g, fK, fOffs);
  const rowBytes = <usize>(fOW * fF) * 4;
  if (!pool) {
    for (let r = begin; r < end; r++) convRow(x, w, r, y + <usize>r * rowBytes, bias, act);
    return;
  }
  const kh = load<i32>(pg, 16), kw = load<i32>(pg, 20), poh = load<i32>(pg, 40), pow = load<i32>(pg, 44);
  const buf = scratch + ((<usize>fK * 4 + 15) & ~15), fs = <usize>fF * 4, cs = <usize>kw * fs;
  for (let u = begin; u < end; u++) {
    const n = u / poh, ph = u - n * poh, r0 = n * fOH + ph * kh, rEnd = y && ph == poh - 1 ? (n + 1) * fOH : r0 + kh;
    const src = y ? y + <usize>r0 * rowBytes : buf;
    for (let r = r0; r < rEnd; r++) convRow(x, w, r, src + <usize>(r - r0) * rowBytes, bias, act);
    const prow = pool + <usize>u * <usize>(pow * fF) * 4;
    if (kh == 2 && kw == 2) {
      // The common 2×2 window, unrolled (the same order: top row, then bottom).
      for (let pw = 0; pw < pow; pw++) {
        const d = prow + <usize>pw * fs, c0 = src + <usize>pw * cs;
        for (let f: usize = 0; f < fs; f += 16) {
          const c = c0 + f;
          const m = f32x4.max(f32x4.max(f32x4.max(f32x4.splat(-Infinity), v128.load(c)), v128.load(c + fs)), v128.load(c + rowBytes));
          v128.store(d + f, f32x4.max(m, v128.load(c + rowBytes + fs)));
        }
      }
      continue;
    }
    for (let pw = 0; pw < pow; pw++) {
      for (let f: usize = 0; f < fs; f += 16) {
        let acc = f32x4.splat(-Infinity);
        for (let ky = 0; ky < kh; ky++) {
          const cell = src + <usize>ky * rowBytes + <usize>pw * cs + f;
          for (let kx: usize = 0; kx < cs; kx += fs) acc = f32x4.max(acc, v128.load(cell + kx));
        }
        v128.store(prow + <usize>pw * fs + f, acc);
      }
    }
  }
}

/**
 * Grad filter, parallel over tiles [begin, end) of dw[K,F], tile t = (t / ⌈K/3⌉)-th 16 filters × (t % ⌈K/3⌉)-th
 * 3 taps: dw[KH,KW,C,F] = Σ over pixels p in order of x_tap(p, k) · dy[p, f], images one after another.
 * Requires F % 16 == 0 and no padding in effect. Scratch: tap table, then 12 accumulator vectors per tile.
 */
export function convd_gradFilter(x: usize, dy: usize, dw: usize, g: usize, begin: i32, end: i32, scratch: usize): void {
  const N = load<i32>(g), H = load<i32>(g, 4), W = load<i32>(g, 8), C = load<i32>(g, 12), F = load<i32>(g, 16);
  const K = load<i32>(g, 20) * load<i32>(g, 24) * C, SH = load<i32>(g, 28), SW = load<i32>(g, 32);
  const OH = load<i32>(g, 52), OW = load<i32>(g, 56);
  const nkg = (K + 2) / 3;
  const offs = scratch, accs = scratch + <usize>(nkg * 3 * 4 + 15) & ~15;
  tapTable(g, nkg * 3, offs);
  const ps = <usize>(SW * C) * 4, fs = <usize>F * 4, rs = <usize>(SH * W * C) * 4;
  for (let n = 0; n < N; n++) {
    for (let t = begin; t < end; t++) {
      const kg = t % nkg, fb = t / nkg;
      const acc = accs + <usize>(t - begin) * 192;
      let a00 = f32x4.splat(0), a01 = f32x4.splat(0), a02 = f32x4.splat(0), a03 = f32x4.splat(0);
      let a10 = f32x4.splat(0), a11 = f32x4.splat(0), a12 = f32x4.splat(0), a13 = f32x4.splat(0);
      let a20 = f32x4.splat(0), a21 = f32x4.splat(0), a22 = f32x4.splat(0), a23 = f32x4.splat(0);
      if (n > 0) {
        a00 = v128.load(acc); a01 = v128.load(acc, 16); a02 = v128.load(acc, 32); a03 = v128.load(acc, 48);
        a10 = v128.load(acc, 64); a11 = v128.load(acc, 80); a12 = v128.load(acc, 96); a13 = v128.load(acc, 112);
        a20 = v128.load(acc, 128); a21 = v128.load(acc, 144); a22 = v128.load(acc, 160); a23 = v128.load(acc, 176);
      }
      const img = x + <usize>(n * H * W * C) * 4;
      const o0 = <usize>load<i32>(offs + <usize>kg * 12), o1 = <usize>load<i32>(offs + <usize>kg * 12, 4);
      const o2 = <usize>load<i32>(offs + <usize>kg * 12, 8);
      let d = dy + <usize>(n * OH * OW * F + fb * 16) * 4;
      for (let oh = 0; oh < OH; oh++) {
        const row = img + <usize>oh * rs;
        let x0 = row + o0, x1 = row + o1, x2 = row + o2;
        for (let ow = 0; ow < OW; ow++) {
          let s = v128.load32_splat(x0);
          a00 = madd(s, v128.load(d), a00); a01 = madd(s, v128.load(d, 16), a01);
          a02 = madd(s, v128.load(d, 32), a02); a03 = madd(s, v128.load(d, 48), a03);
          s = v128.load32_splat(x1);
          a10 = madd(s, v128.load(d), a10); a11 = madd(s, v128.load(d, 16), a11);
          a12 = madd(s, v128.load(d, 32), a12); a13 = madd(s, v128.load(d, 48), a13);
          s = v128.load32_splat(x2);
          a20 = madd(s, v128.load(d), a20); a21 = madd(s, v128.load(d, 16), a21);
          a22 = madd(s, v128.load(d, 32), a22); a23 = madd(s, v128.load(d, 48), a23);
          x0 += ps; x1 += ps; x2 += ps; d += fs;
        }
      }
      v128.store(acc, a00); v128.store(acc, a01, 16); v128.store(acc, a02, 32); v128.store(acc, a03, 48);
      v128.store(acc, a10, 64); v128.store(acc, a11, 80); v128.store(acc, a12, 96); v128.store(acc, a13, 112);
      v128.store(acc, a20, 128); v128.store(acc, a21, 144); v128.store(acc, a22, 160); v128.store(acc, a23, 176);
    }
  }
  for (let t = begin; t < end; t++) {
    const kg = t % nkg, fb = t / nkg, acc = accs + <usize>(t - begin) * 192;
    for (let i = 0; i < 3; i++) {
      const k = kg * 3 + i;
      if (k >= K) break;
      if (N > 0) memory.copy(dw + <usize>(k * F + fb * 16) * 4, acc + <usize>i * 64, 64);
      else memory.fill(dw + <usize>(k * F + fb * 16) * 4, 0, 64);
    }
  }
}

/** [Σa, Σb, Σc, Σd], each lane sum taken as (l0 + l1) + (l2 + l3) (as {@link hsum1}). */
@inline function hsum4(a: v128, b: v128, c: v128, d: v128): v128 {
  const ab = f32x4.add(v128.shuffle<f32>(a, b, 0, 2, 4, 6), v128.shuffle<f32>(a, b, 1, 3, 5, 7));
  const cd = f32x4.add(v128.shuffle<f32>(c, d, 0, 2, 4, 6), v128.shuffle<f32>(c, d, 1, 3, 5, 7));
  return f32x4.add(v128.shuffle<f32>(ab, cd, 0, 2, 4, 6), v128.shuffle<f32>(ab, cd, 1, 3, 5, 7));
}

/** (l0 + l1) + (l2 + l3) of a: the same arithmetic as one lane of {@link hsum4}. */
@inline function hsum1(a: v128): f32 {
  return (f32x4.extract_lane(a, 0) + f32x4.extract_lane(a, 1)) + (f32x4.extract_lane(a, 2) + f32x4.extract_lane(a, 3));
}

/**
 * Grad input (C = 1), phase A, parallel over output pixels [begin, end) of P = N·OH·OW (grain 4):
 * z[k, o] = Σ_f dy[o, f] · w[k, f] for every tap k < K (w viewed as [K, F]; z is tap-major [K, P]).
 * Each value is accumulated in f32x4 lanes over f in increasing order, then reduced as (l0 + l1) + (l2 + l3),
 * the same arithmetic in every tile and tail, so results do not depend on the split.
 */
export function convd_gradInputZ(dy: usize, w: usize, z: usize, g: usize, begin: i32, end: i32, scratch: usize): void {
  const N = load<i32>(g), F = load<i32>(g, 16), K = load<i32>(g, 20) * load<i32>(g, 24) * load<i32>(g, 12);
  const P = N * load<i32>(g, 52) * load<i32>(g, 56);
  const fs = <usize>F * 4, ks = <usize>P * 4;
  let o = begin;
  for (; o + 4 <= end; o += 4) {
    const d0 = dy + <usize>o * fs, d1 = d0 + fs, d2 = d1 + fs, d3 = d2 + fs, zo = z + <usize>o * 4;
    let t = 0;
    for (; t + 2 <= K; t += 2) {
      let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
      let b0 = f32x4.splat(0), b1 = f32x4.splat(0), b2 = f32x4.splat(0), b3 = f32x4.splat(0);
      const wa = w + <usize>t * fs, wb = wa + fs;
      for (let off: usize = 0; off < fs; off += 16) {
        const x0 = v128.load(d0 + off), x1 = v128.load(d1 + off), x2 = v128.load(d2 + off), x3 = v128.load(d3 + off);
        let wv = v128.load(wa + off);
        a0 = madd(x0, wv, a0); a1 = madd(x1, wv, a1); a2 = madd(x2, wv, a2); a3 = madd(x3, wv, a3);
        wv = v128.load(wb + off);
        b0 = madd(x0, wv, b0); b1 = madd(x1, wv, b1); b2 = madd(x2, wv, b2); b3 = madd(x3, wv, b3);
      }
      v128.store(zo + <usize>t * ks, hsum4(a0, a1, a2, a3));
      v128.store(zo + <usize>(t + 1) * ks, hsum4(b0, b1, b2, b3));
    }
    for (; t < K; t++) {
      let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
      const wa = w + <usize>t * fs;
      for (let off: usize = 0; off < fs; off += 16) {
        const wv = v128.load(wa + off);
        a0 = madd(v128.load(d0 + off), wv, a0); a1 = madd(v128.load(d1 + off), wv, a1);
        a2 = madd(v128.load(d2 + off), wv, a2); a3 = madd(v128.load(d3 + off), wv, a3);
      }
      v128.store(zo + <usize>t * ks, hsum4(a0, a1, a2, a3));
    }
  }
  for (; o < end; o++) {
    const d0 = dy + <usize>o * fs;
    for (let t = 0; t < K; t++) {
      let a0 = f32x4.splat(0);
      let wp = w + <usize>t * fs, d = d0;
      for (let f = 0; f < F; f += 4) {
        a0 = madd(v128.load(d), v128.load(wp), a0);
        wp += 16; d += 16;
      }
      store<f32>(z + <usize>t * ks + <usize>o * 4, hsum1(a0));
    }
  }
}

/**
 * Grad input (C = 1), phase B, parallel over input rows [begin, end) of N·H: dx[n, iy, ix] = Σ over taps
 * (kh, kw) in increasing order of z[kh·KW + kw, (n, oy, ox)] with iy = oy·sH + kh·dH, ix = ox·sW + kw·dW,
 * starting from 0 (so 0 where no tap reaches). Requires no padding in effect. Scratch: per-kh z row pointers.
 */
export function convd_gradInputScatter(z: usize, dx: usize, g: usize, begin: i32, end: i32, scratch: usize): void {
  const N = load<i32>(g), H = load<i32>(g, 4), W = load<i32>(g, 8), KH = load<i32>(g, 20), KW = load<i32>(g, 24);
  const SH = load<i32>(g, 28), SW = load<i32>(g, 32), DH = load<i32>(g, 36), DW = load<i32>(g, 40);
  const OH = load<i32>(g, 52), OW = load<i32>(g, 56);
  const P = N * OH * OW, ks = <usize>P * 4;
  const lo = (KW - 1) * DW, m = OW > lo ? (OW - lo) >> 2 : 0, vhi = m > 0 ? lo + m * 4 : lo;
  const rows = scratch;
  for (let r = begin; r < end; r++) {
    const n = r / H, iy = r - n * H;
    const drow = dx + <usize>r * <usize>W * 4;
    let nk = 0;
    for (let kh = 0; kh < KH; kh++) {
      const t = iy - kh * DH;
      if (t < 0) break;
      const oy = t / SH;
      if (oy * SH != t || oy >= OH) continue;
      store<usize>(rows + <usize>nk * sizeof<usize>(), z + <usize>(kh * KW) * ks + <usize>((n * OH + oy) * OW) * 4);
      nk++;
    }
    if (SW == 1) {
      // Tap (kh, kw) reaches ix in [kw·dW, kw·dW + OW): accumulate in place over taps in order, 4 elements at
      // a time on the fixed grid [lo, vhi) that every tap covers, one at a time outside it.
      for (let ix = 0; ix < W; ix++) store<f32>(drow + <usize>ix * 4, 0);
      const dv = drow + <usize>lo * 4;
      for (let j = 0; j < nk; j++) {
        const zb = load<usize>(rows + <usize>j * sizeof<usize>());
        for (let kw = 0; kw < KW; kw++) {
          const a = kw * DW, b = a + OW, src = zb + <usize>kw * ks - <usize>a * 4, vs = src + <usize>lo * 4;
          for (let v = 0; v < m; v++) {
            const off = <usize>v * 16;
            v128.store(dv + off, f32x4.add(v128.load(dv + off), v128.load(vs + off)));
          }
          for (let ix = a, e = min(lo, b); ix < e; ix++) {
            store<f32>(drow + <usize>ix * 4, load<f32>(drow + <usize>ix * 4) + load<f32>(src + <usize>ix * 4));
          }
          for (let ix = max(vhi, a); ix < b; ix++) {
            store<f32>(drow + <usize>ix * 4, load<f32>(drow + <usize>ix * 4) + load<f32>(src + <usize>ix * 4));
          }
        }
      }
      continue;
    }
    for (let ix = 0; ix < W; ix++) {
      let acc: f32 = 0;
      for (let j = 0; j < nk; j++) {
        const zb = load<usize>(rows + <usize>j * sizeof<usize>());
        for (let kw = 0; kw < KW; kw++) {
          const tx = ix - kw * DW;
          if (tx < 0) break;
          const ox = SW == 1 ? tx : tx / SW;
          if (ox * SW != tx || ox >= OW) continue;
          acc += load<f32>(zb + <usize>kw * ks + <usize>ox * 4);
        }
      }
      store<f32>(drow + <usize>ix * 4, acc);
    }
  }
}
