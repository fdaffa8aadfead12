// Direct 2-D convolution kernels for small K = KH·KW·C (e.g. a first layer with C = 1): no im2col packing.
//
// Legend as in conv.ts: x[N,H,W,C], w[KH,KW,C,F], y/dy[N,OH,OW,F], tap k = (kh·KW + kw)·C + c.
// Geometry comes as 15 int32 at `g`: n h w c f kh kw sH sW dH dW padT padL oh ow. The wrapper uses these
// kernels only where they apply (see src/backend/wasm/conv.ts). Every output element is computed by one
// thread in an order fixed by its position alone, so results are bit-identical for any split.

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
@inline function fwd2(p0: usize, ps: usize, offs: usize, K: i32, wf: usize, fs: usize, yo: usize): void {
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
  v128.store(yo, a00); v128.store(yo, a01, 16); v128.store(yo, a02, 32); v128.store(yo, a03, 48);
  yo += fs;
  v128.store(yo, a10); v128.store(yo, a11, 16); v128.store(yo, a12, 32); v128.store(yo, a13, 48);
}

/** y[1 pixel, 16 filters] = Σ_k x(p0 + off[k]) · w[k, 0..16] (same order as fwd2). */
@inline function fwd1(p0: usize, offs: usize, K: i32, wf: usize, fs: usize, yo: usize): void {
  let a00 = f32x4.splat(0), a01 = f32x4.splat(0), a02 = f32x4.splat(0), a03 = f32x4.splat(0);
  for (let k = 0; k < K; k++) {
    const s0 = v128.load32_splat(p0 + <usize>load<i32>(offs + <usize>k * 4));
    a00 = madd(s0, v128.load(wf), a00); a01 = madd(s0, v128.load(wf, 16), a01);
    a02 = madd(s0, v128.load(wf, 32), a02); a03 = madd(s0, v128.load(wf, 48), a03);
    wf += fs;
  }
  v128.store(yo, a00); v128.store(yo, a01, 16); v128.store(yo, a02, 32); v128.store(yo, a03, 48);
}

/**
 * Forward, parallel over output rows [begin, end) of N·OH: y[N,OH,OW,F] = conv(x[N,H,W,C], w[KH,KW,C,F]).
 * Requires F % 16 == 0 and every tap of every output pixel inside the image (no padding in effect).
 */
export function convd_forward(x: usize, w: usize, y: usize, g: usize, begin: i32, end: i32, scratch: usize): void {
  const H = load<i32>(g, 4), W = load<i32>(g, 8), C = load<i32>(g, 12), F = load<i32>(g, 16);
  const K = load<i32>(g, 20) * load<i32>(g, 24) * C, SH = load<i32>(g, 28), SW = load<i32>(g, 32);
  const OH = load<i32>(g, 52), OW = load<i32>(g, 56);
  const offs = scratch;
  tapTable(g, K, offs);
  const ps = <usize>(SW * C) * 4, fs = <usize>F * 4;
  for (let r = begin; r < end; r++) {
    const n = r / OH, oh = r - n * OH;
    const row = x + <usize>((n * H + oh * SH) * W * C) * 4, yrow = y + <usize>r * <usize>(OW * F) * 4;
    let ow = 0;
    for (; ow + 2 <= OW; ow += 2) {
      const p0 = row + <usize>ow * ps, yo = yrow + <usize>(ow * F) * 4;
      for (let f = 0; f < F; f += 16) fwd2(p0, ps, offs, K, w + <usize>f * 4, fs, yo + <usize>f * 4);
    }
    if (ow < OW) {
      const p0 = row + <usize>ow * ps, yo = yrow + <usize>(ow * F) * 4;
      for (let f = 0; f < F; f += 16) fwd1(p0, offs, K, w + <usize>f * 4, fs, yo + <usize>f * 4);
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
