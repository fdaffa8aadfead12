// Tests of the checkpoint container and its file helpers: round trips, layout, every damage case, atomic writes.
import { test, mock } from 'node:test';
import assert from 'node:assert/strict';
import fs, { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import {
  CHECKPOINT_COMPRESSED_VERSION, CHECKPOINT_FORMAT_VERSION, CheckpointError, crc32, decodeCheckpoint, encodeCheckpoint, MAX_HEADER_BYTES,
  type CheckpointContents, type StoredTensor,
} from '../../src/io/index.js';
import { compressedField, deflateBomb, fixCrc, headerJson, replaceHeader } from '../helpers/model-bytes.js';
import { measurePeak } from '../helpers/memory.js';
import { loadCheckpoint, saveCheckpoint, writeFileAtomic } from '../../src/io/files.js';

const dir = mkdtempSync(join(tmpdir(), 'ws-ckpt-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

const f32 = (shape: number[], values: number[]): StoredTensor => ({ dtype: 'float32', shape, data: Float32Array.from(values) });
const i32 = (shape: number[], values: number[]): StoredTensor => ({ dtype: 'int32', shape, data: Int32Array.from(values) });

/** A checkpoint exercising every feature: both dtypes, odd sizes, empty and scalar tensors, unicode names, nested meta. */
function sample(): CheckpointContents {
  return {
    meta: { model: { class: 'Sequential', layers: [{ class: 'Dense', units: 3, bias: true }] }, step: 42, lr: 1e-3, note: 'π ≈ 3.14', tags: [] },
    tensors: new Map<string, StoredTensor>([
      ['dense/kernel', f32([2, 3], [-1.5, 0.1, 3e38, -0, 1e-45, 7])],
      ['dense/bias', f32([3], [0, 1, 2])],
      ['indices', i32([5], [-2147483648, -1, 0, 1, 2147483647])],
      ['empty', f32([0, 4], [])],
      ['scalar', f32([], [2.5])],
      ['poids/ω-码-🙂', i32([1, 1], [9])],
      ['odd', f32([1], [3])],
    ]),
  };
}

/** Asserts that two checkpoints hold the same meta and the same tensors in the same order. */
function assertSame(back: CheckpointContents, want: CheckpointContents): void {
  assert.deepEqual(back.meta, want.meta);
  assert.deepEqual([...back.tensors.keys()], [...want.tensors.keys()]);
  for (const [name, t] of want.tensors) {
    const b = back.tensors.get(name)!;
    assert.equal(b.dtype, t.dtype, name);
    assert.deepEqual(b.shape, t.shape, name);
    assert.equal(b.data.constructor, t.data.constructor, name);
    assert.ok(Object.is(b.data.length, t.data.length), name);
    for (let i = 0; i < t.data.length; i++) assert.ok(Object.is(b.data[i], t.data[i]), `${name}[${i}]`);
  }
}

test('crc32 matches the standard check value and continues from a seed', () => {
  const enc = new TextEncoder();
  assert.equal(crc32(enc.encode('123456789')), 0xcbf43926);
  assert.equal(crc32(new Uint8Array(0)), 0);
  assert.equal(crc32(enc.encode('The quick brown fox jumps over the lazy dog')), 0x414fa339);
  assert.equal(crc32(enc.encode('56789'), crc32(enc.encode('1234'))), 0xcbf43926);
});

test('round trip keeps meta, names, order, dtypes, shapes and exact bits', () => {
  const c = sample();
  assertSame(decodeCheckpoint(encodeCheckpoint(c)), c);
});

test('decoded tensors are aligned copies, even from a misaligned view of a larger buffer', () => {
  const bytes = encodeCheckpoint(sample());
  const big = new Uint8Array(bytes.length + 3);
  big.set(bytes, 1);
  const view = big.subarray(1, 1 + bytes.length);
  const back = decodeCheckpoint(view);
  assertSame(back, sample());
  for (const t of back.tensors.values()) {
    assert.notEqual(t.data.buffer, big.buffer);
    assert.equal(t.data.byteOffset, 0);
  }
  big.fill(0);
  assert.equal(back.tensors.get('dense/bias')!.data[2], 2);
  const fromBuffer = decodeCheckpoint(Buffer.from(bytes));
  assert.equal(fromBuffer.tensors.get('dense/bias')!.data.buffer.byteLength, 12);
});

test('round trip of edge cases: no tensors, undefined meta (stored as null), lone surrogates, a tensor from a sub-view', () => {
  assertSame(decodeCheckpoint(encodeCheckpoint({ meta: null, tensors: new Map() })), { meta: null, tensors: new Map() });
  assert.equal(decodeCheckpoint(encodeCheckpoint({ meta: undefined, tensors: new Map() })).meta, null);
  const weird = { meta: ['\ud800', 'x\udfffy'], tensors: new Map([['a\ud800b', f32([1], [1])], ['a\n"b', f32([1], [2])]]) };
  assertSame(decodeCheckpoint(encodeCheckpoint(weird)), weird);
  const base = Float32Array.from([0, 1, 2, 3, 4]);
  const sub = { meta: 1, tensors: new Map([['s', { dtype: 'float32' as const, shape: [2], data: base.subarray(2, 4) }]]) };
  assert.deepEqual(Array.from(decodeCheckpoint(encodeCheckpoint(sub)).tensors.get('s')!.data), [2, 3]);
});

test('layout: magic, version, padded header, aligned little-endian data, trailing CRC-32', () => {
  const bytes = encodeCheckpoint({ meta: { a: 1 }, tensors: new Map([['w', i32([2], [0x01020304, -1])]]) });
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  assert.equal(new TextDecoder().decode(bytes.subarray(0, 4)), 'WSHR');
  assert.equal(view.getUint32(4, true), CHECKPOINT_FORMAT_VERSION);
  assert.equal(CHECKPOINT_FORMAT_VERSION, 2);
  const headerLength = view.getUint32(8, true);
  assert.equal(headerLength % 8, 0);
  assert.equal(view.getUint32(12, true), 8);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(16, 16 + headerLength)));
  assert.deepEqual(header, { format: 2, meta: { a: 1 }, tensors: [{ name: 'w', dtype: 'int32', shape: [2], offset: 0, length: 8 }] });
  const dataStart = 16 + headerLength;
  assert.deepEqual(Array.from(bytes.subarray(dataStart, dataStart + 8)), [4, 3, 2, 1, 255, 255, 255, 255]);
  assert.equal(bytes.length, dataStart + 8 + 4);
  assert.equal(view.getUint32(bytes.length - 4, true), crc32(bytes.subarray(0, bytes.length - 4)));
});

/** Asserts that `fn` throws a CheckpointError whose message starts with `file: `, is one line, and matches every pattern. */
function throwsCkpt(fn: () => unknown, file: string, ...patterns: RegExp[]): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof CheckpointError, `expected CheckpointError, got ${String(e)}`);
    assert.equal(e.name, 'CheckpointError');
    assert.ok(e.message.startsWith(`${file}: `), e.message);
    assert.ok(!e.message.includes('\n'), `message is not one line: ${e.message}`);
    for (const p of patterns) assert.match(e.message, p);
    return true;
  });
}

