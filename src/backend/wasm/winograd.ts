// Wasm wrappers of the Winograd kernels (src/kernels/winograd.ts) for 3×3 convolutions of stride 1 and dilation 1.
import type { Buf, Conv2DParams } from '../backend.js';
import type { WasmContext } from './context.js';
import { MACS_PER_THREAD } from './gemm.js';

/** Channel counts from which Winograd takes over from the im2col GEMM (below, the GEMMs over C are too short to pay). */
const MIN_CHANNELS = 4;
/** Largest C and F: the kernels' per-thread blocks must fit the 8 MiB scratch. */
const MAX_CHANNELS = 4096;

/** Multiplies of F(m×m, 3×3) for an oh×ow output: α² per tile, (m+2)² = α². */
function cost(m: number, oh: number, ow: number): number {
  return (m + 2) ** 2 * Math.ceil(oh / m) * Math.ceil(ow / m);
}

/** The output tile side m of F(m×m, 3×3) for an oh×ow output: 4 (36 products per 16 outputs) where that needs fewer products, else 2 (more accurate). */
export function winogradTile(oh: number, ow: number): 2 | 4 {
  return cost(4, oh, ow) < cost(2, oh, ow) ? 4 : 2;
}

/**
 * Output pixels (N·OH·OW) from which Winograd pays for its filter transform and extra dispatch (C·F work per call):
 * measured, 3×3 32 → 64 on 11×11 outputs costs about 0.1 ms fixed + 0.06 ms per image against 0.11 ms per image for
 * the im2col GEMM, so about two images; below it (batch-1 inference) the GEMM is faster.
 */
const MIN_PIXELS = 256;

/**
 * Whether a convolution's forward (and both gradients) take the Winograd kernels: 3×3, stride 1, dilation 1, C and F
 * in range, and enough output pixels. A function of the geometry alone, so every thread count takes the same path.
 */
export function winogradFits(p: Conv2DParams): boolean {
  return p.kh === 3 && p.kw === 3 && p.strideH === 1 && p.strideW === 1 && p.dilationH === 1 && p.dilationW === 1 &&
    p.c >= MIN_CHANNELS && p.f >= MIN_CHANNELS && p.c <= MAX_CHANNELS && p.f <= MAX_CHANNELS && p.n * p.oh * p.ow >= MIN_PIXELS;
}

/** The kernels' geometry, i32[15] = [N, H, W, C, F, 3, 3, 1, 1, 1, 1, PT, PL, OH, OW]. */
function geometry(ctx: WasmContext, n: number, h: number, w: number, c: number, f: number, pt: number, pl: number, oh: number, ow: number): number {
  return ctx.params([n, h, w, c, f, 3, 3, 1, 1, 1, 1, pt, pl, oh, ow]);
}

/** U = G w' Gᵀ (see wino_filter) into a new temporary of the micro-kernel's panels, split over panels of 8 output channels. */
function filter(ctx: WasmContext, w: Buf, k: number, j: number, mode: 0 | 1 | 2, m: number): number {
  const panels = Math.ceil(j / 8);
  const u = ctx.allocTemp((m + 2) ** 2 * panels * k * 32);
  ctx.parallel('wino_filter', [w, u, k, j, mode, m], panels, 1, Math.max(1, Math.ceil(panels / 2)));
  return u;
}

/** Multiply-adds of one work item of `tiles` tiles of F(m×m, 3×3) with k → j channels: the split's minimum items per thread. */
function minItems(tiles: number, m: number, k: number, j: number): number {
  return Math.max(1, Math.ceil(MACS_PER_THREAD / (tiles * (m + 2) ** 2 * k * j)));
}

/**
 * y[N,OH,OW,F] from x[N,H,W,C] and w'[3,3,C,F] (w' = w, or with `flip` the flipped, transposed filter of w[3,3,F,C]),
 * split over quads of tiles.
 */
