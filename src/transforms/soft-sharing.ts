// softWeightSharing: retrain with a learned Gaussian mixture prior, merge its components, quantise each weight to its component's mean (Ullrich et al. 2017).
import { checkOptions, quote } from '../core/errors.js';
import { add, mul } from '../core/ops/index.js';
import type { Tensor } from '../core/tensor.js';
import type { Model } from '../nn/model.js';
import { addTrainingTerm, type TermGroup } from '../nn/training-terms.js';
import { Adam } from '../optim/index.js';
import { materialize } from '../sharing/cache.js';
import { CodebookMap } from '../sharing/codebook.js';
import { SharingError } from '../sharing/registry.js';
import type { ClusteredWeight } from './cluster.js';
import { NothingToCompressError } from './deep-compression.js';
import { type GammaPrior, type MixtureState, mergeComponents, MixturePrior, responsibleComponents } from './mixture-prior.js';
import { dropOptimizerState, type ModelWeight, notDenseReason, replaceWeight, shareableWeights, valuesOf } from './select.js';
import { type CompressData, modelSizes, type PipelineHooks, stageRunner, type StageResult, type TrainEvent } from './stages.js';

/** Options of {@link softWeightSharing}: the paper's knobs, with its tutorial's values as defaults. */
export interface SoftSharingOptions {
  /** J, the mixture's components, the zero component included (default 16: 4-bit indices). */
  components?: number;
  /** π₀, the zero component's fixed proportion, in (0, 1) (default 0.99). */
  pi0?: number;
  /** τ: the loss is the data loss + (τ / N)·(−log p(w) − log p(λ)), N the training samples (default 0.003). */
  tau?: number;
  /** Epochs of retraining with the prior (default 10; the paper 30 on 60,000 samples). */
  epochs?: number;
  /** Adam learning rate of the network's weights (default 5e-4). */
  lr?: number;
  /** Adam learning rates of the mixture's means, log precisions and mixing logits (default 1e-4, 3e-3, 3e-3). */
  meanLr?: number;
  varianceLr?: number;
  mixingLr?: number;
  /** One prior over all selected weights ('model', the paper) or one per weight ('layer') (default 'model'). */
  prior?: 'model' | 'layer';
  /** Initial means (J − 1), variances (J) and proportions (J, π₀ first, summing to 1) of every prior (defaults: see MixturePriorOptions). */
  means?: readonly number[];
  variances?: readonly number[];
  proportions?: readonly number[];
  /** Gamma hyper-priors on the precisions (default zero [5000, 2], others [250, 0.1]). */
  gamma?: { zero?: GammaPrior; others?: GammaPrior };
  /** Components whose symmetric KL divergence is below this are merged before quantising (default 0.1; 0: none). */
  mergeThreshold?: number;
  /** Layers whose shareable weights the prior governs (default: every dense weight of role kernel, recurrentKernel, embedding). */
  layers?: readonly string[];
  /** Epochs of fine-tuning the centroids after quantising (default 0, as the paper), Adam at `finetuneLr` (default 1e-4). */
  finetuneEpochs?: number;
  finetuneLr?: number;
  /** Batch size of the trainings (default 64). */
  batchSize?: number;
  /** Seed of the training shuffles (default 0). */
  seed?: number;
}

/** {@link SoftSharingOptions} with every default filled in. */
export type SoftSharingSettings = Required<Omit<SoftSharingOptions, 'layers' | 'means' | 'variances' | 'proportions' | 'gamma'>> &
  Pick<SoftSharingOptions, 'layers' | 'means' | 'variances' | 'proportions' | 'gamma'>;

/** Which training a progress event belongs to: the retraining with the prior or the centroids' fine-tuning. */
export type SoftSharingPhase = 'retrain' | 'finetune';

/** What {@link softWeightSharing} reports as it goes, in this order. */
export type SoftSharingEvent =
  | { kind: 'original'; result: StageResult; bits: number; float32Bits: number; elements: number; priors: MixtureState[] }
  | TrainEvent<SoftSharingPhase>
  | { kind: 'retrained'; result: StageResult; priors: MixtureState[]; merged: MixtureState[] }
  | { kind: 'quantized'; weights: ClusteredWeight[]; result: StageResult }
  | { kind: 'finetuned'; result: StageResult };

/** What {@link softWeightSharing} did. */
export interface SoftSharingReport {
  /** Each quantised weight: its centroids (the components it uses), pruned elements (the zero component's), bits. */
  layers: ClusteredWeight[];
  before: StageResult;
  /** After retraining with the prior (weights not yet quantised). */
  retrained: StageResult;
  quantized: StageResult;
  /** After fine-tuning the centroids (= quantized with `finetuneEpochs` 0). */
  finetuned: StageResult;
  /** Each prior after retraining and after merging (one, or one per weight with prior 'layer'). */
  priors: MixtureState[];
  merged: MixtureState[];
  bits: { float32: number; before: number; after: number };
  /** bits.float32 / bits.after (before entropy coding). */
  ratio: number;
}

