// The platform seam: Node (worker_threads, node:fs) or a browser (fetch, Web Workers), chosen by the package import `#platform`.
import { host } from '#platform';
import type { WorkerHandle, WorkerInit } from './threads.js';

/**
 * What the runtime needs from its host. package.json maps `#platform` to platform-node.js under the `node`
 * condition and to platform-browser.js otherwise, so a browser build never reaches a `node:` module.
 */
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
  readSync?(url: URL): Uint8Array;
  /** Enables the relaxed-SIMD proposal in the engine where it sits behind a flag (Node 20). */
  enableRelaxedSimd?(): void;
  /**
   * Starts a worker running `url` (default: this platform's worker entry next to this module: worker.js in a
   * browser, worker-node.js in Node) with `init`; `onError` hears a failure to start or an uncaught error.
   */
  spawn(init: WorkerInit, onError: (e: unknown) => void, url?: URL): WorkerHandle;
  /**
   * Starts `count` workers for `url` (as `spawn` would) before their start message exists, so that loading the
   * worker script overlaps compiling the kernels; `spawn` uses them first. The returned function stops those not
   * yet used. Absent where starting early gains nothing (Node).
   */
  prestart?(count: number, url?: URL): () => void;
}

/** The platform this code runs on. */
export const platform: Platform = host;

/** `u` as a URL: a string is resolved against the page's address (document.baseURI), elsewhere against this module's URL. */
export function resolveUrl(u: string | URL): URL {
  if (u instanceof URL) return u;
  const base = (globalThis as { document?: { baseURI?: string } }).document?.baseURI;
  return new URL(u, base ?? import.meta.url);
}

/**
 * The bytes at `url`: read from disk for a `file:` URL in Node, fetched otherwise. A failure throws an Error
 * naming the URL, the reason and `hint` (what to set or serve).
 */
export async function fetchBytes(url: URL, hint: string): Promise<Uint8Array> {
  if (url.protocol === 'file:' && platform.readSync) {
    try {
      return platform.readSync(url);
    } catch (e) {
      throw new Error(`weightshare: cannot read ${url.href} (${(e as Error).message}): ${hint}`);
    }
  }
  return new Uint8Array(await (await fetchOk(url, hint)).arrayBuffer());
}

/** The successful response for `url`; a failed request or an HTTP error throws an Error naming the URL and `hint`. */
export async function fetchOk(url: URL, hint: string): Promise<Response> {
  let res: Response;
  try {
    res = await fetch(url);
  } catch (e) {
    throw new Error(`weightshare: cannot fetch ${url.href} (${(e as Error).message}): ${hint}`);
  }
  if (!res.ok) throw new Error(`weightshare: cannot fetch ${url.href} (HTTP ${res.status}): ${hint}`);
  return res;
}
