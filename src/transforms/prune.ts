// Magnitude pruning (Deep Compression's first stage) of a built model's shareable weights, in place.
import { checkOptions } from '../core/errors.js';
import { type Model, requireModel } from '../nn/model.js';
import { checkPrune, pruneByMagnitude } from '../sharing/pruned.js';
import { SharingError } from '../sharing/registry.js';
import { dropOptimizerState, type ModelWeight, notDenseReason, type PerWeight, replaceWeight, shareableWeights, valueFor, valuesOf } from './select.js';

/** Options of {@link pruneWeights}. */
export interface PruneOptions {
  /** Fraction in [0, 1) of each weight's smallest-magnitude elements removed: one for all, or one per weight; 0 leaves a weight dense. */
  prune: PerWeight<number>;
  /** Layers whose shareable weights to prune (default: every weight with a shareable role held by a dense map). */
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
  /** The weight (layer, name, role, map, path). */
  weight: ModelWeight;
  prune: number;
}

/** Checks `o` against the model and lists the weights {@link pruneWeights} would prune (prune > 0), changing nothing; throws its SharingErrors. */
export function planPrune(model: Model, o: PruneOptions): PruneJob[] {
  requireModel('pruneWeights', model);
  checkOptions('pruneWeights', o, ['prune', 'layers'], { layer: 'write it layers', sparsity: 'the fraction removed is prune' });
  model.build();
  const jobs: PruneJob[] = [];
  for (const w of shareableWeights(model, o.layers, 'pruned')) {
    const ctx = { layer: w.layer.name, weight: w.name };
    if (w.map.kind !== 'dense') {
      if (!o.layers) continue;
      throw new SharingError(ctx, 'pruned', notDenseReason(w, 'prune'));
    }
    const prune = valueFor(o.prune, w);
    checkPrune(ctx, prune);
    if (prune > 0) jobs.push({ weight: w, prune });
  }
  return jobs;
}

/**
 * Replaces each selected dense weight by a {@link PrunedMap} (W = θ ⊙ mask) whose mask removes its ⌊prune·n⌋
 * smallest-magnitude elements, in place, θ = the current values (Deep Compression's pruning stage: retrain
 * next with the mask fixed, then {@link clusterWeights} clusters the survivors). Weights with prune 0 stay
 * dense. Every option is checked first (SharingErrors naming layer, scheme 'pruned' and range); optimizer state is
 * dropped as in {@link clusterWeights}.
 */
export function pruneWeights(model: Model, o: PruneOptions): PrunedWeight[] {
  const jobs = planPrune(model, o);
  dropOptimizerState(model);
  const out: PrunedWeight[] = [];
  for (const { weight: w, prune } of jobs) {
    const values = valuesOf(w.map);
    const pm = pruneByMagnitude(values, w.map.shape, prune);
    replaceWeight(model, w, pm);
    w.map.dispose();
    out.push({ path: w.path, weights: values.length, pruned: values.length - pm.kept(), bitsBefore: 32 * values.length, bitsAfter: pm.stats().bits });
  }
  return out;
}
