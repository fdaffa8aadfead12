// Flatten: [N, ...] → [N, prod(...)], a view (no copy).
import { reshape } from '../../core/ops/index.js';
import { type Shape, sizeOf } from '../../core/shape.js';
import type { Tensor } from '../../core/tensor.js';
import { type CallContext, Layer, type LayerOptions, registerLayer } from '../layer.js';

/** Flattens each sample to a vector (row-major, channels last, as Keras). */
export class Flatten extends Layer {
  readonly className = 'Flatten';
  readonly defaultName = 'flatten';
  constructor(o: LayerOptions = {}) {
    super(o);
  }
  override get stateless(): boolean {
    return true;
  }

  outputShape(s: Shape): number[] {
    return [sizeOf(s)];
  }
  override outputDType(inputs: readonly ('float32' | 'int32')[]): 'float32' | 'int32' {
    return inputs[0];
  }
  call(x: Tensor, _ctx: CallContext): Tensor {
    return reshape(x, [x.shape[0], x.shape[0] === 0 ? sizeOf(x.shape.slice(1)) : x.size / x.shape[0]]);
  }
  protected config(): Record<string, unknown> {
    return {};
  }
}

registerLayer('Flatten', (c) => new Flatten(c as LayerOptions));
