// Dense: y = act(x·W + b) on the last axis, Keras' fully connected layer.
import { matmul, reshape } from '../../core/ops/index.js';
import type { Random } from '../../core/random.js';
import type { Shape } from '../../core/shape.js';
import type { Tensor } from '../../core/tensor.js';
import { type ActivationName, activationName, biasActivate } from '../activations.js';
import { initializerName, type InitializerName } from '../initializers.js';
import { boolOption, type CallContext, intOption, Layer, type LayerOptions, registerLayer } from '../layer.js';

/** Options of {@link Dense} (Keras names). */
export interface DenseOptions extends LayerOptions {
  units: number;
  activation?: ActivationName;
  useBias?: boolean;
  kernelInitializer?: string;
  biasInitializer?: string;
}

/** Fully connected layer: kernel [in, units], bias [units]; inputs [N, ..., in] → [N, ..., units]. */
export class Dense extends Layer {
  protected override readonly floatInputsOnly = true;
  readonly className = 'Dense';
  readonly defaultName = 'dense';
  readonly units: number;
  readonly activation: ActivationName;
  readonly useBias: boolean;
  readonly kernelInitializer: InitializerName;
  readonly biasInitializer: InitializerName;

  constructor(o: DenseOptions) {
    super(o);
    const where = `layer '${o.name ?? 'dense'}'`;
    this.units = intOption(o.name ?? 'dense', 'units', o.units);
    this.activation = activationName(o.activation, where);
    this.useBias = boolOption(o.name ?? 'dense', 'useBias', o.useBias, true);
    this.kernelInitializer = initializerName(o.kernelInitializer ?? 'glorot_uniform', where, 'kernelInitializer');
    this.biasInitializer = initializerName(o.biasInitializer ?? 'zeros', where, 'biasInitializer');
  }

  /** Keeps a Keras mask (it acts on each step alone). */
  override get supportsMasking(): boolean {
    return true;
  }

  outputShape(s: Shape): number[] {
    if (s.length < 1 || s[s.length - 1] < 1) throw this.shapeError(`needs inputs [N, ..., features], got per-sample shape [${s.join(',')}]`);
    return [...s.slice(0, -1), this.units];
  }

  /** The kernel sees only the last axis: one Dense serves sequences of any length. */
  override weightShapeKey(shapes: readonly Shape[]): string {
    return JSON.stringify(shapes.map((s) => s[s.length - 1]));
  }

  protected override createWeights(s: Shape, rng: Random): void {
    this.addWeight('kernel', [s[s.length - 1], this.units], this.kernelInitializer, rng, { role: 'kernel' });
    if (this.useBias) this.addWeight('bias', [this.units], this.biasInitializer, rng, { role: 'bias' });
  }

  call(x: Tensor, ctx: CallContext): Tensor {
    const w = this.w('kernel');
    const b = this.useBias ? this.w('bias') : undefined;
    const flat = x.rank === 2 ? x : reshape(x, [x.size / x.shape[x.rank - 1], x.shape[x.rank - 1]]);
    let y = biasActivate(matmul(flat, w), b, this.activation, ctx.logits);
    if (x.rank !== 2) y = reshape(y, [...x.shape.slice(0, -1), this.units]);
    return y;
  }

  protected config(): Record<string, unknown> {
    return { units: this.units, activation: this.activation, useBias: this.useBias, kernelInitializer: this.kernelInitializer, biasInitializer: this.biasInitializer };
  }
}

registerLayer('Dense', (c) => new Dense(c as unknown as DenseOptions));

