// Helpers shared by the op files: input checks and scalar promotion.
import type { Backend, DType } from '../../backend/backend.js';
import { DTypeError, fmt } from '../errors.js';
import { empty, type Tensor } from '../tensor.js';
import { getBackend } from '../engine.js';

/** Checks the inputs are alive and on one backend, and returns it. */
export function backendOf(op: string, ...ts: Tensor[]): Backend {
  for (const t of ts) t.check(op);
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
