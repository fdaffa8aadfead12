// The generic Dataset (any per-sample shape, float32 or int32 inputs and targets, classes optional, an optional validation split) with checks, limits and the form fit takes; browser-safe.
import { DataError } from './data-error.js';

/**
 * A dataset: train, test and optionally validation inputs of any per-sample shape (float32, or int32 such as
 * token ids) and targets (int32 class indices, or float32 values), each a flat row-major array of N rows.
 */
export interface Dataset<X extends Float32Array | Int32Array = Float32Array | Int32Array, Y extends Int32Array | Float32Array = Int32Array | Float32Array> {
  name: string;
  /** N·prod(shape) training inputs. */
  xTrain: X;
  /** N·prod(targetShape) training targets: class indices in [0, classes) when `classes` is set. */
  yTrain: Y;
  xTest: X;
  yTest: Y;
  /** A validation split held out from training (for `validationData`, early stopping), when the source defines one; both or neither. */
  xValid?: X;
  yValid?: Y;
  /** Per-sample input shape: [28, 28, 1] for MNIST, [T] for token sequences. */
  shape: number[];
  /** Per-sample target shape: [] (default) for one class or value per sample, [T] for one label per position. */
  targetShape?: number[];
  /** Number of classes when the targets are class indices. */
  classes?: number;
  /** Class names, index = class (as many as `classes`). */
  classNames?: string[];
}

/** The built-in image datasets: NHWC float32 pixels in [0, 1] and int32 class labels. */
export type ImageDataset = Dataset<Float32Array, Int32Array> & { classes: number };

/** Values per sample of inputs (`x`) or targets (`y`). */
export function rowSize(ds: Dataset, which: 'x' | 'y'): number {
  return (which === 'x' ? ds.shape : ds.targetShape ?? []).reduce((a, b) => a * b, 1);
}

/** The three splits a dataset may have ('valid' only when `xValid`/`yValid` are set). */
export type Split = 'train' | 'valid' | 'test';

/** Inputs and targets of one split; DataError naming the dataset when it asks for a validation split it does not have. */
export function splitArrays<X extends Float32Array | Int32Array, Y extends Int32Array | Float32Array>(ds: Dataset<X, Y>, split: Split): { x: X; y: Y } {
  if (split === 'train') return { x: ds.xTrain, y: ds.yTrain };
  if (split === 'test') return { x: ds.xTest, y: ds.yTest };
  if (ds.xValid === undefined || ds.yValid === undefined) throw new DataError(ds.name, 'has no validation split (xValid, yValid)');
  return { x: ds.xValid, y: ds.yValid };
}

/** The splits a dataset has: train, valid (when set), test. */
export function splitsOf(ds: Dataset): Split[] {
  return ds.xValid !== undefined || ds.yValid !== undefined ? ['train', 'valid', 'test'] : ['train', 'test'];
}

/** Samples in a split. */
export function sampleCount(ds: Dataset, split: Split): number {
  return splitArrays(ds, split).y.length / rowSize(ds, 'y');
}

/**
 * Checks a dataset: whole rows of inputs and targets, the same count of each per split (the validation split
 * too when present, and then both `xValid` and `yValid`), class indices (int32 targets) in [0, classes), and as
 * many class names as classes. Throws DataError naming the dataset. Returns the dataset.
 */
export function checkDataset<D extends Dataset>(ds: D): D {
  const fail = (msg: string): never => { throw new DataError(ds.name, msg); };
  const xs = rowSize(ds, 'x'), ys = rowSize(ds, 'y');
  if (!(xs > 0) || !ds.shape.every((d) => Number.isInteger(d) && d > 0)) fail(`sample shape must hold positive integers, found [${ds.shape.join(', ')}]`);
  if ((ds.xValid === undefined) !== (ds.yValid === undefined)) fail(`validation split: ${ds.xValid === undefined ? 'yValid without xValid' : 'xValid without yValid'}`);
  for (const split of splitsOf(ds)) {
    const { x, y } = splitArrays(ds, split);
    if (x.length % xs !== 0 || y.length % Math.max(1, ys) !== 0 || x.length / xs !== y.length / ys) {
      fail(`${split} split: ${x.length} input values are not ${y.length / ys} rows of shape [${ds.shape.join(', ')}] (one per target row of shape [${(ds.targetShape ?? []).join(', ')}])`);
    }
    if (ds.classes !== undefined && y instanceof Int32Array) {
      for (let i = 0; i < y.length; i++) {
        if (!(y[i] >= 0 && y[i] < ds.classes)) fail(`${split} target ${i} is ${y[i]}, outside the ${ds.classes} classes [0, ${ds.classes})`);
      }
    }
  }
  if (ds.classNames && ds.classes !== undefined && ds.classNames.length !== ds.classes) fail(`${ds.classNames.length} class names for ${ds.classes} classes`);
  return ds;
}

/**
 * The dataset with only its first `trainLimit` training, `testLimit` test and `validLimit` (default: `testLimit`)
 * validation samples (views, no copies). A limit that is not a whole number ≥ 0 is a RangeError naming it.
 */
export function limitDataset<D extends Dataset>(ds: D, trainLimit?: number, testLimit?: number, validLimit = testLimit): D {
  for (const [what, v] of [['trainLimit', trainLimit], ['testLimit', testLimit], ['validLimit', validLimit]] as const) {
    if (v !== undefined && !(Number.isSafeInteger(v) && v >= 0)) throw new RangeError(`limitDataset: ${what} must be an integer ≥ 0, got ${v}`);
  }
  const cut = <T extends Float32Array | Int32Array>(a: T, n: number | undefined, row: number): T => (n === undefined || n * row >= a.length ? a : (a.subarray(0, n * row) as T));
  const xs = rowSize(ds, 'x'), ys = rowSize(ds, 'y');
  const out: D = {
    ...ds,
    xTrain: cut(ds.xTrain, trainLimit, xs), yTrain: cut(ds.yTrain, trainLimit, ys),
    xTest: cut(ds.xTest, testLimit, xs), yTest: cut(ds.yTest, testLimit, ys),
  };
  if (ds.xValid !== undefined && ds.yValid !== undefined) {
    out.xValid = cut(ds.xValid, validLimit, xs);
    out.yValid = cut(ds.yValid, validLimit, ys);
  }
  return out;
}

/** A split as fit / evaluate take it: `{ data, shape }` inputs [N, ...shape] and targets [N, ...targetShape]. */
export function splitData(ds: Dataset, split: Split): { x: { data: Float32Array | Int32Array; shape: number[] }; y: { data: Int32Array | Float32Array; shape: number[] } } {
  const { x, y } = splitArrays(ds, split);
  const n = sampleCount(ds, split);
  return { x: { data: x, shape: [n, ...ds.shape] }, y: { data: y, shape: [n, ...ds.targetShape ?? []] } };
}
