// The worker threads' loop (worker_threads or Web Worker): instantiates the kernels over the shared memory and runs its chunk of every job.
import { claimChunk, CTRL, finishChunk, MAX_ARGS, SPIN, type WorkerInit } from './threads.js';
import { kernelImports } from './imports.js';

/** Instantiates the kernels and serves jobs forever, taking chunks while any is left (Atomics.wait is allowed in workers). */
export function serve(init: WorkerInit): void {
  const instance = new WebAssembly.Instance(init.module, kernelImports(init.module, init.memory));
  const fns = init.names.map((n) => instance.exports[n] as (...a: number[]) => unknown);
  const ctrl = new Int32Array(init.ctrl);
  const args = new Float64Array(init.args);

  // Read the job counter before announcing readiness: the caller may dispatch the first job right after.
  let seen = Atomics.load(ctrl, CTRL.gen);
  Atomics.add(ctrl, CTRL.ready, 1);
  Atomics.notify(ctrl, CTRL.ready);
  for (;;) {
    let spins = 0;
    let gen: number;
    while ((gen = Atomics.load(ctrl, CTRL.gen)) === seen) {
      if (++spins > SPIN) Atomics.wait(ctrl, CTRL.gen, seen);
    }
    seen = gen;
    // The job's arguments stay put until every chunk is done, so a claimed chunk reads those of its own job.
    for (let k = claimChunk(ctrl); k >= 0; k = claimChunk(ctrl)) {
      const n = Atomics.load(ctrl, CTRL.nargs);
      const a: number[] = new Array(n + 3);
      for (let i = 0; i < n; i++) a[i] = args[i];
      a[n] = args[MAX_ARGS + 2 * k];
      a[n + 1] = args[MAX_ARGS + 2 * k + 1];
      a[n + 2] = init.scratch;
      try {
        fns[Atomics.load(ctrl, CTRL.fn)](...a);
      } catch {
        Atomics.store(ctrl, CTRL.error, 1);
      }
      finishChunk(ctrl);
    }
  }
}
