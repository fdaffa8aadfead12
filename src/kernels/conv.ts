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

@inline function tr4(p: usize, r0: v128, r1: v128, r2: v128, r3: v128): void {
  const t0 = f32x4.shuffle(r0, r1, 0, 4, 1, 5), t1 = f32x4.shuffle(r0, r1, 2, 6, 3, 7);
  const t2 = f32x4.shuffle(r2, r3, 0, 4, 1, 5), t3 = f32x4.shuffle(r2, r3, 2, 6, 3, 7);
  v128.store(p, f32x4.shuffle(t0, t2, 0, 1, 4, 5));
  v128.store(p, f32x4.shuffle(t0, t2, 2, 3, 6, 7), 16);
  v128.store(p, f32x4.shuffle(t1, t3, 0, 1, 4, 5), 32);
  v128.store(p, f32x4.shuffle(t1, t3, 2, 3, 6, 7), 48);
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
        tr4(d, ld(s0, c), ld(s1, c), ld(s2, c), ld(s3, c));
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

/** Packs colsᵀ[kk0 .. kk0+mc, pixels q0 .. q0+kc] into MR-row panels at ap (rows past K are zero). */
function packColsT(x: usize, kk0: i32, mc: i32, q0: i32, kc: i32, ap: usize): void {
  const K = KH * KW * C, big = 1 << 28;
  for (let i0 = 0; i0 < mc; i0 += gemm_MR) {
    const r = kk0 + i0;
    // Per row: window offset (dh, dw) and channel; rows past K get an offset that is never inside the image.
    let sg = r / C, c0 = r - sg * C, kh = sg / KW;
    const h0 = kh * DH - PT, v0 = (sg - kh * KW) * DW - PL;
    sg = (r + 1) / C; const c1 = r + 1 - sg * C; kh = sg / KW;
    const h1 = r + 1 < K ? kh * DH - PT : -big, v1 = (sg - kh * KW) * DW - PL;
    sg = (r + 2) / C; const c2 = r + 2 - sg * C; kh = sg / KW;
    const h2 = r + 2 < K ? kh * DH - PT : -big, v2 = (sg - kh * KW) * DW - PL;
    sg = (r + 3) / C; const c3 = r + 3 - sg * C; kh = sg / KW;
    const h3 = r + 3 < K ? kh * DH - PT : -big, v3 = (sg - kh * KW) * DW - PL;
    // Fast path: the panel's 4 rows are 4 consecutive channels of one kernel cell.
    const fast = c0 + 4 <= C && r + 4 <= K;
    const o0 = <usize>c0 * 4, o1 = <usize>c1 * 4, o2 = <usize>c2 * 4, o3 = <usize>c3 * 4;
    cursorAt(x, q0);
    let d = ap;
    for (let q = 0; q < kc; q++) {
      if (fast) {
        const s = cellAt(h0, v0);
        v128.store(d, s ? v128.load(s + o0) : f32x4.splat(0));
      } else {
        store<f32>(d, ldf(cellAt(h0, v0), o0)); store<f32>(d, ldf(cellAt(h1, v1), o1), 4);
        store<f32>(d, ldf(cellAt(h2, v2), o2), 8); store<f32>(d, ldf(cellAt(h3, v3), o3), 12);
      }
      d += 16;
      cursorNext();
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
        gemm_macro(mc, nc, kc, ap, bp, y + <usize>(ic * F + jc) * 4, F, 1, pc > 0, tmp);
      }
    }
  }
}

/**
 * Grad filter, parallel over output tiles [begin, end) of dw[K,F]: MR-row tiles of K (flags = 0) or NR-column
 * tiles of F (flags = 1). dw[KH,KW,C,F] = colsᵀ[K,P] · dy[P,F], reduced over P in fixed KC blocks.
 */
