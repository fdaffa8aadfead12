// Decoded IDX images and labels → float32 pixels and int32 classes, with the checks every image dataset gets (browser-safe).
import { DataError } from './data-error.js';
import type { IdxArray } from './idx-decode.js';

/** Inputs, labels and the per-sample shape [H, W, C] of one split. */
export interface ImagePair {
  x: Float32Array;
  y: Int32Array;
  shape: number[];
}

/**
 * Checks decoded `images` (uint8 [N, H, W] or [N, H, W, C], of `shape` [H, W, C] when given) and `labels`
 * (uint8 [N], each below `classes` when given) and converts them: a pixel byte k becomes `pixels[k]` (default
 * k/255), a label its int32. `imagesName` and `labelsName` label the DataErrors (a file name or URL).
 */
export function imagePair(
  images: IdxArray, imagesName: string, labels: IdxArray, labelsName: string,
  shape: number[] | undefined, classes: number | undefined, pixels?: Float32Array,
): ImagePair {
  const sampleShape = checkImages(images, imagesName, shape);
  if (labels.dtype !== 'uint8' || labels.shape.length !== 1) {
    throw new DataError(labelsName, `expected labels of type uint8 and shape [N], found ${labels.dtype} [${labels.shape.join(', ')}]`);
  }
  if (labels.shape[0] !== images.shape[0]) {
    throw new DataError(labelsName, `label count mismatch: expected ${images.shape[0]} labels (one per image in ${imagesName}), found ${labels.shape[0]}`);
  }
  const y = new Int32Array(labels.data.length);
  for (let i = 0; i < y.length; i++) {
    const v = labels.data[i];
    if (classes !== undefined && v >= classes) throw new DataError(labelsName, `label out of range at index ${i} (byte offset ${8 + i}): expected 0–${classes - 1}, found ${v}`);
    y[i] = v;
  }
  const x = new Float32Array(images.data.length);
  const src = images.data;
  if (pixels) for (let i = 0; i < x.length; i++) x[i] = pixels[src[i]];
  else for (let i = 0; i < x.length; i++) x[i] = src[i] / 255;
  return { x, y, shape: sampleShape };
}

/** Checks images are uint8 [N, H, W] or [N, H, W, C] (of `shape` [H, W, C] when given); returns the per-sample shape [H, W, C]. */
function checkImages(images: IdxArray, name: string, shape: number[] | undefined): number[] {
  const s = images.shape;
  const sample = s.length === 3 ? [s[1], s[2], 1] : s.slice(1);
  const fits = shape === undefined || (sample.length === shape.length && sample.every((d, i) => d === shape[i]));
  if (images.dtype !== 'uint8' || (s.length !== 3 && s.length !== 4) || !fits) {
    const expected = shape === undefined ? '[N, H, W] or [N, H, W, C]' : `[N, ${shape[2] === 1 ? shape.slice(0, 2).join(', ') : shape.join(', ')}]`;
    throw new DataError(name, `expected images of type uint8 and shape ${expected}, found ${images.dtype} [${s.join(', ')}]`);
  }
  return sample;
}
