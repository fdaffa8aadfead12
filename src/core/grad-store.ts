// The backward pass's gradient sums: one buffer per tensor, contributions added into it in place.
import { add, pad, zerosLike } from './ops/index.js';
import { isContiguousBlock, offsetOf, shapesEqual, stridesOf } from './shape.js';
import { empty, type Tensor } from './tensor.js';

/** A gradient that is `value` on the block of its input at `begin` of extent `size` (value's shape), zero elsewhere. */
export class BlockGrad {
  constructor(readonly value: Tensor, readonly begin: readonly number[], readonly size: readonly number[]) {}
}

/**
 * The gradients of one backward pass, by tensor id. A tensor's first contribution is kept as given (it may be
 * another tensor's gradient or a view of one); the next is summed into a fresh buffer the store owns, and later
 * ones are added into that buffer in place (never into a tensor the store did not make), so n contributions cost
 * n passes and one buffer. A BlockGrad is copied or added into its block of that buffer only. Sums keep the
 * order a + b = (earlier contributions) + (later one), element by element as `add` would.
 * With `inPlace` false (an outer tape is recording this backward pass) every sum is a recorded op instead: `add`,
 * and `pad` to materialise a block.
 */
export class GradStore {
  private readonly grads = new Map<number, Tensor>();
  private readonly owned = new Map<number, Tensor>();

  constructor(private readonly inPlace: boolean) {}

  /** The gradient summed so far for tensor `id`. */
  get(id: number): Tensor | undefined {
    return this.grads.get(id);
  }

  /** Forgets tensor `id`'s gradient (once it has been passed on); its buffer is then no longer updated. */
  delete(id: number): void {
    this.grads.delete(id);
    this.owned.delete(id);
  }

  /** Adds one contribution to the gradient of `x`. */
  add(x: Tensor, gx: Tensor | BlockGrad): void {
    const prev = this.grads.get(x.id);
    const mine = prev !== undefined && this.owned.get(x.id) === prev;
    if (gx instanceof BlockGrad) {
      if (!this.inPlace) {
        this.add(x, pad(gx.value, x.shape.map((d, i) => [gx.begin[i], d - gx.begin[i] - gx.size[i]] as [number, number])));
      } else if (prev === undefined) {
        writeBlock(this.own(x, zerosLike(x)), gx);
      } else {
        addBlock(mine ? prev : this.own(x, copyOf(prev)), gx);
      }
      return;
    }
    if (prev === undefined) this.grads.set(x.id, gx);
    else if (mine && shapesEqual(prev.shape, gx.shape)) addInto(prev, gx);
    else if (this.inPlace) this.own(x, add(prev, gx));
    else this.grads.set(x.id, add(prev, gx));
  }

  private own(x: Tensor, acc: Tensor): Tensor {
    this.grads.set(x.id, acc);
    this.owned.set(x.id, acc);
    return acc;
  }
}

/** A fresh dense copy of `t`. */
function copyOf(t: Tensor): Tensor {
  const c = empty(t.shape, t.dtype, t.backend);
  t.backend.copy(t.buf, c.buf, { shape: [t.size], srcStrides: [1], srcOffset: 0, dstStrides: [1], dstOffset: 0 });
  return c;
}

/** acc[n] += g[n] in place. */
function addInto(acc: Tensor, g: Tensor): void {
  acc.backend.binary('add', acc.buf, g.buf, acc.buf, { shape: [acc.size], strides: [[1], [1]] });
}

/** Copies the block's value into its block of `acc` (which holds zeros there). */
function writeBlock(acc: Tensor, { value, begin, size }: BlockGrad): void {
  acc.backend.copy(value.buf, acc.buf, {
    shape: size, srcStrides: stridesOf(size), srcOffset: 0, dstStrides: stridesOf(acc.shape), dstOffset: offsetOf(acc.shape, begin),
  });
}

/**
 * Adds the block's value into its block of `acc` in place: directly through an offset handle when the block
 * is contiguous, else by gathering the block into a temporary, adding, and scattering it back (3 passes over it).
 */
function addBlock(acc: Tensor, { value, begin, size }: BlockGrad): void {
  if (value.size === 0) return;
  const b = acc.backend;
  const off = offsetOf(acc.shape, begin);
  const flat = { shape: [value.size], strides: [[1], [1]] };
  if (isContiguousBlock(acc.shape, size)) {
    const at = b.alias(acc.buf, off);
    b.binary('add', at, value.buf, at, flat);
    return;
  }
  const dense = stridesOf(size), strided = stridesOf(acc.shape);
  const tmp = b.alloc(value.size, 'float32');
  b.copy(acc.buf, tmp, { shape: size, srcStrides: strided, srcOffset: off, dstStrides: dense, dstOffset: 0 });
  b.binary('add', tmp, value.buf, tmp, flat);
  b.copy(tmp, acc.buf, { shape: size, srcStrides: dense, srcOffset: 0, dstStrides: strided, dstOffset: off });
  b.free(tmp);
}
