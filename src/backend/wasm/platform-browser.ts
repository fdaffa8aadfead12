// The browser's side of the platform seam (package import `#platform`, default condition): fetch, module Web Workers.
import type { Platform } from './platform.js';

/** A Web Worker started before its start message: errors are kept until someone listens. */
interface Started {
  href: string;
  worker: Worker;
  listen(onError: (e: unknown) => void): void;
}

/** Workers started by `prestart` and not yet given their start message, oldest first. */
const waiting: Started[] = [];

function startWorker(url: URL | undefined): Started {
  // The literal `new Worker(new URL('./worker.js', import.meta.url), …)` is the pattern bundlers (Vite, webpack) follow.
  const worker = url
    ? new Worker(url, { type: 'module', name: 'weightshare' })
    : new Worker(new URL('./worker.js', import.meta.url), { type: 'module', name: 'weightshare' });
  const where = url ? `worker ${url.href}` : "weightshare's worker.js next to its code";
  let hear: ((e: unknown) => void) | undefined;
  const missed: unknown[] = [];
  const report = (e: unknown): void => void (hear ? hear(e) : missed.push(e));
  worker.addEventListener('error', (e) => report(`${e.message || 'the worker script failed to load'} (${where}; set initWasmBackend({ workerUrl }) to where worker.js is served)`));
  worker.addEventListener('messageerror', () => report('worker could not receive its start message'));
  return { href: url?.href ?? '', worker, listen: (onError) => { hear = onError; missed.splice(0).forEach(onError); } };
}

/** The browser platform: asynchronous start-up; the page's thread never blocks (it spins). */
export const host: Platform = {
  name: 'browser',
  blocking: false,
  cores: () => (typeof navigator !== 'undefined' && navigator.hardwareConcurrency > 0 ? navigator.hardwareConcurrency : 1),
  env: () => undefined,
  crossOriginIsolated: () => (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true,
  prestart(count, url) {
    // Loading and evaluating worker.js overlaps the kernels' download and compilation; `spawn` takes these first.
    const mine = Array.from({ length: count }, () => startWorker(url));
    waiting.push(...mine);
    return () => {
      for (const s of mine) {
        const i = waiting.indexOf(s);
        if (i >= 0) {
          waiting.splice(i, 1);
          s.worker.terminate();
        }
      }
    };
  },
  spawn(init, onError, url) {
    const i = waiting.findIndex((s) => s.href === (url?.href ?? ''));
    const s = i >= 0 ? waiting.splice(i, 1)[0]! : startWorker(url);
    s.listen(onError);
    s.worker.postMessage(init);
    return { terminate: () => s.worker.terminate() };
  },
};
