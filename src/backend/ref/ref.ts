// RefBackend: the plain TypeScript reference backend every fast backend is tested against.
//
// Numerics: every float result is computed in float64 (GEMM/conv/pool/reduce/softmax sums included,
// in plain loop order) and rounded to float32 once when stored; scatterAdd adds in float32.

import type {
  AdamHyper, AttentionParams, Backend, BiasActivation, BinaryOp, OutputActivation, Broadcast, Buf, Conv2DParams, CopyParams, DType, GemmParams,
  MaskedSoftmaxParams, Pool2DParams, ReduceOp, RnnBackwardBufs, RnnForwardBufs, RnnParams, UnaryOp,
} from '../backend.js';
import * as attn from './attention.js';
import * as linalg from './linalg.js';
import * as ops from './ops.js';
import * as pool from './pool.js';
import * as recurrent from './recurrent.js';

/**
 * One allocation, or an alias of one from an element offset on: its dtype and both 32-bit views of the
 * bytes. An allocation is its own `root` (offset 0) and lists its aliases by offset; an alias names its root.
 */
interface Slot {
  readonly dtype: DType;
  readonly f32: Float32Array;
  readonly i32: Int32Array;
  readonly root: Buf;
  readonly offset: number;
  readonly aliases?: Map<number, Buf>;
}

/** The reference backend: buffers are JS typed arrays in a Map keyed by handle (1, 2, …). */
export class RefBackend implements Backend {
  readonly name = 'ref';
  private readonly slots = new Map<Buf, Slot>();
  private nextHandle = 1;
  private bytes = 0;

  /** Allocates `length` zeroed elements of `dtype`; throws on a negative or non-integer length. */
  alloc(length: number, dtype: DType): Buf {
    if (!Number.isSafeInteger(length) || length < 0) {
      throw new RangeError(`RefBackend.alloc: length must be a non-negative integer, got ${length}`);
    }
    if (dtype !== 'float32' && dtype !== 'int32') throw new TypeError(`RefBackend.alloc: unknown dtype '${dtype}'`);
    const raw = new ArrayBuffer(length * 4);
    const handle = this.nextHandle++;
    this.slots.set(handle, { dtype, f32: new Float32Array(raw), i32: new Int32Array(raw), root: handle, offset: 0, aliases: new Map() });
    this.bytes += raw.byteLength;
    return handle;
  }

  /** Releases a buffer and its aliases; throws on an unknown or already freed handle, or on an alias. */
  free(buf: Buf): void {
    const slot = this.slot(buf);
    if (slot.root !== buf) throw new Error(`RefBackend.free: buffer ${buf} is an alias of buffer ${slot.root}; free that one`);
    for (const a of slot.aliases?.values() ?? []) this.slots.delete(a);
    this.bytes -= slot.f32.byteLength;
    this.slots.delete(buf);
  }

  /** A handle to the elements of `buf` from `offset` on: subarrays of the same bytes, one per (root, offset), freed with the root. */
  alias(buf: Buf, offset: number): Buf {
    const slot = this.slot(buf);
    if (!Number.isSafeInteger(offset) || offset < 0 || offset > slot.f32.length) {
      throw new RangeError(`RefBackend.alias: offset ${offset} outside buffer ${buf} of ${slot.f32.length} elements`);
    }
    const root = this.slot(slot.root);
    const at = slot.offset + offset;
    if (at === 0) return slot.root;
    const known = root.aliases?.get(at);
    if (known !== undefined) return known;
    const handle = this.nextHandle++;
    this.slots.set(handle, { dtype: root.dtype, f32: root.f32.subarray(at), i32: root.i32.subarray(at), root: slot.root, offset: at });
    root.aliases?.set(at, handle);
    return handle;
  }

  /** Copies `length` elements out of a buffer, read as `dtype`. */
  read(buf: Buf, dtype: DType, length: number): Float32Array | Int32Array {
    const view = this.view(buf, dtype);
    if (length > view.length) throw new RangeError(`RefBackend.read: ${length} elements from a buffer of ${view.length}`);
    return view.slice(0, length);
  }

  /** Copies `data` into the start of a buffer (bits, whatever the buffer's dtype). */
  write(buf: Buf, data: Float32Array | Int32Array): void {
    const view = this.view(buf, data instanceof Int32Array ? 'int32' : 'float32');
    if (data.length > view.length) throw new RangeError(`RefBackend.write: ${data.length} elements into a buffer of ${view.length}`);
    view.set(data);
  }

  /** Sum of the byte sizes of the live buffers. */
  bytesInUse(): number {
    return this.bytes;
  }

  gemm(a: Buf, b: Buf, c: Buf, p: GemmParams): void {
    linalg.gemm(this.f32(a), this.f32(b), this.f32(c), p);
  }

  conv2d(x: Buf, w: Buf, y: Buf, p: Conv2DParams): void {
    linalg.conv2d(this.f32(x), this.f32(w), this.f32(y), p);
  }

