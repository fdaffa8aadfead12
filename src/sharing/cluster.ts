// Post-training weight clustering (Deep Compression; TF-MOT cluster_weights / strip_clustering) on a built model, in place.
import { tidy } from '../core/engine.js';
import { tensor } from '../core/ops/index.js';
import type { Layer } from '../nn/layer.js';
import type { Model } from '../nn/model.js';
import { CodebookMap, checkCodebookFit, fitCodebook } from './codebook.js';
import { DenseMap } from './dense.js';
import type { KMeansInit } from './kmeans.js';
import { checkPrune, PrunedMap, pruneByMagnitude } from './pruned.js';
import { SharingError } from './registry.js';
import { TiedMap } from './tied.js';
import type { WeightMap } from './weight-map.js';

/** Layer classes whose kernel {@link clusterWeights} clusters by default. */
export const CLUSTERED_CLASSES: readonly string[] = ['Dense', 'Conv2D', 'LocallyConnected2D'];

/** Options of {@link clusterWeights}. */
export interface ClusterOptions {
  /** Centroids per weight: one count for all, or a count per layer (e.g. more for convolutions). */
  clusters: number | ((layer: Layer) => number);
  /** k-means initialisation (default 'linear', Han et al.'s best). */
  init?: KMeansInit;
  /**
   * Fraction in [0, 1) of each dense weight's smallest-magnitude elements zeroed for good before clustering: one for
   * all, or one per layer (default 0). A kernel already held by a {@link PrunedMap} keeps its mask (its survivors are
   * clustered) and needs prune 0.
   */
  prune?: number | ((layer: Layer) => number);
  /** Layers whose kernel to cluster (default: every Dense, Conv2D and LocallyConnected2D kernel held by a dense or pruned map). */
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

/** Drops all optimizer state: the replaced parameters' moments belong to tensors that no longer exist (the optimizer stays usable). */
function dropOptimizerState(model: Model): void {
  model.optimizer?.dispose();
}

/**
 * Replaces each selected weight's dense map by a {@link CodebookMap} fitted to its current values
 * (prune by magnitude first, then k-means on the survivors; a {@link PrunedMap} kernel keeps its mask and
 * only its kept values are clustered), in place: the layer's map and its saved
 * config change, the old θ is freed. Every option is checked before anything changes; errors are
 * SharingErrors naming the layer, the scheme and the allowed range (clusters in [2, weights], prune in
 * [0, 1), known layer names with a dense, untied kernel).
 *
 * The model's optimizer state is dropped entirely (the optimizer keeps its settings and starts fresh:
 * Adam moments of the old dense θ are meaningless for centroids); recompile to change the learning rate.
 */
export function clusterWeights(model: Model, o: ClusterOptions): ClusteredWeight[] {
  const jobs = planClusters(model, o);
  dropOptimizerState(model);
  const out: ClusteredWeight[] = [];
  for (const j of jobs) {
    const values = valuesOf(j.map);
    const fit = { clusters: j.clusters, init: o.init ?? 'linear', seed: pathSeed(o.seed ?? 0, j.path) };
    const cb = j.map instanceof PrunedMap ? fitMasked(values, j.map, fit) : fitCodebook(values, j.map.shape, { ...fit, prune: j.prune });
    j.layer.replaceWeight('kernel', cb);
    j.map.dispose();
    out.push({ path: j.path, weights: values.length, clusters: j.clusters, pruned: values.length - cb.kept(), bitsBefore: 32 * values.length, bitsAfter: cb.stats().bits });
  }
  return out;
}

/** One weight {@link clusterWeights} would replace. */
export interface ClusterJob {
  layer: Layer;
  map: WeightMap;
  clusters: number;
  /** Pruning fraction applied to a dense kernel (0 for a pruned one: its mask is kept). */
  prune: number;
  /** 'layer/kernel'. */
  path: string;
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

/** The layers named by `layers` (each must exist and have a kernel), else every layer of CLUSTERED_CLASSES; errors name `scheme`. */
function pickLayers(model: Model, layers: readonly string[] | undefined, scheme: string): Layer[] {
  const known = new Set(model.layers.map((l) => l.name));
  const picked: Layer[] = [];
  if (layers) {
    for (const name of layers) {
      if (!known.has(name)) throw new SharingError({ layer: name, weight: 'kernel' }, scheme, `model '${model.name}' has no such layer (layers: ${[...known].join(', ')})`);
      const l = model.getLayer(name);
      if (!l.weights().some((w) => w.name === 'kernel')) throw new SharingError({ layer: name, weight: 'kernel' }, scheme, `layer has no kernel (weights: ${l.weights().map((w) => w.name).join(', ') || 'none'})`);
      picked.push(l);
    }
  } else {
    for (const l of model.layers) if (CLUSTERED_CLASSES.includes(l.className)) picked.push(l);
  }
  return picked;
}

/** Maps that some TiedMap reads (replacing them would untie the weights). */
function tiedSourcesOf(model: Model): Set<WeightMap> {
  return new Set(model.weights().filter((w) => w.map instanceof TiedMap).map((w) => (w.map as TiedMap).source));
}

/** Checks `o` against the model and lists the weights {@link clusterWeights} would cluster, changing nothing; throws its SharingErrors. */
export function planClusters(model: Model, o: ClusterOptions): ClusterJob[] {
  model.build();
  const tiedSources = tiedSourcesOf(model);
  const picked = pickLayers(model, o.layers, 'codebook');
  const jobs: ClusterJob[] = [];
  for (const l of picked) {
    const map = l.weight('kernel');
    const ctx = { layer: l.name, weight: 'kernel' };
    const usable = (map.kind === 'dense' || map instanceof PrunedMap) && !tiedSources.has(map);
    if (!usable) {
      if (!o.layers) continue;
      throw new SharingError(ctx, 'codebook', map.kind !== 'dense' && !(map instanceof PrunedMap)
        ? `only a dense kernel can be clustered, this one is '${map.kind}' (stripSharing first)`
        : 'the kernel is tied to by another weight; clustering it would untie them');
    }
    const clusters = typeof o.clusters === 'function' ? o.clusters(l) : o.clusters;
    const prune = typeof o.prune === 'function' ? o.prune(l) : o.prune ?? 0;
    const n = map.stats().virtual;
    if (map instanceof PrunedMap) {
      if (prune !== 0) throw new SharingError(ctx, 'codebook', `the kernel is already pruned (scheme 'pruned', ${map.kept()} of ${n} kept); cluster it with prune 0, got ${JSON.stringify(prune)}`);
      const kept = map.kept();
      if (!Number.isInteger(clusters) || clusters < 2 || clusters > kept) {
        throw new SharingError(ctx, 'codebook', `clusters must be an integer in [2, ${kept}] (the weight's ${n} elements, ${kept} kept by its pruning mask), got ${JSON.stringify(clusters)}`);
      }
      checkCodebookFit(ctx, kept, { clusters, init: o.init ?? 'linear' });
    } else {
      checkCodebookFit(ctx, n, { clusters, prune, init: o.init ?? 'linear' });
    }
    jobs.push({ layer: l, map, clusters, prune: map instanceof PrunedMap ? 0 : prune, path: `${l.name}/kernel` });
  }
  return jobs;
}

/** Options of {@link pruneWeights}. */
export interface PruneOptions {
  /** Fraction in [0, 1) of each kernel's smallest-magnitude elements removed: one for all, or one per layer; 0 leaves a kernel dense. */
  prune: number | ((layer: Layer) => number);
  /** Layers whose kernel to prune (default: every Dense, Conv2D and LocallyConnected2D kernel held by a dense map). */
  layers?: readonly string[];
}

/** One pruned weight, as reported by {@link pruneWeights}. */
export interface PrunedWeight {
  /** 'layer/weight'. */
  path: string;
  /** Elements of W. */
  weights: number;
  /** Elements set to zero. */
  pruned: number;
  /** Bits before (32 per weight) and after (32 per kept weight + a 1-bit mask). */
  bitsBefore: number;
  bitsAfter: number;
}

/** One weight {@link pruneWeights} would replace. */
export interface PruneJob {
  layer: Layer;
  map: WeightMap;
  prune: number;
  /** 'layer/kernel'. */
  path: string;
}

/** Checks `o` against the model and lists the kernels {@link pruneWeights} would prune (prune > 0), changing nothing; throws its SharingErrors. */
export function planPrune(model: Model, o: PruneOptions): PruneJob[] {
  model.build();
  const tiedSources = tiedSourcesOf(model);
  const jobs: PruneJob[] = [];
  for (const l of pickLayers(model, o.layers, 'pruned')) {
    const map = l.weight('kernel');
    const ctx = { layer: l.name, weight: 'kernel' };
    if (map.kind !== 'dense' || tiedSources.has(map)) {
      if (!o.layers) continue;
      throw new SharingError(ctx, 'pruned', map.kind !== 'dense'
        ? `only a dense kernel can be pruned, this one is '${map.kind}' (stripSharing first)`
        : 'the kernel is tied to by another weight; pruning it would untie them');
    }
    const prune = typeof o.prune === 'function' ? o.prune(l) : o.prune;
    checkPrune(ctx, prune);
    if (prune > 0) jobs.push({ layer: l, map, prune, path: `${l.name}/kernel` });
  }
  return jobs;
}

/**
 * Replaces each selected dense kernel by a {@link PrunedMap} (W = θ ⊙ mask) whose mask removes its ⌊prune·n⌋
 * smallest-magnitude elements, in place, θ = the current values (Deep Compression's pruning stage: retrain
 * next with the mask fixed, then {@link clusterWeights} clusters the survivors). Kernels with prune 0 stay
 * dense. Every option is checked first (SharingErrors naming layer, scheme 'pruned' and range); optimizer state is
 * dropped as in {@link clusterWeights}.
 */
export function pruneWeights(model: Model, o: PruneOptions): PrunedWeight[] {
  const jobs = planPrune(model, o);
  dropOptimizerState(model);
  const out: PrunedWeight[] = [];
  for (const j of jobs) {
    const values = valuesOf(j.map);
    const pm = pruneByMagnitude(values, j.map.shape, j.prune);
    j.layer.replaceWeight('kernel', pm);
    j.map.dispose();
    out.push({ path: j.path, weights: values.length, pruned: values.length - pm.kept(), bitsBefore: 32 * values.length, bitsAfter: pm.stats().bits });
  }
  return out;
}

/**
 * Turns every non-dense map of the model back into a dense one holding W = φ(θ) as plain weights (TF-MOT
 * `strip_clustering`); tied weights become independent copies. Outputs are unchanged; optimizer state is
 * dropped as in {@link clusterWeights}. Returns the paths of the weights it converted.
 */
export function stripSharing(model: Model): string[] {
  model.build();
  const jobs: { layer: Layer; name: string; map: WeightMap; w: Float32Array }[] = [];
  for (const l of model.layers) for (const w of l.weights()) {
    if (w.map.kind === 'dense') continue;
    jobs.push({ layer: l, name: w.name, map: w.map, w: valuesOf(w.map) });
  }
  dropOptimizerState(model);
  for (const j of jobs) j.layer.replaceWeight(j.name, new DenseMap(tensor(j.w, j.map.shape)));
  for (const j of jobs) j.map.dispose();
  return jobs.map((j) => `${j.layer.name}/${j.name}`);
}

/** W = φ(θ) as a plain array (temporaries freed). */
function valuesOf(map: WeightMap): Float32Array {
  let out: Float32Array = new Float32Array(0);
  tidy(() => {
    out = map.materialize().f32();
  });
  return out;
}

/** A seed for one weight: FNV-1a of its path mixed with the user's seed. */
function pathSeed(seed: number, path: string): number {
  let h = (2166136261 ^ (seed >>> 0)) >>> 0;
  for (let i = 0; i < path.length; i++) h = Math.imul(h ^ path.charCodeAt(i), 16777619) >>> 0;
  return h;
}
