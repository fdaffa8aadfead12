// Tests of the PNG codec: round trips, hand-filtered rows, palette/tRNS, low and 16-bit depths, Adam7, errors, 28×28 conversion.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { DataError } from '../../src/data/idx.js';
import { crc32, PNG_SIGNATURE, pngChunk, readPng, resizeArea, toGrayscale28, writePng, type PngImage } from '../../src/data/png.js';

const dir = mkdtempSync(join(tmpdir(), 'ws-png-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

/** Deterministic pseudo-random bytes (LCG) so failures reproduce. */
function bytes(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s >>> 24;
  }
  return out;
}

function ihdr(width: number, height: number, depth: number, colour: number, interlace = 0): Uint8Array {
  const d = new Uint8Array(13);
  const v = new DataView(d.buffer);
  v.setUint32(0, width, false);
  v.setUint32(4, height, false);
  d.set([depth, colour, 0, 0, interlace], 8);
  return d;
}

/** Assembles a PNG from an IHDR, the already-filtered scanlines and optional chunks placed before IDAT. */
function buildPng(header: Uint8Array, filtered: Uint8Array, extra: Array<[string, Uint8Array]> = []): Uint8Array {
  const parts = [PNG_SIGNATURE, pngChunk('IHDR', header), ...extra.map(([t, d]) => pngChunk(t, d)),
    pngChunk('IDAT', deflateSync(filtered)), pngChunk('IEND', new Uint8Array(0))];
  return Uint8Array.from(Buffer.concat(parts));
}

/** Independent reference filter (PNG spec §9) used to build test inputs. */
function filterRows(raw: Uint8Array, stride: number, bpp: number, types: number[]): Uint8Array {
  const rows = raw.length / stride;
  const out = new Uint8Array(rows * (stride + 1));
  for (let y = 0; y < rows; y++) {
    const t = types[y % types.length];
    out[y * (stride + 1)] = t;
    for (let i = 0; i < stride; i++) {
      const x = raw[y * stride + i];
      const a = i >= bpp ? raw[y * stride + i - bpp] : 0;
      const b = y > 0 ? raw[(y - 1) * stride + i] : 0;
      const c = y > 0 && i >= bpp ? raw[(y - 1) * stride + i - bpp] : 0;
      let pred = 0;
      if (t === 1) pred = a;
      else if (t === 2) pred = b;
      else if (t === 3) pred = Math.floor((a + b) / 2);
      else if (t === 4) {
        const p = a + b - c, pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
        pred = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      }
      out[y * (stride + 1) + 1 + i] = (x - pred + 256) % 256;
    }
  }
  return out;
}

/** Rewrites one byte of a chunk's data and fixes up its CRC, to build files with bad IHDR fields. */
function patchChunk(png: Uint8Array, chunkOffset: number, dataIndex: number, value: number): Uint8Array {
  const out = png.slice();
  const view = new DataView(out.buffer);
  const len = view.getUint32(chunkOffset, false);
  out[chunkOffset + 8 + dataIndex] = value;
  view.setUint32(chunkOffset + 8 + len, crc32(out.subarray(chunkOffset + 4, chunkOffset + 8 + len)), false);
  return out;
}

test('crc32 matches the standard check value', () => {
  assert.equal(crc32(new TextEncoder().encode('123456789')), 0xcbf43926);
  assert.equal(crc32(new Uint8Array(0)), 0);
});

for (const channels of [1, 2, 3, 4] as const) {
  for (const filter of ['best', 'none'] as const) {
    test(`round trip writePng → readPng: ${channels} channel(s), filter ${filter}`, () => {
      const img: PngImage = { width: 7, height: 5, channels, data: bytes(7 * 5 * channels, channels) };
      const back = readPng(writePng(img, { filter }));
      assert.deepEqual(back, { ...img, data: back.data });
      assert.deepEqual(Array.from(back.data), Array.from(img.data));
    });
  }
}

test('round trip through a file, with a smooth image that the best filter compresses', () => {
  const w = 64, h = 48;
  const data = new Uint8Array(w * h * 3).map((_, i) => (Math.floor(i / 3) % w) * 3 + (i % 3) * 20);
  const path = join(dir, 'grad.png');
  writeFileSync(path, writePng({ width: w, height: h, channels: 3, data }));
  assert.deepEqual(Array.from(readPng(path).data), Array.from(data));
  assert.ok(writePng({ width: w, height: h, channels: 3, data }).length < writePng({ width: w, height: h, channels: 3, data }, { filter: 'none' }).length);
});

for (const types of [[0], [1], [2], [3], [4], [4, 0, 3, 1, 2]]) {
  test(`unfiltering hand-filtered RGB rows, filter type(s) ${types.join(',')}`, () => {
    const w = 6, h = 5;
    const raw = bytes(w * h * 3, 42 + types[0]);
    const png = buildPng(ihdr(w, h, 8, 2), filterRows(raw, w * 3, 3, types));
    const img = readPng(png);
    assert.equal(img.channels, 3);
    assert.deepEqual(Array.from(img.data), Array.from(raw));
  });
}

test('unfiltering with Paeth and Average at 4 bytes per pixel (gray+alpha 16-bit)', () => {
  const w = 5, h = 4;
  const raw = bytes(w * h * 4, 9);
  const img = readPng(buildPng(ihdr(w, h, 16, 4), filterRows(raw, w * 4, 4, [4, 3, 4, 3])));
  assert.equal(img.channels, 2);
  const highBytes = Array.from({ length: w * h * 2 }, (_, i) => raw[i * 2]);
  assert.deepEqual(Array.from(img.data), highBytes);
});

test('16-bit RGBA keeps the high byte of each sample', () => {
  const raw = Uint8Array.from([0x12, 0xab, 0xff, 0xff, 0x00, 0x01, 0x80, 0x7f, 0xfe, 0x00, 0x01, 0xff, 0x00, 0x00, 0x7f, 0xff]);
  const img = readPng(buildPng(ihdr(2, 1, 16, 6), filterRows(raw, 16, 8, [1])));
  assert.deepEqual({ ...img, data: Array.from(img.data) }, { width: 2, height: 1, channels: 4, data: [0x12, 0xff, 0x00, 0x80, 0xfe, 0x01, 0x00, 0x7f] });
});

test('palette with tRNS decodes to RGBA; entries past tRNS are opaque', () => {
  const plte = Uint8Array.from([255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 20, 30]);
  const trns = Uint8Array.from([0, 128]);
  // 2-bit indices, 5 pixels per row: row 0 = 0 1 2 3 0, row 1 = 3 2 1 0 1.
  const rows = Uint8Array.from([0, 0b00011011, 0b00000000, 0, 0b11100100, 0b01000000]);
  const img = readPng(buildPng(ihdr(5, 2, 2, 3), rows, [['PLTE', plte], ['tRNS', trns]]));
  assert.equal(img.channels, 4);
  const rgba = (i: number): number[] => [plte[i * 3], plte[i * 3 + 1], plte[i * 3 + 2], i < 2 ? trns[i] : 255];
  assert.deepEqual(Array.from(img.data), [0, 1, 2, 3, 0, 3, 2, 1, 0, 1].flatMap(rgba));
});

test('palette without tRNS decodes to RGB; 8-bit indices with a filter', () => {
  const plte = Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9]);
  const idx = Uint8Array.from([0, 1, 2, 2, 1, 0]);
  const img = readPng(buildPng(ihdr(3, 2, 8, 3), filterRows(idx, 3, 1, [2]), [['PLTE', plte]]), { name: 'pal.png' });
  assert.equal(img.channels, 3);
  assert.deepEqual(Array.from(img.data), Array.from(idx).flatMap((i) => [plte[i * 3], plte[i * 3 + 1], plte[i * 3 + 2]]));
});

