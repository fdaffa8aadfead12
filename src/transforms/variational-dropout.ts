// sparseVariationalDropout: retrain with sparse variational dropout (Molchanov, Ashukha & Vetrov, ICML 2017), prune the weights whose dropout rate α is large, cluster the survivors into pruned codebooks.
import { checkOptions, quote } from '../core/errors.js';
import { keep } from '../core/engine.js';
import { add, exp, log, maximum, minimum, mul, neg, randomNormal, sigmoid, square, sub, sum, tensor } from '../core/ops/index.js';
import { sizeOf, type Shape } from '../core/shape.js';
import type { Tensor } from '../core/tensor.js';
import type { Model } from '../nn/model.js';
import { addTrainingTerm } from '../nn/training-terms.js';
import { PrunedMap } from '../sharing/pruned.js';
import { SharingError } from '../sharing/registry.js';
import { Parameter, type WeightMap, type WeightMapConfig, type WeightMapStats } from '../sharing/weight-map.js';
import { type ClusteredWeight, clusterWeights } from './cluster.js';
import { NothingToCompressError } from './deep-compression.js';
import { byLayer, dropOptimizerState, type ModelWeight, namesLayer, notDenseReason, replaceWeight, shareableWeights, valuesOf } from './select.js';
import { type CompressData, modelSizes, type PipelineHooks, stageRunner, type StageResult, type TrainEvent } from './stages.js';

/** Options of {@link sparseVariationalDropout}. */
export interface VariationalDropoutOptions {
  /** Epochs of retraining with the variational objective (default 10). */
  epochs?: number;
  /** Adam learning rate of that retraining, for θ and log σ² (default 5e-4, as the CLI's --weight-lr). */
  lr?: number;
  /** Weight of the KL term relative to the ELBO's 1/N per sample (default 1: the paper's objective). */
  klWeight?: number;
  /** Epochs over which the KL weight ramps linearly from 0 to klWeight (default 0: full weight from the start). */
  klWarmup?: number;
  /** log α above which a weight is pruned (default 3, the paper's: α > e³ ≈ 20, a dropout rate above 0.95). */
  threshold?: number;
  /**
   * KL weights of single layers (or sublayers by path, 'block/dense'), overriding `klWeight` for their weights: a layer
   * whose pruning costs accuracy can be regularised less (warmed up as `klWeight` is).
   */
  layerKlWeight?: Readonly<Record<string, number>>;
  /** Thresholds of single layers (or sublayers by path), overriding `threshold` for their weights. */
  layerThreshold?: Readonly<Record<string, number>>;
  /** Initial log σ² of every weight (default −10: almost no noise at the start). */
  initLogSigma2?: number;
  /**
   * Epochs of retraining the surviving weights with the masks fixed after pruning, before clustering (default 0: none;
   * Deep Compression's retraining: the noise-free network recovers what the noisy training cost), Adam at `pruneLr`
   * (default: `lr`).
   */
  pruneFinetuneEpochs?: number;
  pruneLr?: number;
  /** Centroids per surviving weight set (default 16). */
  clusters?: number;
  /** Centroids per surviving Conv2D/LocallyConnected2D kernel (a weight of rank > 2; default `clusters`). */
  convClusters?: number;
  /** Epochs of fine-tuning the centroids after clustering (default 2), Adam at `finetuneLr` (default 1e-4). */
  finetuneEpochs?: number;
  finetuneLr?: number;
  /** Layers whose dense kernel-like weights to sparsify (default: every weight of role kernel, recurrentKernel, embedding). */
  layers?: readonly string[];
  /** Batch size of the trainings (default 64). */
  batchSize?: number;
  /** Seed of the training shuffles, the weight noise and k-means (default 0). */
  seed?: number;
}

/** {@link VariationalDropoutOptions} with every default filled in. */
export type VariationalDropoutSettings = Required<Omit<VariationalDropoutOptions, 'layers'>> & Pick<VariationalDropoutOptions, 'layers'>;

