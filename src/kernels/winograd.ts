// Winograd kernels for 3×3 convolutions of stride 1 and dilation 1: F(2×2,3×3) and F(4×4,3×3) (Lavin & Gray 2016).
//
// Legend as in conv.ts: x[N,H,W,C], w[3,3,C,F], y/dy[N,OH,OW,F]. m is the output tile side (2 or 4), α = m + 2 the
// input tile side, pos = ξ·α + ν one of the α² transform positions (ξ along H, ν along W). Each image is cut into
// TH = ⌈OH/m⌉ × TW = ⌈OW/m⌉ tiles, tile t = (n·TH + th)·TW + tw reading the α×α window at (th·m − padT, tw·m − padL),
// zero outside the image. Per tile, forward: Y = Aᵀ[(G w Gᵀ) ⊙ (Bᵀ d B)]A, the α² element-wise products summed
// over C as small GEMMs on gemm.ts's 4×8 micro-kernel. Grad input: the transpose of the forward over dy's tiles
// (wino_gradInput), or the forward with the flipped, transposed filter (see src/backend/wasm/winograd.ts). Grad filter:
// winograd-grad-filter.ts. Shared parts (geometry, windows, transforms): lib/winograd.ts. f32x4 vectors of 4 channels.
// Geometry comes as 15 int32 at `g`: n h w c f kh kw sH sW dH dW padT padL oh ow (only n h w c f padT padL oh ow are read).

import { gemm_micro } from './gemm';
import { biasActVec, loadTail, storeTail, storeTransposed4 } from './lib/vecmath';
import {
  A, C, CS, F, H, M, OH, OW, PL, PT, RS, T, TH, TN, TW, TX, TY, W, ag, at, bb, bt, dyWindow, geom, gf, tileAt, tileSide, xWindow,
} from './lib/winograd';

/** Bytes of per-thread scratch the forward's tile block may use (the transformed inputs V). */
const FWD_BUDGET = 4 << 20;
/** Most tiles in a forward block. */
const FWD_TILES = 16;

/**
 * Filter transform, parallel over panels [begin, end) of 8 output columns j: u = G w' Gᵀ for w'[3,3,K,J], written as
 * the micro-kernel's B panels: U[pos][j/8][k][j%8] (zero past J). mode 0: w' = w[3,3,K,J]; for w[3,3,J,K], mode 1:
 * w'[a,b,k,j] = w[2−a, 2−b, j, k] (flipped and transposed), mode 2: w'[a,b,k,j] = w[a, b, j, k] (transposed).
 */
export function wino_filter(w: usize, u: usize, K: i32, J: i32, mode: i32, m: i32, begin: i32, end: i32, scratch: usize): void {
  tileSide(m);
  const npj = (J + 7) >> 3, ab = <usize>K * 32, wt = scratch, tmid = wt + 9 * ab;
  for (let jp = begin; jp < end; jp++) {
    // w' of this panel as [9][K][8], zero past J: rows of 8 copied whole, or columns read along k (transposed modes).
    for (let q = 0; q < 9; q++) {
      const d = wt + <usize>q * ab;
      if (mode == 0 && jp * 8 + 8 <= J) {
        for (let k = 0; k < K; k++) {
          const s = w + <usize>((q * K + k) * J + jp * 8) * 4;
          v128.store(d + <usize>k * 32, v128.load(s));
          v128.store(d + <usize>k * 32, v128.load(s, 16), 16);
        }
        continue;
      }
      let k0 = 0;
      if (mode) {
        // Rows j of the transposed filter, 4 k at a time, transposed into the panel (rows past J read as 0).
        const src = w + <usize>(((mode == 1 ? 8 - q : q) * J + jp * 8) * K) * 4, rs = <usize>K * 4, nj = J - jp * 8;
        for (; k0 + 4 <= K; k0 += 4) {
          const s = src + <usize>k0 * 4, z = f32x4.splat(0);
          const r0 = v128.load(s), r1 = nj > 1 ? v128.load(s + rs) : z, r2 = nj > 2 ? v128.load(s + 2 * rs) : z, r3 = nj > 3 ? v128.load(s + 3 * rs) : z;
          const r4 = nj > 4 ? v128.load(s + 4 * rs) : z, r5 = nj > 5 ? v128.load(s + 5 * rs) : z;
          const r6 = nj > 6 ? v128.load(s + 6 * rs) : z, r7 = nj > 7 ? v128.load(s + 7 * rs) : z;
          storeTransposed4(d + <usize>k0 * 32, r0, r1, r2, r3, 32);
          storeTransposed4(d + <usize>k0 * 32 + 16, r4, r5, r6, r7, 32);
        }
      }
      for (let jj = 0; jj < 8; jj++) {
        const j = jp * 8 + jj;
        for (let k = k0; k < K; k++) {
          const v: f32 = j >= J ? 0 : mode ? load<f32>(w + <usize>(((mode == 1 ? 8 - q : q) * J + j) * K + k) * 4) : load<f32>(w + <usize>((q * K + k) * J + j) * 4);
          store<f32>(d + <usize>(k * 8 + jj) * 4, v);
        }
      }
    }
    for (let k = 0; k < K; k++) {
      for (let h = 0; h < 2; h++) {
        const src = wt + <usize>(k * 8 + h * 4) * 4;
        for (let b = 0; b < 3; b++) gf(src + <usize>b * ab, 3 * ab, tmid + <usize>b * 16, 48);
        const dst = u + <usize>((jp * K + k) * 8 + h * 4) * 4, ps = <usize>(npj * K) * 32;
        for (let xi = 0; xi < A; xi++) gf(tmid + <usize>xi * 48, 16, dst + <usize>(xi * A) * ps, ps);
      }
    }
  }
}

