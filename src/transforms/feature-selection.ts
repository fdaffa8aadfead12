// Feature selection, the baseline weight sharing is compared with: score input features (mutual information with the label, or first-layer weight magnitude), keep the top k.
import type { Model } from '../nn/model.js';
import { valuesOf } from './select.js';

/** How {@link featureScores} ranks input features. */
export type FeatureCriterion = 'mutual-information' | 'weight-magnitude';
export const FEATURE_CRITERIA: readonly FeatureCriterion[] = ['mutual-information', 'weight-magnitude'];

/**
 * I(X_i; Y) in nats for every feature i of `x` [n, features], each feature's values cut into `bins` equal-width bins
 * over [min, max] of that feature (default 2: e.g. ink or no ink), `y` [n] class labels in [0, classes):
 * Σ p(x, y)·log(p(x, y) / (p(x)·p(y))) from the counts (a constant feature scores 0).
 */
export function mutualInformation(x: Float32Array, y: Int32Array, features: number, o: { bins?: number; classes?: number } = {}): Float64Array {
  const n = y.length, bins = o.bins ?? 2;
  if (!Number.isInteger(bins) || bins < 2) throw new RangeError(`mutualInformation: bins must be an integer ≥ 2, got ${bins}`);
  if (x.length !== n * features) throw new RangeError(`mutualInformation: x has ${x.length} values, expected ${n} samples × ${features} features`);
  const classes = o.classes ?? Math.max(0, ...y) + 1;
  const py = new Float64Array(classes);
  for (const c of y) py[c]++;
  const out = new Float64Array(features);
  const joint = new Float64Array(bins * classes), px = new Float64Array(bins);
  for (let f = 0; f < features; f++) {
    let lo = Infinity, hi = -Infinity;
    for (let i = 0; i < n; i++) (lo = Math.min(lo, x[i * features + f])), (hi = Math.max(hi, x[i * features + f]));
    if (!(hi > lo)) continue;
    joint.fill(0);
    px.fill(0);
    for (let i = 0; i < n; i++) {
      const b = Math.min(bins - 1, Math.floor(((x[i * features + f] - lo) / (hi - lo)) * bins));
      joint[b * classes + y[i]]++;
      px[b]++;
    }
    let mi = 0;
    for (let b = 0; b < bins; b++) for (let c = 0; c < classes; c++) {
      const j = joint[b * classes + c];
      if (j > 0) mi += (j / n) * Math.log((j * n) / (px[b] * py[c]));
    }
    out[f] = mi;
  }
  return out;
}

/**
 * Σ_j |W[i, j]| for every row i of the model's first kernel of rank 2 (a Dense after Flatten: one row per input
 * feature), the magnitude criterion of feature selection on a trained MLP.
 */
export function firstLayerMagnitude(model: Model): Float64Array {
  const w = model.weights().find((v) => v.role === 'kernel' && v.map.shape.length === 2);
  if (!w) throw new RangeError(`firstLayerMagnitude: model '${model.name}' has no rank-2 kernel (a Dense layer)`);
  const [rows, cols] = w.map.shape;
  const values = valuesOf(w.map);
  const out = new Float64Array(rows);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[i] += Math.abs(values[i * cols + j]);
  return out;
}

/** The indices of the `k` highest scores (ties: the lower index), in increasing index order. */
export function selectFeatures(scores: ArrayLike<number>, k: number): Int32Array {
  if (!Number.isInteger(k) || k < 1 || k > scores.length) throw new RangeError(`selectFeatures: k must be an integer in [1, ${scores.length}], got ${k}`);
  const order = Array.from({ length: scores.length }, (_, i) => i).sort((a, b) => scores[b] - scores[a] || a - b);
  return Int32Array.from(order.slice(0, k)).sort();
}

/** The columns `picked` of `x` [n, features]: [n, picked.length]. */
export function takeFeatures(x: Float32Array, features: number, picked: Int32Array): Float32Array {
  const n = x.length / features, k = picked.length;
  const out = new Float32Array(n * k);
  for (let i = 0; i < n; i++) for (let j = 0; j < k; j++) out[i * k + j] = x[i * features + picked[j]];
  return out;
}
