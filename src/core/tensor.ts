// The Tensor: a shape and dtype over reference-counted backend storage.
import type { Backend, Buf, DType } from '../backend/backend.js';
import { getBackend, track, untrack } from './engine.js';
import { DisposedError, DTypeError, fmt, ShapeError } from './errors.js';
import { checkShape, type Shape, shapesEqual, sizeOf } from './shape.js';
import { formatTensor } from './tensor-format.js';

/** Backend memory shared by a tensor and its views (reshaped, or offset); freed when the last one is disposed. */
export class Storage {
  refs = 1;
  constructor(readonly backend: Backend, readonly buf: Buf, readonly dtype: DType, readonly size: number) {}
  release(): void {
    if (--this.refs === 0) this.backend.free(this.buf);
  }
}

let nextId = 1;

/**
 * An n-dimensional array of float32 (or int32, for indices) living on a backend: `size` dense row-major
 * elements of its storage, starting `offset` elements in.
 */
export class Tensor {
  readonly isTensor = true;
  readonly id = nextId++;
  readonly size: number;
  /** The backend handle of the first element (the storage's buffer, or an alias of it at `offset`). */
  readonly buf: Buf;
  /** Set by keep(): not disposed by enclosing tidy scopes. */
  kept = false;
  private disposedFlag = false;

  constructor(readonly storage: Storage, readonly shape: Shape, readonly offset = 0) {
    this.size = sizeOf(shape);
    if (!Number.isInteger(offset) || offset < 0 || offset + this.size > storage.size) {
      throw new RangeError(`Tensor: ${this.size} elements at offset ${offset} do not fit a storage of ${storage.size}`);
    }
    this.buf = offset === 0 ? storage.buf : storage.backend.alias(storage.buf, offset);
    track(this);
  }

  get dtype(): DType {
    return this.storage.dtype;
  }
  get rank(): number {
    return this.shape.length;
  }
  get backend(): Backend {
    return this.storage.backend;
  }
  get isDisposed(): boolean {
    return this.disposedFlag;
  }

  /** A copy of the elements, row-major. */
  data(): Float32Array | Int32Array {
    this.check('data');
    return this.backend.read(this.buf, this.dtype, this.size);
  }

  /** The elements as a float32 array (throws for int32 tensors). */
  f32(): Float32Array {
    if (this.dtype !== 'float32') throw new DTypeError('f32', `tensor ${fmt(this.shape)} is ${this.dtype}`);
    return this.data() as Float32Array;
  }

  /** The single element of a size-1 tensor. */
  item(): number {
    if (this.size !== 1) throw new DTypeError('item', `tensor ${fmt(this.shape)} has ${this.size} elements, expected 1`);
    return this.data()[0];
  }

  /** The elements as nested arrays. */
  toArray(): unknown {
    const d = Array.from(this.data());
    const build = (dim: number, off: number): unknown => {
      if (dim === this.shape.length) return d[off];
      const inner = sizeOf(this.shape.slice(dim + 1));
      return Array.from({ length: this.shape[dim] }, (_, i) => build(dim + 1, off + i * inner));
    };
    return build(0, 0);
  }

  /** Frees the tensor's memory now (idempotent). */
  dispose(): void {
    if (this.disposedFlag) return;
    this.disposedFlag = true;
    untrack();
    this.storage.release();
  }

  /** Throws a DisposedError if the tensor was disposed. */
  check(op: string): void {
    if (this.disposedFlag) throw new DisposedError(op, this.shape);
  }

  /**
   * The values as TF.js prints them (`Tensor` then nested brackets; long axes summarised), with `verbose` also dtype, rank and
   * shape; a disposed tensor gives `Tensor([shape], dtype, disposed)` instead of throwing.
   */
  toString(verbose = false): string {
    if (this.disposedFlag) return `Tensor(${fmt(this.shape)}, ${this.dtype}, disposed)`;
    return formatTensor(this.data(), this.shape, this.dtype, verbose);
  }

  /** Writes {@link toString} to the console (TF.js' `print`). */
  print(verbose = false): void {
    console.log(this.toString(verbose));
  }
}

/** Allocates an uninitialised tensor on `backend` (default: the current one). */
export function empty(shape: Shape, dtype: DType = 'float32', backend: Backend = getBackend()): Tensor {
  checkShape('empty', shape);
  const size = sizeOf(shape);
  return new Tensor(new Storage(backend, backend.alloc(size, dtype), dtype, size), [...shape]);
}

/** A new tensor sharing `t`'s storage with another shape of the same size. */
export function view(t: Tensor, shape: Shape): Tensor {
  return viewAt(t, 0, shape);
}

/**
 * A new tensor of `shape` over `t`'s storage, starting `offset` elements after `t`'s first element (no copy):
 * e.g. row i of x[T,B,H] is viewAt(x, i·B·H, [B, H]). It keeps the storage alive after `t` is disposed.
 */
export function viewAt(t: Tensor, offset: number, shape: Shape): Tensor {
  const v = new Tensor(t.storage, [...shape], t.offset + offset);
  t.storage.refs++;
  return v;
}

let inPlaceWrites = 0;

/**
 * Counts one in-place write to an existing tensor (assign, an optimizer step, Model.setWeights): what was derived from a
 * tensor's contents (a row lookup's table, see lookupOf in ops/nn.ts) holds only while this count has not moved.
 */
export function noteInPlaceWrite(): void {
  inPlaceWrites++;
}

/** The number of in-place writes so far (see {@link noteInPlaceWrite}). */
export function inPlaceWriteCount(): number {
  return inPlaceWrites;
}

/**
 * Copies `value`'s elements into `target`'s existing storage, in place, so `target` keeps its identity
 * (optimizers update parameters this way). Shapes, dtypes and backends must match exactly (no broadcasting).
 * Views (reshape, and slice / split / unstack along leading axes) share storage with the tensor they came
 * from: assigning to a view writes through to that block of the base and of every other view of it, and
 * assigning to the base changes its views. Not recorded on the tape: do not assign to a tensor a live
 * valueAndGrads still needs. Returns `target`.
 */
export function assign(target: Tensor, value: Tensor): Tensor {
  target.check('assign');
  value.check('assign');
  if (!shapesEqual(target.shape, value.shape)) {
    throw new ShapeError('assign', `target shape ${fmt(target.shape)} differs from value shape ${fmt(value.shape)}`);
  }
  if (target.dtype !== value.dtype) {
    throw new DTypeError('assign', `target ${fmt(target.shape)} is ${target.dtype}, value ${fmt(value.shape)} is ${value.dtype}`);
  }
  if (target.backend !== value.backend) {
    throw new Error(`assign: target ${fmt(target.shape)} is on backend '${target.backend.name}', value ${fmt(value.shape)} on '${value.backend.name}'`);
  }
  if (target.size === 0 || target.buf === value.buf) return target;
  noteInPlaceWrite();
  const b = target.backend;
  const flat = { shape: [target.size], srcStrides: [1], srcOffset: 0, dstStrides: [1], dstOffset: 0 };
  const overlap = target.storage === value.storage && Math.abs(target.offset - value.offset) < target.size;
  if (!overlap) {
    b.copy(value.buf, target.buf, flat);
    return target;
  }
  // Two overlapping views of one storage: copy kernels want disjoint buffers, so go through a temporary.
  const tmp = b.alloc(target.size, target.dtype);
  b.copy(value.buf, tmp, flat);
  b.copy(tmp, target.buf, flat);
  b.free(tmp);
  return target;
}
