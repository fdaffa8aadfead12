// Metrics by Keras name over predictions [..., C]: each returns a weighted sum and count so epoch values are exact over uneven batches, and a result from those sums.
import { fmt, ShapeError } from '../core/errors.js';
import { argmax, type LossWeighting, positionWeights, sparseLabels } from '../core/ops/index.js';
import type { Tensor } from '../core/tensor.js';
import { EPSILON, type LossName } from './losses.js';

/** Keras names of the metrics (what compile takes and the logs are keyed by; `val_` + name for validation). */
export const METRICS = ['accuracy', 'sparse_top_k_categorical_accuracy', 'top_k_categorical_accuracy', 'perplexity', 'bits_per_char'] as const;
/** One of {@link METRICS}. */
export type MetricName = (typeof METRICS)[number];

/** What a batch's metric update may need beyond predictions and targets. */
export interface MetricInputs {
  /** The predictions are logits (the model skipped its softmax, or the loss is from logits). */
  logits?: boolean;
  /** Per-position weights, a prefix of the label positions (as for the loss). */
  sampleWeight?: Tensor;
  /** Positions that count (nonzero), a prefix of the label positions. */
  mask?: Tensor;
  /** Sparse labels equal to this class do not count (the loss's ignoreClass). */
  ignoreClass?: number;
}

/**
 * A metric over a batch: `sum` = Σ weight·value over the positions that count and `count` = Σ weight
 * (unweighted: the number of positions). The epoch's value is `result(Σ sums, Σ counts)`, exact over uneven batches.
 */
export interface Metric {
  /** The metric's name in logs: a {@link MetricName}, prefixed by the output's layer (`dense_1_accuracy`) in a model with several outputs. */
  readonly name: MetricName | string;
  /** Which model output it scores (0 unless the model has several). */
  readonly output?: number;
  update(yPred: Tensor, yTrue: Tensor, o?: MetricInputs): { sum: number; count: number };
  /** The metric from summed `sum` and `count` (a weighted mean, or e.g. perplexity = exp of the mean cross-entropy). */
  result(sum: number, count: number): number;
}

const ALIASES: Record<string, MetricName | 'top_k_accuracy'> = {
  accuracy: 'accuracy',
  acc: 'accuracy',
  sparse_top_k_categorical_accuracy: 'sparse_top_k_categorical_accuracy',
  top_k_categorical_accuracy: 'top_k_categorical_accuracy',
  top_k_accuracy: 'top_k_accuracy',
  perplexity: 'perplexity',
  bits_per_char: 'bits_per_char',
  bpc: 'bits_per_char',
};

/** One position's value from its row pred[at, at + c) and its target: a class, and for categorical targets their values (row at the same offset). */
type PositionValue = (pred: Float32Array | Int32Array, at: number, c: number, label: number, targets: ArrayLike<number> | undefined) => number;

const mean = (sum: number, count: number): number => (count > 0 ? sum / count : 0);

/**
 * Builds a metric from its Keras name. 'accuracy' ('acc') and 'top_k_accuracy' resolve by the loss as in Keras:
 * class indices for sparse_categorical_crossentropy, one-hot rows (argmax) otherwise. `k` is the top-k
 * metrics' k (default 5). 'perplexity' is exp and 'bits_per_char' ('bpc') 1/ln 2 times the mean token
 * cross-entropy (natural log), both from the epoch's sums; they need a cross-entropy loss.
 */
export function getMetric(name: string, loss: LossName, o: { k?: number } = {}): Metric {
  const key = name.replace(/([a-z])([A-Z])/g, '$1_$2').toLowerCase();
  const resolved = ALIASES[key];
  if (!resolved) throw new RangeError(`unknown metric '${name}' (expected one of ${METRICS.join(', ')}, or acc, top_k_accuracy, bpc)`);
  const sparse = loss === 'sparse_categorical_crossentropy';
  const k = o.k ?? 5;
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`metric '${name}': k must be a positive integer, got ${k}`);
  switch (resolved) {
    case 'accuracy':
      return { name: 'accuracy', result: mean, update: (p, y, w = {}) => accuracy(p, y, sparse, w) };
    case 'top_k_accuracy':
    case 'sparse_top_k_categorical_accuracy':
    case 'top_k_categorical_accuracy': {
      const n = resolved === 'top_k_accuracy' ? (sparse ? 'sparse_top_k_categorical_accuracy' : 'top_k_categorical_accuracy') : resolved;
      const inTopK: PositionValue = (p, at, c, label) => {
        const score = p[at + label];
        let above = 0;
        for (let j = 0; j < c; j++) if (p[at + j] > score) above++;
        return above < k ? 1 : 0;
      };
      return { name: n, result: mean, update: (p, y, w = {}) => perPosition(n, p, y, n === 'sparse_top_k_categorical_accuracy', w, () => inTopK) };
    }
    case 'perplexity':
    case 'bits_per_char': {
      if (loss === 'mean_squared_error') throw new RangeError(`metric '${resolved}' needs a cross-entropy loss, got ${loss}`);
      // No counted token (every label ignored or masked): NaN, not the perplexity 1 / 0 bits of a perfect model.
      const ce = (s: number, c: number): number => (c > 0 ? s / c : NaN);
      const result = resolved === 'perplexity' ? (s: number, c: number) => Math.exp(ce(s, c)) : (s: number, c: number) => ce(s, c) / Math.LN2;
      return { name: resolved, result, update: (p, y, w = {}) => perPosition(resolved, p, y, sparse, w, crossEntropyOf) };
    }
  }
}

