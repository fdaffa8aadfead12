// The README's browser recipes: a page bundled by esbuild and by Vite from the package as installed, run in headless Chromium.
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { loadMnistSample } from '../../src/data/datasets.js';
import { chromiumSkip, launchChromium, pageResult, serverUrl, serveStatic } from '../helpers/browser.js';

const repo = fileURLToPath(new URL('../../../', import.meta.url));
/** esbuild and vite are devDependencies; without them (or Chromium) there is nothing to bundle or run. */
async function available(name: string): Promise<boolean> {
  try {
    await import(name);
    return true;
  } catch {
    return false;
  }
}
const skip = chromiumSkip || (!(await available('esbuild')) || !(await available('vite')) ? 'esbuild or vite is not installed (devDependencies)' : false);

interface PageResult {
  error?: string;
  crossOriginIsolated: boolean;
  threads: number;
  relaxedSimd: boolean;
  diff: number;
  mnist: { train: number; test: number; testPixelSum: number; trainLabels: number[] };
  testAccuracy: number;
}

let dir = '';
let server: Server | undefined;
let browser: Browser | undefined;
const bundles: Record<'esbuild' | 'vite', string> = { esbuild: '', vite: '' };

/** A consumer project: the page's sources, and node_modules/weightshare linking to this repository (as `npm link` would). */
function project(): string {
  const p = join(dir, 'project');
  mkdirSync(join(p, 'node_modules'), { recursive: true });
  symlinkSync(repo, join(p, 'node_modules', 'weightshare'), 'dir');
  cpSync(join(repo, 'test', 'package', 'app'), p, { recursive: true });
  writeFileSync(join(p, 'index.html'), '<!doctype html><html><head><meta charset="utf-8"><title>weightshare (Vite)</title></head>\n<body><script type="module" src="./vite-app.js"></script></body></html>\n');
  return p;
}

/** The esbuild recipe: the page and weightshare/worker bundled, the kernels and mnist-sample copied next to them. */
async function esbuildPage(src: string, out: string): Promise<void> {
  const esbuild = await import('esbuild');
  await esbuild.build({
    absWorkingDir: src, entryPoints: { app: 'esbuild-app.js', worker: 'weightshare/worker' }, bundle: true, format: 'esm',
    platform: 'browser', outdir: out, logLevel: 'silent',
  });
  cpSync(join(src, 'node_modules', 'weightshare', 'dist', 'kernels'), join(out, 'kernels'), { recursive: true });
  cpSync(join(src, 'node_modules', 'weightshare', 'data', 'mnist-sample'), join(out, 'mnist-sample'), { recursive: true });
  writeFileSync(join(out, 'index.html'), '<!doctype html><html><head><meta charset="utf-8"><title>weightshare (esbuild)</title></head>\n<body><script type="module" src="./app.js"></script></body></html>\n');
}

/** The Vite recipe: `vite build` (base './': the test serves the page from a subfolder). */
async function vitePage(src: string, out: string): Promise<void> {
  const vite = await import('vite');
  await vite.build({ root: src, configFile: false, base: './', logLevel: 'silent', build: { outDir: out, emptyOutDir: true } });
}

before(async () => {
  if (skip) return;
  dir = mkdtempSync(join(tmpdir(), 'ws-bundle-'));
  const src = project();
  bundles.esbuild = join(dir, 'www', 'esbuild');
  bundles.vite = join(dir, 'www', 'vite');
  await esbuildPage(src, bundles.esbuild);
  await vitePage(src, bundles.vite);
  server = await serveStatic(join(dir, 'www'));
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await new Promise((r) => (server ? server.close(r) : r(undefined)));
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Every JavaScript file of a bundle (recursively). */
function scripts(out: string): string[] {
  return readdirSync(out, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.js')).map((f) => readFileSync(join(out, f), 'utf8'));
}

const expected = (() => {
  const ds = loadMnistSample();
  let sum = 0;
  for (const v of ds.xTest) sum += v;
  return { train: 8000, test: 2000, testPixelSum: sum, trainLabels: Array.from(ds.yTrain.subarray(0, 20)) };
})();

/** The checks of checks.js on a cross-origin isolated page: 2 worker threads, ref's numbers, Node's mnist-sample, training. */
function assertPage(r: PageResult, log: string[]): void {
  assert.equal(r.error, undefined, `page failed: ${r.error}\n${log.join('\n')}`);
  assert.ok(r.diff < 1e-4, `wasm vs ref product: relative difference ${r.diff} (tolerance 1e-4)`);
  assert.deepEqual(r.mnist, expected, 'mnist-sample by URL in the page equals loadMnistSample in Node (pixel sum exactly, labels)');
  assert.ok(r.testAccuracy > 0.8, `softmax regression after one epoch on 2,048 digits: test accuracy ${r.testAccuracy} (expected > 0.8)`);
}

for (const bundler of ['esbuild', 'vite'] as const) {
  test(`${bundler}: the bundled page reaches no node: module, runs on 2 worker threads, loads mnist-sample and trains`, { skip, timeout: 60000 }, async () => {
    for (const js of scripts(bundles[bundler])) assert.doesNotMatch(js, /["']node:[a-z_]+["']/, `${bundler} bundle mentions a node: module`);
    const { r, log } = await pageResult<PageResult>(browser, `${serverUrl(server!)}/coi/${bundler}/`);
    assertPage(r, log);
    assert.equal(r.crossOriginIsolated, true);
    assert.equal(r.threads, 2, 'cross-origin isolated: the wasm backend runs on 2 threads');
    console.log(`${bundler}: ${r.threads} threads, relaxed SIMD ${r.relaxedSimd}, test accuracy ${r.testAccuracy.toFixed(4)}`);
  });
}

test('vite: without cross-origin isolation the page runs on 1 thread and says so in one console line', { skip, timeout: 60000 }, async () => {
  const { r, log } = await pageResult<PageResult>(browser, `${serverUrl(server!)}/plain/vite/`);
  assertPage(r, log);
  assert.equal(r.threads, 1);
  assert.deepEqual(log.filter((l) => !l.startsWith('debug')), ['warning: weightshare: this page is not cross-origin isolated (COOP/COEP headers), so the wasm backend runs on 1 thread instead of 2']);
});

test('esbuild: a wrong kernelsUrl or workerUrl is an error naming the URL that failed and the option', { skip, timeout: 60000 }, async () => {
  const base = `${serverUrl(server!)}/coi/esbuild/`;
  const kernels = await pageResult<PageResult>(browser, `${base}?kernelsUrl=nowhere/`);
  assert.equal(kernels.r.error, `weightshare: cannot fetch ${base}nowhere/weightshare-relaxed.wasm (HTTP 404): kernelsUrl (nowhere/) must be the folder that serves weightshare's dist/kernels/*.wasm`);
  const worker = await pageResult<PageResult>(browser, `${base}?workerUrl=nowhere.js`);
  assert.match(worker.r.error ?? '', new RegExp(`^weightshare wasm backend: only 0 of 1 worker threads started \\(a worker failed\\): .*\\(worker ${base.replace(/[.]/g, '\\.')}nowhere\\.js; set initWasmBackend\\(\\{ workerUrl \\}\\)`));
});
