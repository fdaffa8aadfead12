// Wasm wrappers of 2-D convolution (NHWC, HWIO) and its two gradients: Winograd for 3×3 stride-1 filters (./winograd.ts), implicit-im2col GEMMs in src/kernels/conv.ts, direct kernels (src/kernels/conv-direct.ts) for small KH·KW·C.
import type { Buf, Conv2DParams, OutputActivation, Pool2DParams } from '../backend.js';
import { BiasAct } from '../opcodes.js';
import type { WasmContext } from './context.js';
import { wasmBiasAct } from './elementwise.js';
import { poolGeometry, poolTiles, wasmMaxPool2d } from './pool.js';
import { MACS_PER_THREAD } from './gemm.js';
import { winoConv2d, winoConv2dGradFilter, winoConv2dGradInput, winogradFits } from './winograd.js';

/** Register tile of the GEMM micro-kernel (gemm_MR × gemm_NR). */
const MR = 4;
const NR = 8;

/** The geometry as the kernels read it: i32[15] = [N, H, W, C, F, KH, KW, SH, SW, DH, DW, PT, PL, OH, OW]. */
function geometry(ctx: WasmContext, p: Conv2DParams): number {
  return ctx.params([
    p.n, p.h, p.w, p.c, p.f, p.kh, p.kw, p.strideH, p.strideW, p.dilationH, p.dilationW, p.padTop, p.padLeft, p.oh, p.ow,
  ]);
}

/** Largest K = KH·KW·C for the direct (no-im2col) kernels of src/kernels/conv-direct.ts. */
const DIRECT_MAX_K = 32;

/** True when every tap of every output pixel lies inside the image (no padding in effect). */
function unpadded(p: Conv2DParams): boolean {
  return p.padTop === 0 && p.padLeft === 0 && (p.oh - 1) * p.strideH + (p.kh - 1) * p.dilationH < p.h &&
    (p.ow - 1) * p.strideW + (p.kw - 1) * p.dilationW < p.w;
}

/** Direct forward / grad-filter kernels apply: small K, F a multiple of 16, no padding. */
function directFwd(p: Conv2DParams): boolean {
  return p.kh * p.kw * p.c <= DIRECT_MAX_K && p.f % 16 === 0 && p.oh > 0 && p.ow > 0 && unpadded(p);
}

/** Minimum work items per thread for items of `macs` multiply-adds each. */
function minItems(macs: number): number {
  return Math.max(1, Math.ceil(MACS_PER_THREAD / Math.max(1, macs)));
}

/**
 * y[N,OH,OW,F] = conv(x[N,H,W,C], w[KH,KW,C,F]), or with a bias act(conv + bias[F]): Winograd (3×3, stride 1) or
 * the direct kernels with the bias and activation fused into their stores; the im2col GEMM (split over tiles of MR
 * output pixels) followed by the bias-activation kernel.
 */
export function wasmConv2d(ctx: WasmContext, x: Buf, w: Buf, y: Buf, p: Conv2DParams, bias: Buf = 0, act: OutputActivation = 'linear'): void {
  const pixels = p.n * p.oh * p.ow;
  if (pixels <= 0 || p.f <= 0) return;
  const k = p.kh * p.kw * p.c;
  if (winogradFits(p)) {
    winoConv2d(ctx, x, w, y, p, bias, BiasAct[act]);
    return;
  }
  if (k > 0 && directFwd(p)) {
    ctx.parallel('convd_forward', [x, w, y, geometry(ctx, p), bias, BiasAct[act], 0, 0], p.n * p.oh, 1, minItems(p.ow * k * p.f));
    return;
  }
  ctx.parallel('conv_forward', [x, w, y, geometry(ctx, p)], Math.ceil(pixels / MR), 1, minItems(MR * k * p.f));
  if (bias) wasmBiasAct(ctx, y, bias, y, pixels, p.f, act);
}

/** Bytes of scratch the direct forward may give its rows of y when it pools them itself. */
const POOL_ROWS_BYTES = 4 << 20;

/**
 * p = maxPool2d(act(conv(x, w) + bias)) and y = act(conv + bias) unless null. Where the pooling windows tile y, the
 * Winograd kernel (2×2 windows, within its even-aligned tiles) or the direct kernel (split over pooled rows) pools as
 * it stores, and leaves y unwritten when null; otherwise conv2dBiasAct then maxPool2d.
 */
