// 2-D max/avg pooling over NHWC activations and their gradients.
// Legend: N batch, H/W input size, C channels, KH/KW window, SH/SW strides, PT/PL padding, OH/OW output size.
// Geometry p: i32[12] = [N, H, W, C, KH, KW, SH, SW, PT, PL, OH, OW]. Padded cells are skipped (never win a
// max, not counted by avg); an empty window gives max -inf and avg NaN and gets no gradient. SIMD over C.
import { actGradVec } from './lib/vecmath';

// @ts-ignore: decorator
@inline function g(p: usize, i: i32): i32 {
  return load<i32>(p + (<usize>i << 2));
}

// @ts-ignore: decorator
@inline function fptr(base: usize, elem: i32): usize {
  return base + (<usize>elem << 2);
}

/** y[N,OH,OW,C] = max (avg when avg != 0) over each window of x[N,H,W,C]; partition over the N·OH output rows. */
// @ts-ignore: decorator
@inline function poolFwd(avg: bool, x: usize, y: usize, p: usize, begin: i32, end: i32): void {
  const h = g(p, 1), w = g(p, 2), c = g(p, 3), kh = g(p, 4), kw = g(p, 5);
  const sh = g(p, 6), sw = g(p, 7), pt = g(p, 8), pl = g(p, 9), oh = g(p, 10), ow = g(p, 11);
  const init = avg ? f32x4.splat(0) : f32x4.splat(-Infinity);
  for (let u = begin; u < end; u++) {
    const b = u / oh, oy = u - b * oh;
    const y0 = oy * sh - pt;
    const ky0 = max(0, -y0), ky1 = min(kh, h - y0);
    for (let ox = 0; ox < ow; ox++) {
      const x0 = ox * sw - pl;
      const kx0 = max(0, -x0), kx1 = min(kw, w - x0);
      const cnt = <f32>(max(0, ky1 - ky0) * max(0, kx1 - kx0));
      const out = fptr(y, (u * ow + ox) * c);
      // The window's first valid cell and its extent in bytes (rows of rs, cells of cs).
      const first = fptr(x, ((b * h + y0 + ky0) * w + x0 + kx0) * c), rs = <usize>(w * c) << 2, cs = <usize>c << 2;
      const rEnd = first + <usize>max(0, ky1 - ky0) * rs, cEnd = <usize>max(0, kx1 - kx0) * cs;
      let ch = 0;
      for (; ch + 4 <= c; ch += 4) {
        let acc = init;
        for (let row = first + (<usize>ch << 2); row < rEnd; row += rs) {
          for (let o: usize = 0; o < cEnd; o += cs) {
            const v = v128.load(row + o);
            acc = avg ? f32x4.add(acc, v) : f32x4.max(acc, v);
          }
        }
        if (avg) acc = f32x4.div(acc, f32x4.splat(cnt));
        v128.store(out + (<usize>ch << 2), acc);
      }
      for (; ch < c; ch++) {
        let acc: f32 = avg ? 0 : -Infinity;
        for (let ky = ky0; ky < ky1; ky++) {
          const row = fptr(x, ((b * h + y0 + ky) * w + x0) * c + ch);
          for (let kx = kx0; kx < kx1; kx++) {
            const v = load<f32>(row + (<usize>(kx * c) << 2));
            acc = avg ? acc + v : max<f32>(acc, v);
          }
        }
        store<f32>(out + (<usize>ch << 2), avg ? acc / cnt : acc);
      }
    }
  }
}

/** y[N,OH,OW,C] = max over each window of x[N,H,W,C] (NaN propagates); partition over N·OH output rows. */
export function pool_max(x: usize, y: usize, p: usize, begin: i32, end: i32, scratch: usize): void {
  poolFwd(false, x, y, p, begin, end);
}

/** y[N,OH,OW,C] = mean over each window's valid cells of x[N,H,W,C]; partition over N·OH output rows. */
export function pool_avg(x: usize, y: usize, p: usize, begin: i32, end: i32, scratch: usize): void {
  poolFwd(true, x, y, p, begin, end);
}

