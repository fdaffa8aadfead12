// The Winograd kernels' shared parts: geometry and tile cursor (module globals, one instance per thread), tile windows
// and the 1-D transforms of F(2×2,3×3) and F(4×4,3×3) on f32x4 vectors (Lavin & Gray 2016). Legend as in ../winograd.ts.

import { loadTail } from './vecmath';

/** The geometry (see geom): batch, input size and channels, filters, padding, output size. */
export let N = 0, H = 0, W = 0, C = 0, F = 0, PT = 0, PL = 0, OH = 0, OW = 0;
/** Tile side m, input tile side α, tiles per image row / column, tiles in all. */
export let M = 2, A = 4, TH = 0, TW = 0, T = 0;

/** Sets the tile side m (2 or 4) and α = m + 2. */
export function tileSide(m: i32): void {
  M = m; A = m + 2;
}

/** Reads the 15-int32 geometry at g and sets the tiling for tile side m. */
export function geom(g: usize, m: i32): void {
  N = load<i32>(g); H = load<i32>(g, 4); W = load<i32>(g, 8); C = load<i32>(g, 12); F = load<i32>(g, 16);
  PT = load<i32>(g, 44); PL = load<i32>(g, 48); OH = load<i32>(g, 52); OW = load<i32>(g, 56);
  tileSide(m); TH = (OH + m - 1) / m; TW = (OW + m - 1) / m; T = N * TH * TW;
}

/** c in all four lanes. */
// @ts-ignore: decorator
@inline export function sp(c: f32): v128 {
  return f32x4.splat(c);
}

// 1-D transforms: read n vectors at s + i·ss, write the results at d + k·ds (byte strides).

/** d = Bᵀ s: the input transform (α inputs → α outputs). */
// @ts-ignore: decorator
@inline export function bt(s: usize, ss: usize, d: usize, ds: usize): void {
  const s0 = v128.load(s), s1 = v128.load(s + ss), s2 = v128.load(s + 2 * ss), s3 = v128.load(s + 3 * ss);
  if (M == 2) {
    v128.store(d, f32x4.sub(s0, s2));
    v128.store(d + ds, f32x4.add(s1, s2));
    v128.store(d + 2 * ds, f32x4.sub(s2, s1));
    v128.store(d + 3 * ds, f32x4.sub(s1, s3));
    return;
  }
  const s4 = v128.load(s + 4 * ss), s5 = v128.load(s + 5 * ss), four = sp(4), five = sp(5), two = sp(2);
  v128.store(d, f32x4.add(f32x4.sub(f32x4.mul(four, s0), f32x4.mul(five, s2)), s4));
  v128.store(d + ds, f32x4.sub(f32x4.add(s3, s4), f32x4.mul(four, f32x4.add(s1, s2))));
  v128.store(d + 2 * ds, f32x4.add(f32x4.sub(s4, s3), f32x4.mul(four, f32x4.sub(s1, s2))));
  const e = f32x4.sub(s4, s2), o = f32x4.mul(two, f32x4.sub(s3, s1));
  v128.store(d + 3 * ds, f32x4.add(e, o));
  v128.store(d + 4 * ds, f32x4.sub(e, o));
  v128.store(d + 5 * ds, f32x4.add(f32x4.sub(f32x4.mul(four, s1), f32x4.mul(five, s3)), s5));
}

/** d = Aᵀ s: the output transform (α inputs → m outputs). */
// @ts-ignore: decorator
@inline export function at(s: usize, ss: usize, d: usize, ds: usize): void {
  const s0 = v128.load(s), s1 = v128.load(s + ss), s2 = v128.load(s + 2 * ss), s3 = v128.load(s + 3 * ss);
  if (M == 2) {
    v128.store(d, f32x4.add(f32x4.add(s0, s1), s2));
    v128.store(d + ds, f32x4.sub(f32x4.sub(s1, s2), s3));
    return;
  }
  const s4 = v128.load(s + 4 * ss), s5 = v128.load(s + 5 * ss);
  const p = f32x4.add(s1, s2), q = f32x4.sub(s1, s2), r = f32x4.add(s3, s4), u = f32x4.sub(s3, s4);
  v128.store(d, f32x4.add(f32x4.add(s0, p), r));
  v128.store(d + ds, f32x4.add(q, f32x4.mul(sp(2), u)));
  v128.store(d + 2 * ds, f32x4.add(p, f32x4.mul(sp(4), r)));
  v128.store(d + 3 * ds, f32x4.add(f32x4.add(q, f32x4.mul(sp(8), u)), s5));
}

