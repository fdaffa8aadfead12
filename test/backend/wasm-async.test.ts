// The asynchronous start of the wasm backend (the browser entry) also works in Node and matches the synchronous one.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createWasmBackend, createWasmBackendAsync, initWasmBackend } from '../../src/backend/wasm/wasm.js';
import { getBackend, setBackend } from '../../src/core/engine.js';
import { runOn, f32Out } from '../helpers/backends.js';
import { Rng } from '../helpers/random.js';

test('createWasmBackendAsync: 2 threads ready at once, gemm bit-identical to the synchronous backend', async () => {
  const rng = new Rng(7);
  const [m, n, k] = [200, 100, 300];
  const A = rng.normals(m * k), B = rng.normals(k * n);
  const p = { batch: 1, m, n, k, transA: false, transB: false, strideA: 0, strideB: 0, strideC: 0, accumulate: false };
  const sync = createWasmBackend({ threads: 2 });
  const asyncBe = await createWasmBackendAsync({ threads: 2 });
  try {
    assert.equal(asyncBe.threads, 2);
    assert.equal(asyncBe.relaxedSimd, sync.relaxedSimd);
    const run = (be: typeof sync) => runOn(be, [A, B], [f32Out(m * n)], ([a, b, c]) => be.gemm(a, b, c, p)).outs[0];
    assert.deepEqual(run(asyncBe), run(sync));
  } finally {
    sync.dispose();
    asyncBe.dispose();
  }
});

test('initWasmBackend registers the engine\'s wasm backend and is idempotent', async () => {
  const b = await initWasmBackend({ threads: 2 });
  assert.equal(await initWasmBackend(), b);
  assert.equal(setBackend('wasm'), b);
  assert.equal(getBackend(), b);
  setBackend('ref');
  b.dispose();
});
