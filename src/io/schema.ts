// A small JSON schema checker for model-file headers: typed fields, ranges, strict objects (unknown keys refused by name).
import { quote } from '../core/errors.js';

/** Checks a value, throwing a {@link FieldError} naming `at` (the field's dotted path) when it does not fit. */
export type Check = (v: unknown, at: string) => void;

/** A field of an object schema: its check, and whether it may be absent. */
export interface Field {
  check: Check;
  optional?: boolean;
}

/** The fields of a strict object. */
export type Schema = Record<string, Field>;

/** A value that does not fit its schema; the message names the field (dotted path) and what it should be. */
export class FieldError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FieldError';
  }
}

/** Throws a FieldError: field `at` must be `want`, got `v`. */
export const fail = (at: string, want: string, v: unknown): never => {
  throw new FieldError(`field '${at}' must be ${want}, got ${quote(v)}`);
};

/** An integer ≥ min (default: any safe integer); ≤ max when given. */
export const int = (min?: number, max?: number): Check => (v, at) => {
  const want = min === undefined ? 'an integer' : max === undefined ? `an integer ≥ ${min}` : `an integer in [${min}, ${max}]`;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < (min ?? -Infinity) || v > (max ?? Infinity)) fail(at, want, v);
};
/** A finite number, in [min, max] when given. */
export const num = (min = -Infinity, max = Infinity): Check => (v, at) => {
  const want = min === -Infinity && max === Infinity ? 'a number' : `a number in [${min}, ${max}]`;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) fail(at, want, v);
};
export const str: Check = (v, at) => void (typeof v === 'string' || fail(at, 'a string', v));
export const bool: Check = (v, at) => void (typeof v === 'boolean' || fail(at, 'true or false', v));
/** Anything; what the value means is checked elsewhere (e.g. a layer's own config, by the layer). */
export const any: Check = () => {};
export const oneOf = (values: readonly unknown[]): Check => (v, at) => void (values.includes(v) || fail(at, `one of ${values.map((x) => quote(x)).join(', ')}`, v));
export const nullable = (c: Check): Check => (v, at) => void (v === null || c(v, at));
/** Either check (the first error is reported when both fail). */
export const either = (a: Check, b: Check): Check => (v, at) => {
  try {
    a(v, at);
  } catch (e) {
    if (!(e instanceof FieldError)) throw e;
    try {
      b(v, at);
    } catch {
      throw e;
    }
  }
};
/** A plain object (not null, not a list), else a FieldError. */
export const plain = (v: unknown, at: string): Record<string, unknown> => (v && typeof v === 'object' && !Array.isArray(v) ? v as Record<string, unknown> : fail(at, 'an object', v));
export const arrayOf = (c: Check): Check => (v, at) => {
  if (!Array.isArray(v)) fail(at, 'a list', v);
  (v as unknown[]).forEach((x, i) => c(x, `${at}[${i}]`));
};
/** An object whose every value passes `c` (keys are free: names, e.g. of metrics). */
export const recordOf = (c: Check): Check => (v, at) => {
  for (const [k, x] of Object.entries(plain(v, at))) c(x, `${at}.${k}`);
};

/**
 * A strict object: every field of `schema` checked (absent only if optional), and any other key refused by name
 * unless it is among `legacy` (keys that files of earlier versions hold and this version ignores). `root` names
 * the object itself in messages when `at` is empty.
 */
export const object = (schema: Schema, o: { legacy?: readonly string[]; root?: string } = {}): Check => (v, at) => {
  const obj = plain(v, at || o.root || 'value');
  for (const [k, { check, optional }] of Object.entries(schema)) {
    const where = at ? `${at}.${k}` : k;
    if (obj[k] !== undefined) check(obj[k], where);
    else if (!optional) fail(where, 'present', undefined);
  }
  for (const k of Object.keys(obj)) {
    if (k in schema || o.legacy?.includes(k)) continue;
    throw new FieldError(`unknown field '${at ? `${at}.${k}` : k}' (known: ${Object.keys(schema).join(', ')})`);
  }
};
export const req = (check: Check): Field => ({ check });
export const opt = (check: Check): Field => ({ check, optional: true });
