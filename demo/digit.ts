// A drawn digit as MNIST's 28×28 input: the ink's bounding box scaled into 20×20 (area average), its centre of mass at the centre.

/** Side of an MNIST image, and of the box its digits are scaled into (LeCun et al.'s preprocessing). */
export const SIDE = 28;
const BOX = 20;
/** Ink below this (of 1) does not count towards the bounding box. */
const INK = 0.1;

/**
 * The 28×28 input (values in [0, 1], ink high, row-major) of a `width`×`height` picture `ink` (values in [0, 1], ink
 * high): the bounding box of the ink is scaled so that its longer side spans 20 pixels, each output pixel the average
 * of the area it covers, and placed so that its centre of mass falls on the image centre, as MNIST's digits were made;
 * the brightest pixel is then scaled to 1. Null when there is no ink.
 */
export function toMnistInput(ink: Float32Array, width: number, height: number): Float32Array | null {
  if (ink.length !== width * height) throw new RangeError(`toMnistInput: ${ink.length} values for a ${width}×${height} picture`);
  let x0 = width;
  let y0 = height;
  let x1 = -1;
  let y1 = -1;
  let mass = 0;
  let mx = 0;
  let my = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const v = ink[y * width + x];
      if (v <= INK) continue;
      x0 = Math.min(x0, x);
      x1 = Math.max(x1, x);
      y0 = Math.min(y0, y);
      y1 = Math.max(y1, y);
      mass += v;
      mx += v * (x + 0.5);
      my += v * (y + 0.5);
    }
  }
  if (x1 < 0) return null;
  const scale = BOX / Math.max(x1 - x0 + 1, y1 - y0 + 1);
  // Output pixel t covers source coordinates [c + (t − 14)/scale, c + (t + 1 − 14)/scale) on each axis (c: centre of mass).
  const wx = coverage(mx / mass, scale, width);
  const wy = coverage(my / mass, scale, height);
  const rows = new Float32Array(SIDE * width); // rows[t][x]: output row t, source column x
  for (let t = 0; t < SIDE; t++) {
    for (const [y, w] of wy[t]) {
      for (let x = 0; x < width; x++) rows[t * width + x] += w * ink[y * width + x];
    }
  }
  const out = new Float32Array(SIDE * SIDE);
  let max = 0;
  for (let t = 0; t < SIDE; t++) {
    for (let u = 0; u < SIDE; u++) {
      let s = 0;
      for (const [x, w] of wx[u]) s += w * rows[t * width + x];
      const v = s * scale * scale; // the covered area is (1/scale)² source pixels
      out[t * SIDE + u] = v;
      max = Math.max(max, v);
    }
  }
  if (max > 0) for (let i = 0; i < out.length; i++) out[i] = Math.min(1, out[i] / max);
  return out;
}

/** For each output pixel t of one axis: the source pixels it covers and by how much (lengths in source pixels). */
function coverage(centre: number, scale: number, size: number): [number, number][][] {
  return Array.from({ length: SIDE }, (_, t) => {
    const a = centre + (t - SIDE / 2) / scale;
    const b = centre + (t + 1 - SIDE / 2) / scale;
    const out: [number, number][] = [];
    for (let s = Math.max(0, Math.floor(a)); s < Math.min(size, Math.ceil(b)); s++) {
      const w = Math.min(b, s + 1) - Math.max(a, s);
      if (w > 0) out.push([s, w]);
    }
    return out;
  });
}
