// TF.js weight data: the weights manifest, float32 / affine uint8 / uint16 / float16 encodings as tf.io decodes them, shards.
import { fromHalf, toHalf } from '../../core/half.js';

export { fromHalf, toHalf };

/** How weights may be quantised on export: affine uint8 or uint16 per tensor (tfjs-converter's), or float16. */
export type TfjsQuantization = 'uint8' | 'uint16' | 'float16';

/** One weight in a manifest: its name (`dense/kernel`), shape, dtype, and how its bytes are quantised. */
export interface TfjsWeightSpec {
  name: string;
  shape: number[];
  dtype: 'float32' | 'int32';
  /** Values stored as `dtype` (uint8/uint16: w = q·scale + min; float16: IEEE half precision). */
  quantization?: { dtype: TfjsQuantization; min?: number; scale?: number };
  /** 'optimizer' for optimizer state that tfjs-layers may save beside the model's weights. */
  group?: string;
}

/** A weight group of model.json: its shard files, in order, and the weights stored in them one after another. */
export interface TfjsManifestGroup {
  paths: string[];
  weights: TfjsWeightSpec[];
}

/** Bytes per stored value of a spec. */
export function bytesPerValue(spec: TfjsWeightSpec): number {
  const q = spec.quantization?.dtype;
  return q === 'uint8' ? 1 : q === 'uint16' || q === 'float16' ? 2 : 4;
}

/**
 * The largest error that `q` makes on values in [lo, hi]: affine quantisation rounds to a grid of step
 * scale = (max(hi, 0) − min(lo, 0)) / (2^bits − 1) with 0 on the grid, so |w − ŵ| ≤ scale/2, plus half a float32 step
 * of the largest |w| (tf.io stores q·scale + min as float32); float16 rounds to 11 significant bits,
 * |w − ŵ| ≤ 2^−11·|w| (normal numbers) and ≤ 2^−25 below 2^−14 (subnormals).
 */
export function quantizationBound(q: TfjsQuantization, lo: number, hi: number): number {
  const big = Math.max(Math.abs(lo), Math.abs(hi));
  if (q === 'float16') return Math.max(big * 2 ** -11, 2 ** -25);
  return (Math.max(hi, 0) - Math.min(lo, 0)) / (2 * (q === 'uint8' ? 255 : 65535)) + big * 2 ** -24;
}

/**
 * Encodes float32 values as a weight spec's bytes (little-endian): plain, or quantised as tfjs-converter does: the range
 * [min(w, 0), max(w, 0)] cut in 255 (uint8) or 65535 (uint16) steps with the minimum nudged so that 0 is exact, values
 * rounded to the nearest step; a constant tensor is all zeros with min = its value, scale 1. Returns the spec's
 * quantisation entry and the bytes; `name` names the weight in errors.
 */
export function encodeWeight(name: string, w: Float32Array, q: TfjsQuantization | undefined): { quantization?: TfjsWeightSpec['quantization']; bytes: Uint8Array } {
  if (!q) return { bytes: new Uint8Array(w.buffer.slice(w.byteOffset, w.byteOffset + w.byteLength)) };
  if (q === 'float16') {
    const out = new Uint8Array(2 * w.length);
    const view = new DataView(out.buffer);
    for (let i = 0; i < w.length; i++) {
      if (!(Math.abs(w[i]) <= 65504)) throw new RangeError(`weight '${name}': value ${w[i]} at ${i} does not fit float16 (|w| ≤ 65504)`);
      view.setUint16(2 * i, toHalf(w[i]), true);
    }
    return { quantization: { dtype: 'float16' }, bytes: out };
  }
  let lo = Infinity, hi = -Infinity;
  for (const v of w) {
    if (!Number.isFinite(v)) throw new RangeError(`weight '${name}': value ${v} cannot be quantised`);
    lo = Math.min(lo, v), hi = Math.max(hi, v);
  }
  const levels = q === 'uint8' ? 255 : 65535;
  const out = new Uint8Array(w.length * (q === 'uint8' ? 1 : 2));
  const view = new DataView(out.buffer);
  if (w.length === 0 || lo === hi) return { quantization: { dtype: q, min: w.length ? lo : 0, scale: 1 }, bytes: out };
  const scale = (hi - lo) / levels;
  let min = lo, max = hi;
  if (lo <= 0 && hi >= 0) {
    min = -Math.round(-lo / scale) * scale;
    max = levels * scale + min;
  }
  for (let i = 0; i < w.length; i++) {
    const v = Math.round((Math.min(Math.max(w[i], min), max) - min) / scale);
    if (q === 'uint8') out[i] = v;
    else view.setUint16(2 * i, v, true);
  }
  return { quantization: { dtype: q, min, scale }, bytes: out };
}

/** Decodes one weight's bytes (as tf.io does: w = q·scale + min in float64, stored as float32) into float32 values. */
export function decodeWeight(spec: TfjsWeightSpec, bytes: Uint8Array): Float32Array {
  const n = bytes.length / bytesPerValue(spec);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(n);
  const q = spec.quantization;
  if (!q) for (let i = 0; i < n; i++) out[i] = view.getFloat32(4 * i, true);
  else if (q.dtype === 'float16') for (let i = 0; i < n; i++) out[i] = fromHalf(view.getUint16(2 * i, true));
  else {
    const scale = q.scale!, min = q.min!;
    for (let i = 0; i < n; i++) out[i] = (q.dtype === 'uint8' ? bytes[i] : view.getUint16(2 * i, true)) * scale + min;
  }
  return out;
}

/** Cuts `data` into shards of at most `shardBytes` bytes (all of it in one when undefined), as tfjs-converter splits a group. */
export function shard(data: Uint8Array, shardBytes: number | undefined): Uint8Array[] {
  if (shardBytes === undefined || data.length <= shardBytes) return [data];
  const out: Uint8Array[] = [];
  for (let at = 0; at < data.length; at += shardBytes) out.push(data.subarray(at, Math.min(at + shardBytes, data.length)));
  return out;
}

/** Joins byte arrays. */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) out.set(p, at), (at += p.length);
  return out;
}

