// Ops that move data without arithmetic: reshape, transpose, slice, split, unstack, pad, concat, broadcast; plus sumToShape.
import { fmt, ShapeError } from '../errors.js';
import {
  broadcastShapes, broadcastStrides, isContiguousBlock, normAxis, offsetOf, type Shape, shapesEqual, sizeOf, stridesOf,
} from '../shape.js';
import { record, recordMany } from '../tape.js';
import { empty, type Tensor, view, viewAt } from '../tensor.js';
import { sum } from './reduce.js';
import { backendOf } from './util.js';

/** The same data with a new shape (one dimension may be −1). Shares memory with `x`. */
export function reshape(x: Tensor, shape: Shape): Tensor {
  backendOf('reshape', x);
  const s = [...shape];
  const unknown = s.indexOf(-1);
  if (unknown >= 0) {
    const known = sizeOf(s.filter((_, i) => i !== unknown));
    if (known === 0 || x.size % known !== 0) throw new ShapeError('reshape', `cannot reshape ${fmt(x.shape)} to ${fmt(shape)}`);
    s[unknown] = x.size / known;
  }
  if (s.some((d) => !Number.isInteger(d) || d < 0) || sizeOf(s) !== x.size) {
    throw new ShapeError('reshape', `cannot reshape ${fmt(x.shape)} (${x.size} elements) to ${fmt(shape)}`);
  }
  return record('reshape', [x], view(x, s), {});
}

/** Inserts a dimension of size 1 at `axis`. */
export function expandDims(x: Tensor, axis: number): Tensor {
  const a = normAxis('expandDims', axis, x.rank + 1);
  return reshape(x, [...x.shape.slice(0, a), 1, ...x.shape.slice(a)]);
}

/** Removes dimensions of size 1 (all, or the given axes). */
export function squeeze(x: Tensor, axes?: readonly number[]): Tensor {
  const drop = axes ? new Set(axes.map((a) => normAxis('squeeze', a, x.rank))) : undefined;
  for (const a of drop ?? []) if (x.shape[a] !== 1) throw new ShapeError('squeeze', `axis ${a} of ${fmt(x.shape)} has size ${x.shape[a]}, not 1`);
  return reshape(x, x.shape.filter((d, i) => (drop ? !drop.has(i) : d !== 1)));
}

/** Permutes the axes (default: reverses them). */
export function transpose(x: Tensor, perm?: readonly number[]): Tensor {
  const b = backendOf('transpose', x);
  const p = perm ? perm.map((a) => normAxis('transpose', a, x.rank)) : x.shape.map((_, i) => x.rank - 1 - i);
  if (p.length !== x.rank || new Set(p).size !== x.rank) throw new ShapeError('transpose', `perm [${perm}] is not a permutation of the axes of ${fmt(x.shape)}`);
  const shape = p.map((a) => x.shape[a]);
  const st = stridesOf(x.shape);
  const y = empty(shape, x.dtype, b);
  b.copy(x.buf, y.buf, { shape, srcStrides: p.map((a) => st[a]), srcOffset: 0, dstStrides: stridesOf(shape), dstOffset: 0 });
  return record('transpose', [x], y, { perm: p });
}

/**
 * The block of `x` at `begin` of extent `size`, as a tensor of `shape` (same element count; not recorded): a view
 * of x's storage when the block is contiguous in memory (see isContiguousBlock), else a copy.
 */
function block(x: Tensor, begin: readonly number[], size: readonly number[], shape: Shape = size): Tensor {
  const off = offsetOf(x.shape, begin);
  if (sizeOf(size) > 0 && isContiguousBlock(x.shape, size)) return viewAt(x, off, shape);
  const b = x.backend;
  const y = empty(shape, x.dtype, b);
  b.copy(x.buf, y.buf, { shape: size, srcStrides: stridesOf(x.shape), srcOffset: off, dstStrides: stridesOf(size), dstOffset: 0 });
  return y;
}