/** True where v beats the best so far: greater, or NaN when the best is not (NaN counts as maximal). */
// @ts-ignore: decorator
@inline function beatsVec(v: v128, best: v128): v128 {
  return v128.or(f32x4.gt(v, best), v128.and(f32x4.ne(v, v), f32x4.eq(best, best)));
}

/**
 * dx[N,H,W,C] = dy[N,OH,OW,C] routed to the first maximum (window order) of each window of x; overwrites dx.
 * rowMode != 0 (only when SH ≥ KH, so windows of different output rows never share input rows): a unit is
 * one output row (N·OH units), owning input rows [lo(oy), lo(oy+1)). Otherwise a unit is one image (N units).
 */
export function pool_max_grad(x: usize, dy: usize, dx: usize, p: usize, rowMode: i32, begin: i32, end: i32, scratch: usize): void {
  const h = g(p, 1), w = g(p, 2), c = g(p, 3), kh = g(p, 4), kw = g(p, 5);
  const sh = g(p, 6), sw = g(p, 7), pt = g(p, 8), pl = g(p, 9), oh = g(p, 10), ow = g(p, 11);
  if (rowMode && sh == kh && sw == kw && pt == 0 && pl == 0 && oh * kh <= h && ow * kw <= w && (c & 3) == 0) {
    maxGradTiled(x, dy, dx, h, w, c, kh, kw, oh, ow, -1, 0, begin, end);
    return;
  }
  const per = rowMode ? oh : 1;
  for (let u = begin; u < end; u++) {
    const b = u / per;
    const oyA = rowMode ? u - b * per : 0, oyB = rowMode ? oyA + 1 : oh;
    const rA = rowMode ? (oyA == 0 ? 0 : min(max(oyA * sh - pt, 0), h)) : 0;
    const rB = rowMode ? (oyB == oh ? h : min(max(oyB * sh - pt, 0), h)) : h;
    if (rB > rA) memory.fill(fptr(dx, (b * h + rA) * w * c), 0, <usize>((rB - rA) * w * c) << 2);
    for (let oy = oyA; oy < oyB; oy++) {
      const y0 = oy * sh - pt;
      const ky0 = max(0, -y0), ky1 = min(kh, h - y0);
      if (ky1 <= ky0) continue;
      for (let ox = 0; ox < ow; ox++) {
        const x0 = ox * sw - pl;
        const kx0 = max(0, -x0), kx1 = min(kw, w - x0);
        if (kx1 <= kx0) continue;
        const first = ((b * h + y0 + ky0) * w + x0 + kx0) * c; // element offset of the first valid cell, channel 0
        const gy = fptr(dy, ((b * oh + oy) * ow + ox) * c);
        let ch = 0;
        for (; ch + 4 <= c; ch += 4) {
          let best = v128.load(fptr(x, first + ch));
          let bi = i32x4.splat(first);
          for (let ky = ky0; ky < ky1; ky++) {
            for (let kx = ky == ky0 ? kx0 + 1 : kx0; kx < kx1; kx++) {
              const off = ((b * h + y0 + ky) * w + x0 + kx) * c;
              const v = v128.load(fptr(x, off + ch));
              const m = beatsVec(v, best);
              best = v128.bitselect(v, best, m);
              bi = v128.bitselect(i32x4.splat(off), bi, m);
            }
          }
          const gv = v128.load(gy + (<usize>ch << 2));
          let q = fptr(dx, i32x4.extract_lane(bi, 0) + ch);
          store<f32>(q, load<f32>(q) + f32x4.extract_lane(gv, 0));
          q = fptr(dx, i32x4.extract_lane(bi, 1) + ch + 1);
          store<f32>(q, load<f32>(q) + f32x4.extract_lane(gv, 1));
          q = fptr(dx, i32x4.extract_lane(bi, 2) + ch + 2);
          store<f32>(q, load<f32>(q) + f32x4.extract_lane(gv, 2));
          q = fptr(dx, i32x4.extract_lane(bi, 3) + ch + 3);
          store<f32>(q, load<f32>(q) + f32x4.extract_lane(gv, 3));
        }
        for (; ch < c; ch++) {
          let best = load<f32>(fptr(x, first + ch));
          let bi = first;
          for (let ky = ky0; ky < ky1; ky++) {
            for (let kx = ky == ky0 ? kx0 + 1 : kx0; kx < kx1; kx++) {
              const off = ((b * h + y0 + ky) * w + x0 + kx) * c;
              const v = load<f32>(fptr(x, off + ch));
              if (v > best || (v != v && best == best)) { best = v; bi = off; }
            }
          }
          const q = fptr(dx, bi + ch);
          store<f32>(q, load<f32>(q) + load<f32>(gy + (<usize>ch << 2)));
        }
      }
    }
  }
}

