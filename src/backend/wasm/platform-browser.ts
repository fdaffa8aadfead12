// The browser's side of the platform seam (package import `#platform`, default condition): fetch, module Web Workers.
import type { Platform } from './platform.js';

/** The browser platform: asynchronous start-up; the page's thread never blocks (it spins). */
export const host: Platform = {
  name: 'browser',
  blocking: false,
  cores: () => (typeof navigator !== 'undefined' && navigator.hardwareConcurrency > 0 ? navigator.hardwareConcurrency : 1),
  env: () => undefined,
  crossOriginIsolated: () => (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true,
  spawn(init, onError, url) {
    // The literal `new Worker(new URL('./worker.js', import.meta.url), …)` is the pattern bundlers (Vite, webpack) follow.
    const w = url
      ? new Worker(url, { type: 'module', name: 'weightshare' })
      : new Worker(new URL('./worker.js', import.meta.url), { type: 'module', name: 'weightshare' });
    const where = url ? `worker ${url.href}` : "weightshare's worker.js next to its code";
    w.addEventListener('error', (e) => onError(`${e.message || 'the worker script failed to load'} (${where}; set initWasmBackend({ workerUrl }) to where worker.js is served)`));
    w.addEventListener('messageerror', () => onError('worker could not receive its start message'));
    w.postMessage(init);
    return { terminate: () => w.terminate() };
  },
};
