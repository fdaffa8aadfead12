// The worker pool: T-1 worker threads plus the caller, all running the same kernels over one shared memory.
import { platform, type WorkerHandle } from './platform.js';

/** Layout of the control block (Int32Array over a SharedArrayBuffer) shared with the workers. */
export const CTRL = { gen: 0, pending: 1, fn: 2, nargs: 3, error: 4, ready: 5, length: 8 } as const;
/** Most arguments a kernel may take before (begin, end, scratch). */
export const MAX_ARGS = 32;

/** What a worker is started with (Node: workerData; browser: the first message). */
export interface WorkerInit {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  ctrl: SharedArrayBuffer;
  args: SharedArrayBuffer;
  names: string[];
  index: number;
  threads: number;
  scratch: number;
}

/** Spin iterations before a thread blocks in Atomics.wait (keeps dispatch latency in microseconds). */
export const SPIN = 20000;

/** How long workers get to instantiate the kernels before start-up fails. */
const START_MS = 30000;

/**
 * A pool of worker threads driven through Atomics. `run` is synchronous: the caller takes chunk 0,
 * the workers chunks 1…T-1, and `run` returns when all are done. Construction only starts the workers:
 * wait for them with {@link waitReadySync} (Node) or {@link ready} (browser main thread).
 */
export class WorkerPool {
  private readonly ctrl: Int32Array;
  private readonly args: Float64Array;
  private readonly workers: WorkerHandle[] = [];
  private readonly index: Map<string, number>;
  private readonly blocking = platform.blocking;
  private failure: unknown;

  constructor(
    module: WebAssembly.Module,
    memory: WebAssembly.Memory,
    names: string[],
    readonly threads: number,
    scratch: (thread: number) => number,
  ) {
    const ctrlBuf = new SharedArrayBuffer(CTRL.length * 4);
    const argsBuf = new SharedArrayBuffer((MAX_ARGS + 2 * threads) * 8);
    this.ctrl = new Int32Array(ctrlBuf);
    this.args = new Float64Array(argsBuf);
    this.index = new Map(names.map((n, i) => [n, i]));
    const url = new URL('./worker.js', import.meta.url);
    for (let i = 1; i < threads; i++) {
      const init: WorkerInit = { module, memory, ctrl: ctrlBuf, args: argsBuf, names, index: i, threads, scratch: scratch(i) };
      this.workers.push(platform.spawn(url, init, (e) => (this.failure ??= e)));
    }
  }

  private startError(ready: number, why: string): Error {
    this.terminate();
    const cause = this.failure === undefined ? '' : `: ${this.failure instanceof Error ? this.failure.message : String(this.failure)}`;
    return new Error(`weightshare wasm backend: only ${ready} of ${this.threads - 1} worker threads started (${why})${cause}`);
  }

  /** Blocks until every worker has instantiated the module (Atomics.wait: Node, or inside a worker). */
  waitReadySync(): void {
    const deadline = Date.now() + START_MS;
    for (;;) {
      const ready = Atomics.load(this.ctrl, CTRL.ready);
      if (ready === this.threads - 1) return;
      if (Date.now() > deadline) throw this.startError(ready, 'timed out');
      Atomics.wait(this.ctrl, CTRL.ready, ready, 50);
    }
  }

  /** Resolves when every worker has instantiated the module, without blocking the calling thread. */
  async ready(): Promise<void> {
    const deadline = Date.now() + START_MS;
    for (;;) {
      const ready = Atomics.load(this.ctrl, CTRL.ready);
      if (ready === this.threads - 1) return;
      if (this.failure !== undefined) throw this.startError(ready, 'a worker failed');
      if (Date.now() > deadline) throw this.startError(ready, 'timed out');
      await new Promise((r) => setTimeout(r, 2));
    }
  }

  /**
   * Runs `fn(...args, begin_t, end_t, scratch_t)` on every thread t with the given [begin, end) ranges;
   * `self` is the caller's own instance function for range 0.
   */
  run(name: string, self: (...a: number[]) => unknown, args: readonly number[], ranges: readonly number[], scratch0: number): void {
    const fn = this.index.get(name);
    if (fn === undefined) throw new Error(`weightshare wasm backend: unknown kernel ${name}`);
    if (args.length > MAX_ARGS) throw new Error(`weightshare wasm backend: kernel ${name} called with ${args.length} > ${MAX_ARGS} arguments`);
    const c = this.ctrl;
    this.args.set(args, 0);
    this.args.set(ranges, MAX_ARGS);
    Atomics.store(c, CTRL.fn, fn);
    Atomics.store(c, CTRL.nargs, args.length);
    Atomics.store(c, CTRL.error, 0);
    Atomics.store(c, CTRL.pending, this.threads - 1);
    Atomics.add(c, CTRL.gen, 1);
    Atomics.notify(c, CTRL.gen);
    let failure: unknown;
    try {
      if (ranges[1] > ranges[0]) self(...args, ranges[0], ranges[1], scratch0);
    } catch (e) {
      failure = e;
    }
    // A browser's main thread may not block: there the caller only spins (Atomics.load).
    let spins = 0;
    for (;;) {
      const p = Atomics.load(c, CTRL.pending);
      if (p === 0) break;
      if (++spins < SPIN || !this.blocking) continue;
      Atomics.wait(c, CTRL.pending, p, 1000);
    }
    if (failure !== undefined) throw failure;
    if (Atomics.load(c, CTRL.error) !== 0) throw new Error(`weightshare wasm backend: kernel ${name} trapped in a worker thread`);
  }

  /** Stops the workers. */
  terminate(): void {
    for (const w of this.workers) w.terminate();
    this.workers.length = 0;
  }
}
