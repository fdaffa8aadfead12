// W is materialised once per forward pass: a cache of φ(θ) that a model call opens, so a map used at every time step,
// every depth or at both ends of a tied embedding is computed once and its gradient flows back through one node.
import type { Tensor } from '../core/tensor.js';
import type { WeightMap } from './weight-map.js';

/** One pass's cache: each map's W, and the W tensors the pass made (not θ itself), held until the pass ends. */
interface Cache {
  weights: Map<WeightMap, Tensor>;
  made: Tensor[];
}

const caches: Cache[] = [];

/**
 * W = φ(θ) of `map`: inside {@link withWeightCache}, computed at the first request and reused after (one tape node,
 * so θ's gradient flows back once); outside, computed at each call. Layers use it instead of `map.materialize()`.
 */
export function materialize(map: WeightMap): Tensor {
  const cache = caches[caches.length - 1];
  if (!cache) return map.materialize();
  let w = cache.weights.get(map);
  if (w === undefined) {
    w = map.materialize();
    // A layer may compute inside a tidy scope of its own: W must outlive it until the pass ends. A kept tensor that
    // leaves a tidy scope moves to the enclosing one, so once released it belongs to the pass's caller as usual.
    if (!w.kept) {
      w.kept = true;
      cache.made.push(w);
    }
    cache.weights.set(map, w);
  }
  return w;
}

/** Runs `fn` (one forward pass) with a fresh weight cache; nested calls share the outer one. */
export function withWeightCache<T>(fn: () => T): T {
  if (caches.length > 0) return fn();
  const cache: Cache = { weights: new Map(), made: [] };
  caches.push(cache);
  try {
    return fn();
  } finally {
    caches.pop();
    for (const w of cache.made) w.kept = false;
  }
}
