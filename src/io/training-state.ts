// The training record a model file carries (TrainingState, written by `weightshare train` / `compress`) and its check on load.
import type { EarlyStoppingState } from '../nn/callbacks.js';
import type { EpochPartial, History } from '../nn/training.js';

/** The settings `weightshare compress` ran with, recorded in the compressed file's training state. */
export interface CompressRecord {
  /** How: 'deep-compression' (absent), 'prune-schedule' (Deep Compression pruning gradually) or 'soft-sharing'. */
  method?: string;
  /** Deep Compression's settings (absent for soft weight-sharing). */
  clusters?: number;
  convClusters?: number;
  prune?: number;
  convPrune?: number;
  pruneFinetuneEpochs?: number;
  pruneLr?: number;
  init?: string;
  /** The gradual pruning schedule of method 'prune-schedule' (TF-MOT PolynomialDecay). */
  pruneSchedule?: { initialSparsity?: number; beginStep?: number; endStep?: number; frequency?: number; power?: number };
  /** Soft weight-sharing's settings: components J, π₀, τ, retraining epochs and learning rates, prior per model or layer, merge threshold. */
  softSharing?: {
    components: number; pi0: number; tau: number; epochs: number; lr: number; meanLr: number; varianceLr: number; mixingLr: number;
    prior: string; mergeThreshold: number;
  };
  /** The layers compressed (absent: every shareable weight). */
  layers?: string[];
  finetuneEpochs: number;
  lr: number;
  seed: number;
  /** The model file compressed. */
  from: string;
}

/** Where a training run stands, stored with the model so `--resume` can continue it exactly. */
export interface TrainingState {
  /** Epochs completed. */
  epoch: number;
  /** Epochs the run asked for. */
  epochs: number;
  batchSize: number;
  /** The fit seed (shuffling, dropout) and the weight-initialisation seed. */
  seed: number;
  /** Batches of epoch `epoch` done (a run interrupted mid-epoch), and their running sums. */
  step?: number;
  partial?: EpochPartial;
  /** Batches per epoch of the run. */
  stepsPerEpoch?: number;
  /** The architecture as the CLI named it (`mlp:1000`, `seed-cnn`). */
  model?: string;
  /** Dataset name and directory, so eval/resume find the same data. */
  dataset?: string;
  dataDir?: string;
  /** Training samples used (the first `limit`). */
  limit?: number;
  validationSplit?: number;
  history: History;
  /** Early stopping's settings and, once an epoch is saved, its state (with restoreBest its best epoch's weights are the file's `best/…` tensors). */
  earlyStopping?: { patience: number; restoreBest: boolean; state?: EarlyStoppingState };
  /** Set in a file written by `weightshare compress`: how it was compressed. */
  compress?: CompressRecord;
  /** A text run: how its samples were made from the corpus (the vocabulary itself is the file's tokenizer). */
  text?: { task: 'language-model' | 'classifier'; level: 'char' | 'word'; bptt?: number; maxLen?: number; maxVocab?: number };
}

/** Checks a value, throwing a FieldError naming `at` (the field's dotted path) when it does not fit. */
type Check = (v: unknown, at: string) => void;
type Schema = Record<string, { check: Check; optional?: boolean }>;

/** Thrown by {@link checkTrainingState}: the field (dotted path) and what it should be. */
class FieldError extends Error {}

const fail = (at: string, want: string, v: unknown): never => {
  throw new FieldError(`field '${at}' must be ${want}, got ${JSON.stringify(v)}`);
};
const int = (min?: number): Check => (v, at) => {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < (min ?? -Infinity)) fail(at, min === undefined ? 'an integer' : `an integer ≥ ${min}`, v);
};
const num: Check = (v, at) => void (typeof v === 'number' && Number.isFinite(v) || fail(at, 'a number', v));
const str: Check = (v, at) => void (typeof v === 'string' || fail(at, 'a string', v));
const bool: Check = (v, at) => void (typeof v === 'boolean' || fail(at, 'true or false', v));
const oneOf = (values: readonly string[]): Check => (v, at) => void (values.includes(v as string) || fail(at, `one of ${values.map((x) => `'${x}'`).join(', ')}`, v));
const nullable = (c: Check): Check => (v, at) => void (v === null || c(v, at));
/** A plain object (not null, not a list), else a FieldError. */
const plain = (v: unknown, at: string): Record<string, unknown> => (v && typeof v === 'object' && !Array.isArray(v) ? v as Record<string, unknown> : fail(at, 'an object', v));
const arrayOf = (c: Check): Check => (v, at) => {
  if (!Array.isArray(v)) fail(at, 'a list', v);
  (v as unknown[]).forEach((x, i) => c(x, `${at}[${i}]`));
};
const recordOf = (c: Check): Check => (v, at) => {
  for (const [k, x] of Object.entries(plain(v, at))) c(x, `${at}.${k}`);
};
const object = (schema: Schema): Check => (v, at) => {
  const o = plain(v, at || 'training');
  for (const [k, { check, optional }] of Object.entries(schema)) {
    const where = at ? `${at}.${k}` : k;
    if (o[k] !== undefined) check(o[k], where);
    else if (!optional) fail(where, 'present', undefined);
  }
};
const req = (check: Check) => ({ check });
const opt = (check: Check) => ({ check, optional: true });

const TRAINING_STATE = object({
  epoch: req(int(0)), epochs: req(int(0)), batchSize: req(int(1)), seed: req(int()),
  step: opt(int(0)), stepsPerEpoch: opt(int(0)),
  partial: opt(object({ lossSum: req(num), seen: req(int(0)), sums: req(arrayOf(num)), counts: req(arrayOf(num)) })),
  model: opt(str), dataset: opt(str), dataDir: opt(str), limit: opt(int(1)), validationSplit: opt(num),
  history: req(object({ epoch: req(arrayOf(int(0))), history: req(recordOf(arrayOf(num))) })),
  earlyStopping: opt(object({
    patience: req(int(0)), restoreBest: req(bool),
    state: opt(object({ best: req(nullable(num)), bestEpoch: req(int(-1)), wait: req(int(0)), stoppedEpoch: req(int(-1)) })),
  })),
  text: opt(object({
    task: req(oneOf(['language-model', 'classifier'])), level: req(oneOf(['char', 'word'])), bptt: opt(int(1)), maxLen: opt(int(1)), maxVocab: opt(int(4)),
  })),
  compress: opt(object({
    method: opt(str), clusters: opt(int(2)), convClusters: opt(int(2)), prune: opt(num), convPrune: opt(num), pruneFinetuneEpochs: opt(int(0)), pruneLr: opt(num),
    init: opt(str), layers: opt(arrayOf(str)), finetuneEpochs: req(int(0)), lr: req(num), seed: req(int()), from: req(str),
  })),
});

/**
 * Checks that a model file's training record has the types of {@link TrainingState} (fields it does not know are
 * left alone); returns it typed, or throws an Error whose message names the first bad field, e.g.
 * `training state: field 'epoch' must be an integer ≥ 0, got "1"`.
 */
export function checkTrainingState(v: unknown): TrainingState {
  try {
    TRAINING_STATE(v, '');
  } catch (e) {
    if (e instanceof FieldError) throw new Error(`training state: ${e.message}`);
    throw e;
  }
  return v as TrainingState;
}
