// Editing model-file bytes as an attacker would: rewrite the JSON header or the bytes and fix the CRC-32 so the checksum passes.
import { crc32 } from '../../src/io/crc32.js';

/** The parsed JSON header of a model file ({format, meta, tensors}). */
export interface FileHeader {
  format: number;
  meta: any;
  tensors: { name: string; dtype: string; shape: number[]; offset: number; length: number; encoding?: Record<string, unknown> }[];
}

/** The header of model-file bytes, parsed. */
export function readHeader(bytes: Uint8Array): FileHeader {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return JSON.parse(new TextDecoder().decode(bytes.subarray(16, 16 + view.getUint32(8, true)))) as FileHeader;
}

/** Recomputes the trailing CRC-32 of model-file bytes in place (a forged file whose checksum is right); returns them. */
export function fixCrc(bytes: Uint8Array): Uint8Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  view.setUint32(bytes.length - 4, crc32(bytes.subarray(0, bytes.length - 4)), true);
  return bytes;
}

/** Model-file bytes with the header rewritten by `edit` (padded to 8 bytes, data section kept) and a correct CRC. */
export function editHeader(bytes: Uint8Array, edit: (h: FileHeader) => void): Uint8Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const h = readHeader(bytes);
  edit(h);
  const text = new TextEncoder().encode(JSON.stringify(h));
  const headerLength = Math.ceil(text.length / 8) * 8;
  const dataLength = view.getUint32(12, true);
  const data = bytes.subarray(16 + view.getUint32(8, true), 16 + view.getUint32(8, true) + dataLength);
  const out = new Uint8Array(16 + headerLength + dataLength + 4);
  const o = new DataView(out.buffer);
  out.set(bytes.subarray(0, 8), 0);
  o.setUint32(8, headerLength, true);
  o.setUint32(12, dataLength, true);
  out.set(text, 16);
  out.fill(0x20, 16 + text.length, 16 + headerLength);
  out.set(data, 16 + headerLength);
  return fixCrc(out);
}

/** The layer config named `name` in a header's meta (its model config). */
export function layerConfig(meta: any, name: string): Record<string, unknown> {
  const spec = (meta.model.layers as { config: Record<string, unknown> }[]).find((l) => l.config.name === name);
  if (!spec) throw new Error(`no layer '${name}' in the header`);
  return spec.config;
}