/**
 * The block starting at `begin` of extent `size` (−1 = to the end). Shares memory with `x` (no copy) when the
 * block is contiguous: only leading axes restricted, i.e. every axis after the last cut one is full and every
 * axis before it has size 1 (x[t] of x[T,B,H], rows of a matrix); otherwise a copy.
 */
export function slice(x: Tensor, begin: readonly number[], size?: readonly number[]): Tensor {
  backendOf('slice', x);
  if (begin.length !== x.rank || (size && size.length !== x.rank)) throw new ShapeError('slice', `begin [${begin}] / size [${size ?? ''}] must have one entry per axis of ${fmt(x.shape)}`);
  const sz = x.shape.map((d, i) => (size === undefined || size[i] === -1 ? d - begin[i] : size[i]));
  x.shape.forEach((d, i) => {
    if (!Number.isInteger(begin[i]) || begin[i] < 0 || sz[i] < 0 || begin[i] + sz[i] > d) {
      throw new ShapeError('slice', `begin [${begin}] size [${sz}] is out of range for ${fmt(x.shape)}`);
    }
  });
  return record('slice', [x], block(x, begin, sz), { begin: [...begin], size: sz });
}

/** Pieces of `x` along axis `a` of the given extents, each reshaped to `shapeOf(extent)`; one tape node. */
function pieces(x: Tensor, sizes: number[], a: number, shapeOf: (n: number) => Shape): Tensor[] {
  let at = 0;
  const ys = sizes.map((n) => {
    const begin = x.shape.map((_, i) => (i === a ? at : 0));
    at += n;
    return block(x, begin, x.shape.map((d, i) => (i === a ? n : d)), shapeOf(n));
  });
  return recordMany('split', [x], ys, { axis: a, sizes });
}

/**
 * Splits `x` along `axis` into pieces: `sizesOrCount` lists their extents (summing to the axis length) or
 * counts equal pieces. Pieces share memory with `x` when every axis before `axis` has size 1 (always for
 * axis 0), else they are copies. The backward pass writes all the pieces' gradients into one buffer.
 */
export function split(x: Tensor, sizesOrCount: number | readonly number[], axis = 0): Tensor[] {
  backendOf('split', x);
  const a = normAxis('split', axis, x.rank);
  const len = x.shape[a];
  let sizes: number[];
  if (typeof sizesOrCount === 'number') {
    if (!Number.isInteger(sizesOrCount) || sizesOrCount < 1 || len % sizesOrCount !== 0) {
      throw new ShapeError('split', `cannot split axis ${a} of ${fmt(x.shape)} (length ${len}) into ${sizesOrCount} equal pieces`);
    }
    sizes = new Array<number>(sizesOrCount).fill(len / sizesOrCount);
  } else {
    sizes = [...sizesOrCount];
    if (sizes.length === 0 || sizes.some((n) => !Number.isInteger(n) || n < 0) || sizes.reduce((p, n) => p + n, 0) !== len) {
      throw new ShapeError('split', `sizes [${sizes}] must be non-negative integers summing to the length ${len} of axis ${a} of ${fmt(x.shape)}`);
    }
  }
  return pieces(x, sizes, a, (n) => x.shape.map((d, i) => (i === a ? n : d)));
}

/**
 * The slices of `x` along `axis` with that axis removed: unstack(x[T,B,H]) gives T tensors [B,H]. Views of `x`
 * when every axis before `axis` has size 1 (always for axis 0), else copies; the inverse of stack.
 */
export function unstack(x: Tensor, axis = 0): Tensor[] {
  backendOf('unstack', x);
  const a = normAxis('unstack', axis, x.rank);
  const shape = x.shape.filter((_, i) => i !== a);
  return pieces(x, new Array<number>(x.shape[a]).fill(1), a, () => shape);
}

