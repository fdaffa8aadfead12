// Gradual magnitude pruning during training (Zhu & Gupta 2017; TF-MOT's prune_low_magnitude with PolynomialDecay): masks that tighten on a schedule.
import { checkOptions, quote } from '../core/errors.js';
import { type Model, requireModel } from '../nn/model.js';
import type { Callback } from '../nn/training.js';
import { magnitudeMask, PrunedMap, prunedCount } from '../sharing/pruned.js';
import { planPrune, type PrunedWeight } from './prune.js';
import { dropOptimizerState, type ModelWeight, type PerWeight, replaceWeight, shareableWeights, valuesOf } from './select.js';

/** TF-MOT `PolynomialDecay`'s settings, the final sparsity apart (it is per weight). */
export interface PolynomialDecayOptions {
  /** Sparsity from `beginStep` on, in [0, 1) (default 0). */
  initialSparsity?: number;
  /** First step (optimizer update) at which masks are updated (default 0). */
  beginStep?: number;
  /** Step at which the final sparsity is reached, ≥ beginStep. */
  endStep: number;
  /** Masks are updated every this many steps (default 100, as TF-MOT). */
  frequency?: number;
  /** Exponent of the decay (default 3). */
  power?: number;
}

/** Options of {@link gradualPruning}: the schedule, the final sparsity of each weight and the weights to prune. */
export interface GradualPruningOptions extends PolynomialDecayOptions {
  /** Final sparsity in [0, 1): one for all, or one per weight. */
  finalSparsity: PerWeight<number>;
  /** Layers whose shareable weights to prune (default: every dense weight of a shareable role). */
  layers?: readonly string[];
}

/**
 * TF-MOT's PolynomialDecay at `step`: whether masks are updated at this step (beginStep ≤ step ≤ endStep and
 * (step − beginStep) a multiple of frequency), and the sparsity (final + (initial − final)·(1 − p)^power, p the
 * progress from beginStep to endStep clipped to [0, 1]).
 */
export function polynomialDecay(o: PolynomialDecayOptions & { finalSparsity: number }, step: number): { update: boolean; sparsity: number } {
  const begin = o.beginStep ?? 0, end = o.endStep, freq = o.frequency ?? 100, power = o.power ?? 3, initial = o.initialSparsity ?? 0;
  const p = end > begin ? Math.min(1, Math.max(0, (step - begin) / (end - begin))) : step >= begin ? 1 : 0;
  return { update: step >= begin && step <= end && (step - begin) % freq === 0, sparsity: o.finalSparsity + (initial - o.finalSparsity) * (1 - p) ** power };
}

/** Checks a schedule; a one-line RangeError names the option (`who: initialSparsity …`). */
export function checkSchedule(who: string, o: PolynomialDecayOptions): void {
  const s = o.initialSparsity ?? 0;
  if (typeof s !== 'number' || !(s >= 0 && s < 1)) throw new RangeError(`${who}: initialSparsity must be a fraction in [0, 1), got ${quote(o.initialSparsity)}`);
  const int = (k: 'beginStep' | 'endStep' | 'frequency', v: unknown, min: number): void => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min) throw new RangeError(`${who}: ${k} must be an integer ≥ ${min}, got ${quote(v)}`);
  };
  int('beginStep', o.beginStep ?? 0, 0);
  int('endStep', o.endStep, o.beginStep ?? 0);
  int('frequency', o.frequency ?? 100, 1);
  if (typeof (o.power ?? 3) !== 'number' || !((o.power ?? 3) > 0) || !Number.isFinite(o.power ?? 3)) throw new RangeError(`${who}: power must be a finite number > 0, got ${quote(o.power)}`);
}

/** A fit callback that applies the schedule to the masks of the pruned weights (see {@link gradualPruning}). */
export class GradualPruning implements Callback {
  private model: Model | undefined;

  constructor(
    /** The pruned weights and each one's final sparsity. */
    readonly targets: readonly { weight: ModelWeight; map: PrunedMap; finalSparsity: number }[],
    readonly schedule: PolynomialDecayOptions,
  ) {}

  setModel(m: Model): void {
    this.model = m;
  }

