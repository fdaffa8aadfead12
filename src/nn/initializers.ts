// Weight initialisers with Keras names and formulas (glorot, he, lecun; uniform; orthogonal; zeros, ones), all seeded.
import { describeValue } from '../core/errors.js';
import { fill, randomUniform, tensor, truncatedNormal } from '../core/ops/index.js';
import { Random } from '../core/random.js';
import type { Shape } from '../core/shape.js';
import type { Tensor } from '../core/tensor.js';

/** Keras names of the initialisers (snake_case, as in Keras configs; camelCase is accepted too). */
export const INITIALIZERS = ['glorot_uniform', 'glorot_normal', 'he_uniform', 'he_normal', 'lecun_uniform', 'lecun_normal', 'uniform', 'orthogonal', 'zeros', 'ones'] as const;
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

/**
 * Normalises 'glorotUniform' / 'GlorotUniform' / 'glorot_uniform' to the Keras snake_case name; throws a RangeError for
 * an unknown name or a value that is not a string, naming `where` and the option it was given as.
 */
export function initializerName(name: unknown, where = 'initializer', option?: string): InitializerName {
  if (typeof name !== 'string') {
    throw new RangeError(`${where}: ${option ?? 'an initializer'} must be the name of an initializer (one of ${INITIALIZERS.join(', ')}), got ${describeValue(name)}`);
  }
  const snake = name.replace(/([a-z])([A-Z])/g, '$1_$2').toLowerCase();
  if ((INITIALIZERS as readonly string[]).includes(snake)) return snake as InitializerName;
  if (ALIASES[snake]) return ALIASES[snake];
  throw new RangeError(`${where}: unknown initializer '${name}'${option ? ` for ${option}` : ''} (expected one of ${INITIALIZERS.join(', ')})`);
}

/**
 * Draws a tensor of `shape` from the named initialiser. `fans` defaults to {@link fansOf}(shape).
 * Truncated normals use Keras' correction (stddev / 0.87962566103423978) so the variance matches. 'uniform' is Keras'
 * `RandomUniform()` default, U(−0.05, 0.05) whatever the fans (Embedding's default); 'orthogonal' ignores the fans
 * (see {@link orthogonal}).
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
    case 'orthogonal': return orthogonal(shape, seed);
  }
}

/**
 * Keras' Orthogonal(gain 1): W viewed as [rows = Π shape[:-1], cols = shape[-1]] has orthonormal columns (rows ≥ cols)
 * or orthonormal rows (rows < cols): the Q of the QR decomposition (diagonal of R made positive) of a standard normal
 * matrix of the taller orientation, drawn from `seed`. Recurrent kernels [units, G·units] get orthonormal rows.
 */
export function orthogonal(shape: Shape, seed: number): Tensor {
  const cols = shape.length ? shape[shape.length - 1] : 1;
  const rows = shape.length ? shape.slice(0, -1).reduce((a, b) => a * b, 1) : 1;
  const [m, n] = rows >= cols ? [rows, cols] : [cols, rows];
  const rng = new Random(seed);
  // q: n column vectors of length m (column-major), orthonormalised in order by modified Gram–Schmidt, applied twice
  // for float64 accuracy; R's diagonal is then the positive norm, as the sign correction of Keras asks.
  const q = Float64Array.from({ length: m * n }, () => rng.normal());
  for (let j = 0; j < n; j++) {
    const qj = q.subarray(j * m, (j + 1) * m);
    for (let pass = 0; pass < 2; pass++) {
      for (let k = 0; k < j; k++) {
        const qk = q.subarray(k * m, (k + 1) * m);
        let d = 0;
        for (let i = 0; i < m; i++) d += qk[i] * qj[i];
        for (let i = 0; i < m; i++) qj[i] -= d * qk[i];
      }
    }
    let norm = 0;
    for (let i = 0; i < m; i++) norm += qj[i] * qj[i];
    norm = Math.sqrt(norm);
    for (let i = 0; i < m; i++) qj[i] /= norm;
  }
  // W[r, c]: Q[r, c] when rows ≥ cols (Q is m×n = rows×cols), else Qᵀ[r, c] = Q[c, r].
  const w = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) w[r * cols + c] = rows >= cols ? q[c * m + r] : q[r * m + c];
  return tensor(w, [...shape]);
}
