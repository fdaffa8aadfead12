// Node's side of the platform seam (package import `#platform`, condition `node`): node:fs, the relaxed-SIMD flag, cores, worker_threads.
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { setFlagsFromString } from 'node:v8';
import { Worker } from 'node:worker_threads';
import type { Platform } from './platform.js';

/** The Node.js platform: synchronous start-up, blocking waits allowed. */
export const host: Platform = {
  name: 'node',
  blocking: true,
  cores: () => availableParallelism(),
  env: (name) => process.env[name],
  crossOriginIsolated: () => true,
  readSync: (url) => new Uint8Array(readFileSync(url)),
  enableRelaxedSimd: () => setFlagsFromString('--experimental-wasm-relaxed-simd'),
  spawn(init, onError, url) {
    const w = new Worker(url ?? new URL('./worker-node.js', import.meta.url), { workerData: init });
    w.on('error', onError);
    w.unref();
    return { terminate: () => void w.terminate() };
  },
};
