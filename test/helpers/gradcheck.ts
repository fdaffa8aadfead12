// Finite-difference gradient checks for ops and layers.
import assert from 'node:assert/strict';
import { Random } from '../../src/core/random.js';
import { tidy } from '../../src/core/engine.js';
import { valueAndGrads } from '../../src/core/tape.js';
import { mul, sum, tensor } from '../../src/core/ops/index.js';
import type { Tensor } from '../../src/core/tensor.js';

/** Options of {@link checkGradients}. */
export interface GradCheckOptions {
  /** Step of the central difference, relative to max(1, |x|). */
  eps?: number;
  /** Allowed |analytic − numeric| ≤ atol + rtol·max(|analytic|, |numeric|). */
  rtol?: number;
  atol?: number;
  /** Seed of the random projection of the output. */
  seed?: number;
  /** Check at most this many coordinates of each input (spread evenly). */
  maxCoords?: number;
}

/**
 * Compares the autodiff gradient of L = Σ f(xs)·R (R a fixed random tensor) with central differences
 * at every (or `maxCoords`) coordinates of each float32 input. Throws an AssertionError naming the
 * input, coordinate and both values on a mismatch.
 */
export function checkGradients(name: string, f: (...xs: Tensor[]) => Tensor, xs: Tensor[], o: GradCheckOptions = {}): void {
  const eps = o.eps ?? 1e-2;
  const rtol = o.rtol ?? 2e-2;
  const atol = o.atol ?? 2e-3;
  tidy(() => {
    const y0 = f(...xs);
    const rng = new Random(o.seed ?? 7);
    const r = tensor(Float32Array.from({ length: y0.size }, () => rng.uniform() * 2 - 1), y0.shape);
    const loss = (...a: Tensor[]): Tensor => sum(mul(f(...a), r));
    const { grads } = valueAndGrads(() => loss(...xs), xs);
    xs.forEach((x, k) => {
      if (x.dtype !== 'float32') return;
      const base = x.f32();
      const analytic = grads[k].f32();
      const step = Math.max(1, Math.floor(x.size / (o.maxCoords ?? 64)));
      for (let i = 0; i < x.size; i += step) {
        const h = eps * Math.max(1, Math.abs(base[i]));
        const at = (v: number): number =>
          tidy(() => {
            const d = base.slice();
            d[i] = v;
            const xi = tensor(d, x.shape);
            return loss(...xs.map((t, j) => (j === k ? xi : t))).item();
          });
        const numeric = (at(base[i] + h) - at(base[i] - h)) / (2 * h);
        const a = analytic[i];
        const ok = Math.abs(a - numeric) <= atol + rtol * Math.max(Math.abs(a), Math.abs(numeric));
        assert.ok(ok, `${name}: d/d input ${k} [${i}] analytic ${a} vs numeric ${numeric}`);
      }
    });
  });
}
