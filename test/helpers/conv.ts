// Convolution geometry for tests: Conv2DParams from shapes, stride, dilation and padding, and a label.
import type { Conv2DParams } from '../../src/backend/backend.js';

export type Padding = 'same' | 'valid' | [number, number, number, number];

/** Conv geometry from shapes; 'same' pads like TF (extra row/column at the bottom/right). */
export function convP(x: number[], k: number[], stride = [1, 1], dil = [1, 1], pad: Padding = 'valid'): Conv2DParams {
  const [n, h, w, c] = x;
  const [kh, kw, , f] = k;
  const ext = (kk: number, d: number) => (kk - 1) * d + 1;
  let oh: number, ow: number, padTop: number, padLeft: number;
  if (pad === 'same') {
    oh = Math.ceil(h / stride[0]);
    ow = Math.ceil(w / stride[1]);
    padTop = Math.floor(Math.max((oh - 1) * stride[0] + ext(kh, dil[0]) - h, 0) / 2);
    padLeft = Math.floor(Math.max((ow - 1) * stride[1] + ext(kw, dil[1]) - w, 0) / 2);
  } else {
    const [t, b, l, r] = pad === 'valid' ? [0, 0, 0, 0] : pad;
    oh = Math.floor((h + t + b - ext(kh, dil[0])) / stride[0]) + 1;
    ow = Math.floor((w + l + r - ext(kw, dil[1])) / stride[1]) + 1;
    padTop = t;
    padLeft = l;
  }
  return { n, h, w, c, f, kh, kw, strideH: stride[0], strideW: stride[1], dilationH: dil[0], dilationW: dil[1], padTop, padLeft, oh, ow };
}

/** A one-line description of a geometry for failure messages. */
export function convLabel(p: Conv2DParams): string {
  return `x[${p.n},${p.h},${p.w},${p.c}] w[${p.kh},${p.kw},${p.c},${p.f}] s${p.strideH},${p.strideW} d${p.dilationH},${p.dilationW} pad${p.padTop},${p.padLeft} out${p.oh}x${p.ow}`;
}
