// Post-training weight clustering (Deep Compression; TF-MOT cluster_weights / strip_clustering) on a built model, in place.
import { tidy } from '../core/engine.js';
import { tensor } from '../core/ops/index.js';
import type { Layer } from '../nn/layer.js';
import type { Model } from '../nn/model.js';
import { checkCodebookFit, fitCodebook } from './codebook.js';
import { DenseMap } from './dense.js';
import type { KMeansInit } from './kmeans.js';
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
  /** Fraction in [0, 1) of each weight's smallest-magnitude elements zeroed for good before clustering (default 0). */
  prune?: number;
  /** Layers whose kernel to cluster (default: every Dense, Conv2D and LocallyConnected2D kernel held by a dense map). */
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

/** Swaps the map of a built layer's weight (see Layer.replaceWeight). */
function replaceMap(layer: Layer, name: string, map: WeightMap): void {
  layer.replaceWeight(name, map);
}

/** Drops all optimizer state: the replaced parameters' moments belong to tensors that no longer exist (the optimizer stays usable). */
function dropOptimizerState(model: Model): void {
  model.optimizer?.dispose();
}

/**
 * Replaces each selected weight's dense map by a {@link CodebookMap} fitted to its current values
 * (prune by magnitude first, then k-means on the survivors), in place: the layer's map and its saved
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
    const cb = fitCodebook(values, j.map.shape, { clusters: j.clusters, init: o.init ?? 'linear', prune: o.prune ?? 0, seed: pathSeed(o.seed ?? 0, j.path) });
    replaceMap(j.layer, 'kernel', cb);
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
  /** 'layer/kernel'. */
  path: string;
}

/** Checks `o` against the model and lists the weights {@link clusterWeights} would cluster, changing nothing; throws its SharingErrors. */
export function planClusters(model: Model, o: ClusterOptions): ClusterJob[] {
  model.build();
  const all = model.weights();
  const tiedSources = new Set(all.filter((w) => w.map instanceof TiedMap).map((w) => (w.map as TiedMap).source));
  const known = new Set(model.layers.map((l) => l.name));
  const picked: Layer[] = [];
  if (o.layers) {
    for (const name of o.layers) {
      if (!known.has(name)) throw new SharingError({ layer: name, weight: 'kernel' }, 'codebook', `model '${model.name}' has no such layer (layers: ${[...known].join(', ')})`);
      const l = model.getLayer(name);
      if (!l.weights().some((w) => w.name === 'kernel')) throw new SharingError({ layer: name, weight: 'kernel' }, 'codebook', `layer has no kernel (weights: ${l.weights().map((w) => w.name).join(', ') || 'none'})`);
      picked.push(l);
    }
  } else {
    for (const l of model.layers) if (CLUSTERED_CLASSES.includes(l.className)) picked.push(l);
  }
  const jobs: ClusterJob[] = [];
  for (const l of picked) {
    const map = l.weight('kernel');
    const ctx = { layer: l.name, weight: 'kernel' };
    const usable = map.kind === 'dense' && !tiedSources.has(map);
    if (!usable) {
      if (!o.layers) continue;
      throw new SharingError(ctx, 'codebook', map.kind !== 'dense'
        ? `only a dense kernel can be clustered, this one is '${map.kind}' (stripSharing first)`
        : 'the kernel is tied to by another weight; clustering it would untie them');
    }
    const clusters = typeof o.clusters === 'function' ? o.clusters(l) : o.clusters;
    checkCodebookFit(ctx, map.stats().virtual, { clusters, prune: o.prune, init: o.init ?? 'linear' });
    jobs.push({ layer: l, map, clusters, path: `${l.name}/kernel` });
  }
  return jobs;
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
  for (const j of jobs) replaceMap(j.layer, j.name, new DenseMap(tensor(j.w, j.map.shape)));
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