const encodeFails = (c: CheckpointContents, ...patterns: RegExp[]): void => throwsCkpt(() => encodeCheckpoint(c, 'out.wshr'), 'out.wshr', ...patterns);
const one = (name: string, t: StoredTensor, meta: unknown = null): CheckpointContents => ({ meta, tensors: new Map([[name, t]]) });

test('encode rejects empty names, bad shapes, length mismatches, wrong arrays, unknown dtypes', () => {
  encodeFails(one('', f32([1], [1])), /tensor names must be non-empty strings/);
  for (const d of [-1, NaN, Infinity, 1.5]) encodeFails(one('w', f32([d], [1])), /tensor "w": shape .* is not a list of non-negative integers/);
  encodeFails(one('w', { dtype: 'float32', shape: 'abc' as unknown as number[], data: new Float32Array(3) }), /not a list of non-negative integers/);
  encodeFails(one('w', f32([2, 2], [1, 2, 3])), /tensor "w": shape \[2, 2\] has 4 elements but data has 3/);
  encodeFails(one('w', f32([], [])), /shape \[\] has 1 elements but data has 0/);
  encodeFails(one('w', { dtype: 'float32', shape: [1], data: Int32Array.of(1) }), /dtype float32 needs a Float32Array, got Int32Array/);
  encodeFails(one('w', { dtype: 'int32', shape: [1], data: Float32Array.of(1) }), /dtype int32 needs a Int32Array, got Float32Array/);
  encodeFails(one('w', { dtype: 'float16', shape: [1], data: Float32Array.of(1) } as unknown as StoredTensor), /unknown dtype "float16"/);
});