/** d = A s: the transform of a gradient tile (m inputs → α outputs; the transpose of {@link at}). */
// @ts-ignore: decorator
@inline export function ag(s: usize, ss: usize, d: usize, ds: usize): void {
  const s0 = v128.load(s), s1 = v128.load(s + ss);
  if (M == 2) {
    v128.store(d, s0);
    v128.store(d + ds, f32x4.add(s0, s1));
    v128.store(d + 2 * ds, f32x4.sub(s0, s1));
    v128.store(d + 3 * ds, f32x4.neg(s1));
    return;
  }
  const s2 = v128.load(s + 2 * ss), s3 = v128.load(s + 3 * ss);
  const e = f32x4.add(s0, s2), o = f32x4.add(s1, s3);
  const e4 = f32x4.add(s0, f32x4.mul(sp(4), s2)), o4 = f32x4.add(f32x4.mul(sp(2), s1), f32x4.mul(sp(8), s3));
  v128.store(d, s0);
  v128.store(d + ds, f32x4.add(e, o));
  v128.store(d + 2 * ds, f32x4.sub(e, o));
  v128.store(d + 3 * ds, f32x4.add(e4, o4));
  v128.store(d + 4 * ds, f32x4.sub(e4, o4));
  v128.store(d + 5 * ds, s3);
}

/** d = G s: the filter transform (3 inputs → α outputs). */
// @ts-ignore: decorator
@inline export function gf(s: usize, ss: usize, d: usize, ds: usize): void {
  const s0 = v128.load(s), s1 = v128.load(s + ss), s2 = v128.load(s + 2 * ss);
  if (M == 2) {
    const h = f32x4.mul(sp(0.5), f32x4.add(s0, s2)), h1 = f32x4.mul(sp(0.5), s1);
    v128.store(d, s0);
    v128.store(d + ds, f32x4.add(h, h1));
    v128.store(d + 2 * ds, f32x4.sub(h, h1));
    v128.store(d + 3 * ds, s2);
    return;
  }
  const e = f32x4.add(s0, s2), sixth = sp(<f32>(-1.0 / 6));
  const p = f32x4.add(f32x4.mul(sp(<f32>(1.0 / 24)), s0), f32x4.mul(sp(<f32>(1.0 / 6)), s2)), q = f32x4.mul(sp(<f32>(1.0 / 12)), s1);
  v128.store(d, f32x4.mul(sp(0.25), s0));
  v128.store(d + ds, f32x4.mul(sixth, f32x4.add(e, s1)));
  v128.store(d + 2 * ds, f32x4.mul(sixth, f32x4.sub(e, s1)));
  v128.store(d + 3 * ds, f32x4.add(p, q));
  v128.store(d + 4 * ds, f32x4.sub(p, q));
  v128.store(d + 5 * ds, s2);
}

/** d = Gᵀ s: the inverse filter transform of the grad filter (α inputs → 3 outputs). */
// @ts-ignore: decorator
@inline export function gt(s: usize, ss: usize, d: usize, ds: usize): void {
  const s0 = v128.load(s), s1 = v128.load(s + ss), s2 = v128.load(s + 2 * ss), s3 = v128.load(s + 3 * ss);
  if (M == 2) {
    const p = f32x4.mul(sp(0.5), f32x4.add(s1, s2));
    v128.store(d, f32x4.add(s0, p));
    v128.store(d + ds, f32x4.mul(sp(0.5), f32x4.sub(s1, s2)));
    v128.store(d + 2 * ds, f32x4.add(p, s3));
    return;
  }
  const s4 = v128.load(s + 4 * ss), s5 = v128.load(s + 5 * ss);
  const p = f32x4.add(s1, s2), r = f32x4.add(s3, s4);
  v128.store(d, f32x4.add(f32x4.sub(f32x4.mul(sp(0.25), s0), f32x4.mul(sp(<f32>(1.0 / 6)), p)), f32x4.mul(sp(<f32>(1.0 / 24)), r)));
  v128.store(d + ds, f32x4.add(f32x4.mul(sp(<f32>(1.0 / 6)), f32x4.sub(s2, s1)), f32x4.mul(sp(<f32>(1.0 / 12)), f32x4.sub(s3, s4))));
  v128.store(d + 2 * ds, f32x4.add(f32x4.mul(sp(<f32>(1.0 / 6)), f32x4.sub(r, p)), s5));
}

