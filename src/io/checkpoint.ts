// The weightshare model-file container: a JSON header plus named float32/int32 tensors, CRC-32 checked.
//
// Layout (all integers little-endian):
//
//   offset        size  field
//   0             4     magic, the ASCII bytes "WSHR"
//   4             4     format version, uint32 (CHECKPOINT_FORMAT_VERSION, or CHECKPOINT_COMPRESSED_VERSION: below)
//   8             4     header length H in bytes, uint32 (a multiple of 8 when written by us)
//   12            4     data length D in bytes, uint32
//   16            H     header: UTF-8 JSON `{format, meta, tensors: [{name, dtype, shape, offset, length,
//                       encoding?}]}`, right-padded with ASCII spaces so that the data section starts 8-byte aligned
//   16+H          D     data section: each tensor's bytes, one after another in header order; `offset` and
//                       `length` are in bytes from the start of this section. A tensor without `encoding`
//                       is its elements, row-major, little-endian, at an offset that is a multiple of the
//                       element size; one with `encoding` (format 2: {kind: 'sparse', …}, see codec.ts) is
//                       that codec's payload: the entries that differ from a fill value as Huffman-coded
//                       gaps plus their values (Deep Compression's relative indexing and Huffman coding).
//                       dtype 'float16' (format 2) holds float32 values that are all exact halves (centroids rounded
//                       to 16 bits) as little-endian binary16, 2 bytes each at an even offset; they read as float32.
//   16+H+D        4     CRC-32 (IEEE, as zlib/PNG) of bytes [0, 16+H+D), uint32
//
// Format 3 is format 2 whose header is compressed (files for shipping, `compressHeader: true`): its H bytes hold
//
//   16            4     inflated length L of the JSON, uint32, at most MAX_HEADER_BYTES (16 MiB)
//   20            N     the UTF-8 JSON (its `format` is 3) compressed with raw DEFLATE (RFC 1951, no zlib or gzip
//                       wrapper), the stream ending at its final block
//   20+N          P     zero bytes, 0 ≤ P < 8, so that H = 4 + N + P is a multiple of 8 and the data stays 8-byte aligned
//
// Everything else is format 2's. A reader inflates at most L bytes, in small steps, so a stream that would inflate to
// more (a deflate "bomb") fails after the first step past L; a stream that ends short of L, or is not deflate, fails too.
// Format 1 is format 2 without encodings. This build reads 1, 2 and 3; it writes 2, or 3 when asked to compress the
// header (so that ordinary files stay readable by older builds, and by eye).
// The fixed 16-byte prelude gives the expected file size before anything else is parsed, so a
// truncated file is reported as such rather than as a checksum or JSON error. The version is
// checked before the checksum so that a newer file asks for an upgrade rather than looking damaged.
// Sizes are uint32, so one file holds at most 4 GiB of tensor data (the wasm32 memory limit anyway).
// This module is platform-neutral (no Node imports); src/io/files.ts reads and writes files.

import { deflateSync, Inflate } from 'fflate';
import { fromHalf, halfExact, toHalf } from '../core/half.js';
import { decodeSparse, encodeSparse, type SparseEncoding } from './codec.js';
import { crc32 } from './crc32.js';
import { maxElements, RAISE_MAX_ELEMENTS } from './limits.js';

/** The format version this build writes by default (the header as plain JSON). */
export const CHECKPOINT_FORMAT_VERSION = 2;
/** The format version written with `compressHeader: true` (format 2 with a deflated header), and the newest this build reads. */
export const CHECKPOINT_COMPRESSED_VERSION = 3;
/** The most bytes a compressed header may inflate to (16 MiB): a file declaring more is refused before inflating. */
export const MAX_HEADER_BYTES = 16 * 2 ** 20;

/** Element types a checkpoint can hold. */
export type StoredDType = 'float32' | 'int32';

/** One named tensor in a checkpoint: element type, dimensions (outermost first) and row-major elements. */
export interface StoredTensor {
  dtype: StoredDType;
  shape: number[];
  data: Float32Array | Int32Array;
}

