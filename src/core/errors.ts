// Error classes: each message names the op, the shapes or values involved and what was expected.

/** Incompatible shapes for an op. */
export class ShapeError extends Error {
  constructor(op: string, message: string) {
    super(`${op}: ${message}`);
    this.name = 'ShapeError';
  }
}

/** Wrong element type for an op. */
export class DTypeError extends Error {
  constructor(op: string, message: string) {
    super(`${op}: ${message}`);
    this.name = 'DTypeError';
  }
}

/** An index outside the valid range (gather, scatter, one-hot); gather and scatterAdd also give the bad value and its flat position. */
export class IndexError extends Error {
  constructor(op: string, message: string, readonly value?: number, readonly position?: number) {
    super(`${op}: ${message}`);
    this.name = 'IndexError';
  }
}

/** Use of a tensor after it was disposed. */
export class DisposedError extends Error {
  constructor(op: string, shape: readonly number[]) {
    super(`${op}: tensor of shape [${shape.join(',')}] was already disposed (keep it with keep() or return it from tidy())`);
    this.name = 'DisposedError';
  }
}

/** A derivative the engine does not provide (e.g. second derivative of max-pooling). */
export class NotDifferentiableError extends Error {
  constructor(op: string, message: string) {
    super(`${op}: ${message}`);
    this.name = 'NotDifferentiableError';
  }
}

/**
 * A value of the wrong kind given to a public function (nested JS arrays where a tensor is expected, a string where a
 * list is); the message names the function and the argument: `fit: x must be a Tensor or …, got an array`.
 */
export class ArgumentError extends TypeError {
  constructor(fn: string, message: string) {
    super(`${fn}: ${message}`);
    this.name = 'ArgumentError';
  }
}

/**
 * Checks a function's options object: an ArgumentError when `o` is not an object, or names keys that `fn` does not take
 * (an undefined value is no option). `hints` adds a pointer for names that other libraries use (Keras' `class_weight`).
 */
export function checkOptions(fn: string, o: unknown, allowed: readonly string[], hints: Readonly<Record<string, string>> = {}): void {
  if (o === null || typeof o !== 'object' || Array.isArray(o)) throw new ArgumentError(fn, `options must be an object { ${allowed.join(', ')} }, got ${describeValue(o)}`);
  const unknown = Object.keys(o).filter((k) => !allowed.includes(k) && (o as Record<string, unknown>)[k] !== undefined);
  if (!unknown.length) return;
  const hinted = unknown.find((k) => hints[k] !== undefined);
  throw new ArgumentError(fn, `unknown option${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `'${k}'`).join(', ')} (options: ${allowed.join(', ')})${hinted ? `; ${hints[hinted]}` : ''}`);
}

/** A call its object's state does not allow: a model used after dispose(), a second fit() while one runs. */
export class StateError extends Error {
  constructor(what: string, message: string) {
    super(`${what}: ${message}`);
    this.name = 'StateError';
  }
}

/** A value as messages show it: `an array`, `null`, `the string "abc"`, `the number 3`, `a Float64Array`, `an object`. */
export function describeValue(v: unknown): string {
  if (v === null || v === undefined) return String(v);
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return `the ${typeof v} ${String(v)}`;
  if (typeof v === 'function') return 'a function';
  const name = (v as object).constructor?.name;
  return name && name !== 'Object' ? `a${/^[AEIOU]/.test(name) ? 'n' : ''} ${name}` : 'an object';
}

/** Marks a non-finite number inside a value while {@link quote} writes it as JSON (a text no option holds). */
const NON_FINITE = '\u2063nf\u2063';

/**
 * A value as an option's error quotes it: JSON for plain data (strings quoted, at most 80 characters), numbers as
 * themselves (NaN and ±Infinity, which JSON would print as null), and undefined, functions and cyclic objects by kind.
 */
export function quote(v: unknown): string {
  if (typeof v === 'number' || typeof v === 'bigint' || v === undefined) return String(v);
  let text: string | undefined;
  try {
    // Non-finite numbers inside an object or array as themselves too ({"rank":NaN}, not {"rank":null}).
    text = JSON.stringify(v, (_k, x: unknown) => (typeof x === 'number' && !Number.isFinite(x) ? `${NON_FINITE}${x}${NON_FINITE}` : x))
      ?.replace(new RegExp(`"${NON_FINITE}(NaN|-?Infinity)${NON_FINITE}"`, 'g'), '$1');
  } catch {
    text = undefined;
  }
  if (text === undefined) return describeValue(v);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** Bytes as messages show large sizes: 3 significant digits of GiB (`3730 GiB`, `0.806 GiB`), or of TiB with `tib`. */
export function gib(bytes: number, tib = false): string {
  return tib && bytes >= 2 ** 40 ? `${Number((bytes / 2 ** 40).toPrecision(3))} TiB` : `${Number((bytes / 2 ** 30).toPrecision(3))} GiB`;
}

/** Formats a shape for messages: [2,3]. */
export function fmt(shape: readonly number[]): string {
  return `[${shape.join(',')}]`;
}
