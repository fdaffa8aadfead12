// Adam (Kingma & Ba), Keras defaults, PyTorch's bias correction and epsilon placement.
import type { AdamHyper } from '../backend/backend.js';
import { add, div, mul, sqrt, sub } from '../core/ops/index.js';
import { assign, type Tensor } from '../core/tensor.js';
import { checkOptions } from '../core/errors.js';
import { COMMON_OPTIMIZER_KEYS, type CommonOptimizerOptions, Optimizer, type OptimizerConfig, type ParamState, positive, unitInterval } from './optimizer.js';

/** Adam hyperparameters (Keras names and defaults). */
export interface AdamOptions extends CommonOptimizerOptions {
  /** Step size (default 0.001). */
  learningRate?: number;
  /** Decay of the first moment (default 0.9). */
  beta1?: number;
  /** Decay of the second moment (default 0.999). */
  beta2?: number;
  /** Added to √v̂ (default 1e-7, Keras' default; PyTorch's is 1e-8). */
  epsilon?: number;
}

/** The options Adam takes besides the common ones (createOptimizer's 'adam' keys). */
export const ADAM_KEYS = ['learningRate', 'beta1', 'beta2', 'epsilon'] as const;

/**
 * Adam. With t the parameter's own step count (from 1):
 * `m ← β₁m + (1−β₁)g`, `v ← β₂v + (1−β₂)g²`, `p ← p − lr·(m/(1−β₁ᵗ)) / (√(v/(1−β₂ᵗ)) + ε)`.
 * Like `torch.optim.Adam`, the scalars (1−β, lr/(1−β₁ᵗ), √(1−β₂ᵗ)) are float64, each rounded once to
 * float32, and the float32 operations come in PyTorch's order, so trajectories match PyTorch's bit for bit.
 * This is PyTorch's form: ε is added to the bias-corrected √v̂. Keras adds its ε to the uncorrected
 * √v ("epsilon hat"); the results differ by ε·(1 − √(1−β₂ᵗ)) in the denominator, negligible for ε = 1e-7.
 */
export class Adam extends Optimizer {
  readonly name: string = 'adam';
  beta1: number;
  beta2: number;
  epsilon: number;

  constructor(o: AdamOptions = {}) {
    // A subclass (AdamW) checks its own options.
    if (new.target === Adam) checkOptions('Adam', o, [...ADAM_KEYS, ...COMMON_OPTIMIZER_KEYS]);
    super(o.learningRate ?? 0.001, o);
    this.beta1 = o.beta1 ?? 0.9;
    this.beta2 = o.beta2 ?? 0.999;
    this.epsilon = o.epsilon ?? 1e-7;
    unitInterval('beta1', this.beta1);
    unitInterval('beta2', this.beta2);
    positive('epsilon', this.epsilon);
  }

  protected slotNames(): readonly string[] {
    return ['m', 'v'];
  }

  /** The constants of step `t` (from 1), all computed in float64 like PyTorch's Python floats. */
  protected hyper(t: number): AdamHyper {
    return {
      beta1: this.beta1,
      beta2: this.beta2,
      c1: 1 - this.beta1,
      c2: 1 - this.beta2,
      stepSize: this.rate / (1 - Math.pow(this.beta1, t)),
      sqrtBc2: Math.sqrt(1 - Math.pow(this.beta2, t)),
      epsilon: this.epsilon,
      keep: this.keepFactor(),
    };
  }

  /**
   * The Adam step for `p` (after any weight decay), given the summed gradient and the state, as tensor ops in
   * the fused kernel's order, except that its two multiply-adds are rounded twice here (an ulp apart at most).
   */
  protected adamStep(p: Tensor, g: Tensor, s: ParamState): Tensor {
    const h = this.hyper(s.step);
    const { m: mSlot, v: vSlot } = s.slots;
    const m = assign(mSlot, add(mul(mSlot, h.beta1), mul(g, h.c1)));
    const v = assign(vSlot, add(mul(vSlot, h.beta2), mul(mul(g, h.c2), g)));
    const denom = add(div(sqrt(v), h.sqrtBc2), h.epsilon);
    return sub(p, div(mul(m, h.stepSize), denom));
  }

  protected update(p: Tensor, g: Tensor, s: ParamState): Tensor {
    return this.adamStep(p, g, s);
  }

  /** Multiplier of p before the step (AdamW's decoupled decay); 1 for Adam. */
  protected keepFactor(): number {
    return 1;
  }

  /** One fused kernel updates p, m and v in place (the backend's `adam`); tensors on mixed backends take {@link adamStep}. */
  protected override apply(p: Tensor, g: Tensor, s: ParamState): void {
    const { m, v } = s.slots;
    if (p.backend !== g.backend || p.backend !== m.backend) return super.apply(p, g, s);
    p.backend.adam(p.buf, g.buf, m.buf, v.buf, p.size, this.hyper(s.step));
  }

  /** `{ name: 'adam', learningRate, beta1, beta2, epsilon }`. */
  toJSON(): OptimizerConfig {
    return { name: this.name, learningRate: this.learningRate, beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon, ...this.commonJSON() };
  }
}
