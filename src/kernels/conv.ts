// 2-D convolution kernels (NHWC activations, HWIO filters) as implicit-im2col GEMMs on the gemm.ts machinery.
//
// Legend: x[N,H,W,C], w[KH,KW,C,F], y/dy[N,OH,OW,F]; P = N·OH·OW output pixels, K = KH·KW·C column index
// kk = (kh·KW + kw)·C + c. cols[P,K] (never stored whole) holds x[n, oh·sH − padT + kh·dH, ow·sW − padL + kw·dW, c],
// zero outside the image. Forward: y = cols·w; grad filter: dw = colsᵀ·dy; grad input: dx = col2im(dy·wᵀ).
// Geometry comes as 15 int32 at `g`: n h w c f kh kw sH sW dH dW padT padL oh ow.

import {
  gemm_MR, gemm_NR, gemm_MC, gemm_NC, gemm_AP, gemm_TMP, gemm_SCRATCH,
  gemm_kcBlock, gemm_packB, gemm_macro, gemm_sub,
} from './gemm';
import { storeTransposed4 } from './lib/vecmath';

let N = 0, H = 0, W = 0, C = 0, F = 0, KH = 0, KW = 0, SH = 0, SW = 0, DH = 0, DW = 0, PT = 0, PL = 0, OH = 0, OW = 0;

function geom(g: usize): void {
  N = load<i32>(g); H = load<i32>(g, 4); W = load<i32>(g, 8); C = load<i32>(g, 12); F = load<i32>(g, 16);
  KH = load<i32>(g, 20); KW = load<i32>(g, 24); SH = load<i32>(g, 28); SW = load<i32>(g, 32);
  DH = load<i32>(g, 36); DW = load<i32>(g, 40); PT = load<i32>(g, 44); PL = load<i32>(g, 48);
  OH = load<i32>(g, 52); OW = load<i32>(g, 56);
}

@inline function ld(s: usize, c: i32): v128 {
  return s ? v128.load(s + <usize>c * 4) : f32x4.splat(0);
}

@inline function ldf(s: usize, o: usize): f32 {
  return s ? load<f32>(s + o) : 0;
}

// Pixel cursor (module globals, per thread): image base address and top-left input cell of the current output pixel.
let curOw = 0, curOh = 0, curBase: usize = 0;

function cursorAt(x: usize, p: i32): void {
  curOw = p % OW; const t = p / OW; curOh = t % OH;
  curBase = x + <usize>((t / OH) * H * W * C) * 4;
}

@inline function cursorNext(): void {
  if (++curOw == OW) {
    curOw = 0;
    if (++curOh == OH) { curOh = 0; curBase += <usize>(H * W * C) * 4; }
  }
}

/** Address of x[n, ih, iw, 0] at offset (dh, dw) from the cursor pixel's window origin, or 0 in the padding. */
@inline function cellAt(dh: i32, dw: i32): usize {
  const ih = curOh * SH + dh, iw = curOw * SW + dw;
  return <u32>ih < <u32>H && <u32>iw < <u32>W ? curBase + <usize>((ih * W + iw) * C) * 4 : 0;
}

/** Fast packing of 4 consecutive pixels of one row when C = 1 and SW = 1; false (nothing written) if a tap is in the padding. */
function packRow1(ap: usize, k0: i32, k1: i32, kh: i32, kw: i32): bool {
  const ih0 = curOh * SH - PT, iw0 = curOw - PL;
  if (ih0 < 0 || ih0 + (KH - 1) * DH >= H || iw0 < 0 || iw0 + 3 + (KW - 1) * DW >= W) {
    // Check only the taps this K block uses.
    for (let kk = k0, h = kh, v = kw; kk < k1; kk++) {
      const ih = ih0 + h * DH, iw = iw0 + v * DW;
      if (<u32>ih >= <u32>H || iw < 0 || iw + 3 >= W) return false;
      if (++v == KW) { v = 0; h++; }
    }
  }
  let d = ap;
  for (let kk = k0; kk < k1; kk++) {
    v128.store(d, v128.load(curBase + <usize>((ih0 + kh * DH) * W + iw0 + kw * DW) * 4));
    d += 16;
    if (++kw == KW) { kw = 0; kh++; }
  }
  return true;
}

