// IDX file format (MNIST, Fashion-MNIST, EMNIST): a validating reader (raw or gzip) and a writer.
import { readFileSync } from 'node:fs';
import { constants as zlibConstants, gunzipSync, gzipSync } from 'node:zlib';
import { DataError } from './data-error.js';

export { DataError };

/** Element types of the IDX format, named after the typed array that holds them. */
export type IdxDType = 'uint8' | 'int8' | 'int16' | 'int32' | 'float32' | 'float64';

/** The typed array of each IDX element type. */
export type IdxData = Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;

/** A decoded IDX file: dimensions (outermost first), element type and the elements in row-major order. */
export interface IdxArray {
  shape: number[];
  dtype: IdxDType;
  data: IdxData;
}

interface TypeInfo { code: number; dtype: IdxDType; size: number }
const TYPES: TypeInfo[] = [
  { code: 0x08, dtype: 'uint8', size: 1 },
  { code: 0x09, dtype: 'int8', size: 1 },
  { code: 0x0b, dtype: 'int16', size: 2 },
  { code: 0x0c, dtype: 'int32', size: 4 },
  { code: 0x0d, dtype: 'float32', size: 4 },
  { code: 0x0e, dtype: 'float64', size: 8 },
];

const hex = (v: number, digits = 2): string => `0x${v.toString(16).padStart(digits, '0')}`;

/** The bytes of `source` (a path is read; bytes pass through); a file that cannot be read is a DataError naming it. */
export function readSource(source: string | Uint8Array, name: string): Uint8Array {
  if (typeof source !== 'string') return source;
  try {
    return readFileSync(source);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new DataError(name, code === 'ENOENT' ? 'file not found' : `cannot read file (${(e as Error).message})`);
  }
}

/** True when the bytes start with the gzip magic number 1f 8b. */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/**
 * Reads an IDX file (a path, or its bytes) and validates it: two zero bytes, a known type code, a rank
 * of 1–255, big-endian uint32 dimensions, and a length of exactly header + prod(dims)·itemSize.
 * Gzip input (magic 1f 8b) is inflated with bounded memory: the IDX header is read from the first bytes of the
 * stream, and inflation stops as soon as it passes the size that header promises (or deflate's largest ratio, 1032:1,
 * times the compressed size, if that is less). `name` labels error messages (default: the path).
 * Throws `DataError` naming the file, the byte offset and the expected vs found value.
 */
export function readIdx(source: string | Uint8Array, opts: { name?: string } = {}): IdxArray {
  const name = opts.name ?? (typeof source === 'string' ? source : 'IDX data');
  let bytes = readSource(source, name);
  if (isGzip(bytes)) bytes = gunzipIdx(bytes, name);
  return decodeIdx(bytes, name);
}

/** Deflate's largest expansion (a 258-byte match per 2 bits, about 1032:1). */
const DEFLATE_MAX_RATIO = 1032;
/** Compressed bytes inflated first to find the IDX header (at most 4 + 4·255 bytes). */
const HEAD_PREFIX = 16384;

