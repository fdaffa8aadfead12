// The README's esbuild recipe: kernels, worker and mnist-sample copied next to the page, their URLs given relative to it.
import { run } from './checks.js';

const q = new URLSearchParams(location.search);
window.weightshareResult = run({ kernelsUrl: q.get('kernelsUrl') ?? 'kernels/', workerUrl: q.get('workerUrl') ?? 'worker.js' }, 'mnist-sample/');
