// The worker pool: T-1 worker threads plus the caller, all running the same kernels over one shared memory.

/** A started worker, as the pool sees it. */
export interface WorkerHandle {
  terminate(): void;
}

/** How the pool starts workers and waits: the platform's, given by the runtime (so that worker code never imports the platform). */
export interface PoolHost {
  /** Whether the calling thread may block in Atomics.wait. */
  blocking: boolean;
  /** Starts one worker with `init`; `onError` hears a failure to start or an uncaught error. */
  spawn(init: WorkerInit, onError: (e: unknown) => void): WorkerHandle;
}

/**
 * Layout of the control block (Int32Array over a SharedArrayBuffer) shared with the workers. `claim` packs the job's
 * chunk count (bits 8–15) and the next unclaimed chunk (bits 0–7); `done` counts finished chunks.
 */
export const CTRL = { gen: 0, done: 1, fn: 2, nargs: 3, error: 4, ready: 5, claim: 6, length: 8 } as const;

/**
 * Takes the next unclaimed chunk of the job posted in `ctrl` (an index into its ranges), or returns −1 when every chunk
 * is taken. Whichever thread gets there first runs a chunk, so a thread that the OS has not scheduled yet (a machine
 * busy with other work) delays nobody: the others take its chunk. Chunks are fixed ranges, and kernels give the same
 * bits for any split, so who runs which never shows in the results.
 */
export function claimChunk(ctrl: Int32Array): number {
  for (;;) {
    const w = Atomics.load(ctrl, CTRL.claim);
    const next = w & 0xff;
    if (next >= w >>> 8) return -1;
    if (Atomics.compareExchange(ctrl, CTRL.claim, w, w + 1) === w) return next;
  }
}

/** Counts one finished chunk; the thread that finishes the last wakes the caller if it sleeps. */
export function finishChunk(ctrl: Int32Array): void {
  if (Atomics.add(ctrl, CTRL.done, 1) + 1 === Atomics.load(ctrl, CTRL.claim) >>> 8) Atomics.notify(ctrl, CTRL.done);
}
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
 * A pool of worker threads driven through Atomics. `run` is synchronous: the caller posts the job's chunks, every
 * thread including the caller takes chunks until none is left ({@link claimChunk}), and `run` returns when all are
 * done. Construction only starts the workers: wait for them with {@link waitReadySync} (Node) or {@link ready}
 * (browser main thread).
 */
export class WorkerPool {
  private readonly ctrl: Int32Array;
  private readonly args: Float64Array;
  private readonly workers: WorkerHandle[] = [];
  private readonly index: Map<string, number>;
  private readonly blocking: boolean;
  private failure: unknown;

  constructor(
    module: WebAssembly.Module,
    memory: WebAssembly.Memory,
    names: string[],
    readonly threads: number,
    scratch: (thread: number) => number,
    host: PoolHost,
  ) {
    this.blocking = host.blocking;
    const ctrlBuf = new SharedArrayBuffer(CTRL.length * 4);
    const argsBuf = new SharedArrayBuffer((MAX_ARGS + 2 * threads) * 8);
    this.ctrl = new Int32Array(ctrlBuf);
    this.args = new Float64Array(argsBuf);
    this.index = new Map(names.map((n, i) => [n, i]));
    for (let i = 1; i < threads; i++) {
      const init: WorkerInit = { module, memory, ctrl: ctrlBuf, args: argsBuf, names, index: i, threads, scratch: scratch(i) };
      this.workers.push(host.spawn(init, (e) => (this.failure ??= e)));
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

  /** Whether every worker has instantiated the module. */
  isReady(): boolean {
    return Atomics.load(this.ctrl, CTRL.ready) === this.threads - 1;
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
   * Runs `fn(...args, begin_i, end_i, scratch)` for the `chunks` ranges [begin_i, end_i) (ranges holds 2 numbers per
   * chunk, chunks ≤ threads) on whichever threads claim them, each with its own scratch; `self` is the caller's own
   * instance function, run with scratch0.
   */
  run(name: string, self: (...a: number[]) => unknown, args: readonly number[], ranges: readonly number[], chunks: number, scratch0: number): void {
    const fn = this.index.get(name);
    if (fn === undefined) throw new Error(`weightshare wasm backend: unknown kernel ${name}`);
    if (args.length > MAX_ARGS) throw new Error(`weightshare wasm backend: kernel ${name} called with ${args.length} > ${MAX_ARGS} arguments`);
    if (!(chunks >= 1 && chunks <= this.threads)) throw new Error(`weightshare wasm backend: kernel ${name} split into ${chunks} chunks for ${this.threads} threads`);
    const c = this.ctrl;
    this.args.set(args, 0);
    for (let i = 0; i < 2 * chunks; i++) this.args[MAX_ARGS + i] = ranges[i];
    Atomics.store(c, CTRL.fn, fn);
    Atomics.store(c, CTRL.nargs, args.length);
    Atomics.store(c, CTRL.error, 0);
    Atomics.store(c, CTRL.done, 0);
    Atomics.store(c, CTRL.claim, chunks << 8);
    Atomics.add(c, CTRL.gen, 1);
    Atomics.notify(c, CTRL.gen);
    let failure: unknown;
    for (let k = claimChunk(c); k >= 0; k = claimChunk(c)) {
      try {
        self(...args, ranges[2 * k], ranges[2 * k + 1], scratch0);
      } catch (e) {
        failure ??= e;
      }
      finishChunk(c);
    }
    // A browser's main thread may not block: there the caller only spins (Atomics.load).
    let spins = 0;
    for (;;) {
      const d = Atomics.load(c, CTRL.done);
      if (d === chunks) break;
      if (++spins < SPIN || !this.blocking) continue;
      Atomics.wait(c, CTRL.done, d, 1000);
    }
    if (failure !== undefined) throw failure;
    if (Atomics.load(c, CTRL.error) !== 0) throw new Error(`weightshare wasm backend: kernel ${name} trapped in a worker thread`);
  }

  /** Stops the workers. */
  terminate(): void {
    this.failure ??= 'the pool was stopped';
    for (const w of this.workers) w.terminate();
    this.workers.length = 0;
  }
}