test('encode rejects meta that JSON cannot hold exactly', () => {
  const w = f32([1], [1]);
  encodeFails(one('w', w, { loss: NaN }), /meta holds NaN under key "loss"/);
  encodeFails(one('w', w, [Infinity]), /meta holds Infinity/);
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  encodeFails(one('w', w, cyclic), /meta cannot be stored as JSON/);
  encodeFails(one('w', w, { n: 1n }), /meta cannot be stored as JSON/);
});

const decodeFails = (bytes: Uint8Array, ...patterns: RegExp[]): void => throwsCkpt(() => decodeCheckpoint(bytes, 'model.wshr'), 'model.wshr', ...patterns);

test('decode: wrong magic says it is not a weightshare file', () => {
  const b = encodeCheckpoint(sample());
  b[0] = 0x89;
  decodeFails(b, /not a weightshare model file \(magic 89 53 48 52 "\.SHR", expected 57 53 48 52 "WSHR"\)/);
  decodeFails(new TextEncoder().encode('{"format": 1}'), /not a weightshare model file/);
  throwsCkpt(() => decodeCheckpoint(Uint8Array.of(1)), '<bytes>', /not a weightshare model file \(magic 01 "\."/);
});

test('decode: a newer format version asks for an upgrade, version 0 is invalid', () => {
  const b = encodeCheckpoint(sample());
  b[4] = 7;
  decodeFails(b, /^model\.wshr: written by format version 7; this weightshare reads up to version 3 — upgrade weightshare$/);
  b[4] = 0;
  decodeFails(b, /invalid format version 0/);
});

test('decode: truncated files give the expected and found sizes; extra bytes are refused', () => {
  const b = encodeCheckpoint(sample());
  for (const cut of [0, 3, 4, 7, 12, 19]) decodeFails(b.subarray(0, cut), new RegExp(`file is truncated: expected at least 20 bytes, found ${cut}$`));
  for (const cut of [20, 100, b.length - 1]) decodeFails(b.subarray(0, cut), new RegExp(`file is truncated: expected ${b.length} bytes, found ${cut}$`));
  const longer = new Uint8Array(b.length + 2);
  longer.set(b);
  decodeFails(longer, new RegExp(`unexpected trailing data: expected ${b.length} bytes, found ${b.length + 2}`));
});

test('decode: a flipped byte anywhere after the version is a checksum mismatch', () => {
  const b = encodeCheckpoint(sample());
  for (const at of [b.length - 5, b.length - 60, 20, b.length - 1]) {
    const d = b.slice();
    d[at]! ^= 0x10;
    decodeFails(d, /checksum mismatch: file is damaged \(stored 0x[0-9a-f]{8}, computed 0x[0-9a-f]{8}\)$/);
  }
});

/** Builds a correctly checksummed container around arbitrary header bytes and data. */
function assemble(header: string | Uint8Array, data: Uint8Array = new Uint8Array(0), version = 1): Uint8Array {
  const text = typeof header === 'string' ? new TextEncoder().encode(header) : header;
  const out = new Uint8Array(16 + text.length + data.length + 4);
  const view = new DataView(out.buffer);
  out.set([0x57, 0x53, 0x48, 0x52]);
  view.setUint32(4, version, true);
  view.setUint32(8, text.length, true);
  view.setUint32(12, data.length, true);
  out.set(text, 16);
  out.set(data, 16 + text.length);
  view.setUint32(out.length - 4, crc32(out.subarray(0, out.length - 4)), true);
  return out;
}

test('assemble() builds what decode accepts (guards the header tests below)', () => {
  const back = decodeCheckpoint(assemble('{"format":1,"meta":7,"tensors":[{"name":"w","dtype":"int32","shape":[1],"offset":4,"length":4}]}', Uint8Array.of(0, 0, 0, 0, 5, 0, 0, 0)));
  assert.equal(back.meta, 7);
  assert.deepEqual(Array.from(back.tensors.get('w')!.data), [5]);
});

test('decode: bad header JSON and bad header fields', () => {
  decodeFails(assemble('{"format":1,'), /header is not valid JSON \(/);
  decodeFails(assemble(Uint8Array.of(0x22, 0xff, 0x22)), /header is not valid UTF-8/);
  decodeFails(assemble('[1]'), /header is not a JSON object/);
  decodeFails(assemble('{"format":2,"meta":null,"tensors":[]}'), /header says format 2 but the prelude says version 1/);
  decodeFails(assemble('{"format":1,"tensors":[]}'), /header has no "meta" field/);
  decodeFails(assemble('{"format":1,"meta":null,"tensors":{}}'), /header field "tensors" is not an array/);
});

test('decode: bad tensor entries (names, duplicates, dtype, shape, size, range, alignment)', () => {
  const data = new Uint8Array(16);
  const h = (...entries: unknown[]): Uint8Array => assemble(JSON.stringify({ format: 1, meta: null, tensors: entries }), data);
  const ok = { name: 'w', dtype: 'float32', shape: [2], offset: 0, length: 8 };
  decodeFails(h(3), /tensor entry #0 is not a JSON object/);
  decodeFails(h(ok, { ...ok, name: '' }), /tensor entry #1 has no name/);
  decodeFails(h(ok, { ...ok, offset: 8 }), /duplicate tensor name "w" \(entry #1\)/);
  decodeFails(h({ ...ok, dtype: 'float16' }), /tensor "w": unknown dtype "float16" \(known: float32, int32\)/);
  decodeFails(h({ ...ok, dtype: undefined }), /tensor "w": unknown dtype undefined/);
  decodeFails(h({ ...ok, shape: [-2] }), /tensor "w": shape \[-2\] is not a list of non-negative integers/);
  decodeFails(h({ ...ok, shape: [1e300, 1e300] }), /is not a list of non-negative integers/);
  decodeFails(h({ ...ok, offset: -4 }), /tensor "w": offset and length must be non-negative integers, got -4 and 8/);
  decodeFails(h({ ...ok, length: 12 }), /tensor "w": length 12 bytes does not match shape \[2\] of float32 \(8 bytes\)/);
  decodeFails(h({ ...ok, offset: 2 }), /tensor "w": offset 2 is not a multiple of 4/);
  decodeFails(h({ ...ok, offset: 12 }), /tensor "w": bytes \[12, 20\) lie outside the data section \(16 bytes\)/);
});

test('save/load through a file: round trip, parent dirs created, overwrite, no temp files left', () => {
  const sub = join(dir, 'save', 'nested');
  const path = join(sub, 'model.wshr');
  saveCheckpoint(path, sample());
  assertSame(loadCheckpoint(path), sample());
  saveCheckpoint(path, { meta: 'second', tensors: new Map() });
  assert.equal(loadCheckpoint(path).meta, 'second');
  assert.deepEqual(readdirSync(sub), ['model.wshr']);
  writeFileAtomic(join(sub, 'notes.txt'), 'héllo');
  assert.equal(readFileSync(join(sub, 'notes.txt'), 'utf8'), 'héllo');
  assert.deepEqual(readdirSync(sub).sort(), ['model.wshr', 'notes.txt']);
});

test('loadCheckpoint names the path for a missing or damaged file', () => {
  const missing = join(dir, 'nope.wshr');
  throwsCkpt(() => loadCheckpoint(missing), missing, /no such file$/);
  const damaged = join(dir, 'damaged.wshr');
  writeFileSync(damaged, encodeCheckpoint(sample()).subarray(0, 50));
  throwsCkpt(() => loadCheckpoint(damaged), damaged, /file is truncated/);
  throwsCkpt(() => loadCheckpoint(dir), dir, /: is a directory, not a regular file$/);
});

test('atomic write: a parent that is a file fails cleanly', () => {
  const blocker = join(dir, 'blocker');
  writeFileSync(blocker, 'i am a file');
  assert.throws(() => writeFileAtomic(join(blocker, 'model.wshr'), 'x'), /ENOTDIR|EEXIST/);
  throwsCkpt(() => saveCheckpoint(join(blocker, 'm.wshr'), sample()), join(blocker, 'm.wshr'), /cannot write checkpoint/);
  assert.equal(readFileSync(blocker, 'utf8'), 'i am a file');
});

test('atomic write: a directory at the target is refused before any temp file is made (a failed rename: see the next test)', () => {
  const d = join(dir, 'rename');
  mkdirSync(join(d, 'target'), { recursive: true });
  writeFileSync(join(d, 'target', 'inside'), 'keep');
  assert.throws(() => writeFileAtomic(join(d, 'target'), 'new'), /^WriteError: .*target: is a directory, not a regular file: refusing to replace it$/);
  assert.deepEqual(readdirSync(d), ['target']);
  assert.equal(readFileSync(join(d, 'target', 'inside'), 'utf8'), 'keep');
});

test('atomic write: when writing throws midway, the old file stays intact and no temp file is left', () => {
  const d = join(dir, 'midway');
  const path = join(d, 'model.wshr');
  saveCheckpoint(path, sample());
  const before = readFileSync(path);
  for (const method of ['writeSync', 'fsyncSync', 'renameSync'] as const) {
    const m = mock.method(fs, method, () => { throw new Error(`simulated ${method} failure`); });
    syncBuiltinESMExports();
    try {
      throwsCkpt(() => saveCheckpoint(path, { meta: 'new', tensors: new Map() }), path, new RegExp(`cannot write checkpoint: simulated ${method} failure`));
    } finally {
      m.mock.restore();
      syncBuiltinESMExports();
    }
    assert.deepEqual(readFileSync(path), before, method);
    assert.deepEqual(readdirSync(d), ['model.wshr'], method);
  }
  assertSame(loadCheckpoint(path), sample());
});

test('sparse coding: int32 codes, mostly-zero and 0/1 float32 tensors are stored coded and decode bit-exactly; dense floats stay raw', () => {
  const n = 20_000;
  let seed = 7;
  const rnd = (): number => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  const codes = Int32Array.from({ length: n }, () => (rnd() < 0.9 ? 32 : Math.floor(rnd() * 32)));
  const pruned = Float32Array.from({ length: n }, () => (rnd() < 0.9 ? 0 : rnd() - 0.5));
  const mask = Float32Array.from(pruned, (v) => (v === 0 ? 0 : 1));
  const dense = Float32Array.from({ length: n }, () => rnd() - 0.5);
  const c: CheckpointContents = {
    meta: null,
    tensors: new Map<string, StoredTensor>([
      ['maps/d/kernel/codes', { dtype: 'int32', shape: [100, 200], data: codes }],
      ['weights/p/kernel/theta', { dtype: 'float32', shape: [n], data: pruned }],
      ['maps/p/kernel/mask', { dtype: 'float32', shape: [n], data: mask }],
      ['weights/d/kernel', { dtype: 'float32', shape: [n], data: dense }],
      ['small', i32([3], [1, 1, 1])],
    ]),
  };
  const bytes = encodeCheckpoint(c, 'c.wsm');
  const raw = 4 * (4 * n + 3);
  assert.ok(bytes.length < 4 * n + 0.5 * 4 * n, `file ${bytes.length} bytes vs ${raw} raw: the three sparse tensors must shrink`);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(16, 16 + new DataView(bytes.buffer).getUint32(8, true))));
  const enc = Object.fromEntries(header.tensors.map((e: { name: string; encoding?: { kind: string } }) => [e.name, e.encoding?.kind ?? 'raw']));
  assert.deepEqual(enc, { 'maps/d/kernel/codes': 'sparse', 'weights/p/kernel/theta': 'sparse', 'maps/p/kernel/mask': 'sparse', 'weights/d/kernel': 'raw', small: 'raw' });
  const back = decodeCheckpoint(bytes, 'c.wsm');
  for (const [name, t] of c.tensors) {
    const b = back.tensors.get(name)!;
    assert.equal(b.dtype, t.dtype, name);
    assert.deepEqual(b.shape, t.shape, name);
    assert.deepEqual(new Uint32Array(b.data.buffer, b.data.byteOffset, b.data.length), new Uint32Array(t.data.buffer, t.data.byteOffset, t.data.length), name);
  }
});

test('decode: a coded tensor in a format-1 file, or a coded payload that does not decode, is refused by name', () => {
  const n = 1000;
  const c: CheckpointContents = { meta: null, tensors: new Map([['codes', { dtype: 'int32', shape: [n], data: Int32Array.from({ length: n }, (_, i) => (i % 10 === 0 ? 3 : 0)) } as StoredTensor]]) };
  const good = encodeCheckpoint(c, 'c.wsm');
  const view = new DataView(good.buffer);
  const h = view.getUint32(8, true), d = view.getUint32(12, true);
  const header = new TextDecoder().decode(good.subarray(16, 16 + h));
  const data = good.subarray(16 + h, 16 + h + d);
  assert.match(header, /"encoding":\{"kind":"sparse"/);
  assert.deepEqual(decodeCheckpoint(assemble(header, data, 2)).tensors.get('codes')!.data, c.tensors.get('codes')!.data);
  decodeFails(assemble(header.replace('"format":2', '"format":1'), data, 1), /model\.wshr: tensor "codes": has an encoding, which format 1 does not allow$/);
  const damaged = Uint8Array.from(data);
  damaged[1]! ^= 0x10; // inside the gap stream's code-length table
  decodeFails(assemble(header, damaged, 2), /model\.wshr: tensor "codes": /);
  const lying = header.replace(/"listed":(\d+)/, (_, k) => `"listed":${Number(k) + 5000}`);
  decodeFails(assemble(lying, data, 2), /model\.wshr: tensor "codes": /);
});

test('float16: float32 tensors whose values are all exact halves (centroids rounded to 16 bits) are stored as dtype float16, 2 bytes each, and read back bit-exactly as float32; others stay as they were', () => {
  const halves = Float32Array.from([0.5, -1.25, 65504, 2 ** -24, -0, 1024, 0.099975586, Infinity]);
  const near = Float32Array.from(halves, (v, i) => (i === 6 ? 0.1 : v));
  const c: CheckpointContents = { meta: null, tensors: new Map<string, StoredTensor>([['weights/d/kernel/centroids', { dtype: 'float32', shape: [8], data: halves }], ['near', { dtype: 'float32', shape: [8], data: near }]]) };
  const bytes = encodeCheckpoint(c, 'c.wsm');
  const view = new DataView(bytes.buffer);
  const h = view.getUint32(8, true), d = view.getUint32(12, true);
  const headerText = new TextDecoder().decode(bytes.subarray(16, 16 + h));
  const header = JSON.parse(headerText);
  assert.deepEqual(header.tensors.map((e: { name: string; dtype: string; offset: number; length: number }) => [e.name, e.dtype, e.offset, e.length]), [['weights/d/kernel/centroids', 'float16', 0, 16], ['near', 'float32', 16, 32]]);
  const back = decodeCheckpoint(bytes, 'c.wsm');
  for (const [name, t] of c.tensors) {
    const b = back.tensors.get(name)!;
    assert.equal(b.dtype, 'float32');
    assert.deepEqual(new Uint32Array(b.data.buffer, b.data.byteOffset, b.data.length), new Uint32Array(t.data.buffer, t.data.byteOffset, t.data.length), name);
  }
  const data = bytes.subarray(16 + h, 16 + h + d);
  decodeFails(assemble(headerText.replace('"length":16', '"length":14'), data, 2), /model\.wshr: tensor "weights\/d\/kernel\/centroids": length 14 bytes does not match shape \[8\] of float16 \(16 bytes\)$/);
  decodeFails(assemble(headerText.replace('"float16"', '"float16","encoding":{"kind":"sparse"}'), data, 2), /model\.wshr: tensor "weights\/d\/kernel\/centroids": a float16 tensor has no encoding$/);
  decodeFails(assemble(headerText.replace('"format":2', '"format":1'), data, 1), /model\.wshr: tensor "weights\/d\/kernel\/centroids": unknown dtype "float16" \(known: float32, int32\)$/);
});

/** sample() plus the tensors format 2 codes (sparse int32 codes, a mostly-zero float32, float16 centroids). */
function sampleCoded(): CheckpointContents {
  const c = sample();
  c.tensors.set('maps/d/kernel/codes', i32([300], Array.from({ length: 300 }, (_, i) => (i % 7 === 0 ? i % 5 : 16))));
  c.tensors.set('weights/p/kernel', f32([200], Array.from({ length: 200 }, (_, i) => (i % 9 === 0 ? i / 7 : 0))));
  c.tensors.set('weights/d/kernel/centroids', f32([4], [0.5, -1.25, 0.099975586, 0]));
  return c;
}

/** The four prelude fields of container bytes. */
function prelude(bytes: Uint8Array): { version: number; h: number; d: number } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return { version: view.getUint32(4, true), h: view.getUint32(8, true), d: view.getUint32(12, true) };
}

test('format 3 (compressHeader): meta and every tensor read back bit-exactly; the header is [inflated length][raw deflate][zero padding], the data section that of format 2; format 2 by default', () => {
  const c = sampleCoded();
  const v2 = encodeCheckpoint(c), v3 = encodeCheckpoint(c, 'c.wsm', { compressHeader: true });
  assert.equal(CHECKPOINT_COMPRESSED_VERSION, 3);
  assert.equal(prelude(v2).version, 2, 'format 2 unless asked');
  assert.equal(prelude(encodeCheckpoint(c, 'c.wsm', { compressHeader: false })).version, 2);
  const p2 = prelude(v2), p3 = prelude(v3);
  assert.equal(p3.version, 3);
  assert.equal(p3.h % 8, 0, 'the data section starts 8-byte aligned');
  assert.ok(p3.h < p2.h / 2, `header ${p3.h} bytes deflated vs ${p2.h} plain`);
  assert.equal(p3.d, p2.d);
  assert.deepEqual(v3.subarray(16 + p3.h, 16 + p3.h + p3.d), v2.subarray(16 + p2.h, 16 + p2.h + p2.d), 'the same data section');
  // The field, read by node:zlib (an independent inflater): the JSON of format 2 with "format":3, its length first.
  const json2 = new TextDecoder().decode(v2.subarray(16, 16 + p2.h)).trimEnd();
  const field = v3.subarray(16, 16 + p3.h);
  const declared = new DataView(field.buffer, field.byteOffset).getUint32(0, true);
  const json3 = new TextDecoder().decode(inflateRawSync(field.subarray(4)));
  assert.equal(json3, json2.replace('"format":2', '"format":3'));
  assert.equal(declared, new TextEncoder().encode(json3).length);
  const streamEnd = 4 + deflateRawSync(new TextEncoder().encode(json3), { level: 9 }).length;
  assert.ok(field.subarray(streamEnd + 40).every((b) => b === 0) && field.length - streamEnd < 48, 'zero padding after the stream (fflate\'s stream is within a few bytes of zlib\'s)');
  assert.deepEqual(headerJson(v3), new TextEncoder().encode(json3));
  const back = decodeCheckpoint(v3, 'c.wsm');
  assertSame(back, c);
  assert.equal(back.stored!.fileBytes, v3.length);
  assert.deepEqual(back.stored!.tensorBytes, decodeCheckpoint(v2).stored!.tensorBytes, 'each tensor stores the same bytes in both formats');
  assertSame(decodeCheckpoint(encodeCheckpoint({ meta: null, tensors: new Map() }, 'e.wsm', { compressHeader: true })), { meta: null, tensors: new Map() });
  // A header zlib deflated (another encoder) reads the same.
  assertSame(decodeCheckpoint(replaceHeader(v3, compressedField(new TextEncoder().encode(json3))), 'c.wsm'), c);
});

/** Format-3 bytes of sampleCoded() whose header field is `field` (CRC fixed). */
const withField = (field: Uint8Array): Uint8Array => replaceHeader(encodeCheckpoint(sampleCoded(), 'c.wsm', { compressHeader: true }), field);

test('format 3, hostile headers: a declared length above 16 MiB, a stream that inflates to more or fewer bytes than declared, or that is not deflate, is a one-line error naming the file', () => {
  const json = new TextEncoder().encode(JSON.stringify({ format: 3, meta: null, tensors: [] }));
  const ok = withField(compressedField(json));
  assert.equal(decodeCheckpoint(ok, 'c.wsm').meta, null, 'the crafted file reads (guards the cases below)');
  decodeFails(withField(compressedField(json, undefined, MAX_HEADER_BYTES + 1)), /^model\.wshr: compressed header declares 16777217 bytes inflated, above the limit of 16777216 bytes \(16 MiB\)$/);
  decodeFails(withField(compressedField(json, undefined, 2 ** 32 - 1)), /declares 4294967295 bytes inflated, above the limit/);
  decodeFails(withField(compressedField(json, undefined, json.length - 1)), new RegExp(`^model\\.wshr: compressed header inflates to more than the ${json.length - 1} bytes it declares$`));
  decodeFails(withField(compressedField(json, undefined, json.length + 1)), new RegExp(`^model\\.wshr: compressed header inflates to ${json.length} bytes, not the ${json.length + 1} it declares$`));
  decodeFails(withField(compressedField(json, undefined, 0)), /^model\.wshr: compressed header inflates to more than the 0 bytes it declares$/);
  decodeFails(withField(compressedField(json, json)), /^model\.wshr: compressed header is not valid deflate data \(invalid (block type|length\/literal|distance)\)$/);
  decodeFails(withField(compressedField(json, Uint8Array.of(0xff, 0xff, 0xff, 0xff))), /^model\.wshr: compressed header is not valid deflate data \(/);
  const stream = deflateRawSync(json, { level: 9 });
  decodeFails(withField(compressedField(json, stream.subarray(0, stream.length - 3))), /^model\.wshr: compressed header (is not valid deflate data \(unexpected EOF\)|inflates to \d+ bytes, not the \d+ it declares)$/);
  decodeFails(withField(compressedField(json, new Uint8Array(0))), /^model\.wshr: compressed header is not valid deflate data \(unexpected EOF\)$/);
  decodeFails(withField(new Uint8Array(0)), /^model\.wshr: compressed header is 0 bytes, too short to hold its inflated length \(4 bytes\)$/);
  // JSON that is not a header, or says another format, fails as in format 2.
  decodeFails(withField(compressedField(new TextEncoder().encode('{"format":3,'))), /header is not valid JSON/);
  decodeFails(withField(compressedField(Uint8Array.of(0x22, 0xff, 0x22))), /header is not valid UTF-8/);
  decodeFails(withField(compressedField(new TextEncoder().encode('{"format":2,"meta":null,"tensors":[]}'))), /header says format 2 but the prelude says version 3$/);
  // Format 2 readers of a format-3 header: plain JSON under version 3 is not deflate.
  const plain = encodeCheckpoint(sampleCoded());
  const relabelled = Uint8Array.from(plain);
  new DataView(relabelled.buffer).setUint32(4, 3, true);
  throwsCkpt(() => decodeCheckpoint(fixCrc(relabelled), 'x.wsm'), 'x.wsm', /^x\.wsm: compressed header (declares \d+ bytes inflated, above the limit|is not valid deflate data|inflates to)/);
});

test('format 3, a deflate bomb: ~1 MiB that would inflate to 1 GiB fails after one step past the declared length, in bounded memory and CPU time', () => {
  const stream = deflateBomb(256);
  assert.equal(inflateRawSync(deflateBomb(2)).length, 8 * 2 ** 20, 'two blocks inflate to 8 MiB (guards the bomb)');
  assert.ok(stream.length < 1.2 * 2 ** 20, `the bomb is ${stream.length} bytes`);
  for (const declared of [1000, MAX_HEADER_BYTES]) {
    const bytes = withField(compressedField(new Uint8Array(0), stream, declared));
    const cpu = process.cpuUsage();
    const r = measurePeak(() => decodeCheckpoint(bytes, 'bomb.wsm'));
    const used = process.cpuUsage(cpu);
    assert.ok(r.error instanceof CheckpointError, String(r.error));
    assert.equal(r.error.message, `bomb.wsm: compressed header inflates to more than the ${declared} bytes it declares`);
    assert.ok(r.peakRise < 64 * 2 ** 20, `peak RSS rose by ${(r.peakRise / 2 ** 20).toFixed(0)} MiB (bound 64 MiB)`);
    assert.ok(used.user + used.system < 2e6, `CPU ${((used.user + used.system) / 1e6).toFixed(2)} s (bound 2 s; inflating it all takes ~10 s)`);
  }
});

test('format 3: a header above 16 MiB of JSON is refused when asked to compress it (readers would refuse it); format 2 holds it', () => {
  const big: CheckpointContents = { meta: 'x'.repeat(MAX_HEADER_BYTES), tensors: new Map() };
  throwsCkpt(() => encodeCheckpoint(big, 'big.wsm', { compressHeader: true }), 'big.wsm', /^big\.wsm: header is 16777251 bytes of JSON, above the 16777216 bytes \(16 MiB\) a compressed header may hold; write it uncompressed$/);
  assert.equal(prelude(encodeCheckpoint(big)).version, 2);
});
