// Tests of the built-in datasets: IDX folders (synthetic, in a temp dir), mnist-sample, and Fashion-MNIST when installed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataError, writeIdx } from '../../src/data/idx.js';
import {
  FASHION_MNIST_CLASS_NAMES, IDX_FILES, findFashionMnistDir, loadDataset, loadIdxDataset, loadMnistSample, type ImageDataset,
} from '../../src/data/datasets.js';
import { mnistSampleOrder } from '../../src/data/mnist-sample.js';
import { checkDataset, type Dataset, limitDataset, sampleCount, splitData } from '../../src/data/dataset.js';

const root = mkdtempSync(join(tmpdir(), 'ws-ds-'));
test.after(() => rmSync(root, { recursive: true, force: true }));

interface Folder { nTrain?: number; nTrainLabels?: number; side?: number; badLabel?: [number, number]; gzip?: boolean }

/** Writes a folder of the four IDX files with synthetic content; returns its path. */
function folder(name: string, o: Folder = {}): string {
  const dir = join(root, name);
  mkdirSync(dir);
  const side = o.side ?? 28;
  const write = (base: string, shape: number[], data: Uint8Array): void => {
    writeFileSync(join(dir, base + (o.gzip ? '.gz' : '')), writeIdx({ shape, dtype: 'uint8', data }, { gzip: o.gzip }));
  };
  const images = (n: number): Uint8Array => Uint8Array.from({ length: n * side * side }, (_, i) => (i * 7) % 256);
  const labels = (n: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => i % 10);
  const nTrain = o.nTrain ?? 12;
  const yTrain = labels(o.nTrainLabels ?? nTrain);
  if (o.badLabel) yTrain[o.badLabel[0]] = o.badLabel[1];
  write(IDX_FILES.trainImages, [nTrain, side, side], images(nTrain));
  write(IDX_FILES.trainLabels, [yTrain.length], yTrain);
  write(IDX_FILES.testImages, [5, side, side], images(5));
  write(IDX_FILES.testLabels, [5], labels(5));
  return dir;
}

/** Asserts that `fn` throws a DataError whose message matches every pattern. */
function fails(fn: () => unknown, ...patterns: RegExp[]): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof DataError, `expected DataError, got ${String(e)}`);
    for (const p of patterns) assert.match(e.message, p);
    return true;
  });
}

test('finds the dotted file names many copies of MNIST use (train-images.idx3-ubyte)', () => {
  const dir = folder('dotted');
  for (const base of Object.values(IDX_FILES)) renameSync(join(dir, base), join(dir, base.replace(/-(idx\d-ubyte)$/, '.$1')));
  assert.ok(existsSync(join(dir, 't10k-labels.idx1-ubyte')));
  const ds = loadDataset('mnist', { dataDir: dir });
  assert.equal(ds.xTrain.length, 12 * 784);
  assert.deepEqual(Array.from(ds.yTest), [0, 1, 2, 3, 4]);
});

for (const gzip of [false, true]) {
  test(`loads a folder of IDX files${gzip ? ' (gzip)' : ''}: shapes, scaling, labels`, () => {
    const ds = loadDataset('mnist', { dataDir: folder(`ok${gzip ? '-gz' : ''}`, { gzip }) });
    assert.equal(ds.name, 'mnist');
    assert.equal(ds.xTrain.length, 12 * 784);
    assert.equal(ds.xTest.length, 5 * 784);
    assert.deepEqual(Array.from(ds.yTrain), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]);
    assert.deepEqual(ds.shape, [28, 28, 1]);
    assert.equal(ds.classes, 10);
    assert.equal(ds.xTrain[1], Math.fround(7 / 255));
    assert.ok(ds.xTrain.every((v) => v >= 0 && v <= 1));
  });
}

test('image/label count mismatch names the labels file and both counts', () => {
  const dir = folder('mismatch', { nTrain: 12, nTrainLabels: 11 });
  fails(() => loadIdxDataset(dir), new RegExp(`${IDX_FILES.trainLabels}: label count mismatch: expected 12 labels .*found 11`));
});

