// The training record a model file carries (TrainingState, written by `weightshare train` / `compress`) and its check on load.
import type { EarlyStoppingState } from '../nn/callbacks.js';
import type { EpochPartial, History } from '../nn/training.js';
import { arrayOf, bool, either, FieldError, int, nullable, num, object, oneOf, opt, recordOf, req, str } from './schema.js';

/** The settings `weightshare compress` ran with, recorded in the compressed file's training state. */
export interface CompressRecord {
  /** How: 'deep-compression' (absent), 'prune-schedule' (Deep Compression pruning gradually) or 'soft-sharing'. */
  method?: string;
  /** Deep Compression's settings (absent for soft weight-sharing). */
  clusters?: number;
  convClusters?: number;
  prune?: number;
  convPrune?: number;
  /** Pruned fractions of single layers or sublayer paths, overriding prune / convPrune (absent: none). */
  layerPrune?: Record<string, number>;
  pruneFinetuneEpochs?: number;
  pruneLr?: number;
  init?: string;
  /** The gradual pruning schedule of method 'prune-schedule' (TF-MOT PolynomialDecay). */
  pruneSchedule?: { initialSparsity?: number; beginStep?: number; endStep?: number; frequency?: number; power?: number };
  /** Method 'variational-dropout': its retraining's settings. */
  variationalDropout?: {
    epochs: number; lr: number; klWeight: number; klWarmup: number; threshold: number;
    /** Per-layer overrides of klWeight and threshold (absent: none). */
    layerKlWeight?: Record<string, number>; layerThreshold?: Record<string, number>;
  };
  /** 16: the centroids were rounded to half precision at the end (stored at 16 bits); absent: 32. */
  centroidBits?: number;
  biasBits?: number;
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
  /** Set when Ctrl-C or SIGTERM stopped the training: where (e.g. 'fine-tuning the centroids, in epoch 2 of 4'). */
  interrupted?: string;
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
  /** A fingerprint of the data at dataDir when the run began (SHA-256 of its bytes, 16 hex digits): changes are noticed. */
  dataHash?: string;
  /** Training samples used (the first `limit`). */
  limit?: number;
  /** Test samples evaluated (the first `testLimit`; for a text corpus also the validation windows). */
  testLimit?: number;
  validationSplit?: number;
  history: History;
  /** Early stopping's settings and, once an epoch is saved, its state (with restoreBest its best epoch's weights are the file's `best/…` tensors). */
  earlyStopping?: { patience: number; restoreBest: boolean; state?: EarlyStoppingState };
  /** Set in a file written by `weightshare compress`: how it was compressed. */
  compress?: CompressRecord;
  /** A text run: how its samples were made from the corpus (the vocabulary itself is the file's tokenizer). */
  text?: { task: 'language-model' | 'classifier'; level: 'char' | 'word'; bptt?: number; maxLen?: number; maxVocab?: number };
}

const number = num();
/** How the history stores values JSON cannot hold. */
const NON_FINITE = ['Infinity', '-Infinity', 'NaN'] as const;

