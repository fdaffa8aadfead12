// Load limits for model files: the most elements one tensor or weight, and all the weights of a model, may have; the opt-in to non-finite weights.
import { platform } from '../backend/wasm/platform.js';
import type { Shape } from '../core/shape.js';
import { type Model, type ModelConfig, visitWeightShapes } from '../nn/model.js';
import { parseMapSpec } from '../sharing/registry.js';
import { subspaceElements } from '../sharing/subspace.js';

/**
 * Default of {@link LoadOptions.maxElements}: 2^28 elements (1 GiB of float32) per stored tensor or weight. A file
 * that needs more is refused before anything that size is allocated; raise it with the option or, from the command
 * line, the environment variable `WEIGHTSHARE_MAX_ELEMENTS`.
 */
export const DEFAULT_MAX_ELEMENTS = 2 ** 28;

/**
 * Default of {@link LoadOptions.maxModelElements}: 2^26 elements (256 MiB of float32) for all the weights of a model
 * together (each weight counted at its full size W, a hashed or codebook weight too), 256 times the reference CNN. A
 * header whose weights add up to more is refused before the weight that crosses the limit is allocated; raise it with
 * the option or `WEIGHTSHARE_MAX_MODEL_ELEMENTS`.
 */
export const DEFAULT_MAX_MODEL_ELEMENTS = 2 ** 26;

/** How far a model file is trusted when it is loaded. */
export interface LoadOptions {
  /**
   * The most elements one stored tensor (after decoding), one weight W (virtual, e.g. a hashed weight) or all the coded
   * tensors of a file together may have; default `WEIGHTSHARE_MAX_ELEMENTS` or {@link DEFAULT_MAX_ELEMENTS}.
   */
  maxElements?: number;
  /**
   * The most elements all the weights W of the model may have together (a tied weight, which reuses another's, is not
   * counted again); default `WEIGHTSHARE_MAX_MODEL_ELEMENTS` or {@link DEFAULT_MAX_MODEL_ELEMENTS}.
   */
  maxModelElements?: number;
  /**
   * Accept NaN and ±Infinity in weights and optimizer state (default false, or `WEIGHTSHARE_ALLOW_NON_FINITE=1`):
   * such a model predicts NaN, so a file holding them is refused unless asked for, e.g. to inspect a diverged run.
   */
  allowNonFinite?: boolean;
}

/** A limit in force: the option, else the environment variable `env`, else `fallback`; a bad value is a RangeError naming it. */
function limit(option: 'maxElements' | 'maxModelElements', given: number | undefined, env: string, fallback: number): number {
  const text = platform.env(env);
  const v = given ?? (text !== undefined && text !== '' ? Number(text) : fallback);
  if (!Number.isSafeInteger(v) || v < 1) {
    throw new RangeError(`${option} must be a positive integer, got ${given !== undefined ? JSON.stringify(given) : `${env}=${text}`}`);
  }
  return v;
}

/** The per-tensor element limit in force: the option, else `WEIGHTSHARE_MAX_ELEMENTS`, else the default; a bad value is a RangeError naming it. */
export function maxElements(o: LoadOptions = {}): number {
  return limit('maxElements', o.maxElements, 'WEIGHTSHARE_MAX_ELEMENTS', DEFAULT_MAX_ELEMENTS);
}

/** The whole-model element limit in force: the option, else `WEIGHTSHARE_MAX_MODEL_ELEMENTS`, else the default; a bad value is a RangeError naming it. */
export function maxModelElements(o: LoadOptions = {}): number {
  return limit('maxModelElements', o.maxModelElements, 'WEIGHTSHARE_MAX_MODEL_ELEMENTS', DEFAULT_MAX_MODEL_ELEMENTS);
}

/** Whether non-finite weights are accepted: the option, else `WEIGHTSHARE_ALLOW_NON_FINITE=1`. */
export function allowNonFinite(o: LoadOptions = {}): boolean {
  return o.allowNonFinite ?? platform.env('WEIGHTSHARE_ALLOW_NON_FINITE') === '1';
}

/** How to accept non-finite weights, for error messages. */
export const ACCEPT_NON_FINITE = 'allowNonFinite: true in code, --allow-non-finite or WEIGHTSHARE_ALLOW_NON_FINITE=1 on the command line, accepts it';

/**
 * The first free parameter θ of a built model holding NaN or ±Infinity, described in one line (`weight 'dense/kernel'
 * holds NaN at position 3`), or undefined when every value is finite: importers refuse such a model unless
 * {@link allowNonFinite}, as model-file loads do.
 */
export function nonFiniteWeight(m: Model): string | undefined {
  for (const { name, param } of m.namedParameters()) {
    const d = param.value.f32();
    for (let i = 0; i < d.length; i++) if (!Number.isFinite(d[i]!)) return `weight '${name}' holds ${d[i]} at position ${i}`;
  }
  return undefined;
}

/** How to raise the element limit, for error messages. */
export const RAISE_MAX_ELEMENTS = 'raise it with the maxElements option or WEIGHTSHARE_MAX_ELEMENTS';
/** How to raise the whole-model element limit, for error messages. */
export const RAISE_MAX_MODEL_ELEMENTS = 'raise it with the maxModelElements option or WEIGHTSHARE_MAX_MODEL_ELEMENTS';

/**
 * Checks what a model config asks for before any of it is allocated (from a build that allocates no weight): each
 * weight W, and each constant a layer makes of its own (LocallyConnected2D's patch filter), against {@link maxElements}
 * and their sum (each W at its full size, a hashed or codebook one too; a tied weight, another's W, not again) against
 * {@link maxModelElements}. `fail` gets a one-line message naming the weight
 * and throws.
 */
export function checkModelElements(config: ModelConfig, seed: number, o: LoadOptions, fail: (message: string) => never): void {
  const perWeight = maxElements(o), perModel = maxModelElements(o);
  let total = 0;
  const count = (what: string, path: string, shape: Shape, tied: boolean): void => {
    const n = shape.reduce((a, d) => a * d, 1);
    if (n > perWeight) fail(`${what} '${path}' [${shape.join(',')}] has ${n} elements, above the limit of ${perWeight} per ${what} (${RAISE_MAX_ELEMENTS})`);
    if (!tied) total += n;
    if (total > perModel) fail(`the weights up to '${path}' [${shape.join(',')}] add up to ${total} elements, above the limit of ${perModel} per model (${RAISE_MAX_MODEL_ELEMENTS})`);
  };
  visitWeightShapes(config, seed, (path, shape, spec) => {
    const c = parseMapSpec(spec ?? 'dense');
    count('weight', path, shape, c.kind === 'tied');
    // A subspace map's projection and d are sized by its dim, not by W.
    if (c.kind === 'subspace') count('subspace projection', path, [subspaceElements(c, shape.reduce((a, d) => a * d, 1))], false);
  }, (path, shape) => count('constant', path, shape, false));
}