/** True in the lanes where v is the window's maximum `best` (equal, or both NaN). */
// @ts-ignore: decorator
@inline function isBest(v: v128, best: v128): v128 {
  return v128.or(f32x4.eq(v, best), v128.and(f32x4.ne(v, v), f32x4.ne(best, best)));
}

/**
 * pool_max_grad where the windows tile the input (SH = KH, SW = KW, no padding, every window inside) and C % 4 = 0,
 * over output rows [begin, end): each dx cell is written once, dy at its window's first maximum and +0 elsewhere
 * (as 0 + dy would give), with no fill and no scatter. With act ≥ 0 (a BiasAct code) each cell is then multiplied by
 * act' at x (x = act's output: actGradVec), and part[u][C] (part ≠ 0) gets the column sums of unit u's cells.
 */
function maxGradTiled(x: usize, dy: usize, dx: usize, h: i32, w: i32, c: i32, kh: i32, kw: i32, oh: i32, ow: i32,
  act: i32, part: usize, begin: i32, end: i32): void {
  const rs = <usize>(w * c) << 2, cs = <usize>c << 2, win = <usize>kh * rs, zero = f32x4.splat(0);
  for (let u = begin; u < end; u++) {
    const b = u / oh, oy = u - b * oh, r0 = oy * kh, rEnd = oy == oh - 1 ? h : r0 + kh;
    const at = <usize>((b * h + r0) * w * c) << 2, xr = x + at, dr = dx + at, gy = fptr(dy, u * ow * c);
    const pu = part + <usize>u * cs;
    if (part) memory.fill(pu, 0, cs);
    for (let ox = 0; ox < ow; ox++) {
      const wo = <usize>(ox * kw) * cs, g0 = gy + <usize>ox * cs;
      for (let o: usize = 0; o < cs; o += 16) {
        const xo = xr + wo + o, dq = dr + wo + o;
        let best = v128.load(xo);
        for (let r: usize = 0; r < win; r += rs) {
          for (let q: usize = r == 0 ? cs : 0; q < <usize>kw * cs; q += cs) {
            const v = v128.load(xo + r + q);
            best = v128.bitselect(v, best, beatsVec(v, best));
          }
        }
        const gv = v128.load(g0 + o);
        let taken = zero, sum = zero;
        for (let r: usize = 0; r < win; r += rs) {
          for (let q: usize = 0; q < <usize>kw * cs; q += cs) {
            const v = v128.load(xo + r + q), hit = v128.andnot(isBest(v, best), taken);
            let d = f32x4.add(zero, v128.and(gv, hit));
            if (act >= 0) d = actGradVec(act, d, v);
            v128.store(dq + r + q, d);
            sum = f32x4.add(sum, d);
            taken = v128.or(taken, hit);
          }
        }
        if (part) v128.store(pu + o, f32x4.add(v128.load(pu + o), sum));
      }
    }
    // Cells no window covers: the columns right of the last window, the rows below the last (0, through act').
    const covered = <usize>(ow * kw) * cs;
    for (let r: usize = 0; r < <usize>(rEnd - r0) * rs; r += rs) {
      for (let q = r < win ? covered : 0; q < rs; q += 16) {
        if (act < 0) {
          v128.store(dr + r + q, zero);
          continue;
        }
        const d = actGradVec(act, zero, v128.load(xr + r + q)), po = pu + q % cs;
        v128.store(dr + r + q, d);
        if (part) v128.store(po, f32x4.add(v128.load(po), d));
      }
    }
  }
}

