// The platform seam of the wasm runtime: Node (worker_threads, node:fs) or a browser (fetch, Web Workers).
import type { WorkerInit } from './threads.js';

/** A started worker, as the pool sees it. */
export interface WorkerHandle {
  terminate(): void;
}

/** What the runtime needs from its host; Node's lives in platform-node.ts, the browser's below. */
export interface Platform {
  readonly name: 'node' | 'browser';
  /** Whether this thread may block (Atomics.wait) and so start workers and compile synchronously. */
  readonly blocking: boolean;
  /** Number of logical cores. */
  cores(): number;
  /** An environment variable, or undefined (always undefined in a browser). */
  env(name: string): string | undefined;
  /** Whether this context may share memory with workers (SharedArrayBuffer usable). */
  crossOriginIsolated(): boolean;
  /** Reads a file synchronously (Node only). */
  readSync?(url: URL): Uint8Array<ArrayBuffer>;
  /** Enables the relaxed-SIMD proposal in the engine where it sits behind a flag (Node 20). */
  enableRelaxedSimd?(): void;
  /** Starts a worker running `url` with `init`; `onError` hears a failure to start or an uncaught error. */
  spawn(url: URL, init: WorkerInit, onError: (e: unknown) => void): WorkerHandle;
}

const browserPlatform: Platform = {
  name: 'browser',
  blocking: false,
  cores: () => (typeof navigator !== 'undefined' && navigator.hardwareConcurrency > 0 ? navigator.hardwareConcurrency : 1),
  env: () => undefined,
  crossOriginIsolated: () => (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true,
  spawn(url, init, onError) {
    const w = new Worker(url, { type: 'module', name: `weightshare-${init.index}` });
    w.addEventListener('error', (e) => onError(e.message || 'worker script failed to load'));
    w.addEventListener('messageerror', () => onError('worker could not receive its start message'));
    w.postMessage(init);
    return { terminate: () => w.terminate() };
  },
};

/** True in Node.js (and its worker threads). */
export const isNode = typeof process === 'object' && typeof process.versions?.node === 'string';

/** The platform this code runs on (Node's is imported dynamically, so browsers never load node:* modules). */
export const platform: Platform = isNode ? (await import('./platform-node.js')).nodePlatform : browserPlatform;
