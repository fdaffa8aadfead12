// Editing model-file bytes as an attacker would: rewrite the JSON header or the bytes and fix the CRC-32 so the checksum passes.
import { constants, deflateRawSync, inflateRawSync } from 'node:zlib';
import { crc32 } from '../../src/io/crc32.js';

/** The parsed JSON header of a model file ({format, meta, tensors}). */
export interface FileHeader {
  format: number;
  meta: any;
  tensors: { name: string; dtype: string; shape: number[]; offset: number; length: number; encoding?: Record<string, unknown> }[];
}

/** The JSON bytes of a model file's header: the H bytes after the prelude, inflated for format 3 (node:zlib, not the reader's fflate). */
export function headerJson(bytes: Uint8Array): Uint8Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const field = bytes.subarray(16, 16 + view.getUint32(8, true));
  if (view.getUint32(4, true) !== 3) return field;
  const json = inflateRawSync(field.subarray(4), { maxOutputLength: view.getUint32(16, true) });
  return new Uint8Array(json.buffer, json.byteOffset, json.length);
}

/** The header of model-file bytes, parsed (format 3's inflated first). */
export function readHeader(bytes: Uint8Array): FileHeader {
  return JSON.parse(new TextDecoder().decode(headerJson(bytes))) as FileHeader;
}

/** Recomputes the trailing CRC-32 of model-file bytes in place (a forged file whose checksum is right); returns them. */
export function fixCrc(bytes: Uint8Array): Uint8Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  view.setUint32(bytes.length - 4, crc32(bytes.subarray(0, bytes.length - 4)), true);
  return bytes;
}

/**
 * Model-file bytes whose header field is `field` (padded to 8 bytes: spaces, or zeros for format 3), with the prelude's
 * magic and version and the data section of `bytes`, and a correct CRC.
 */
export function replaceHeader(bytes: Uint8Array, field: Uint8Array): Uint8Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = Math.ceil(field.length / 8) * 8;
  const dataLength = view.getUint32(12, true);
  const data = bytes.subarray(16 + view.getUint32(8, true), 16 + view.getUint32(8, true) + dataLength);
  const out = new Uint8Array(16 + headerLength + dataLength + 4);
  const o = new DataView(out.buffer);
  out.set(bytes.subarray(0, 8), 0);
  o.setUint32(8, headerLength, true);
  o.setUint32(12, dataLength, true);
  out.set(field, 16);
  if (view.getUint32(4, true) !== 3) out.fill(0x20, 16 + field.length, 16 + headerLength);
  out.set(data, 16 + headerLength);
  return fixCrc(out);
}

/** The header field of format 3 for JSON bytes: their length (uint32 LE), then `stream` (default: them deflated raw by node:zlib, level 9). */
export function compressedField(json: Uint8Array, stream: Uint8Array = deflateRawSync(json, { level: 9 }), declared = json.length): Uint8Array {
  const field = new Uint8Array(4 + stream.length);
  new DataView(field.buffer).setUint32(0, declared, true);
  field.set(stream, 4);
  return field;
}

/**
 * A raw DEFLATE "bomb": `blocks` blocks of 4 MiB of zeros (each ~4 KiB, ending in a sync flush: byte-aligned, not final),
 * then an empty final block; 256 blocks are ~1 MiB that inflate to 1 GiB (deflate expands at most ~1032×).
 */
export function deflateBomb(blocks: number): Uint8Array {
  const block = deflateRawSync(new Uint8Array(4 * 2 ** 20), { level: 9, finishFlush: constants.Z_SYNC_FLUSH });
  const stream = new Uint8Array(blocks * block.length + 2);
  for (let k = 0; k < blocks; k++) stream.set(block, k * block.length);
  stream.set([0x03, 0x00], blocks * block.length);
  return stream;
}

/** Model-file bytes with the header rewritten by `edit` (padded to 8 bytes, deflated again for format 3, data section kept) and a correct CRC. */
export function editHeader(bytes: Uint8Array, edit: (h: FileHeader) => void): Uint8Array {
  const h = readHeader(bytes);
  edit(h);
  const text = new TextEncoder().encode(JSON.stringify(h));
  const v3 = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(4, true) === 3;
  return replaceHeader(bytes, v3 ? compressedField(text) : text);
}

/** The layer config named `name` in a header's meta (its model config). */
export function layerConfig(meta: any, name: string): Record<string, unknown> {
  const spec = (meta.model.layers as { config: Record<string, unknown> }[]).find((l) => l.config.name === name);
  if (!spec) throw new Error(`no layer '${name}' in the header`);
  return spec.config;
}
