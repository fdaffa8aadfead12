// The wasm runtime: one shared WebAssembly.Memory, its allocator, the parameter area and the worker pool.
import { availableParallelism } from 'node:os';
import { Allocator } from './allocator.js';
import { SCRATCH_BYTES, type WasmContext } from './context.js';
import { kernelImports } from './imports.js';
import { loadKernels } from './loader.js';
import { WorkerPool } from './threads.js';

const PAGE = 65536;
const PARAM_BYTES = 64 << 10;

/** Options of the wasm runtime. */
export interface WasmOptions {
  /** Worker threads including the caller; default `WEIGHTSHARE_THREADS` or the number of cores. */
  threads?: number;
  /** Upper bound of the WebAssembly memory in bytes (default 4 GiB, the wasm32 limit). */
  maxMemoryBytes?: number;
}

/** Resolves the thread count: explicit option, then `WEIGHTSHARE_THREADS`, then the number of cores. */
export function resolveThreads(threads?: number): number {
  const env = process.env.WEIGHTSHARE_THREADS;
  const t = threads ?? (env !== undefined && env !== '' ? Number(env) : availableParallelism());
  if (!Number.isInteger(t) || t < 1 || t > 256) {
    throw new RangeError(`weightshare: thread count must be an integer in [1, 256], got ${threads ?? `WEIGHTSHARE_THREADS=${env}`}`);
  }
  return t;
}

/** Implements {@link WasmContext}: everything a kernel wrapper needs, and the allocator for the backend. */
export class WasmRuntime implements WasmContext {
  readonly exports: Readonly<Record<string, (...args: number[]) => number | void>>;
  readonly threads: number;
  readonly relaxed: boolean;
  readonly memory: WebAssembly.Memory;
  readonly allocator: Allocator;
  private readonly scratch: number[] = [];
  private readonly paramBase: number;
  private paramTop = 0;
  private pool: WorkerPool | undefined;
  private readonly module: WebAssembly.Module;
  private readonly ranges: number[];

  constructor(options: WasmOptions = {}) {
    this.threads = resolveThreads(options.threads);
    const { module, relaxed } = loadKernels();
    this.module = module;
    this.relaxed = relaxed;
    const maxBytes = Math.min(options.maxMemoryBytes ?? 4 * 1024 ** 3, 4 * 1024 ** 3);
    const maxPages = Math.floor(maxBytes / PAGE);
    // The module declares 256 initial pages; the memory must be at least that large.
    this.memory = new WebAssembly.Memory({ initial: 256, maximum: maxPages, shared: true });
    const instance = new WebAssembly.Instance(module, kernelImports(module, this.memory));
    this.exports = instance.exports as unknown as Record<string, (...args: number[]) => number | void>;
    const heapBase = Number(this.exports.heapBase());
    this.allocator = new Allocator(this.memory, heapBase, maxPages * PAGE);
    this.paramBase = this.allocator.alloc(PARAM_BYTES);
    for (let t = 0; t < this.threads; t++) this.scratch.push(this.allocator.alloc(SCRATCH_BYTES));
    this.ranges = new Array(2 * this.threads).fill(0);
  }

  f32(): Float32Array {
    return new Float32Array(this.memory.buffer);
  }

  i32(): Int32Array {
    return new Int32Array(this.memory.buffer);
  }

  params(values: ArrayLike<number>): number {
    const bytes = Math.ceil((values.length * 4) / 16) * 16;
    if (bytes > PARAM_BYTES / 4) throw new RangeError(`weightshare wasm backend: ${values.length} kernel parameters exceed the parameter area`);
    if (this.paramTop + bytes > PARAM_BYTES) this.paramTop = 0;
    const ptr = this.paramBase + this.paramTop;
    this.paramTop += bytes;
    const view = new Int32Array(this.memory.buffer, ptr, values.length);
    for (let i = 0; i < values.length; i++) view[i] = values[i];
    return ptr;
  }

  allocTemp(bytes: number): number {
    return this.allocator.alloc(bytes);
  }

  freeTemp(ptr: number): void {
    this.allocator.free(ptr);
  }

  parallel(name: string, args: readonly number[], total: number, grain = 1, minPerThread = 1): void {
    const fn = this.exports[name];
    if (typeof fn !== 'function') throw new Error(`weightshare wasm backend: the kernel module has no export ${name}`);
    if (total <= 0) return;
    const g = Math.max(1, Math.floor(grain));
    const units = Math.ceil(total / g);
    const use = Math.min(this.threads, units, Math.floor(total / Math.max(1, minPerThread)));
    if (use <= 1) {
      fn(...args, 0, total, this.scratch[0]);
      return;
    }
    const r = this.ranges;
    for (let t = 0; t < this.threads; t++) {
      const b = t < use ? Math.min(total, Math.round((units * t) / use) * g) : total;
      const e = t < use ? Math.min(total, Math.round((units * (t + 1)) / use) * g) : total;
      r[2 * t] = b;
      r[2 * t + 1] = t === use - 1 ? total : e;
    }
    this.pool ??= new WorkerPool(this.module, this.memory, Object.keys(this.exports), this.threads, (t) => this.scratch[t]);
    this.pool.run(name, fn, args, r, this.scratch[0]);
  }

  /** Stops the worker threads (they restart on the next parallel kernel). */
  dispose(): void {
    this.pool?.terminate();
    this.pool = undefined;
  }
}
