// Tests of the IDX reader/writer: round trips (raw and gzip, every dtype) and every error path.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { DataError, readIdx, writeIdx, type IdxArray, type IdxDType } from '../../src/data/idx.js';

const dir = mkdtempSync(join(tmpdir(), 'ws-idx-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

const samples: Record<IdxDType, IdxArray> = {
  uint8: { shape: [2, 3, 2], dtype: 'uint8', data: Uint8Array.from([0, 1, 2, 127, 128, 255, 9, 8, 7, 6, 5, 4]) },
  int8: { shape: [4], dtype: 'int8', data: Int8Array.from([-128, -1, 0, 127]) },
  int16: { shape: [2, 2], dtype: 'int16', data: Int16Array.from([-32768, -2, 258, 32767]) },
  int32: { shape: [3], dtype: 'int32', data: Int32Array.from([-2147483648, 16909060, 2147483647]) },
  float32: { shape: [1, 3], dtype: 'float32', data: Float32Array.from([-1.5, 0.1, 3e38]) },
  float64: { shape: [2], dtype: 'float64', data: Float64Array.from([Math.PI, -1e-300]) },
};

for (const [dtype, arr] of Object.entries(samples)) {
  for (const gzip of [false, true]) {
    test(`IDX round trip through a file: ${dtype}${gzip ? ' (gzip)' : ''}`, () => {
      const path = join(dir, `${dtype}${gzip ? '.gz' : ''}`);
      writeFileSync(path, writeIdx(arr, { gzip }));
      const back = readIdx(path);
      assert.deepEqual(back.shape, arr.shape);
      assert.equal(back.dtype, arr.dtype);
      assert.equal(back.data.constructor, arr.data.constructor);
      assert.deepEqual(Array.from(back.data), Array.from(arr.data));
    });
  }
}

test('IDX header is big-endian with the standard magic numbers', () => {
  const images = writeIdx({ shape: [1, 28, 28], dtype: 'uint8', data: new Uint8Array(784) });
  assert.deepEqual(Array.from(images.subarray(0, 16)), [0, 0, 8, 3, 0, 0, 0, 1, 0, 0, 0, 28, 0, 0, 0, 28]);
  const labels = writeIdx({ shape: [258], dtype: 'uint8', data: new Uint8Array(258) });
  assert.deepEqual(Array.from(labels.subarray(0, 8)), [0, 0, 8, 1, 0, 0, 1, 2]);
  const ints = writeIdx({ shape: [1], dtype: 'int32', data: Int32Array.from([0x01020304]) });
  assert.deepEqual(Array.from(ints.subarray(8)), [1, 2, 3, 4]);
});

/** Asserts that reading `bytes` throws a DataError whose message matches every pattern. */
function fails(bytes: Uint8Array, name: string, ...patterns: RegExp[]): void {
  assert.throws(() => readIdx(bytes, { name }), (e: unknown) => {
    assert.ok(e instanceof DataError, `expected DataError, got ${String(e)}`);
    assert.ok(e.message.startsWith(`${name}: `), e.message);
    for (const p of patterns) assert.match(e.message, p);
    return true;
  });
}

test('bad magic number names the offset and both values', () => {
  const b = writeIdx(samples.uint8);
  b[0] = 0x12;
  fails(b, 'bad.idx', /bad magic number at byte offset 0/, /expected 0x0000TTRR/, /found 0x12000803/);
});

test('unknown type code is rejected', () => {
  const b = writeIdx(samples.uint8);
  b[2] = 0x0a;
  fails(b, 'type.idx', /unknown type code at byte offset 2/, /found 0x0a/);
});

test('rank 0 and a truncated header are rejected', () => {
  fails(Uint8Array.from([0, 0, 8, 0]), 'rank.idx', /bad rank at byte offset 3/);
  fails(Uint8Array.from([0, 0]), 'short.idx', /truncated header at byte offset 2/);
  fails(Uint8Array.from([0, 0, 8, 3, 0, 0, 0, 1, 0, 0]), 'hdr.idx', /truncated header/, /expected 16 header bytes for rank 3, found 10/);
});

test('truncated data names the offset, the expected and the found byte counts', () => {
  // the header of the MNIST training images (60000 × 28 × 28 ubyte) followed by only 1000 bytes of pixels
  const cut = new Uint8Array(16 + 1000);
  cut.set([0, 0, 8, 3, 0, 0, 0xea, 0x60, 0, 0, 0, 28, 0, 0, 0, 28]);
  fails(cut, 'train-images-idx3-ubyte', /truncated at byte offset 16\+1000: expected 47040000 bytes of data/, /found 1000$/);
  // the same through a gzipped file on disk: the message names the file path
  const path = join(dir, 'train-images-idx3-ubyte.gz');
  writeFileSync(path, gzipSync(cut));
  assert.throws(() => readIdx(path), (e: unknown) => e instanceof DataError && e.message.startsWith(`${path}: truncated at byte offset 16+1000`));
  // multi-byte types count bytes, not elements
  fails(writeIdx(samples.float64).subarray(0, 8 + 12), 'f64', /truncated at byte offset 8\+12: expected 16 bytes of data/);
});

test('trailing bytes after the data are rejected', () => {
  const b = writeIdx(samples.int8);
  const longer = new Uint8Array(b.length + 3);
  longer.set(b);
  fails(longer, 'long.idx', /unexpected trailing data at byte offset 8\+4: expected 4 bytes of data/, /found 7/);
});

test('corrupt gzip and missing files are DataErrors naming the file', () => {
  const gz = new Uint8Array(gzipSync(writeIdx(samples.uint8)));
  fails(gz.subarray(0, 12), 'broken.gz', /corrupt gzip data/);
  const missing = join(dir, 'nope-idx1-ubyte');
  assert.throws(() => readIdx(missing), (e: unknown) => e instanceof DataError && e.message === `${missing}: no such file`);
});

test('writeIdx rejects a shape that does not match the data', () => {
  assert.throws(() => writeIdx({ shape: [2, 2], dtype: 'uint8', data: new Uint8Array(3) }), DataError);
});

test('gzip bombs: inflation stops at the size the IDX header promises; a header promising more than gzip can hold is refused first', async () => {
  const { failsWithDataError } = await import('../helpers/data-error.js');
  const { measurePeak } = await import('../helpers/memory.js');
  // Issue 15: a 2.1 MB gzip file whose header says 10 images inflated to 4.2 GB. Here: 10 images, then 192 MiB of zeros,
  // so that inflating it all would raise the peak by 192 MiB, far above the bound below (which leaves room for the
  // allocator's and the garbage collector's noise on a loaded machine: 32 MiB was reached there).
  const header = writeIdx({ shape: [10, 28, 28], dtype: 'uint8', data: new Uint8Array(7840) });
  const body = new Uint8Array(192 * 2 ** 20);
  body.set(header);
  const bomb = gzipSync(body, { level: 9 });
  const r = measurePeak(() => readIdx(bomb, { name: 'bomb.gz' }));
  failsWithDataError(() => { throw r.error; }, /^bomb\.gz: gzip data inflates to more than the 7856 bytes its header promises \(shape \[10, 28, 28\] uint8\); stopped there$/);
  assert.ok(r.peakRise < 96 * 2 ** 20, `peak RSS rose by ${(r.peakRise / 2 ** 20).toFixed(0)} MiB (bound 96 MiB)`);
  // A header promising 2 GiB in a 20 KiB file: inflation stops at what deflate can give (1032:1) and the file is truncated.
  const noise = Uint8Array.from({ length: 20000 }, (_, i) => (Math.imul(i, 2654435761) >>> 24));
  const big = gzipSync(Uint8Array.from([0, 0, 8, 1, 0x80, 0, 0, 0, ...noise]), { level: 0 });
  failsWithDataError(() => readIdx(big, { name: 'big.gz' }), /^big\.gz: truncated at byte offset 8\+20000: expected 2147483648 bytes of data for shape \[2147483648\] uint8, found 20000$/);
  // An honest gzip file still reads (guards the cases above).
  assert.deepEqual(readIdx(gzipSync(header)).shape, [10, 28, 28]);
});
