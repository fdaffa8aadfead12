// Losses by Keras name over predictions [..., C]: sparse categorical and categorical cross-entropy (from logits or probabilities, stable) and MSE, with sample weights, masks and ignoreClass.
import { DTypeError, fmt, ShapeError } from '../core/errors.js';
import {
  isWeighted, log, logSoftmax, type LossWeighting, maximum, mean, meanSquaredError, minimum, mul, neg, oneHot, positionWeights,
  softmaxCrossEntropy, sparseLabels, sum, weightedSum,
} from '../core/ops/index.js';
import type { Tensor } from '../core/tensor.js';

/** Keras names of the losses. */
export const LOSSES = ['sparse_categorical_crossentropy', 'categorical_crossentropy', 'mean_squared_error'] as const;
/** One of {@link LOSSES}. */
export type LossName = (typeof LOSSES)[number];

/** Keras' clipping of probabilities before the log (backend epsilon). */
export const EPSILON = 1e-7;

/** Options of {@link getLoss}. */
export interface LossOptions {
  /** The predictions are logits (no softmax applied). Default false. */
  fromLogits?: boolean;
  /** Sparse cross-entropy only: positions whose label is this class do not count (Keras `ignore_class`, e.g. a padding id 0). */
  ignoreClass?: number;
}

/** Per-batch weighting handed to {@link Loss.compute}: Keras `sample_weight` and a mask, each shaped like a prefix of the positions. */
export interface LossInputs {
  /** float32 [B] or [B, T, …] (a prefix of the label positions), broadcast over the rest. */
  sampleWeight?: Tensor;
  /** Positions that count (nonzero), a prefix of the label positions: the mean divides by their number. */
  mask?: Tensor;
}

/**
 * A loss function over predictions [..., C]: Σ weight·loss over the positions that count divided by their
 * number (Keras `sum_over_batch_size`; with no weights, mask or ignoreClass, the plain mean over positions).
 */
export interface Loss {
  readonly name: LossName;
  /** True when predictions are logits (no softmax applied). */
  readonly fromLogits: boolean;
  /** True for the cross-entropies: a model ending in softmax may hand over its logits instead (exact and stable). */
  readonly fusesSoftmax: boolean;
  /** Sparse labels equal to this class do not count (undefined: all count). */
  readonly ignoreClass?: number;
  /**
   * The mean loss; `logits` says whether `yPred` are logits (overriding `fromLogits`, used when the model
   * skipped its softmax); `w` weighs and masks positions ({@link LossInputs}).
   */
  compute(yPred: Tensor, yTrue: Tensor, logits?: boolean, w?: LossInputs): Tensor;
  /** The label dtype the loss needs. */
  readonly labelDType: 'int32' | 'float32';
}

const ALIASES: Record<string, LossName> = {
  sparse_categorical_crossentropy: 'sparse_categorical_crossentropy',
  categorical_crossentropy: 'categorical_crossentropy',
  mean_squared_error: 'mean_squared_error',
  mse: 'mean_squared_error',
};

/** Builds a loss from its Keras name (snake_case or camelCase; 'mse' too); `ignoreClass` is for the sparse cross-entropy only. */
export function getLoss(name: string, o: LossOptions = {}): Loss {
  const key = name.replace(/([a-z])([A-Z])/g, '$1_$2').toLowerCase();
  const n = ALIASES[key];
  if (!n) throw new RangeError(`unknown loss '${name}' (expected one of ${LOSSES.join(', ')})`);
  const fromLogits = o.fromLogits ?? false;
  const ignoreClass = o.ignoreClass;
  if (ignoreClass !== undefined && (n !== 'sparse_categorical_crossentropy' || !Number.isInteger(ignoreClass))) {
    throw new RangeError(`loss '${n}': ignoreClass needs sparse integer labels (sparse_categorical_crossentropy) and an integer class, got ${ignoreClass}`);
  }
  const weighting = (w: LossInputs | undefined): LossWeighting => ({ name: n, weights: w?.sampleWeight, mask: w?.mask, ignoreClass });
  switch (n) {
    case 'sparse_categorical_crossentropy':
      return {
        name: n, fromLogits, fusesSoftmax: true, labelDType: 'int32', ignoreClass,
        compute: (p, y, logits = fromLogits, w) => {
          if (logits) return softmaxCrossEntropy(p, y, weighting(w));
          const { weights } = sparseLabels(n, p, y, weighting(w));
          return crossEntropyFromProbs(p, oneHot(y, p.shape[p.rank - 1]), weights && ((v) => neg(weightedSum(v, weights))));
        },
      };
    case 'categorical_crossentropy':
      return {
        name: n, fromLogits, fusesSoftmax: true, labelDType: 'float32',
        compute: (p, y, logits = fromLogits, w) => {
          sameShape(n, p, y);
          const o = weighting(w);
          const reduce = isWeighted(o) ? (v: Tensor) => neg(weightedSum(v, positionWeights(n, p.shape.slice(0, -1), o))) : undefined;
          if (!logits) return crossEntropyFromProbs(p, y, reduce);
          const perPosition = sum(mul(logSoftmax(p), y), p.rank - 1);
          return reduce ? reduce(perPosition) : neg(mean(perPosition));
        },
      };
    case 'mean_squared_error':
      return {
        name: n, fromLogits: false, fusesSoftmax: false, labelDType: 'float32',
        compute: (p, y, _logits, w) => {
          sameShape(n, p, y);
          return meanSquaredError(p, y, weighting(w));
        },
      };
  }
}

function sameShape(loss: string, p: Tensor, y: Tensor): void {
  if (p.shape.length !== y.shape.length || p.shape.some((d, i) => d !== y.shape[i])) {
    throw new ShapeError(loss, `predictions ${fmt(p.shape)} and targets ${fmt(y.shape)} differ in shape`);
  }
  if (y.dtype !== 'float32') throw new DTypeError(loss, `targets must be float32, got ${y.dtype} (targets ${fmt(y.shape)})`);
}

/**
 * −Σ y·log(clip(p, ε, 1−ε)) over the last axis, Keras' formula for probabilities, then the mean over the
 * positions, or `reduce` of the per-position Σ y·log p (a weighted mean, negated by `reduce`).
 */
function crossEntropyFromProbs(p: Tensor, y: Tensor, reduce?: (perPosition: Tensor) => Tensor): Tensor {
  const perPosition = sum(mul(y, log(minimum(maximum(p, EPSILON), 1 - EPSILON))), p.rank - 1);
  return reduce ? reduce(perPosition) : neg(mean(perPosition));
}
