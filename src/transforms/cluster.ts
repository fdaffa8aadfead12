// Post-training weight clustering (Deep Compression; TF-MOT cluster_weights) of a built model's shareable weights, in place.
import { checkOptions, quote } from '../core/errors.js';
import { fromHalf, toHalf } from '../core/half.js';
import { type Model, requireModel } from '../nn/model.js';
import { CodebookMap, checkCodebookFit, fitCodebook } from '../sharing/codebook.js';
import type { KMeansInit } from '../sharing/kmeans.js';
import { PrunedMap } from '../sharing/pruned.js';
import { SharingError } from '../sharing/registry.js';
import type { WeightMap } from '../sharing/weight-map.js';
import { dropOptimizerState, type ModelWeight, notDenseReason, type PerWeight, replaceWeight, shareableWeights, valueFor, valuesOf } from './select.js';

/** Options of {@link clusterWeights}. */
export interface ClusterOptions {
  /** Centroids per weight: one count for all, or a count per weight (e.g. more for convolution kernels). */
  clusters: PerWeight<number>;
  /** k-means initialisation (default 'linear', Han et al.'s best). */
  init?: KMeansInit;
  /**
   * Fraction in [0, 1) of each dense weight's smallest-magnitude elements zeroed for good before clustering: one for
   * all, or one per weight (default 0). A weight already held by a {@link PrunedMap} keeps its mask (its survivors are
   * clustered) and needs prune 0.
   */
  prune?: PerWeight<number>;
  /** Layers whose shareable weights to cluster (default: every weight with a shareable role held by a dense or pruned map). */
  layers?: readonly string[];
  /** Seed of the 'random' / 'kmeans++' initialisations, mixed with each weight's path (default 0). */
  seed?: number;
}

/** One clustered weight, as reported by {@link clusterWeights}. */
export interface ClusteredWeight {
  /** 'layer/weight'. */
  path: string;
  /** Elements of W. */
  weights: number;
  clusters: number;
  /** Elements set to zero by pruning. */
  pruned: number;
  /** Bits before (32 per weight) and after (see CodebookMap). */
  bitsBefore: number;
  bitsAfter: number;
}

/** One weight {@link clusterWeights} would replace. */
export interface ClusterJob {
  /** The weight (layer, name, role, map, path). */
  weight: ModelWeight;
  clusters: number;
  /** Pruning fraction applied to a dense weight (0 for a pruned one: its mask is kept). */
  prune: number;
}

/**
 * Replaces each selected weight's dense map by a {@link CodebookMap} fitted to its current values
 * (prune by magnitude first, then k-means on the survivors; a {@link PrunedMap} weight keeps its mask and
 * only its kept values are clustered), in place: the layer's map and its saved
 * config change, the old θ is freed. Every option is checked before anything changes; errors are
 * SharingErrors naming the layer, the scheme and the allowed range (clusters in [2, weights], prune in
 * [0, 1), known layer names with a dense shareable weight). A weight tied to the clustered one (tied embeddings) is
 * tied to its codebook after: one θ still.
 *
 * The model's optimizer state is dropped entirely (the optimizer keeps its settings and starts fresh:
 * Adam moments of the old dense θ are meaningless for centroids); recompile to change the learning rate.
 */
export function clusterWeights(model: Model, o: ClusterOptions): ClusteredWeight[] {
  const jobs = planClusters(model, o);
  dropOptimizerState(model);
  const out: ClusteredWeight[] = [];
  for (const { weight: w, clusters, prune } of jobs) {
    const values = valuesOf(w.map);
    const fit = { clusters, init: o.init ?? 'linear', seed: pathSeed(o.seed ?? 0, w.path) };
    const cb = w.map instanceof PrunedMap ? fitMasked(values, w.map, fit) : fitCodebook(values, w.map.shape, { ...fit, prune });
    replaceWeight(model, w, cb);
    w.map.dispose();
    out.push({ path: w.path, weights: values.length, clusters, pruned: values.length - cb.kept(), bitsBefore: 32 * values.length, bitsAfter: cb.stats().bits });
  }
  return out;
}

/**
 * A codebook over the survivors of a pruned map: k-means (via fitCodebook) of the kept values only, the pruned
 * map's mask as the codebook's pruning (pruned positions get code K).
 */
function fitMasked(values: Float32Array, map: PrunedMap, f: { clusters: number; init: KMeansInit; seed: number }): CodebookMap {
  const mask = map.maskValues();
  const n = values.length;
  const where: number[] = [];
  for (let i = 0; i < n; i++) if (mask[i]) where.push(i);
  const kept = Float32Array.from(where, (i) => values[i]);
  const sub = fitCodebook(kept, [kept.length], f);
  const centroids = sub.parameters()[0].value.f32().slice();
  const subAssign = sub.buffers().get('codes')!.data() as Int32Array;
  const assign = new Int32Array(n);
  where.forEach((i, j) => (assign[i] = subAssign[j]));
  sub.dispose();
  // A mask without zeros needs none; otherwise the config's prune is the pruned map's (⌊prune·n⌋ = its cut, so a rebuild makes a mask too).
  const full = where.length === n;
  return new CodebookMap(map.shape, centroids, assign, full ? undefined : mask, { init: f.init, seed: f.seed, prune: full ? 0 : map.prune });
}