/** Packs cols[p0 .. p0+mc, k0 .. k0+kc] into MR-row panels at ap (rows past P are zero). */
function packCols(x: usize, p0: i32, mc: i32, k0: i32, kc: i32, ap: usize): void {
  const P = N * OH * OW;
  const seg0 = k0 / C, kh0 = seg0 / KW, kw0 = seg0 - kh0 * KW, c00 = k0 - seg0 * C, k1 = k0 + kc;
  cursorAt(x, p0);
  for (let i0 = 0; i0 < mc; i0 += gemm_MR) {
    const p = p0 + i0;
    if (C == 1 && SW == 1 && curOw + 4 <= OW && p + 4 <= P && packRow1(ap, k0, k1, kh0, kw0)) {
      // 4 pixels of one output row, C = 1, stride 1, all taps inside: each k is one 4-float load.
      curOw += 3; cursorNext();
      ap += <usize>(kc * gemm_MR) * 4;
      continue;
    }
    // The panel's 4 pixels: cursor states saved in locals (pixels past P get a row far outside the image).
    const o0 = curOh, w0 = curOw, b0 = curBase;
    if (p + 1 < P) cursorNext();
    const o1 = p + 1 < P ? curOh : -(1 << 20), w1 = curOw, b1 = curBase;
    if (p + 2 < P) cursorNext();
    const o2 = p + 2 < P ? curOh : -(1 << 20), w2 = curOw, b2 = curBase;
    if (p + 3 < P) cursorNext();
    const o3 = p + 3 < P ? curOh : -(1 << 20), w3 = curOw, b3 = curBase;
    let kk = k0, kh = kh0, kw = kw0, c0 = c00;
    let d = ap;
    while (kk < k1) {
      const run = min(C - c0, k1 - kk);
      const dh = kh * DH - PT, dw = kw * DW - PL;
      curOh = o0; curOw = w0; curBase = b0; const s0 = cellAt(dh, dw);
      curOh = o1; curOw = w1; curBase = b1; const s1 = cellAt(dh, dw);
      curOh = o2; curOw = w2; curBase = b2; const s2 = cellAt(dh, dw);
      curOh = o3; curOw = w3; curBase = b3; const s3 = cellAt(dh, dw);
      let c = c0;
      const ce = c0 + run;
      for (; c + 4 <= ce; c += 4) {
        storeTransposed4(d, ld(s0, c), ld(s1, c), ld(s2, c), ld(s3, c), 16);
        d += 64;
      }
      for (; c < ce; c++) {
        const o = <usize>c * 4;
        store<f32>(d, ldf(s0, o)); store<f32>(d, ldf(s1, o), 4); store<f32>(d, ldf(s2, o), 8); store<f32>(d, ldf(s3, o), 12);
        d += 16;
      }
      kk += run; c0 = 0;
      if (++kw == KW) { kw = 0; kh++; }
    }
    // Restore the cursor to the panel's successor.
    curOh = o3; curOw = w3; curBase = b3;
    if (p + 4 < P) cursorNext();
    ap += <usize>(kc * gemm_MR) * 4;
  }
}