/** True in the transposed grad input (tiles read from dy, results added into dx), false in the forward. */
let TRANS = false;
/**
 * The forward's fused epilogue: y = act(conv + bias[F]) with a BiasAct code (nothing when BIAS is 0); with POOL ≠ 0 also
 * the 2×2, stride-2 max pooling of y into POOL[N, OH/2, OW/2, F] (tiles start at even rows and columns, so each holds
 * whole windows); y itself is not stored when Y is false.
 */
let BIAS: usize = 0, ACT = 0, POOL: usize = 0, Y = true;
/** The forward stores outputs whose taps read only zeros as exactly 0 (see zeroOutputs). */
let EXACT = true;

/**
 * Input transform of the current tile, 4 channels from k: α² vectors to d + pos·ds. Forward: Bᵀ x B of the α×α
 * window; transposed: A dy Aᵀ of the m×m tile of dy.
 */
function tileTransform(src: usize, k: i32, d: usize, ds: usize, tmp: usize): void {
  const mid = tmp + <usize>(A * A) * 16;
  if (!TRANS) {
    const s = xWindow(src, k, tmp), rs = RS, cs = CS;
    for (let r = 0; r < A; r++) bt(s + <usize>r * rs, cs, mid + <usize>(r * A) * 16, 16);
    for (let nu = 0; nu < A; nu++) bt(mid + <usize>nu * 16, <usize>A * 16, d + <usize>nu * ds, <usize>A * ds);
    return;
  }
  const s = dyWindow(src, k, tmp), rs = RS, cs = CS;
  for (let r = 0; r < M; r++) ag(s + <usize>r * rs, cs, mid + <usize>(r * A) * 16, 16);
  for (let nu = 0; nu < A; nu++) ag(mid + <usize>nu * 16, <usize>A * 16, d + <usize>nu * ds, <usize>A * ds);
}

/**
 * zero[a·m + b] = 1 for each output of the current tile whose 3×3 taps read only ±0 in x (image background, padding,
 * dead units): those are stored as exactly 0, as a direct sum gives them. Winograd would leave rounding noise of the
 * tile's other pixels there (±1e-8 of their scale), whose random sign flips a following relu's gradient mask wherever
 * the bias is 0. flags: α² bytes of scratch (1 where a window pixel has a lane other than ±0: sign bits masked off).
 */
function zeroOutputs(x: usize, flags: usize, zero: usize): void {
  const mag = i32x4.splat(0x7fffffff), cs = <usize>C * 4;
  for (let r = 0; r < A; r++) {
    const ih = TY - PT + r;
    for (let c = 0; c < A; c++) {
      const iw = TX - PL + c;
      let any = f32x4.splat(0);
      if (<u32>ih < <u32>H && <u32>iw < <u32>W) {
        const p = x + <usize>((TN * H + ih) * W + iw) * cs;
        let k: usize = 0;
        for (; k + 16 <= cs; k += 16) any = v128.or(any, v128.load(p + k));
        if (k < cs) any = v128.or(any, loadTail(p + k, <i32>(cs - k) >> 2));
      }
      store<u8>(flags + <usize>(r * A + c), v128.any_true(v128.and(any, mag)) ? 1 : 0);
    }
  }
  for (let a = 0; a < M; a++) {
    for (let b = 0; b < M; b++) {
      let hit = 0;
      for (let r = 0; r < 3; r++) {
        const f = flags + <usize>((a + r) * A + b);
        hit |= load<u8>(f) | load<u8>(f, 1) | load<u8>(f, 2);
      }
      store<u8>(zero + <usize>(a * M + b), hit ? 0 : 1);
    }
  }
}

