// Finite-difference gradient checks for ops, layers and sharing maps.
import assert from 'node:assert/strict';
import { Random } from '../../src/core/random.js';
import { tidy } from '../../src/core/engine.js';
import { valueAndGrads } from '../../src/core/tape.js';
import { mul, sum, tensor } from '../../src/core/ops/index.js';
import type { Tensor } from '../../src/core/tensor.js';
import type { WeightMap } from '../../src/sharing/weight-map.js';

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

/** Central differences of L = Σ W·R w.r.t. every θ coordinate against autodiff through materialize(). */
export function checkMapGradient(m: WeightMap): void {
  const rng = new Random(11);
  const R = tensor(Float32Array.from({ length: m.shape.reduce((a, b) => a * b, 1) }, () => rng.uniform() * 2 - 1), m.shape);
  const params = m.parameters().map((p) => p.value);
  const loss = (): number => tidy(() => sum(mul(m.materialize(), R)).item());
  const grads = tidy(() => valueAndGrads(() => sum(mul(m.materialize(), R)), params).grads.map((g) => g.f32()) as unknown as Tensor[]) as unknown as Float32Array[];
  params.forEach((p, k) => {
    const base = p.f32();
    const step = Math.max(1, Math.floor(base.length / 40));
    for (let i = 0; i < base.length; i += step) {
      const eps = 1e-2;
      const v = base.slice();
      v[i] = base[i] + eps;
      p.backend.write(p.buf, v);
      const up = loss();
      v[i] = base[i] - eps;
      p.backend.write(p.buf, v);
      const down = loss();
      p.backend.write(p.buf, base);
      const num = (up - down) / (2 * eps);
      assert.ok(Math.abs(num - grads[k][i]) <= 2e-3 + 2e-2 * Math.abs(num), `${m.kind} θ${k}[${i}]: numeric ${num}, autodiff ${grads[k][i]}`);
    }
  });
  R.dispose();
}
