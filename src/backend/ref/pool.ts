// Reference max/avg 2-D pooling and their gradients (NHWC) as plain loops.
//
// Legend: N batch, H/W input size, C channels, KH/KW window, OH/OW output size.
// Padded cells are skipped: they never win a max and avg divides by the number of valid cells.
// A window with no valid cell gives max -Inf and avg NaN (0/0) and receives no gradient.

import type { Pool2DParams } from '../backend.js';

/**
 * Flat x offsets of the valid cells of window (b, oy, ox) for channel 0, in window order (kh, then kw).
 * Add the channel to each offset.
 */
function windowCells(p: Pool2DParams, b: number, oy: number, ox: number): number[] {
  const cells: number[] = [];
  for (let ty = 0; ty < p.kh; ty++) {
    const iy = oy * p.strideH - p.padTop + ty;
    if (iy < 0 || iy >= p.h) continue;
    for (let tx = 0; tx < p.kw; tx++) {
      const ix = ox * p.strideW - p.padLeft + tx;
      if (ix < 0 || ix >= p.w) continue;
      cells.push(((b * p.h + iy) * p.w + ix) * p.c);
    }
  }
  return cells;
}

/** Calls `visit(cells, yIndex)` for every output cell (n, oh, ow), yIndex being its channel-0 offset in y. */
function forEachWindow(p: Pool2DParams, visit: (cells: number[], yi: number) => void): void {
  for (let b = 0; b < p.n; b++) {
    for (let oy = 0; oy < p.oh; oy++) {
      for (let ox = 0; ox < p.ow; ox++) visit(windowCells(p, b, oy, ox), ((b * p.oh + oy) * p.ow + ox) * p.c);
    }
  }
}

/** Offset in x of the first maximum among `cells` (+ channel ch); NaN counts as maximal; -1 if no cell. */
function firstMax(x: Float32Array, cells: number[], ch: number): number {
  let best = -1;
  for (const cell of cells) {
    const i = cell + ch;
    if (best < 0) {
      best = i;
    } else if (Number.isNaN(x[best])) {
      break;
    } else if (Number.isNaN(x[i]) || x[i] > x[best]) {
      best = i;
    }
  }
  return best;
}

/** y[N,OH,OW,C] = max over each window's valid cells of x[N,H,W,C] (NaN propagates). */
export function maxPool2d(x: Float32Array, y: Float32Array, p: Pool2DParams): void {
  forEachWindow(p, (cells, yi) => {
    for (let ch = 0; ch < p.c; ch++) {
      const i = firstMax(x, cells, ch);
      y[yi + ch] = i < 0 ? -Infinity : x[i];
    }
  });
}

/** dx[N,H,W,C] = Σ of dy over the windows whose first maximum is that cell (overwrites dx; float64 sums). */
export function maxPool2dGrad(x: Float32Array, dy: Float32Array, dx: Float32Array, p: Pool2DParams): void {
  const acc = new Float64Array(p.n * p.h * p.w * p.c);
  forEachWindow(p, (cells, yi) => {
    for (let ch = 0; ch < p.c; ch++) {
      const i = firstMax(x, cells, ch);
      if (i >= 0) acc[i] += dy[yi + ch];
    }
  });
  dx.set(acc);
}

/** y[N,OH,OW,C] = mean over each window's valid cells of x[N,H,W,C] (float64 sum). */
export function avgPool2d(x: Float32Array, y: Float32Array, p: Pool2DParams): void {
  forEachWindow(p, (cells, yi) => {
    for (let ch = 0; ch < p.c; ch++) {
      let sum = 0;
      for (const cell of cells) sum += x[cell + ch];
      y[yi + ch] = sum / cells.length;
    }
  });
}

/** dx[N,H,W,C] = Σ dy/count over the windows containing that cell (overwrites dx; float64 sums). */
export function avgPool2dGrad(dy: Float32Array, dx: Float32Array, p: Pool2DParams): void {
  const acc = new Float64Array(p.n * p.h * p.w * p.c);
  forEachWindow(p, (cells, yi) => {
    for (let ch = 0; ch < p.c; ch++) {
      const share = dy[yi + ch] / cells.length;
      for (const cell of cells) acc[cell + ch] += share;
    }
  });
  dx.set(acc);
}