export function conv_gradFilter(x: usize, dy: usize, dw: usize, g: usize, flags: i32, begin: i32, end: i32, scratch: usize): void {
  geom(g);
  const P = N * OH * OW, K = KH * KW * C;
  let r0 = 0, r1 = K, f0 = 0, f1 = F;
  if (flags & 1) { f0 = begin * gemm_NR; f1 = min(F, end * gemm_NR); } else { r0 = begin * gemm_MR; r1 = min(K, end * gemm_MR); }
  if (P == 0) {
    for (let r = r0; r < r1; r++) for (let f = f0; f < f1; f++) store<f32>(dw + <usize>(r * F + f) * 4, 0);
    return;
  }
  const bp = scratch, ap = scratch + <usize>gemm_AP, tmp = scratch + <usize>gemm_TMP;
  const kcb = gemm_kcBlock(P);
  for (let jc = f0; jc < f1; jc += gemm_NC) {
    const nc = min(gemm_NC, f1 - jc);
    for (let pc = 0; pc < P; pc += kcb) {
      const kc = min(kcb, P - pc);
      gemm_packB(kc, nc, dy + <usize>(pc * F + jc) * 4, F, 1, bp);
      for (let ic = r0; ic < r1; ic += gemm_MC) {
        const mc = min(gemm_MC, r1 - ic);
        packColsT(x, ic, mc, pc, kc, ap);
        gemm_macro(mc, nc, kc, ap, bp, dw + <usize>(ic * F + jc) * 4, F, 1, pc > 0, tmp);
      }
    }
  }
}

/**
 * Grad input, parallel over images [begin, end): dx[N,H,W,C] = col2im(dcols), dcols[P,K] = dy[P,F] · wᵀ[F,K],
 * computed a few output rows at a time into scratch and scatter-added in a fixed order.
 */
export function conv_gradInput(dy: usize, w: usize, dx: usize, g: usize, begin: i32, end: i32, scratch: usize): void {
  geom(g);
  const K = KH * KW * C, img = H * W * C;
  const dcols = scratch + <usize>gemm_SCRATCH;
  const budget = ((8 << 20) - gemm_SCRATCH - 64) / 4;
  const rows = max(1, min(OH, budget / max(1, OW * K)));
  for (let n = begin; n < end; n++) {
    const dxn = dx + <usize>(n * img) * 4;
    memory.fill(dxn, 0, <usize>img * 4);
    for (let oh0 = 0; oh0 < OH; oh0 += rows) {
      const nr = min(rows, OH - oh0);
      const pix = nr * OW;
      const dyc = dy + <usize>(((n * OH + oh0) * OW) * F) * 4;
      gemm_sub(pix, K, F, dyc, F, 1, w, 1, F, dcols, K, 1, false, scratch);
      col2im(dcols, dxn, oh0, nr);
    }
  }
}

/** dx_n[H,W,C] += scatter of dcols[nr·OW, K] for output rows oh0 .. oh0+nr of one image. */
function col2im(dcols: usize, dxn: usize, oh0: i32, nr: i32): void {
  let s = dcols;
  for (let oh = oh0; oh < oh0 + nr; oh++) {
    for (let ow = 0; ow < OW; ow++) {
      for (let kh = 0; kh < KH; kh++) {
        const ih = oh * SH - PT + kh * DH;
        for (let kw = 0; kw < KW; kw++) {
          const iw = ow * SW - PL + kw * DW;
          if (<u32>ih < <u32>H && <u32>iw < <u32>W) {
            const d = dxn + <usize>((ih * W + iw) * C) * 4;
            let c = 0;
            for (; c + 4 <= C; c += 4) {
              const o = <usize>c * 4;
              v128.store(d + o, f32x4.add(v128.load(d + o), v128.load(s + o)));
            }
            for (; c < C; c++) {
              const o = <usize>c * 4;
              store<f32>(d + o, load<f32>(d + o) + load<f32>(s + o));
            }
          }
          s += <usize>C * 4;
        }
      }
    }
  }
}