/** Packs colsᵀ[kk0 .. kk0+mc, pixels q0 .. q0+kc] into MR-row panels at ap (rows past K hold copies, see below). */
function packColsT(x: usize, kk0: i32, mc: i32, q0: i32, kc: i32, ap: usize): void {
  const K = KH * KW * C;
  const h = H, w = W, ch = C, sh = SH, sw = SW, ohs = OH, ows = OW, img = <usize>(H * W * C) * 4;
  if ((ch & 3) == 0) {
    // Every panel is 4 consecutive channels of one kernel cell: per cell, one bounds check per pixel
    // feeds all of the cell's panels.
    const pstride = <usize>kc * 16;
    let kk = kk0;
    const k1 = kk0 + mc;
    while (kk < k1) {
      const seg = kk / ch, ca = kk - seg * ch, cb = min(ch, k1 - seg * ch), kh = seg / KW;
      const dh = kh * DH - PT, dw = (seg - kh * KW) * DW - PL, groups = (cb - ca) >> 2;
      let ow = q0 % ows, t = q0 / ows, oh = t % ohs;
      let base = x + <usize>(t / ohs) * img + <usize>ca * 4;
      let d = ap + <usize>((kk - kk0) >> 2) * pstride;
      for (let q = 0; q < kc; q++) {
        const ih = oh * sh + dh, iw = ow * sw + dw;
        if (<u32>ih < <u32>h && <u32>iw < <u32>w) {
          const src = base + <usize>((ih * w + iw) * ch) * 4;
          for (let g = 0; g < groups; g++) v128.store(d + <usize>g * pstride, v128.load(src + <usize>g * 16));
        } else {
          for (let g = 0; g < groups; g++) v128.store(d + <usize>g * pstride, f32x4.splat(0));
        }
        d += 16;
        if (++ow == ows) { ow = 0; if (++oh == ohs) { oh = 0; base += img; } }
      }
      kk += cb - ca;
    }
    return;
  }
  for (let i0 = 0; i0 < mc; i0 += gemm_MR) {
    const r = kk0 + i0;
    // Per row: window offset and channel. Rows past K repeat row r: their C rows are never stored, and
    // every stored element's arithmetic is unchanged (lanes are independent).
    const ra = min(r + 1, K - 1), rb = min(r + 2, K - 1), rc = min(r + 3, K - 1);
    let sg = r / ch, c0 = r - sg * ch, kh = sg / KW;
    const h0 = kh * DH - PT, v0 = (sg - kh * KW) * DW - PL;
    sg = ra / ch; const c1 = ra - sg * ch; kh = sg / KW;
    const h1 = kh * DH - PT, v1 = (sg - kh * KW) * DW - PL;
    sg = rb / ch; const c2 = rb - sg * ch; kh = sg / KW;
    const h2 = kh * DH - PT, v2 = (sg - kh * KW) * DW - PL;
    sg = rc / ch; const c3 = rc - sg * ch; kh = sg / KW;
    const h3 = kh * DH - PT, v3 = (sg - kh * KW) * DW - PL;
    // fast: the 4 rows are 4 consecutive channels of one kernel cell; row4: C = 1, stride 1 (4 pixels per load).
    const fast = c0 + 4 <= ch && r + 4 <= K, row4 = ch == 1 && sw == 1;
    const o0 = <usize>c0 * 4, o1 = <usize>c1 * 4, o2 = <usize>c2 * 4, o3 = <usize>c3 * 4;
    let ow = q0 % ows, t = q0 / ows, oh = t % ohs;
    let base = x + <usize>(t / ohs) * img;
    let d = ap;
    let q = 0;
    while (q < kc) {
      const ih0 = oh * sh + h0, ih1 = oh * sh + h1, ih2 = oh * sh + h2, ih3 = oh * sh + h3;
      if (row4 && ow + 4 <= ows && q + 4 <= kc) {
        const iw = ow + min(min(v0, v1), min(v2, v3)), iwe = ow + 3 + max(max(v0, v1), max(v2, v3));
        if (iw >= 0 && iwe < w && <u32>ih0 < <u32>h && <u32>ih1 < <u32>h && <u32>ih2 < <u32>h && <u32>ih3 < <u32>h) {
          storeTransposed4(d, v128.load(base + <usize>(ih0 * w + ow + v0) * 4), v128.load(base + <usize>(ih1 * w + ow + v1) * 4),
            v128.load(base + <usize>(ih2 * w + ow + v2) * 4), v128.load(base + <usize>(ih3 * w + ow + v3) * 4), 16);
          d += 64; q += 4; ow += 4;
          if (ow == ows) { ow = 0; if (++oh == ohs) { oh = 0; base += img; } }
          continue;
        }
      }
      const iw0 = ow * sw + v0;
      if (fast) {
        let v = f32x4.splat(0);
        if (<u32>ih0 < <u32>h && <u32>iw0 < <u32>w) v = v128.load(base + <usize>((ih0 * w + iw0) * ch) * 4 + o0);
        v128.store(d, v);
      } else {
        const iw1 = ow * sw + v1, iw2 = ow * sw + v2, iw3 = ow * sw + v3;
        store<f32>(d, <u32>ih0 < <u32>h && <u32>iw0 < <u32>w ? load<f32>(base + <usize>((ih0 * w + iw0) * ch) * 4 + o0) : 0);
        store<f32>(d, <u32>ih1 < <u32>h && <u32>iw1 < <u32>w ? load<f32>(base + <usize>((ih1 * w + iw1) * ch) * 4 + o1) : 0, 4);
        store<f32>(d, <u32>ih2 < <u32>h && <u32>iw2 < <u32>w ? load<f32>(base + <usize>((ih2 * w + iw2) * ch) * 4 + o2) : 0, 8);
        store<f32>(d, <u32>ih3 < <u32>h && <u32>iw3 < <u32>w ? load<f32>(base + <usize>((ih3 * w + iw3) * ch) * 4 + o3) : 0, 12);
      }
      d += 16; q++;
      if (++ow == ows) { ow = 0; if (++oh == ohs) { oh = 0; base += img; } }
    }
    ap += <usize>(kc * gemm_MR) * 4;
  }
}