test('wrong image dimensions name the images file and the shape', () => {
  const dir = folder('dims', { side: 27 });
  fails(() => loadIdxDataset(dir), new RegExp(`${IDX_FILES.trainImages}: expected images of type uint8 and shape \\[N, 28, 28\\], found uint8 \\[12, 27, 27\\]`));
});

test('a label out of range names the file, the index and the value', () => {
  const dir = folder('label', { badLabel: [7, 10] });
  fails(() => loadIdxDataset(dir), new RegExp(`${IDX_FILES.trainLabels}: label out of range at index 7 \\(byte offset 15\\): expected 0–9, found 10`));
});

test('a missing file and an unknown dataset name are DataErrors', () => {
  const dir = join(root, 'empty');
  mkdirSync(dir);
  fails(() => loadDataset('fashion-mnist', { dataDir: dir }), /train-images-idx3-ubyte: no such file \(also tried train-images-idx3-ubyte\.gz, train-images\.idx3-ubyte, train-images\.idx3-ubyte\.gz\)/);
  fails(() => loadDataset('cifar-10'), /^cifar-10: unknown dataset: expected one of mnist-sample, mnist, fashion-mnist, idx$/);
});

test('mnistSampleOrder interleaves classes in proportion and is a permutation', () => {
  const order = mnistSampleOrder([2, 4]);
  assert.deepEqual(order, [[1, 0], [0, 0], [1, 1], [1, 2], [0, 1], [1, 3]]);
});

let sample: ImageDataset | undefined;
const mnistSample = (): ImageDataset => (sample ??= loadMnistSample());

test('mnist-sample: 8,000/2,000 split, shapes, value ranges', () => {
  const ds = loadDataset('mnist-sample');
  sample = ds;
  assert.equal(ds.name, 'mnist-sample');
  assert.equal(ds.yTrain.length, 8000);
  assert.equal(ds.yTest.length, 2000);
  assert.equal(ds.xTrain.length, 8000 * 784);
  assert.equal(ds.xTest.length, 2000 * 784);
  let min = Infinity;
  let max = -Infinity;
  for (const x of [ds.xTrain, ds.xTest]) {
    for (let i = 0; i < x.length; i++) {
      const v = x[i];
      if (v < min) min = v;
      if (v > max) max = v;
    }
  }
  assert.equal(min, 0);
  assert.equal(max, 1);
  // real digits: on average roughly 10–25 % of the pixels are ink
  const mean = ds.xTest.reduce((a, b) => a + b, 0) / ds.xTest.length;
  assert.ok(mean > 0.05 && mean < 0.3, `mean pixel ${mean}`);
});

test('mnist-sample: every class present in both splits, in proportion (≈ 20 % held out)', () => {
  const ds = mnistSample();
  const count = (y: Int32Array): number[] => {
    const c = new Array<number>(10).fill(0);
    for (const v of y) c[v]++;
    return c;
  };
  const tr = count(ds.yTrain);
  const te = count(ds.yTest);
  assert.deepEqual(te, [200, 225, 198, 206, 196, 173, 203, 214, 189, 196]);
  for (let c = 0; c < 10; c++) {
    assert.ok(tr[c] > 600 && te[c] > 150, `class ${c}: ${tr[c]} train, ${te[c]} test`);
    assert.ok(Math.abs(te[c] / (tr[c] + te[c]) - 0.2) < 0.002, `class ${c}`);
  }
  // the first 10 training labels interleave classes rather than starting with a run of zeros
  assert.ok(new Set(ds.yTrain.subarray(0, 10)).size >= 8);
});

test('mnist-sample: the split is deterministic (same bytes on a second load)', () => {
  const a = mnistSample();
  const b = loadMnistSample();
  assert.deepEqual(b.yTrain, a.yTrain);
  assert.deepEqual(b.yTest, a.yTest);
  assert.ok(Buffer.from(b.xTrain.buffer).equals(Buffer.from(a.xTrain.buffer)));
  assert.ok(Buffer.from(b.xTest.buffer).equals(Buffer.from(a.xTest.buffer)));
});

