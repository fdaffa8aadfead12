// Shape arithmetic: sizes, strides, broadcasting, axis normalisation and conv/pool geometry.
import type { Conv2DParams, Pool2DParams } from '../backend/backend.js';
import { checkOptions, fmt, quote, ShapeError } from './errors.js';

/** A tensor shape: non-negative integer dimensions, outermost first. */
export type Shape = readonly number[];

/** Number of elements of a shape. */
export function sizeOf(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Row-major strides of a dense shape, in elements. */
export function stridesOf(shape: Shape): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i];
  }
  return s;
}

/** Validates a user-given shape. */
export function checkShape(op: string, shape: Shape): void {
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new ShapeError(op, `invalid shape ${fmt(shape)}: dimensions must be non-negative integers`);
  }
}

/** Same dimensions? */
export function shapesEqual(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** NumPy broadcasting of several shapes; throws a ShapeError naming the op and the shapes. */
export function broadcastShapes(op: string, ...shapes: Shape[]): number[] {
  const rank = Math.max(...shapes.map((s) => s.length));
  const out = new Array<number>(rank).fill(1);
  for (const s of shapes) {
    for (let i = 0; i < s.length; i++) {
      const o = rank - s.length + i;
      const d = s[i];
      if (out[o] === 1) out[o] = d;
      else if (d !== 1 && d !== out[o]) {
        throw new ShapeError(op, `shapes ${shapes.map(fmt).join(' and ')} cannot be broadcast together`);
      }
    }
  }
  return out;
}

/** Strides to read `shape` as if broadcast to `out` (0 along broadcast dimensions). */
export function broadcastStrides(shape: Shape, out: Shape): number[] {
  const st = stridesOf(shape);
  const r = new Array<number>(out.length).fill(0);
  for (let i = 0; i < shape.length; i++) {
    const o = out.length - shape.length + i;
    r[o] = shape[i] === 1 && out[o] !== 1 ? 0 : st[i];
  }
  return r;
}

/**
 * Whether a block of extent `size` inside a dense `shape` is one contiguous run of memory wherever it starts:
 * true when every axis after the last cut one (size < dim) is full and every axis before it has size 1.
 */
export function isContiguousBlock(shape: Shape, size: Shape): boolean {
  let cut = -1;
  for (let i = 0; i < shape.length; i++) if (size[i] !== shape[i]) cut = i;
  for (let i = 0; i < cut; i++) if (size[i] !== 1) return false;
  return true;
}

/** The multi-index of flat (row-major) position `flat` in `shape`: 7 in [2, 5] is [1, 2]. */
export function unravel(flat: number, shape: Shape): number[] {
  const out = new Array<number>(shape.length);
  for (let i = shape.length - 1; i >= 0; i--) {
    out[i] = flat % shape[i];
    flat = Math.floor(flat / shape[i]);
  }
  return out;
}

/** Element offset of index `begin` in a dense row-major `shape`. */
export function offsetOf(shape: Shape, begin: readonly number[]): number {
  const st = stridesOf(shape);
  return begin.reduce((acc, v, i) => acc + v * st[i], 0);
}

/** Normalises a possibly negative axis. */
export function normAxis(op: string, axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(a) || a < 0 || a >= rank) throw new ShapeError(op, `axis ${axis} is out of range for rank ${rank}`);
  return a;
}

/** Normalises an axis list (undefined = all axes), sorted and deduplicated. */
export function normAxes(op: string, axes: number | readonly number[] | undefined, rank: number): number[] {
  if (axes === undefined) return Array.from({ length: rank }, (_, i) => i);
  const list = typeof axes === 'number' ? [axes] : axes;
  return [...new Set(list.map((a) => normAxis(op, a, rank)))].sort((x, y) => x - y);
}

/** Padding modes of convolution and pooling (Keras/TF semantics). */
export type Padding = 'valid' | 'same';

function pair(v: number | readonly [number, number]): [number, number] {
  return typeof v === 'number' ? [v, v] : Array.isArray(v) && v.length === 2 ? [v[0], v[1]] : [NaN, NaN];
}

/** The padding option of a convolution or pooling op, checked: 'valid' (the default) or 'same'. */
function paddingOf(op: string, padding: unknown): Padding {
  if (padding === undefined) return 'valid';
  if (padding !== 'valid' && padding !== 'same') throw new ShapeError(op, `padding must be 'valid' or 'same', got ${quote(padding)}`);
  return padding;
}

