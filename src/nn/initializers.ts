// Weight initialisers with Keras names and formulas (glorot, he, lecun; uniform; zeros, ones), all seeded.
import { fill, randomUniform, truncatedNormal } from '../core/ops/index.js';
import type { Shape } from '../core/shape.js';
import type { Tensor } from '../core/tensor.js';

/** Keras names of the initialisers (snake_case, as in Keras configs; camelCase is accepted too). */
export const INITIALIZERS = ['glorot_uniform', 'glorot_normal', 'he_uniform', 'he_normal', 'lecun_uniform', 'lecun_normal', 'uniform', 'zeros', 'ones'] as const;
/** One of {@link INITIALIZERS}. */
export type InitializerName = (typeof INITIALIZERS)[number];

/** Fan-in and fan-out of a weight: [in, out] for 2-D, [KH, KW, C, F] for convolution kernels (receptive field × channels). */
export interface Fans {
  fanIn: number;
  fanOut: number;
}

/** Keras' fan computation: the last two axes are (in, out), earlier axes multiply both (receptive field). */
export function fansOf(shape: Shape): Fans {
  if (shape.length === 0) return { fanIn: 1, fanOut: 1 };
  if (shape.length === 1) return { fanIn: shape[0], fanOut: shape[0] };
  let receptive = 1;
  for (let i = 0; i < shape.length - 2; i++) receptive *= shape[i];
  return { fanIn: shape[shape.length - 2] * receptive, fanOut: shape[shape.length - 1] * receptive };
}

/** Keras' other names for an initialiser ('random_uniform' is the class behind the string 'uniform'). */
const ALIASES: Record<string, InitializerName> = { random_uniform: 'uniform' };

/** Normalises 'glorotUniform' / 'GlorotUniform' / 'glorot_uniform' to the Keras snake_case name; throws for unknown names. */
export function initializerName(name: string, where = 'initializer'): InitializerName {
  const snake = name.replace(/([a-z])([A-Z])/g, '$1_$2').toLowerCase();
  if ((INITIALIZERS as readonly string[]).includes(snake)) return snake as InitializerName;
  if (ALIASES[snake]) return ALIASES[snake];
  throw new RangeError(`${where}: unknown initializer '${name}' (expected one of ${INITIALIZERS.join(', ')})`);
}

/**
 * Draws a tensor of `shape` from the named initialiser. `fans` defaults to {@link fansOf}(shape).
 * Truncated normals use Keras' correction (stddev / 0.87962566103423978) so the variance matches. 'uniform' is Keras'
 * `RandomUniform()` default, U(−0.05, 0.05) whatever the fans (Embedding's default).
 */
export function initialize(name: InitializerName, shape: Shape, seed: number, fans: Fans = fansOf(shape)): Tensor {
  const { fanIn, fanOut } = fans;
  const uniform = (scale: number): Tensor => {
    const limit = Math.sqrt(3 * scale);
    return randomUniform(shape, { seed, min: -limit, max: limit });
  };
  const normal = (scale: number): Tensor => truncatedNormal(shape, { seed, stddev: Math.sqrt(scale) / 0.87962566103423978 });
  switch (name) {
    case 'zeros': return fill(shape, 0);
    case 'ones': return fill(shape, 1);
    case 'glorot_uniform': return uniform(2 / (fanIn + fanOut));
    case 'glorot_normal': return normal(2 / (fanIn + fanOut));
    case 'he_uniform': return uniform(2 / fanIn);
    case 'he_normal': return normal(2 / fanIn);
    case 'lecun_uniform': return uniform(1 / fanIn);
    case 'lecun_normal': return normal(1 / fanIn);
    case 'uniform': return randomUniform(shape, { seed, min: -0.05, max: 0.05 });
  }
}