/** Which training a progress event belongs to. */
export type VariationalDropoutPhase = 'retrain' | 'masked' | 'finetune';

/** Per weight after the retraining: elements, those pruned (log α above the threshold), and its mean log α. */
export interface SparsifiedWeight {
  path: string;
  weights: number;
  pruned: number;
  meanLogAlpha: number;
}

/** What {@link sparseVariationalDropout} reports as it goes, in this order. */
export type VariationalDropoutEvent =
  | { kind: 'original'; result: StageResult; bits: number; float32Bits: number; elements: number }
  | TrainEvent<VariationalDropoutPhase>
  | { kind: 'sparsified'; weights: SparsifiedWeight[]; result: StageResult }
  | { kind: 'masked'; result: StageResult }
  | { kind: 'clustered'; weights: ClusteredWeight[]; result: StageResult }
  | { kind: 'finetuned'; result: StageResult };

/** What {@link sparseVariationalDropout} did. */
export interface VariationalDropoutReport {
  before: StageResult;
  /** After pruning at the threshold (the deterministic network θ ⊙ [log α < threshold]). */
  sparsified: StageResult;
  /** After retraining the survivors with the masks fixed (= sparsified with `pruneFinetuneEpochs` 0). */
  masked: StageResult;
  clustered: StageResult;
  finetuned: StageResult;
  sparsity: SparsifiedWeight[];
  layers: ClusteredWeight[];
  bits: { float32: number; before: number; after: number };
  ratio: number;
}

/** The options with their defaults; throws a one-line RangeError naming a bad option. */
export function variationalDropoutSettings(o: VariationalDropoutOptions): VariationalDropoutSettings {
  checkOptions('sparseVariationalDropout', o, ['epochs', 'lr', 'klWeight', 'klWarmup', 'threshold', 'initLogSigma2', 'layerKlWeight', 'layerThreshold', 'pruneFinetuneEpochs', 'pruneLr', 'clusters', 'convClusters', 'finetuneEpochs', 'finetuneLr', 'layers', 'batchSize', 'seed']);
  const s: VariationalDropoutSettings = {
    epochs: o.epochs ?? 10, lr: o.lr ?? 5e-4, klWeight: o.klWeight ?? 1, klWarmup: o.klWarmup ?? 0, threshold: o.threshold ?? 3,
    layerKlWeight: o.layerKlWeight ?? {}, layerThreshold: o.layerThreshold ?? {},
    initLogSigma2: o.initLogSigma2 ?? -10, pruneFinetuneEpochs: o.pruneFinetuneEpochs ?? 0, pruneLr: o.pruneLr ?? o.lr ?? 5e-4, clusters: o.clusters ?? 16,
    convClusters: o.convClusters ?? o.clusters ?? 16, finetuneEpochs: o.finetuneEpochs ?? 2, finetuneLr: o.finetuneLr ?? 1e-4,
    batchSize: o.batchSize ?? 64, seed: o.seed ?? 0, layers: o.layers,
  };
  const fail = (k: string, want: string): never => { throw new RangeError(`sparseVariationalDropout: ${k} must be ${want}, got ${quote((s as Record<string, unknown>)[k])}`); };
  for (const k of ['lr', 'pruneLr', 'finetuneLr'] as const) if (!(Number.isFinite(s[k]) && s[k] > 0)) fail(k, 'a finite number > 0');
  if (!(Number.isFinite(s.klWeight) && s.klWeight >= 0)) fail('klWeight', 'a finite number ≥ 0');
  for (const k of ['threshold', 'initLogSigma2'] as const) if (!Number.isFinite(s[k])) fail(k, 'a finite number');
  for (const k of ['epochs', 'klWarmup', 'pruneFinetuneEpochs', 'finetuneEpochs'] as const) if (!(Number.isInteger(s[k]) && s[k] >= 0)) fail(k, 'an integer ≥ 0');
  for (const k of ['clusters', 'convClusters'] as const) if (!(Number.isInteger(s[k]) && s[k] >= 2 && s[k] <= 256)) fail(k, 'an integer in [2, 256]');
  const failLayer = (k: string, name: string, v: number, want: string): never => {
    throw new RangeError(`sparseVariationalDropout: ${k}['${name}'] must be ${want}, got ${quote(v)}`);
  };
  for (const [name, v] of Object.entries(s.layerKlWeight)) if (!(Number.isFinite(v) && v >= 0)) failLayer('layerKlWeight', name, v, 'a finite number ≥ 0');
  for (const [name, v] of Object.entries(s.layerThreshold)) if (!Number.isFinite(v)) failLayer('layerThreshold', name, v, 'a finite number');
  if (!(Number.isInteger(s.batchSize) && s.batchSize >= 1)) fail('batchSize', 'an integer ≥ 1');
  if (!Number.isInteger(s.seed)) fail('seed', 'an integer');
  return s;
}

