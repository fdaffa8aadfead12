// What each weight of a model file takes on disk: its θ under `weights/` and its map state under `maps/`, from the file's own tensor sizes.
import type { Model } from '../nn/model.js';
import { loadCheckpoint } from './files.js';
import { modelFromCheckpoint } from './model-file.js';

/** One weight's share of a model file. */
export interface StoredWeight {
  /** The weight's path, e.g. 'dense/kernel'. */
  path: string;
  /** Elements of its effective W. */
  elements: number;
  /** Bytes its tensors take in the file (coded or raw). */
  bytes: number;
  /** 8 · bytes / elements. */
  bitsPerWeight: number;
}

/** Each weight's stored bytes in the file (its θ under `weights/`, its map state under `maps/`) and bits per element of W. */
export function storedPerWeight(model: Model, tensorBytes: ReadonlyMap<string, number>): StoredWeight[] {
  return model.weights().map((w) => {
    let bytes = 0;
    for (const [name, n] of tensorBytes) {
      for (const prefix of ['weights/', 'maps/']) {
        const rest = name.startsWith(prefix) ? name.slice(prefix.length) : undefined;
        if (rest !== undefined && (rest === w.path || rest.startsWith(`${w.path}/`))) bytes += n;
      }
    }
    const elements = w.map.stats().virtual;
    return { path: w.path, elements, bytes, bitsPerWeight: (8 * bytes) / Math.max(1, elements) };
  });
}

/** {@link storedPerWeight} of the model file at `path` (read lazily: the coded tensors are not decoded); the model is disposed. */
export function storedSizes(path: string): { fileBytes: number; weights: StoredWeight[] } {
  const contents = loadCheckpoint(path, { lazy: true });
  const { model } = modelFromCheckpoint(contents, path);
  try {
    return { fileBytes: contents.stored!.fileBytes, weights: storedPerWeight(model, contents.stored!.tensorBytes) };
  } finally {
    model.dispose();
  }
}
