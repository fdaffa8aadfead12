// Creation ops: tensors from data, constants, ranges and seeded random tensors.
import type { DType } from '../../backend/backend.js';
import { checkOptions, describeValue, DTypeError, quote, ShapeError } from '../errors.js';
import { Random } from '../random.js';
import { checkShape, type Shape, sizeOf } from '../shape.js';
import { empty, type Tensor } from '../tensor.js';
import { checkHostElements } from './util.js';

type NestedNumbers = number | readonly NestedNumbers[];

function inferShape(v: NestedNumbers): number[] {
  const s: number[] = [];
  let x: NestedNumbers = v;
  while (Array.isArray(x)) {
    s.push(x.length);
    x = (x as readonly NestedNumbers[])[0];
  }
  return s;
}

/** Typed arrays of numbers other than the tensors' own (converted like arrays). */
type OtherNumberArray = Float64Array | Int8Array | Uint8Array | Uint8ClampedArray | Int16Array | Uint16Array | Uint32Array;

/** A tensor from a (nested) array or typed array; `shape` is required for flat data of rank ≠ 1. */
export function tensor(values: NestedNumbers | Float32Array | Int32Array | OtherNumberArray | readonly number[], shape?: Shape, dtype?: DType): Tensor {
  checkDType('tensor', dtype);
  const dt: DType = dtype ?? (values instanceof Int32Array ? 'int32' : 'float32');
  let flat: number[] | Float32Array | Int32Array;
  let inferred: number[];
  if (values instanceof Float32Array || values instanceof Int32Array) {
    flat = values;
    inferred = [values.length];
  } else if (ArrayBuffer.isView(values)) {
    // Other typed arrays (Float64Array, Uint8Array, …) are converted like a flat array; BigInt ones hold no numbers.
    const view: unknown = values;
    if (view instanceof BigInt64Array || view instanceof BigUint64Array || view instanceof DataView) {
      throw new DTypeError('tensor', `takes numbers; a ${view.constructor.name} holds ${view instanceof DataView ? 'bytes' : 'BigInts'} (convert them to numbers first)`);
    }
    flat = Array.from(values);
    inferred = [flat.length];
  } else if (typeof values === 'number') {
    flat = [values];
    inferred = [];
  } else {
    if (!Array.isArray(values)) throw new DTypeError('tensor', `takes numbers (a number, an array, possibly nested, or a typed array), got ${describeValue(values)}`);
    inferred = inferShape(values as NestedNumbers);
    flat = (values as unknown[]).flat(Infinity) as number[];
    // ['1', 2] or [null] became NaN or 0 without a word.
    const bad = flat.findIndex((v) => typeof v !== 'number');
    if (bad >= 0) {
      const x: unknown = flat[bad];
      throw new DTypeError('tensor', `takes numbers, got ${typeof x === 'bigint' ? `the BigInt ${String(x)}n` : quote(x)} at flat index ${bad}`);
    }
  }
  const sh = shape ?? inferred;
  checkShape('tensor', sh);
  if (sizeOf(sh) !== flat.length) throw new ShapeError('tensor', `${flat.length} values do not fill shape [${sh.join(',')}] (${sizeOf(sh)} elements)`);
  if (dt === 'int32' && !(flat instanceof Int32Array)) checkWhole('tensor', flat);
  const t = empty(sh, dt);
  // A typed array of the tensor's own type is written as it is (write copies); anything else is converted first.
  const same = dt === 'int32' ? flat instanceof Int32Array : flat instanceof Float32Array;
  t.backend.write(t.buf, same ? flat as Float32Array | Int32Array : dt === 'int32' ? Int32Array.from(flat) : Float32Array.from(flat));
  return t;
}

/**
 * int32 tensors hold ids and labels: a value that is not a whole number in int32's range is refused, naming it and its
 * position, instead of being truncated (0.7 and NaN would become id 0 — padding under maskZero — and 3e9 would wrap).
 */
function checkWhole(op: string, v: ArrayLike<number>): void {
  for (let i = 0; i < v.length; i++) {
    const x = v[i];
    if (Number.isInteger(x) && x >= -2147483648 && x <= 2147483647) continue;
    const shown = typeof x === 'bigint' ? `the BigInt ${String(x)}n` : quote(x);
    throw new DTypeError(op, `int32 values must be whole numbers in [-2^31, 2^31), got ${shown}${op === 'tensor' ? ` at flat index ${i}` : ''} (round or cast the data first)`);
  }
}

/** The element types a tensor can have: an unknown one is refused when the tensor is made, not at its first op. */
function checkDType(op: string, dtype: unknown): void {
  if (dtype !== undefined && dtype !== 'float32' && dtype !== 'int32') throw new DTypeError(op, `dtype must be 'float32' or 'int32', got ${quote(dtype)}`);
}

