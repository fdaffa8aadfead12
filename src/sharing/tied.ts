// Tying: a weight that is another weight's W (optionally transposed), e.g. tied embeddings or a decoder tied to its encoder.
import { transpose } from '../core/ops/index.js';
import { fmt } from '../core/errors.js';
import { shapesEqual, type Shape } from '../core/shape.js';
import type { Tensor } from '../core/tensor.js';
import { materialize } from './cache.js';
import { booleanOption, type MapConfig, type MapContext, registerMap, SharingError, stringOption } from './registry.js';
import type { Parameter, WeightMap, WeightMapConfig, WeightMapStats } from './weight-map.js';

/** W = source.W (or its transpose for 2-D weights). Owns no parameters: they are the source's, counted and stepped once. */
export class TiedMap implements WeightMap {
  readonly kind = 'tied';
  readonly shape: Shape;

  constructor(readonly source: WeightMap, readonly to: string, readonly transposed: boolean) {
    this.shape = transposed ? [...source.shape].reverse() : [...source.shape];
  }

  parameters(): Parameter[] {
    return this.source.parameters();
  }

  materialize(): Tensor {
    const w = materialize(this.source);
    return this.transposed ? transpose(w) : w;
  }

  stats(): WeightMapStats {
    return { virtual: this.shape.reduce((a, b) => a * b, 1), free: 0, bits: 0 };
  }

  toJSON(): WeightMapConfig {
    return { kind: 'tied', to: this.to, transpose: this.transposed };
  }

  dispose(): void {}
}

/** Builds a tied map from { to: 'layer/weight', transpose? }; the source must already exist in the model and fit the shape. */
export function tiedFromConfig(c: MapConfig, ctx: MapContext): TiedMap {
  if (c.to === undefined) throw new SharingError(ctx, 'tied', `needs to, the weight it shares: 'tied:layer/weight', e.g. 'tied:embedding/embeddings'`);
  const to = stringOption(c, ctx, 'tied', 'to');
  const src = ctx.resolve?.(to);
  if (!src) throw new SharingError(ctx, 'tied', `'${to}' is not a weight of an earlier layer of this model (give 'layer/weight', e.g. 'dense/kernel')`);
  const t = booleanOption(c, ctx, 'transpose', false);
  if (t && src.shape.length !== 2) throw new SharingError(ctx, 'tied', `transpose needs a 2-D source, '${to}' is ${fmt(src.shape)}`);
  const shape = t ? [...src.shape].reverse() : src.shape;
  if (!shapesEqual(shape, ctx.shape)) {
    throw new SharingError(ctx, 'tied', t
      ? `'${to}' has shape ${fmt(src.shape)}, transposed ${fmt(shape)}, but this weight needs ${fmt(ctx.shape)}`
      : `'${to}' has shape ${fmt(shape)} but this weight needs ${fmt(ctx.shape)}`);
  }
  return new TiedMap(src, to, t);
}

registerMap('tied', tiedFromConfig, ['to', 'transpose']);