/** The options with their defaults; throws a one-line RangeError naming a bad option. */
export function softSharingSettings(o: SoftSharingOptions): SoftSharingSettings {
  checkOptions('softWeightSharing', o, ['components', 'pi0', 'tau', 'epochs', 'lr', 'meanLr', 'varianceLr', 'mixingLr', 'prior', 'means', 'variances', 'proportions', 'gamma', 'mergeThreshold', 'layers', 'finetuneEpochs', 'finetuneLr', 'batchSize', 'seed']);
  const s: SoftSharingSettings = {
    components: o.components ?? 16, pi0: o.pi0 ?? 0.99, tau: o.tau ?? 0.003, epochs: o.epochs ?? 10, lr: o.lr ?? 5e-4,
    meanLr: o.meanLr ?? 1e-4, varianceLr: o.varianceLr ?? 3e-3, mixingLr: o.mixingLr ?? 3e-3, prior: o.prior ?? 'model',
    mergeThreshold: o.mergeThreshold ?? 0.1, finetuneEpochs: o.finetuneEpochs ?? 0, finetuneLr: o.finetuneLr ?? 1e-4,
    batchSize: o.batchSize ?? 64, seed: o.seed ?? 0, layers: o.layers, means: o.means, variances: o.variances, proportions: o.proportions, gamma: o.gamma,
  };
  const fail = (k: string, want: string): never => { throw new RangeError(`softWeightSharing: ${k} must be ${want}, got ${quote((s as Record<string, unknown>)[k])}`); };
  for (const k of ['tau', 'mergeThreshold'] as const) if (!(Number.isFinite(s[k]) && s[k] >= 0)) fail(k, 'a finite number ≥ 0');
  for (const k of ['lr', 'meanLr', 'varianceLr', 'mixingLr', 'finetuneLr'] as const) if (!(Number.isFinite(s[k]) && s[k] > 0)) fail(k, 'a finite number > 0');
  for (const k of ['epochs', 'finetuneEpochs'] as const) if (!(Number.isInteger(s[k]) && s[k] >= 0)) fail(k, 'an integer ≥ 0');
  if (!(Number.isInteger(s.batchSize) && s.batchSize >= 1)) fail('batchSize', 'an integer ≥ 1');
  if (s.prior !== 'model' && s.prior !== 'layer') fail('prior', "'model' or 'layer'");
  return s;
}

/** The dense weights a prior governs (throws a SharingError for a named layer whose weight is not dense). */
function selectWeights(model: Model, layers: readonly string[] | undefined): ModelWeight[] {
  model.build();
  const out: ModelWeight[] = [];
  for (const w of shareableWeights(model, layers, 'soft-sharing')) {
    if (w.map.kind === 'dense') out.push(w);
    else if (layers) throw new SharingError({ layer: w.layer.name, weight: w.name }, 'soft-sharing', notDenseReason(w, 'soft-share'));
  }
  return out;
}

/**
 * The codebook of one weight from its components: the means of the non-zero components it uses (at least two
 * centroids, so that a saved codebook's config stays valid), each element coded by its component, zero-component
 * elements pruned (code K).
 */
function codebookOf(values: Float32Array, shape: readonly number[], s: MixtureState): CodebookMap {
  const comp = responsibleComponents(values, s);
  const used = [...new Set(comp)].filter((j) => j !== 0).sort((a, b) => s.means[a] - s.means[b]);
  const index = new Map(used.map((j, k) => [j, k]));
  const centroids = used.map((j) => s.means[j]);
  while (centroids.length < 2) centroids.push(0);
  const assign = Int32Array.from(comp, (j) => index.get(j) ?? 0);
  const mask = Float32Array.from(comp, (j) => (j === 0 ? 0 : 1));
  const n = comp.length, pruned = n - mask.reduce((a, b) => a + b, 0);
  // The config's prune only shapes the fit a load starts from (the stored codes are the truth), but that fit must have a
  // zero code (⌊prune·n⌋ ≥ 1, hence the +½) and keep at least K elements (at most n − K pruned, even when all are).
  const recorded = (Math.min(pruned, n - centroids.length) + 0.5) / n;
  return new CodebookMap(shape, Float32Array.from(centroids), assign, pruned ? mask : undefined, { init: 'linear', seed: 0, prune: recorded });
}

