// Stochastic gradient descent with optional (Nesterov) momentum, PyTorch semantics.
import { add, mul, sub } from '../core/ops/index.js';
import { assign, type Tensor } from '../core/tensor.js';
import { checkOptions } from '../core/errors.js';
import { COMMON_OPTIMIZER_KEYS, type CommonOptimizerOptions, Optimizer, type OptimizerConfig, type ParamState, unitInterval } from './optimizer.js';

/** SGD hyperparameters (Keras names). */
export interface SGDOptions extends CommonOptimizerOptions {
  /** Step size (default 0.01, as in Keras). */
  learningRate?: number;
  /** Momentum factor μ in [0, 1) (default 0: plain SGD). */
  momentum?: number;
  /** Nesterov momentum (default false; needs momentum > 0). */
  nesterov?: boolean;
}

/** The options SGD takes besides the common ones. */
export const SGD_KEYS = ['learningRate', 'momentum', 'nesterov'] as const;

/**
 * SGD, PyTorch semantics (dampening 0): with momentum μ the buffer is `b ← μ·b + g` (b₀ = 0, so b₁ = g),
 * then `p ← p − lr·b`, or with Nesterov `p ← p − lr·(g + μ·b)`. For a constant learning rate this is the
 * same trajectory as Keras' `v ← μ·v − lr·g; p ← p + v` (v = −lr·b); they differ only when lr changes
 * between steps (PyTorch scales the whole buffer by the current lr).
 */
export class SGD extends Optimizer {
  readonly name = 'sgd';
  momentum: number;
  nesterov: boolean;

  constructor(o: SGDOptions = {}) {
    if (new.target === SGD) checkOptions('SGD', o, [...SGD_KEYS, ...COMMON_OPTIMIZER_KEYS]);
    super(o.learningRate ?? 0.01, o);
    this.momentum = o.momentum ?? 0;
    this.nesterov = o.nesterov ?? false;
    unitInterval('momentum', this.momentum);
    if (this.nesterov && this.momentum === 0) throw new RangeError('optimizer: nesterov needs momentum > 0');
  }

  protected slotNames(): readonly string[] {
    return this.momentum > 0 ? ['momentum'] : [];
  }

  protected update(p: Tensor, g: Tensor, s: ParamState): Tensor {
    if (this.momentum === 0) return sub(p, mul(g, this.rate));
    const b = assign(s.slots.momentum, add(mul(s.slots.momentum, this.momentum), g));
    const d = this.nesterov ? add(g, mul(b, this.momentum)) : b;
    return sub(p, mul(d, this.rate));
  }

  /** `{ name: 'sgd', learningRate, momentum, nesterov }`. */
  toJSON(): OptimizerConfig {
    return { name: this.name, learningRate: this.learningRate, momentum: this.momentum, nesterov: this.nesterov, ...this.commonJSON() };
  }
}
