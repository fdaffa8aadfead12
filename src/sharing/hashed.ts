// HashedNets (Chen et al., ICML 2015): W[i] = ξ(i)·θ[h(i)], a seeded hash h into K buckets and a seeded sign ξ.
import { quote } from '../core/errors.js';
import { keep } from '../core/engine.js';
import { concat, gather, neg, reshape, tensor } from '../core/ops/index.js';
import { sizeOf, type Shape } from '../core/shape.js';
import type { Tensor } from '../core/tensor.js';
import { booleanOption, eitherOption, numberOption, hash32, initialTheta, type MapConfig, type MapContext, registerMap, seedOption, SharingError } from './registry.js';
import { Parameter, type WeightMap, type WeightMapConfig, type WeightMapStats } from './weight-map.js';

/**
 * The hashing trick for weights: every element i of W reads bucket h(i) of θ [K], times a sign
 * ξ(i) ∈ {−1, +1} (unbiased inner products, as in the paper). Only θ and the seed are stored; the bucket
 * and sign tables are recomputed from the seed. W gathers from [θ, −θ]; the gradient ∂L/∂θ[k] = Σ_{h(i)=k} ξ(i)·∂L/∂W[i]
 * is gather's adjoint (a scatter-add into both halves) less its second half.
 */
export class HashedMap implements WeightMap {
  readonly kind = 'hashed';
  readonly shape: Shape;
  readonly buckets: number;
  readonly seed: number;
  readonly signs: boolean;
  private readonly theta: Parameter;
  /**
   * One int32 per element of W: its bucket h(i), plus K when its sign ξ(i) is −1, an index into [θ, −θ] (4 bytes per
   * element, where a bucket table and a float sign table took 8, and W is one gather without a product).
   */
  private readonly code: Tensor;

  constructor(shape: Shape, buckets: number, seed: number, signs: boolean, theta: Tensor) {
    this.shape = [...shape];
    this.buckets = buckets;
    this.seed = seed >>> 0;
    this.signs = signs;
    const n = sizeOf(shape);
    const code = new Int32Array(n);
    const hs = hash32(0x5bd1e995, this.seed);
    for (let i = 0; i < n; i++) code[i] = hash32(i, this.seed) % buckets + (signs && !(hash32(i, hs) & 1) ? buckets : 0);
    this.code = keep(tensor(code, [n], 'int32'));
    this.theta = new Parameter(keep(theta), 'theta');
  }

  parameters(): Parameter[] {
    return [this.theta];
  }

  materialize(): Tensor {
    const t = this.theta.value;
    return reshape(gather(this.signs ? concat([t, neg(t)]) : t, this.code), this.shape);
  }

  /** The bucket h(i) of each element i of W (flattened) and its sign ξ(i) (undefined without signs), as copies: what exporters write. */
  tables(): { index: Int32Array; sign: Float32Array | undefined } {
    const code = this.code.data() as Int32Array, k = this.buckets;
    return {
      index: Int32Array.from(code, (c) => (c >= k ? c - k : c)),
      sign: this.signs ? Float32Array.from(code, (c) => (c >= k ? -1 : 1)) : undefined,
    };
  }

  stats(): WeightMapStats {
    return { virtual: sizeOf(this.shape), free: this.buckets, bits: 32 * this.buckets };
  }

  toJSON(): WeightMapConfig {
    return { kind: 'hashed', buckets: this.buckets, seed: this.seed, signs: this.signs };
  }

  dispose(): void {
    this.theta.value.dispose();
    this.code.dispose();
  }
}

/** Builds a hashed map from { buckets } or { compression } (free/virtual, in (0, 1]); seed defaults to the weight's seed. */
export function hashedFromConfig(c: MapConfig, ctx: MapContext): HashedMap {
  const n = sizeOf(ctx.shape);
  eitherOption(c, ctx, 'compression', 'buckets');
  let k: number;
  if (c.buckets !== undefined) {
    k = numberOption(c, ctx, 'hashed', 'buckets');
    if (!Number.isInteger(k) || k < 1 || k > n) throw new SharingError(ctx, 'hashed', `buckets must be an integer in [1, ${n}] (the weight's ${n} elements), got ${quote(c.buckets)}`);
  } else {
    const r = numberOption(c, ctx, 'hashed', 'compression', 1 / 8);
    if (!(r > 0 && r <= 1)) throw new SharingError(ctx, 'hashed', `compression (free/virtual) must be in (0, 1], e.g. 1/8, got ${quote(c.compression)}`);
    k = Math.max(1, Math.round(r * n));
  }
  const seed = seedOption(c, ctx);
  return new HashedMap(ctx.shape, k, seed, booleanOption(c, ctx, 'signs', true), initialTheta(ctx, [k], seed));
}

registerMap('hashed', hashedFromConfig, ['compression', 'buckets', 'seed', 'signs']);
