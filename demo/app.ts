// The demo page: draw a digit for the reference CNN and its compressed file side by side; compare the files; train in the browser.
import * as ws from 'weightshare';
import { agreement, argmaxRows, classify, fetchBytes, fetchModelFile, formatBytes, loadModelFile, type ModelFile, renderLayerTable } from './compare.js';
import { DrawingPad } from './pad.js';
import { TrainPanel } from './train-panel.js';

/** The two files shown side by side (made by scripts/make-demo-models.mjs). */
const MODELS = [
  { url: 'models/seed-cnn.wsm', title: 'float32 (seed-cnn.wsm)', id: 'float' },
  { url: 'models/seed-cnn-c16.wsm', title: '16 clusters per kernel (seed-cnn-c16.wsm)', id: 'compressed' },
] as const;

const $ = <T extends Element = HTMLElement>(id: string): T => {
  const e = document.getElementById(id);
  if (!e) throw new Error(`the page has no #${id}`);
  return e as unknown as T;
};

/** A row of ten probability bars under a model's title; `show` fills them (null: nothing to predict). */
function probabilityBars(box: HTMLElement): (probs: Float32Array | null) => void {
  const bars = Array.from({ length: 10 }, (_, c) => {
    const row = document.createElement('div');
    row.className = 'bar';
    row.innerHTML = `<span class="digit">${c}</span><span class="track"><span class="fill"></span></span><span class="p"></span>`;
    box.querySelector('.bars')!.append(row);
    return row;
  });
  const predicted = box.querySelector<HTMLElement>('.predicted')!;
  return (probs) => {
    const best = probs ? argmaxRows(probs, 10)[0] : -1;
    predicted.textContent = probs ? String(best) : '–';
    predicted.dataset.class = probs ? String(best) : '';
    bars.forEach((row, c) => {
      const p = probs ? probs[c] : 0;
      row.querySelector<HTMLElement>('.fill')!.style.width = `${(100 * p).toFixed(1)}%`;
      row.querySelector('.p')!.textContent = probs ? `${(100 * p).toFixed(1)} %` : '';
      row.classList.toggle('best', c === best);
    });
  };
}

/** Shows what the models see (the 28×28 input) on the small canvas. */
function showInput(canvas: HTMLCanvasElement, x: Float32Array | null): void {
  const img = new ImageData(28, 28);
  for (let i = 0; i < 784; i++) {
    const v = x ? Math.round(255 * x[i]) : 0;
    img.data.set([v, v, v, 255], 4 * i);
  }
  canvas.getContext('2d')!.putImageData(img, 0, 0);
}

function setStatus(text: string, cls = ''): void {
  const s = $('status');
  s.textContent = text;
  s.className = cls;
}

/** The first `n` bytes of gzip data inflated (fewer when it holds fewer), without inflating the rest. */
async function gunzipHead(gz: Uint8Array, n: number): Promise<Uint8Array> {
  // Fed 4 KiB at a time as the inflater asks for more: only the start of the file is inflated.
  let at = 0;
  const source = new ReadableStream<Uint8Array<ArrayBuffer>>({
    pull(c) {
      if (at >= gz.length) c.close();
      else c.enqueue(gz.slice(at, (at += 4096)) as Uint8Array<ArrayBuffer>);
    },
  }, { highWaterMark: 0 });
  const reader = source.pipeThrough(new DecompressionStream('gzip')).getReader();
  const out = new Uint8Array(n);
  let have = 0;
  try {
    while (have < n) {
      const { done, value } = await reader.read();
      if (done) break;
      out.set(value.subarray(0, n - have), have);
      have += Math.min(value.length, n - have);
    }
  } finally {
    reader.cancel().catch(() => undefined);
  }
  return out.subarray(0, have);
}

/** A test digit's pixels (as mnist-sample reads them: bytes through its value table) and its label. */
interface Digit {
  x: Float32Array;
  label: number;
}

/**
 * Test digit #0 from the heads of the gzip IDX files (16 + 784 and 8 + 1 bytes inflated), for a first prediction
 * before the 10,000 test digits are inflated; undefined when the heads are not 28×28 digits and a label (the full
 * decode then reports what is wrong).
 */
