// AdamW (Loshchilov & Hutter): Adam with decoupled weight decay, PyTorch semantics.
import { checkOptions } from '../core/errors.js';
import { mul } from '../core/ops/index.js';
import type { Tensor } from '../core/tensor.js';
import { Adam, ADAM_KEYS, type AdamOptions } from './adam.js';
import { COMMON_OPTIMIZER_KEYS, type OptimizerConfig, type ParamState } from './optimizer.js';

/** AdamW hyperparameters: Adam's plus `weightDecay`. */
export interface AdamWOptions extends AdamOptions {
  /** Decoupled weight decay λ ≥ 0 (default 0.01, PyTorch's default; Keras' is 0.004). */
  weightDecay?: number;
}

/** The options AdamW takes besides the common ones: Adam's and weightDecay. */
export const ADAMW_KEYS = [...ADAM_KEYS, 'weightDecay'] as const;

/**
 * AdamW, PyTorch semantics: first `p ← p·(1 − lr·λ)` (decay scaled by the learning rate, not by the
 * adaptive step, and not added to the gradient), then the {@link Adam} update of that p with the
 * unchanged gradient. Keras' AdamW applies the same decoupled decay.
 */
export class AdamW extends Adam {
  override readonly name = 'adamw';
  weightDecay: number;

  constructor(o: AdamWOptions = {}) {
    if (new.target === AdamW) checkOptions('AdamW', o, [...ADAMW_KEYS, ...COMMON_OPTIMIZER_KEYS]);
    super(o);
    this.weightDecay = o.weightDecay ?? 0.01;
    if (!(Number.isFinite(this.weightDecay) && this.weightDecay >= 0)) {
      throw new RangeError(`optimizer: weightDecay must be a finite number ≥ 0, got ${this.weightDecay}`);
    }
  }

  protected override update(p: Tensor, g: Tensor, s: ParamState): Tensor {
    const keep = this.keepFactor();
    return this.adamStep(keep === 1 ? p : mul(p, keep), g, s);
  }

  protected override keepFactor(): number {
    return 1 - this.rate * this.weightDecay;
  }

  /** `{ name: 'adamw', learningRate, beta1, beta2, epsilon, weightDecay }`. */
  override toJSON(): OptimizerConfig {
    return { ...super.toJSON(), weightDecay: this.weightDecay };
  }
}
