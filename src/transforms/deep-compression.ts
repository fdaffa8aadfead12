// deepCompress: Deep Compression's pipeline (prune, retrain with masks fixed, k-means weight sharing, fine-tune the centroids) on a trained model.
import { checkOptions } from '../core/errors.js';
import type { Model } from '../nn/model.js';
import type { KMeansInit } from '../sharing/kmeans.js';
import { type ClusteredWeight, type ClusterOptions, clusterWeights, planClusters } from './cluster.js';
import { planPrune, type PrunedWeight, type PruneOptions, pruneWeights } from './prune.js';
import { byLayer, type ModelWeight, namesLayer, shareableWeights } from './select.js';
import { checkSchedule, gradualPruning, type PolynomialDecayOptions, SCHEDULE_KEYS } from './prune-schedule.js';
import { type CompressData, modelSizes, type PipelineHooks, stageRunner, type StageResult, type TrainEvent } from './stages.js';

export type { StageResult } from './stages.js';

/** Options of {@link deepCompress}; weights of rank > 2 (convolution windows: Conv2D's, LocallyConnected2D's kernels) take the `conv…` settings. */
export interface DeepCompressOptions {
  /** Centroids per weight (Deep Compression: 32 for fully connected layers). */
  clusters: number;
  /** Centroids per convolution weight (default: `clusters`; Deep Compression: 256). */
  convClusters?: number;
  /** Fraction in [0, 1) of each weight's smallest-magnitude elements set to zero for good (default 0). */
  prune?: number;
  /** Pruned fraction of convolution weights (default: `prune`). */
  convPrune?: number;
  /** Pruned fractions of single layers by name, overriding `prune` / `convPrune` (e.g. LeNet-300-100's `{ dense: 0.92, dense_1: 0.91, dense_2: 0.74 }`). */
  layerPrune?: Readonly<Record<string, number>>;
  /** Epochs of retraining the survivors with the masks fixed between pruning and clustering (default 0: prune and cluster in one shot). */
  pruneFinetuneEpochs?: number;
  /** Adam learning rate of that retraining (default: `lr`). */
  pruneLr?: number;
  /**
   * Prune gradually during that retraining instead of at once (TF-MOT PolynomialDecay: from `initialSparsity` at
   * `beginStep` to each weight's pruned fraction at `endStep`, default ¾ of the retraining's steps, every `frequency`
   * steps, power 3); needs `pruneFinetuneEpochs` > 0.
   */
  pruneSchedule?: Omit<PolynomialDecayOptions, 'endStep'> & { endStep?: number };
  /** k-means initialisation (default 'linear'). */
  init?: KMeansInit;
  /** Layers whose shareable weights to compress (default: every weight with a shareable role). */
  layers?: readonly string[];
  /** Epochs of fine-tuning the centroids after clustering (default 2; 0: none). */
  finetuneEpochs?: number;
  /** Adam learning rate of the fine-tuning (default 1e-4). */
  lr?: number;
  /** Batch size of both trainings (default 32). */
  batchSize?: number;
  /** Seed of the k-means initialisation (random, kmeans++) and of the training shuffles (default 0). */
  seed?: number;
}

/** {@link DeepCompressOptions} with every default filled in. */
export type DeepCompressSettings = Required<Omit<DeepCompressOptions, 'layers' | 'pruneSchedule'>> & Pick<DeepCompressOptions, 'layers' | 'pruneSchedule'>;

/** The data of {@link deepCompress} (see {@link CompressData}). */
export type DeepCompressData = CompressData;

/** Which training a progress event belongs to: the retraining after pruning or the centroids' fine-tuning. */
export type DeepCompressPhase = 'retrain' | 'finetune';

/**
 * What {@link deepCompress} reports as it goes, in this order (the pruning events only with `pruneFinetuneEpochs` > 0;
 * with a `pruneSchedule`, 'pruned' comes after the retraining that pruned gradually, with the same result as 'retrained').
 */
