// The wasm backend in headless Chromium: Web Worker pool (cross-origin isolated) and the 1-thread fallback, vs ref.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, sep } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';

const CHROMIUM = '/usr/bin/chromium';
const root = fileURLToPath(new URL('../../../', import.meta.url));
const skip = !existsSync(CHROMIUM) && !process.env.CI
  ? `${CHROMIUM} is absent (apt-get install chromium); the browser test runs in CI only`
  : false;

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8',
  '.wasm': 'application/wasm', '.json': 'application/json', '.map': 'application/json',
};

/** Serves the repo root under /coi/ (with COOP/COEP: cross-origin isolated) and /plain/ (without). */
function serve(): Promise<Server> {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const m = /^\/(coi|plain)(\/.*)$/.exec(url.pathname);
    const file = m ? normalize(join(root, decodeURIComponent(m[2]))) : '';
    if (!m || !file.startsWith(root.endsWith(sep) ? root : root + sep) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404).end('not found');
      return;
    }
    const headers: Record<string, string> = { 'Content-Type': MIME[extname(file)] ?? 'application/octet-stream', 'Cache-Control': 'no-store' };
    if (m[1] === 'coi') {
      headers['Cross-Origin-Opener-Policy'] = 'same-origin';
      headers['Cross-Origin-Embedder-Policy'] = 'require-corp';
    }
    res.writeHead(200, headers).end(readFileSync(file));
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

let server: Server | undefined;
let browser: Browser | undefined;

before(async () => {
  if (skip) return;
  server = await serve();
  const { chromium } = await import('playwright-core');
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
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
  backend: string;
  matmul: { ms: number; gflops: number };
  training: { before: number; after: number; lossBefore: number; lossAfter: number; roundTrip: number; hashed: boolean; bytes: number; coded: boolean; codedRoundTrip: number };
  leak: { tensors: number; bytes: number };
  diff: Record<string, number>;
  sizes: Record<string, number>;
}

/** Opens page.html under `mode` and returns what its checks reported (plus the page's console). */
async function runPage(mode: 'coi' | 'plain', threads: number): Promise<{ r: PageResult; log: string[] }> {
  assert.ok(browser && server, 'browser and server started');
  const page = await browser.newPage();
  const log: string[] = [];
  page.on('console', (m) => log.push(`${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => log.push(`pageerror: ${e.message}`));
  try {
    const { port } = server.address() as AddressInfo;
    await page.goto(`http://127.0.0.1:${port}/${mode}/test/browser/page.html?threads=${threads}`);
    const r = await page.evaluate(() => (window as unknown as { weightshareResult: Promise<unknown> }).weightshareResult);
    return { r: r as PageResult, log };
  } finally {
    await page.close();
  }
}

function checkAgainstRef(r: PageResult, log: string[]): void {
  assert.equal(r.error, undefined, `page failed: ${r.error}\n${log.join('\n')}`);
  assert.match(r.preInitError ?? '', /await initWasmBackend\(\)/, 'setBackend("wasm") before init must say to await initWasmBackend()');
  assert.equal(r.backend, 'wasm');
  assert.deepEqual(r.sizes, { mm: 20000, y: 4 * 14 * 14 * 16, loss: 1, dx: 4 * 14 * 14 * 3, dw: 3 * 3 * 3 * 16 });
  for (const [k, d] of Object.entries(r.diff)) assert.ok(d < 1e-4, `${k}: wasm differs from ref by ${d} (relative)`);
  const t = r.training;
  assert.ok(t.lossAfter < 0.6 * t.lossBefore && t.after >= 0.85, `the model API trains in the browser: ${JSON.stringify(t)}`);
  assert.ok(t.hashed && t.roundTrip === 0 && t.bytes > 0, `a hashed model file round-trips in the browser: ${JSON.stringify(t)}`);
  assert.ok(t.coded && t.codedRoundTrip === 0, `a clustered model file with Huffman-coded codes round-trips in the browser: ${JSON.stringify(t)}`);
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
