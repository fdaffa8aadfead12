// The wasm backend in headless Chromium: Web Worker pool (cross-origin isolated) and the 1-thread fallback, vs ref.
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { chromiumSkip as skip, launchChromium, pageResult, serverUrl, serveStatic } from '../helpers/browser.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
let server: Server | undefined;
let browser: Browser | undefined;

before(async () => {
  if (skip) return;
  server = await serveStatic(root);
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await new Promise((r) => (server ? server.close(r) : r(undefined)));
});

interface PageResult {
  error?: string;
  crossOriginIsolated: boolean;
  cores: number;
  preInitError: string | null;
  initMs: number;
  threads: number;
  relaxedSimd: boolean;
  threadsReady: number;
  sameAfterWorkersJoined: boolean;
  backend: string;
  matmul: { ms: number; gflops: number };
  training: {
    before: number; after: number; lossBefore: number; lossAfter: number; roundTrip: number; hashed: boolean; bytes: number; coded: boolean; codedRoundTrip: number;
    codedBytes: number; shipped: { version: number; bytes: number; roundTrip: number };
  };
  leak: { tensors: number; bytes: number };
  diff: Record<string, number>;
  sizes: Record<string, number>;
}

/** Opens page.html under `mode` and returns what its checks reported (plus the page's console). */
function runPage(mode: 'coi' | 'plain', threads: number, query = ''): Promise<{ r: PageResult; log: string[] }> {
  assert.ok(server, 'server started');
  return pageResult<PageResult>(browser, `${serverUrl(server)}/${mode}/test/browser/page.html?threads=${threads}${query}`);
}

function checkAgainstRef(r: PageResult, log: string[]): void {
  assert.equal(r.error, undefined, `page failed: ${r.error}\n${log.join('\n')}`);
  assert.match(r.preInitError ?? '', /await initWasmBackend\(\)/, 'setBackend("wasm") before init must say to await initWasmBackend()');
  assert.equal(r.backend, 'wasm');
  assert.deepEqual(r.sizes, { mm: 20000, y: 4 * 14 * 14 * 16, loss: 1, dx: 4 * 14 * 14 * 3, dw: 3 * 3 * 3 * 16 });
  for (const [k, d] of Object.entries(r.diff)) assert.ok(d < 1e-4, `${k}: wasm differs from ref by ${d} (relative)`);
  assert.equal(r.threadsReady, r.threads, 'every worker thread started');
  assert.ok(r.sameAfterWorkersJoined, 'the same bits right after initWasmBackend and once the workers run');
  const t = r.training;
  assert.ok(t.lossAfter < 0.6 * t.lossBefore && t.after >= 0.85, `the model API trains in the browser: ${JSON.stringify(t)}`);
  assert.ok(t.hashed && t.roundTrip === 0 && t.bytes > 0, `a hashed model file round-trips in the browser: ${JSON.stringify(t)}`);
  assert.ok(t.coded && t.codedRoundTrip === 0, `a clustered model file with Huffman-coded codes round-trips in the browser: ${JSON.stringify(t)}`);
  const s = t.shipped;
  assert.ok(s.version === 3 && s.roundTrip === 0 && s.bytes < t.codedBytes, `a file for shipping (header deflated) round-trips in the browser: ${JSON.stringify(s)}`);
}

test('browser, cross-origin isolated: 2 Web Worker threads, matmul and conv2d + grads match ref', { skip, timeout: 30000 }, async () => {
  const { r, log } = await runPage('coi', 2);
  checkAgainstRef(r, log);
  assert.equal(r.crossOriginIsolated, true, 'the page is cross-origin isolated');
  assert.equal(r.threads, 2, 'the wasm backend runs on 2 threads');
  console.log(
    `chromium (isolated): init ${r.initMs.toFixed(0)} ms, relaxed SIMD ${r.relaxedSimd}, ` +
      `200x300·300x100 matmul ${r.matmul.ms.toFixed(3)} ms (${r.matmul.gflops.toFixed(1)} GFLOP/s) on ${r.threads} threads`,
  );
});

test('browser, cross-origin isolated, waitForWorkers: false: kernels run at once, the workers join, the same bits', { skip, timeout: 30000 }, async () => {
  const { r, log } = await runPage('coi', 2, '&wait=0');
  checkAgainstRef(r, log);
  assert.equal(r.threads, 2);
  assert.deepEqual(log.filter((l) => /^(error|warning|pageerror)/.test(l)), [], 'no errors or warnings in the console');
  console.log(`chromium (isolated, waitForWorkers: false): init ${r.initMs.toFixed(0)} ms, then ${r.threadsReady} threads`);
});

test('browser, not cross-origin isolated: falls back to 1 thread and still matches ref', { skip, timeout: 30000 }, async () => {
  const { r, log } = await runPage('plain', 2);
  if (r.error !== undefined && /cross-origin isolated/.test(r.error)) {
    // This browser gives no shared memory without isolation: the error must say what to do.
    assert.match(r.error, /Cross-Origin-Embedder-Policy/);
    return;
  }
  checkAgainstRef(r, log);
  assert.equal(r.crossOriginIsolated, false);
  assert.equal(r.threads, 1, 'without isolation the backend falls back to 1 thread');
  assert.ok(log.some((l) => /not cross-origin isolated/.test(l)), 'a console warning explains the fallback');
  console.log(`chromium (not isolated): 1 thread, matmul ${r.matmul.ms.toFixed(3)} ms (${r.matmul.gflops.toFixed(1)} GFLOP/s)`);
});