/** Pads with `value` (default 0): paddings[i] = [before, after] for axis i. */
export function pad(x: Tensor, paddings: readonly (readonly [number, number])[], value = 0): Tensor {
  const b = backendOf('pad', x);
  if (paddings.length !== x.rank || paddings.some(([l, r]) => !(Number.isInteger(l) && Number.isInteger(r) && l >= 0 && r >= 0))) {
    throw new ShapeError('pad', `paddings ${JSON.stringify(paddings)} must be one [before, after] pair of non-negative integers per axis of ${fmt(x.shape)}`);
  }
  const shape = x.shape.map((d, i) => d + paddings[i][0] + paddings[i][1]);
  const y = empty(shape, x.dtype, b);
  b.fill(y.buf, x.dtype, y.size, value);
  const dst = stridesOf(shape);
  const off = paddings.reduce((acc, [l], i) => acc + l * dst[i], 0);
  b.copy(x.buf, y.buf, { shape: x.shape, srcStrides: stridesOf(x.shape), srcOffset: 0, dstStrides: dst, dstOffset: off });
  return record('pad', [x], y, { paddings: paddings.map(([l, r]) => [l, r] as [number, number]) });
}

/** Joins tensors along `axis`; all other dimensions must match. */
export function concat(xs: readonly Tensor[], axis = 0): Tensor {
  if (xs.length === 0) throw new ShapeError('concat', 'needs at least one tensor');
  const b = backendOf('concat', ...xs);
  const a = normAxis('concat', axis, xs[0].rank);
  for (const t of xs) {
    if (t.rank !== xs[0].rank || t.dtype !== xs[0].dtype || t.shape.some((d, i) => i !== a && d !== xs[0].shape[i])) {
      throw new ShapeError('concat', `cannot join ${xs.map((u) => fmt(u.shape)).join(', ')} along axis ${a}`);
    }
  }
  const shape = [...xs[0].shape];
  shape[a] = xs.reduce((acc, t) => acc + t.shape[a], 0);
  const y = empty(shape, xs[0].dtype, b);
  const dst = stridesOf(shape);
  let at = 0;
  for (const t of xs) {
    b.copy(t.buf, y.buf, { shape: t.shape, srcStrides: stridesOf(t.shape), srcOffset: 0, dstStrides: dst, dstOffset: at * dst[a] });
    at += t.shape[a];
  }
  return record('concat', xs, y, { axis: a });
}

/** Stacks equal-shaped tensors along a new axis. */
export function stack(xs: readonly Tensor[], axis = 0): Tensor {
  return concat(xs.map((t) => expandDims(t, axis)), axis);
}

/** Repeats `x` along broadcast dimensions to `shape`. */
export function broadcastTo(x: Tensor, shape: Shape): Tensor {
  const b = backendOf('broadcastTo', x);
  const out = broadcastShapes('broadcastTo', x.shape, shape);
  if (!shapesEqual(out, shape)) throw new ShapeError('broadcastTo', `cannot broadcast ${fmt(x.shape)} to ${fmt(shape)}`);
  if (shapesEqual(x.shape, shape)) return reshape(x, shape);
  const y = empty(shape, x.dtype, b);
  b.copy(x.buf, y.buf, { shape, srcStrides: broadcastStrides(x.shape, shape), srcOffset: 0, dstStrides: stridesOf(shape), dstOffset: 0 });
  return record('broadcastTo', [x], y, {});
}

/** Sums `g` over the axes along which `shape` was broadcast to `g.shape` (the adjoint of broadcasting). */
export function sumToShape(g: Tensor, shape: Shape): Tensor {
  if (shapesEqual(g.shape, shape)) return g;
  const lead = g.rank - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < g.rank; i++) if (i < lead || (shape[i - lead] === 1 && g.shape[i] !== 1)) axes.push(i);
  const s = axes.length > 0 ? sum(g, axes, true) : g;
  return reshape(s, shape);
}
