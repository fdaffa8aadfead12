// Metrics by Keras name; each returns a sum and a count so epoch averages are exact over uneven batches.
import { argmax } from '../core/ops/index.js';
import type { Tensor } from '../core/tensor.js';
import type { LossName } from './losses.js';

/** Keras names of the metrics. */
export const METRICS = ['accuracy'] as const;
/** One of {@link METRICS}. */
export type MetricName = (typeof METRICS)[number];

/** A metric over a batch: `sum` of per-sample values and their `count`. */
export interface Metric {
  readonly name: MetricName;
  update(yPred: Tensor, yTrue: Tensor): { sum: number; count: number };
}

/** Builds a metric; 'accuracy' (or 'acc') resolves by the loss, as in Keras: class index vs argmax for the cross-entropies. */
export function getMetric(name: string, loss: LossName): Metric {
  if (name !== 'accuracy' && name !== 'acc') throw new RangeError(`unknown metric '${name}' (expected one of ${METRICS.join(', ')})`);
  return {
    name: 'accuracy',
    update(p, y) {
      const pred = argmax(p, -1);
      const guess = pred.data();
      pred.dispose();
      let truth: ArrayLike<number>;
      if (loss === 'sparse_categorical_crossentropy') truth = y.data();
      else {
        const t = argmax(y, -1);
        truth = t.data();
        t.dispose();
      }
      let correct = 0;
      for (let i = 0; i < guess.length; i++) if (guess[i] === truth[i]) correct++;
      return { sum: correct, count: guess.length };
    },
  };
}
