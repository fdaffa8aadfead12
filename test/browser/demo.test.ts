// The demo page (npm run demo) in headless Chromium: a digit drawn by mouse and by touch, the two files compared, training, a screenshot.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { argmax } from '../../src/core/ops/index.js';
import { loadMnistSample } from '../../src/data/datasets.js';
import { loadModel } from '../../src/io/files.js';
import { buildDemo, REPO } from '../../demo/build.js';
import { demoUrl, serveDemo } from '../../demo/server.js';
import { chromiumSkip, launchChromium, serverUrl, serveStatic } from '../helpers/browser.js';

const skip = chromiumSkip || (await import('esbuild').then(() => false, () => 'esbuild is not installed (a devDependency)'));
const SCREENSHOT = join(REPO, 'dist', 'demo-screenshot.png');
const mnist = loadMnistSample();
let dir = '';
let site = '';
let server: Server | undefined;
let plain: Server | undefined;
let browser: Browser | undefined;

before(async () => {
  if (skip) return;
  dir = mkdtempSync(join(tmpdir(), 'ws-demo-'));
  site = (await buildDemo(join(dir, 'site'))).out;
  server = await serveDemo(site, { port: 0 });
  plain = await serveStatic(site);
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  for (const s of [server, plain]) await new Promise((r) => (s ? s.close(r) : r(undefined)));
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Each test digit's class by a model file, predicted in Node. */
function predictions(file: string): number[] {
  const { model } = loadModel(file);
  const probs = model.predict({ data: mnist.xTest, shape: [mnist.yTest.length, 28, 28, 1] }, { batchSize: 250 });
  const cls = argmax(probs);
  const out = Array.from(cls.data());
  cls.dispose();
  probs.dispose();
  model.dispose();
  return out;
}

/** Opens the demo at `url` and waits until it has loaded (or failed); returns the page and its console lines. */
async function open(url: string): Promise<{ page: Page; log: string[] }> {
  const page = await browser!.newPage({ viewport: { width: 1100, height: 1400 }, hasTouch: true });
  const log: string[] = [];
  page.on('console', (m) => log.push(`${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => log.push(`pageerror: ${e.message}`));
  await page.goto(url);
  await page.waitForSelector('body[data-state="ready"], body[data-state="failed"]', { timeout: 40000 });
  const state = await page.getAttribute('body', 'data-state');
  assert.equal(state, 'ready', `the demo failed: ${await page.textContent('#status')}\n${log.join('\n')}`);
  return { page, log };
}

/** The class each model shows (float32, compressed). */
async function shown(page: Page): Promise<string[]> {
  return page.$$eval('.model .predicted', (els) => els.map((e) => e.textContent ?? ''));
}

/** Draws test digit `i` by mouse: each row's runs of dark pixels (> 0.5) as strokes across the 280×280 pad (10 px a pixel). */
async function drawTestDigit(page: Page, i: number): Promise<void> {
  const box = (await page.locator('#pad').boundingBox())!;
  const px = mnist.xTest.subarray(i * 784, (i + 1) * 784);
  for (let y = 0; y < 28; y++) {
    for (let x = 0; x < 28; x++) {
      if (px[y * 28 + x] <= 0.5 || (x > 0 && px[y * 28 + x - 1] > 0.5)) continue;
      let end = x;
      while (end + 1 < 28 && px[y * 28 + end + 1] > 0.5) end++;
      await page.mouse.move(box.x + 10 * x + 5, box.y + 10 * y + 5);
      await page.mouse.down();
      await page.mouse.move(box.x + 10 * end + 5, box.y + 10 * y + 5, { steps: Math.max(1, end - x) });
      await page.mouse.up();
    }
  }
}

/** Draws a "1" by touch: one finger down the middle of the pad (Chromium's touch events, as a phone sends them). */
async function touchOne(page: Page): Promise<void> {
  const box = (await page.locator('#pad').boundingBox())!;
  const cdp = await page.context().newCDPSession(page);
  const at = (t: number): { x: number; y: number } => ({ x: box.x + 145 - 12 * t, y: box.y + 50 + 180 * t });
  await cdp.send('Input.dispatchTouchEvent', { type: 'touchStart', touchPoints: [at(0)] });
  for (let k = 1; k <= 12; k++) await cdp.send('Input.dispatchTouchEvent', { type: 'touchMove', touchPoints: [at(k / 12)] });
  await cdp.send('Input.dispatchTouchEvent', { type: 'touchEnd', touchPoints: [] });
  await cdp.detach();
}

/** Waits (≤ 5 s) until both models show a class other than `not`, and returns them. */
async function waitForPrediction(page: Page, not: string): Promise<string[]> {
  await page.waitForFunction((no) => Array.from(document.querySelectorAll('.model .predicted')).every((e) => e.textContent !== no), not, { timeout: 5000 });
  return shown(page);
}

/** The points of a polyline of the training curve, as [x, y] in SVG units (y grows downwards). */
async function curve(page: Page, series: 'loss' | 'accuracy'): Promise<number[][]> {
  const pts = await page.getAttribute(`#curve polyline[data-series="${series}"]`, 'points');
  return (pts ?? '').trim().split(/\s+/).filter(Boolean).map((p) => p.split(',').map(Number));
}

test('demo, cross-origin isolated: first prediction, digits drawn by mouse and touch, the files compared, training, screenshot', { skip, timeout: 60000 }, async () => {
  const float32 = join(REPO, 'demo', 'models', 'seed-cnn.wsm');
  const compressed = join(REPO, 'demo', 'models', 'seed-cnn-c16.wsm');
  const node = [predictions(float32), predictions(compressed)];
  const agree = node[0].filter((c, i) => c === node[1][i]).length;

  const { page, log } = await open(`${demoUrl(server!)}?threads=2`);
  // The page's marks, in ms since navigation start: backend started, models built, first prediction shown.
  const [backendMs, loadedMs, firstMs] = await page.evaluate(() => ['backend', 'loaded', 'first-prediction'].map((k) => performance.getEntriesByName(`weightshare:${k}`)[0].startTime));
  assert.match(await page.textContent('#status') ?? '', /^wasm backend on 2 threads \(cross-origin isolated/);
  // The first prediction: test digit #0, which Node's models classify so too.
  assert.deepEqual(await shown(page), [String(node[0][0]), String(node[1][0])]);

  // The files: sizes on disk, a row per layer with weights (float32: dense maps; compressed: codebook kernels), agreement as in Node.
  const sizes = await page.textContent('#file-sizes') ?? '';
  for (const f of [float32, compressed]) assert.ok(sizes.includes(`${statSync(f).size.toLocaleString('en-US')} bytes`), `${sizes} names the size of ${f}`);
  const rows = await page.$$eval('#layers tbody tr', (trs) => trs.map((tr) => Array.from(tr.querySelectorAll('td')).map((td) => td.textContent)));
  assert.deepEqual(rows.map((r) => [r[0], r[2], r[5]]), [
    ['conv2d (Conv2D)', 'dense', 'codebook+dense'], ['conv2d_1 (Conv2D)', 'dense', 'codebook+dense'],
    ['dense (Dense)', 'dense', 'codebook+dense'], ['dense_1 (Dense)', 'dense', 'codebook+dense'],
  ]);
  for (const r of rows) {
    assert.equal(r[4], '32.00', `float32 weights take 32 bits each: ${r}`);
    assert.ok(Number(r[7]) < 32 && (Number(r[1]!.replace(/,/g, '')) < 10000 || Number(r[7]) < 5), `16 centroids: 4-bit indices, float32 biases: ${r}`);
  }
  const total = await page.$$eval('#layers tfoot tr:first-child td', (tds) => tds.map((td) => td.textContent));
  assert.ok(Number(total[7]) < 5 && total[4] === '32.00', `all weights: ${total}`);
  assert.equal(await page.textContent('#agreement').then((t) => /agree on ([\d,]+) of 2,000 /.exec(t ?? '')?.[1]), agree.toLocaleString('en-US'));

  // A "1" by touch, then a real test digit drawn by mouse, pixel runs as strokes (left on the pad for the screenshot).
  await page.click('#clear');
  assert.deepEqual(await waitForPrediction(page, String(node[0][0])), ['–', '–'], 'a cleared pad predicts nothing');
  await touchOne(page);
  assert.deepEqual(await waitForPrediction(page, '–'), ['1', '1'], 'a stroke down the pad by touch is a 1');
  await page.click('#clear');
  await waitForPrediction(page, '1');
  const digit = 1;
  await drawTestDigit(page, digit);
  const drawn = await waitForPrediction(page, '–');
  assert.deepEqual(drawn, [String(mnist.yTest[digit]), String(mnist.yTest[digit])], `test digit #${digit} (a ${mnist.yTest[digit]}) drawn by mouse`);

  // Training: 10 epochs (2,500 batches) started, stopped after ≥ 8 curve points (80 batches): at ~20,000 samples/s 2 epochs end in
  // under a second, before Stop is clicked, so the run is made long enough to be stopped. The loss went down, accuracy up.
  // The panel's warm-up (throw-away batches once the page is ready) has ended by now, without a console error.
  await page.waitForSelector('#curve[data-warm="yes"]', { timeout: 30000 });
  await page.selectOption('#train-epochs', '10');
  await page.click('#train-start');
  await page.waitForFunction(() => (document.querySelector('#curve polyline[data-series="loss"]')?.getAttribute('points') ?? '').trim().split(/\s+/).length >= 8, null, { timeout: 30000, polling: 50 });
  await page.click('#train-stop');
  await page.waitForSelector('#curve[data-state="stopped"], #curve[data-state="done"], #curve[data-state="failed"]', { timeout: 10000 });
  assert.equal(await page.getAttribute('#curve', 'data-state'), 'stopped', await page.textContent('#train-status') ?? '');
  const loss = await curve(page, 'loss');
  const acc = await curve(page, 'accuracy');
  assert.ok(loss.length >= 8 && acc.length === loss.length, `${loss.length} loss points, ${acc.length} accuracy points`);
  assert.ok(loss.every((p, i) => i === 0 || p[0] > loss[i - 1][0]), 'points go right as samples are seen');
  assert.ok(loss[loss.length - 1][1] > loss[0][1] + 10, `the loss went down (SVG y grows downwards): ${loss[0][1]} → ${loss[loss.length - 1][1]}`);
  assert.ok(acc[acc.length - 1][1] < acc[0][1], `the accuracy went up: y ${acc[0][1]} → ${acc[acc.length - 1][1]}`);
  const status = await page.textContent('#train-status') ?? '';
  assert.match(status, /^Stopped after [\d,]+ samples, [\d,]+ samples\/s on 2 threads; test accuracy \d+\.\d\d %\.$/);
  const speed = Number(await page.getAttribute('#curve', 'data-samples-per-second'));

  mkdirSync(join(REPO, 'dist'), { recursive: true });
  await page.screenshot({ path: SCREENSHOT, fullPage: true });
  await page.close();
  assert.deepEqual(log.filter((l) => /^(error|warning|pageerror)/.test(l)), [], 'no errors or warnings in the console');
  console.log(`demo (isolated, 2 threads): first prediction ${firstMs.toFixed(0)} ms after navigation start (backend ${backendMs.toFixed(0)} ms, ` +
    `models built ${loadedMs.toFixed(0)} ms); models agree on ${agree} of 2,000; ` +
    `training ${Math.round(speed)} samples/s; screenshot ${SCREENSHOT}`);
});

test('demo, not cross-origin isolated: 1 thread, one console line says why', { skip, timeout: 60000 }, async () => {
  const { page, log } = await open(`${serverUrl(plain!)}/plain/?threads=2`);
  assert.match(await page.textContent('#status') ?? '', /^wasm backend on 1 thread \(not cross-origin isolated/);
  assert.match(await page.textContent('#train-status') ?? '', /on 1 thread\.$/);
  // Start clicked at once, while the panel's warm-up still runs: the warm-up stops, the run trains its whole epoch.
  await page.selectOption('#train-epochs', '1');
  await page.click('#train-start');
  await page.waitForSelector('#curve[data-state="done"], #curve[data-state="failed"]', { timeout: 30000 });
  assert.match(await page.textContent('#train-status') ?? '', /^Done after 8,000 samples, [\d,]+ samples\/s on 1 thread; test accuracy \d+\.\d\d %\.$/);
  assert.equal(await page.getAttribute('#curve', 'data-warm'), 'yes');
  assert.deepEqual(log.filter((l) => !l.startsWith('debug')), ['warning: weightshare: this page is not cross-origin isolated (COOP/COEP headers), so the wasm backend runs on 1 thread instead of 2']);
  await page.close();
});
