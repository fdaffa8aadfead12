// The identity map: W is θ itself (no sharing), the default for every weight.
import type { Shape } from '../core/shape.js';
import type { Tensor } from '../core/tensor.js';
import { keep } from '../core/engine.js';
import { Parameter, type WeightMap, type WeightMapConfig, type WeightMapStats } from './weight-map.js';

/** W = θ: one free parameter per weight. */
export class DenseMap implements WeightMap {
  readonly kind = 'dense';
  readonly shape: Shape;
  private readonly param: Parameter;

  /** Takes ownership of `value` (marks it kept). */
  constructor(value: Tensor) {
    this.shape = value.shape;
    this.param = new Parameter(keep(value));
  }

  parameters(): Parameter[] {
    return [this.param];
  }

  materialize(): Tensor {
    return this.param.value;
  }

  stats(): WeightMapStats {
    const n = this.param.value.size;
    return { virtual: n, free: n, bits: 32 * n };
  }

  toJSON(): WeightMapConfig {
    return { kind: 'dense' };
  }

  dispose(): void {
    this.param.value.dispose();
  }
}