/** Accuracy through the backend's argmax (first maximum), as it has always been computed. */
function accuracy(p: Tensor, y: Tensor, sparse: boolean, w: MetricInputs): { sum: number; count: number } {
  const pred = argmax(p, -1);
  const guess = pred.data();
  pred.dispose();
  const { labels: truth, weights: pw } = sparse ? checked('accuracy', p, y, w) : { labels: argmaxOf('accuracy', p, y), weights: weighting('accuracy', p, w) };
  let sum = 0;
  let count = 0;
  for (let i = 0; i < guess.length; i++) {
    if (pw && !pw.counts[i]) continue;
    const wi = pw ? pw.weight[i] : 1;
    if (guess[i] === truth[i]) sum += wi;
    count += wi;
  }
  return { sum, count };
}

/** Σ weight·value(position) and Σ weight over the positions that count, reading predictions and targets once. */
function perPosition(name: string, p: Tensor, y: Tensor, sparse: boolean, w: MetricInputs, value: (logits: boolean) => PositionValue): { sum: number; count: number } {
  const c = p.shape[p.rank - 1];
  const pv = p.data();
  let labels: ArrayLike<number>;
  let targets: ArrayLike<number> | undefined;
  let pw: ReturnType<typeof weighting>;
  if (sparse) ({ labels, weights: pw } = checked(name, p, y, w));
  else {
    labels = argmaxOf(name, p, y);
    targets = y.data();
    pw = weighting(name, p, w);
  }
  const f = value(w.logits ?? false);
  let sum = 0;
  let count = 0;
  for (let i = 0; i < labels.length; i++) {
    if (pw && !pw.counts[i]) continue;
    const wi = pw ? pw.weight[i] : 1;
    sum += wi * f(pv, i * c, c, labels[i], targets);
    count += wi;
  }
  return { sum, count };
}

/** The cross-entropy (nats) of one position, in float64: log-sum-exp for logits, Keras' clipped log for probabilities. */
const crossEntropyOf = (logits: boolean): PositionValue => (p, at, c, label, targets) => {
  let lse = 0;
  if (logits) {
    let max = -Infinity;
    for (let j = 0; j < c; j++) max = Math.max(max, p[at + j]);
    let s = 0;
    for (let j = 0; j < c; j++) s += Math.exp(p[at + j] - max);
    lse = max + Math.log(s);
  }
  const logProb = (j: number): number => (logits ? p[at + j] - lse : Math.log(Math.min(Math.max(p[at + j], EPSILON), 1 - EPSILON)));
  if (!targets) return -logProb(label);
  let ce = 0;
  for (let j = 0; j < c; j++) if (targets[at + j] !== 0) ce -= targets[at + j] * logProb(j);
  return ce;
};

/** Sparse labels checked against the predictions (shape, range where they count) with their weighting. */
function checked(name: string, p: Tensor, y: Tensor, w: MetricInputs): { labels: ArrayLike<number>; weights: ReturnType<typeof weighting> } {
  const r = sparseLabels(name, p, y, toWeighting(name, w));
  return { labels: r.values, weights: r.weights };
}

/** The class of each one-hot (or soft) target row: argmax over the last axis of targets shaped like the predictions. */
function argmaxOf(name: string, p: Tensor, y: Tensor): ArrayLike<number> {
  if (y.rank !== p.rank || y.shape.some((d, i) => d !== p.shape[i])) {
    throw new ShapeError(name, `predictions ${fmt(p.shape)} and one-hot targets ${fmt(y.shape)} differ in shape`);
  }
  const t = argmax(y, -1);
  const v = t.data();
  t.dispose();
  return v;
}

function toWeighting(name: string, w: MetricInputs): LossWeighting {
  return { name, weights: w.sampleWeight, mask: w.mask, ignoreClass: w.ignoreClass };
}

/** The weighting of categorical targets (positions = the predictions' leading shape), or undefined when unweighted. */
function weighting(name: string, p: Tensor, w: MetricInputs): ReturnType<typeof positionWeights> | undefined {
  if (w.sampleWeight === undefined && w.mask === undefined) return undefined;
  return positionWeights(name, p.shape.slice(0, -1), toWeighting(name, { ...w, ignoreClass: undefined }));
}