const fashionDir = findFashionMnistDir();
test('fashion-mnist: found automatically and loads 60,000/10,000 balanced images', { skip: fashionDir ? false : 'Fashion-MNIST not installed (apt-get install dataset-fashion-mnist)' }, () => {
  const ds = loadDataset('fashion-mnist');
  assert.equal(ds.yTrain.length, 60000);
  assert.equal(ds.yTest.length, 10000);
  assert.equal(ds.xTrain.length, 60000 * 784);
  assert.deepEqual(ds.classNames, FASHION_MNIST_CLASS_NAMES);
  const perClass = new Array<number>(10).fill(0);
  for (const v of ds.yTest) perClass[v]++;
  assert.deepEqual(perClass, new Array(10).fill(1000));
  assert.deepEqual(Array.from(ds.yTrain.subarray(0, 10)), [9, 0, 0, 3, 0, 2, 7, 2, 5, 5]);
});

test("'idx': a folder of IDX images of any size; shape and classes come from the files; mnist still insists on 28×28", () => {
  const dir = folder('side8', { side: 8 });
  const ds = loadDataset('idx', { dataDir: dir });
  assert.deepEqual([ds.name, ds.shape, ds.classes], ['side8', [8, 8, 1], 10]);
  assert.equal(ds.xTrain.length, 12 * 64);
  assert.equal(ds.xTrain[1], Math.fround(7 / 255));
  assert.deepEqual(splitData(ds, 'test').x.shape, [5, 8, 8, 1]);
  fails(() => loadDataset('mnist', { dataDir: dir }), /expected images of type uint8 and shape \[N, 28, 28\], found uint8 \[12, 8, 8\]/);
  fails(() => loadDataset('idx'), /^idx: needs a folder/);
  const few = loadIdxDataset(folder('side3', { side: 3, nTrain: 4 }), { shape: undefined, classes: undefined });
  assert.equal(few.classes, 5, '1 + the largest label (train 0–3, test 0–4)');
});

/** A token dataset: int32 inputs [N, T] and per-position int32 targets [N, T]. */
const tokens = (): Dataset<Int32Array, Int32Array> => ({
  name: 'tokens', shape: [3], targetShape: [3], classes: 4,
  xTrain: Int32Array.from([1, 2, 3, 2, 3, 0, 3, 1, 1, 0, 0, 2]), yTrain: Int32Array.from([2, 3, 0, 3, 0, 0, 1, 1, 2, 0, 2, 3]),
  xTest: Int32Array.from([1, 1, 1]), yTest: Int32Array.from([1, 1, 1]),
});

test('a generic Dataset: int32 token inputs and per-position targets; counts, limits and the form fit takes', () => {
  const ds = checkDataset(tokens());
  assert.equal(sampleCount(ds, 'train'), 4);
  const lim = limitDataset(ds, 2, 1);
  assert.deepEqual([sampleCount(lim, 'train'), sampleCount(lim, 'test')], [2, 1]);
  assert.deepEqual(Array.from(lim.xTrain), [1, 2, 3, 2, 3, 0]);
  const { x, y } = splitData(lim, 'train');
  assert.ok(x.data instanceof Int32Array);
  assert.deepEqual([x.shape, y.shape], [[2, 3], [2, 3]]);
  // Float regression targets, one value per sample, no classes.
  const reg: Dataset = { name: 'reg', shape: [2], xTrain: new Float32Array(6), yTrain: new Float32Array(3), xTest: new Float32Array(2), yTest: new Float32Array(1) };
  assert.deepEqual(splitData(checkDataset(reg), 'train').y.shape, [3]);
});

test('checkDataset: rows that do not match, targets outside the classes, too few class names', () => {
  fails(() => checkDataset({ ...tokens(), xTrain: new Int32Array(11) }), /^tokens: train split: 11 input values are not 4 rows of shape \[3\]/);
  fails(() => checkDataset({ ...tokens(), yTest: Int32Array.from([1, 4, 1]) }), /^tokens: test target 1 is 4, outside the 4 classes \[0, 4\)/);
  fails(() => checkDataset({ ...tokens(), classNames: ['a', 'b'] }), /2 class names for 4 classes/);
  fails(() => checkDataset({ ...tokens(), shape: [0] }), /sample shape must hold positive integers/);
});
