// PNG codec (no dependencies beyond node:zlib): a validating reader, a writer, and grayscale conversion to a model's size (MNIST-style 28×28 by default).
import { crc32 } from '../io/crc32.js';
import { deflateSync, inflateSync } from 'node:zlib';
import { DataError, readSource } from './idx.js';

/** A decoded 8-bit image: `data` holds H·W·C bytes in row-major HWC order (C = channels). */
export interface PngImage {
  width: number;
  height: number;
  /** 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA. */
  channels: 1 | 2 | 3 | 4;
  data: Uint8Array;
}

/** The 8-byte PNG signature: 89 50 4E 47 0D 0A 1A 0A. */
export const PNG_SIGNATURE: Uint8Array = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** CRC-32 (see src/io/crc32.ts), re-exported for this module's callers. */
export { crc32 };

/** Encodes one chunk: big-endian length, 4-letter type, data, CRC-32 of type + data. */
export function pngChunk(type: string, data: Uint8Array): Uint8Array {
  if (!/^[A-Za-z]{4}$/.test(type)) throw new DataError('pngChunk', `chunk type must be 4 ASCII letters, found '${type}'`);
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length, false);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)), false);
  return out;
}

const hex = (v: number, digits = 2): string => `0x${v.toString(16).padStart(digits, '0')}`;
/** Samples per pixel of each colour type (0 gray, 2 RGB, 3 palette, 4 gray+alpha, 6 RGBA). */
const SAMPLES: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };
const DEPTHS: Record<number, number[]> = { 0: [1, 2, 4, 8, 16], 2: [8, 16], 3: [1, 2, 4, 8], 4: [8, 16], 6: [8, 16] };
/** Adam7 passes: [xStart, yStart, xStep, yStep]. */
const ADAM7 = [[0, 0, 8, 8], [4, 0, 8, 8], [0, 4, 4, 8], [2, 0, 4, 4], [0, 2, 2, 4], [1, 0, 2, 2], [0, 1, 1, 2]];

interface Header { width: number; height: number; depth: number; colour: number; interlace: number }

/**
 * Default pixel limit of {@link readPng}: 2^24 pixels (16 Mpx, 4096×4096), enough for photos and far beyond a model's
 * input; raise it with the `maxPixels` option or the environment variable `WEIGHTSHARE_MAX_PIXELS`.
 */
export const DEFAULT_MAX_PIXELS = 2 ** 24;

/** The pixel limit in force: the option, else `WEIGHTSHARE_MAX_PIXELS`, else the default. */
function pixelLimit(option: number | undefined): number {
  const env = process.env.WEIGHTSHARE_MAX_PIXELS;
  const v = option ?? (env ? Number(env) : DEFAULT_MAX_PIXELS);
  if (!Number.isSafeInteger(v) || v < 1) throw new DataError('readPng', `maxPixels must be a positive integer, got ${option ?? `WEIGHTSHARE_MAX_PIXELS=${env}`}`);
  return v;
}

/**
 * Reads a PNG file (a path, or its bytes). Supports colour types 0, 2, 3 (PLTE + tRNS alpha), 4 and 6;
 * bit depths 1/2/4 (gray, palette, scaled to 0–255), 8 and 16 (high byte kept); all five filters; Adam7.
 * Validates the signature, every chunk CRC, IHDR fields and the decompressed length. Palette images decode
 * to RGB, or RGBA when tRNS is present; the tRNS colour key of gray/RGB images is ignored.
 * Memory is bounded: an image above `maxPixels` (default {@link DEFAULT_MAX_PIXELS}) is refused from its IHDR,
 * before anything is inflated, and inflation stops as soon as it passes the length the IHDR implies.
 * Throws `DataError` naming the file, the byte offset and the expected vs found value.
 */
