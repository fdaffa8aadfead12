// Activation: applies a named activation function (relu, sigmoid, tanh, softmax, gelu, hard_sigmoid, linear).
import type { Shape } from '../../core/shape.js';
import type { Tensor } from '../../core/tensor.js';
import { activate, type ActivationName, activationName } from '../activations.js';
import { type CallContext, Layer, type LayerOptions, registerLayer } from '../layer.js';

/** Options of {@link Activation}. */
export interface ActivationOptions extends LayerOptions {
  activation: ActivationName;
}

/** An activation as its own layer; softmax acts on the last axis. */
export class Activation extends Layer {
  protected override readonly floatInputsOnly = true;
  readonly className = 'Activation';
  readonly defaultName = 'activation';
  readonly activation: ActivationName;
  constructor(o: ActivationOptions) {
    super(o);
    this.activation = activationName(o.activation, `layer '${o.name ?? 'activation'}'`);
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
    return activate(x, this.activation, ctx.logits);
  }
  protected config(): Record<string, unknown> {
    return { activation: this.activation };
  }
}

registerLayer('Activation', (c) => new Activation(c as unknown as ActivationOptions));
