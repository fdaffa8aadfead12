// IDX format decoding (browser-safe): element types and a validating decoder of uncompressed IDX bytes.
import { DataError } from './data-error.js';

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

/** One IDX element type: its code in the header, name and byte size. */
export interface IdxTypeInfo { code: number; dtype: IdxDType; size: number }
/** The IDX element types by header code. */
export const IDX_TYPES: readonly IdxTypeInfo[] = [
  { code: 0x08, dtype: 'uint8', size: 1 },
  { code: 0x09, dtype: 'int8', size: 1 },
  { code: 0x0b, dtype: 'int16', size: 2 },
  { code: 0x0c, dtype: 'int32', size: 4 },
  { code: 0x0d, dtype: 'float32', size: 4 },
  { code: 0x0e, dtype: 'float64', size: 8 },
];

const hex = (v: number, digits = 2): string => `0x${v.toString(16).padStart(digits, '0')}`;

/** What an IDX header says: the element type, the dimensions, their product and the header's length in bytes. */
export interface IdxHeader { type: IdxTypeInfo; shape: number[]; count: number; header: number }

/**
 * Reads and checks the header of IDX bytes (two zero bytes, a known type code, a rank of 1–255, big-endian uint32
 * dimensions); a DataError naming `name` when it is malformed. With `partial` (the bytes are only the start of the
 * file), undefined when they end inside the header.
 */
export function parseIdxHeader(bytes: Uint8Array, name: string, partial = false): IdxHeader | undefined {
  if (bytes.length < 4) {
    if (partial) return undefined;
    throw new DataError(name, `truncated header at byte offset ${bytes.length}: expected a 4-byte magic number, found ${bytes.length} bytes`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    const magic = view.getUint32(0, false);
    throw new DataError(name, `bad magic number at byte offset 0: expected 0x0000TTRR (two zero bytes, type, rank) e.g. 0x00000803, found ${hex(magic, 8)} (not an IDX file?)`);
  }
  const type = IDX_TYPES.find((t) => t.code === bytes[2]);
  if (!type) {
    throw new DataError(name, `unknown type code at byte offset 2: expected one of ${IDX_TYPES.map((t) => `${hex(t.code)} (${t.dtype})`).join(', ')}, found ${hex(bytes[2])}`);
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

/**
 * Decodes and validates the bytes of an uncompressed IDX file: its header (see {@link parseIdxHeader}) and a length
 * of exactly header + prod(dims)·itemSize. Throws `DataError` naming `name`, the byte offset and the expected vs found
 * value.
 */
export function decodeIdx(bytes: Uint8Array, name: string): IdxArray {
  const { type, shape, count, header } = parseIdxHeader(bytes, name)!;
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