export type DeepCompressEvent =
  | { kind: 'original'; result: StageResult; bits: number; float32Bits: number }
  | { kind: 'pruned'; weights: PrunedWeight[]; result: StageResult; bits: number }
  | TrainEvent<DeepCompressPhase>
  | { kind: 'retrained'; result: StageResult }
  | { kind: 'clustered'; weights: ClusteredWeight[]; result: StageResult }
  | { kind: 'finetuned'; result: StageResult };

/** What {@link deepCompress} did: each stage's weights and accuracy, and the bits stored before and after. */
export interface DeepCompressReport {
  /** The clustered weights. */
  layers: ClusteredWeight[];
  /** Before any change. */
  before: StageResult;
  /** With `pruneFinetuneEpochs` > 0: the pruned weights, accuracy right after pruning and after retraining, bits stored and the ratio to float32. */
  pruning?: { layers: PrunedWeight[]; pruned: StageResult; retrained: StageResult; bits: number; ratio: number };
  clustered: StageResult;
  /** After fine-tuning the centroids (= clustered with `finetuneEpochs` 0). */
  finetuned: StageResult;
  /** 32 bits per element of every W, and the bits the weights' maps store before and after. */
  bits: { float32: number; before: number; after: number };
  /** bits.float32 / bits.after (before entropy coding). */
  ratio: number;
}

/** Thrown by {@link deepCompress} before any work when no selected weight is plain (dense). */
export class NothingToCompressError extends Error {
  constructor(
    /** The shareable weights and their schemes, e.g. "dense/kernel is 'hashed', dense_1/kernel is 'hashed'". */
    readonly found: string,
  ) {
    super(`no kernel to compress (${found || 'the model has no kernels'}); deepCompress clusters and prunes plain (dense) weights of roles kernel, recurrentKernel, embedding`);
    this.name = 'NothingToCompressError';
  }
}

/** The options with their defaults. */
export function deepCompressSettings(o: DeepCompressOptions): DeepCompressSettings {
  checkOptions('deepCompress', o, ['clusters', 'convClusters', 'prune', 'convPrune', 'layerPrune', 'pruneFinetuneEpochs', 'pruneLr', 'pruneSchedule', 'init', 'layers', 'finetuneEpochs', 'lr', 'batchSize', 'seed']);
  const prune = o.prune ?? 0, lr = o.lr ?? 1e-4;
  return {
    clusters: o.clusters, convClusters: o.convClusters ?? o.clusters, prune, convPrune: o.convPrune ?? prune, layerPrune: o.layerPrune ?? {},
    pruneFinetuneEpochs: o.pruneFinetuneEpochs ?? 0, pruneLr: o.pruneLr ?? lr, init: o.init ?? 'linear', layers: o.layers,
    finetuneEpochs: o.finetuneEpochs ?? 2, lr, batchSize: o.batchSize ?? 32, seed: o.seed ?? 0, pruneSchedule: o.pruneSchedule,
  };
}

/**
 * Deep Compression (Han et al. 2016) of a trained, compiled model, in place: with `pruneFinetuneEpochs` > 0 the
 * selected weights are first pruned by magnitude into W = θ ⊙ mask ({@link pruneWeights}) and the network retrained
 * with the masks fixed (Adam, `pruneLr`); then each weight is clustered into a codebook ({@link clusterWeights}: the
 * smallest `prune` fraction zeroed unless already pruned, 1-D k-means on the survivors) and only the centroids are
 * fine-tuned (Adam, `lr`). The model's loss is kept; its optimizer is replaced. Every option is checked before any
 * work (SharingErrors naming the layer, the scheme and the range; {@link NothingToCompressError} when no weight
 * qualifies). `onProgress` hears each stage as it ends (see {@link DeepCompressEvent}).
 */