/** What a checkpoint holds: caller JSON (`meta`) and named tensors, in insertion order. */
export interface CheckpointContents {
  meta: unknown;
  tensors: Map<string, StoredTensor>;
  /** Set by decodeCheckpoint: the file's size and each tensor's stored bytes (coded or raw). */
  stored?: { fileBytes: number; tensorBytes: Map<string, number> };
}

/** A checkpoint that cannot be written or read; the message, one line, starts with the file name. */
export class CheckpointError extends Error {
  constructor(file: string, message: string, options?: { cause?: unknown }) {
    super(`${file}: ${message.replace(/\s*\n\s*/g, ' ')}`, options);
    this.name = 'CheckpointError';
  }
}

const MAGIC = [0x57, 0x53, 0x48, 0x52]; // "WSHR"
const PRELUDE = 16;
const TRAILER = 4;
const ALIGN = 8;
const MAX_U32 = 0xffffffff;
const ELEMENT_SIZE: Record<StoredDType, number> = { float32: 4, int32: 4 };
const LITTLE_ENDIAN_HOST = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

/** CRC-32 (see src/io/crc32.ts), re-exported for this module's callers. */
export { crc32 };

const hex32 = (n: number): string => `0x${n.toString(16).padStart(8, '0')}`;
const isCount = (n: unknown): n is number => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;

/** Number of elements of `shape`, or -1 when some dimension is not a non-negative safe integer or the product overflows. */
function elementCount(shape: unknown): number {
  if (!Array.isArray(shape)) return -1;
  let n = 1;
  for (const d of shape) {
    if (!isCount(d)) return -1;
    n *= d;
  }
  return Number.isSafeInteger(n) ? n : -1;
}

/** JSON.stringify replacer that refuses NaN and ±Infinity, which JSON would silently turn into null. */
function strictJson(key: string, value: unknown): unknown {
  if (typeof value === 'number' && !Number.isFinite(value)) {
    throw new Error(`meta holds ${value} under key ${JSON.stringify(key)}, which JSON cannot represent`);
  }
  return value;
}

/** How {@link encodeCheckpoint} writes a file. */
export interface EncodeOptions {
  /**
   * Compress the JSON header with raw DEFLATE (format 3, see the top of checkpoint.ts): for files for shipping, where the
   * header (model config, tensor table) can be a third of a compressed model's bytes. Default false: format 2, whose
   * header older builds and a text editor can read.
   */
  compressHeader?: boolean;
}

/**
 * Encodes a checkpoint into the container described at the top of this file (format 2, or 3 with
 * `o.compressHeader`). Rejects empty names, unknown dtypes, data of the wrong typed-array class, shapes
 * that are not lists of non-negative integers, data whose length is not the product of the shape, and
 * meta that JSON cannot hold exactly (cycles, BigInt, non-finite numbers). `file` names the target in
 * error messages.
 */
