// Winograd convolutions (3×3, stride 1, dilation 1) on the wasm backend against RefBackend on awkward shapes; the
// geometries that take them; 1, 2 and 3 threads bit-identical.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Backend, Conv2DParams } from '../../src/backend/backend.js';
import { RefBackend } from '../../src/backend/ref/ref.js';
import { winogradFits, winogradTile } from '../../src/backend/wasm/winograd.js';
import { abs, f32Out, runOn, wasmBackends } from '../helpers/backends.js';
import { compareBits, compareClose, Failures, scaledTol } from '../helpers/compare.js';
import { convLabel, convP } from '../helpers/conv.js';
import { Rng } from '../helpers/random.js';

const ref = new RefBackend();
const wasm = wasmBackends(1, 2, 3);

/**
 * Tolerance per √(summed terms), relative to Σ|terms|: float32 rounding (2⁻²⁴) times 256, the worst-case growth of
 * F(4×4,3×3)'s transforms in 2-D (Σ_ξ |Aᵀ_iξ|·Σ|G_ξ·|·Σ|Bᵀ_ξ·| / 3 = 16 per dimension; the grad filter's and the grad
 * input's are 13.3 and 12.5; F(2×2,3×3)'s 2.7). Direct summation needs 2⁻²⁴·√terms; the plain conv test uses 1e-6.
 * Σ|terms| is taken as its largest value within 5 pixels (see {@link tileScale}).
 */
const WINO_RTOL = 256 * 2 ** -24;

/**
 * The largest of scale[n, r, q, c] within ±5 along r and q ([N,R,Q,Ch]): a Winograd result is computed from its whole
 * tile's transformed window (≤ 6 pixels wide), so its rounding follows the magnitudes there, not only its own terms.
 */
function tileScale(scale: ArrayLike<number>, [n, rows, cols, ch]: number[]): Float32Array {
  const out = new Float32Array(scale.length);
  const at = (i: number, r: number, q: number, c: number) => ((i * rows + r) * cols + q) * ch + c;
  for (let i = 0; i < n; i++) for (let r = 0; r < rows; r++) for (let q = 0; q < cols; q++) for (let c = 0; c < ch; c++) {
    let m = 0;
    for (let a = Math.max(0, r - 5); a <= Math.min(rows - 1, r + 5); a++) {
      for (let b = Math.max(0, q - 5); b <= Math.min(cols - 1, q + 5); b++) m = Math.max(m, scale[at(i, a, b, c)]);
    }
    out[at(i, r, q, c)] = m;
  }
  return out;
}

/** Geometries that take the Winograd kernels (≥ 256 output pixels in all), chosen to hit every edge. */
const CASES: Conv2DParams[] = [
  convP([29, 5, 5, 5], [3, 3, 5, 7]), // output 3×3, smaller than one 4×4 tile; C, F odd
  convP([256, 1, 1, 4], [3, 3, 4, 4], [1, 1], [1, 1], 'same'), // 1×1 images: all taps but the centre in the padding; F(2×2)
  convP([64, 4, 4, 6], [3, 3, 6, 9]), // output 2×2: F(2×2); F past one 8-wide panel
  convP([7, 7, 6, 9], [3, 3, 9, 13], [1, 1], [1, 1], 'same'),
  convP([4, 10, 9, 12], [3, 3, 12, 10], [1, 1], [1, 1], [0, 2, 2, 1]), // asymmetric padding
  convP([4, 6, 8, 7], [3, 3, 7, 5], [1, 1], [1, 1], [3, 1, 0, 3]), // padding 3: grad input over dy's tiles
  convP([3, 9, 9, 6], [3, 3, 6, 4], [1, 1], [1, 1], [2, 2, 2, 2]), // output larger than the input
  convP([1, 30, 29, 4], [3, 3, 4, 8]), // N = 1, 49 tiles: several blocks per thread
  convP([8, 6, 6, 33], [3, 3, 33, 17], [1, 1], [1, 1], 'same'),
  convP([4, 13, 13, 32], [3, 3, 32, 64]), // the reference CNN's second layer
  convP([4, 13, 13, 32], [3, 3, 32, 64], [1, 1], [1, 1], 'same'),
];

test('winogradFits: 3×3, stride 1, dilation 1, C and F ≥ 4, ≥ 256 output pixels only; tiles of 4 unless 2 wastes less', () => {
  for (const p of CASES) assert.ok(winogradFits(p), convLabel(p));
  const not = [
    convP([8, 9, 9, 8], [3, 3, 8, 8], [2, 2]), convP([8, 9, 9, 8], [3, 3, 8, 8], [1, 1], [2, 2]),
    convP([8, 9, 9, 8], [3, 2, 8, 8]), convP([8, 9, 9, 8], [5, 5, 8, 8]), convP([8, 9, 9, 3], [3, 3, 3, 8]),
    convP([8, 9, 9, 8], [3, 3, 8, 3]), convP([0, 9, 9, 8], [3, 3, 8, 8]), convP([1, 13, 13, 32], [3, 3, 32, 64]),
  ];
  for (const p of not) assert.ok(!winogradFits(p), convLabel(p));
  assert.deepEqual([[11, 11], [13, 13], [3, 3], [2, 2], [1, 1], [6, 6], [12, 12]].map(([h, w]) => winogradTile(h, w)), [4, 4, 4, 2, 2, 2, 4]);
});

