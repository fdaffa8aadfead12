// SinePositionEncoding: the fixed sinusoidal position encoding of "Attention Is All You Need" (keras_hub's SinePositionEncoding).
import { quote } from '../../core/errors.js';
import { broadcastTo, tensor } from '../../core/ops/index.js';
import type { Shape } from '../../core/shape.js';
import type { Tensor } from '../../core/tensor.js';
import { batchShape, type CallContext, Layer, type LayerOptions, registerLayer } from '../layer.js';

/** Options of {@link SinePositionEncoding} (keras_hub names). */
export interface SinePositionEncodingOptions extends LayerOptions {
  /** The longest wavelength of the sinusoids (default 10000). */
  maxWavelength?: number;
}

/**
 * The encoding P [T, D] for position t and feature i: angle = t · maxWavelength^(−2⌊i/2⌋/D), P = sin(angle) at even i
 * and cos(angle) at odd i (keras_hub's formula, computed in float64 and rounded once), broadcast to the input's shape
 * [N, ..., T, D]. No weights; it reads only the input's shape, so any T works. Add it to the token embedding with
 * `layers.add()`.
 */
export class SinePositionEncoding extends Layer {
  readonly className = 'SinePositionEncoding';
  readonly defaultName = 'sine_position_encoding';
  readonly maxWavelength: number;

  constructor(o: SinePositionEncodingOptions = {}) {
    super(o);
    const w = o.maxWavelength ?? 10000;
    if (!(typeof w === 'number' && Number.isFinite(w) && w > 0)) {
      throw new RangeError(`layer '${o.name ?? 'sine_position_encoding'}': maxWavelength must be a positive number, got ${quote(o.maxWavelength)}`);
    }
    this.maxWavelength = w;
  }

  override get stateless(): boolean {
    return true;
  }

  outputShape(s: Shape): number[] {
    if (s.length < 2) throw this.shapeError(`needs inputs [N, ..., T, D] (steps, features), got ${batchShape(s)}`);
    return [...s];
  }

  call(x: Tensor, _ctx: CallContext): Tensor {
    const [t, d] = x.shape.slice(-2);
    return broadcastTo(tensor(sineEncoding(t, d, this.maxWavelength), [t, d]), x.shape);
  }

  protected config(): Record<string, unknown> {
    return { maxWavelength: this.maxWavelength };
  }
}

/** The encoding [T, D] row-major: sin(t·w^(−2⌊i/2⌋/D)) at even i, cos at odd i. */
export function sineEncoding(steps: number, dim: number, maxWavelength = 10000): Float32Array {
  const out = new Float32Array(steps * dim);
  for (let i = 0; i < dim; i++) {
    const timescale = Math.pow(1 / maxWavelength, (2 * Math.floor(i / 2)) / dim);
    for (let t = 0; t < steps; t++) out[t * dim + i] = i % 2 === 0 ? Math.sin(t * timescale) : Math.cos(t * timescale);
  }
  return out;
}

registerLayer('SinePositionEncoding', (c) => new SinePositionEncoding(c as SinePositionEncodingOptions));
