// The README's Vite recipe: no options, Vite finds the kernels, the worker and mnist-sample from new URL(…, import.meta.url).
import { run } from './checks.js';

window.weightshareResult = run({}, undefined);