test('1-, 2- and 4-bit gray are scaled to 0–255', () => {
  const one = readPng(buildPng(ihdr(10, 1, 1, 0), Uint8Array.from([0, 0b10110000, 0b01000000])));
  assert.deepEqual(Array.from(one.data), [255, 0, 255, 255, 0, 0, 0, 0, 0, 255]);
  const two = readPng(buildPng(ihdr(4, 1, 2, 0), Uint8Array.from([0, 0b00011011])));
  assert.deepEqual(Array.from(two.data), [0, 85, 170, 255]);
  const four = readPng(buildPng(ihdr(3, 1, 4, 0), Uint8Array.from([0, 0x0f, 0x80])));
  assert.deepEqual(Array.from(four.data), [0, 255, 136]);
});

test('Adam7 interlaced gray image is de-interlaced', () => {
  const w = 9, h = 10;
  const pixels = bytes(w * h, 5);
  const passes = [[0, 0, 8, 8], [4, 0, 8, 8], [0, 4, 4, 8], [2, 0, 4, 4], [0, 2, 2, 4], [1, 0, 2, 2], [0, 1, 1, 2]];
  const parts: Uint8Array[] = [];
  for (const [x0, y0, dx, dy] of passes) {
    const pw = Math.ceil((w - x0) / dx), ph = Math.ceil((h - y0) / dy);
    if (pw === 0 || ph === 0) continue;
    const sub = new Uint8Array(pw * ph);
    for (let y = 0; y < ph; y++) for (let x = 0; x < pw; x++) sub[y * pw + x] = pixels[(y0 + y * dy) * w + x0 + x * dx];
    parts.push(filterRows(sub, pw, 1, [0, 1, 2, 3, 4]));
  }
  const img = readPng(buildPng(ihdr(w, h, 8, 0, 1), Uint8Array.from(Buffer.concat(parts))));
  assert.deepEqual(Array.from(img.data), Array.from(pixels));
});