export async function deepCompress(
  model: Model, data: DeepCompressData, options: DeepCompressOptions, hooks: PipelineHooks<DeepCompressEvent> = {},
): Promise<DeepCompressReport> {
  const s = deepCompressSettings(options);
  const emit = hooks.onProgress ?? (() => {});
  const { evaluate, train } = stageRunner<DeepCompressPhase>('deepCompress', model, data, s, emit, hooks.signal);
  const conv = (w: ModelWeight): boolean => w.map.shape.length > 2;
  const weights = model.weights();
  for (const name of Object.keys(s.layerPrune)) {
    if (!namesLayer(model, name, weights)) throw new RangeError(`deepCompress: layerPrune names no layer of model '${model.name}': '${name}' (layers: ${model.layers.map((l) => l.name).join(', ')}; a sublayer by path, e.g. 'block/dense')`);
  }
  const pruneOf = (w: ModelWeight): number => byLayer(s.layerPrune, w) ?? (conv(w) ? s.convPrune : s.prune);
  const staged = s.pruneFinetuneEpochs > 0;
  const cluster: ClusterOptions = { clusters: (w) => (conv(w) ? s.convClusters : s.clusters), init: s.init, prune: pruneOf, layers: s.layers, seed: s.seed };
  const prune: PruneOptions = { prune: pruneOf, layers: s.layers };
  // Bad options fail here, before any work (the clusters are checked against the weights that pruning keeps).
  if (staged) planPrune(model, prune);
  let schedule: PolynomialDecayOptions | undefined;
  if (s.pruneSchedule) {
    if (!staged) throw new RangeError(`deepCompress: pruneSchedule prunes during the retraining, so it needs pruneFinetuneEpochs > 0, got ${s.pruneFinetuneEpochs}`);
    const steps = s.pruneFinetuneEpochs * Math.ceil(data.train.y.shape[0] / s.batchSize);
    checkOptions('deepCompress: pruneSchedule', s.pruneSchedule, SCHEDULE_KEYS);
    schedule = { ...s.pruneSchedule, endStep: s.pruneSchedule.endStep ?? Math.max(s.pruneSchedule.beginStep ?? 0, Math.floor(0.75 * steps)) };
    checkSchedule('deepCompress: pruneSchedule', schedule);
  }
  if (planClusters(model, cluster).length === 0) {
    throw new NothingToCompressError(shareableWeights(model, undefined, 'codebook').map((w) => `${w.path} is '${w.map.kind}'`).join(', '));
  }
  const before = evaluate();
  const size0 = modelSizes(model);
  emit({ kind: 'original', result: before, bits: size0.bits, float32Bits: size0.float32Bits });
  let pruning: DeepCompressReport['pruning'];
  if (staged && schedule) {
    const gradual = gradualPruning(model, { ...schedule, finalSparsity: pruneOf, layers: s.layers });
    const retrained = await train('retrain', s.pruneFinetuneEpochs, s.pruneLr, [gradual]);
    const layers = gradual.report();
    const bits = modelSizes(model).bits;
    emit({ kind: 'pruned', weights: layers, result: retrained, bits });
    emit({ kind: 'retrained', result: retrained });
    pruning = { layers, pruned: retrained, retrained, bits, ratio: size0.float32Bits / bits };
  } else if (staged) {
    const layers = pruneWeights(model, prune);
    const pruned = evaluate();
    const bits = modelSizes(model).bits;
    emit({ kind: 'pruned', weights: layers, result: pruned, bits });
    const retrained = await train('retrain', s.pruneFinetuneEpochs, s.pruneLr);
    emit({ kind: 'retrained', result: retrained });
    pruning = { layers, pruned, retrained, bits, ratio: size0.float32Bits / bits };
  }
  // After the staged pruning the pruned weights keep their masks (prune 0 here); the others are pruned as in one shot (0 when staged).
  const layers = clusterWeights(model, staged ? { ...cluster, prune: 0 } : cluster);
  const clustered = evaluate();
  emit({ kind: 'clustered', weights: layers, result: clustered });
  let finetuned = clustered;
  if (s.finetuneEpochs > 0) {
    finetuned = await train('finetune', s.finetuneEpochs, s.lr);
    emit({ kind: 'finetuned', result: finetuned });
  }
  const size1 = modelSizes(model);
  return {
    layers, before, ...(pruning ? { pruning } : {}), clustered, finetuned,
    bits: { float32: size0.float32Bits, before: size0.bits, after: size1.bits }, ratio: size0.float32Bits / size1.bits,
  };
}