/** Checks `o` against the model and lists the weights {@link clusterWeights} would cluster, changing nothing; throws its SharingErrors. */
export function planClusters(model: Model, o: ClusterOptions): ClusterJob[] {
  requireModel('clusterWeights', model);
  checkOptions('clusterWeights', o, ['clusters', 'init', 'prune', 'layers', 'seed'], { layer: 'write it layers', prun: 'write it prune', nClusters: 'write it clusters' });
  model.build();
  const jobs: ClusterJob[] = [];
  for (const w of shareableWeights(model, o.layers, 'codebook')) {
    const map: WeightMap = w.map;
    const ctx = { layer: w.layer.name, weight: w.name };
    if (map.kind !== 'dense' && !(map instanceof PrunedMap)) {
      if (!o.layers) continue;
      throw new SharingError(ctx, 'codebook', notDenseReason(w, 'cluster'));
    }
    const clusters = valueFor(o.clusters, w);
    const prune = valueFor(o.prune ?? 0, w);
    const n = map.stats().virtual;
    if (map instanceof PrunedMap) {
      if (prune !== 0) throw new SharingError(ctx, 'codebook', `the ${w.role} is already pruned (scheme 'pruned', ${map.kept()} of ${n} kept); cluster it with prune 0, got ${quote(prune)}`);
      const kept = map.kept();
      if (!Number.isInteger(clusters) || clusters < 2 || clusters > kept) {
        throw new SharingError(ctx, 'codebook', `clusters must be an integer in [2, ${kept}] (the weight's ${n} elements, ${kept} kept by its pruning mask), got ${quote(clusters)}`);
      }
      checkCodebookFit(ctx, kept, { clusters, init: o.init ?? 'linear' });
    } else {
      checkCodebookFit(ctx, n, { clusters, prune, init: o.init ?? 'linear' });
    }
    jobs.push({ weight: w, clusters, prune: map instanceof PrunedMap ? 0 : prune });
  }
  return jobs;
}

/** A seed for one weight: FNV-1a of its path mixed with the user's seed. */
function pathSeed(seed: number, path: string): number {
  let h = (2166136261 ^ (seed >>> 0)) >>> 0;
  for (let i = 0; i < path.length; i++) h = Math.imul(h ^ path.charCodeAt(i), 16777619) >>> 0;
  return h;
}

/** What {@link halfCentroids} did: the codebook weights whose centroids it rounded, and the largest change of a centroid. */
export interface HalfCentroidsReport {
  weights: string[];
  maxChange: number;
}

/**
 * Rounds every codebook map's centroids to their nearest IEEE half-precision values, in place: model files then store
 * them at 16 bits (the float16 encoding is lossless for half-exact values) and the maps count 16 bits per centroid.
 * Measure the effect with an evaluation before and after (`compress --centroid-bits 16` does).
 */
export function halfCentroids(model: Model): HalfCentroidsReport {
  return roundToHalf(model, (w) => w.map.kind === 'codebook'); // a tie to a codebook is 'tied': each codebook is met once
}

/**
 * Rounds every plain (dense-map) weight of role 'bias' to its nearest half-precision values, in place: model files
 * store an all-half float32 tensor as float16, 2 bytes per element and lossless. Compressed kernels leave the biases
 * a large share of a small file (LeNet-5's 580 biases are 2.3 KiB at 32 bits); measure the accuracy after it
 * (`compress --bias-bits 16` does). Reports the rounded weights and the largest change, as {@link halfCentroids}.
 */
export function halfBiases(model: Model): HalfCentroidsReport {
  return roundToHalf(model, (w) => w.role === 'bias' && w.map.kind === 'dense');
}

/** Rounds the first parameter of every picked weight's map to half precision, in place. */
function roundToHalf(model: Model, pick: (w: ReturnType<Model['weights']>[number]) => boolean): HalfCentroidsReport {
  const values = new Map<string, Float32Array>();
  const weights: string[] = [];
  let maxChange = 0;
  for (const w of model.weights()) {
    if (!pick(w)) continue;
    const [param] = w.map.parameters();
    const before = param.value.f32();
    const after = before.map((v) => fromHalf(toHalf(v)));
    after.forEach((v, i) => (maxChange = Math.max(maxChange, Math.abs(v - before[i]!))));
    values.set(param.name ? `${w.path}/${param.name}` : w.path, after); // as namedParameters() names it
    weights.push(w.path);
  }
  model.setWeights(values);
  return { weights, maxChange };
}