/** Forward, parallel over MR-pixel tiles [begin, end): y[N,OH,OW,F] = conv(x[N,H,W,C], w[KH,KW,C,F]). */
export function conv_forward(x: usize, w: usize, y: usize, g: usize, begin: i32, end: i32, scratch: usize): void {
  geom(g);
  const P = N * OH * OW, K = KH * KW * C;
  const p0 = begin * gemm_MR, p1 = min(P, end * gemm_MR);
  const bp = scratch, ap = scratch + <usize>gemm_AP, tmp = scratch + <usize>gemm_TMP;
  if (K == 0) {
    memory.fill(y + <usize>(p0 * F) * 4, 0, <usize>((p1 - p0) * F) * 4);
    return;
  }
  const kcb = gemm_kcBlock(K);
  for (let jc = 0; jc < F; jc += gemm_NC) {
    const nc = min(gemm_NC, F - jc);
    for (let pc = 0; pc < K; pc += kcb) {
      const kc = min(kcb, K - pc);
      gemm_packB(kc, nc, w + <usize>(pc * F + jc) * 4, F, 1, bp);
      for (let ic = p0; ic < p1; ic += gemm_MC) {
        const mc = min(gemm_MC, p1 - ic);
        packCols(x, ic, mc, pc, kc, ap);
        gemm_macro(mc, nc, kc, ap, 0, 0, bp, 0, y + <usize>(ic * F + jc) * 4, F, 1, pc > 0, tmp);
      }
    }
  }
}

/**
 * Grad filter, parallel over output tiles [begin, end) of dw[K,F]: MR-row tiles of K (flags = 0) or NR-column
 * tiles of F (flags = 1). dw[KH,KW,C,F] = colsᵀ[K,P] · dy[P,F], reduced over P in fixed KC blocks.
 * packed: 0, or colsᵀ already packed by conv_packColsT (then shared by all threads instead of packed by each).
 */
