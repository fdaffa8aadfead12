// 1-D k-means (Lloyd's algorithm on sorted values) with the initialisations of Deep Compression: linear, density, random, k-means++.
import { Random } from '../core/random.js';

/** How the centroids start (Han et al., ICLR 2016, §3.2; TF-MOT `CentroidInitialization`). */
export type KMeansInit = 'linear' | 'density' | 'random' | 'kmeans++';

/** The initialisations {@link kmeans1d} knows. */
export const KMEANS_INITS: readonly KMeansInit[] = ['linear', 'density', 'random', 'kmeans++'];

/** Options of {@link kmeans1d}. */
export interface KMeansOptions {
  /**
   * linear (default): evenly spaced between min and max (Han et al.'s best, it keeps the rare large weights);
   * density: the quantiles (j + ½)/k of the values' CDF; random: k distinct samples (distinct positions);
   * kmeans++: D²-weighted seeding (Arthur & Vassilvitskii 2007).
   */
  init?: KMeansInit;
  /** Seed of 'random' and 'kmeans++' (default 0); linear and density use none. */
  seed?: number;
  /** Most Lloyd iterations (default 300); stops earlier when no value changes cluster. */
  iterations?: number;
}

/** What {@link kmeans1d} found. */
export interface KMeansResult {
  /** k centroids [k], ascending. A centroid that lost all its values keeps its last position. */
  centroids: Float32Array;
  /** The centroid of each value [n], in the order of the input. */
  assign: Int32Array;
  /** Lloyd iterations run. */
  iterations: number;
  /** True when the last iteration changed no assignment. */
  converged: boolean;
  /** Σ (value − its centroid)². */
  inertia: number;
}

/**
 * k-means of scalars: sorts the values once, then each Lloyd step is k binary searches (a cluster is a
 * contiguous run of sorted values between the midpoints of neighbouring centroids; a value on a midpoint
 * goes to the upper centroid) and k means from prefix sums, O(n log n + iterations·k log n) in all.
 * Deterministic given the seed. Throws a RangeError unless 1 ≤ k ≤ n and every value is finite.
 */
export function kmeans1d(values: Float32Array, k: number, o: KMeansOptions = {}): KMeansResult {
  const n = values.length;
  if (!Number.isInteger(k) || k < 1 || k > n) throw new RangeError(`kmeans1d: k must be an integer in [1, ${n}] (the number of values), got ${k}`);
  const init = o.init ?? 'linear';
  if (!KMEANS_INITS.includes(init)) throw new RangeError(`kmeans1d: init must be one of ${KMEANS_INITS.join(', ')}, got '${String(init)}'`);
  const maxIter = o.iterations ?? 300;
  if (!Number.isInteger(maxIter) || maxIter < 0) throw new RangeError(`kmeans1d: iterations must be an integer ≥ 0, got ${maxIter}`);
  for (let i = 0; i < n; i++) if (!Number.isFinite(values[i])) throw new RangeError(`kmeans1d: value ${i} is ${values[i]}, expected a finite number`);

  const sorted = Float32Array.from(values).sort();
  const prefix = new Float64Array(n + 1);
  for (let i = 0; i < n; i++) prefix[i + 1] = prefix[i] + sorted[i];
  const c = initialCentroids(values, sorted, k, init, o.seed ?? 0);
  // bounds[j] = first sorted index of cluster j; bounds[k] = n.
  const bounds = new Int32Array(k + 1);
  const next = new Int32Array(k + 1);
  const place = (out: Int32Array): void => {
    out[0] = 0;
    out[k] = n;
    for (let j = 1; j < k; j++) out[j] = Math.max(out[j - 1], lowerBound(sorted, (c[j - 1] + c[j]) / 2));
  };
  place(bounds);
  let iterations = 0;
  let converged = false;
  while (iterations < maxIter) {
    iterations++;
    for (let j = 0; j < k; j++) {
      const a = bounds[j], b = bounds[j + 1];
      if (b > a) c[j] = (prefix[b] - prefix[a]) / (b - a);
    }
    place(next);
    let same = true;
    for (let j = 0; j <= k; j++) if (next[j] !== bounds[j]) same = false;
    bounds.set(next);
    if (same) {
      converged = true;
      break;
    }
  }
  const centroids = Float32Array.from(c);
  const mids = new Float64Array(Math.max(0, k - 1));
  for (let j = 0; j + 1 < k; j++) mids[j] = (c[j] + c[j + 1]) / 2;
  const assign = new Int32Array(n);
  let inertia = 0;
  for (let i = 0; i < n; i++) {
    const j = upperBound(mids, values[i]);
    assign[i] = j;
    inertia += (values[i] - centroids[j]) ** 2;
  }
  return { centroids, assign, iterations, converged, inertia };
}

/** The starting centroids (ascending, float64). */
function initialCentroids(values: Float32Array, sorted: Float32Array, k: number, init: KMeansInit, seed: number): Float64Array {
  const n = sorted.length;
  const c = new Float64Array(k);
  const lo = sorted[0], hi = sorted[n - 1];
  switch (init) {
    case 'linear':
      for (let j = 0; j < k; j++) c[j] = k === 1 ? (lo + hi) / 2 : lo + ((hi - lo) * j) / (k - 1);
      break;
    case 'density':
      for (let j = 0; j < k; j++) {
        const q = ((j + 0.5) / k) * (n - 1);
        const i = Math.floor(q);
        c[j] = i + 1 < n ? sorted[i] + (q - i) * (sorted[i + 1] - sorted[i]) : sorted[i];
      }
      break;
    case 'random': {
      // k distinct positions by a partial Fisher–Yates shuffle.
      const rng = new Random(seed);
      const idx = new Map<number, number>();
      for (let j = 0; j < k; j++) {
        const r = j + rng.int(n - j);
        const vr = idx.get(r) ?? r;
        idx.set(r, idx.get(j) ?? j);
        c[j] = values[vr];
      }
      break;
    }
    case 'kmeans++': {
      const rng = new Random(seed);
      const d2 = new Float64Array(n).fill(Infinity);
      let pick = rng.int(n);
      for (let j = 0; j < k; j++) {
        c[j] = values[pick];
        let total = 0;
        for (let i = 0; i < n; i++) {
          const d = (values[i] - c[j]) ** 2;
          if (d < d2[i]) d2[i] = d;
          total += d2[i];
        }
        if (j + 1 === k) break;
        if (total === 0) {
          pick = rng.int(n);
          continue;
        }
        let r = rng.uniform() * total;
        pick = n - 1;
        for (let i = 0; i < n; i++) {
          r -= d2[i];
          if (r < 0) {
            pick = i;
            break;
          }
        }
      }
      break;
    }
  }
  return c.sort();
}

/** First index i with a[i] ≥ x (a ascending). */
function lowerBound(a: Float32Array, x: number): number {
  let l = 0, h = a.length;
  while (l < h) {
    const m = (l + h) >>> 1;
    if (a[m] < x) l = m + 1;
    else h = m;
  }
  return l;
}

/** Number of a's elements ≤ x (a ascending): the cluster of x given the midpoints a. */
function upperBound(a: Float64Array, x: number): number {
  let l = 0, h = a.length;
  while (l < h) {
    const m = (l + h) >>> 1;
    if (a[m] <= x) l = m + 1;
    else h = m;
  }
  return l;
}