export function encodeCheckpoint(c: CheckpointContents, file = '<bytes>', o: EncodeOptions = {}): Uint8Array {
  const version = o.compressHeader ? CHECKPOINT_COMPRESSED_VERSION : CHECKPOINT_FORMAT_VERSION;
  const entries: { name: string; dtype: StoredDType | 'float16'; shape: number[]; offset: number; length: number; encoding?: SparseEncoding }[] = [];
  const sources: Uint8Array[] = [];
  let dataLength = 0;
  for (const [name, t] of c.tensors) {
    const what = `tensor ${JSON.stringify(name)}`;
    if (typeof name !== 'string' || name.length === 0) throw new CheckpointError(file, `tensor names must be non-empty strings, got ${JSON.stringify(name)}`);
    if (t.dtype !== 'float32' && t.dtype !== 'int32') throw new CheckpointError(file, `${what}: unknown dtype ${JSON.stringify(t.dtype)} (known: float32, int32)`);
    const ctor = t.dtype === 'float32' ? Float32Array : Int32Array;
    if (!(t.data instanceof ctor)) throw new CheckpointError(file, `${what}: dtype ${t.dtype} needs a ${ctor.name}, got ${t.data?.constructor?.name ?? typeof t.data}`);
    const n = elementCount(t.shape);
    if (n < 0) throw new CheckpointError(file, `${what}: shape ${JSON.stringify(t.shape)} is not a list of non-negative integers`);
    if (n !== t.data.length) throw new CheckpointError(file, `${what}: shape [${t.shape.join(', ')}] has ${n} elements but data has ${t.data.length}`);
    const coded = worthCoding(t.data) ? encodeSparse(t.data) : undefined;
    if (coded) {
      entries.push({ name, dtype: t.dtype, shape: [...t.shape], offset: dataLength, length: coded.bytes.length, encoding: coded.encoding });
      sources.push(coded.bytes);
      dataLength += coded.bytes.length;
      continue;
    }
    if (t.data instanceof Float32Array && n > 0 && halfExact(t.data)) {
      // Every value an exact half (centroids rounded to 16 bits): 2 bytes each, lossless.
      const halves = new Uint8Array(2 * n);
      const view = new DataView(halves.buffer);
      for (let i = 0; i < n; i++) view.setUint16(2 * i, toHalf(t.data[i]!), true);
      dataLength = Math.ceil(dataLength / 2) * 2;
      entries.push({ name, dtype: 'float16', shape: [...t.shape], offset: dataLength, length: 2 * n });
      sources.push(halves);
      dataLength += 2 * n;
      continue;
    }
    const length = n * ELEMENT_SIZE[t.dtype];
    dataLength = Math.ceil(dataLength / ELEMENT_SIZE[t.dtype]) * ELEMENT_SIZE[t.dtype];
    entries.push({ name, dtype: t.dtype, shape: [...t.shape], offset: dataLength, length });
    sources.push(new Uint8Array(t.data.buffer, t.data.byteOffset, length));
    dataLength += length;
  }
  if (dataLength > MAX_U32) throw new CheckpointError(file, `tensor data is ${dataLength} bytes; one file holds at most ${MAX_U32}`);

  let json: string;
  try {
    json = JSON.stringify({ format: version, meta: c.meta === undefined ? null : c.meta, tensors: entries }, strictJson);
  } catch (e) {
    throw new CheckpointError(file, `meta cannot be stored as JSON: ${(e as Error).message}`, { cause: e });
  }
  const headerText = new TextEncoder().encode(json);
  if (o.compressHeader && headerText.length > MAX_HEADER_BYTES) {
    throw new CheckpointError(file, `header is ${headerText.length} bytes of JSON, above the ${MAX_HEADER_BYTES} bytes (16 MiB) a compressed header may hold; write it uncompressed`);
  }
  // Format 3: the inflated length, then the deflated JSON; zero-padded below (the output starts zeroed).
  const field = o.compressHeader ? deflateSync(headerText, { level: 9 }) : headerText;
  const fieldStart = o.compressHeader ? PRELUDE + 4 : PRELUDE;
  const headerLength = Math.ceil((fieldStart - PRELUDE + field.length) / ALIGN) * ALIGN;
  if (headerLength > MAX_U32) throw new CheckpointError(file, `header is ${headerLength} bytes; one file holds at most ${MAX_U32}`);

  const dataStart = PRELUDE + headerLength;
  const out = new Uint8Array(dataStart + dataLength + TRAILER);
  const view = new DataView(out.buffer);
  out.set(MAGIC, 0);
  view.setUint32(4, version, true);
  view.setUint32(8, headerLength, true);
  view.setUint32(12, dataLength, true);
  if (o.compressHeader) view.setUint32(PRELUDE, headerText.length, true);
  out.set(field, fieldStart);
  if (!o.compressHeader) out.fill(0x20, PRELUDE + headerText.length, dataStart);
  entries.forEach((e, i) => {
    const at = dataStart + e.offset;
    out.set(sources[i]!, at);
    if (!e.encoding && e.dtype !== 'float16' && !LITTLE_ENDIAN_HOST) swap32(out.subarray(at, at + e.length));
  });
  view.setUint32(dataStart + dataLength, crc32(out.subarray(0, dataStart + dataLength)), true);
  return out;
}