export function conv_gradFilter(x: usize, dy: usize, dw: usize, g: usize, flags: i32, packed: usize,
  begin: i32, end: i32, scratch: usize): void {
  geom(g);
  const P = N * OH * OW, K = KH * KW * C, kpad = (K + gemm_MR - 1) & ~(gemm_MR - 1);
  let r0 = 0, r1 = K, f0 = 0, f1 = F;
  if (flags & 1) { f0 = begin * gemm_NR; f1 = min(F, end * gemm_NR); } else { r0 = begin * gemm_MR; r1 = min(K, end * gemm_MR); }
  if (P == 0) {
    for (let r = r0; r < r1; r++) for (let f = f0; f < f1; f++) store<f32>(dw + <usize>(r * F + f) * 4, 0);
    return;
  }
  const bp = scratch, tmp = scratch + <usize>gemm_TMP;
  const kcb = gemm_kcBlock(P);
  for (let jc = f0; jc < f1; jc += gemm_NC) {
    const nc = min(gemm_NC, f1 - jc);
    for (let pc = 0; pc < P; pc += kcb) {
      const kc = min(kcb, P - pc);
      // dy is read in place (rows of F, the edge panel packed by the macro-kernel) when few K rows reuse it.
      const bk = dy + <usize>(pc * F + jc) * 4, direct = r1 - r0 <= 32;
      if (!direct) gemm_packB(kc, nc, bk, F, 1, bp);
      for (let ic = r0; ic < r1; ic += gemm_MC) {
        const mc = min(gemm_MC, r1 - ic);
        let ap = scratch + <usize>gemm_AP;
        if (packed) ap = packed + <usize>(pc * kpad + ic * kc) * 4;
        else packColsT(x, ic, mc, pc, kc, ap);
        gemm_macro(mc, nc, kc, ap, 0, 0, direct ? bk : bp, direct ? F : 0, dw + <usize>(ic * F + jc) * 4, F, 1, pc > 0, tmp);
      }
    }
  }
}

/**
 * Packs colsᵀ for conv_gradFilter, parallel over KC blocks [begin, end) of the P pixels: block b (pixels pc ..
 * pc+kc) goes to dst + pc·Kpad floats as Kpad/MR panels of kc × MR (Kpad = K rounded up to MR). A pure copy.
 */
export function conv_packColsT(x: usize, g: usize, dst: usize, begin: i32, end: i32, scratch: usize): void {
  geom(g);
  const P = N * OH * OW, K = KH * KW * C, kpad = (K + gemm_MR - 1) & ~(gemm_MR - 1);
  const kcb = gemm_kcBlock(P);
  for (let b = begin; b < end; b++) {
    const pc = b * kcb, kc = min(kcb, P - pc);
    packColsT(x, 0, K, pc, kc, dst + <usize>(pc * kpad) * 4);
  }
}

/**
 * Grad input, parallel over images [begin, end): dx[N,H,W,C] = col2im(dcols), dcols[P,K] = dy[P,F] · wᵀ[F,K],
 * computed a chunk of output pixels at a time into scratch and scatter-added in a fixed order. With C = 1
 * and K < F the transposed product dcolsᵀ[K,P] = w · dyᵀ is used instead (wider GEMM, row-wise scatter).
 */
export function conv_gradInput(dy: usize, w: usize, dx: usize, g: usize, begin: i32, end: i32, scratch: usize): void {
  geom(g);
  const K = KH * KW * C, img = H * W * C, P = OH * OW;
  const dcols = scratch + <usize>gemm_SCRATCH;
  const budget = ((8 << 20) - gemm_SCRATCH - 64) / 4;
  const chunk = max(1, min(P, budget / max(1, K)));
  const trans = C == 1 && K < F;
  for (let n = begin; n < end; n++) {
    const dxn = dx + <usize>(n * img) * 4;
    memory.fill(dxn, 0, <usize>img * 4);
    for (let p0 = 0; p0 < P; p0 += chunk) {
      const np = min(chunk, P - p0);
      const dyc = dy + <usize>((n * P + p0) * F) * 4;
      if (trans) {
        gemm_sub(K, np, F, w, F, 1, dyc, 1, F, dcols, np, 1, false, scratch);
        col2imT(dcols, dxn, p0, np);
      } else {
        gemm_sub(np, K, F, dyc, F, 1, w, 1, F, dcols, K, 1, false, scratch);
        col2im(dcols, dxn, p0, np);
      }
    }
  }
}