/** Inflates a gzip IDX file to at most the size its own header promises; a DataError when the stream says otherwise. */
function gunzipIdx(bytes: Uint8Array, name: string): Uint8Array {
  const inflate = (input: Uint8Array, o: { finishFlush?: number; maxOutputLength: number }): Uint8Array => {
    try {
      return gunzipSync(input, o);
    } catch (e) {
      if ((e as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') throw e;
      throw new DataError(name, `corrupt gzip data (${(e as Error).message})`);
    }
  };
  // A stream of at most HEAD_PREFIX bytes inflates to at most 1032 times that: read it whole; decodeIdx checks it.
  if (bytes.length <= HEAD_PREFIX) return inflate(bytes, { maxOutputLength: DEFLATE_MAX_RATIO * HEAD_PREFIX + 1024 });
  const head = inflate(bytes.subarray(0, HEAD_PREFIX), { finishFlush: zlibConstants.Z_SYNC_FLUSH, maxOutputLength: DEFLATE_MAX_RATIO * HEAD_PREFIX + 1024 });
  const h = parseHeader(head, name, true);
  if (!h) throw new DataError(name, `gzip data: no complete IDX header in the first ${HEAD_PREFIX} compressed bytes`);
  // What the header promises, and never more than deflate can give (a shorter result is reported as truncated).
  const promised = Math.min(h.header + h.count * h.type.size, DEFLATE_MAX_RATIO * bytes.length + 1024);
  try {
    return inflate(bytes, { maxOutputLength: promised });
  } catch (e) {
    if (e instanceof DataError) throw e;
    throw new DataError(name, `gzip data inflates to more than the ${promised} bytes its header promises (shape [${h.shape.join(', ')}] ${h.type.dtype}); stopped there`);
  }
}

interface IdxHeader { type: TypeInfo; shape: number[]; count: number; header: number }

/** The header of IDX bytes (DataError when malformed); with `partial`, undefined when the bytes end inside the header. */
function parseHeader(bytes: Uint8Array, name: string, partial = false): IdxHeader | undefined {
  if (bytes.length < 4) {
    if (partial) return undefined;
    throw new DataError(name, `truncated header at byte offset ${bytes.length}: expected a 4-byte magic number, found ${bytes.length} bytes`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    const magic = view.getUint32(0, false);
    throw new DataError(name, `bad magic number at byte offset 0: expected 0x0000TTRR (two zero bytes, type, rank) e.g. 0x00000803, found ${hex(magic, 8)} (not an IDX file?)`);
  }
  const type = TYPES.find((t) => t.code === bytes[2]);
  if (!type) {
    throw new DataError(name, `unknown type code at byte offset 2: expected one of ${TYPES.map((t) => `${hex(t.code)} (${t.dtype})`).join(', ')}, found ${hex(bytes[2])}`);
  }
  const rank = bytes[3];
  if (rank === 0) throw new DataError(name, 'bad rank at byte offset 3: expected at least 1 dimension, found 0');
  const header = 4 + 4 * rank;
  if (bytes.length < header) {
    if (partial) return undefined;
    throw new DataError(name, `truncated header at byte offset ${bytes.length}: expected ${header} header bytes for rank ${rank}, found ${bytes.length}`);
  }
  const shape: number[] = [];
  let count = 1;
  for (let i = 0; i < rank; i++) {
    const d = view.getUint32(4 + 4 * i, false);
    shape.push(d);
    count *= d;
  }
  return { type, shape, count, header };
}

function decodeIdx(bytes: Uint8Array, name: string): IdxArray {
  const { type, shape, count, header } = parseHeader(bytes, name)!;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const expected = count * type.size;
  const found = bytes.length - header;
  if (found < expected) {
    throw new DataError(name, `truncated at byte offset ${header}+${found}: expected ${expected} bytes of data for shape [${shape.join(', ')}] ${type.dtype}, found ${found}`);
  }
  if (found > expected) {
    throw new DataError(name, `unexpected trailing data at byte offset ${header}+${expected}: expected ${expected} bytes of data for shape [${shape.join(', ')}] ${type.dtype}, found ${found}`);
  }
  return { shape, dtype: type.dtype, data: decodeData(view, header, count, type.dtype) };
}

function decodeData(view: DataView, off: number, n: number, dtype: IdxDType): IdxData {
  switch (dtype) {
    case 'uint8':
      return new Uint8Array(view.buffer.slice(view.byteOffset + off, view.byteOffset + off + n));
    case 'int8':
      return new Int8Array(view.buffer.slice(view.byteOffset + off, view.byteOffset + off + n));
    case 'int16': {
      const a = new Int16Array(n);
      for (let i = 0; i < n; i++) a[i] = view.getInt16(off + 2 * i, false);
      return a;
    }
    case 'int32': {
      const a = new Int32Array(n);
      for (let i = 0; i < n; i++) a[i] = view.getInt32(off + 4 * i, false);
      return a;
    }
    case 'float32': {
      const a = new Float32Array(n);
      for (let i = 0; i < n; i++) a[i] = view.getFloat32(off + 4 * i, false);
      return a;
    }
    case 'float64': {
      const a = new Float64Array(n);
      for (let i = 0; i < n; i++) a[i] = view.getFloat64(off + 8 * i, false);
      return a;
    }
  }
}

/**
 * Encodes an array as IDX bytes (big-endian), gzipped when `gzip` is set. The data length must equal
 * prod(shape); throws `DataError` otherwise. Used by tests and for exporting inputs.
 */
export function writeIdx(arr: IdxArray, opts: { gzip?: boolean } = {}): Uint8Array {
  const type = TYPES.find((t) => t.dtype === arr.dtype);
  if (!type) throw new DataError('writeIdx', `unknown dtype ${String(arr.dtype)}`);
  if (arr.shape.length < 1 || arr.shape.length > 255) {
    throw new DataError('writeIdx', `rank must be 1–255, found ${arr.shape.length}`);
  }
  const count = arr.shape.reduce((a, b) => a * b, 1);
  if (count !== arr.data.length) {
    throw new DataError('writeIdx', `shape [${arr.shape.join(', ')}] needs ${count} elements, found ${arr.data.length}`);
  }
  const header = 4 + 4 * arr.shape.length;
  const out = new Uint8Array(header + count * type.size);
  const view = new DataView(out.buffer);
  out[2] = type.code;
  out[3] = arr.shape.length;
  arr.shape.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  const d = arr.data;
  for (let i = 0; i < count; i++) {
    const o = header + i * type.size;
    switch (arr.dtype) {
      case 'uint8': view.setUint8(o, d[i]); break;
      case 'int8': view.setInt8(o, d[i]); break;
      case 'int16': view.setInt16(o, d[i], false); break;
      case 'int32': view.setInt32(o, d[i], false); break;
      case 'float32': view.setFloat32(o, d[i], false); break;
      case 'float64': view.setFloat64(o, d[i], false); break;
    }
  }
  return opts.gzip ? new Uint8Array(gzipSync(out)) : out;
}
