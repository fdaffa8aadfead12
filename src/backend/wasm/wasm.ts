// The `wasm` backend: AssemblyScript SIMD kernels over one shared memory, split across a worker pool.
import type {
  AdamHyper, AttentionParams, Backend, BiasActivation, BinaryOp, OutputActivation, Broadcast, Buf, Conv2DParams, CopyParams, DType, GemmParams, MaskedSoftmaxParams, Pool2DParams, ReduceOp,
  RnnBackwardBufs, RnnForwardBufs, RnnParams, UnaryOp,
} from '../backend.js';
import { wasmAttention, wasmAttentionGrad, wasmFusedAttention } from './attention.js';
import { wasmConv2d, wasmConv2dBiasActPool, wasmConv2dGradFilter, wasmConv2dGradInput } from './conv.js';
import { wasmCopy } from './copy.js';
import { wasmAdam, wasmBiasAct, wasmBiasActGrad, wasmBinary, wasmCast, wasmFill, wasmUnary, wasmWhere } from './elementwise.js';
import { wasmGather, wasmScatterAdd } from './gather.js';
import { wasmGemm } from './gemm.js';
import { wasmLayerNorm, wasmLayerNormGrad } from './norm.js';
import { wasmAvgPool2d, wasmAvgPool2dGrad, wasmMaxPool2d, wasmMaxPool2dBiasActGrad, wasmMaxPool2dGrad } from './pool.js';
import { wasmArgmax, wasmLogSoftmaxPick, wasmLogSoftmaxPickGrad, wasmMaskedSoftmax, wasmMaskedSoftmaxGrad, wasmReduce, wasmSoftmax } from './reduce.js';
import { wasmRnnBackward, wasmRnnForward } from './recurrent.js';
import { WasmRuntime, type WasmOptions } from './runtime.js';

export type { WasmOptions } from './runtime.js';

/** The fast backend. Buffers are byte addresses in one shared `WebAssembly.Memory`. */
export class WasmBackend implements Backend {
  readonly name = 'wasm';
  readonly rt: WasmRuntime;

  /** Starts synchronously (Node), or wraps a runtime started by {@link createWasmBackendAsync}. */
  constructor(options: WasmOptions = {}, runtime?: WasmRuntime) {
    this.rt = runtime ?? new WasmRuntime(options);
  }

  /** Number of threads the kernels are split over. */
  get threads(): number {
    return this.rt.threads;
  }

  /**
   * Resolves to the number of threads kernels run on once the worker threads have started: `threads`, or 1 when they
   * could not start. Only `initWasmBackend({ waitForWorkers: false })` resolves before that (kernels run on the calling
   * thread meanwhile); otherwise this is already `threads`.
   */
  get threadsReady(): Promise<number> {
    return this.rt.threadsReady;
  }

  /** Whether the relaxed-SIMD (fused multiply-add) kernel build is in use. */
  get relaxedSimd(): boolean {
    return this.rt.relaxed;
  }

  alloc(length: number, dtype: DType): Buf {
    if (!Number.isInteger(length) || length < 0) throw new RangeError(`weightshare wasm backend: cannot allocate ${length} elements of ${dtype}`);
    return this.rt.allocator.alloc(length * 4);
  }

  free(buf: Buf): void {
    this.rt.allocator.free(buf);
  }

  /** An address `offset` words past `buf`: nothing to record or free. */
  alias(buf: Buf, offset: number): Buf {
    return buf + offset * 4;
  }

  read(buf: Buf, dtype: DType, length: number): Float32Array | Int32Array {
    const mem = this.rt.memory.buffer;
    return dtype === 'int32' ? new Int32Array(mem, buf, length).slice() : new Float32Array(mem, buf, length).slice();
  }

  write(buf: Buf, data: Float32Array | Int32Array): void {
    const mem = this.rt.memory.buffer;
    if (data instanceof Int32Array) new Int32Array(mem, buf, data.length).set(data);
    else new Float32Array(mem, buf, data.length).set(data);
  }

  bytesInUse(): number {
    return this.rt.allocator.bytesInUse();
  }

  /** Stops the worker threads (Node: they restart lazily; browser: kernels then run on one thread, and `initWasmBackend` makes a fresh backend). */
  dispose(): void {
    this.rt.dispose();
    if (initialised === this) initialised = undefined;
  }