/**
 * Output transform of the current tile, 4 channels j .. j+4, from the α² products at mb + pos·128. Forward: the m×m
 * tile Aᵀ P A stored into y, outputs flagged in zero (zeroOutputs) as exactly 0; transposed: the α×α window B P Bᵀ
 * added into dx (clipped to the image).
 */
function tileOut(mb: usize, j: i32, dst: usize, tmp: usize, zero: usize): void {
  const mid = tmp, out = tmp + <usize>(A * A) * 16;
  if (!TRANS) {
    for (let xi = 0; xi < A; xi++) at(mb + <usize>(xi * A) * 128, 128, mid + <usize>(xi * M) * 16, 16);
    for (let b = 0; b < M; b++) at(mid + <usize>b * 16, <usize>M * 16, out + <usize>b * 16, <usize>M * 16);
    const nf = min(4, F - j), rows = min(M, OH - TY), cols = min(M, OW - TX);
    const row0 = dst + <usize>(((TN * OH + TY) * OW + TX) * F + j) * 4, rs = <usize>(OW * F) * 4, cs = <usize>F * 4;
    const bias = BIAS ? (nf == 4 ? v128.load(BIAS + <usize>j * 4) : loadTail(BIAS + <usize>j * 4, nf)) : f32x4.splat(0);
    for (let a = 0; a < rows; a++) {
      for (let b = 0; b < cols; b++) {
        const o = out + <usize>(a * M + b) * 16;
        let v = EXACT && load<u8>(zero + <usize>(a * M + b)) ? f32x4.splat(0) : v128.load(o);
        if (BIAS) v = biasActVec(ACT, f32x4.add(v, bias));
        if (POOL) v128.store(o, v);
        if (!Y) continue;
        const d = row0 + <usize>a * rs + <usize>b * cs;
        if (nf == 4) v128.store(d, v);
        else storeTail(d, v, nf);
      }
    }
    if (POOL) poolTile(out, j, nf);
    return;
  }
  for (let nu = 0; nu < A; nu++) bb(mb + <usize>nu * 128, <usize>A * 128, mid + <usize>nu * 16, <usize>A * 16);
  for (let a = 0; a < A; a++) bb(mid + <usize>(a * A) * 16, 16, out + <usize>(a * A) * 16, 16);
  const nc = min(4, C - j), ih0 = TY - PT, iw0 = TX - PL;
  const a0 = max(0, -ih0), a1 = min(A, H - ih0), b0 = max(0, -iw0), b1 = min(A, W - iw0);
  const rs = <usize>(W * C) * 4, cs = <usize>C * 4, img = dst + <usize>((TN * H * W) * C + j) * 4;
  for (let a = a0; a < a1; a++) {
    const row = img + <usize>(ih0 + a) * rs;
    for (let b = b0; b < b1; b++) {
      const v = v128.load(out + <usize>(a * A + b) * 16), d = row + <usize>(iw0 + b) * cs;
      if (nc == 4) v128.store(d, f32x4.add(v128.load(d), v));
      else storeTail(d, f32x4.add(loadTail(d, nc), v), nc);
    }
  }
}

/** The 2×2 max pools of the current tile's m×m outputs (at out, with the epilogue applied) into POOL, windows in order. */
function poolTile(out: usize, j: i32, nf: i32): void {
  const ph0 = TY >> 1, pw0 = TX >> 1, poh = OH >> 1, pow = OW >> 1, half = M >> 1, rs = <usize>M * 16;
  for (let a = 0; a < half && ph0 + a < poh; a++) {
    for (let b = 0; b < half && pw0 + b < pow; b++) {
      const o = out + <usize>a * 2 * rs + <usize>b * 32;
      const v = f32x4.max(f32x4.max(f32x4.max(f32x4.max(f32x4.splat(-Infinity), v128.load(o)), v128.load(o, 16)), v128.load(o + rs)), v128.load(o + rs, 16));
      const d = POOL + <usize>(((TN * poh + ph0 + a) * pow + pw0 + b) * F + j) * 4;
      if (nf == 4) v128.store(d, v);
      else storeTail(d, v, nf);
    }
  }
}

/**
 * Tiles [t0, t1) of the forward (src = x, dst = y, K = C, J = F) or of the transposed grad input (src = dy, dst = dx,
 * K = F, J = C), in blocks: inputs transformed into V[pos][tile][K'] (K' = K rounded up to 4), then per 8 output
 * channels and 4 tiles the α² products (one micro-kernel call each, a full sum over K) and the output transform.
 */