/**
 * Soft weight-sharing (Ullrich, Meeds & Welling, ICLR 2017) of a trained, compiled model, in place: a Gaussian
 * mixture prior (a zero component with fixed mean 0 and proportion π₀, J − 1 learned components, Gamma hyper-priors
 * on the precisions) is put over the selected weights, the network is retrained with loss = data loss + (τ/N)·(−log
 * p(w) − log p(λ)) (Adam; the mixture's means, log precisions and mixing logits each by their own Adam and learning
 * rate), then close components are merged and each weight element is set to the mean of its most responsible
 * component: W becomes a codebook (pruned where the zero component wins), so files, export and inspection treat it
 * like Deep Compression's. Options are checked before any work; {@link NothingToCompressError} when no weight is dense.
 */
export async function softWeightSharing(
  model: Model, data: CompressData, options: SoftSharingOptions = {}, hooks: PipelineHooks<SoftSharingEvent> = {},
): Promise<SoftSharingReport> {
  const s = softSharingSettings(options);
  const emit = hooks.onProgress ?? (() => {});
  const { evaluate, train } = stageRunner<SoftSharingPhase>('softWeightSharing', model, data, s, emit, hooks.signal);
  const weights = selectWeights(model, s.layers);
  if (!weights.length) throw new NothingToCompressError(shareableWeights(model, undefined, 'soft-sharing').map((w) => `${w.path} is '${w.map.kind}'`).join(', '));
  const prior = { components: s.components, pi0: s.pi0, means: s.means, variances: s.variances, proportions: s.proportions, gamma: s.gamma };
  const groups: { prior: MixturePrior; weights: ModelWeight[] }[] = s.prior === 'model'
    ? [{ prior: new MixturePrior(Float32Array.from(weights.flatMap((w) => [...valuesOf(w.map)])), prior, 'softWeightSharing'), weights }]
    : weights.map((w) => ({ prior: new MixturePrior(valuesOf(w.map), prior, `softWeightSharing (${w.path})`), weights: [w] }));
  const optimizers = [new Adam({ learningRate: s.meanLr }), new Adam({ learningRate: s.varianceLr }), new Adam({ learningRate: s.mixingLr })];
  try {
    const before = evaluate();
    const size0 = modelSizes(model);
    const elements = weights.reduce((n, w) => n + w.map.stats().virtual, 0);
    emit({ kind: 'original', result: before, bits: size0.bits, float32Bits: size0.float32Bits, elements, priors: groups.map((g) => g.prior.state()) });
    const scale = s.tau / data.train.y.shape[0];
    const params = groups.map((g) => g.prior.parameters());
    const termGroups: TermGroup[] = [
      { params: params.map((p) => p.means), optimizer: optimizers[0] },
      { params: params.map((p) => p.gammas), optimizer: optimizers[1] },
      { params: params.map((p) => p.rhos), optimizer: optimizers[2] },
    ];
    const remove = addTrainingTerm(model, {
      name: 'mixture prior', groups: termGroups,
      loss: (): Tensor => {
        const nll = groups.map((g) => g.prior.negLogLikelihood(g.weights.map((w) => materialize(w.map))));
        return mul(nll.reduce((a, b) => add(a, b)), scale);
      },
    });
    let retrained: StageResult;
    try {
      retrained = s.epochs > 0 ? await train('retrain', s.epochs, s.lr) : evaluate();
    } finally {
      remove();
    }
    const priors = groups.map((g) => g.prior.state());
    const merged = priors.map((p) => mergeComponents(p, s.mergeThreshold));
    emit({ kind: 'retrained', result: retrained, priors, merged });
    dropOptimizerState(model);
    const layers: ClusteredWeight[] = [];
    groups.forEach((g, k) => {
      for (const w of g.weights) {
        const values = valuesOf(w.map);
        const cb = codebookOf(values, w.map.shape, merged[k]);
        replaceWeight(model, w, cb);
        w.map.dispose();
        layers.push({ path: w.path, weights: values.length, clusters: cb.clusters, pruned: values.length - cb.kept(), bitsBefore: 32 * values.length, bitsAfter: cb.stats().bits });
      }
    });
    const quantized = evaluate();
    emit({ kind: 'quantized', weights: layers, result: quantized });
    let finetuned = quantized;
    if (s.finetuneEpochs > 0) {
      finetuned = await train('finetune', s.finetuneEpochs, s.finetuneLr);
      emit({ kind: 'finetuned', result: finetuned });
    }
    const size1 = modelSizes(model);
    return {
      layers, before, retrained, quantized, finetuned, priors, merged,
      bits: { float32: size0.float32Bits, before: size0.bits, after: size1.bits }, ratio: size0.float32Bits / size1.bits,
    };
  } finally {
    for (const g of groups) g.prior.dispose();
    for (const o of optimizers) o.dispose();
  }
}
