// Dropout: zeroes a fraction `rate` of the inputs while training and scales the rest by 1/(1−rate); identity at inference.
import { quote } from '../../core/errors.js';
import { greaterEqual, mul, randomUniform } from '../../core/ops/index.js';
import type { Shape } from '../../core/shape.js';
import type { Tensor } from '../../core/tensor.js';
import { mixSeed } from '../../core/random.js';
import { type CallContext, Layer, type LayerOptions, registerLayer } from '../layer.js';

/** Options of {@link Dropout}. */
export interface DropoutOptions extends LayerOptions {
  rate: number;
}

/**
 * Inverted dropout; the mask is drawn from the step's seed mixed with the application's path (the layer's name at its
 * first use, `name#k` at its k-th reuse, `block/dropout` inside a block), so runs are reproducible and every use of
 * one layer draws its own mask.
 */
export class Dropout extends Layer {
  protected override readonly floatInputsOnly = true;
  readonly className = 'Dropout';
  readonly defaultName = 'dropout';
  readonly rate: number;
  constructor(o: DropoutOptions) {
    super(o);
    if (!(typeof o.rate === 'number' && o.rate >= 0 && o.rate < 1)) {
      throw new RangeError(`layer '${o.name ?? 'dropout'}': rate must be in [0, 1), got ${quote(o.rate)}`);
    }
    this.rate = o.rate;
  }
  override get stateless(): boolean {
    return true;
  }

  /** Keeps a Keras mask (Keras supports_masking). */
  override get supportsMasking(): boolean {
    return true;
  }

  outputShape(s: Shape): number[] {
    return [...s];
  }
  call(x: Tensor, ctx: CallContext): Tensor {
    if (!ctx.training || this.rate === 0) return x;
    const u = randomUniform(x.shape, { seed: mixSeed(ctx.seed, ctx.path ?? this.name) });
    const keepMask = greaterEqual(u, this.rate);
    return mul(x, mul(keepMask, 1 / (1 - this.rate)));
  }
  protected config(): Record<string, unknown> {
    return { rate: this.rate };
  }
}

registerLayer('Dropout', (c) => new Dropout(c as unknown as DropoutOptions));