/** The record as a model file stores it: its history's non-finite values as the strings 'Infinity', '-Infinity', 'NaN'. */
export function encodeTrainingState(t: TrainingState): TrainingState {
  const h = t.history.history;
  if (Object.values(h).every((vs) => vs.every(Number.isFinite))) return t;
  const history = Object.fromEntries(Object.entries(h).map(([k, vs]) => [k, vs.map((v) => (Number.isFinite(v) ? v : String(v)))]));
  return { ...t, history: { ...t.history, history: history as unknown as Record<string, number[]> } };
}
const TRAINING_STATE = object({
  epoch: req(int(0)), epochs: req(int(0)), batchSize: req(int(1)), seed: req(int()),
  step: opt(int(0)), stepsPerEpoch: opt(int(0)),
  partial: opt(object({ lossSum: req(number), seen: req(int(0)), sums: req(arrayOf(number)), counts: req(arrayOf(num(0))) })),
  model: opt(str), dataset: opt(str), dataDir: opt(str), dataHash: opt(str), limit: opt(int(1)), testLimit: opt(int(1)), validationSplit: opt(num(0, 1)),
  // A metric that overflowed (perplexity e^loss of a diverging run: Infinity) is stored as a string (JSON has no Infinity).
  history: req(object({ epoch: req(arrayOf(int(0))), history: req(recordOf(arrayOf(either(number, oneOf(NON_FINITE))))) })),
  earlyStopping: opt(object({
    patience: req(int(0)), restoreBest: req(bool),
    state: opt(object({ best: req(nullable(number)), bestEpoch: req(int(-1)), wait: req(int(0)), stoppedEpoch: req(int(-1)) })),
  })),
  text: opt(object({
    task: req(oneOf(['language-model', 'classifier'])), level: req(oneOf(['char', 'word'])), bptt: opt(int(1)), maxLen: opt(int(1)), maxVocab: opt(int(4)),
  })),
  compress: opt(object({
    method: opt(str), clusters: opt(int(2)), convClusters: opt(int(2)), prune: opt(num(0, 1)), convPrune: opt(num(0, 1)), layerPrune: opt(recordOf(num(0, 1))), pruneFinetuneEpochs: opt(int(0)), pruneLr: opt(num(0)),
    init: opt(str), layers: opt(arrayOf(str)), finetuneEpochs: req(int(0)), lr: req(num(0)), seed: req(int()), from: req(str), interrupted: opt(str),
    pruneSchedule: opt(object({ initialSparsity: opt(num(0, 1)), beginStep: opt(int(0)), endStep: opt(int(0)), frequency: opt(int(1)), power: opt(num(0)) })),
    centroidBits: opt(int(16)),
    biasBits: opt(int(16)),
    variationalDropout: opt(object({
      epochs: req(int(0)), lr: req(num(0)), klWeight: req(num(0)), klWarmup: req(int(0)), threshold: req(num()),
      layerKlWeight: opt(recordOf(num(0))), layerThreshold: opt(recordOf(num())),
    })),
    softSharing: opt(object({
      components: req(int(2)), pi0: req(num(0, 1)), tau: req(num(0)), epochs: req(int(0)), lr: req(num(0)), meanLr: req(num(0)), varianceLr: req(num(0)),
      mixingLr: req(num(0)), prior: req(oneOf(['model', 'layer'])), mergeThreshold: req(num(0)),
    })),
  })),
}, { root: 'training' });

/** Relations between fields that the types alone do not say; the first that does not hold, as a FieldError. */
function checkRelations(t: TrainingState): void {
  if (t.epoch > t.epochs) throw new FieldError(`field 'epoch' (${t.epoch}) must be at most 'epochs' (${t.epochs})`);
  if (t.step !== undefined && t.stepsPerEpoch !== undefined && t.step > t.stepsPerEpoch) {
    throw new FieldError(`field 'step' (${t.step}) must be at most 'stepsPerEpoch' (${t.stepsPerEpoch})`);
  }
  const { epoch, history } = t.history;
  for (const [k, values] of Object.entries(history)) {
    if (values.length > epoch.length) throw new FieldError(`field 'history.history.${k}' has ${values.length} values for ${epoch.length} epochs`);
  }
}

/**
 * Checks that a model file's training record has the types and ranges of {@link TrainingState}, no field it does not
 * know, and consistent counts (epoch ≤ epochs, step ≤ stepsPerEpoch); returns it typed, or throws an Error whose
 * message names the first bad field, e.g. `training state: field 'epoch' must be an integer ≥ 0, got "1"`.
 */
export function checkTrainingState(v: unknown): TrainingState {
  try {
    TRAINING_STATE(v, '');
    checkRelations(v as TrainingState);
    // Back to numbers (see encodeTrainingState), in place: the caller holds this object.
    for (const vs of Object.values((v as TrainingState).history.history)) {
      for (let i = 0; i < vs.length; i++) if (typeof vs[i] === 'string') vs[i] = Number(vs[i]);
    }
  } catch (e) {
    if (e instanceof FieldError) throw new Error(`training state: ${e.message}`);
    throw e;
  }
  return v as TrainingState;
}
