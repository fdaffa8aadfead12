// Headless Chromium for the browser tests: a static server (cross-origin isolated or not), the browser, and a page's result.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { sendFile } from '../../demo/server.js';

/** Debian's chromium, which playwright-core drives (it downloads nothing). */
export const CHROMIUM = '/usr/bin/chromium';

/** Skip reason when Chromium is absent outside CI (in CI a missing Chromium fails the test). */
export const chromiumSkip: string | false = !existsSync(CHROMIUM) && !process.env.CI
  ? `${CHROMIUM} is absent (apt-get install chromium); the browser tests run in CI only`
  : false;

/** Serves the folder `root` under /coi/ (with COOP/COEP: cross-origin isolated) and /plain/ (without); other paths 404. */
export function serveStatic(root: string): Promise<Server> {
  const server = createServer((req, res) => {
    const m = /^\/(coi|plain)(\/.*)$/.exec(new URL(req.url ?? '/', 'http://x').pathname);
    if (m) sendFile(root, m[2], res, m[1] === 'coi');
    else res.writeHead(404).end('not found');
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

/** The base address of a server started by {@link serveStatic}, e.g. http://127.0.0.1:PORT. */
export function serverUrl(server: Server): string {
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/**
 * Starts headless Chromium. Without the disabled features, Chromium 156 loads its own top-chrome WebUI (the omnibox
 * popup, its "AI mode" variant: ~150 JavaScript modules in a second renderer) in every new window while the page loads,
 * which holds a core of a 2-core machine; a user's browser has its UI up before a page starts. The names changed across
 * versions: 156 needs WebUIOmniboxAimPopup and WebUIOmniboxFullPopup besides the older ones.
 */
export async function launchChromium(): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run',
      '--disable-features=PreloadTopChromeWebUI,WebUIOmniboxPopup,WebUIOmniboxAimPopup,WebUIOmniboxFullPopup,WebUIToolbar,WebUILocationBar,WebUIReloadButton,InitialWebUI'],
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