// The paper's approximation of −KL(q(w | θ, α) ‖ p(w)) for the log-uniform prior: k1·σ(k2 + k3·log α) − ½·log(1 + 1/α) − k1.
const K1 = 0.63576, K2 = 1.8732, K3 = 1.48695;
/** log α is clamped to this range in the KL term, as reference implementations do (beyond it the term is flat). */
const LOG_ALPHA_RANGE = 10;

/**
 * W during the retraining: θ plus Gaussian noise of variance σ² (the additive reparameterisation, log σ² trained
 * rather than α, for the paper's lower-variance gradients), fresh at each forward pass (seeded by pass); outside
 * training, the deterministic θ ⊙ [log α < threshold]. Lives only inside {@link sparseVariationalDropout}.
 */
class VariationalMap implements WeightMap {
  readonly kind = 'variational';
  readonly shape: Shape;
  private training = true;
  /** The kept mask, computed once when training ends (θ and σ² no longer change then). */
  private mask: Float32Array | undefined;
  private pass = 0;
  readonly theta: Parameter;
  readonly logSigma2: Parameter;

  constructor(shape: Shape, values: Float32Array, initLogSigma2: number, private readonly seed: number, private readonly threshold: number) {
    this.shape = [...shape];
    this.theta = new Parameter(keep(tensor(Float32Array.from(values), this.shape)), 'theta');
    this.logSigma2 = new Parameter(keep(tensor(new Float32Array(values.length).fill(initLogSigma2), this.shape)), 'log_sigma2');
  }

  parameters(): Parameter[] {
    return [this.theta, this.logSigma2];
  }

  materialize(): Tensor {
    if (!this.training) return mul(this.theta.value, tensor(this.keptMask(), this.shape));
    const noise = randomNormal(this.shape, { seed: (this.seed + 0x9e3779b9 * ++this.pass) >>> 0 });
    return add(this.theta.value, mul(exp(mul(this.logSigma2.value, 0.5)), noise));
  }

  /** log α = log σ² − log θ², clamped to ±LOG_ALPHA_RANGE (differentiable). */
  logAlpha(): Tensor {
    const raw = sub(this.logSigma2.value, log(add(square(this.theta.value), 1e-8)));
    return minimum(maximum(raw, -LOG_ALPHA_RANGE), LOG_ALPHA_RANGE);
  }

  /** KL(q ‖ p) summed over the weight's elements (the paper's approximation). */
  kl(): Tensor {
    const la = this.logAlpha();
    const negKl = sub(sub(mul(sigmoid(add(mul(la, K3), K2)), K1), mul(log(add(exp(neg(la)), 1)), 0.5)), K1);
    return neg(sum(negKl));
  }

  /** Noisy weights (training) or the deterministic, pruned ones. */
  setTraining(on: boolean): void {
    this.training = on;
    this.mask = undefined;
  }