const good = (): Uint8Array => writePng({ width: 4, height: 3, channels: 3, data: bytes(36) });
const err = (re: RegExp) => (e: unknown): boolean => e instanceof DataError && re.test(e.message);

test('wrong signature', () => {
  const png = good();
  png[1] = 0x51;
  assert.throws(() => readPng(png, { name: 'x.png' }), err(/^x\.png: bad signature at byte offset 1: expected 89 50 4e 47 0d 0a 1a 0a, found 89 51 4e/));
  assert.throws(() => readPng(new TextEncoder().encode('GIF89a...')), err(/^PNG data: bad signature at byte offset 0/));
  assert.throws(() => readPng(new Uint8Array(0)), err(/bad signature at byte offset 0: .*found nothing/));
});

test('corrupted CRC names the chunk, offset, expected and found', () => {
  const png = good();
  const idatLen = new DataView(png.buffer).getUint32(33, false);
  png[33 + 8] ^= 0xff; // first IDAT data byte
  assert.throws(() => readPng(png, { name: 'd.png' }), err(new RegExp(`^d\\.png: bad CRC in IDAT chunk at byte offset ${33 + 8 + idatLen}: expected 0x[0-9a-f]{8}, found 0x[0-9a-f]{8}$`)));
  const png2 = good();
  png2[29] ^= 1; // IHDR CRC itself
  assert.throws(() => readPng(png2), err(/bad CRC in IHDR chunk at byte offset 29/));
});

test('truncated file', () => {
  const png = good();
  assert.throws(() => readPng(png.subarray(0, 50)), err(/^PNG data: truncated IDAT chunk at byte offset 33: expected \d+ data bytes \+ CRC, found 9$/));
  assert.throws(() => readPng(png.subarray(0, 40)), err(/^PNG data: truncated at byte offset 33: expected a 12-byte chunk header and CRC, found 7 bytes$/));
  assert.throws(() => readPng(png.subarray(0, png.length - 12)), err(/truncated at byte offset \d+: .*\(missing IEND\), found 0 bytes/));
  assert.throws(() => readPng(png.subarray(0, 20)), err(/truncated IHDR chunk at byte offset 8/));
});

test('bad IHDR fields', () => {
  const png = good(); // IHDR chunk at offset 8, data at 16
  assert.throws(() => readPng(patchChunk(png, 8, 8, 3)), err(/bad IHDR bit depth at byte offset 24: expected one of 8, 16 for colour type 2, found 3/));
  assert.throws(() => readPng(patchChunk(png, 8, 9, 5)), err(/bad IHDR colour type at byte offset 25: expected one of 0, 2, 3, 4, 6, found 5/));
  assert.throws(() => readPng(patchChunk(png, 8, 3, 0)), err(/bad IHDR width at byte offset 16: expected 1–2\^31-1, found 0/));
  assert.throws(() => readPng(patchChunk(png, 8, 10, 1)), err(/bad IHDR compression method at byte offset 26: expected 0, found 1/));
  assert.throws(() => readPng(patchChunk(png, 8, 12, 2)), err(/bad IHDR interlace method at byte offset 28: expected 0 or 1, found 2/));
  const first = Uint8Array.from(Buffer.concat([PNG_SIGNATURE, pngChunk('IEND', new Uint8Array(0))]));
  assert.throws(() => readPng(first), err(/expected IHDR as the first chunk at byte offset 8, found IEND/));
});