  conv2dBiasAct(x: Buf, w: Buf, bias: Buf, y: Buf, p: Conv2DParams, act: OutputActivation): void {
    this.conv2d(x, w, y, p);
    this.biasAct(y, bias, y, p.n * p.oh * p.ow, p.f, act);
  }

  conv2dBiasActPool(x: Buf, w: Buf, bias: Buf, y: Buf | null, p: Buf, cp: Conv2DParams, pp: Pool2DParams, act: OutputActivation): void {
    const yy = y ?? this.alloc(cp.n * cp.oh * cp.ow * cp.f, 'float32');
    this.conv2dBiasAct(x, w, bias, yy, cp, act);
    this.maxPool2d(yy, p, pp);
    if (y === null) this.free(yy);
  }

  conv2dGradInput(dy: Buf, w: Buf, dx: Buf, p: Conv2DParams): void {
    linalg.conv2dGradInput(this.f32(dy), this.f32(w), this.f32(dx), p);
  }

  conv2dGradFilter(x: Buf, dy: Buf, dw: Buf, p: Conv2DParams): void {
    linalg.conv2dGradFilter(this.f32(x), this.f32(dy), this.f32(dw), p);
  }

  maxPool2d(x: Buf, y: Buf, p: Pool2DParams): void {
    pool.maxPool2d(this.f32(x), this.f32(y), p);
  }

  maxPool2dGrad(x: Buf, dy: Buf, dx: Buf, p: Pool2DParams): void {
    pool.maxPool2dGrad(this.f32(x), this.f32(dy), this.f32(dx), p);
  }

  maxPool2dBiasActGrad(y: Buf, dy: Buf, dz: Buf, db: Buf, p: Pool2DParams, act: OutputActivation): void {
    this.maxPool2dGrad(y, dy, dz, p);
    this.biasActGrad(dz, y, dz, db, p.n * p.h * p.w, p.c, act);
  }

  avgPool2d(x: Buf, y: Buf, p: Pool2DParams): void {
    pool.avgPool2d(this.f32(x), this.f32(y), p);
  }

  avgPool2dGrad(dy: Buf, dx: Buf, p: Pool2DParams): void {
    pool.avgPool2dGrad(this.f32(dy), this.f32(dx), p);
  }

  unary(op: UnaryOp, x: Buf, y: Buf, n: number): void {
    ops.unary(op, this.f32(x), this.f32(y), n);
  }

  binary(op: BinaryOp, a: Buf, b: Buf, y: Buf, bc: Broadcast): void {
    ops.binary(op, this.f32(a), this.f32(b), this.f32(y), bc);
  }

  where(cond: Buf, a: Buf, b: Buf, y: Buf, bc: Broadcast): void {
    const c = this.slot(cond);
    ops.where(c.dtype === 'int32' ? c.i32 : c.f32, this.i32(a), this.i32(b), this.i32(y), bc);
  }

  reduce(op: ReduceOp, x: Buf, y: Buf, outer: number, size: number, inner: number): void {
    ops.reduce(op, this.f32(x), this.f32(y), outer, size, inner);
  }

  argmax(x: Buf, y: Buf, outer: number, size: number, inner: number): void {
    ops.argmax(this.f32(x), this.i32(y), outer, size, inner);
  }

  softmax(x: Buf, y: Buf, rows: number, cols: number, log: boolean): void {
    ops.softmax(this.f32(x), this.f32(y), rows, cols, log);
  }

  logSoftmaxPick(x: Buf, labels: Buf, logp: Buf, stats: Buf, rows: number, cols: number): void {
    ops.logSoftmaxPick(this.f32(x), this.i32(labels), this.f32(logp), this.f32(stats), rows, cols);
  }

  logSoftmaxPickGrad(g: Buf, x: Buf, labels: Buf, stats: Buf, dx: Buf, rows: number, cols: number): void {
    ops.logSoftmaxPickGrad(this.f32(g), this.f32(x), this.i32(labels), this.f32(stats), this.f32(dx), rows, cols);
  }

  maskedSoftmax(x: Buf, mask: Buf | null, y: Buf, p: MaskedSoftmaxParams): void {
    ops.maskedSoftmax(this.f32(x), mask === null ? undefined : this.f32(mask), this.f32(y), p);
  }

  maskedSoftmaxGrad(g: Buf, y: Buf, dx: Buf, p: MaskedSoftmaxParams): void {
    ops.maskedSoftmaxGrad(this.f32(g), this.f32(y), this.f32(dx), p);
  }

  fusedAttention(_a: AttentionParams): boolean {
    return true;
  }

  attention(q: Buf, k: Buf, v: Buf, o: Buf, p: Buf, a: AttentionParams): void {
    attn.attention(this.f32(q), this.f32(k), this.f32(v), this.f32(o), this.f32(p), a);
  }

