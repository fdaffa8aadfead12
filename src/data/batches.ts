// Seeded shuffling (the shared one of core/random.ts, as fit uses), mini-batch iteration over index ranges, row gathering and Keras-style validation splits.
import { epochOrder } from '../core/random.js';
import { DataError } from './data-error.js';

export { epochOrder, shuffledIndices, shuffleInPlace } from '../core/random.js';

/** A half-open range [start, end) of positions. */
export interface IndexRange {
  start: number;
  end: number;
}

/** The consecutive ranges [0, b), [b, 2b), … covering 0…n−1; the last one is shorter unless `dropRemainder`. */
export function* batchRanges(n: number, batchSize: number, opts: { dropRemainder?: boolean } = {}): Generator<IndexRange> {
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new DataError('batchRanges', `batchSize must be a positive integer, found ${batchSize}`);
  for (let start = 0; start < n; start += batchSize) {
    const end = Math.min(n, start + batchSize);
    if (opts.dropRemainder && end - start < batchSize) return;
    yield { start, end };
  }
}

/** Options of `batchIndices`. */
export interface BatchOptions {
  /** Shuffle the sample order (seeded) before batching. Default false. */
  shuffle?: boolean;
  /** Seed of the shuffle; required when `shuffle` is set. */
  seed?: number;
  /** Epoch number: with `shuffle`, the order is fit's for this epoch and seed (`epochOrder`). Default 0. */
  epoch?: number;
  /** Skip a final batch smaller than `batchSize`. Default false. */
  dropRemainder?: boolean;
}

/**
 * Yields the sample indices of each mini-batch of an epoch over n samples (views into one order array,
 * valid until the generator finishes): 0…n−1 in order, or with `shuffle` the order fit uses for (seed, epoch).
 */
export function* batchIndices(n: number, batchSize: number, opts: BatchOptions = {}): Generator<Int32Array> {
  if (opts.shuffle && opts.seed === undefined) throw new DataError('batchIndices', 'shuffle needs an explicit seed');
  const order = epochOrder(n, opts.shuffle ?? false, opts.seed ?? 0, opts.epoch ?? 0);
  for (const r of batchRanges(n, batchSize, opts)) yield order.subarray(r.start, r.end);
}

/**
 * Copies rows `indices` of `src` (rows of `rowSize` elements) into `out` (allocated when absent), in the
 * order given: turns a batch of indices into a contiguous batch of images or labels.
 */
export function gatherRows<T extends Float32Array | Int32Array>(src: T, rowSize: number, indices: ArrayLike<number>, out?: T): T {
  const rows = src.length / rowSize;
  const dst = out ?? (new (src.constructor as { new (n: number): T })(indices.length * rowSize));
  if (dst.length < indices.length * rowSize) {
    throw new DataError('gatherRows', `output too small: expected ${indices.length * rowSize} elements, found ${dst.length}`);
  }
  for (let k = 0; k < indices.length; k++) {
    const i = indices[k];
    if (!(i >= 0 && i < rows)) throw new DataError('gatherRows', `index out of range at position ${k}: expected 0–${rows - 1}, found ${i}`);
    dst.set(src.subarray(i * rowSize, (i + 1) * rowSize), k * rowSize);
  }
  return dst;
}

/**
 * Where Keras splits n samples for `validationSplit = fraction`: samples [0, splitAt) train and
 * [splitAt, n) validate, with splitAt = floor(n · (1 − fraction)). `fraction` must be in [0, 1).
 */
export function validationSplitIndex(n: number, fraction: number): number {
  if (!(fraction >= 0 && fraction < 1)) throw new DataError('validationSplit', `fraction must be in [0, 1), found ${fraction}`);
  return Math.floor(n * (1 - fraction));
}

/**
 * Keras `validationSplit` semantics: the LAST `fraction` of the samples, taken before any shuffling,
 * is held out for validation. `x` holds y.length rows; returns views (no copies) of both parts.
 */
export function validationSplit<X extends Float32Array | Int32Array, Y extends Float32Array | Int32Array>(
  x: X, y: Y, fraction: number,
): { xTrain: X; yTrain: Y; xVal: X; yVal: Y } {
  const n = y.length;
  if (n === 0 || x.length % n !== 0) {
    throw new DataError('validationSplit', `x must hold one row per label: ${x.length} values for ${n} labels`);
  }
  const row = x.length / n;
  const at = validationSplitIndex(n, fraction);
  return {
    xTrain: x.subarray(0, at * row) as X,
    yTrain: y.subarray(0, at) as Y,
    xVal: x.subarray(at * row) as X,
    yVal: y.subarray(at) as Y,
  };
}
