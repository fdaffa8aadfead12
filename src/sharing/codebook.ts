// Codebook (k-means) weight sharing, Deep Compression (Han et al., ICLR 2016): W = [centroids, 0][codes].
import { quote } from '../core/errors.js';
import { halfExact } from '../core/half.js';
import { keep } from '../core/engine.js';
import { concat, gather, reshape, tensor, zeros } from '../core/ops/index.js';
import { sizeOf, type Shape } from '../core/shape.js';
import type { Tensor } from '../core/tensor.js';
import { KMEANS_INITS, type KMeansInit, kmeans1d } from './kmeans.js';
import { type MapConfig, type MapContext, numberOption, registerMap, seedOption, SharingError, stringOption } from './registry.js';
import { Parameter, type WeightMap, type WeightMapConfig, type WeightMapStats } from './weight-map.js';

/** How to fit a codebook to a weight's values. */
export interface CodebookFit {
  /** Number of centroids K (2 ≤ K ≤ surviving weights). */
  clusters: number;
  /** Centroid initialisation of k-means (default 'linear'). */
  init?: KMeansInit;
  /** Fraction in [0, 1) of the smallest-magnitude weights set to zero for good (default 0: no mask). */
  prune?: number;
  /** Seed of the 'random' and 'kmeans++' initialisations (default 0). */
  seed?: number;
}

/**
 * Per-layer scalar k-means weight sharing: every element i of W reads centroid codes[i] of θ = centroids [K], or
 * is zero when codes[i] = K (pruned: W = [centroids, 0][codes]). θ is trained; `codes` [n] (int32 in [0, K]) is
 * fixed state, exposed by {@link buffers} so that model files store it (sparse- and entropy-coded there: the
 * pruned positions as gaps, the others' codes Huffman-coded, as in Deep Compression). Gradient:
 * ∂L/∂centroid_k = Σ_{codes(i)=k} ∂L/∂W[i] (gather's adjoint), so pruned weights contribute nothing and stay
 * exactly zero whatever the optimizer does.
 *
 * stats().bits, the size without entropy coding: 32·K for the centroids (16·K when all are exact halves) plus ⌈log2 K⌉ bits per index; with
 * pruning, a 1-bit-per-weight bitmap plus indices for the surviving weights only: 32·K + n + kept·⌈log2 K⌉.
 */
export class CodebookMap implements WeightMap {
  readonly kind = 'codebook';
  readonly shape: Shape;
  readonly clusters: number;
  readonly init: KMeansInit;
  readonly seed: number;
  /** Pruned fraction the map was fitted with (0: no pruning, no code K). */
  readonly prune: number;
  private readonly centroids: Parameter;
  private readonly codes: Tensor;
  /** [0]: the value of code K (pruned maps only). */
  private readonly zero: Tensor | undefined;

  /** Takes the centroids [K], the assignment [n] (values in [0, K)) and optionally a 0/1 mask [n] (0 = pruned). */
  constructor(shape: Shape, centroids: Float32Array, assign: Int32Array, mask: Float32Array | undefined, o: { init: KMeansInit; seed: number; prune: number }) {
    const n = sizeOf(shape);
    if (assign.length !== n || (mask && mask.length !== n)) throw new RangeError(`codebook: assign/mask need ${n} elements for shape [${shape.join(',')}]`);
    this.shape = [...shape];
    this.clusters = centroids.length;
    this.init = o.init;
    this.seed = o.seed >>> 0;
    this.prune = mask ? o.prune : 0;
    const codes = new Int32Array(assign);
    if (mask) for (let i = 0; i < n; i++) if (mask[i] === 0) codes[i] = this.clusters;
    this.centroids = new Parameter(keep(tensor(centroids, [centroids.length])), 'centroids');
    this.codes = keep(tensor(codes, [n], 'int32'));
    this.zero = mask ? keep(zeros([1])) : undefined;
  }

  parameters(): Parameter[] {
    return [this.centroids];
  }

  materialize(): Tensor {
    const table = this.zero ? concat([this.centroids.value, this.zero]) : this.centroids.value;
    return reshape(gather(table, this.codes), this.shape);
  }

  /** The fixed state: 'codes' (int32 [n]: the centroid of each weight, K when pruned). Writing into it changes the map. */
  buffers(): Map<string, Tensor> {
    return new Map([['codes', this.codes]]);
  }

  checkBuffer(name: string, data: Float32Array | Int32Array): string | undefined {
    if (name !== 'codes') return undefined;
    const top = this.zero ? this.clusters : this.clusters - 1;
    for (let i = 0; i < data.length; i++) {
      if (!(data[i] >= 0 && data[i] <= top)) return `holds ${data[i]} at position ${i}, outside [0, ${top}]`;
    }
    return undefined;
  }

  /** Weights that are not pruned. */
  kept(): number {
    if (!this.zero) return this.codes.size;
    let k = 0;
    for (const c of this.codes.data()) if (c !== this.clusters) k++;
    return k;
  }

