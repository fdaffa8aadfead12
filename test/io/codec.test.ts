// Tests of the sparse/Huffman tensor codec: bit-exact round trips, sizes, length limiting, and every damage case.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeIntStream, decodeSparse, encodeIntStream, encodeSparse, type SparseEncoding } from '../../src/io/codec.js';
import { Rng } from '../helpers/random.js';

const words = (a: Float32Array | Int32Array): Uint32Array => new Uint32Array(a.buffer, a.byteOffset, a.length);
const f32FromWords = (w: number[]): Float32Array => new Float32Array(Uint32Array.from(w).buffer);

/** Round-trips an int stream and checks it bit-exactly; returns the encoded bytes. */
function intRoundTrip(values: ArrayLike<number>): Uint8Array {
  const bytes = encodeIntStream(values);
  const back = decodeIntStream(bytes, values.length);
  assert.equal(back.length, values.length);
  for (let i = 0; i < values.length; i++) if (back[i] !== values[i]) assert.fail(`value #${i}: got ${back[i]}, expected ${values[i]}`);
  assert.deepEqual(encodeIntStream(values), bytes, 'encoding is deterministic');
  return bytes;
}

/**
 * Sparse round trip through JSON (as the container stores the header); checks every word. Returns
 * the encoding, or undefined when encodeSparse declined (then nothing else is checked).
 */
function sparseRoundTrip(data: Float32Array | Int32Array): { encoding: SparseEncoding; bytes: Uint8Array } | undefined {
  const r = encodeSparse(data);
  if (!r) return undefined;
  assert.ok(r.bytes.length < 4 * data.length, 'never larger than raw');
  assert.equal(r.encoding.gapBytes + r.encoding.valueBytes, r.bytes.length);
  const dtype = data instanceof Float32Array ? 'float32' : 'int32';
  const back = decodeSparse(JSON.parse(JSON.stringify(r.encoding)), r.bytes, dtype, data.length);
  assert.equal(back.constructor, data.constructor);
  assert.equal(back.length, data.length);
  const a = words(back), b = words(data);
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) assert.fail(`entry #${i}: got word ${a[i]!.toString(16)}, expected ${b[i]!.toString(16)}`);
  const again = encodeSparse(data)!;
  assert.deepEqual(again.encoding, r.encoding, 'encoding is deterministic');
  assert.deepEqual(again.bytes, r.bytes, 'encoding is deterministic');
  return r;
}

/** Reads the code-length table of an int stream (layout in src/io/codec.ts), for white-box checks. */
function tableLengths(bytes: Uint8Array): number[] & { bits: number } {
  let bit = 0;
  const read = (n: number): number => {
    let v = 0;
    for (let k = 0; k < n; k++, bit++) v |= ((bytes[bit >>> 3]! >>> (bit & 7)) & 1) << k;
    return v;
  };
  const symbols = read(9);
  const lengths: number[] = [];
  while (lengths.length < symbols) {
    const l = read(4);
    if (l > 0) lengths.push(l);
    else for (let r = read(5) + 1; r > 0; r--) lengths.push(0);
  }
  return Object.assign(lengths, { bits: bit });
}

/** Asserts that `f` throws an Error with a one-line message matching `pattern`. */
function throwsOneLine(f: () => unknown, pattern: RegExp): void {
  assert.throws(f, (e: unknown) => {
    assert.ok(e instanceof Error, 'throws an Error');
    assert.doesNotMatch(e.message, /\n/, 'message is one line');
    assert.match(e.message, pattern);
    return true;
  });
}

