// Magnitude pruning with a fixed mask (Deep Compression's first stage, Han et al. 2015/2016): W = θ ⊙ mask, θ dense.
import { quote } from '../core/errors.js';
import { keep } from '../core/engine.js';
import { mul, tensor } from '../core/ops/index.js';
import { sizeOf, type Shape } from '../core/shape.js';
import { noteInPlaceWrite, type Tensor } from '../core/tensor.js';
import { type MapConfig, type MapContext, registerMap, SharingError } from './registry.js';
import { Parameter, type WeightMap, type WeightMapConfig, type WeightMapStats } from './weight-map.js';

/**
 * A pruned weight: W = θ ⊙ mask with θ dense (W's shape, trained) and `mask` a fixed 0/1 float32 tensor of W's
 * shape, exposed by {@link buffers} so that model files store it (`maps/<layer>/<weight>/mask`). Gradient:
 * ∂L/∂θ = mask ⊙ ∂L/∂W, exactly zero at pruned positions, so pruned weights stay exactly zero whatever the
 * optimizer does (θ itself starts at zero there and Adam's moments stay zero; even if θ drifted, W would not).
 *
 * Stored size (stats().bits): the kept weights at 32 bits plus a 1-bit-per-weight bitmap, 32·kept + n
 * (no relative indexing or entropy coding). `free` counts the kept weights.
 */
export class PrunedMap implements WeightMap {
  readonly kind = 'pruned';
  readonly shape: Shape;
  /** Fraction removed when the map was made or last re-masked (recorded in the config; the mask is the truth). */
  prune: number;
  private readonly theta: Parameter;
  private readonly mask: Tensor;

  /** Takes θ's initial values [n] and the 0/1 mask [n]; θ is zeroed where the mask is 0. */
  constructor(shape: Shape, values: Float32Array, mask: Float32Array, prune: number) {
    const n = sizeOf(shape);
    if (values.length !== n || mask.length !== n) throw new RangeError(`pruned: values/mask need ${n} elements for shape [${shape.join(',')}]`);
    this.shape = [...shape];
    this.prune = prune;
    const theta = new Float32Array(n);
    const m = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      m[i] = mask[i] !== 0 ? 1 : 0;
      theta[i] = m[i] ? values[i] : 0;
    }
    this.theta = new Parameter(keep(tensor(theta, this.shape)), 'theta');
    this.mask = keep(tensor(m, this.shape));
  }

  parameters(): Parameter[] {
    return [this.theta];
  }

  materialize(): Tensor {
    return mul(this.theta.value, this.mask);
  }

  /** The fixed state: 'mask' (float32, W's shape, 0 or 1). Writing into it changes the map. */
  buffers(): Map<string, Tensor> {
    return new Map([['mask', this.mask]]);
  }

  checkBuffer(name: string, data: Float32Array | Int32Array): string | undefined {
    if (name !== 'mask') return undefined;
    for (let i = 0; i < data.length; i++) if (data[i] !== 0 && data[i] !== 1) return `holds ${data[i]} at position ${i}; a mask holds only 0 and 1`;
    return undefined;
  }

  /** Weights that are not pruned. */
  kept(): number {
    let k = 0;
    for (const v of this.mask.f32()) if (v !== 0) k++;
    return k;
  }

  /**
   * Replaces the mask (a gradual pruning schedule's step): `mask` [n] is 0/1 (0 = pruned), θ is zeroed where it is 0,
   * and `prune` records the fraction removed.
   */
  setMask(mask: Float32Array, prune: number): void {
    const n = this.mask.size;
    if (mask.length !== n) throw new RangeError(`pruned: a mask needs ${n} elements, got ${mask.length}`);
    const m = Float32Array.from(mask, (v) => (v !== 0 ? 1 : 0));
    const theta = this.theta.value.f32();
    for (let i = 0; i < n; i++) if (!m[i]) theta[i] = 0;
    this.mask.backend.write(this.mask.buf, m);
    this.theta.value.backend.write(this.theta.value.buf, theta);
    noteInPlaceWrite();
    this.prune = prune;
  }

  /** The mask as a copy (1 = kept). */
  maskValues(): Float32Array {
    return this.mask.f32().slice();
  }

  stats(): WeightMapStats {
    const n = sizeOf(this.shape);
    const k = this.kept();
    return { virtual: n, free: k, bits: 32 * k + n };
  }

  toJSON(): WeightMapConfig {
    return { kind: 'pruned', prune: this.prune };
  }

  dispose(): void {
    this.theta.value.dispose();
    this.mask.dispose();
  }
}

/** Number of elements a fraction `prune` removes from `n`: ⌊prune·n⌋ (as codebook's prune). */
export function prunedCount(n: number, prune: number): number {
  return Math.floor(prune * n);
}

/** Checks a pruning fraction for a weight; throws a SharingError naming the layer, the scheme and the range. */
export function checkPrune(ctx: { layer: string; weight: string }, prune: unknown): void {
  if (typeof prune !== 'number' || !(prune >= 0 && prune < 1)) throw new SharingError(ctx, 'pruned', `prune must be a fraction in [0, 1), got ${quote(prune)}`);
}

/** The 0/1 mask zeroing the ⌊prune·n⌋ smallest |v| (ties by position), as fitCodebook prunes. */
export function magnitudeMask(values: Float32Array, prune: number): Float32Array {
  const n = values.length;
  const cut = prunedCount(n, prune);
  const mask = new Float32Array(n).fill(1);
  if (cut === 0) return mask;
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  order.sort((a, b) => Math.abs(values[a]) - Math.abs(values[b]) || a - b);
  for (let i = 0; i < cut; i++) mask[order[i]] = 0;
  return mask;
}

/** Prunes W's values by magnitude into a {@link PrunedMap} (call {@link checkPrune} first for errors naming the layer). */
export function pruneByMagnitude(values: Float32Array, shape: Shape, prune: number): PrunedMap {
  return new PrunedMap(shape, values, magnitudeMask(values, prune), prune);
}

/**
 * Builds a pruned map from { prune } ('pruned:prune=0.9'): a fresh draw of the layer's initialiser with its
 * ⌊prune·n⌋ smallest-magnitude elements removed. A saved model's θ and mask then overwrite it when loaded.
 */
export function prunedFromConfig(c: MapConfig, ctx: MapContext): PrunedMap {
  if (c.prune === undefined) throw new SharingError(ctx, 'pruned', `needs prune, the fraction removed, e.g. 'pruned:prune=0.9'`);
  checkPrune(ctx, c.prune);
  // Loading: θ and the mask come from the file; a mask of ones stands in (no sort of a draw).
  if (ctx.restoring) {
    const n = sizeOf(ctx.shape);
    return new PrunedMap(ctx.shape, new Float32Array(n), new Float32Array(n).fill(1), c.prune as number);
  }
  const w = ctx.init(ctx.shape, ctx.seed);
  const values = w.f32();
  w.dispose();
  return pruneByMagnitude(values, ctx.shape, c.prune as number);
}

registerMap('pruned', prunedFromConfig, ['prune']);
