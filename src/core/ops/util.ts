// Helpers shared by the op files: input checks and scalar promotion.
import type { Backend, DType } from '../../backend/backend.js';
import { ArgumentError, describeValue, DTypeError, fmt } from '../errors.js';
import { empty, type Tensor } from '../tensor.js';
import { getBackend } from '../engine.js';

/** Most elements an op builds in a JavaScript array before the backend holds them: 4 GiB of float32, the engine's memory. */
const MAX_HOST_ELEMENTS = 2 ** 30;

/** Refuses `n` elements beyond {@link MAX_HOST_ELEMENTS}, naming the op (a typed array would fail with a bare RangeError). */
export function checkHostElements(op: string, n: number): void {
  if (n > MAX_HOST_ELEMENTS) throw new RangeError(`${op}: ${n} elements are more than a tensor can hold (at most 2^30)`);
}

/** Checks the inputs are tensors, alive and on one backend, and returns it. */
export function backendOf(op: string, ...ts: Tensor[]): Backend {
  ts.forEach((t, i) => {
    if (typeof (t as Partial<Tensor> | null)?.check !== 'function') {
      throw new ArgumentError(op, `expects tensors, got ${describeValue(t)}${ts.length > 1 ? ` as operand ${i + 1}` : ''} (make one with tensor(values, shape))`);
    }
    t.check(op);
  });
  const b = ts[0].backend;
  for (const t of ts) {
    if (t.backend !== b) throw new Error(`${op}: tensors live on different backends (${b.name} and ${t.backend.name})`);
  }
  return b;
}

/** Throws unless every tensor has dtype `dtype`. */
export function requireDType(op: string, dtype: DType, ...ts: Tensor[]): void {
  for (const t of ts) {
    if (t.dtype !== dtype) throw new DTypeError(op, `expected ${dtype}, got ${t.dtype} tensor of shape ${fmt(t.shape)}`);
  }
}

/** A float32 scalar on `backend`. */
export function scalarOn(value: number, backend: Backend = getBackend()): Tensor {
  const t = empty([], 'float32', backend);
  backend.fill(t.buf, 'float32', 1, value);
  return t;
}

/** A tensor argument, or a number promoted to a scalar on the other operand's backend. */
export type TensorLike = Tensor | number;

/** Promotes numbers to scalars. */
export function lift(x: TensorLike, like?: Tensor): Tensor {
  return typeof x === 'number' ? scalarOn(x, like?.backend) : x;
}
