// Synthetic sequence tasks (browser-safe): the running sum mod K of a digit string, labelled at every position, seeded.
//
// Legend: N strings, T digits per string, K the modulus (digits and labels in [0, K)).
import { quote } from '../core/errors.js';
import { Random } from '../core/random.js';
import { DataError } from './data-error.js';
import type { Dataset } from './dataset.js';

/** Options of {@link runningSum}. */
export interface RunningSumOptions {
  /** Strings N. */
  count: number;
  /** Digits per string T. */
  length: number;
  /** K: digits are uniform in [0, K), labels are running sums mod K (2: running parity of a bit string). Default 10. */
  modulus?: number;
  /** Seed of the digits (default 0): the same seed gives the same strings. */
  seed?: number;
}

/** Strings of a running-sum task: one-hot inputs, per-position labels and the digits themselves. */
export interface RunningSumSequences {
  /** float32 [N, T, K], one-hot digits. */
  x: Float32Array;
  /** int32 [N, T]: y[n, t] = (d[n, 0] + … + d[n, t]) mod K. */
  y: Int32Array;
  /** int32 [N, T], the digits. */
  digits: Int32Array;
  /** Per-sample input shape [T, K]. */
  shape: [number, number];
  /** Per-sample target shape [T]. */
  targetShape: [number];
}

/**
 * N random digit strings of length T and, at every position, the sum so far mod K: a sequence-labelling task solved
 * exactly by a K-state automaton, so a recurrent net that learns the automaton handles any length. Labelled at every
 * position, a string of length T trains all lengths 1..T at once (each prefix is an example with its label at its end);
 * testing on longer strings asks whether what was learnt generalises in length.
 */
export function runningSum(o: RunningSumOptions): RunningSumSequences {
  const k = o.modulus ?? 10;
  const what = `runningSum(count ${o.count}, length ${o.length}, modulus ${k})`;
  for (const [name, v, min] of [['count', o.count, 1], ['length', o.length, 1], ['modulus', k, 2]] as const) {
    if (!Number.isInteger(v) || v < min) throw new DataError(what, `${name} must be an integer ≥ ${min}, got ${quote(v)}`);
  }
  const { count: n, length: t } = o;
  const rng = new Random(o.seed ?? 0);
  const x = new Float32Array(n * t * k);
  const y = new Int32Array(n * t);
  const digits = new Int32Array(n * t);
  for (let i = 0; i < n; i++) {
    let sum = 0;
    for (let s = 0; s < t; s++) {
      const d = rng.int(k);
      const at = i * t + s;
      digits[at] = d;
      x[at * k + d] = 1;
      sum = (sum + d) % k;
      y[at] = sum;
    }
  }
  return { x, y, digits, shape: [t, k], targetShape: [t] };
}

/** Options of {@link runningSumDataset}. */
export interface RunningSumDatasetOptions {
  /** Digits per string T (train and test). */
  length: number;
  /** Training strings. */
  train: number;
  /** Test strings. */
  test: number;
  /** K (default 10). */
  modulus?: number;
  /** Seed (default 0); the test strings use another seed derived from it. */
  seed?: number;
}

/**
 * The running sum mod K as a {@link Dataset} (inputs [T, K] one-hot, targets [T], K classes); train and test strings
 * are drawn from different seeds. For tests on other lengths call {@link runningSum} with that length.
 */
export function runningSumDataset(o: RunningSumDatasetOptions): Dataset<Float32Array, Int32Array> & { classes: number } {
  const k = o.modulus ?? 10;
  const seed = o.seed ?? 0;
  const train = runningSum({ count: o.train, length: o.length, modulus: k, seed });
  const test = runningSum({ count: o.test, length: o.length, modulus: k, seed: (seed ^ 0x5eed7e57) >>> 0 });
  return {
    name: `running-sum-mod-${k}`, xTrain: train.x, yTrain: train.y, xTest: test.x, yTest: test.y,
    shape: train.shape, targetShape: train.targetShape, classes: k,
  };
}
