// MaxPooling2D and AveragePooling2D: windowed reductions over H and W (Keras defaults: 2×2, stride = pool size, 'valid').
import { avgPool2d, maxPool2d } from '../../core/ops/index.js';
import { type Padding, pool2dParams, type Shape } from '../../core/shape.js';
import type { Tensor } from '../../core/tensor.js';
import { type CallContext, Layer, type LayerOptions, pairOption, registerLayer } from '../layer.js';
import { paddingOption } from './conv2d.js';

/** Options of the 2-D pooling layers (Keras names). */
export interface Pooling2DOptions extends LayerOptions {
  poolSize?: number | [number, number];
  strides?: number | [number, number];
  padding?: Padding;
}

abstract class Pooling2D extends Layer {
  protected override readonly floatInputsOnly = true;
  readonly poolSize: [number, number];
  readonly strides: [number, number];
  readonly padding: Padding;

  constructor(o: Pooling2DOptions, stem: string) {
    super(o);
    const n = o.name ?? stem;
    this.poolSize = pairOption(n, 'poolSize', o.poolSize ?? 2);
    this.strides = pairOption(n, 'strides', o.strides ?? this.poolSize);
    this.padding = paddingOption(n, o.padding);
  }

  override get stateless(): boolean {
    return true;
  }

  outputShape(s: Shape): number[] {
    if (s.length !== 3) throw this.shapeError(`needs inputs [N, H, W, C], got per-sample shape [${s.join(',')}]`);
    try {
      const p = pool2dParams(this.name, [1, ...s], { poolSize: this.poolSize, strides: this.strides, padding: this.padding });
      return [p.oh, p.ow, p.c];
    } catch (e) {
      throw this.shapeError(`input [${s.join(',')}] does not fit: ${(e as Error).message.replace(/^[\w/]*: /, '')}`);
    }
  }

  /** The pooling options as the ops take them. */
  poolOptions(): { poolSize: [number, number]; strides: [number, number]; padding: Padding } {
    return { poolSize: this.poolSize, strides: this.strides, padding: this.padding };
  }

  protected config(): Record<string, unknown> {
    return this.poolOptions();
  }
}

/** Max over each window: [N, H, W, C] → [N, OH, OW, C]. */
export class MaxPooling2D extends Pooling2D {
  readonly className = 'MaxPooling2D';
  readonly defaultName = 'max_pooling2d';
  constructor(o: Pooling2DOptions = {}) {
    super(o, 'max_pooling2d');
  }
  call(x: Tensor, _ctx: CallContext): Tensor {
    return maxPool2d(x, this.poolOptions());
  }
}

/** Mean over each window (padded cells not counted): [N, H, W, C] → [N, OH, OW, C]. */
export class AveragePooling2D extends Pooling2D {
  readonly className = 'AveragePooling2D';
  readonly defaultName = 'average_pooling2d';
  constructor(o: Pooling2DOptions = {}) {
    super(o, 'average_pooling2d');
  }
  call(x: Tensor, _ctx: CallContext): Tensor {
    return avgPool2d(x, this.poolOptions());
  }
}

registerLayer('MaxPooling2D', (c) => new MaxPooling2D(c as Pooling2DOptions));
registerLayer('AveragePooling2D', (c) => new AveragePooling2D(c as Pooling2DOptions));