test('int stream: round trips of many distributions, bit-exact', () => {
  const rng = new Rng(1);
  const make = (n: number, f: () => number): number[] => Array.from({ length: n }, f);
  const geometric = (p: number) => (): number => { let g = 0; while (!rng.bool(p)) g++; return g; };
  const cases: [string, number[]][] = [
    ['empty', []],
    ['one value', [7]],
    ['one huge value', [2 ** 32 - 1]],
    ['uniform < 32', make(5000, () => rng.int(0, 31))],
    ['uniform < 256', make(5000, () => rng.int(0, 255))],
    ['geometric p=0.08', make(5000, geometric(0.08))],
    ['geometric p=0.001', make(3000, geometric(0.001))],
    ['huge, up to 2^32-1', make(5000, () => Math.floor(rng.uniform() * 2 ** 32))],
    ['every magnitude class', [...make(32, () => 0).map((_, b) => 2 ** b), ...make(32, () => 0).map((_, b) => 2 ** (b + 1) - 1), 255, 256, 2 ** 32 - 1, 2 ** 31]],
    ['a single distinct value 0', make(1000, () => 0)],
    ['a single distinct value 255', make(1000, () => 255)],
    ['a single distinct value 300', make(1000, () => 300)],
    ['a single distinct value 2^32-1', make(100, () => 2 ** 32 - 1)],
    ['two values', make(999, () => (rng.bool(0.3) ? 1 : 100000))],
  ];
  for (const [name, values] of cases) {
    try {
      intRoundTrip(values);
      intRoundTrip(Uint32Array.from(values));
    } catch (e) {
      throw new Error(`${name}: ${(e as Error).message}`, { cause: e });
    }
  }
  // A single distinct value costs only the table: no bits per value.
  assert.ok(encodeIntStream(new Array(100000).fill(3)).length <= 4);
  assert.ok(encodeIntStream(new Array(100000).fill(255)).length <= 12);
  assert.equal(encodeIntStream([]).length, 2);
});