  /** Sets every mask to its sparsity at `step` (the magnitudes of θ now; pruned θ are 0, so a mask only grows). */
  apply(step: number, force = false): void {
    for (const t of this.targets) {
      const { update, sparsity } = polynomialDecay({ ...this.schedule, finalSparsity: t.finalSparsity }, step);
      if (!update && !force) continue;
      const values = valuesOf(t.map);
      const target = prunedCount(values.length, sparsity);
      if (!force && target <= values.length - t.map.kept()) continue;
      t.map.setMask(magnitudeMask(values, sparsity), sparsity);
    }
  }

  onTrainBegin(): void {
    this.apply(this.model?.optimizer?.iterations ?? 0);
  }

  onBatchEnd(): void {
    this.apply(this.model?.optimizer?.iterations ?? 0);
  }

  /** Training ended: every mask at its final sparsity, whatever step the schedule reached. */
  onTrainEnd(): void {
    for (const t of this.targets) {
      if (t.map.prune !== t.finalSparsity) t.map.setMask(magnitudeMask(valuesOf(t.map), t.finalSparsity), t.finalSparsity);
    }
  }

  /** Each weight as {@link pruneWeights} reports it. */
  report(): PrunedWeight[] {
    return this.targets.map(({ weight, map }) => {
      const n = map.stats().virtual;
      return { path: weight.path, weights: n, pruned: n - map.kept(), bitsBefore: 32 * n, bitsAfter: map.stats().bits };
    });
  }
}

/** The keys of a schedule ({@link PolynomialDecayOptions}). */
export const SCHEDULE_KEYS = ['initialSparsity', 'beginStep', 'endStep', 'frequency', 'power'] as const;

/** The options {@link gradualPruning} takes. */
export const GRADUAL_PRUNING_KEYS = ['finalSparsity', 'layers', ...SCHEDULE_KEYS] as const;

/**
 * Gradual magnitude pruning (TF-MOT `prune_low_magnitude` with `PolynomialDecay`): every selected dense weight becomes
 * a {@link PrunedMap} with nothing pruned yet, and the returned callback, given to `fit`, sets each mask to the
 * ⌊s·n⌋ smallest magnitudes of θ at the schedule's steps (s from initialSparsity at beginStep to the weight's final
 * sparsity at endStep, polynomially, every `frequency` optimizer updates), and to the final sparsity when training ends.
 * Options are checked before anything changes (an unknown key is an ArgumentError; SharingErrors for the weights, as
 * {@link planPrune}; a RangeError naming a schedule option); the optimizer state is dropped (the parameters are new).
 */
export function gradualPruning(model: Model, o: GradualPruningOptions): GradualPruning {
  requireModel('gradualPruning', model);
  checkOptions('gradualPruning', o, GRADUAL_PRUNING_KEYS, { prune: 'the final sparsity is finalSparsity', sparsity: 'the final sparsity is finalSparsity', target_sparsity: 'the final sparsity is finalSparsity' });
  checkSchedule('gradualPruning', o);
  // The same weights and range checks as pruneWeights (a fraction in [0, 1); weights with 0 stay dense).
  const jobs = planPrune(model, { prune: o.finalSparsity, layers: o.layers }).map((j) => ({ weight: j.weight, finalSparsity: j.prune }));
  // Other schemes' weights are skipped (named when listed in layers): with none dense, the callback would do nothing.
  const candidates = shareableWeights(model, o.layers, 'pruned');
  if (!candidates.some((w) => w.map.kind === 'dense')) {
    throw new RangeError(`gradualPruning: no dense weight to prune (${candidates.map((w) => `${w.path} is '${w.map.kind}'`).join(', ') || 'the model has no kernels'}); it prunes plain weights of roles kernel, recurrentKernel, embedding`);
  }
  dropOptimizerState(model);
  const targets = jobs.map(({ weight, finalSparsity }) => {
    const values = valuesOf(weight.map);
    const map = new PrunedMap(weight.map.shape, values, new Float32Array(values.length).fill(1), 0);
    replaceWeight(model, weight, map);
    weight.map.dispose();
    return { weight: { ...weight, map }, map, finalSparsity };
  });
  return new GradualPruning(targets, { initialSparsity: o.initialSparsity, beginStep: o.beginStep, endStep: o.endStep, frequency: o.frequency, power: o.power });
}