  /** 1 where log α is below the threshold (kept), 0 where above (pruned); outside training computed once and shared. */
  keptMask(): Float32Array {
    if (this.mask && !this.training) return this.mask;
    const theta = this.theta.value.f32(), ls = this.logSigma2.value.f32();
    const mask = Float32Array.from(theta, (t, i) => (ls[i]! - Math.log(t * t + 1e-8) < this.threshold ? 1 : 0));
    if (!this.training) this.mask = mask;
    return mask;
  }

  /** Mean log α (unclamped) over the elements. */
  meanLogAlpha(): number {
    const theta = this.theta.value.f32(), ls = this.logSigma2.value.f32();
    let s = 0;
    theta.forEach((t, i) => (s += ls[i]! - Math.log(t * t + 1e-8)));
    return s / Math.max(1, theta.length);
  }

  stats(): WeightMapStats {
    const n = sizeOf(this.shape);
    return { virtual: n, free: 2 * n, bits: 64 * n };
  }

  toJSON(): WeightMapConfig {
    return { kind: 'variational' };
  }

  dispose(): void {
    this.theta.value.dispose();
    this.logSigma2.value.dispose();
  }
}

/**
 * Sparse variational dropout (Molchanov, Ashukha & Vetrov, ICML 2017) of a trained, compiled model, in place: each
 * selected dense weight gets a per-element noise variance σ² (log σ² from `initLogSigma2`), the network is retrained on
 * the data loss plus klWeight/N · KL(q ‖ log-uniform prior) with noisy weights θ + σ·ε (one draw per forward pass; the
 * paper draws per sample through the layer's pre-activations, a lower-variance estimator of the same objective), the
 * weights whose log α = log σ² − log θ² exceeds `threshold` are pruned, and the survivors are clustered into pruned
 * codebooks (k-means of the kept values, `clusters` centroids) and fine-tuned: the same pruned-codebook file as Deep
 * Compression's. Options are checked before any work; {@link NothingToCompressError} when no weight is dense.
 */
