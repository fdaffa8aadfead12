// Load limits for model files: the most elements one tensor or weight may have, and the opt-in to non-finite weights.
import { platform } from '../backend/wasm/platform.js';

/**
 * Default of {@link LoadOptions.maxElements}: 2^28 elements (1 GiB of float32) per stored tensor or weight. A file
 * that needs more is refused before anything that size is allocated; raise it with the option or, from the command
 * line, the environment variable `WEIGHTSHARE_MAX_ELEMENTS`.
 */
export const DEFAULT_MAX_ELEMENTS = 2 ** 28;

/** How far a model file is trusted when it is loaded. */
export interface LoadOptions {
  /**
   * The most elements one stored tensor (after decoding), one weight W (virtual, e.g. a hashed weight) or all the coded
   * tensors of a file together may have; default `WEIGHTSHARE_MAX_ELEMENTS` or {@link DEFAULT_MAX_ELEMENTS}.
   */
  maxElements?: number;
  /**
   * Accept NaN and ±Infinity in weights and optimizer state (default false, or `WEIGHTSHARE_ALLOW_NON_FINITE=1`):
   * such a model predicts NaN, so a file holding them is refused unless asked for, e.g. to inspect a diverged run.
   */
  allowNonFinite?: boolean;
}

/** The element limit in force: the option, else `WEIGHTSHARE_MAX_ELEMENTS`, else the default; a bad value is a RangeError naming it. */
export function maxElements(o: LoadOptions = {}): number {
  const env = platform.env('WEIGHTSHARE_MAX_ELEMENTS');
  const v = o.maxElements ?? (env !== undefined && env !== '' ? Number(env) : DEFAULT_MAX_ELEMENTS);
  if (!Number.isSafeInteger(v) || v < 1) {
    throw new RangeError(`maxElements must be a positive integer, got ${o.maxElements !== undefined ? JSON.stringify(o.maxElements) : `WEIGHTSHARE_MAX_ELEMENTS=${env}`}`);
  }
  return v;
}

/** Whether non-finite weights are accepted: the option, else `WEIGHTSHARE_ALLOW_NON_FINITE=1`. */
export function allowNonFinite(o: LoadOptions = {}): boolean {
  return o.allowNonFinite ?? platform.env('WEIGHTSHARE_ALLOW_NON_FINITE') === '1';
}

/** How to raise the element limit, for error messages. */
export const RAISE_MAX_ELEMENTS = 'raise it with the maxElements option or WEIGHTSHARE_MAX_ELEMENTS';