function forward(ctx: WasmContext, x: Buf, w: Buf, y: Buf, flip: boolean, n: number, h: number, wd: number, c: number, f: number,
  pt: number, pl: number, oh: number, ow: number, bias: Buf = 0, act = 0, pool: Buf = 0): void {
  const m = winogradTile(oh, ow);
  const u = filter(ctx, w, c, f, flip ? 1 : 0, m);
  try {
    const quads = Math.ceil((n * Math.ceil(oh / m) * Math.ceil(ow / m)) / 4);
    const g = geometry(ctx, n, h, wd, c, f, pt, pl, oh, ow);
    // The forward proper keeps structural zeros exact (a relu may follow); the grad input's flipped forward need not.
    ctx.parallel('wino_forward', [x, u, y, g, m, bias, act, pool, flip ? 0 : 1], quads, 1, minItems(4, m, c, f));
  } finally {
    ctx.freeTemp(u);
  }
}

/**
 * y = conv2d(x, w), or act(conv2d(x, w) + bias) with bias ≠ 0 (act a BiasAct code), by Winograd (the caller checked
 * {@link winogradFits}); with pool ≠ 0 also pool = 2×2 stride-2 max pooling of y ('valid'), y = 0 then not stored.
 */
export function winoConv2d(ctx: WasmContext, x: Buf, w: Buf, y: Buf, p: Conv2DParams, bias: Buf, act: number, pool: Buf = 0): void {
  forward(ctx, x, w, y, false, p.n, p.h, p.w, p.c, p.f, p.padTop, p.padLeft, p.oh, p.ow, bias, act, pool);
}

/**
 * dx = ∂L/∂x by Winograd, over whichever grid has fewer tiles (a function of the geometry alone, never of the thread
 * count): dx's, as the forward over dy with the flipped, transposed filter and padding 2 − pad (dx[ih] =
 * Σ_kh dy[ih + padT − kh]·w[kh]; needs pad ≤ 2; split over tiles), or dy's, as the transposed forward adding each
 * tile's window into dx (any padding; split over images). With 'valid' padding dy's grid is the smaller.
 */
export function winoConv2dGradInput(ctx: WasmContext, dy: Buf, w: Buf, dx: Buf, p: Conv2DParams): void {
  const onDx = cost(winogradTile(p.h, p.w), p.h, p.w), onDy = cost(winogradTile(p.oh, p.ow), p.oh, p.ow);
  if (p.padTop <= 2 && p.padLeft <= 2 && onDx <= onDy) {
    forward(ctx, dy, w, dx, true, p.n, p.oh, p.ow, p.f, p.c, 2 - p.padTop, 2 - p.padLeft, p.h, p.w);
    return;
  }
  const m = winogradTile(p.oh, p.ow);
  const u = filter(ctx, w, p.f, p.c, 2, m);
  try {
    const perImage = Math.ceil(p.oh / m) * Math.ceil(p.ow / m);
    const g = geometry(ctx, p.n, p.h, p.w, p.c, p.f, p.padTop, p.padLeft, p.oh, p.ow);
    ctx.parallel('wino_gradInput', [dy, u, dx, g, m], p.n, 1, minItems(perImage, m, p.c, p.f));
  } finally {
    ctx.freeTemp(u);
  }
}

/**
 * dw = ∂L/∂w by Winograd: the products of transformed tiles summed over all tiles per transform position (split over
 * rows of positions; every position reduces over the tiles in the same fixed chunks), then the inverse transform
 * (split over input channels).
 */
export function winoConv2dGradFilter(ctx: WasmContext, x: Buf, dy: Buf, dw: Buf, p: Conv2DParams): void {
  const m = winogradTile(p.oh, p.ow), a = m + 2;
  const cp = Math.ceil(p.c / 4) * 4, fp = Math.ceil(p.f / 8) * 8;
  const s = ctx.allocTemp(a * a * cp * fp * 4);
  const g = geometry(ctx, p.n, p.h, p.w, p.c, p.f, p.padTop, p.padLeft, p.oh, p.ow);
  try {
    ctx.parallel('wino_gradFilter', [x, dy, s, g, m], a, 1, 1);
    ctx.parallel('wino_gradFilterOut', [s, dw, g, m], p.c, 1, Math.max(1, Math.ceil((1 << 14) / (a * a * p.f))));
  } finally {
    ctx.freeTemp(s);
  }
}
