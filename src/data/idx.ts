// IDX file format (MNIST, Fashion-MNIST, EMNIST): a validating reader of files (raw or gzip, Node) and a writer.
import { constants as zlibConstants, gunzipSync, gzipSync } from 'node:zlib';
import { DataError } from './data-error.js';
import { readRegularFile } from '../io/read-file.js';
import { decodeIdx, IDX_TYPES, type IdxArray, parseIdxHeader } from './idx-decode.js';

export { DataError };
export { decodeIdx };
export type { IdxArray, IdxData, IdxDType } from './idx-decode.js';

/**
 * The bytes of `source` (a path is read, a regular file only: see readRegularFile; bytes pass through); a file that cannot
 * be read, or a directory, device, FIFO or socket, is a DataError naming it.
 */
export function readSource(source: string | Uint8Array, name: string): Uint8Array {
  if (typeof source !== 'string') return source;
  return readRegularFile(source, { error: (m) => new DataError(name, m) });
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
  const h = parseIdxHeader(head, name, true);
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

/**
 * Encodes an array as IDX bytes (big-endian), gzipped when `gzip` is set. The data length must equal
 * prod(shape); throws `DataError` otherwise. Used by tests and for exporting inputs.
 */
export function writeIdx(arr: IdxArray, opts: { gzip?: boolean } = {}): Uint8Array {
  const type = IDX_TYPES.find((t) => t.dtype === arr.dtype);
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
