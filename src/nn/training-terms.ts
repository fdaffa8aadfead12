// Extra terms of a model's training objective (a prior's negative log-likelihood, a KL term), each with its own parameters and optimizers.
import type { Tensor } from '../core/tensor.js';
import type { Optimizer } from '../optim/optimizer.js';
import type { Model } from './model.js';

/** A group of a term's own parameters (e.g. a mixture prior's means) stepped by their own optimizer (its own learning rate). */
export interface TermGroup {
  params: readonly Tensor[];
  optimizer: Optimizer;
}

/**
 * A term added to the loss of every training step of `fit` / `trainOnBatch` (not to `evaluate`): `loss()` is called
 * on the step's tape after the forward pass and must return a scalar, differentiable in the model's weights (read
 * them with `materialize(map)` of `sharing/cache.ts`: the forward pass's W) and in the term's own parameters, which
 * `groups` lists with their optimizers (stepped after the model's optimizer, with the same step's gradients).
 */
export interface TrainingTerm {
  /** Names the term in errors, e.g. 'mixture prior'. */
  readonly name: string;
  loss(): Tensor;
  readonly groups?: readonly TermGroup[];
}

const terms = new WeakMap<Model, TrainingTerm[]>();

/** Adds a term to the model's training objective; returns the function that removes it again. */
export function addTrainingTerm(m: Model, t: TrainingTerm): () => void {
  const list = terms.get(m) ?? [];
  list.push(t);
  terms.set(m, list);
  return () => {
    const now = terms.get(m) ?? [];
    const i = now.indexOf(t);
    if (i >= 0) now.splice(i, 1);
  };
}

/** The terms added to a model's training objective, in the order they were added. */
export function trainingTerms(m: Model): readonly TrainingTerm[] {
  return terms.get(m) ?? [];
}
