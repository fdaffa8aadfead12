// LayerNormalization: each sample normalised over the given axes to zero mean and unit variance, then scaled and shifted (Keras' LayerNormalization).
import { quote } from '../../core/errors.js';
import { add, layerNorm, mean, mul, reshape, rsqrt, square, sub } from '../../core/ops/index.js';
import type { Random } from '../../core/random.js';
import type { Shape } from '../../core/shape.js';
import type { Tensor } from '../../core/tensor.js';
import { initializerName, type InitializerName } from '../initializers.js';
import { boolOption, batchShape, type CallContext, Layer, type LayerOptions, registerLayer } from '../layer.js';

/** Options of {@link LayerNormalization} (Keras names). */
export interface LayerNormalizationOptions extends LayerOptions {
  /** Axis or axes to normalise over, counting the batch axis as 0 (Keras); default −1, the last. */
  axis?: number | number[];
  /** Added to the variance before the square root (default 1e-3, Keras'). */
  epsilon?: number;
  /** Add the learned offset `beta` (default true). */
  center?: boolean;
  /** Multiply by the learned scale `gamma` (default true). */
  scale?: boolean;
  betaInitializer?: string;
  gammaInitializer?: string;
}

/**
 * y = (x − mean) / sqrt(var + epsilon) · gamma + beta, mean and (biased) variance taken per sample over `axis`; gamma and
 * beta have the shape of those axes, in ascending order (e.g. [C] for axis −1 on [N, T, C]). Over the last axis alone
 * it is one fused op (layerNorm, with a one-pass gradient); over other axes it is composed of the mean / rsqrt / mul
 * ops, so its gradient is theirs. Keeps a Keras mask (it acts on each step alone).
 */
export class LayerNormalization extends Layer {
  protected override readonly floatInputsOnly = true;
  readonly className = 'LayerNormalization';
  readonly defaultName = 'layer_normalization';
  readonly axis: number | number[];
  readonly epsilon: number;
  readonly center: boolean;
  readonly scale: boolean;
  readonly betaInitializer: InitializerName;
  readonly gammaInitializer: InitializerName;

  constructor(o: LayerNormalizationOptions = {}) {
    super(o);
    const name = o.name ?? 'layer_normalization';
    const axes = Array.isArray(o.axis) ? o.axis : [o.axis ?? -1];
    if (axes.length === 0 || axes.some((a) => !Number.isInteger(a) || a === 0) || new Set(axes).size !== axes.length) {
      throw new RangeError(`layer '${name}': axis must be a non-zero integer or a list of distinct ones (0 is the batch axis), got ${quote(o.axis)}`);
    }
    this.axis = Array.isArray(o.axis) ? [...o.axis] : (o.axis ?? -1);
    this.epsilon = o.epsilon ?? 1e-3;
    if (!(typeof this.epsilon === 'number' && this.epsilon > 0 && Number.isFinite(this.epsilon))) throw new RangeError(`layer '${name}': epsilon must be a positive number, got ${quote(o.epsilon)}`);
    this.center = boolOption(name, 'center', o.center, true);
    this.scale = boolOption(name, 'scale', o.scale, true);
    this.betaInitializer = initializerName(o.betaInitializer ?? 'zeros', `layer '${name}'`, 'betaInitializer');
    this.gammaInitializer = initializerName(o.gammaInitializer ?? 'ones', `layer '${name}'`, 'gammaInitializer');
  }

  override get supportsMasking(): boolean {
    return true;
  }

  /** The normalised axes within per-sample shape `s`, ascending. */
  private sampleAxes(s: Shape): number[] {
    const axes = (Array.isArray(this.axis) ? this.axis : [this.axis]).map((a) => (a > 0 ? a - 1 : s.length + a));
    if (axes.some((a) => a < 0 || a >= s.length) || new Set(axes).size !== axes.length) {
      throw this.shapeError(`axis ${JSON.stringify(this.axis)} does not fit inputs ${batchShape(s)} (rank ${s.length + 1}; axes count the batch axis as 0 and must be distinct)`);
    }
    return axes.sort((a, b) => a - b);
  }

  outputShape(s: Shape): number[] {
    this.sampleAxes(s);
    return [...s];
  }

  /**
   * γ and β see the normalised axes only (counted from the end, and their sizes): one layer serves sequences of any
   * length and inputs of other ranks when it normalises the trailing axes (the default, axis −1).
   */
  override weightShapeKey(shapes: readonly Shape[]): string {
    return JSON.stringify(shapes.map((s) => this.sampleAxes(s).map((a) => [a - s.length, s[a]])));
  }

  protected override createWeights(s: Shape, rng: Random): void {
    const shape = this.sampleAxes(s).map((a) => s[a]);
    if (this.scale) this.addWeight('gamma', shape, this.gammaInitializer, rng, { role: 'gamma' });
    if (this.center) this.addWeight('beta', shape, this.betaInitializer, rng, { role: 'beta' });
  }

  call(x: Tensor, _ctx: CallContext): Tensor {
    const s = x.shape.slice(1);
    const axes = this.sampleAxes(s);
    const trailing = axes.length === 1 && axes[0] === s.length - 1;
    if (trailing) {
      return layerNorm(x, { gamma: this.scale ? this.w('gamma') : undefined, beta: this.center ? this.w('beta') : undefined, epsilon: this.epsilon });
    }
    const ax = axes.map((a) => a + 1);
    const mu = mean(x, ax, true);
    const xc = sub(x, mu);
    let y = mul(xc, rsqrt(add(mean(square(xc), ax, true), this.epsilon)));
    // gamma and beta [d_a, …] broadcast over the other axes, reshaped with 1s.
    const bcast = (w: Tensor): Tensor => reshape(w, s.map((d, i) => (axes.includes(i) ? d : 1)));
    if (this.scale) y = mul(y, bcast(this.w('gamma')));
    if (this.center) y = add(y, bcast(this.w('beta')));
    return y;
  }

  protected config(): Record<string, unknown> {
    return {
      axis: this.axis, epsilon: this.epsilon, center: this.center, scale: this.scale,
      betaInitializer: this.betaInitializer, gammaInitializer: this.gammaInitializer,
    };
  }
}

registerLayer('LayerNormalization', (c) => new LayerNormalization(c as LayerNormalizationOptions));