test('int stream: rejects values it cannot code', () => {
  for (const bad of [-1, 2 ** 32, 1.5, NaN, Infinity]) throwsOneLine(() => encodeIntStream([1, bad]), /value #1/);
});

test('int stream: a skewed stream codes to fewer bits than a fixed-width code', () => {
  const rng = new Rng(2);
  const values = Array.from({ length: 20000 }, () => (rng.bool(0.9) ? 0 : rng.int(1, 15)));
  const bytes = intRoundTrip(values);
  const fixedBits = values.length * 4; // 4 bits hold 0..15
  assert.ok(bytes.length * 8 < 0.5 * fixedBits, `${bytes.length * 8} bits vs fixed ${fixedBits}`);
});

test('int stream: Fibonacci frequencies are length-limited to 15 bits and still round-trip', () => {
  // Counts fib(1..30): an unrestricted Huffman code would be 29 bits deep.
  const counts = [1, 1];
  while (counts.length < 30) counts.push(counts.at(-1)! + counts.at(-2)!);
  const total = counts.reduce((a, b) => a + b, 0);
  const values = new Uint32Array(total);
  const rng = new Rng(3);
  let at = 0;
  counts.forEach((c, s) => { values.fill(s, at, at + c); at += c; });
  for (let i = total - 1; i > 0; i--) { // shuffle
    const j = rng.int(0, i);
    const t = values[i]!; values[i] = values[j]!; values[j] = t;
  }
  const bytes = intRoundTrip(values);
  const lengths = tableLengths(bytes);
  assert.equal(lengths.length, 30);
  assert.equal(Math.max(...lengths), 15);
  assert.ok(lengths.every((l) => l >= 1));
  assert.equal(lengths.reduce((a, l) => a + 2 ** -l, 0), 1, 'a complete prefix code');
  // Close to the entropy despite the limit (even unlimited Huffman needs φ² ≈ 2.618 bits per value vs 2.512 here).
  const entropy = counts.reduce((a, c) => a - c * Math.log2(c / total), 0);
  assert.ok(bytes.length * 8 < entropy * 1.045 + 200, `${bytes.length * 8} bits vs entropy ${entropy.toFixed(0)}`);
});

test('int stream: truncated, extended or damaged data throw', () => {
  const rng = new Rng(4);
  const values = Array.from({ length: 3000 }, () => (rng.bool(0.8) ? rng.int(0, 3) : rng.int(0, 5000)));
  const bytes = encodeIntStream(values);
  throwsOneLine(() => decodeIntStream(bytes.subarray(0, bytes.length - 1), values.length), /truncated/);
  throwsOneLine(() => decodeIntStream(bytes.subarray(0, 10), values.length), /truncated/);
  throwsOneLine(() => decodeIntStream(bytes.subarray(0, 1), values.length), /truncated/);
  throwsOneLine(() => decodeIntStream(new Uint8Array(0), 0), /truncated/);
  throwsOneLine(() => decodeIntStream(Uint8Array.of(...bytes, 0), values.length), /trailing/);
  throwsOneLine(() => decodeIntStream(bytes, values.length + 50), /truncated/);
  throwsOneLine(() => decodeIntStream(bytes, values.length - 50), /trailing/);
  throwsOneLine(() => decodeIntStream(bytes, -1), /count/);
  throwsOneLine(() => decodeIntStream(Uint8Array.of(0xff, 0x01), 0), /symbol count 511/);
  throwsOneLine(() => decodeIntStream(encodeIntStream([]), 3), /empty code table/);
  // Damage to the code-length table is always caught (incomplete or over-full code, bad runs).
  const tableBytes = Math.floor(tableLengths(bytes).bits / 8); // bytes wholly inside the table
  assert.ok(tableBytes >= 5);
  for (let i = 0; i < tableBytes; i++) {
    for (const flip of [0x01, 0x10, 0x5a]) {
      const bad = bytes.slice();
      bad[i]! ^= flip;
      throwsOneLine(() => decodeIntStream(bad, values.length), /./);
    }
  }
  // Nonzero padding: [1, 2, 3, 1, 1] takes 9 + 9 + 3·4 table bits + 7 code bits = 37 bits, so 3 padding bits.
  const small = encodeIntStream([1, 2, 3, 1, 1]);
  assert.equal(small.length, 5);
  const bad = small.slice();
  bad[4]! |= 0x80;
  throwsOneLine(() => decodeIntStream(bad, 5), /nonzero padding bits after bit 37/);
});

test('sparse: Deep-Compression-like cluster codes use gap coding and take about 10 bits per kept entry', () => {
  const rng = new Rng(5);
  const n = 266200, K = 32;
  const codes = new Int32Array(n);
  for (let i = 0; i < n; i++) codes[i] = rng.bool(0.92) ? K : rng.int(0, K - 1);
  const kept = codes.reduce((a, c) => a + (c !== K ? 1 : 0), 0);
  const r = sparseRoundTrip(codes)!;
  assert.ok(r, 'sparse coding pays');
  assert.equal(r.encoding.fill, K);
  assert.equal(r.encoding.listed, kept);
  assert.equal(r.encoding.values, 'ints');
  assert.equal(r.encoding.offset, 0);
  // Entropy: 5.03 bits per gap (geometric, p = 0.08) + 5 bits per code ≈ 1.25 bytes per kept entry.
  assert.ok(r.bytes.length < 1.3 * kept, `${r.bytes.length} bytes for ${kept} kept entries`);
  assert.ok(r.encoding.valueBytes < (5 * kept) / 8 + 40, 'codes < 32 take 5 bits each');
});

test('sparse: 0/1 float32 masks code to a tiny size', () => {
  const rng = new Rng(6);
  const n = 100000;
  const mask = new Float32Array(n);
  for (let i = 0; i < n; i++) mask[i] = rng.bool(0.1) ? 1 : 0;
  const r = sparseRoundTrip(mask)!;
  assert.equal(r.encoding.fill, 0);
  assert.equal(r.encoding.values, 'ints');
  assert.equal(r.encoding.offset, 1);
  assert.ok(r.encoding.valueBytes <= 4, 'all listed values equal: only the table');
  assert.ok(r.bytes.length < n / 14, `${r.bytes.length} bytes for ${n} mask entries`); // entropy ≈ n/17
  // A mostly-one mask skips the ones instead.
  const dense = mask.map((m) => 1 - m);
  assert.equal(sparseRoundTrip(dense)!.encoding.fill, words(Float32Array.of(1))[0]);
  // Half-and-half still pays (about 1 bit per entry).
  const half = Float32Array.from({ length: n }, () => (rng.bool(0.5) ? 1 : 0));
  assert.ok(sparseRoundTrip(half)!.bytes.length < n / 7);
});

test('sparse: mostly-zero float32 weights list their raw words', () => {
  const rng = new Rng(7);
  const n = 50000;
  const w = new Float32Array(n);
  for (let i = 0; i < n; i++) if (rng.bool(0.1)) w[i] = rng.normal() * 0.05;
  const kept = w.reduce((a, v) => a + (v !== 0 ? 1 : 0), 0);
  const r = sparseRoundTrip(w)!;
  assert.equal(r.encoding.fill, 0);
  assert.equal(r.encoding.values, 'words');
  assert.equal(r.encoding.offset, undefined);
  assert.equal(r.encoding.valueBytes, 4 * kept);
  assert.ok(r.encoding.gapBytes < 0.65 * kept); // entropy: 4.69 bits per gap
  // Integer-valued floats (shared-weight indices stored as float) use the int stream.
  const ints = w.map((v) => Math.round(v * 100) || 0); // no -0
  const ri = sparseRoundTrip(ints)!;
  assert.equal(ri.encoding.values, 'ints');
  assert.ok(ri.encoding.offset! < 0);
});

test('sparse: NaN payloads, -0, ±Infinity and other special floats are bit-exact', () => {
  const specials = [0x7fc00000, 0x7fc00001, 0xffc12345, 0x7f800001, 0xff800001, 0x80000000, 0x7f800000, 0xff800000, 0x00000001, 0x80000001, 0x7f7fffff, 0x3f800000];
  const rng = new Rng(8);
  const mostlyZero = Array.from({ length: 5000 }, () => (rng.bool(0.1) ? rng.pick(specials) : 0));
  const r = sparseRoundTrip(f32FromWords(mostlyZero))!;
  assert.equal(r.encoding.values, 'words');
  // -0 as the fill; +0 listed among it.
  const mostlyNegZero = Array.from({ length: 5000 }, () => (rng.bool(0.1) ? rng.pick([0, 0x3f800000, 0x7fc00001]) : 0x80000000));
  assert.equal(sparseRoundTrip(f32FromWords(mostlyNegZero))!.encoding.fill, 0x80000000);
  // Integer floats with one -0 must not take the int path, which would lose the sign.
  const withNegZero = Array.from({ length: 5000 }, (_, i) => (i === 77 ? 0x80000000 : rng.bool(0.05) ? 0x40000000 : 0));
  const rz = sparseRoundTrip(f32FromWords(withNegZero))!;
  assert.equal(rz.encoding.values, 'words');
  // A NaN fill.
  const nanFill = Array.from({ length: 5000 }, () => (rng.bool(0.05) ? rng.pick(specials) : 0x7fc00001));
  assert.equal(sparseRoundTrip(f32FromWords(nanFill))!.encoding.fill, 0x7fc00001);
  // Integers at the float32 exact-integer limit, ±2^24, take the int path; 2^24 + 2 does not.
  const edge = Float32Array.from({ length: 4000 }, (_, i) => (i % 50 === 0 ? 2 ** 24 : i % 50 === 1 ? -(2 ** 24) : 0));
  assert.equal(sparseRoundTrip(edge)!.encoding.values, 'ints');
  edge[3] = 2 ** 24 + 2;
  assert.equal(sparseRoundTrip(edge)!.encoding.values, 'words');
});

test('sparse: int32 extremes and data without repeated values', () => {
  const rng = new Rng(9);
  const extremes = [-(2 ** 31), 2 ** 31 - 1, -1, 1, 0x12345678];
  const mostlyZero = Int32Array.from({ length: 5000 }, () => (rng.bool(0.1) ? rng.pick(extremes) : 0));
  const r = sparseRoundTrip(mostlyZero)!;
  assert.equal(r.encoding.fill, 0);
  const dense = Int32Array.from({ length: 5000 }, () => rng.pick(extremes));
  sparseRoundTrip(dense);
  const minFill = Int32Array.from({ length: 5000 }, () => (rng.bool(0.1) ? rng.pick(extremes) : -(2 ** 31)));
  assert.equal(sparseRoundTrip(minFill)!.encoding.fill, 0x80000000);
  // A permutation: no repeats, but small integers still code in about 2 bytes each.
  const perm = Int32Array.from({ length: 10000 }, (_, i) => i);
  for (let i = perm.length - 1; i > 0; i--) {
    const j = rng.int(0, i);
    [perm[i], perm[j]] = [perm[j]!, perm[i]!];
  }
  const rp = sparseRoundTrip(perm)!;
  assert.equal(rp.encoding.fill, null);
  assert.equal(rp.encoding.gapBytes, 0);
  assert.ok(rp.bytes.length < 2.2 * perm.length);
  // Random int32 words do not compress.
  assert.equal(encodeSparse(Int32Array.from({ length: 2000 }, () => rng.int(-(2 ** 31), 2 ** 31 - 1))), undefined);
});

test('sparse: tiny and degenerate inputs', () => {
  // n = 0: nothing to gain, but the null-fill header still decodes.
  assert.equal(encodeSparse(new Float32Array(0)), undefined);
  assert.equal(encodeSparse(new Int32Array(0)), undefined);
  const empty = { kind: 'sparse', fill: null, listed: 0, values: 'words', gapBytes: 0, valueBytes: 0 };
  assert.equal(decodeSparse(empty, new Uint8Array(0), 'float32', 0).length, 0);
  assert.ok(decodeSparse(empty, new Uint8Array(0), 'int32', 0) instanceof Int32Array);
  // n = 1 and n = 2, every kind of value.
  for (const w of [0, 0x80000000, 0x7fc00001, 0x7f800000, 0x3f800000, 0xffffffff, 0x80000001]) {
    sparseRoundTrip(f32FromWords([w]));
    sparseRoundTrip(new Int32Array(Uint32Array.of(w).buffer));
    sparseRoundTrip(f32FromWords([w, 0x3f800000]));
    sparseRoundTrip(f32FromWords([w, w]));
  }
  // All-equal data: only a 2-byte table (of an empty gap stream, or of a one-symbol value stream).
  for (const data of [new Float32Array(100000).fill(3.5), new Int32Array(100000).fill(-7), f32FromWords(new Array(1000).fill(0xffc12345))]) {
    assert.equal(sparseRoundTrip(data)!.bytes.length, 2);
  }
  assert.equal(encodeSparse(new Float32Array(100000).fill(3.5))!.encoding.listed, 0);
  // Subarray views with a byte offset.
  const big = Float32Array.from({ length: 1000 }, (_, i) => (i % 10 === 0 ? i : 0));
  sparseRoundTrip(big.subarray(3, 900));
});

test('sparse: random float32 does not pay, so encodeSparse returns undefined', () => {
  const rng = new Rng(10);
  assert.equal(encodeSparse(Float32Array.from({ length: 10000 }, () => rng.normal())), undefined);
  sparseRoundTrip(Float32Array.from({ length: 3 }, () => rng.normal())); // 2 words + a 2-gap stream < 12 bytes
  assert.throws(() => encodeSparse([1, 2, 3] as unknown as Float32Array), TypeError);
});

test('sparse: bad headers throw one-line errors naming the problem', () => {
  const rng = new Rng(11);
  const data = Int32Array.from({ length: 500 }, () => (rng.bool(0.9) ? 4 : rng.int(0, 3)));
  const { encoding, bytes } = encodeSparse(data)!;
  const ok = { ...encoding };
  const dec = (e: unknown, b = bytes, n = 500, dtype: 'float32' | 'int32' = 'int32') => decodeSparse(e, b, dtype, n);
  assert.deepEqual(dec(ok), data);
  throwsOneLine(() => dec(null), /not a JSON object/);
  throwsOneLine(() => dec([ok]), /not a JSON object/);
  throwsOneLine(() => dec({ ...ok, kind: 'dense' }), /kind "dense"/);
  throwsOneLine(() => dec({ ...ok, extra: 1 }), /unknown field "extra"/);
  throwsOneLine(() => dec({ ...ok, listed: 501 }), /listed 501 exceeds the 500 entries/);
  throwsOneLine(() => dec({ ...ok, listed: -1 }), /listed/);
  throwsOneLine(() => dec({ ...ok, listed: 1.5 }), /listed/);
  throwsOneLine(() => dec({ ...ok, listed: '40' }), /listed/);
  throwsOneLine(() => dec({ ...ok, fill: -1 }), /fill/);
  throwsOneLine(() => dec({ ...ok, fill: 2 ** 32 }), /fill/);
  throwsOneLine(() => dec({ ...ok, fill: '4' }), /fill/);
  throwsOneLine(() => dec({ ...ok, values: 'floats' }), /values/);
  throwsOneLine(() => dec({ ...ok, gapBytes: ok.gapBytes + 1 }), /does not match the \d+ payload bytes/);
  throwsOneLine(() => dec(ok, Uint8Array.of(...bytes, 0)), /does not match/);
  throwsOneLine(() => dec({ ...ok, gapBytes: ok.gapBytes - 1, valueBytes: ok.valueBytes + 1 }), /gap stream|value stream/);
  throwsOneLine(() => dec({ ...ok, offset: undefined }), /needs an offset/);
  const { offset: _, ...noOffset } = ok;
  throwsOneLine(() => dec(noOffset), /needs an offset/);
  const noZero = encodeIntStream([1, 2, 3]);
  const hand = { kind: 'sparse', fill: null, listed: 3, values: 'ints', offset: 0, gapBytes: 0, valueBytes: noZero.length };
  throwsOneLine(() => decodeSparse(hand, noZero, 'int32', 3), /offset 0 is not the smallest listed value \(that is 1\)/);
  throwsOneLine(() => dec({ ...ok, offset: 2 ** 31 }), /offset must be an integer/);
  throwsOneLine(() => dec({ ...ok, offset: 0.5 }), /offset must be an integer/);
  throwsOneLine(() => dec({ ...ok, offset: 2 ** 31 - 2 }), /above 2147483647/);
  throwsOneLine(() => dec({ ...ok, offset: 2 ** 24 }, bytes, 500, 'float32'), /above 16777216, the exact-integer limit of float32/);
  throwsOneLine(() => dec({ ...ok, offset: 2 ** 24 + 1 }, bytes, 500, 'float32'), /offset must be an integer in \[-16777216, 16777216\]/);
  throwsOneLine(() => dec({ ...ok, values: 'words' }), /offset 0 given but values are "words"/);
  throwsOneLine(() => dec({ ...ok, fill: null }), /fill is null/);
  throwsOneLine(() => dec({ ...ok, fill: 3 }), /equals the fill value/);
  throwsOneLine(() => dec(ok, bytes, 100), /listed \d+ exceeds the 100 entries|gaps run past the 100 entries/);
  throwsOneLine(() => dec(ok, bytes, ok.listed + 5), /gaps run past the \d+ entries/);
  throwsOneLine(() => dec(ok, bytes, 500, 'int8' as 'int32'), /dtype/);
  throwsOneLine(() => dec(ok, bytes, -1), /entry count/);
  // 'words' headers.
  const f = Float32Array.from({ length: 300 }, (_, i) => (i % 7 === 0 ? i + 0.5 : 0));
  const fw = encodeSparse(f)!;
  assert.equal(fw.encoding.values, 'words');
  throwsOneLine(() => decodeSparse({ ...fw.encoding, valueBytes: fw.encoding.valueBytes - 4, gapBytes: fw.encoding.gapBytes + 4 }, fw.bytes, 'float32', 300), /valueBytes \d+ is not 4 × listed/);
  throwsOneLine(() => decodeSparse({ ...fw.encoding, values: 'ints', offset: 0 }, fw.bytes, 'float32', 300), /value stream/);
  throwsOneLine(() => decodeSparse({ ...fw.encoding, fill: null, listed: 300, gapBytes: 0, valueBytes: 1200 }, new Uint8Array(1199), 'float32', 300), /does not match/);
});

test('sparse: truncated or damaged payloads throw rather than return wrong data', () => {
  const rng = new Rng(12);
  const n = 20000;
  const codes = Int32Array.from({ length: n }, () => (rng.bool(0.92) ? 32 : rng.int(0, 31)));
  const { encoding, bytes } = encodeSparse(codes)!;
  const dec = (b: Uint8Array, e: SparseEncoding = encoding) => decodeSparse(e, b, 'int32', n);
  // Truncation: the header no longer matches, and with a matching header the streams run short.
  throwsOneLine(() => dec(bytes.subarray(0, bytes.length - 1)), /does not match/);
  throwsOneLine(() => dec(bytes.subarray(0, bytes.length - 1), { ...encoding, valueBytes: encoding.valueBytes - 1 }), /value stream: truncated/);
  const shortGaps = Uint8Array.of(...bytes.subarray(0, encoding.gapBytes - 3), ...bytes.subarray(encoding.gapBytes));
  throwsOneLine(() => dec(shortGaps, { ...encoding, gapBytes: encoding.gapBytes - 3 }), /gap stream: truncated/);
  // Flipped bytes: every flip is either caught or (where the damage is undetectable) still yields n entries.
  let caught = 0, tried = 0;
  for (let i = 0; i < bytes.length; i += 7) {
    const bad = bytes.slice();
    bad[i]! ^= 0x24;
    tried++;
    try {
      const out = dec(bad);
      assert.equal(out.length, n);
    } catch (e) {
      assert.ok(e instanceof Error);
      assert.doesNotMatch(e.message, /\n/);
      caught++;
    }
  }
  // Most flips in dense Huffman data are undetectable here (the container's CRC-32 catches them).
  assert.ok(caught > 0, `${caught} of ${tried} flips caught`);
  // Damage in either code table is always caught.
  for (const start of [0, encoding.gapBytes]) {
    for (let i = start; i < start + 8; i++) {
      const bad = bytes.slice();
      bad[i]! ^= 0x42;
      throwsOneLine(() => dec(bad), /^(gap|value) stream: /);
    }
  }
});