test('Winograd conv2d, conv2dGradInput, conv2dGradFilter: wasm matches ref, and 1, 2 and 3 threads agree bit for bit', (t) => {
  const rng = new Rng(16);
  const fs = { fwd: new Failures('conv2d'), dx: new Failures('conv2dGradInput'), dw: new Failures('conv2dGradFilter') };
  const bits = new Failures('threads');
  for (const p of CASES) {
    const nx = p.n * p.h * p.w * p.c, nw = 9 * p.c * p.f, ny = p.n * p.oh * p.ow * p.f;
    const x = rng.normals(nx), w = rng.normals(nw), dy = rng.normals(ny);
    const label = convLabel(p);
    const run = (be: Backend, kernel: 'conv2d' | 'conv2dGradInput' | 'conv2dGradFilter', a: Float32Array, b: Float32Array, len: number) =>
      runOn(be, [a, b], [f32Out(len)], ([i0, i1, o]) => be[kernel](i0, i1, o, p)).outs[0];
    const check = (f: Failures, kernel: 'conv2d' | 'conv2dGradInput' | 'conv2dGradFilter', a: Float32Array, b: Float32Array, len: number, terms: number, shape: number[]) => {
      const scale = tileScale(run(ref, kernel, abs(a), abs(b), len), shape);
      const [one, two, three] = wasm.map((be) => run(be, kernel, a, b, len));
      f.add(label, compareClose(two, run(ref, kernel, a, b, len), scaledTol(scale, WINO_RTOL * Math.sqrt(terms), 1e-30)));
      bits.add(`${kernel} ${label} 1 vs 2`, compareBits(two, one));
      bits.add(`${kernel} ${label} 1 vs 3`, compareBits(three, one));
    };
    check(fs.fwd, 'conv2d', x, w, ny, 9 * p.c, [p.n, p.oh, p.ow, p.f]);
    check(fs.dx, 'conv2dGradInput', dy, w, nx, 9 * p.f, [p.n, p.h, p.w, p.c]);
    check(fs.dw, 'conv2dGradFilter', x, dy, nw, p.n * p.oh * p.ow, [1, 3, 3, p.c * p.f]);
  }
  for (const f of [...Object.values(fs), bits]) t.diagnostic(f.summary());
  for (const f of [...Object.values(fs), bits]) f.assertNone();
});

test('Winograd forward: an output whose 3×3 taps read only zeros is exactly 0 (or act(bias)), as a direct sum gives it', (t) => {
  const rng = new Rng(17);
  const bits = new Failures('zeros');
  for (const p of [convP([4, 13, 13, 32], [3, 3, 32, 64]), convP([3, 12, 11, 6], [3, 3, 6, 9], [1, 1], [1, 1], 'same'), convP([64, 4, 4, 5], [3, 3, 5, 4])]) {
    assert.ok(winogradFits(p), convLabel(p));
    // Random images with a background (±0): every fourth image, the rows below h/2, and every third other pixel.
    const x = rng.normals(p.n * p.h * p.w * p.c);
    for (let i = 0; i < x.length; i++) {
      const pix = Math.floor(i / p.c), col = pix % p.w, row = Math.floor(pix / p.w) % p.h, n = Math.floor(pix / (p.w * p.h));
      if (n % 4 === 3 || row >= p.h / 2 || (row * p.w + col) % 3 === 0) x[i] = i % 2 ? 0 : -0;
    }
    const w = rng.normals(9 * p.c * p.f), b = rng.normals(p.f), ny = p.n * p.oh * p.ow * p.f;
    const zero = (i: number): boolean => {
      const pix = Math.floor(i / p.f), ow = pix % p.ow, oh = Math.floor(pix / p.ow) % p.oh, n = Math.floor(pix / (p.ow * p.oh));
      for (let a = 0; a < 3; a++) {
        for (let c = 0; c < 3; c++) {
          const ih = oh - p.padTop + a, iw = ow - p.padLeft + c;
          if (ih < 0 || iw < 0 || ih >= p.h || iw >= p.w) continue;
          for (let k = 0; k < p.c; k++) if (x[((n * p.h + ih) * p.w + iw) * p.c + k] !== 0) return false;
        }
      }
      return true;
    };
    const [y] = runOn(wasm[1], [x, w], [f32Out(ny)], ([a, k, o]) => wasm[1].conv2d(a, k, o, p)).outs;
    const [yb] = runOn(wasm[1], [x, w, b], [f32Out(ny)], ([a, k, c, o]) => wasm[1].conv2dBiasAct(a, k, c, o, p, 'relu')).outs;
    let zeros = 0, bad = 0;
    for (let i = 0; i < ny; i++) {
      if (!zero(i)) continue;
      zeros++;
      if (!Object.is(y[i], 0) || !Object.is(yb[i], Math.max(0, b[i % p.f]))) bad++;
    }
    assert.ok(zeros > ny / 8, `${convLabel(p)}: ${zeros} of ${ny} outputs read only zeros`);
    bits.add(convLabel(p), bad === 0 ? { bad: 0, worstRatio: 0, message: undefined } : { bad, worstRatio: Infinity, message: `${bad} of ${zeros} all-zero outputs not exactly 0 / relu(bias)` });
  }
  t.diagnostic(bits.summary());
  bits.assertNone();
});
