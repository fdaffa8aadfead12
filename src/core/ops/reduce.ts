// Reductions along axes: sum, mean, max, min (differentiable) and argmax.
import type { ReduceOp } from '../../backend/backend.js';
import { normAxes, normAxis, sizeOf } from '../shape.js';
import { record } from '../tape.js';
import { Storage, Tensor, view } from '../tensor.js';
import { backendOf, requireDType } from './util.js';

function reduce(op: ReduceOp, x: Tensor, axes: number | readonly number[] | undefined, keepDims: boolean): Tensor {
  const b = backendOf(op, x);
  requireDType(op, 'float32', x);
  const ax = normAxes(op, axes, x.rank);
  // Runs of consecutive axes are reduced in one kernel call, innermost run first.
  const runs: [number, number][] = [];
  for (const a of ax) {
    const last = runs[runs.length - 1];
    if (last && last[1] === a) last[1] = a + 1;
    else runs.push([a, a + 1]);
  }
  const shape = [...x.shape];
  let buf = x.buf;
  for (let r = runs.length - 1; r >= 0; r--) {
    const [lo, hi] = runs[r];
    const outer = sizeOf(shape.slice(0, lo));
    const size = sizeOf(shape.slice(lo, hi));
    const inner = sizeOf(shape.slice(hi));
    const out = b.alloc(outer * inner, 'float32');
    b.reduce(op, buf, out, outer, size, inner);
    if (buf !== x.buf) b.free(buf);
    buf = out;
    for (let i = lo; i < hi; i++) shape[i] = 1;
  }
  const outShape = keepDims ? shape : shape.filter((_, i) => !ax.includes(i));
  let y: Tensor;
  if (buf === x.buf) {
    y = view(x, outShape);
  } else {
    y = new Tensor(new Storage(b, buf, 'float32', sizeOf(outShape)), outShape);
  }
  return record(op, [x], y, { axes: ax, keepDims });
}

/** Sum over `axes` (default: all). */
export const sum = (x: Tensor, axes?: number | readonly number[], keepDims = false): Tensor => reduce('sum', x, axes, keepDims);
/** Mean over `axes` (default: all). */
export const mean = (x: Tensor, axes?: number | readonly number[], keepDims = false): Tensor => reduce('mean', x, axes, keepDims);
/** Maximum over `axes` (default: all); the gradient is shared equally among tied maxima. */
export const max = (x: Tensor, axes?: number | readonly number[], keepDims = false): Tensor => reduce('max', x, axes, keepDims);
/** Minimum over `axes` (default: all). */
export const min = (x: Tensor, axes?: number | readonly number[], keepDims = false): Tensor => reduce('min', x, axes, keepDims);

/** Index (int32) of the first maximum along `axis` (default: last). Not differentiable. */
export function argmax(x: Tensor, axis = -1): Tensor {
  const b = backendOf('argmax', x);
  requireDType('argmax', 'float32', x);
  const a = normAxis('argmax', axis, x.rank);
  const outShape = x.shape.filter((_, i) => i !== a);
  const y = new Tensor(new Storage(b, b.alloc(sizeOf(outShape), 'int32'), 'int32', sizeOf(outShape)), outShape);
  b.argmax(x.buf, y.buf, sizeOf(x.shape.slice(0, a)), x.shape[a], sizeOf(x.shape.slice(a + 1)));
  return y;
}