/** A rank-0 tensor. */
export function scalar(value: number, dtype: DType = 'float32'): Tensor {
  return fill([], value, dtype);
}

/** A tensor filled with `value`. */
export function fill(shape: Shape, value: number, dtype: DType = 'float32'): Tensor {
  checkDType('fill', dtype);
  if (dtype === 'int32') checkWhole('fill', [value]);
  const t = empty(shape, dtype);
  t.backend.fill(t.buf, dtype, t.size, value);
  return t;
}

/** Zeros of a shape. */
export function zeros(shape: Shape, dtype: DType = 'float32'): Tensor {
  return fill(shape, 0, dtype);
}

/** Ones of a shape. */
export function ones(shape: Shape, dtype: DType = 'float32'): Tensor {
  return fill(shape, 1, dtype);
}

/** Zeros with the shape (or `shape`), dtype and backend of `t`. */
export function zerosLike(t: Tensor, shape: Shape = t.shape): Tensor {
  const z = empty(shape, t.dtype, t.backend);
  z.backend.fill(z.buf, t.dtype, z.size, 0);
  return z;
}

/** Ones with the shape, dtype and backend of `t`. */
export function onesLike(t: Tensor): Tensor {
  const z = empty(t.shape, t.dtype, t.backend);
  z.backend.fill(z.buf, t.dtype, z.size, 1);
  return z;
}

/** [start, start+step, …) below `stop`, like numpy.arange. */
export function range(start: number, stop: number, step = 1, dtype: DType = 'float32'): Tensor {
  for (const [k, v] of [['start', start], ['stop', stop], ['step', step]] as const) {
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new RangeError(`range: ${k} must be a finite number, got ${quote(v)}`);
  }
  if (step === 0) throw new RangeError('range: step must not be 0');
  if (dtype !== 'float32' && dtype !== 'int32') throw new DTypeError('range', `dtype must be 'float32' or 'int32', got ${quote(dtype)}`);
  const n = Math.max(0, Math.ceil((stop - start) / step));
  checkHostElements('range', n);
  const d = dtype === 'int32' ? new Int32Array(n) : new Float32Array(n);
  for (let i = 0; i < n; i++) d[i] = start + i * step;
  return tensor(d, [n], dtype);
}

function randomTensor(op: string, shape: Shape, draw: () => number): Tensor {
  checkShape(op, shape);
  checkHostElements(op, sizeOf(shape));
  const d = new Float32Array(sizeOf(shape));
  for (let i = 0; i < d.length; i++) d[i] = draw();
  return tensor(d, shape);
}

/** Options of the random creation ops; the seed is required so that runs are reproducible. */
export interface RandomOptions {
  seed: number;
}

/** The seeded generator of a random op, its options checked: a required finite seed and only `keys` beside it. */
function randomOf(op: string, o: RandomOptions | undefined, keys: readonly string[]): Random {
  checkOptions(op, o, ['seed', ...keys]);
  const seed: unknown = o!.seed;
  if (typeof seed !== 'number' || !Number.isFinite(seed)) throw new RangeError(`${op}: options.seed must be a finite number (the seed makes runs reproducible), got ${quote(seed)}`);
  for (const k of keys) {
    const v: unknown = (o as unknown as Record<string, unknown>)[k];
    if (v !== undefined && (typeof v !== 'number' || !Number.isFinite(v))) throw new RangeError(`${op}: options.${k} must be a finite number, got ${quote(v)}`);
  }
  return new Random(seed);
}

/** Uniform in [min, max). */
export function randomUniform(shape: Shape, o: RandomOptions & { min?: number; max?: number }): Tensor {
  const r = randomOf('randomUniform', o, ['min', 'max']);
  const lo = o.min ?? 0;
  const hi = o.max ?? 1;
  return randomTensor('randomUniform', shape, () => lo + (hi - lo) * r.uniform());
}

/** Normal with the given mean and standard deviation. */
export function randomNormal(shape: Shape, o: RandomOptions & { mean?: number; stddev?: number }): Tensor {
  const r = randomOf('randomNormal', o, ['mean', 'stddev']);
  const m = o.mean ?? 0;
  const s = o.stddev ?? 1;
  return randomTensor('randomNormal', shape, () => m + s * r.normal());
}

/** Normal truncated to two standard deviations (values beyond are redrawn), as in TF/Keras. */
export function truncatedNormal(shape: Shape, o: RandomOptions & { mean?: number; stddev?: number }): Tensor {
  const r = randomOf('truncatedNormal', o, ['mean', 'stddev']);
  const m = o.mean ?? 0;
  const s = o.stddev ?? 1;
  return randomTensor('truncatedNormal', shape, () => {
    let z: number;
    do z = r.normal();
    while (Math.abs(z) > 2);
    return m + s * z;
  });
}