/** dx_n[H,W,C] += scatter of dcols[np, K] for output pixels p0 .. p0+np of one image (fixed order). */
function col2im(dcols: usize, dxn: usize, p0: i32, np: i32): void {
  const h = H, w = W, ch = C, kh_ = KH, kw_ = KW, sh = SH, sw = SW, dh = DH, dw = DW, ows = OW;
  const cb = <usize>ch * 4;
  let s = dcols;
  let ow = p0 % ows, oh = p0 / ows;
  for (let q = 0; q < np; q++) {
    for (let kh = 0; kh < kh_; kh++) {
      const ih = oh * sh - PT + kh * dh;
      if (<u32>ih >= <u32>h) { s += cb * <usize>kw_; continue; }
      const row = dxn + <usize>(ih * w * ch) * 4;
      for (let kw = 0; kw < kw_; kw++) {
        const iw = ow * sw - PL + kw * dw;
        if (<u32>iw < <u32>w) {
          const d = row + <usize>(iw * ch) * 4;
          let c = 0;
          for (; c + 4 <= ch; c += 4) {
            const o = <usize>c * 4;
            v128.store(d + o, f32x4.add(v128.load(d + o), v128.load(s + o)));
          }
          for (; c < ch; c++) {
            const o = <usize>c * 4;
            store<f32>(d + o, load<f32>(d + o) + load<f32>(s + o));
          }
        }
        s += cb;
      }
    }
    if (++ow == ows) { ow = 0; oh++; }
  }
}

/** C = 1: dx_n[H,W] += scatter of dcolsᵀ[K, np] for output pixels p0 .. p0+np, kernel cell by cell, row by row. */
function col2imT(dct: usize, dxn: usize, p0: i32, np: i32): void {
  const h = H, w = W, sh = SH, sw = SW, ows = OW;
  let kh = 0, kw = 0;
  for (let kk = 0; kk < KH * KW; kk++) {
    const srow = dct + <usize>(kk * np) * 4;
    const dh = kh * DH - PT, dw = kw * DW - PL;
    // Valid ow: 0 <= ow·sw + dw < w.
    const owa = dw >= 0 ? 0 : (-dw + sw - 1) / sw, owb = min(ows, w - dw <= 0 ? 0 : (w - dw + sw - 1) / sw);
    let q = 0;
    while (q < np) {
      const p = p0 + q, oh = p / ows, ow0 = p - oh * ows, len = min(ows - ow0, np - q);
      const ih = oh * sh + dh;
      if (<u32>ih < <u32>h) {
        const a = max(owa, ow0), b = min(owb, ow0 + len);
        const drow = dxn + <usize>(ih * w) * 4, s = srow + <usize>(q - ow0) * 4;
        let ow = a;
        if (sw == 1) {
          for (; ow + 4 <= b; ow += 4) {
            const d = drow + <usize>(ow + dw) * 4;
            v128.store(d, f32x4.add(v128.load(d), v128.load(s + <usize>ow * 4)));
          }
        }
        for (; ow < b; ow++) {
          const d = drow + <usize>(ow * sw + dw) * 4;
          store<f32>(d, load<f32>(d) + load<f32>(s + <usize>ow * 4));
        }
      }
      q += len;
    }
    if (++kw == KW) { kw = 0; kh++; }
  }
}