/** Output size and leading pad for one spatial dimension (TF rules: 'same' puts the extra pad at the end). */
function outDim(op: string, size: number, k: number, stride: number, dilation: number, padding: Padding): [number, number] {
  const ek = (k - 1) * dilation + 1;
  if (padding === 'valid') {
    if (size < ek) throw new ShapeError(op, `input size ${size} is smaller than the effective kernel size ${ek} with 'valid' padding`);
    return [Math.floor((size - ek) / stride) + 1, 0];
  }
  const out = Math.ceil(size / stride);
  const total = Math.max((out - 1) * stride + ek - size, 0);
  return [out, Math.floor(total / 2)];
}

/** User-facing options of a 2-D convolution. */
export interface Conv2DOptions {
  strides?: number | readonly [number, number];
  padding?: Padding;
  dilations?: number | readonly [number, number];
}

/** Conv geometry from x [N,H,W,C] and w [KH,KW,C,F]. */
export function conv2dParams(op: string, x: Shape, w: Shape, o: Conv2DOptions = {}): Conv2DParams {
  checkOptions(op, o, ['strides', 'padding', 'dilations'], { stride: 'write it strides', dilation: 'write it dilations', dilationRate: 'write it dilations' });
  if (x.length !== 4) throw new ShapeError(op, `input must be rank 4 [N,H,W,C], got ${fmt(x)}`);
  if (w.length !== 4) throw new ShapeError(op, `filter must be rank 4 [KH,KW,C,F], got ${fmt(w)}`);
  if (x[3] !== w[2]) throw new ShapeError(op, `input channels ${x[3]} of input ${fmt(x)} do not match filter ${fmt(w)} (expects ${w[2]})`);
  if (!(w[0] >= 1 && w[1] >= 1)) throw new ShapeError(op, `filter ${fmt(w)} has no taps: its height and width must be at least 1`);
  const [sh, sw] = pair(o.strides ?? 1);
  const [dh, dw] = pair(o.dilations ?? 1);
  for (const [name, v, given] of [['strides', sh, o.strides], ['strides', sw, o.strides], ['dilations', dh, o.dilations], ['dilations', dw, o.dilations]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new ShapeError(op, `${name} must be a positive integer or two, got ${quote(given)}`);
  }
  const padding = paddingOf(op, o.padding);
  const [oh, padTop] = outDim(op, x[1], w[0], sh, dh, padding);
  const [ow, padLeft] = outDim(op, x[2], w[1], sw, dw, padding);
  return { n: x[0], h: x[1], w: x[2], c: x[3], f: w[3], kh: w[0], kw: w[1], strideH: sh, strideW: sw, dilationH: dh, dilationW: dw, padTop, padLeft, oh, ow };
}

/** User-facing options of 2-D pooling. */
export interface Pool2DOptions {
  poolSize?: number | readonly [number, number];
  strides?: number | readonly [number, number];
  padding?: Padding;
}

/** Pool geometry from x [N,H,W,C] (strides default to the pool size, as in Keras). */
export function pool2dParams(op: string, x: Shape, o: Pool2DOptions = {}): Pool2DParams {
  checkOptions(op, o, ['poolSize', 'strides', 'padding'], { stride: 'write it strides', pool_size: 'write it poolSize', ksize: 'write it poolSize' });
  if (x.length !== 4) throw new ShapeError(op, `input must be rank 4 [N,H,W,C], got ${fmt(x)}`);
  const [kh, kw] = pair(o.poolSize ?? 2);
  const [sh, sw] = pair(o.strides ?? [kh, kw]);
  for (const [name, v, given] of [['poolSize', kh, o.poolSize], ['poolSize', kw, o.poolSize], ['strides', sh, o.strides], ['strides', sw, o.strides]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new ShapeError(op, `${name} must be a positive integer or two, got ${quote(given)}`);
  }
  const padding = paddingOf(op, o.padding);
  const [oh, padTop] = outDim(op, x[1], kh, sh, 1, padding);
  const [ow, padLeft] = outDim(op, x[2], kw, sw, 1, padding);
  return { n: x[0], h: x[1], w: x[2], c: x[3], kh, kw, strideH: sh, strideW: sw, padTop, padLeft, oh, ow };
}