test('IDAT length, filter type, palette and chunk errors', () => {
  const raw = filterRows(bytes(12), 12, 3, [0]);
  assert.throws(() => readPng(buildPng(ihdr(4, 2, 8, 2), raw)), err(/IDAT data decompresses to 13 bytes, expected 26 \(2 rows of 1 \+ 12 bytes for 4×2, 8-bit colour type 2\)/));
  assert.throws(() => readPng(buildPng(ihdr(4, 1, 8, 2), Uint8Array.from([...raw, 0]))), err(/decompresses to more than the 13 bytes the IHDR implies/));
  const badFilter = raw.slice();
  badFilter[0] = 7;
  assert.throws(() => readPng(buildPng(ihdr(4, 1, 8, 2), badFilter)), err(/bad filter type at byte offset 0 of the decompressed image data \(row 0\): expected 0–4, found 7/));
  assert.throws(() => readPng(buildPng(ihdr(2, 1, 8, 3), Uint8Array.from([0, 0, 0]))), err(/missing PLTE chunk/));
  assert.throws(() => readPng(buildPng(ihdr(2, 1, 8, 3), Uint8Array.from([0, 0, 2]), [['PLTE', new Uint8Array(6)]])), err(/palette index 2 out of range at pixel \(1, 0\): expected < 2 PLTE entries/));
  assert.throws(() => readPng(buildPng(ihdr(4, 1, 8, 2), raw, [['ABCD', new Uint8Array(1)]])), err(/unknown critical chunk ABCD at byte offset 33/));
  assert.doesNotThrow(() => readPng(buildPng(ihdr(4, 1, 8, 2), raw, [['tEXt', new TextEncoder().encode('a\0b')]])));
  const notZlib = Uint8Array.from(Buffer.concat([PNG_SIGNATURE, pngChunk('IHDR', ihdr(4, 1, 8, 2)), pngChunk('IDAT', Uint8Array.from([1, 2, 3])), pngChunk('IEND', new Uint8Array(0))]));
  assert.throws(() => readPng(notZlib), err(/corrupt zlib data in IDAT at byte offset 33/));
  assert.throws(() => readPng(join(dir, 'missing.png')), err(/missing\.png: no such file/));
});

test('writePng validates its input', () => {
  assert.throws(() => writePng({ width: 2, height: 2, channels: 3, data: new Uint8Array(11) }), err(/2×2×3 image needs 12 bytes, found 11/));
  assert.throws(() => writePng({ width: 0, height: 2, channels: 1, data: new Uint8Array(0) }), err(/positive integers/));
  assert.throws(() => writePng({ width: 1, height: 1, channels: 5 as 1, data: new Uint8Array(5) }), err(/channels must be 1, 2, 3 or 4, found 5/));
});

test('toGrayscale28 on a 56×56 image is the 2×2 area average', () => {
  const src = bytes(56 * 56, 3);
  const out = toGrayscale28({ width: 56, height: 56, channels: 1, data: src }, { invert: false });
  assert.equal(out.length, 784);
  for (let y = 0; y < 28; y++) {
    for (let x = 0; x < 28; x++) {
      const at = (dy: number, dx: number): number => src[(2 * y + dy) * 56 + 2 * x + dx];
      const mean = (at(0, 0) + at(0, 1) + at(1, 0) + at(1, 1)) / 4 / 255;
      assert.ok(Math.abs(out[y * 28 + x] - mean) < 1e-6, `pixel (${x}, ${y}): ${out[y * 28 + x]} vs ${mean}`);
    }
  }
});

