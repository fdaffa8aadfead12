// Where a model file's bytes go: each weight's stored bytes (θ and map state) and bits per element of W, per weight and per layer.
import type { Model } from '../nn/model.js';

/** One weight of a model file: its path, elements of W, bytes in the file and bits per element. */
export interface StoredWeight {
  path: string;
  elements: number;
  bytes: number;
  bitsPerWeight: number;
}

/** One layer of a model file: its weights' map kinds (`codebook+dense`), elements of W, bytes in the file and bits per element. */
export interface StoredLayer {
  layer: string;
  className: string;
  kinds: string;
  elements: number;
  bytes: number;
  bitsPerWeight: number;
}

/**
 * Each weight's stored bytes in the file (its θ under `weights/`, its map state under `maps/`, from `tensorBytes`, the
 * `stored.tensorBytes` that decodeCheckpoint sets) and bits per element of W; a tied weight counts at its source.
 */
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

/**
 * {@link storedPerWeight} summed per layer (layers without weights left out), with the kinds of their maps joined by
 * `+` as `summary()` shows them (`codebook+dense`: a clustered kernel and a plain bias).
 */
export function storedPerLayer(model: Model, tensorBytes: ReadonlyMap<string, number>): StoredLayer[] {
  const weights = model.weights();
  const rows = storedPerWeight(model, tensorBytes);
  return model.layers.flatMap((l) => {
    const mine = weights.flatMap((w, i) => (w.path.startsWith(`${l.name}/`) ? [{ kind: w.map.kind, row: rows[i] }] : []));
    if (mine.length === 0) return [];
    const elements = mine.reduce((s, w) => s + w.row.elements, 0);
    const bytes = mine.reduce((s, w) => s + w.row.bytes, 0);
    const kinds = [...new Set(mine.map((w) => w.kind))].join('+');
    return [{ layer: l.name, className: l.className, kinds, elements, bytes, bitsPerWeight: (8 * bytes) / Math.max(1, elements) }];
  });
}
