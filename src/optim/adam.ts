// Adam (Kingma & Ba), Keras defaults, PyTorch's bias correction and epsilon placement.
import { add, div, mul, sqrt, square, sub } from '../core/ops/index.js';
import { assign, type Tensor } from '../core/tensor.js';
import { Optimizer, type OptimizerConfig, type ParamState, positive, unitInterval } from './optimizer.js';

/** Adam hyperparameters (Keras names and defaults). */
export interface AdamOptions {
  /** Step size (default 0.001). */
  learningRate?: number;
  /** Decay of the first moment (default 0.9). */
  beta1?: number;
  /** Decay of the second moment (default 0.999). */
  beta2?: number;
  /** Added to √v̂ (default 1e-7, Keras' default; PyTorch's is 1e-8). */
  epsilon?: number;
}

/**
 * Adam. With t the parameter's own step count (from 1):
 * `m ← β₁m + (1−β₁)g`, `v ← β₂v + (1−β₂)g²`, `p ← p − lr·(m/(1−β₁ᵗ)) / (√(v/(1−β₂ᵗ)) + ε)`.
 * This is PyTorch's form: ε is added to the bias-corrected √v̂. Keras adds its ε to the uncorrected
 * √v ("epsilon hat"); the results differ by ε·(1 − √(1−β₂ᵗ)) in the denominator, negligible for ε = 1e-7.
 */
export class Adam extends Optimizer {
  readonly name: string = 'adam';
  beta1: number;
  beta2: number;
  epsilon: number;

  constructor(o: AdamOptions = {}) {
    super(o.learningRate ?? 0.001);
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

  /** The Adam step for `p` (before any weight decay), given the summed gradient and the state. */
  protected adamStep(p: Tensor, g: Tensor, s: ParamState): Tensor {
    const { m: mSlot, v: vSlot } = s.slots;
    const m = assign(mSlot, add(mul(mSlot, this.beta1), mul(g, 1 - this.beta1)));
    const v = assign(vSlot, add(mul(vSlot, this.beta2), mul(square(g), 1 - this.beta2)));
    const bc1 = 1 - Math.pow(this.beta1, s.step);
    const bc2 = 1 - Math.pow(this.beta2, s.step);
    const denom = add(mul(sqrt(v), 1 / Math.sqrt(bc2)), this.epsilon);
    return sub(p, mul(div(m, denom), this.learningRate / bc1));
  }

  protected update(p: Tensor, g: Tensor, s: ParamState): Tensor {
    return this.adamStep(p, g, s);
  }

  /** Multiplier of p before the step (AdamW's decoupled decay); 1 for Adam. */
  protected keepFactor(): number {
    return 1;
  }

  /** One fused kernel updates p, m and v in place (same float32 arithmetic as {@link adamStep}). */
  protected override apply(p: Tensor, g: Tensor, s: ParamState): void {
    const { m, v } = s.slots;
    if (p.backend !== g.backend || p.backend !== m.backend) return super.apply(p, g, s);
    p.backend.adam(p.buf, g.buf, m.buf, v.buf, p.size, {
      beta1: this.beta1,
      beta2: this.beta2,
      stepSize: this.learningRate / (1 - Math.pow(this.beta1, s.step)),
      invSqrtBc2: 1 / Math.sqrt(1 - Math.pow(this.beta2, s.step)),
      epsilon: this.epsilon,
      keep: this.keepFactor(),
    });
  }

  /** `{ name: 'adam', learningRate, beta1, beta2, epsilon }`. */
  toJSON(): OptimizerConfig {
    return { name: this.name, learningRate: this.learningRate, beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon };
  }
}
