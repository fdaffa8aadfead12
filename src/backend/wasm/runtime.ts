// The wasm runtime: one shared WebAssembly.Memory, its allocator, the parameter area and the worker pool.
import { Allocator } from './allocator.js';
import { SCRATCH_BYTES, type WasmContext } from './context.js';
import { kernelImports } from './imports.js';
import { loadKernels, loadKernelsAsync, type KernelModule, type KernelSource } from './loader.js';
import { platform, resolveUrl } from './platform.js';
import { WorkerPool, type WorkerInit } from './threads.js';

const PAGE = 65536;
const PARAM_BYTES = 64 << 10;

/** Options of the wasm runtime. */
export interface WasmOptions extends KernelSource {
  /** Worker threads including the caller; default `WEIGHTSHARE_THREADS` or the number of cores. */
  threads?: number;
  /** Upper bound of the WebAssembly memory in bytes (default 4 GiB, the wasm32 limit). */
  maxMemoryBytes?: number;
  /**
   * The worker script, for a bundle that does not keep weightshare's `worker.js` next to its code (esbuild: bundle
   * `weightshare/worker` as an entry of its own and pass its URL). A string is resolved against the page's address.
   * Default: worker.js next to the runtime (what Vite and webpack find from the `new Worker(new URL(…))` pattern).
   */
  workerUrl?: string | URL;
  /**
   * Asynchronous start only: whether `initWasmBackend` resolves after the worker threads have started (default true).
   * With false it resolves once the page's own thread can run kernels, and parallel kernels run there alone until the
   * workers are ready (the same results: threads split work, never change it); a worker that fails to start is then
   * reported on the console and the backend stays on the page's thread.
   */
  waitForWorkers?: boolean;
}

/** The most threads the wasm engine runs (the caller and MAX_THREADS − 1 workers). */
export const MAX_THREADS = 256;

/** Resolves the thread count: explicit option, then `WEIGHTSHARE_THREADS`, then the number of cores. */
export function resolveThreads(threads?: number): number {
  const env = platform.env('WEIGHTSHARE_THREADS');
  const t = threads ?? (env !== undefined && env !== '' ? Number(env) : platform.cores());
  if (!Number.isInteger(t) || t < 1 || t > MAX_THREADS) {
    throw new RangeError(`weightshare: thread count must be an integer in [1, ${MAX_THREADS}], got ${threads ?? `WEIGHTSHARE_THREADS=${env}`}`);
  }
  return t;
}

/** @internal What {@link WasmRuntime.create} prepares asynchronously for the constructor. */
interface Prepared {
  threads: number;
  kernels: KernelModule;
  memory: WebAssembly.Memory;
  instance: WebAssembly.Instance;
}

function maxPagesOf(options: WasmOptions): number {
  const maxBytes = Math.min(options.maxMemoryBytes ?? 4 * 1024 ** 3, 4 * 1024 ** 3);
  return Math.floor(maxBytes / PAGE);
}

/** The one shared memory; the module declares 256 initial pages, so it must be at least that large. */
function sharedMemory(maxPages: number): WebAssembly.Memory {
  try {
    return new WebAssembly.Memory({ initial: 256, maximum: maxPages, shared: true });
  } catch (e) {
    throw new Error(
      'weightshare: cannot create a shared WebAssembly.Memory; in a browser the page must be cross-origin isolated ' +
        `(serve it with Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp): ${(e as Error).message}`,
    );
  }
}

/** The worker script's URL of `options` (undefined: the platform's default). */
const workerUrlOf = (options: { workerUrl?: string | URL }): URL | undefined =>
  options.workerUrl === undefined ? undefined : resolveUrl(options.workerUrl);

/** Implements {@link WasmContext}: everything a kernel wrapper needs, and the allocator for the backend. */
export class WasmRuntime implements WasmContext {
  readonly exports: Readonly<Record<string, (...args: number[]) => number | void>>;
  readonly threads: number;
  readonly relaxed: boolean;
  /** @internal */
  readonly memory: WebAssembly.Memory;
  readonly allocator: Allocator;
  private readonly scratch: number[] = [];
  private readonly paramBase: number;
  private readonly paramView: Int32Array;
  private paramTop = 0;
  private pool: WorkerPool | undefined;
  /** Whether the pool was started without waiting and may not be ready yet (then kernels run on this thread alone). */
  private poolJoining = false;
  /** The number of threads kernels run on once the workers have started (1 when they failed to). */
  threadsReady: Promise<number>;
  private readonly module: WebAssembly.Module;
  private readonly ranges: number[];
  /** The worker script (undefined: the platform's default), resolved once. */
  private readonly workerUrl: URL | undefined;