  gemm(a: Buf, b: Buf, c: Buf, p: GemmParams): void {
    wasmGemm(this.rt, a, b, c, p);
  }
  conv2d(x: Buf, w: Buf, y: Buf, p: Conv2DParams): void {
    wasmConv2d(this.rt, x, w, y, p);
  }
  conv2dBiasAct(x: Buf, w: Buf, bias: Buf, y: Buf, p: Conv2DParams, act: OutputActivation): void {
    wasmConv2d(this.rt, x, w, y, p, bias, act);
  }
  conv2dBiasActPool(x: Buf, w: Buf, bias: Buf, y: Buf | null, p: Buf, cp: Conv2DParams, pp: Pool2DParams, act: OutputActivation): void {
    wasmConv2dBiasActPool(this.rt, x, w, bias, y, p, cp, pp, act);
  }
  conv2dGradInput(dy: Buf, w: Buf, dx: Buf, p: Conv2DParams): void {
    wasmConv2dGradInput(this.rt, dy, w, dx, p);
  }
  conv2dGradFilter(x: Buf, dy: Buf, dw: Buf, p: Conv2DParams): void {
    wasmConv2dGradFilter(this.rt, x, dy, dw, p);
  }
  maxPool2d(x: Buf, y: Buf, p: Pool2DParams): void {
    wasmMaxPool2d(this.rt, x, y, p);
  }
  maxPool2dGrad(x: Buf, dy: Buf, dx: Buf, p: Pool2DParams): void {
    wasmMaxPool2dGrad(this.rt, x, dy, dx, p);
  }
  maxPool2dBiasActGrad(y: Buf, dy: Buf, dz: Buf, db: Buf, p: Pool2DParams, act: OutputActivation): void {
    wasmMaxPool2dBiasActGrad(this.rt, y, dy, dz, db, p, act);
  }
  avgPool2d(x: Buf, y: Buf, p: Pool2DParams): void {
    wasmAvgPool2d(this.rt, x, y, p);
  }
  avgPool2dGrad(dy: Buf, dx: Buf, p: Pool2DParams): void {
    wasmAvgPool2dGrad(this.rt, dy, dx, p);
  }
  unary(op: UnaryOp, x: Buf, y: Buf, n: number): void {
    wasmUnary(this.rt, op, x, y, n);
  }
  binary(op: BinaryOp, a: Buf, b: Buf, y: Buf, bc: Broadcast): void {
    wasmBinary(this.rt, op, a, b, y, bc);
  }
  where(cond: Buf, a: Buf, b: Buf, y: Buf, bc: Broadcast): void {
    wasmWhere(this.rt, cond, a, b, y, bc);
  }
  reduce(op: ReduceOp, x: Buf, y: Buf, outer: number, size: number, inner: number): void {
    wasmReduce(this.rt, op, x, y, outer, size, inner);
  }
  argmax(x: Buf, y: Buf, outer: number, size: number, inner: number): void {
    wasmArgmax(this.rt, x, y, outer, size, inner);
  }
  softmax(x: Buf, y: Buf, rows: number, cols: number, log: boolean): void {
    wasmSoftmax(this.rt, x, y, rows, cols, log);
  }
  logSoftmaxPick(x: Buf, labels: Buf, logp: Buf, stats: Buf, rows: number, cols: number): void {
    wasmLogSoftmaxPick(this.rt, x, labels, logp, stats, rows, cols);
  }
  logSoftmaxPickGrad(g: Buf, x: Buf, labels: Buf, stats: Buf, dx: Buf, rows: number, cols: number): void {
    wasmLogSoftmaxPickGrad(this.rt, g, x, labels, stats, dx, rows, cols);
  }
  maskedSoftmax(x: Buf, mask: Buf | null, y: Buf, p: MaskedSoftmaxParams): void {
    wasmMaskedSoftmax(this.rt, x, mask, y, p);
  }
  maskedSoftmaxGrad(g: Buf, y: Buf, dx: Buf, p: MaskedSoftmaxParams): void {
    wasmMaskedSoftmaxGrad(this.rt, g, y, dx, p);
  }
  fusedAttention(a: AttentionParams): boolean {
    return wasmFusedAttention(a);
  }
  attention(q: Buf, k: Buf, v: Buf, o: Buf, p: Buf, a: AttentionParams): void {
    wasmAttention(this.rt, q, k, v, o, p, a);
  }
  attentionGrad(go: Buf, q: Buf, k: Buf, v: Buf, p: Buf, dq: Buf, dk: Buf, dv: Buf, a: AttentionParams): void {
    wasmAttentionGrad(this.rt, go, q, k, v, p, dq, dk, dv, a);
  }
  gather(x: Buf, idx: Buf, y: Buf, outer: number, axisLen: number, inner: number, nIdx: number): number {
    return wasmGather(this.rt, x, idx, y, outer, axisLen, inner, nIdx);
  }
  scatterAdd(upd: Buf, idx: Buf, y: Buf, outer: number, axisLen: number, inner: number, nIdx: number): number {
    return wasmScatterAdd(this.rt, upd, idx, y, outer, axisLen, inner, nIdx);
  }
  adam(p: Buf, g: Buf, m: Buf, v: Buf, n: number, h: AdamHyper): void {
    wasmAdam(this.rt, p, g, m, v, n, h);
  }
  layerNorm(x: Buf, gamma: Buf | null, beta: Buf | null, y: Buf, rows: number, cols: number, epsilon: number): void {
    wasmLayerNorm(this.rt, x, gamma, beta, y, rows, cols, epsilon);
  }
  layerNormGrad(dy: Buf, x: Buf, gamma: Buf | null, dx: Buf, dgamma: Buf, dbeta: Buf, rows: number, cols: number, epsilon: number): void {
    wasmLayerNormGrad(this.rt, dy, x, gamma, dx, dgamma, dbeta, rows, cols, epsilon);
  }
  biasAct(x: Buf, bias: Buf, y: Buf, rows: number, cols: number, act: BiasActivation, slope?: Buf): void {
    wasmBiasAct(this.rt, x, bias, y, rows, cols, act, slope);
  }
  biasActGrad(g: Buf, y: Buf, dz: Buf, db: Buf, rows: number, cols: number, act: BiasActivation, bias?: Buf): void {
    wasmBiasActGrad(this.rt, g, y, dz, db, rows, cols, act, bias);
  }
  /** Split over rows (x may equal y). */
  fwht(x: Buf, y: Buf, rows: number, n: number): void {
    if (rows === 0 || n === 0) return;
    this.rt.parallel('fwht_rows', [x, y, n], rows, 1, Math.max(1, Math.ceil((1 << 15) / n)));
  }
  copy(x: Buf, y: Buf, p: CopyParams): void {
    wasmCopy(this.rt, x, y, p);
  }
  fill(y: Buf, dtype: DType, n: number, value: number): void {
    wasmFill(this.rt, y, dtype, n, value);
  }
  cast(x: Buf, from: DType, y: Buf, to: DType, n: number): void {
    wasmCast(this.rt, x, from, y, to, n);
  }
  rnnForward(b: RnnForwardBufs, p: RnnParams): void {
    wasmRnnForward(this.rt, b, p);
  }
  rnnBackward(b: RnnBackwardBufs, p: RnnParams): void {
    wasmRnnBackward(this.rt, b, p);
  }
}