/** The current tile (set by {@link tileAt}): its image and the top-left output pixel (TY, TX). */
export let TN = 0, TY = 0, TX = 0;

export function tileAt(t: i32): void {
  const r = t / TW;
  TX = (t - r * TW) * M; TN = r / TH; TY = (r - TN * TH) * M;
}

/** Byte strides (rows, columns) of the window {@link window} returned. */
export let RS: usize = 0, CS: usize = 0;

/**
 * Address of the n×n window at (r0, c0) of image TN of img[·, R, Q, ch], channels k .. k+4, with RS/CS set. A window
 * reaching outside the image, or a partial channel quad, is first copied to tmp (n² vectors, zero-filled).
 */
export function window(img: usize, n: i32, r0: i32, c0: i32, R: i32, Q: i32, ch: i32, k: i32, tmp: usize): usize {
  const cs = <usize>ch * 4, rs = <usize>Q * cs, base = img + <usize>((TN * R * Q) * ch + k) * 4;
  if (r0 >= 0 && c0 >= 0 && r0 + n <= R && c0 + n <= Q && k + 4 <= ch) {
    RS = rs; CS = cs;
    return base + <usize>r0 * rs + <usize>c0 * cs;
  }
  const nc = min(4, ch - k);
  for (let i = 0; i < n; i++) {
    const r = r0 + i;
    for (let j = 0; j < n; j++) {
      const c = c0 + j;
      let v = f32x4.splat(0);
      if (<u32>r < <u32>R && <u32>c < <u32>Q && nc > 0) {
        const p = base + <usize>r * rs + <usize>c * cs;
        v = nc >= 4 ? v128.load(p) : loadTail(p, nc);
      }
      v128.store(tmp + <usize>(i * n + j) * 16, v);
    }
  }
  RS = <usize>n * 16; CS = 16;
  return tmp;
}

/** Tile TN/TY/TX's α×α input window of x, channels c .. c+4 (see {@link window}). */
// @ts-ignore: decorator
@inline export function xWindow(x: usize, c: i32, tmp: usize): usize {
  return window(x, A, TY - PT, TX - PL, H, W, C, c, tmp);
}

/** Tile TN/TY/TX's m×m tile of dy, filters f .. f+4 (see {@link window}; zero past F). */
// @ts-ignore: decorator
@inline export function dyWindow(dy: usize, f: i32, tmp: usize): usize {
  return window(dy, M, TY, TX, OH, OW, F, f, tmp);
}

/** d = B s: the transpose of {@link bt}, back from the transform domain in the transposed grad input (α → α). */
// @ts-ignore: decorator
@inline export function bb(s: usize, ss: usize, d: usize, ds: usize): void {
  const s0 = v128.load(s), s1 = v128.load(s + ss), s2 = v128.load(s + 2 * ss), s3 = v128.load(s + 3 * ss);
  if (M == 2) {
    v128.store(d, s0);
    v128.store(d + ds, f32x4.add(f32x4.sub(s1, s2), s3));
    v128.store(d + 2 * ds, f32x4.sub(f32x4.add(s1, s2), s0));
    v128.store(d + 3 * ds, f32x4.neg(s3));
    return;
  }
  const s4 = v128.load(s + 4 * ss), s5 = v128.load(s + 5 * ss), four = sp(4), two = sp(2);
  const p = f32x4.add(s1, s2), q = f32x4.sub(s2, s1), r = f32x4.add(s3, s4), u = f32x4.sub(s4, s3);
  v128.store(d, f32x4.mul(four, s0));
  v128.store(d + ds, f32x4.add(f32x4.mul(four, f32x4.add(q, s5)), f32x4.mul(two, u)));
  v128.store(d + 2 * ds, f32x4.sub(f32x4.neg(f32x4.add(f32x4.mul(sp(5), s0), f32x4.mul(four, p))), r));
  v128.store(d + 3 * ds, f32x4.sub(f32x4.sub(f32x4.neg(q), f32x4.mul(two, u)), f32x4.mul(sp(5), s5)));
  v128.store(d + 4 * ds, f32x4.add(f32x4.add(s0, p), r));
  v128.store(d + 5 * ds, s5);
}