export function wasmConv2dBiasActPool(ctx: WasmContext, x: Buf, w: Buf, bias: Buf, y: Buf | null, p: Buf, cp: Conv2DParams,
  pp: Pool2DParams, act: OutputActivation): void {
  const tiles = poolTiles(pp);
  if (tiles && winogradFits(cp) && pp.kh === 2 && pp.kw === 2) {
    winoConv2d(ctx, x, w, y ?? 0, cp, bias, BiasAct[act], p);
    return;
  }
  const k = cp.kh * cp.kw * cp.c;
  if (tiles && k > 0 && directFwd(cp) && k * 4 + pp.kh * cp.ow * cp.f * 4 + 64 <= POOL_ROWS_BYTES) {
    const args = [x, w, y ?? 0, geometry(ctx, cp), bias, BiasAct[act], p, poolGeometry(ctx, pp)];
    ctx.parallel('convd_forward', args, pp.n * pp.oh, 1, minItems(pp.kh * cp.ow * k * cp.f));
    return;
  }
  const yy = y ?? ctx.allocTemp(cp.n * cp.oh * cp.ow * cp.f * 4);
  try {
    wasmConv2d(ctx, x, w, yy, cp, bias, act);
    wasmMaxPool2d(ctx, yy, p, pp);
  } finally {
    if (y === null) ctx.freeTemp(yy);
  }
}

/**
 * dx[N,H,W,C] = ∂L/∂x from dy[N,OH,OW,F] and w[KH,KW,C,F] (overwrites dx). Direct path (C = 1, small K,
 * F % 16 == 0, no padding): z[K, N·OH·OW] = w·dyᵀ split over output pixels, then dx gathered from z split
 * over input rows. Otherwise an implicit-GEMM + col2im kernel split over images.
 */
export function wasmConv2dGradInput(ctx: WasmContext, dy: Buf, w: Buf, dx: Buf, p: Conv2DParams): void {
  if (p.n <= 0 || p.h * p.w * p.c <= 0) return;
  if (winogradFits(p)) {
    winoConv2dGradInput(ctx, dy, w, dx, p);
    return;
  }
  const k = p.kh * p.kw * p.c;
  if (p.c === 1 && directFwd(p)) {
    const pixels = p.n * p.oh * p.ow;
    const g = geometry(ctx, p);
    const z = ctx.allocTemp(pixels * k * 4);
    try {
      ctx.parallel('convd_gradInputZ', [dy, w, z, g], pixels, 4, minItems(k * p.f));
      ctx.parallel('convd_gradInputScatter', [z, dx, g], p.n * p.h, 1, minItems(4 * p.w * k));
    } finally {
      ctx.freeTemp(z);
    }
    return;
  }
  ctx.parallel('conv_gradInput', [dy, w, dx, geometry(ctx, p)], p.n, 1, minItems(p.oh * p.ow * k * p.f + p.h * p.w * p.c));
}

/** Largest shared colsᵀ buffer (bytes) the grad filter packs once for all threads instead of once per thread. */
const SHARED_PACK_BYTES = 64 << 20;

/**
 * dw[KH,KW,C,F] = ∂L/∂w from x[N,H,W,C] and dy[N,OH,OW,F] (overwrites dw); split over tiles of dw
 * (NR filters or MR rows of KH·KW·C), never over the reduction across pixels. When split over filters,
 * colsᵀ is first packed once into a shared temporary (in parallel) rather than by every thread.
 */
export function wasmConv2dGradFilter(ctx: WasmContext, x: Buf, dy: Buf, dw: Buf, p: Conv2DParams): void {
  const k = p.kh * p.kw * p.c;
  if (k <= 0 || p.f <= 0) return;
  const pixels = p.n * p.oh * p.ow;
  if (winogradFits(p)) {
    winoConv2dGradFilter(ctx, x, dy, dw, p);
    return;
  }
  if (directFwd(p)) {
    const tiles = Math.ceil(k / 3) * (p.f / 16);
    ctx.parallel('convd_gradFilter', [x, dy, dw, geometry(ctx, p)], tiles, 1, minItems(pixels * 3 * 16));
    return;
  }
  const tilesF = Math.ceil(p.f / NR);
  const tilesK = Math.ceil(k / MR);
  const splitF = tilesF >= tilesK;
  const macs = (splitF ? NR * k : MR * p.f) * pixels;
  const g = geometry(ctx, p);
  const min = minItems(macs);
  const packBytes = Math.ceil(k / MR) * MR * pixels * 4;
  const threaded = ctx.threads > 1 && (splitF ? tilesF : tilesK) >= 2 * min;
  if (!(splitF && threaded && pixels > 0 && packBytes <= SHARED_PACK_BYTES)) {
    ctx.parallel('conv_gradFilter', [x, dy, dw, g, splitF ? 1 : 0, 0], splitF ? tilesF : tilesK, 1, min);
    return;
  }
  const packed = ctx.allocTemp(packBytes);
  try {
    const kcb = Number(ctx.exports.gemm_kcBlock(pixels));
    ctx.parallel('conv_packColsT', [x, g, packed], Math.ceil(pixels / kcb), 1, 1);
    ctx.parallel('conv_gradFilter', [x, dy, dw, g, 1, packed], tilesF, 1, min);
  } finally {
    ctx.freeTemp(packed);
  }
}