  /**
   * @internal
   * Synchronous start (Node): compiles the kernels and creates the memory; workers start on first use.
   * `prepared` is what {@link WasmRuntime.create} built asynchronously.
   */
  constructor(options: WasmOptions = {}, prepared?: Prepared) {
    if (!prepared && !platform.blocking) {
      throw new Error('weightshare: in a browser the wasm backend starts asynchronously: `await initWasmBackend()` (or createWasmBackendAsync) first');
    }
    this.threads = prepared?.threads ?? resolveThreads(options.threads);
    this.workerUrl = workerUrlOf(options);
    const { module, relaxed } = prepared?.kernels ?? loadKernels();
    this.module = module;
    this.relaxed = relaxed;
    const maxPages = maxPagesOf(options);
    this.memory = prepared?.memory ?? sharedMemory(maxPages);
    const instance = prepared?.instance ?? new WebAssembly.Instance(module, kernelImports(module, this.memory));
    this.exports = instance.exports as unknown as Record<string, (...args: number[]) => number | void>;
    const heapBase = Number(this.exports.heapBase());
    this.allocator = new Allocator(this.memory, heapBase, maxPages * PAGE);
    this.paramBase = this.allocator.alloc(PARAM_BYTES);
    // The memory is shared, so growing it never detaches this view (the area lies below any old length).
    this.paramView = new Int32Array(this.memory.buffer, this.paramBase, PARAM_BYTES >> 2);
    for (let t = 0; t < this.threads; t++) this.scratch.push(this.allocator.alloc(SCRATCH_BYTES));
    this.ranges = new Array(2 * this.threads).fill(0);
    this.threadsReady = Promise.resolve(this.threads);
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
    const view = this.paramView, at = (ptr - this.paramBase) >> 2;
    for (let i = 0; i < values.length; i++) view[at + i] = values[i];
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
    for (let t = 0; t < use; t++) {
      r[2 * t] = Math.min(total, Math.round((units * t) / use) * g);
      r[2 * t + 1] = t === use - 1 ? total : Math.min(total, Math.round((units * (t + 1)) / use) * g);
    }
    if (!this.pool) {
      // Where the caller may not block (a browser), workers are started only by create(); after dispose() run alone.
      if (!platform.blocking) {
        fn(...args, 0, total, this.scratch[0]);
        return;
      }
      const pool = this.newPool();
      pool.waitReadySync();
      this.pool = pool;
    } else if (this.poolJoining) {
      if (!this.pool.isReady()) {
        fn(...args, 0, total, this.scratch[0]);
        return;
      }
      this.poolJoining = false;
    }
    this.pool.run(name, fn, args, r, use, this.scratch[0]);
  }

  private newPool(): WorkerPool {
    const host = { blocking: platform.blocking, spawn: (init: WorkerInit, onError: (e: unknown) => void) => platform.spawn(init, onError, this.workerUrl) };
    return new WorkerPool(this.module, this.memory, Object.keys(this.exports), this.threads, (t) => this.scratch[t], host);
  }

  /**
   * Asynchronous start (browsers; works in Node too): fetches and compiles the kernels, instantiates them
   * and starts the workers, resolving once they are ready. Without cross-origin isolation (no
   * SharedArrayBuffer) it falls back to one thread.
   */
  static async create(options: WasmOptions = {}): Promise<WasmRuntime> {
    let threads = resolveThreads(options.threads);
    if (threads > 1 && !platform.crossOriginIsolated()) {
      console.warn(`weightshare: this page is not cross-origin isolated (COOP/COEP headers), so the wasm backend runs on 1 thread instead of ${threads}`);
      threads = 1;
    }
    const unused = threads > 1 ? platform.prestart?.(threads - 1, workerUrlOf(options)) : undefined;
    try {
      const kernels = await loadKernelsAsync(options);
      const memory = sharedMemory(maxPagesOf(options));
      const instance = await WebAssembly.instantiate(kernels.module, kernelImports(kernels.module, memory));
      const rt = new WasmRuntime(options, { threads, kernels, memory, instance });
      if (threads > 1) {
        const pool = rt.newPool();
        rt.pool = pool;
        if (options.waitForWorkers === false) {
          rt.poolJoining = true;
          rt.threadsReady = pool.ready().then(() => threads, (e: unknown) => {
            if (rt.pool !== pool) return 1; // disposed meanwhile
            console.warn(`${(e as Error).message}; the wasm backend runs on the page's thread alone`);
            rt.pool = undefined;
            return 1;
          });
        } else {
          await pool.ready();
        }
      }
      return rt;
    } finally {
      unused?.();
    }
  }

  /** Stops the worker threads (in Node they restart on the next parallel kernel; in a browser kernels then run on one thread). */
  dispose(): void {
    this.pool?.terminate();
    this.pool = undefined;
  }
}
