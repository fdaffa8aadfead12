// The Web Worker entry of the pool (browsers; imports no platform module, so no import map or bundler condition is needed).
import type { WorkerInit } from './threads.js';
import { serve } from './worker-serve.js';

// The init arrives as the first message; the listener is attached before any await.
globalThis.addEventListener('message', (e: Event) => serve((e as MessageEvent<WorkerInit>).data), { once: true });
