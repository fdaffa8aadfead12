// Attention's masked softmax and its gradient on the wasm backend against RefBackend: awkward sizes, causal, masks, empty rows; 1- vs 2-thread bits.
import { test } from 'node:test';
import type { MaskedSoftmaxParams } from '../../src/backend/backend.js';
import { RefBackend } from '../../src/backend/ref/ref.js';
import { f32Out, pairOn, runOn, wasmBackends } from '../helpers/backends.js';
import { compareBits, compareClose, Failures, relTol } from '../helpers/compare.js';
import { Rng } from '../helpers/random.js';

const ref = new RefBackend();
const [wasm, wasm1] = wasmBackends(2, 1);
const both = pairOn(ref, wasm);

/** [outer, heads, tq, cols]: size 1, odd, not multiples of 4, Tq ≠ Tv, and one large enough to split over threads. */
const SHAPES = [[1, 1, 1, 1], [2, 3, 5, 7], [1, 2, 9, 4], [3, 1, 6, 13], [2, 2, 4, 9], [2, 4, 64, 64], [4, 2, 33, 70]];

test('maskedSoftmax and maskedSoftmaxGrad: wasm matches ref (causal, masks with empty rows, odd sizes)', (t) => {
  const rng = new Rng(21);
  const fwd = new Failures('maskedSoftmax');
  const bwd = new Failures('maskedSoftmaxGrad');
  for (const [outer, heads, tq, cols] of SHAPES) {
    const rows = outer * heads * tq;
    const x = rng.normals(rows * cols, 3);
    // Mask ~20 % zeros, and query step 0 of sample 0 entirely masked.
    const mask = Float32Array.from(rng.uniforms(outer * tq * cols, 0, 1), (u, i) => (u < 0.2 || i < cols ? 0 : 1));
    const g = rng.normals(rows * cols);
    // Any y in [0, 1) (not a softmax's, so nothing is zero beyond a row's causal span: the span's edge counts).
    const y = rng.uniforms(rows * cols);
    for (const causal of [false, true]) {
      for (const masked of [false, true]) {
        const p: MaskedSoftmaxParams = { rows, cols, tq, heads, scale: 0.35, causal };
        const label = `[${outer},${heads},${tq},${cols}] causal=${causal} mask=${masked}`;
        const [r, w] = both(masked ? [x, mask] : [x], [f32Out(rows * cols)], (be, b) => be.maskedSoftmax(b[0], masked ? b[1] : null, b[b.length - 1], p));
        // float32 exp (≲ 5e-7) and the float32 scale·x (|z| ≲ 4: ≲ 2e-7·|z| absolute, ≲ 1e-6 relative on e^z).
        fwd.add(label, compareClose(w.outs[0], r.outs[0], relTol(2e-6, 1e-7)));
        const [rg, wg] = both([g, y], [f32Out(rows * cols)], (be, [gb, yb, dx]) => be.maskedSoftmaxGrad(gb, yb, dx, p));
        // g − c cancels: absolute at the scale of |g|·y.
        bwd.add(label, compareClose(wg.outs[0], rg.outs[0], relTol(1e-5, 1e-6)));
        if (rows >= 512 && !masked) {
          const one = runOn(wasm1, [x], [f32Out(rows * cols)], ([a, b]) => wasm1.maskedSoftmax(a, null, b, p)).outs[0];
          fwd.add(`${label} 1 vs 2 threads`, compareBits(w.outs[0], one));
          const oneG = runOn(wasm1, [g, y], [f32Out(rows * cols)], ([a, b, c]) => wasm1.maskedSoftmaxGrad(a, b, c, p)).outs[0];
          bwd.add(`${label} 1 vs 2 threads`, compareBits(wg.outs[0], oneG));
        }
      }
    }
  }
  for (const f of [fwd, bwd]) t.diagnostic(f.summary());
  fwd.assertNone();
  bwd.assertNone();
});