async function firstDigit(images: Promise<Uint8Array>, labels: Promise<Uint8Array>): Promise<Digit | undefined> {
  const [im, lb] = await Promise.all([images.then((b) => gunzipHead(b, 16 + 784)), labels.then((b) => gunzipHead(b, 9))]);
  const u32 = (b: Uint8Array, at: number): number => new DataView(b.buffer, b.byteOffset).getUint32(at, false);
  if (im.length < 800 || lb.length < 9 || u32(im, 0) !== 0x803 || u32(im, 8) !== 28 || u32(im, 12) !== 28 || u32(lb, 0) !== 0x801) return undefined;
  return { x: Float32Array.from(im.subarray(16, 800), (k) => ws.MNIST_SAMPLE_PIXELS[k]), label: lb[8] };
}

/**
 * mnist-sample's files (gzip IDX) under `base`: the test files requested at once (test digit #0 read from their
 * heads as soon as they arrive, then all of them decoded), the training files when `train()` is called (after the
 * first prediction, so that they do not compete with it).
 */
function mnistFiles(base: string): { first: Promise<Digit | undefined>; test: Promise<[ws.IdxArray, ws.IdxArray]>; train: () => Promise<[ws.IdxArray, ws.IdxArray]> } {
  const f = ws.MNIST_SAMPLE_FILES;
  const url = (name: string): string => new URL(base + name, location.href).href;
  const decode = async (name: string, gz: Promise<Uint8Array>): Promise<ws.IdxArray> => ws.decodeIdx(await ws.gunzipBytes(await gz, url(name)), url(name));
  const testGz = [f.testImages, f.testLabels].map((name) => fetchBytes(url(name)));
  const first = firstDigit(testGz[0], testGz[1]).catch(() => undefined);
  return {
    first,
    // After the heads: the first digit comes before the bulk of the inflating.
    test: first.then(() => Promise.all([decode(f.testImages, testGz[0]), decode(f.testLabels, testGz[1])])),
    train: () => Promise.all([decode(f.trainImages, fetchBytes(url(f.trainImages))), decode(f.trainLabels, fetchBytes(url(f.trainLabels)))]),
  };
}