/**
 * Creates a wasm backend (synchronous, Node only: compiles the kernels and, lazily, starts the worker pool).
 * In a browser it throws, telling you to use {@link initWasmBackend} or {@link createWasmBackendAsync}.
 */
export function createWasmBackend(options: WasmOptions = {}): WasmBackend {
  return new WasmBackend(options);
}

/**
 * Creates a wasm backend without blocking (browsers; also works in Node): compiles the kernels
 * asynchronously, starts the worker pool and resolves when every worker is ready. Threads need a
 * cross-origin-isolated page; otherwise it runs on one thread. Kernels then dispatch synchronously.
 */
export async function createWasmBackendAsync(options: WasmOptions = {}): Promise<WasmBackend> {
  return new WasmBackend(options, await WasmRuntime.create(options));
}

let initialised: WasmBackend | undefined;

/**
 * Starts the wasm backend asynchronously (see {@link createWasmBackendAsync}) and makes it the engine's
 * `wasm` backend: `getBackend()` / `setBackend('wasm')` use it. Required before using `wasm` in a browser.
 * Called again with the same (or no) thread count it returns the same backend.
 */
export async function initWasmBackend(options: WasmOptions = {}): Promise<WasmBackend> {
  if (initialised && (options.threads === undefined || options.threads === initialised.threads)) return initialised;
  const b = await createWasmBackendAsync(options);
  initialised = b;
  return b;
}

/** The backend {@link initWasmBackend} made, if any. */
export function initialisedWasmBackend(): WasmBackend | undefined {
  return initialised;
}

/** Forgets the backend {@link initWasmBackend} made (the engine does this when `setThreads` replaces it). */
export function forgetInitialisedWasmBackend(): void {
  initialised = undefined;
}
