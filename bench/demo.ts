// `npm run bench:demo`: the demo page's training panel in headless Chromium beside the same run in Node (samples/s, same
// thread count, same code: demo/train-loop.ts), and the page's time from navigation start to its first prediction.
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { initWasmBackend } from '../src/backend/wasm/wasm.js';
import { setBackend } from '../src/core/engine.js';
import { loadMnistSample } from '../src/data/datasets.js';
import { buildDemo } from '../demo/build.js';
import { demoUrl, serveDemo } from '../demo/server.js';
import { DEFAULT_SETTINGS, TrainingRun } from '../demo/train-loop.js';
import { launchChromium } from '../test/helpers/browser.js';
import { machine, writeSection } from './util.js';

const { values } = parseArgs({ options: { threads: { type: 'string', default: '2' }, runs: { type: 'string', default: '3' } } });
const threads = Number(values.threads);
const runs = Number(values.runs);
const settings = { ...DEFAULT_SETTINGS, epochs: 1 };

const median = (v: number[]): number => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];

/**
 * `runs` rounds, each a load of the demo in Chromium (cross-origin isolated, ?threads=N: its first-prediction time, then
 * one epoch by the panel) and then one epoch of the same code in Node on the wasm backend with N threads; alternating
 * the two, so that both meet the same load on a shared machine.
 */
async function rounds(): Promise<{ node: number[]; browser: number[]; first: number[]; threads: number[] }> {
  await initWasmBackend({ threads });
  setBackend('wasm');
  const ds = loadMnistSample();
  const dir = mkdtempSync(join(tmpdir(), 'ws-bench-demo-'));
  const server = await serveDemo((await buildDemo(join(dir, 'site'))).out, { port: 0 });
  const browser = await launchChromium();
  const out = { node: [] as number[], browser: [] as number[], first: [] as number[], threads: [] as number[] };
  try {
    for (let r = 0; r < runs; r++) {
      const page = await browser.newPage();
      await page.goto(`${demoUrl(server)}?threads=${threads}`);
      await page.waitForSelector('body[data-state="ready"]', { timeout: 60000 });
      out.first.push(await page.evaluate(() => performance.getEntriesByName('weightshare:first-prediction')[0].startTime));
      out.threads.push(Number(/on (\d+) threads?/.exec(await page.textContent('#status') ?? '')?.[1]));
      // As a user meets it: the panel warms its training path up once the page is ready (a few hundred ms).
      await page.waitForSelector('#curve[data-warm="yes"]', { timeout: 60000 });
      await page.selectOption('#train-epochs', '1');
      await page.click('#train-start');
      await page.waitForSelector('#curve[data-state="done"]', { timeout: 120000 });
      out.browser.push(Number(await page.getAttribute('#curve', 'data-samples-per-second')));
      await page.close();
      out.node.push((await new TrainingRun(settings).run(ds)).samplesPerSecond);
    }
  } finally {
    await browser.close();
    server.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return out;
}

const load = loadavg()[0];
const { node: n, browser: b, first, threads: used } = await rounds();
if (used.some((t) => t !== threads)) throw new Error(`the page ran on ${used.join(', ')} threads, not ${threads}`);
const best = (v: number[]): number => Math.max(...v);
const m = machine();
const body = `## Demo page: \`npm run bench:demo\`

The demo's "train in your browser" panel (\`${settings.model}\` 784-200-200-10, Adam ${settings.learningRate}, batch ${settings.batchSize}, one epoch of
mnist-sample's 8,000 digits; samples/s between the first curve point and the last, i.e. after 10 batches of warm-up) in
headless Chromium (cross-origin isolated, \`?threads=${threads}\`; Start clicked once the panel has warmed its training path up
after the page became ready, as a user meets it), beside the same code (\`demo/train-loop.ts\`) in Node on the
same thread count (one process: its first round cold, the others warm); and the page's first prediction (navigation start to the first test digit's two predictions shown).
${runs} alternating rounds, ${new Date().toISOString().slice(0, 10)}, ${m.nproc} cores (${m.cpu}), Node ${m.node}, load average ${load.toFixed(1)} at the start.

| samples/s | best | median | all runs |
|---|---:|---:|---|
| Node, ${threads} threads (main + ${threads - 1} worker_threads) | ${Math.round(best(n)).toLocaleString('en-US')} | ${Math.round(median(n)).toLocaleString('en-US')} | ${n.map((v) => Math.round(v)).join(', ')} |
| Chromium, ${threads} threads (page + ${threads - 1} Web Workers) | ${Math.round(best(b)).toLocaleString('en-US')} | ${Math.round(median(b)).toLocaleString('en-US')} | ${b.map((v) => Math.round(v)).join(', ')} |
| Chromium / Node | **${(100 * best(b) / best(n)).toFixed(0)} %** | ${(100 * median(b) / median(n)).toFixed(0)} % | |

First prediction: median **${Math.round(median(first))} ms** after navigation start, best ${Math.round(Math.min(...first))} ms (${first.map((v) => Math.round(v)).join(', ')} ms over ${runs} page loads).
`;
console.log(body);
console.log(`written to ${writeSection('bench:demo', body)}`);