export async function sparseVariationalDropout(
  model: Model, data: CompressData, options: VariationalDropoutOptions = {}, hooks: PipelineHooks<VariationalDropoutEvent> = {},
): Promise<VariationalDropoutReport> {
  const s = variationalDropoutSettings(options);
  const emit = hooks.onProgress ?? (() => {});
  const { evaluate, train } = stageRunner<VariationalDropoutPhase>('sparseVariationalDropout', model, data, s, emit, hooks.signal);
  model.build();
  const weights: ModelWeight[] = [];
  for (const w of shareableWeights(model, s.layers, 'variational dropout')) {
    if (w.map.kind === 'dense') weights.push(w);
    else if (s.layers) throw new SharingError({ layer: w.layer.name, weight: w.name }, 'variational dropout', notDenseReason(w, 'sparsify'));
  }
  if (!weights.length) throw new NothingToCompressError(shareableWeights(model, undefined, 'variational dropout').map((w) => `${w.path} is '${w.map.kind}'`).join(', '));
  for (const [k, byName] of [['layerKlWeight', s.layerKlWeight], ['layerThreshold', s.layerThreshold]] as const) {
    for (const name of Object.keys(byName)) {
      if (!namesLayer(model, name, weights)) {
        throw new RangeError(`sparseVariationalDropout: ${k} names no layer of model '${model.name}': '${name}' (layers: ${model.layers.map((l) => l.name).join(', ')}; a sublayer by path, e.g. 'block/dense')`);
      }
    }
  }
  const klWeightOf = (w: ModelWeight): number => byLayer(s.layerKlWeight, w) ?? s.klWeight;
  const before = evaluate();
  const size0 = modelSizes(model);
  const elements = weights.reduce((n, w) => n + w.map.stats().virtual, 0);
  emit({ kind: 'original', result: before, bits: size0.bits, float32Bits: size0.float32Bits, elements });
  dropOptimizerState(model);
  const maps = weights.map((w, k) => {
    const vm = new VariationalMap(w.map.shape, valuesOf(w.map), s.initLogSigma2, (s.seed * 1000003 + k) >>> 0, byLayer(s.layerThreshold, w) ?? s.threshold);
    replaceWeight(model, w, vm);
    w.map.dispose();
    return { w: { ...w, map: vm as WeightMap }, vm, klWeight: klWeightOf(w) };
  });
  const samples = data.train.y.shape[0];
  let epoch = 0;
  const remove = addTrainingTerm(model, {
    name: 'variational dropout KL',
    loss: (): Tensor => {
      const ramp = s.klWarmup > 0 ? Math.min(1, (epoch + 1) / s.klWarmup) : 1;
      // Weights sharing a KL weight are summed first: with no per-layer weights this is the one product it always was.
      const byWeight = new Map<number, Tensor>();
      for (const m of maps) byWeight.set(m.klWeight, byWeight.has(m.klWeight) ? add(byWeight.get(m.klWeight)!, m.vm.kl()) : m.vm.kl());
      return [...byWeight].map(([weight, kl]) => mul(kl, (ramp * weight) / samples)).reduce((a, b) => add(a, b));
    },
  });
  const setTraining = (on: boolean): void => maps.forEach((m) => m.vm.setTraining(on));
  try {
    // Noisy weights for the training steps only: the evaluation that ends the stage sees the deterministic, pruned network.
    setTraining(true);
    if (s.epochs > 0) await train('retrain', s.epochs, s.lr, [{ onEpochEnd: () => void epoch++, onTrainEnd: () => setTraining(false) }]);
  } finally {
    remove();
    setTraining(false);
  }
  const sparsity: SparsifiedWeight[] = maps.map(({ w, vm }) => {
    const mask = vm.keptMask();
    return { path: w.path, weights: mask.length, pruned: mask.length - mask.reduce((a, b) => a + b, 0), meanLogAlpha: vm.meanLogAlpha() };
  });
  const sparsified = evaluate();
  emit({ kind: 'sparsified', weights: sparsity, result: sparsified });
  // θ ⊙ mask as pruned maps, then k-means of the survivors: pruned codebooks.
  dropOptimizerState(model);
  const clusters = new Map<string, number>();
  for (const { w, vm } of maps) {
    const mask = vm.keptMask().slice();
    const theta = vm.theta.value.f32();
    // A codebook needs two survivors at least: the largest |θ| come back when fewer survive.
    for (let need = 2 - mask.reduce((a, b) => a + b, 0); need > 0; need--) {
      let best = -1;
      theta.forEach((t, i) => void (!mask[i] && (best < 0 || Math.abs(t) > Math.abs(theta[best]!)) && (best = i)));
      mask[best] = 1;
    }
    const kept = mask.reduce((a, b) => a + b, 0);
    clusters.set(w.path, Math.min(w.map.shape.length > 2 ? s.convClusters : s.clusters, kept));
    const pm = new PrunedMap(w.map.shape, theta, mask, (mask.length - kept) / mask.length);
    replaceWeight(model, w, pm);
    vm.dispose();
  }
  let masked = sparsified;
  if (s.pruneFinetuneEpochs > 0) {
    masked = await train('masked', s.pruneFinetuneEpochs, s.pruneLr);
    emit({ kind: 'masked', result: masked });
    dropOptimizerState(model);
  }
  const layers = clusterWeights(model, { clusters: (w) => clusters.get(w.path) ?? s.clusters, layers: s.layers, seed: s.seed });
  const clustered = evaluate();
  emit({ kind: 'clustered', weights: layers, result: clustered });
  let finetuned = clustered;
  if (s.finetuneEpochs > 0) {
    finetuned = await train('finetune', s.finetuneEpochs, s.finetuneLr);
    emit({ kind: 'finetuned', result: finetuned });
  }
  const size1 = modelSizes(model);
  return { before, sparsified, masked, clustered, finetuned, sparsity, layers, bits: { float32: size1.float32Bits, before: size0.bits, after: size1.bits }, ratio: size1.float32Bits / size1.bits };
}