  stats(): WeightMapStats {
    const n = sizeOf(this.shape);
    const b = indexBits(this.clusters);
    // Centroids that are all exact halves are stored at 16 bits (model files' float16 encoding).
    const bits = (halfExact(this.centroids.value.f32()) ? 16 : 32) * this.clusters + (this.zero ? n + this.kept() * b : n * b);
    return { virtual: n, free: this.clusters, bits };
  }

  toJSON(): WeightMapConfig {
    const c: WeightMapConfig = { kind: 'codebook', clusters: this.clusters, init: this.init, seed: this.seed };
    if (this.zero) c.prune = this.prune;
    return c;
  }

  dispose(): void {
    this.centroids.value.dispose();
    this.codes.dispose();
    this.zero?.dispose();
  }
}

/** Bits of one centroid index: ⌈log2 K⌉ (at least 1). */
export function indexBits(clusters: number): number {
  return Math.max(1, Math.ceil(Math.log2(clusters)));
}

/** Checks a fit's options against a weight of `n` elements; throws a SharingError naming the layer, the scheme and the allowed range. */
export function checkCodebookFit(ctx: { layer: string; weight: string }, n: number, f: CodebookFit): void {
  const prune = f.prune ?? 0;
  if (typeof prune !== 'number' || !(prune >= 0 && prune < 1)) throw new SharingError(ctx, 'codebook', `prune must be a fraction in [0, 1), got ${quote(f.prune)}`);
  const kept = n - prunedCount(n, prune);
  if (!Number.isInteger(f.clusters) || f.clusters < 2 || f.clusters > kept) {
    throw new SharingError(ctx, 'codebook', `clusters must be an integer in [2, ${kept}] (the weight's ${n} elements${prune ? `, ${kept} after pruning ${prune}` : ''}), got ${quote(f.clusters)}`);
  }
  const init = f.init ?? 'linear';
  if (!KMEANS_INITS.includes(init)) throw new SharingError(ctx, 'codebook', `init must be one of ${KMEANS_INITS.join(', ')}, got ${quote(f.init)}`);
}

function prunedCount(n: number, prune: number): number {
  return Math.floor(prune * n);
}

/**
 * Fits a codebook map to the values of W: zeroes the ⌊prune·n⌋ smallest |w| (ties by position), runs
 * {@link kmeans1d} on the survivors, and gives pruned positions code K. Call
 * {@link checkCodebookFit} first for errors that name the layer.
 */
export function fitCodebook(values: Float32Array, shape: Shape, f: CodebookFit): CodebookMap {
  const n = values.length;
  const prune = f.prune ?? 0;
  const init = f.init ?? 'linear';
  const seed = f.seed ?? 0;
  const cut = prunedCount(n, prune);
  let mask: Float32Array | undefined;
  let survivors = values;
  let where: Int32Array | undefined;
  if (cut > 0) {
    const order = new Int32Array(n);
    for (let i = 0; i < n; i++) order[i] = i;
    order.sort((a, b) => Math.abs(values[a]) - Math.abs(values[b]) || a - b);
    mask = new Float32Array(n).fill(1);
    for (let i = 0; i < cut; i++) mask[order[i]] = 0;
    where = new Int32Array(n - cut);
    survivors = new Float32Array(n - cut);
    for (let i = 0, j = 0; i < n; i++) if (mask[i]) (where[j] = i), (survivors[j++] = values[i]);
  }
  const km = kmeans1d(survivors, f.clusters, { init, seed });
  let assign = km.assign;
  if (where) {
    assign = new Int32Array(n);
    where.forEach((i, j) => (assign[i] = km.assign[j]));
  }
  return new CodebookMap(shape, km.centroids, assign, mask, { init, seed, prune });
}

/**
 * Builds a codebook map from { clusters, init?, prune?, seed? } by fitting it to a fresh draw of the layer's
 * initialiser ('codebook:16' trains from scratch this way). When a model file is loaded
 * ({@link MapContext.restoring}) no fit is made: the file's centroids and codes fill stand-ins.
 */
export function codebookFromConfig(c: MapConfig, ctx: MapContext): CodebookMap {
  if (c.clusters === undefined) throw new SharingError(ctx, 'codebook', `needs clusters, e.g. 'codebook:16'`);
  const fit: CodebookFit = {
    clusters: numberOption(c, ctx, 'codebook', 'clusters'), init: stringOption(c, ctx, 'codebook', 'init', 'linear') as KMeansInit,
    prune: c.prune === undefined ? 0 : (c.prune as number), seed: seedOption(c, ctx),
  };
  const n = sizeOf(ctx.shape);
  checkCodebookFit(ctx, n, fit);
  if (ctx.restoring) {
    // Loading: the centroids and codes come from the file; stand-ins of the same shapes (a pruned map keeps its zero code).
    const mask = prunedCount(n, fit.prune!) > 0 ? new Float32Array(n).fill(1) : undefined;
    return new CodebookMap(ctx.shape, new Float32Array(fit.clusters), new Int32Array(n), mask, { init: fit.init!, seed: fit.seed!, prune: fit.prune! });
  }
  const w = ctx.init(ctx.shape, ctx.seed);
  const values = w.f32();
  w.dispose();
  return fitCodebook(values, ctx.shape, fit);
}

registerMap('codebook', codebookFromConfig, ['clusters', 'init', 'prune', 'seed']);
