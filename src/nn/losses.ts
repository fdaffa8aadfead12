// Losses by Keras name: sparse categorical and categorical cross-entropy (from logits or probabilities, stable) and MSE.
import { DTypeError, fmt, ShapeError } from '../core/errors.js';
import { log, logSoftmax, maximum, mean, meanSquaredError, minimum, mul, neg, oneHot, softmaxCrossEntropy, sum } from '../core/ops/index.js';
import type { Tensor } from '../core/tensor.js';

/** Keras names of the losses. */
export const LOSSES = ['sparse_categorical_crossentropy', 'categorical_crossentropy', 'mean_squared_error'] as const;
/** One of {@link LOSSES}. */
export type LossName = (typeof LOSSES)[number];

/** Keras' clipping of probabilities before the log (backend epsilon). */
export const EPSILON = 1e-7;

/** A loss function: mean over the batch of a per-sample loss. */
export interface Loss {
  readonly name: LossName;
  /** True when predictions are logits (no softmax applied). */
  readonly fromLogits: boolean;
  /** True for the cross-entropies: a model ending in softmax may hand over its logits instead (exact and stable). */
  readonly fusesSoftmax: boolean;
  /** The mean loss; `logits` says whether `yPred` are logits (overriding `fromLogits`, used when the model skipped its softmax). */
  compute(yPred: Tensor, yTrue: Tensor, logits?: boolean): Tensor;
  /** The label dtype the loss needs. */
  readonly labelDType: 'int32' | 'float32';
}

const ALIASES: Record<string, LossName> = {
  sparse_categorical_crossentropy: 'sparse_categorical_crossentropy',
  categorical_crossentropy: 'categorical_crossentropy',
  mean_squared_error: 'mean_squared_error',
  mse: 'mean_squared_error',
};

/** Builds a loss from its Keras name (snake_case or camelCase; 'mse' too). */
export function getLoss(name: string, o: { fromLogits?: boolean } = {}): Loss {
  const key = name.replace(/([a-z])([A-Z])/g, '$1_$2').toLowerCase();
  const n = ALIASES[key];
  if (!n) throw new RangeError(`unknown loss '${name}' (expected one of ${LOSSES.join(', ')})`);
  const fromLogits = o.fromLogits ?? false;
  switch (n) {
    case 'sparse_categorical_crossentropy':
      return {
        name: n, fromLogits, fusesSoftmax: true, labelDType: 'int32',
        compute: (p, y, logits = fromLogits) => (logits ? softmaxCrossEntropy(p, y) : crossEntropyFromProbs(p, oneHot(checkedLabels(p, y), p.shape[1]))),
      };
    case 'categorical_crossentropy':
      return {
        name: n, fromLogits, fusesSoftmax: true, labelDType: 'float32',
        compute: (p, y, logits = fromLogits) => {
          sameShape('categorical_crossentropy', p, y);
          return logits ? neg(mean(sum(mul(logSoftmax(p), y), 1))) : crossEntropyFromProbs(p, y);
        },
      };
    case 'mean_squared_error':
      return {
        name: n, fromLogits: false, fusesSoftmax: false, labelDType: 'float32',
        compute: (p, y) => {
          sameShape('mean_squared_error', p, y);
          return meanSquaredError(p, y);
        },
      };
  }
}

function sameShape(loss: string, p: Tensor, y: Tensor): void {
  if (p.shape.length !== y.shape.length || p.shape.some((d, i) => d !== y.shape[i])) {
    throw new ShapeError(loss, `predictions ${fmt(p.shape)} and targets ${fmt(y.shape)} differ in shape`);
  }
}

function checkedLabels(p: Tensor, y: Tensor): Tensor {
  if (y.dtype !== 'int32') throw new DTypeError('sparse_categorical_crossentropy', `labels must be int32, got ${y.dtype}`);
  if (p.rank !== 2 || y.rank !== 1 || y.shape[0] !== p.shape[0]) {
    throw new ShapeError('sparse_categorical_crossentropy', `predictions must be [B,C] and labels [B], got ${fmt(p.shape)} and ${fmt(y.shape)}`);
  }
  return y;
}

/** −mean Σ y·log(clip(p, ε, 1−ε)), Keras' formula for probabilities. */
function crossEntropyFromProbs(p: Tensor, y: Tensor): Tensor {
  return neg(mean(sum(mul(y, log(minimum(maximum(p, EPSILON), 1 - EPSILON))), 1)));
}