/**
 * The gradient of max pooling followed by the gradient of the activation that made x, over output rows [begin, end),
 * for windows that tile the input (SH = KH, SW = KW, no padding, every window inside) and C % 4 = 0:
 * dx[N,H,W,C] = act'(x)·(dy routed to each window's first maximum) (act a BiasAct code, x = act's output), to the bit of
 * pool_max_grad then ew_bias_act_grad; part[N·OH, C] = the column sums of dx over each output row's input rows.
 */
export function pool_max_grad_act(x: usize, dy: usize, dx: usize, part: usize, p: usize, act: i32, begin: i32, end: i32, scratch: usize): void {
  maxGradTiled(x, dy, dx, g(p, 1), g(p, 2), g(p, 3), g(p, 4), g(p, 5), g(p, 10), g(p, 11), act, part, begin, end);
}

/**
 * dx[N,H,W,C] = Σ dy[N,OH,OW,C]/count over the windows containing each cell (gather form, oy then ox order);
 * overwrites dx; partition over the N·H input rows.
 */
export function pool_avg_grad(dy: usize, dx: usize, p: usize, begin: i32, end: i32, scratch: usize): void {
  const h = g(p, 1), w = g(p, 2), c = g(p, 3), kh = g(p, 4), kw = g(p, 5);
  const sh = g(p, 6), sw = g(p, 7), pt = g(p, 8), pl = g(p, 9), oh = g(p, 10), ow = g(p, 11);
  for (let u = begin; u < end; u++) {
    const b = u / h, iy = u - b * h;
    // windows oy with oy·SH - PT ≤ iy < oy·SH - PT + KH
    const oyA = max(0, floorDiv(iy + pt - kh, sh) + 1), oyB = min(oh, floorDiv(iy + pt, sh) + 1);
    for (let ix = 0; ix < w; ix++) {
      const oxA = max(0, floorDiv(ix + pl - kw, sw) + 1), oxB = min(ow, floorDiv(ix + pl, sw) + 1);
      const out = fptr(dx, (u * w + ix) * c);
      let ch = 0;
      for (; ch + 4 <= c; ch += 4) {
        let acc = f32x4.splat(0);
        for (let oy = oyA; oy < oyB; oy++) {
          const y0 = oy * sh - pt;
          const ny = min(kh, h - y0) - max(0, -y0);
          for (let ox = oxA; ox < oxB; ox++) {
            const x0 = ox * sw - pl;
            const cnt = <f32>(ny * (min(kw, w - x0) - max(0, -x0)));
            const v = v128.load(fptr(dy, ((b * oh + oy) * ow + ox) * c + ch));
            acc = f32x4.add(acc, f32x4.div(v, f32x4.splat(cnt)));
          }
        }
        v128.store(out + (<usize>ch << 2), acc);
      }
      for (; ch < c; ch++) {
        let acc: f32 = 0;
        for (let oy = oyA; oy < oyB; oy++) {
          const y0 = oy * sh - pt;
          const ny = min(kh, h - y0) - max(0, -y0);
          for (let ox = oxA; ox < oxB; ox++) {
            const x0 = ox * sw - pl;
            const cnt = <f32>(ny * (min(kw, w - x0) - max(0, -x0)));
            acc += load<f32>(fptr(dy, ((b * oh + oy) * ow + ox) * c + ch)) / cnt;
          }
        }
        store<f32>(out + (<usize>ch << 2), acc);
      }
    }
  }
}

/** ⌊a / b⌋ for b > 0. */
// @ts-ignore: decorator
@inline function floorDiv(a: i32, b: i32): i32 {
  const q = a / b;
  return q * b > a ? q - 1 : q;
}
