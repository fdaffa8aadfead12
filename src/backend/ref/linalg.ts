// Reference GEMM and 2-D convolution (forward, grad-input, grad-filter) as plain loops, summed in float64.
//
// Legend: N batch, H/W input height/width, C input channels, F filters, KH/KW kernel size,
// OH/OW output size, M/K/Nc GEMM dims. Every sum is taken in float64 and rounded to float32 once.

import type { Conv2DParams, GemmParams } from '../backend.js';

/** Batched C_b[M,Nc] (+)= op(A_b)[M,K]·op(B_b)[K,Nc]; the k-sum is float64, then C is rounded once. */
export function gemm(a: Float32Array, b: Float32Array, c: Float32Array, p: GemmParams): void {
  const { batch, m, n, k, transA, transB, strideA, strideB, strideC, accumulate } = p;
  for (let bi = 0; bi < batch; bi++) {
    const oa = bi * strideA;
    const ob = bi * strideB;
    const oc = bi * strideC;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let acc = 0;
        for (let q = 0; q < k; q++) {
          const av = transA ? a[oa + q * m + i] : a[oa + i * k + q];
          const bv = transB ? b[ob + j * k + q] : b[ob + q * n + j];
          acc += av * bv;
        }
        c[oc + i * n + j] = accumulate ? c[oc + i * n + j] + acc : acc;
      }
    }
  }
}

/** Input row/column read by output position `o` and kernel tap `t`, or -1 when it falls in the padding. */
function inputPos(o: number, t: number, stride: number, dilation: number, pad: number, size: number): number {
  const i = o * stride - pad + t * dilation;
  return i >= 0 && i < size ? i : -1;
}

/**
 * Calls `visit(xIndex, wIndex, yIndex)` for every (output cell, kernel tap, channel, filter) whose input
 * cell is inside the image, in the order n, oh, ow, kh, kw, c, f. Indices are flat offsets into x, w, y.
 */
function forEachTap(p: Conv2DParams, visit: (xi: number, wi: number, yi: number) => void): void {
  const { n, h, w, c, f, kh, kw, oh, ow } = p;
  for (let b = 0; b < n; b++) {
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        const yBase = ((b * oh + oy) * ow + ox) * f;
        for (let ty = 0; ty < kh; ty++) {
          const iy = inputPos(oy, ty, p.strideH, p.dilationH, p.padTop, h);
          if (iy < 0) continue;
          for (let tx = 0; tx < kw; tx++) {
            const ix = inputPos(ox, tx, p.strideW, p.dilationW, p.padLeft, w);
            if (ix < 0) continue;
            const xBase = ((b * h + iy) * w + ix) * c;
            const wBase = (ty * kw + tx) * c * f;
            for (let ch = 0; ch < c; ch++) {
              for (let fi = 0; fi < f; fi++) visit(xBase + ch, wBase + ch * f + fi, yBase + fi);
            }
          }
        }
      }
    }
  }
}

/** y[N,OH,OW,F] = Σ x[N,H,W,C]·w[KH,KW,C,F] over the taps; padded cells read as zero. */
export function conv2d(x: Float32Array, w: Float32Array, y: Float32Array, p: Conv2DParams): void {
  const acc = new Float64Array(p.n * p.oh * p.ow * p.f);
  forEachTap(p, (xi, wi, yi) => {
    acc[yi] += x[xi] * w[wi];
  });
  y.set(acc);
}

/** dx[N,H,W,C] = Σ dy[N,OH,OW,F]·w[KH,KW,C,F] over the taps that read each input cell (overwrites dx). */
export function conv2dGradInput(dy: Float32Array, w: Float32Array, dx: Float32Array, p: Conv2DParams): void {
  const acc = new Float64Array(p.n * p.h * p.w * p.c);
  forEachTap(p, (xi, wi, yi) => {
    acc[xi] += dy[yi] * w[wi];
  });
  dx.set(acc);
}

/** dw[KH,KW,C,F] = Σ x[N,H,W,C]·dy[N,OH,OW,F] over the output cells that use each tap (overwrites dw). */
export function conv2dGradFilter(x: Float32Array, dy: Float32Array, dw: Float32Array, p: Conv2DParams): void {
  const acc = new Float64Array(p.kh * p.kw * p.c * p.f);
  forEachTap(p, (xi, wi, yi) => {
    acc[wi] += x[xi] * dy[yi];
  });
  dw.set(acc);
}