async function main(): Promise<void> {
  performance.mark('weightshare:start');
  const q = new URLSearchParams(location.search);
  const threads = Number(q.get('threads')) || navigator.hardwareConcurrency || 1;
  document.body.dataset.state = 'loading';
  // Everything is requested at once and decoded as it arrives, while the backend starts; the first prediction waits only
  // for the backend, the two models and the test digits.
  const fetched = MODELS.map((m) => fetchModelFile(m.url));
  const mnist = mnistFiles('mnist-sample/');
  for (const p of [...fetched, mnist.test]) p.catch(() => undefined); // reported where awaited, below
  // The first prediction needs no worker thread: the backend is ready once the page's thread is, and the workers join.
  const backend = await ws.initWasmBackend({ threads, kernelsUrl: 'kernels/', workerUrl: 'worker.js', waitForWorkers: false });
  ws.setBackend('wasm');
  performance.mark('weightshare:backend');
  const isolated = globalThis.crossOriginIsolated === true;
  const where = `wasm backend on ${backend.threads} thread${backend.threads === 1 ? '' : 's'}` +
    (isolated ? ' (cross-origin isolated: Web Workers share its memory)' : ' (not cross-origin isolated: no worker threads, see the console)') +
    `${backend.relaxedSimd ? ', relaxed SIMD' : ''}`;
  setStatus(`${where}. Loading the models and mnist-sample…`);
  const a = loadModelFile(await fetched[0]);
  const b = loadModelFile(await fetched[1]);
  const files: [ModelFile, ModelFile] = [a, b];
  performance.mark('weightshare:loaded');

  const shows = MODELS.map((m) => probabilityBars($(`model-${m.id}`)));
  const inputCanvas = $<HTMLCanvasElement>('input28');
  const caption = $('pad-caption');
  const predict = (x: Float32Array | null): void => {
    showInput(inputCanvas, x);
    files.forEach((f, i) => shows[i](x ? classify(f.model, x, 1) : null));
  };
  const pad = new DrawingPad($<HTMLCanvasElement>('pad'), (x) => {
    predict(x);
    if (!x) caption.textContent = 'Draw a digit (mouse, pen or finger).';
  });
  let shown = 0;
  const show = (i: number, d: Digit): Float32Array => {
    shown = i;
    pad.showDigit(d.x);
    caption.textContent = `Test digit #${i} of mnist-sample (label ${d.label}); draw over it or clear.`;
    return d.x;
  };
  $('clear').addEventListener('click', () => pad.clear());
  $('pad').addEventListener('pointerdown', () => { caption.textContent = 'Your drawing, brought to MNIST\'s form (box 20×20, centre of mass centred).'; });

  // The first prediction: test digit #0, as soon as the models and the heads of the test files are in.
  const digit0 = await mnist.first;
  const shownFirst = (): number => performance.mark('weightshare:first-prediction').startTime;
  let first = digit0 ? (predict(show(0, digit0)), shownFirst()) : 0;
  const [testImages, testLabels] = await mnist.test;
  // Test digit i as mnist-sample reads it (pixel bytes through its value table), so exactly what the models were tested on.
  const showTest = (i: number): Float32Array => show(i, {
    x: Float32Array.from(testImages.data.subarray(i * 784, (i + 1) * 784), (k) => ws.MNIST_SAMPLE_PIXELS[k]), label: testLabels.data[i],
  });
  if (!digit0) first = (predict(showTest(0)), shownFirst());
  $('sample').addEventListener('click', () => showTest((shown + 1) % testLabels.data.length));
  document.body.dataset.state = 'predicting';
  setStatus(`${where}. Loading mnist-sample's training digits…`);
  const [trainImages, trainLabels] = await mnist.train();
  const ds = ws.mnistSampleFromIdx({ trainImages, trainLabels, testImages, testLabels }, 'mnist-sample/');
  setStatus(`${where}.`);

  $('file-sizes').textContent = `${MODELS[0].url.slice(7)}: ${a.bytes.toLocaleString('en-US')} bytes (${formatBytes(a.bytes)}) · ` +
    `${MODELS[1].url.slice(7)}: ${b.bytes.toLocaleString('en-US')} bytes (${formatBytes(b.bytes)}), ${(a.bytes / b.bytes).toFixed(1)}× smaller`;
  renderLayerTable($<HTMLTableElement>('layers'), files, [MODELS[0].title, MODELS[1].title]);

  const agreeLine = $('agreement');
  const r = await agreement(a.model, b.model, ds, (done) => { agreeLine.textContent = `Comparing predictions on the test set… ${done.toLocaleString('en-US')} of ${ds.yTest.length.toLocaleString('en-US')}`; });
  const pct = (k: number): string => `${((100 * k) / r.samples).toFixed(2)} %`;
  agreeLine.textContent = `The two models agree on ${r.agree.toLocaleString('en-US')} of ${r.samples.toLocaleString('en-US')} mnist-sample test digits ` +
    `(test accuracy: float32 ${pct(r.correct[0])}, compressed ${pct(r.correct[1])}; ${Math.round(r.ms)} ms for both).`;
  agreeLine.dataset.agree = String(r.agree);
  const differ = $('differ');
  differ.replaceChildren(...(r.differ.length ? [document.createTextNode('They differ on test digits ')] : []), ...r.differ.slice(0, 20).flatMap((i, k) => {
    const btn = document.createElement('button');
    btn.className = 'link';
    btn.textContent = `#${i}`;
    btn.addEventListener('click', () => showTest(i));
    return k ? [document.createTextNode(' '), btn] : [btn];
  }), ...(r.differ.length ? [document.createTextNode(r.differ.length > 20 ? ' … (click one to see it)' : ' (click one to see it)')] : []));

  const panel = new TrainPanel({
    start: $<HTMLButtonElement>('train-start'), stop: $<HTMLButtonElement>('train-stop'), epochs: $<HTMLSelectElement>('train-epochs'),
    curve: $<SVGSVGElement>('curve'), status: $('train-status'), epochsLog: $('train-epochs-log'),
  }, ds, backend.threads);
  $('timing').textContent = `First prediction ${Math.round(first)} ms after the page started loading.`;
  document.body.dataset.state = 'ready';
  void panel.warmUp();
}

main().catch((e: unknown) => {
  setStatus(`The demo failed: ${(e as Error).message ?? e}`, 'error');
  document.body.dataset.state = 'failed';
  console.error(e);
});