test('toGrayscale28: 28×28 passes through; non-integer ratios keep the mean; luma and alpha over white', () => {
  const src = bytes(784, 8);
  const same = toGrayscale28({ width: 28, height: 28, channels: 1, data: src }, { invert: false });
  assert.deepEqual(Array.from(same), Array.from(src, (v) => Math.fround(v / 255)));
  const odd = Float32Array.from(bytes(45 * 37, 4));
  const r = resizeArea(odd, 45, 37, 28, 28);
  const mean = (a: Float32Array): number => a.reduce((s, v) => s + v, 0) / a.length;
  assert.ok(Math.abs(mean(r) - mean(odd)) < 1e-3);
  const rgba = toGrayscale28({ width: 1, height: 1, channels: 4, data: Uint8Array.from([200, 100, 50, 0]) }, { invert: false });
  assert.ok(rgba.every((v) => v === 1), 'fully transparent is white');
  const rgb = toGrayscale28({ width: 1, height: 1, channels: 3, data: Uint8Array.from([200, 100, 50]) }, { invert: false });
  assert.ok(Math.abs(rgb[0] - (0.299 * 200 + 0.587 * 100 + 0.114 * 50) / 255) < 1e-6);
  const ga = toGrayscale28({ width: 1, height: 1, channels: 2, data: Uint8Array.from([0, 51]) }, { invert: false });
  assert.ok(Math.abs(ga[0] - 0.8) < 1e-6);
});

test("toGrayscale28 invert 'auto': dark-on-light is inverted, light-on-dark is not", () => {
  const w = 56;
  const digit = (bg: number, fg: number): PngImage => ({
    width: w, height: w, channels: 1,
    data: new Uint8Array(w * w).map((_, i) => (Math.abs((i % w) - 28) < 6 && Math.abs(Math.floor(i / w) - 28) < 16 ? fg : bg)),
  });
  const paper = toGrayscale28(digit(255, 0));
  assert.equal(paper[0], 0, 'white paper becomes a black background');
  assert.equal(paper[14 * 28 + 14], 1, 'the black ink becomes white');
  const mnist = toGrayscale28(digit(0, 255));
  assert.equal(mnist[0], 0);
  assert.equal(mnist[14 * 28 + 14], 1);
  const forced = toGrayscale28(digit(0, 255), { invert: true });
  assert.equal(forced[0], 1);
});

test('PNG bombs: above the pixel limit refused from the IHDR; IDAT inflation stops at the length the IHDR implies', async () => {
  const { failsWithDataError } = await import('../helpers/data-error.js');
  const { measurePeak } = await import('../helpers/memory.js');
  const png = (width: number, height: number, raw: Uint8Array): Uint8Array => {
    const ihdr = new Uint8Array(13);
    const v = new DataView(ihdr.buffer);
    v.setUint32(0, width, false);
    v.setUint32(4, height, false);
    ihdr[8] = 8; // 8-bit gray
    return Uint8Array.from(Buffer.concat([PNG_SIGNATURE, pngChunk('IHDR', ihdr), pngChunk('IDAT', deflateSync(raw)), pngChunk('IEND', new Uint8Array(0))]));
  };
  // Issue 15: 16384×16384 bombs of 0.26–2.1 MB were decoded in full (1.8–6.2 GB). The IHDR alone refuses them now.
  const huge = png(16384, 16384, new Uint8Array(16385 * 64));
  const r = measurePeak(() => readPng(huge, { name: 'bomb.png' }));
  failsWithDataError(() => { throw r.error; }, /^bomb\.png: image too large: 16384×16384 = 268435456 pixels, above the limit of 16777216 \(raise it with the maxPixels option or WEIGHTSHARE_MAX_PIXELS\)$/);
  assert.ok(r.peakRise < 32 * 2 ** 20, `peak RSS rose by ${(r.peakRise / 2 ** 20).toFixed(0)} MiB (bound 32 MiB)`);
  // A 100×100 image whose IDAT inflates to 64 MiB stops after the 10,100 bytes its rows take.
  const long = png(100, 100, new Uint8Array(64 * 2 ** 20));
  const s = measurePeak(() => readPng(long, { name: 'long.png' }));
  failsWithDataError(() => { throw s.error; }, /^long\.png: IDAT data decompresses to more than the 10100 bytes the IHDR implies \(100×100, 8-bit colour type 0\); stopped there$/);
  assert.ok(s.peakRise < 32 * 2 ** 20, `peak RSS rose by ${(s.peakRise / 2 ** 20).toFixed(0)} MiB (bound 32 MiB)`);
  // The limit is an option: a 20×20 image is refused under maxPixels 399 and read under 400.
  const small = png(20, 20, new Uint8Array(20 * 21));
  failsWithDataError(() => readPng(small, { name: 's.png', maxPixels: 399 }), /20×20 = 400 pixels, above the limit of 399/);
  assert.equal(readPng(small, { maxPixels: 400 }).data.length, 400);
});