function tiles(src: usize, u: usize, dst: usize, K: i32, J: i32, t0: i32, t1: i32, scratch: usize): void {
  const aa = A * A, kp = (K + 3) & ~3, npj = (J + 7) >> 3;
  const tb = max(4, min(FWD_TILES, (FWD_BUDGET / (aa * kp * 4)) & ~3));
  // One cache line past a power of two between positions: the transforms write α² positions at a time.
  const vrow = <usize>kp * 4, vpos = <usize>tb * vrow + 64, upos = <usize>(npj * K) * 32;
  const v = scratch, mloc = v + <usize>aa * vpos, tmp = mloc + <usize>aa * 128;
  // The forward's window-pixel flags (one tile at a time) and output zero masks (m² bytes per tile of the block).
  const flags = tmp + <usize>aa * 32, zeros = flags + <usize>aa;
  for (let b0 = t0; b0 < t1; b0 += tb) {
    const nb = min(tb, t1 - b0), nq = (nb + 3) >> 2;
    for (let i = 0; i < nb; i++) {
      tileAt(b0 + i);
      for (let k = 0; k < K; k += 4) tileTransform(src, k, v + <usize>i * vrow + <usize>k * 4, vpos, tmp);
      if (!TRANS && EXACT) zeroOutputs(src, flags, zeros + <usize>(i * M * M));
    }
    for (let i = nb; i < nq * 4; i++) {
      for (let pos = 0; pos < aa; pos++) memory.fill(v + <usize>pos * vpos + <usize>i * vrow, 0, vrow);
    }
    for (let jp = 0; jp < npj; jp++) {
      const up = u + <usize>(jp * K) * 32;
      for (let q = 0; q < nq; q++) {
        const vq = v + <usize>(q * 4) * vrow;
        for (let pos = 0; pos < aa; pos++) {
          gemm_micro(K, vq + <usize>pos * vpos, vrow, 4, up + <usize>pos * upos, 32, mloc + <usize>pos * 128, 32, false);
        }
        for (let r = 0; r < 4; r++) {
          const t = b0 + q * 4 + r;
          if (t >= t1) break;
          tileAt(t);
          for (let h = 0; h < 2; h++) {
            const j = jp * 8 + h * 4;
            if (j >= J) break;
            tileOut(mloc + <usize>(r * 32 + h * 16), j, dst, tmp, zeros + <usize>((q * 4 + r) * M * M));
          }
        }
      }
    }
  }
}

/**
 * Forward, parallel over quads of tiles [begin, end): y[N,OH,OW,F] = conv(x[N,H,W,C], w), u = wino_filter(w, …, K = C,
 * J = F, mode 0); with bias ≠ 0, y = act(conv + bias[F]) (act a BiasAct code, as ew_bias_act computes it); with
 * pool ≠ 0, also pool[N, ⌊OH/2⌋, ⌊OW/2⌋, F] = 2×2 max pooling of y, as pool_max computes it (y = 0: not stored);
 * with exact ≠ 0, outputs whose taps read only zeros are exactly 0 (zeroOutputs).
 */
export function wino_forward(x: usize, u: usize, y: usize, g: usize, m: i32, bias: usize, act: i32, pool: usize, exact: i32,
  begin: i32, end: i32, scratch: usize): void {
  geom(g, m);
  TRANS = false; BIAS = bias; ACT = act; POOL = pool; Y = y != 0; EXACT = exact != 0;
  tiles(x, u, y, C, F, begin * 4, min(T, end * 4), scratch);
}

/**
 * Grad input, parallel over images [begin, end): dx[N,H,W,C] = Σ over the tiles of dy[N,OH,OW,F] of B[(A dy_t Aᵀ) ⊙
 * (G w Gᵀ)]Bᵀ added into the tile's input window (the transpose of the forward), u = wino_filter(w, …, K = F, J = C,
 * mode 2). Each image's windows are added in tile order by one thread, so any split gives the same bits.
 */
export function wino_gradInput(dy: usize, u: usize, dx: usize, g: usize, m: i32, begin: i32, end: i32, scratch: usize): void {
  geom(g, m);
  TRANS = true; EXACT = false;
  const img = <usize>(H * W * C) * 4, per = TH * TW;
  for (let n = begin; n < end; n++) {
    memory.fill(dx + <usize>n * img, 0, img);
    tiles(dy, u, dx, F, C, n * per, (n + 1) * per, scratch);
  }
}