  attentionGrad(go: Buf, q: Buf, k: Buf, v: Buf, p: Buf, dq: Buf, dk: Buf, dv: Buf, a: AttentionParams): void {
    attn.attentionGrad(this.f32(go), this.f32(q), this.f32(k), this.f32(v), this.f32(p), this.f32(dq), this.f32(dk), this.f32(dv), a);
  }

  gather(x: Buf, idx: Buf, y: Buf, outer: number, axisLen: number, inner: number, nIdx: number): number {
    return ops.gather(this.i32(x), this.i32(idx), this.i32(y), outer, axisLen, inner, nIdx);
  }

  scatterAdd(upd: Buf, idx: Buf, y: Buf, outer: number, axisLen: number, inner: number, nIdx: number): number {
    return ops.scatterAdd(this.f32(upd), this.i32(idx), this.f32(y), outer, axisLen, inner, nIdx);
  }

  adam(p: Buf, g: Buf, m: Buf, v: Buf, n: number, h: AdamHyper): void {
    ops.adam(this.f32(p), this.f32(g), this.f32(m), this.f32(v), n, h);
  }
  layerNorm(x: Buf, gamma: Buf | null, beta: Buf | null, y: Buf, rows: number, cols: number, epsilon: number): void {
    ops.layerNorm(this.f32(x), gamma === null ? undefined : this.f32(gamma), beta === null ? undefined : this.f32(beta), this.f32(y), rows, cols, epsilon);
  }

  layerNormGrad(dy: Buf, x: Buf, gamma: Buf | null, dx: Buf, dgamma: Buf, dbeta: Buf, rows: number, cols: number, epsilon: number): void {
    ops.layerNormGrad(this.f32(dy), this.f32(x), gamma === null ? undefined : this.f32(gamma), this.f32(dx), this.f32(dgamma), this.f32(dbeta), rows, cols, epsilon);
  }

  biasAct(x: Buf, bias: Buf, y: Buf, rows: number, cols: number, act: BiasActivation, slope?: Buf): void {
    ops.biasAct(this.f32(x), this.f32(bias), this.f32(y), rows, cols, act);
    if (slope !== undefined && act === 'gelu') ops.biasGeluSlope(this.f32(x), this.f32(bias), this.f32(slope), rows, cols);
  }

  biasActGrad(g: Buf, y: Buf, dz: Buf, db: Buf, rows: number, cols: number, act: BiasActivation, bias?: Buf): void {
    if (act === 'gelu') {
      if (bias === undefined) ops.biasActGrad(this.f32(g), this.f32(y), this.f32(dz), this.f32(db), rows, cols, 'gelu');
      else ops.biasGeluGrad(this.f32(g), this.f32(y), this.f32(bias), this.f32(dz), this.f32(db), rows, cols);
    }
    else ops.biasActGrad(this.f32(g), this.f32(y), this.f32(dz), this.f32(db), rows, cols, act);
  }

  fwht(x: Buf, y: Buf, rows: number, n: number): void {
    ops.fwht(this.f32(x), this.f32(y), rows, n);
  }

  copy(x: Buf, y: Buf, p: CopyParams): void {
    ops.copy(this.i32(x), this.i32(y), p);
  }

  fill(y: Buf, dtype: DType, n: number, value: number): void {
    const view = this.view(y, dtype);
    if (dtype === 'int32') view.fill(ops.floatToInt(value), 0, n);
    else view.fill(value, 0, n);
  }

  cast(x: Buf, from: DType, y: Buf, to: DType, n: number): void {
    ops.cast(this.view(x, from), from, this.view(y, to), to, n);
  }

  rnnForward(b: RnnForwardBufs, p: RnnParams): void {
    const { ids, ...floats } = b;
    recurrent.rnnForward({ ...this.arrays(floats), ids: ids === undefined ? undefined : this.i32(ids) }, p);
  }

  rnnBackward(b: RnnBackwardBufs, p: RnnParams): void {
    recurrent.rnnBackward(this.arrays(b), p);
  }

  /** The float32 views of a record of optional buffer handles, key by key. */
  private arrays<B extends object>(b: B): { [K in keyof B]: Float32Array } {
    const out: Record<string, Float32Array> = {};
    for (const [k, v] of Object.entries(b)) if (v !== undefined) out[k] = this.f32(v as Buf);
    return out as { [K in keyof B]: Float32Array };
  }

  private slot(buf: Buf): Slot {
    const slot = this.slots.get(buf);
    if (slot === undefined) throw new Error(`RefBackend: unknown or freed buffer ${buf}`);
    return slot;
  }

  private view(buf: Buf, dtype: DType): Float32Array | Int32Array {
    return dtype === 'int32' ? this.slot(buf).i32 : this.slot(buf).f32;
  }

  private f32(buf: Buf): Float32Array {
    return this.slot(buf).f32;
  }

  private i32(buf: Buf): Int32Array {
    return this.slot(buf).i32;
  }
}
