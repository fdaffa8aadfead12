// Conv2D: y = act(conv(x, kernel) + b), NHWC inputs and HWIO kernels like Keras.
import { quote } from '../../core/errors.js';
import { conv2d, conv2dBiasAct, conv2dBiasActPool } from '../../core/ops/index.js';
import type { Random } from '../../core/random.js';
import { type Conv2DOptions, conv2dParams, type Padding, type Shape } from '../../core/shape.js';
import type { Tensor } from '../../core/tensor.js';
import { type ActivationName, activationName, biasActivate, isBiasActivation } from '../activations.js';
import { initializerName, type InitializerName } from '../initializers.js';
import { boolOption, type CallContext, intOption, Layer, type LayerOptions, pairOption, registerLayer } from '../layer.js';
import { MaxPooling2D } from './pooling.js';

/** Options Conv2D and LocallyConnected2D share (Keras names). */
export interface WindowedLayerOptions extends LayerOptions {
  filters: number;
  kernelSize: number | [number, number];
  strides?: number | [number, number];
  padding?: Padding;
  activation?: ActivationName;
  useBias?: boolean;
  kernelInitializer?: string;
  biasInitializer?: string;
}

/** Options of {@link Conv2D} (Keras names). */
export interface Conv2DLayerOptions extends WindowedLayerOptions {
  dilationRate?: number | [number, number];
}

/** Checks a padding option. */
export function paddingOption(layer: string, v: unknown): Padding {
  const p = v ?? 'valid';
  if (p !== 'valid' && p !== 'same') throw new RangeError(`layer '${layer}': padding must be 'valid' or 'same', got ${quote(v)}`);
  return p;
}

/** The checked settings of a layer that slides a KH×KW window over NHWC inputs (Conv2D, LocallyConnected2D). */
export abstract class WindowedLayer extends Layer {
  protected override readonly floatInputsOnly = true;
  readonly filters: number;
  readonly kernelSize: [number, number];
  readonly strides: [number, number];
  readonly padding: Padding;
  readonly activation: ActivationName;
  readonly useBias: boolean;
  readonly kernelInitializer: InitializerName;
  readonly biasInitializer: InitializerName;

  constructor(o: WindowedLayerOptions, stem: string) {
    super(o);
    const n = o.name ?? stem;
    this.filters = intOption(n, 'filters', o.filters);
    this.kernelSize = pairOption(n, 'kernelSize', o.kernelSize);
    this.strides = pairOption(n, 'strides', o.strides ?? 1);
    this.padding = paddingOption(n, o.padding);
    this.activation = activationName(o.activation, `layer '${n}'`);
    this.useBias = boolOption(n, 'useBias', o.useBias, true);
    this.kernelInitializer = initializerName(o.kernelInitializer ?? 'glorot_uniform', `layer '${n}'`, 'kernelInitializer');
    this.biasInitializer = initializerName(o.biasInitializer ?? 'zeros', `layer '${n}'`, 'biasInitializer');
  }

  /** The shared settings as config JSON. */
  protected windowConfig(): Record<string, unknown> {
    return {
      filters: this.filters, kernelSize: this.kernelSize, strides: this.strides, padding: this.padding,
      activation: this.activation, useBias: this.useBias, kernelInitializer: this.kernelInitializer, biasInitializer: this.biasInitializer,
    };
  }
}

/** 2-D convolution: kernel [KH, KW, C, filters], bias [filters]; [N, H, W, C] → [N, OH, OW, filters]. */
export class Conv2D extends WindowedLayer {
  readonly className = 'Conv2D';
  readonly defaultName = 'conv2d';
  readonly dilationRate: [number, number];

  constructor(o: Conv2DLayerOptions) {
    super(o, 'conv2d');
    this.dilationRate = pairOption(o.name ?? 'conv2d', 'dilationRate', o.dilationRate ?? 1);
  }

  private kernelShape(s: Shape): number[] {
    return [...this.kernelSize, s[2], this.filters];
  }

  outputShape(s: Shape): number[] {
    if (s.length !== 3) throw this.shapeError(`needs inputs [N, H, W, C], got per-sample shape [${s.join(',')}]`);
    try {
      const p = conv2dParams('conv2d', [1, ...s], this.kernelShape(s), { strides: this.strides, padding: this.padding, dilations: this.dilationRate });
      return [p.oh, p.ow, p.f];
    } catch (e) {
      throw this.shapeError(`input [${s.join(',')}] does not fit: ${(e as Error).message.replace(/^conv2d: /, '')}`);
    }
  }

  /** The kernel sees the channels only: one Conv2D serves images of any size (as in Keras). */
  override weightShapeKey(shapes: readonly Shape[]): string {
    return JSON.stringify(shapes.map((s) => [s.length, s[s.length - 1]]));
  }

  protected override createWeights(s: Shape, rng: Random): void {
    this.addWeight('kernel', this.kernelShape(s), this.kernelInitializer, rng, { role: 'kernel' });
    if (this.useBias) this.addWeight('bias', [this.filters], this.biasInitializer, rng, { role: 'bias' });
  }

  private convOptions(): Conv2DOptions {
    return { strides: this.strides, padding: this.padding, dilations: this.dilationRate };
  }

  call(x: Tensor, ctx: CallContext): Tensor {
    const w = this.w('kernel');
    const b = this.useBias ? this.w('bias') : undefined;
    if (b && isBiasActivation(this.activation)) return conv2dBiasAct(x, w, b, this.activation, this.convOptions());
    return biasActivate(conv2d(x, w, this.convOptions()), b, this.activation, ctx.logits);
  }

  /** With a bias and one of biasAct's activations, followed by MaxPooling2D: conv2dBiasActPool (one pass, y never stored in inference). */
  override fusedWith(next: Layer): ((x: Tensor, ctx: CallContext) => Tensor) | undefined {
    const act = this.activation;
    if (!(next instanceof MaxPooling2D) || !this.useBias || !isBiasActivation(act)) return undefined;
    return (x) => conv2dBiasActPool(x, this.w('kernel'), this.w('bias'), act, this.convOptions(), next.poolOptions());
  }

  protected config(): Record<string, unknown> {
    return { ...this.windowConfig(), dilationRate: this.dilationRate };
  }
}

registerLayer('Conv2D', (c) => new Conv2D(c as unknown as Conv2DLayerOptions));