/**
 * Whether a tensor is worth offering to the sparse codec (a cheap scan; the codec still keeps raw data when coding
 * does not pay): int32 state (codebook codes, indices), and float32 data that is mostly +0 (pruned weights and their
 * optimizer slots) or all small integers (masks). Ordinary float32 weights are written raw without trying.
 */
function worthCoding(data: Float32Array | Int32Array): boolean {
  if (data.length < 64) return false;
  if (data instanceof Int32Array) return true;
  let zeros = 0, ints = 0;
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (v === 0) zeros++;
    else if (Number.isInteger(v)) ints++;
  }
  return 2 * zeros >= data.length || zeros + ints === data.length;
}

/** Reverses the byte order of every 4-byte word in place (only used on big-endian hosts). */
function swap32(b: Uint8Array): void {
  for (let i = 0; i + 3 < b.length; i += 4) {
    const b0 = b[i]!, b1 = b[i + 1]!;
    b[i] = b[i + 3]!; b[i + 1] = b[i + 2]!; b[i + 2] = b1; b[i + 3] = b0;
  }
}

/** Printable form of the first bytes of a file, for the bad-magic message. */
function describeMagic(bytes: Uint8Array): string {
  const head = Array.from(bytes.subarray(0, 4));
  const text = head.map((b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join('');
  return `${head.map((b) => b.toString(16).padStart(2, '0')).join(' ')} "${text}"`;
}

/** Compressed bytes handed to the inflater at a time: one step inflates to at most ~1 MiB (deflate expands ≤ 1032×). */
const INFLATE_STEP = 1024;

/**
 * The JSON bytes of a format-3 header field (its H bytes: inflated length L, raw DEFLATE stream, zero padding),
 * inflated to exactly L bytes or refused by `fail`: L above {@link MAX_HEADER_BYTES}, a stream that is not deflate,
 * ends early, or inflates to more or fewer than L bytes. The stream is fed in {@link INFLATE_STEP}-byte steps and
 * stopped at the first step that passes L, so memory and time stay bounded by L (plus one step) whatever the stream
 * would inflate to. Bytes after the stream's final block (the padding) are not inspected (the CRC covers them).
 */
function inflateHeader(field: Uint8Array, fail: (message: string) => never): Uint8Array {
  if (field.length < 4) fail(`compressed header is ${field.length} bytes, too short to hold its inflated length (4 bytes)`);
  const declared = new DataView(field.buffer, field.byteOffset, 4).getUint32(0, true);
  if (declared > MAX_HEADER_BYTES) fail(`compressed header declares ${declared} bytes inflated, above the limit of ${MAX_HEADER_BYTES} bytes (16 MiB)`);
  const stream = field.subarray(4);
  const out = new Uint8Array(declared);
  let at = 0, over = false;
  const inflater = new Inflate((chunk) => {
    if (over || at + chunk.length > declared) {
      over = true;
      return;
    }
    out.set(chunk, at);
    at += chunk.length;
  });
  try {
    let i = 0;
    do {
      inflater.push(stream.subarray(i, i + INFLATE_STEP), i + INFLATE_STEP >= stream.length);
      i += INFLATE_STEP;
    } while (i < stream.length && !over);
  } catch (e) {
    fail(`compressed header is not valid deflate data (${(e as Error).message})`);
  }
  if (over) fail(`compressed header inflates to more than the ${declared} bytes it declares`);
  if (at !== declared) fail(`compressed header inflates to ${at} bytes, not the ${declared} it declares`);
  return out;
}

/** How {@link decodeCheckpoint} treats sizes and coded tensors. */
export interface DecodeOptions {
  /**
   * The most elements one tensor may have, and the coded tensors of the file together when decoded eagerly (default
   * `WEIGHTSHARE_MAX_ELEMENTS` or 2^28, see limits.ts): checked from the header, before anything is allocated.
   */
  maxElements?: number;
  /**
   * Decode each coded tensor when its `data` is first read (a CheckpointError naming it then if it does not decode),
   * so that a loader can check the header's shapes first and never expand tensors it refuses (default false: every
   * tensor is decoded and checked here).
   */
  lazy?: boolean;
}

/** A stored tensor whose data are decoded on first read, once. */
function lazyTensor(dtype: StoredDType, shape: number[], decode: () => Float32Array | Int32Array): StoredTensor {
  let data: Float32Array | Int32Array | undefined;
  return { dtype, shape, get data() { return (data ??= decode()); } };
}

/**
 * Decodes and validates a checkpoint: magic, version, size, checksum, header JSON and every tensor entry, each
 * tensor's size against `o.maxElements` before it is allocated, and (unless `o.lazy`) every coded payload. Throws a
 * CheckpointError whose one-line message starts with `file`. Returned tensor data are fresh, aligned copies that never
 * alias `bytes`.
 */
export function decodeCheckpoint(bytes: Uint8Array, file = '<bytes>', o: DecodeOptions = {}): CheckpointContents {
  const fail = (message: string): never => { throw new CheckpointError(file, message); };
  const minimum = PRELUDE + TRAILER;
  const truncated = (expected: string): never => fail(`file is truncated: expected ${expected} bytes, found ${bytes.length}`);

  const magicOk = MAGIC.every((m, i) => i >= bytes.length || bytes[i] === m);
  if (!magicOk) fail(`not a weightshare model file (magic ${describeMagic(bytes)}, expected 57 53 48 52 "WSHR")`);
  if (bytes.length < 8) truncated(`at least ${minimum}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint32(4, true);
  if (version === 0) fail('invalid format version 0');
  if (version > CHECKPOINT_COMPRESSED_VERSION) {
    fail(`written by format version ${version}; this weightshare reads up to version ${CHECKPOINT_COMPRESSED_VERSION} — upgrade weightshare`);
  }
  if (bytes.length < minimum) truncated(`at least ${minimum}`);
  const headerLength = view.getUint32(8, true);
  const dataLength = view.getUint32(12, true);
  const dataStart = PRELUDE + headerLength;
  const expected = dataStart + dataLength + TRAILER;
  if (bytes.length < expected) truncated(`${expected}`);
  if (bytes.length > expected) fail(`unexpected trailing data: expected ${expected} bytes, found ${bytes.length}`);
  const stored = view.getUint32(expected - TRAILER, true);
  const computed = crc32(bytes.subarray(0, expected - TRAILER));
  if (stored !== computed) fail(`checksum mismatch: file is damaged (stored ${hex32(stored)}, computed ${hex32(computed)})`);

  const headerBytes = version === CHECKPOINT_COMPRESSED_VERSION ? inflateHeader(bytes.subarray(PRELUDE, dataStart), fail) : bytes.subarray(PRELUDE, dataStart);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(headerBytes);
  } catch {
    return fail('header is not valid UTF-8');
  }
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (e) {
    return fail(`header is not valid JSON (${(e as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) return fail('header is not a JSON object');
  const h = header as Record<string, unknown>;
  if (h.format !== version) fail(`header says format ${JSON.stringify(h.format)} but the prelude says version ${version}`);
  if (!('meta' in h)) fail('header has no "meta" field');
  if (!Array.isArray(h.tensors)) return fail('header field "tensors" is not an array');

  const limit = maxElements(o);
  let coded = 0;
  const tensors = new Map<string, StoredTensor>();
  const tensorBytes = new Map<string, number>();
  h.tensors.forEach((entry: unknown, i: number) => {
    if (typeof entry !== 'object' || entry === null) fail(`tensor entry #${i} is not a JSON object`);
    const e = entry as Record<string, unknown>;
    if (typeof e.name !== 'string' || e.name.length === 0) fail(`tensor entry #${i} has no name (a non-empty string)`);
    const name = e.name as string;
    const what = `tensor ${JSON.stringify(name)}`;
    if (tensors.has(name)) fail(`duplicate tensor name ${JSON.stringify(name)} (entry #${i})`);
    const halves = e.dtype === 'float16' && version >= 2;
    if (e.dtype !== 'float32' && e.dtype !== 'int32' && !halves) fail(`${what}: unknown dtype ${JSON.stringify(e.dtype)} (known: float32, int32${version >= 2 ? ', float16' : ''})`);
    const dtype: StoredDType = halves ? 'float32' : (e.dtype as StoredDType);
    const n = elementCount(e.shape);
    if (n < 0) fail(`${what}: shape ${JSON.stringify(e.shape)} is not a list of non-negative integers`);
    if (!isCount(e.offset) || !isCount(e.length)) fail(`${what}: offset and length must be non-negative integers, got ${JSON.stringify(e.offset)} and ${JSON.stringify(e.length)}`);
    const offset = e.offset as number, length = e.length as number, size = ELEMENT_SIZE[dtype];
    const shape = e.shape as number[];
    if (n > limit) fail(`${what}: shape [${shape.join(', ')}] has ${n} elements, above the limit of ${limit} per tensor (${RAISE_MAX_ELEMENTS})`);
    if (halves) {
      if (e.encoding !== undefined) fail(`${what}: a float16 tensor has no encoding`);
      if (length !== 2 * n) fail(`${what}: length ${length} bytes does not match shape [${shape.join(', ')}] of float16 (${2 * n} bytes)`);
      if (offset % 2 !== 0) fail(`${what}: offset ${offset} is not a multiple of 2`);
      if (offset + length > dataLength) fail(`${what}: bytes [${offset}, ${offset + length}) lie outside the data section (${dataLength} bytes)`);
      const view = new DataView(bytes.buffer, bytes.byteOffset + dataStart + offset, length);
      const data = new Float32Array(n);
      for (let k = 0; k < n; k++) data[k] = fromHalf(view.getUint16(2 * k, true));
      tensors.set(name, { dtype, shape: [...shape], data });
      tensorBytes.set(name, length);
      return;
    }
    if (e.encoding !== undefined) {
      if (version < 2) fail(`${what}: has an encoding, which format ${version} does not allow`);
      if (offset + length > dataLength) fail(`${what}: bytes [${offset}, ${offset + length}) lie outside the data section (${dataLength} bytes)`);
      const decode = (): Float32Array | Int32Array => {
        try {
          return decodeSparse(e.encoding, bytes.subarray(dataStart + offset, dataStart + offset + length), dtype, n);
        } catch (err) {
          return fail(`${what}: ${(err as Error).message}`);
        }
      };
      if (o.lazy) tensors.set(name, lazyTensor(dtype, [...shape], decode));
      else {
        coded += n;
        if (coded > limit) fail(`${what}: the coded tensors up to this one expand to ${coded} elements, above the limit of ${limit} (${RAISE_MAX_ELEMENTS})`);
        tensors.set(name, { dtype, shape: [...shape], data: decode() });
      }
      tensorBytes.set(name, length);
      return;
    }
    if (length !== n * size) fail(`${what}: length ${length} bytes does not match shape [${shape.join(', ')}] of ${dtype} (${n * size} bytes)`);
    if (offset % size !== 0) fail(`${what}: offset ${offset} is not a multiple of ${size}`);
    if (offset + length > dataLength) fail(`${what}: bytes [${offset}, ${offset + length}) lie outside the data section (${dataLength} bytes)`);
    const copy = new Uint8Array(length); // not bytes.slice: Buffer#slice returns a view, not a copy
    copy.set(bytes.subarray(dataStart + offset, dataStart + offset + length));
    if (!LITTLE_ENDIAN_HOST) swap32(copy);
    const data = dtype === 'float32' ? new Float32Array(copy.buffer) : new Int32Array(copy.buffer);
    tensors.set(name, { dtype, shape: [...shape], data });
    tensorBytes.set(name, length);
  });
  return { meta: h.meta, tensors, stored: { fileBytes: bytes.length, tensorBytes } };
}
