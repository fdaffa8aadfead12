// Headless Chromium for the browser tests: a static server (cross-origin isolated or not), the browser, and a page's result.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, sep } from 'node:path';
import type { Browser } from 'playwright-core';

/** Debian's chromium, which playwright-core drives (it downloads nothing). */
export const CHROMIUM = '/usr/bin/chromium';

/** Skip reason when Chromium is absent outside CI (in CI a missing Chromium fails the test). */
export const chromiumSkip: string | false = !existsSync(CHROMIUM) && !process.env.CI
  ? `${CHROMIUM} is absent (apt-get install chromium); the browser tests run in CI only`
  : false;

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8',
  '.wasm': 'application/wasm', '.json': 'application/json', '.map': 'application/json', '.gz': 'application/gzip',
};

/** Serves the folder `root` under /coi/ (with COOP/COEP: cross-origin isolated) and /plain/ (without); other paths 404. */
export function serveStatic(root: string): Promise<Server> {
  const top = root.endsWith(sep) ? root : root + sep;
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const m = /^\/(coi|plain)(\/.*)$/.exec(url.pathname);
    let file = m ? normalize(join(top, decodeURIComponent(m[2]))) : '';
    if (file.endsWith(sep)) file = join(file, 'index.html');
    if (!m || !file.startsWith(top) || !existsSync(file) || !statSync(file).isFile()) {
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

/** The base address of a server started by {@link serveStatic}, e.g. http://127.0.0.1:PORT. */
export function serverUrl(server: Server): string {
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** Starts headless Chromium. */
export async function launchChromium(): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}

/** Opens `url`, awaits the promise the page leaves in `window.weightshareResult`, and returns it with the page's console. */
export async function pageResult<T>(browser: Browser | undefined, url: string): Promise<{ r: T; log: string[] }> {
  assert.ok(browser, 'browser started');
  const page = await browser.newPage();
  const log: string[] = [];
  page.on('console', (m) => log.push(`${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => log.push(`pageerror: ${e.message}`));
  try {
    await page.goto(url);
    const r = await page.evaluate(() => (window as unknown as { weightshareResult: Promise<unknown> }).weightshareResult);
    return { r: r as T, log };
  } finally {
    await page.close();
  }
}