export function readPng(source: string | Uint8Array, opts: { name?: string; maxPixels?: number } = {}): PngImage {
  const name = opts.name ?? (typeof source === 'string' ? source : 'PNG data');
  const maxPixels = pixelLimit(opts.maxPixels);
  const bytes = readSource(source, name);
  const fail = (msg: string): never => { throw new DataError(name, msg); };
  for (let i = 0; i < 8; i++) {
    if (bytes[i] !== PNG_SIGNATURE[i]) {
      const found = Array.from(bytes.subarray(0, 8), (b) => b.toString(16).padStart(2, '0')).join(' ');
      fail(`bad signature at byte offset ${i}: expected 89 50 4e 47 0d 0a 1a 0a, found ${found || 'nothing'} (not a PNG file?)`);
    }
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let header: Header | undefined;
  let palette: Uint8Array | undefined;
  let trns: Uint8Array | undefined;
  const idat: Uint8Array[] = [];
  let idatOffset = -1;
  let ended = false;
  for (let pos = 8; !ended;) {
    if (pos + 12 > bytes.length) fail(`truncated at byte offset ${pos}: expected a 12-byte chunk header and CRC${pos === bytes.length ? ' (missing IEND)' : ''}, found ${bytes.length - pos} bytes`);
    const length = view.getUint32(pos, false);
    const type = String.fromCharCode(...bytes.subarray(pos + 4, pos + 8));
    if (!/^[A-Za-z]{4}$/.test(type)) fail(`bad chunk type at byte offset ${pos + 4}: expected 4 ASCII letters, found ${JSON.stringify(type)}`);
    if (length > 0x7fffffff || pos + 12 + length > bytes.length) fail(`truncated ${type} chunk at byte offset ${pos}: expected ${length} data bytes + CRC, found ${Math.max(0, bytes.length - pos - 8)}`);
    const data = bytes.subarray(pos + 8, pos + 8 + length);
    const stored = view.getUint32(pos + 8 + length, false);
    const actual = crc32(bytes.subarray(pos + 4, pos + 8 + length));
    if (stored !== actual) fail(`bad CRC in ${type} chunk at byte offset ${pos + 8 + length}: expected ${hex(actual, 8)}, found ${hex(stored, 8)}`);
    if (!header && type !== 'IHDR') fail(`expected IHDR as the first chunk at byte offset ${pos}, found ${type}`);
    if (type === 'IHDR') {
      if (header) fail(`duplicate IHDR chunk at byte offset ${pos}`);
      header = parseHeader(data, pos, fail, maxPixels);
    } else if (type === 'PLTE') {
      if (length % 3 !== 0 || length === 0 || length > 768) fail(`bad PLTE chunk at byte offset ${pos}: expected 3–768 bytes, a multiple of 3, found ${length}`);
      palette = data;
    } else if (type === 'tRNS') {
      trns = data;
    } else if (type === 'IDAT') {
      if (idatOffset < 0) idatOffset = pos;
      idat.push(data);
    } else if (type === 'IEND') {
      ended = true;
    } else if ((bytes[pos + 4] & 0x20) === 0) {
      fail(`unknown critical chunk ${type} at byte offset ${pos}`);
    }
    pos += 12 + length;
  }
  const h = header as Header;
  if (h.colour === 3 && !palette) fail(`missing PLTE chunk: colour type 3 (palette) needs one`);
  if (idat.length === 0) fail(`missing IDAT chunk: expected compressed image data`);
  const expected = rawLength(h);
  let raw: Uint8Array;
  try {
    raw = inflateSync(Buffer.concat(idat), { maxOutputLength: expected });
  } catch (e) {
    if ((e as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') fail(`IDAT data decompresses to more than the ${expected} bytes the IHDR implies (${h.width}×${h.height}, ${h.depth}-bit colour type ${h.colour}); stopped there`);
    return fail(`corrupt zlib data in IDAT at byte offset ${idatOffset} (${(e as Error).message})`);
  }
  return decodeImage(raw, h, palette, trns, fail);
}

function parseHeader(d: Uint8Array, pos: number, fail: (m: string) => never, maxPixels: number): Header {
  if (d.length !== 13) fail(`bad IHDR chunk at byte offset ${pos}: expected 13 data bytes, found ${d.length}`);
  const v = new DataView(d.buffer, d.byteOffset, d.byteLength);
  const h: Header = { width: v.getUint32(0, false), height: v.getUint32(4, false), depth: d[8], colour: d[9], interlace: d[12] };
  const at = pos + 8;
  if (h.width === 0 || h.width > 0x7fffffff) fail(`bad IHDR width at byte offset ${at}: expected 1–2^31-1, found ${h.width}`);
  if (h.height === 0 || h.height > 0x7fffffff) fail(`bad IHDR height at byte offset ${at + 4}: expected 1–2^31-1, found ${h.height}`);
  if (!(h.colour in SAMPLES)) fail(`bad IHDR colour type at byte offset ${at + 9}: expected one of 0, 2, 3, 4, 6, found ${h.colour}`);
  if (!DEPTHS[h.colour].includes(h.depth)) fail(`bad IHDR bit depth at byte offset ${at + 8}: expected one of ${DEPTHS[h.colour].join(', ')} for colour type ${h.colour}, found ${h.depth}`);
  if (d[10] !== 0) fail(`bad IHDR compression method at byte offset ${at + 10}: expected 0, found ${d[10]}`);
  if (d[11] !== 0) fail(`bad IHDR filter method at byte offset ${at + 11}: expected 0, found ${d[11]}`);
  if (h.interlace > 1) fail(`bad IHDR interlace method at byte offset ${at + 12}: expected 0 or 1, found ${h.interlace}`);
  if (h.width * h.height > maxPixels) fail(`image too large: ${h.width}×${h.height} = ${h.width * h.height} pixels, above the limit of ${maxPixels} (raise it with the maxPixels option or WEIGHTSHARE_MAX_PIXELS)`);
  return h;
}

/** The interlace passes of an image, each pass's size in pixels, and a row's length in bytes for a width. */
function layout(h: Header): { passes: number[][]; sizes: number[][]; strideOf: (w: number) => number } {
  const passes = h.interlace ? ADAM7 : [[0, 0, 1, 1]];
  const sizes = passes.map(([x0, y0, dx, dy]) => [Math.ceil((h.width - x0) / dx), Math.ceil((h.height - y0) / dy)]);
  const strideOf = (w: number): number => Math.ceil((w * SAMPLES[h.colour] * h.depth) / 8);
  return { passes, sizes, strideOf };
}

/** Bytes the IDAT stream must inflate to: per pass, rows of a filter byte plus the row's samples. */
function rawLength(h: Header): number {
  const { sizes, strideOf } = layout(h);
  return sizes.reduce((s, [w, hh]) => s + (w && hh ? hh * (1 + strideOf(w)) : 0), 0);
}

function decodeImage(raw: Uint8Array, h: Header, palette: Uint8Array | undefined, trns: Uint8Array | undefined,
  fail: (m: string) => never): PngImage {
  const samples = SAMPLES[h.colour];
  const channels = (h.colour === 3 ? (trns ? 4 : 3) : samples) as PngImage['channels'];
  const { passes, sizes, strideOf } = layout(h);
  const expected = rawLength(h);
  if (raw.length !== expected) {
    fail(`IDAT data decompresses to ${raw.length} bytes, expected ${expected} (${h.interlace ? 'seven Adam7 passes' : `${h.height} rows of 1 + ${strideOf(h.width)} bytes`} for ${h.width}×${h.height}, ${h.depth}-bit colour type ${h.colour})`);
  }
  const out = new Uint8Array(h.width * h.height * channels);
  const bpp = Math.max(1, (samples * h.depth) >> 3);
  const maxSample = (1 << Math.min(h.depth, 8)) - 1;
  let offset = 0;
  passes.forEach(([x0, y0, dx, dy], p) => {
    const [pw, ph] = sizes[p];
    if (pw === 0 || ph === 0) return;
    const stride = strideOf(pw);
    let prev = new Uint8Array(stride);
    for (let r = 0; r < ph; r++) {
      const filter = raw[offset];
      if (filter > 4) fail(`bad filter type at byte offset ${offset} of the decompressed image data (row ${r}${h.interlace ? `, Adam7 pass ${p + 1}` : ''}): expected 0–4, found ${filter}`);
      const line = raw.slice(offset + 1, offset + 1 + stride);
      unfilter(filter, line, prev, bpp);
      offset += 1 + stride;
      for (let c = 0; c < pw; c++) {
        const dst = (((y0 + r * dy) * h.width) + x0 + c * dx) * channels;
        for (let s = 0; s < samples; s++) {
          const v = sampleAt(line, c * samples + s, h.depth);
          if (h.colour !== 3) {
            out[dst + s] = h.depth < 8 ? Math.round((v * 255) / maxSample) : v;
          } else {
            const pal = palette as Uint8Array;
            if (v * 3 >= pal.length) fail(`palette index ${v} out of range at pixel (${x0 + c * dx}, ${y0 + r * dy}): expected < ${pal.length / 3} PLTE entries`);
            out[dst] = pal[v * 3]; out[dst + 1] = pal[v * 3 + 1]; out[dst + 2] = pal[v * 3 + 2];
            if (channels === 4) out[dst + 3] = v < (trns as Uint8Array).length ? (trns as Uint8Array)[v] : 255;
          }
        }
      }
      prev = line;
    }
  });
  return { width: h.width, height: h.height, channels, data: out };
}

/** Sample `i` of a row at bit depth 1, 2, 4, 8 or 16 (16 keeps the high byte). */
function sampleAt(line: Uint8Array, i: number, depth: number): number {
  if (depth === 8) return line[i];
  if (depth === 16) return line[i * 2];
  const perByte = 8 / depth;
  const shift = 8 - depth * ((i % perByte) + 1);
  return (line[Math.floor(i / perByte)] >> shift) & ((1 << depth) - 1);
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/** Reverses filter `type` on `line` in place, given the previous (already unfiltered) row and bytes per pixel. */
function unfilter(type: number, line: Uint8Array, prev: Uint8Array, bpp: number): void {
  for (let i = 0; i < line.length; i++) {
    const a = i >= bpp ? line[i - bpp] : 0, b = prev[i], c = i >= bpp ? prev[i - bpp] : 0;
    const pred = type === 0 ? 0 : type === 1 ? a : type === 2 ? b : type === 3 ? (a + b) >> 1 : paeth(a, b, c);
    line[i] = (line[i] + pred) & 0xff;
  }
}

/** Applies filter `type` to a raw row (the inverse of `unfilter`), writing into `out`. */
function filterRow(type: number, line: Uint8Array, prev: Uint8Array, bpp: number, out: Uint8Array): void {
  for (let i = 0; i < line.length; i++) {
    const a = i >= bpp ? line[i - bpp] : 0, b = prev[i], c = i >= bpp ? prev[i - bpp] : 0;
    const pred = type === 0 ? 0 : type === 1 ? a : type === 2 ? b : type === 3 ? (a + b) >> 1 : paeth(a, b, c);
    out[i] = (line[i] - pred) & 0xff;
  }
}

/**
 * Encodes an 8-bit image as a non-interlaced PNG (channels 1/2/3/4 → colour type 0/4/2/6).
 * `filter: 'best'` (default) picks per row the filter with the smallest sum of |signed bytes|; `'none'` uses 0.
 */
export function writePng(img: PngImage, opts: { filter?: 'best' | 'none' } = {}): Uint8Array {
  const { width, height, channels, data } = img;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) throw new DataError('writePng', `width and height must be positive integers, found ${width}×${height}`);
  const colour = ({ 1: 0, 2: 4, 3: 2, 4: 6 } as Record<number, number>)[channels];
  if (colour === undefined) throw new DataError('writePng', `channels must be 1, 2, 3 or 4, found ${channels}`);
  if (data.length !== width * height * channels) throw new DataError('writePng', `${width}×${height}×${channels} image needs ${width * height * channels} bytes, found ${data.length}`);
  const stride = width * channels;
  const raw = new Uint8Array(height * (stride + 1));
  const types = opts.filter === 'none' ? [0] : [0, 1, 2, 3, 4];
  const trial = new Uint8Array(stride);
  let prev: Uint8Array = new Uint8Array(stride);
  for (let y = 0; y < height; y++) {
    const line = data.subarray(y * stride, (y + 1) * stride);
    let best = Infinity;
    for (const t of types) {
      filterRow(t, line, prev, channels, trial);
      let cost = 0;
      for (let i = 0; i < stride; i++) cost += trial[i] < 128 ? trial[i] : 256 - trial[i];
      if (cost < best) {
        best = cost;
        raw[y * (stride + 1)] = t;
        raw.set(trial, y * (stride + 1) + 1);
      }
    }
    prev = line;
  }
  const ihdr = new Uint8Array(13);
  const v = new DataView(ihdr.buffer);
  v.setUint32(0, width, false);
  v.setUint32(4, height, false);
  ihdr[8] = 8;
  ihdr[9] = colour;
  const parts = [PNG_SIGNATURE, pngChunk('IHDR', ihdr), pngChunk('IDAT', deflateSync(raw)), pngChunk('IEND', new Uint8Array(0))];
  return Uint8Array.from(Buffer.concat(parts));
}

/** Gray levels 0–255 (H·W floats): luma 0.299 R + 0.587 G + 0.114 B, alpha composited over white. */
export function toGray(img: PngImage): Float32Array {
  const { width, height, channels, data } = img;
  const out = new Float32Array(width * height);
  for (let i = 0; i < out.length; i++) {
    const p = i * channels;
    const g = channels <= 2 ? data[p] : 0.299 * data[p] + 0.587 * data[p + 1] + 0.114 * data[p + 2];
    const a = channels === 2 ? data[p + 1] / 255 : channels === 4 ? data[p + 3] / 255 : 1;
    out[i] = g * a + 255 * (1 - a);
  }
  return out;
}

/** Axis weights of an area (box) resize: for each output index, the overlapped input indices and their fractions. */
function boxWeights(inSize: number, outSize: number): Array<Array<[number, number]>> {
  const scale = inSize / outSize;
  const rows: Array<Array<[number, number]>> = [];
  for (let o = 0; o < outSize; o++) {
    const lo = o * scale, hi = (o + 1) * scale;
    const ws: Array<[number, number]> = [];
    for (let i = Math.floor(lo); i < Math.min(inSize, Math.ceil(hi)); i++) {
      const w = Math.min(hi, i + 1) - Math.max(lo, i);
      if (w > 1e-12) ws.push([i, w / scale]);
    }
    rows.push(ws);
  }
  return rows;
}

/** Resizes a single-channel H·W image to outH·outW by area averaging (each output pixel is the mean of the input area it covers). */
export function resizeArea(src: Float32Array, width: number, height: number, outW: number, outH: number): Float32Array {
  if (src.length !== width * height) throw new DataError('resizeArea', `${width}×${height} image needs ${width * height} values, found ${src.length}`);
  const wx = boxWeights(width, outW), wy = boxWeights(height, outH);
  const tmp = new Float32Array(height * outW);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < outW; x++) {
      let s = 0;
      for (const [i, w] of wx[x]) s += src[y * width + i] * w;
      tmp[y * outW + x] = s;
    }
  }
  const out = new Float32Array(outH * outW);
  for (let y = 0; y < outH; y++) {
    for (const [j, w] of wy[y]) {
      for (let x = 0; x < outW; x++) out[y * outW + x] += tmp[j * outW + x] * w;
    }
  }
  return out;
}

/**
 * Converts an image to the `height`·`width` floats a greyscale model [height, width, 1] expects: gray (see
 * `toGray`), area-resized, scaled to [0, 1]. `invert: 'auto'` (default) inverts when more than half the
 * border pixels are light (> 0.5), since MNIST-style digits are white on black; `true`/`false` force it.
 */
export function toGrayscale(img: PngImage, width: number, height: number, opts: { invert?: 'auto' | boolean } = {}): Float32Array {
  let gray = toGray(img);
  if (img.width !== width || img.height !== height) gray = resizeArea(gray, img.width, img.height, width, height);
  const out = new Float32Array(width * height);
  for (let i = 0; i < out.length; i++) out[i] = Math.min(1, Math.max(0, gray[i] / 255));
  let invert = opts.invert ?? 'auto';
  if (invert === 'auto') {
    let light = 0, count = 0;
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        if (y !== 0 && y !== height - 1 && x !== 0 && x !== width - 1) continue;
        count++;
        if (out[y * width + x] > 0.5) light++;
      }
    }
    invert = light * 2 > count;
  }
  if (invert) for (let i = 0; i < out.length; i++) out[i] = 1 - out[i];
  return out;
}

/** The 784 floats an MNIST model expects: {@link toGrayscale} at 28×28. */
export function toGrayscale28(img: PngImage, opts: { invert?: 'auto' | boolean } = {}): Float32Array {
  return toGrayscale(img, 28, 28, opts);
}
