// Random edge removal (the HashedNets paper's baseline): a seeded random subset of W's elements is trained, the rest are zero.
import { quote } from '../core/errors.js';
import { keep } from '../core/engine.js';
import { concat, gather, reshape, tensor, zeros } from '../core/ops/index.js';
import { Random } from '../core/random.js';
import { sizeOf, type Shape } from '../core/shape.js';
import type { Tensor } from '../core/tensor.js';
import { eitherOption, initialTheta, numberOption, type MapConfig, type MapContext, registerMap, seedOption, SharingError } from './registry.js';
import { Parameter, type WeightMap, type WeightMapConfig, type WeightMapStats } from './weight-map.js';

/**
 * W[i] = θ[k] when element i is the k-th kept one, else 0. Exactly `kept` elements, chosen by a seeded
 * partial Fisher–Yates shuffle and recomputed from the seed; θ [kept] holds their values. The bits count
 * θ only (the positions come from the seed).
 */
export class RandomMaskMap implements WeightMap {
  readonly kind = 'randomMask';
  readonly shape: Shape;
  readonly kept: number;
  readonly seed: number;
  private readonly theta: Parameter;
  private readonly index: Tensor;
  private readonly zero: Tensor;

  constructor(shape: Shape, kept: number, seed: number, theta: Tensor) {
    this.shape = [...shape];
    this.kept = kept;
    this.seed = seed >>> 0;
    const n = sizeOf(shape);
    const perm = new Int32Array(n);
    for (let i = 0; i < n; i++) perm[i] = i;
    const rng = new Random(this.seed);
    for (let i = 0; i < kept; i++) {
      const j = i + rng.int(n - i);
      const t = perm[i];
      perm[i] = perm[j];
      perm[j] = t;
    }
    const idx = new Int32Array(n).fill(kept); // position `kept` of [θ, 0] is the zero
    for (let k = 0; k < kept; k++) idx[perm[k]] = k;
    this.index = keep(tensor(idx, [n], 'int32'));
    this.zero = keep(zeros([1]));
    this.theta = new Parameter(keep(theta), 'theta');
  }

  parameters(): Parameter[] {
    return [this.theta];
  }

  materialize(): Tensor {
    return reshape(gather(concat([this.theta.value, this.zero]), this.index), this.shape);
  }

  stats(): WeightMapStats {
    return { virtual: sizeOf(this.shape), free: this.kept, bits: 32 * this.kept };
  }

  toJSON(): WeightMapConfig {
    return { kind: 'randomMask', kept: this.kept, seed: this.seed };
  }

  dispose(): void {
    this.theta.value.dispose();
    this.index.dispose();
    this.zero.dispose();
  }
}

/** Builds a random mask from { kept } or { density } (kept/virtual, in (0, 1]). */
export function randomMaskFromConfig(c: MapConfig, ctx: MapContext): RandomMaskMap {
  const n = sizeOf(ctx.shape);
  eitherOption(c, ctx, 'density', 'kept');
  let k: number;
  if (c.kept !== undefined) {
    k = numberOption(c, ctx, 'randomMask', 'kept');
    if (!Number.isInteger(k) || k < 1 || k > n) throw new SharingError(ctx, 'randomMask', `kept must be an integer in [1, ${n}], got ${quote(c.kept)}`);
  } else {
    const r = numberOption(c, ctx, 'randomMask', 'density', 1 / 8);
    if (!(r > 0 && r <= 1)) throw new SharingError(ctx, 'randomMask', `density (kept/virtual) must be in (0, 1], e.g. 1/8, got ${quote(c.density)}`);
    k = Math.max(1, Math.round(r * n));
  }
  const seed = seedOption(c, ctx);
  return new RandomMaskMap(ctx.shape, k, seed, initialTheta(ctx, [k], seed));
}

registerMap('randomMask', randomMaskFromConfig, ['density', 'kept', 'seed']);