/**
 * Outputs ξ ∈ [x0, x1) of {@link bt} only, by the same operations (so to the bit), at d + ξ·ds: a thread that owns
 * rows [x0, x1) of the positions transforms no more than its share.
 */
// @ts-ignore: decorator
@inline export function btRows(s: usize, ss: usize, d: usize, ds: usize, x0: i32, x1: i32): void {
  const s0 = v128.load(s), s1 = v128.load(s + ss), s2 = v128.load(s + 2 * ss), s3 = v128.load(s + 3 * ss);
  if (M == 2) {
    for (let xi = x0; xi < x1; xi++) {
      let v = f32x4.sub(s1, s3);
      if (xi == 0) v = f32x4.sub(s0, s2);
      else if (xi == 1) v = f32x4.add(s1, s2);
      else if (xi == 2) v = f32x4.sub(s2, s1);
      v128.store(d + <usize>xi * ds, v);
    }
    return;
  }
  const s4 = v128.load(s + 4 * ss), s5 = v128.load(s + 5 * ss), four = sp(4), five = sp(5), two = sp(2);
  for (let xi = x0; xi < x1; xi++) {
    let v: v128;
    if (xi == 0) v = f32x4.add(f32x4.sub(f32x4.mul(four, s0), f32x4.mul(five, s2)), s4);
    else if (xi == 1) v = f32x4.sub(f32x4.add(s3, s4), f32x4.mul(four, f32x4.add(s1, s2)));
    else if (xi == 2) v = f32x4.add(f32x4.sub(s4, s3), f32x4.mul(four, f32x4.sub(s1, s2)));
    else if (xi == 5) v = f32x4.add(f32x4.sub(f32x4.mul(four, s1), f32x4.mul(five, s3)), s5);
    else {
      const e = f32x4.sub(s4, s2), o = f32x4.mul(two, f32x4.sub(s3, s1));
      v = xi == 3 ? f32x4.add(e, o) : f32x4.sub(e, o);
    }
    v128.store(d + <usize>xi * ds, v);
  }
}

/** Outputs ξ ∈ [x0, x1) of {@link ag} only, by the same operations (so to the bit), at d + ξ·ds. */
// @ts-ignore: decorator
@inline export function agRows(s: usize, ss: usize, d: usize, ds: usize, x0: i32, x1: i32): void {
  const s0 = v128.load(s), s1 = v128.load(s + ss);
  if (M == 2) {
    for (let xi = x0; xi < x1; xi++) {
      let v = f32x4.neg(s1);
      if (xi == 0) v = s0;
      else if (xi == 1) v = f32x4.add(s0, s1);
      else if (xi == 2) v = f32x4.sub(s0, s1);
      v128.store(d + <usize>xi * ds, v);
    }
    return;
  }
  const s2 = v128.load(s + 2 * ss), s3 = v128.load(s + 3 * ss);
  for (let xi = x0; xi < x1; xi++) {
    let v = s3;
    if (xi == 0) v = s0;
    else if (xi == 1 || xi == 2) {
      const e = f32x4.add(s0, s2), o = f32x4.add(s1, s3);
      v = xi == 1 ? f32x4.add(e, o) : f32x4.sub(e, o);
    } else if (xi == 3 || xi == 4) {
      const e4 = f32x4.add(s0, f32x4.mul(sp(4), s2)), o4 = f32x4.add(f32x4.mul(sp(2), s1), f32x4.mul(sp(8), s3));
      v = xi == 3 ? f32x4.add(e4, o4) : f32x4.sub(e4, o4);
    }
    v128.store(d + <usize>xi * ds, v);
  }
}
