// The training loop behind Model.fit / evaluate / predict: seeded batching, one taped step per batch, callbacks, NaN stop.
import { tidy } from '../core/engine.js';
import { ArgumentError, checkOptions, describeValue, DTypeError, fmt, IndexError, quote, ShapeError, StateError } from '../core/errors.js';
import { add, gather, mul, tensor } from '../core/ops/index.js';
import { valueAndGrads } from '../core/tape.js';
import type { Tensor } from '../core/tensor.js';
import { epochOrder, mixSeed } from '../core/random.js';
import { unravel } from '../core/shape.js';

export { epochOrder };
import type { LossInputs } from './losses.js';
import { ProgressLogger } from './progress.js';
import type { Model } from './model.js';
import { withWeightCache } from '../sharing/cache.js';
import { trainingTerms } from './training-terms.js';

/** Inputs or targets: a tensor [N, ...], or a typed array with its shape. */
export type Data = Tensor | { data: Float32Array | Int32Array; shape: readonly number[] };

/** Values reported to callbacks and stored in the history (Keras keys: loss, accuracy, val_loss, val_accuracy). */
export type Logs = Record<string, number>;

/** Hooks called during {@link fit}; set `model.stopTraining = true` to stop after the current batch. */
export interface Callback {
  /** Called by fit before onTrainBegin with the model being trained (callbacks that read or set weights keep it). */
  setModel?(m: Model): void;
  /** `skippedSamples`: samples of `initialEpoch` done before a mid-epoch resume (initialStep batches), which this run skips. */
  onTrainBegin?(info: { epochs: number; stepsPerEpoch: number; samples: number; initialEpoch: number; skippedSamples: number }): void | Promise<void>;
  onEpochBegin?(epoch: number): void | Promise<void>;
  /** After each batch: `logs` holds running epoch means (loss, metrics) and `samples` seen this epoch. */
  onBatchEnd?(step: number, logs: Logs): void | Promise<void>;
  /** After each epoch (0-based), with the epoch's means and validation results. */
  onEpochEnd?(epoch: number, logs: Logs): void | Promise<void>;
  onTrainEnd?(logs: Logs): void | Promise<void>;
}

/** Options of {@link fit} (Keras names). */
export interface FitOptions {
  epochs?: number;
  batchSize?: number;
  /** Fraction of the samples, taken from the end before shuffling, held out for validation. */
  validationSplit?: number;
  /** Held-out (x, y) or (x, y, sampleWeight) evaluated after each epoch (`val_…` logs). */
  validationData?: [Data | readonly Data[], Data | readonly Data[]] | [Data | readonly Data[], Data | readonly Data[], Data];
  /**
   * Keras `sample_weight`: float32 [N] (one weight per sample) or [N, T, …] (per position: a prefix of the
   * label positions, e.g. [N, T] for labels [N, T]); the loss is Σ weight·loss / positions, the metrics
   * weighted means. A validationSplit takes the weights of its samples with them.
   */
  sampleWeight?: Data;
  /** Shuffle the training samples each epoch (default true). */
  shuffle?: boolean;
  /** Seed of the shuffling and of dropout; the same seed gives the same run (default 0). */
  seed?: number;
  callbacks?: Callback[];
  /**
   * Keras' verbose: 0 (default) prints nothing; 1 a progress bar per epoch (redrawn in place on a terminal) and a line per
   * epoch with its time, samples/s and logs, as `weightshare train` prints them; 2 only the line per epoch. Written to
   * stderr in Node, to the console elsewhere (a {@link ProgressLogger} after the other callbacks).
   */
  verbose?: 0 | 1 | 2;
  /** Epoch to start at (for resuming): epochs before it are skipped but keep their shuffle order. */
  initialEpoch?: number;
  /** Batches of `initialEpoch` already done (resuming mid-epoch): they are skipped, the rest of the epoch runs in the same order. */
  initialStep?: number;
  /** The running sums of those batches (`History.stopped.partial` of the interrupted run), so the epoch's logs cover all of it. */
  initialPartial?: EpochPartial;
  /** Yield to the event loop every this many ms so signals and timers can run (default 50). */
  yieldEveryMs?: number;
}

/** The keys of {@link FitOptions}. */
const FIT_OPTIONS = [
  'epochs', 'batchSize', 'validationSplit', 'validationData', 'sampleWeight', 'shuffle', 'seed', 'callbacks', 'verbose',
  'initialEpoch', 'initialStep', 'initialPartial', 'yieldEveryMs',
] as const satisfies readonly (keyof FitOptions)[];

/** Where an option of Keras or TF.js that these functions do not take has its counterpart here. */
const TRAINING_HINTS: Record<string, string> = {
  classWeight: 'weight the classes with sampleWeight (each sample the weight of its class)',
  stepsPerEpoch: 'an epoch is one pass over the samples given',
  onEpochEnd: 'pass callbacks: [{ onEpochEnd(epoch, logs) { … } }]',
  onBatchEnd: 'pass callbacks: [{ onBatchEnd(batch, logs) { … } }]',
};

/** Options of {@link evaluate} (Keras names). */
export interface EvaluateOptions {
  batchSize?: number;
  /** Keras `sample_weight`, as in {@link FitOptions.sampleWeight}. */
  sampleWeight?: Data;
}

/** Running sums of an unfinished epoch: loss·samples, samples, and each metric's sum and count. */
export interface EpochPartial {
  lossSum: number;
  seen: number;
  sums: number[];
  counts: number[];
}

/** What fit returns: the epochs run and the per-epoch logs (Keras `History`). */
export interface History {
  epoch: number[];
  history: Record<string, number[]>;
  /** Set when a callback stopped training mid-epoch: that epoch (0-based), the batches of it completed and their running sums. */
  stopped?: { epoch: number; step: number; partial: EpochPartial };
}

/** Thrown by fit when the loss becomes NaN or infinite; the weights are those before the failing step. */
export class NonFiniteLossError extends Error {
  constructor(readonly epoch: number, readonly step: number, readonly value: number) {
    super(`loss became ${value} at epoch ${epoch + 1}, batch ${step + 1}; training stopped with the weights from before this batch (try a lower learning rate, or look for NaN or infinite values in data given as tensors)`);
    this.name = 'NonFiniteLossError';
  }
}

/** An ArgumentError for `what` = 'function: argument' (e.g. 'fit: x', 'fit: validation y[1]'). */
function argumentError(what: string, message: string): ArgumentError {
  const i = what.indexOf(': ');
  return i < 0 ? new ArgumentError(what, message) : new ArgumentError(what.slice(0, i), `${what.slice(i + 2)} ${message}`);
}

/** Checks that `d` is Data: a Tensor, or a typed array with a shape of whole sizes; an ArgumentError names the argument otherwise. */
function checkData(d: unknown, what: string): asserts d is Data {
  if (d !== null && typeof d === 'object' && 'isTensor' in d) return;
  if (d === null || typeof d !== 'object' || Array.isArray(d) || ArrayBuffer.isView(d)) {
    const hint = Array.isArray(d) ? ' (make a tensor of nested arrays with tensor(values), int32 labels with tensor(labels, undefined, \'int32\'))'
      : d instanceof Float32Array || d instanceof Int32Array ? ' (give its shape: { data, shape: [N, ...] })' : '';
    throw argumentError(what, `must be a Tensor or { data: Float32Array | Int32Array, shape: number[] }, got ${describeValue(d)}${hint}`);
  }
  const { data, shape } = d as { data?: unknown; shape?: unknown };
  if (!(data instanceof Float32Array || data instanceof Int32Array)) throw argumentError(`${what}.data`, `must be a Float32Array or Int32Array, got ${describeValue(data)}`);
  if (!Array.isArray(shape) || !shape.every((s) => Number.isSafeInteger(s) && s >= 0)) {
    throw argumentError(`${what}.shape`, `must be a list of whole sizes ≥ 0, got ${Array.isArray(shape) ? JSON.stringify(shape) : describeValue(shape)}`);
  }
}

/** A view of Data that can cut rows: count, per-sample shape, and a batch of rows as a tensor. */
class Rows {
  readonly n: number;
  readonly sampleShape: number[];
  readonly dtype: 'float32' | 'int32';
  readonly array: Float32Array | Int32Array | undefined;
  private readonly source: Tensor | undefined;
  readonly rowSize: number;
  /** The host buffer batches are gathered into before `tensor` copies them to the backend: reused, not one per batch. */
  private staging: Float32Array | Int32Array | undefined;

  constructor(d: Data, what: string) {
    checkData(d, what);
    if ('isTensor' in d) {
      this.source = d;
      this.array = undefined;
      this.dtype = d.dtype as 'float32' | 'int32';
    } else {
      this.array = d.data;
      this.source = undefined;
      this.dtype = d.data instanceof Int32Array ? 'int32' : 'float32';
      const size = d.shape.reduce((a, b) => a * b, 1);
      if (size !== d.data.length) throw new ShapeError(what, `shape ${fmt(d.shape)} needs ${size} values but the array has ${d.data.length}`);
    }
    const shape = this.source ? this.source.shape : (d as { shape: readonly number[] }).shape;
    if (shape.length < 1) throw new ShapeError(what, `needs a batch axis, got shape ${fmt(shape)}`);
    this.n = shape[0];
    this.sampleShape = shape.slice(1);
    this.rowSize = this.sampleShape.reduce((a, b) => a * b, 1);
  }

  /** Rows at `idx` as a tensor [idx.length, ...sampleShape]. */
  take(idx: Int32Array): Tensor {
    if (this.source) return tidy(() => gather(this.source!, tensor(idx, [idx.length], 'int32'), 0));
    const a = this.array!;
    const r = this.rowSize, length = idx.length * r;
    if (!this.staging || this.staging.length < length) this.staging = a instanceof Int32Array ? new Int32Array(length) : new Float32Array(length);
    const out = this.staging.subarray(0, length);
    for (let k = 0; k < idx.length; k++) out.set(a.subarray(idx[k] * r, idx[k] * r + r), k * r);
    return tensor(out, [idx.length, ...this.sampleShape], this.dtype);
  }

  /** Rows [start, end) as a typed array (no copy for arrays; a tensor is read to the host, so fit owns no new tensor to free). */
  range(start: number, end: number): Data {
    return { data: this.values().subarray(start * this.rowSize, end * this.rowSize), shape: [end - start, ...this.sampleShape] };
  }

  /** The values as a typed array (reads a tensor once). */
  values(): Float32Array | Int32Array {
    return this.array ?? this.source!.data();
  }
}

/** One Rows per model input: `x` is one Data for a single-input model, an array (in the model's input order) otherwise. */
function inputRows(m: Model, x: Data | readonly Data[], what: string): Rows[] {
  const list = Array.isArray(x) ? (x as readonly Data[]) : [x as Data];
  const ins = m.inputs;
  if (list.length !== ins.length) {
    throw new ShapeError(`model '${m.name}'`, `has ${ins.length} input${ins.length > 1 ? 's' : ''} (${ins.map((s) => `'${s.name}'`).join(', ')}) but ${what} gives ${list.length}`);
  }
  const rows = list.map((d, i) => new Rows(d, ins.length > 1 ? `${what}[${i}]` : what));
  rows.forEach((r, i) => {
    const s = ins[i];
    if (r.n !== rows[0].n) throw new ShapeError(`model '${m.name}'`, `input '${s.name}' has ${r.n} samples but input '${ins[0].name}' has ${rows[0].n}`);
    if (r.sampleShape.length !== s.shape.length || r.sampleShape.some((d, k) => d !== s.shape[k])) throw m.inputShapeError(i, `[${r.n}, ${r.sampleShape.join(', ')}]`);
    if (r.dtype !== s.dtype) throw new DTypeError(`model '${m.name}'`, `input '${s.name}' must be ${s.dtype}, got ${r.dtype} data`);
    if (r.dtype === 'int32') checkIds(m, i, r, ins.length > 1 ? `${what}[${i}]` : what);
  });
  return rows;
}

/**
 * Checks the ids of int32 model input `i` against the table of each layer that takes it directly (an Embedding's
 * inputDim, see Layer.inputIdLimit), before any batch runs: the error names the layer, the id, its sample and position.
 */
function checkIds(m: Model, i: number, r: Rows, what: string): void {
  for (const { input, layer, limit } of m.idReaders()) {
    if (input !== i) continue;
    const v = r.values();
    for (let j = 0; j < v.length; j++) {
      if (v[j] >= 0 && v[j] < limit) continue;
      throw new IndexError(`layer '${layer.name}' (${layer.className})`, `${what} sample ${Math.floor(j / r.rowSize)} has id ${v[j]}${positionOf(r, j)}, outside [0, ${limit})`, v[j], j);
    }
  }
}

/** Inputs (one Rows per model input), targets (one per output) and optional sample weights, as rows. */
interface Labelled {
  xs: Rows[];
  ys: Rows[];
  w?: Rows;
}

/**
 * Rows of (x, y[, w]) checked against the model and its losses; `x` is one Data per model input and `y` one per
 * output (or one Data each for a single input or output).
 */
function labelled(m: Model, what: string, x: Data | readonly Data[], y: Data | readonly Data[], w?: Data, o: { finite?: boolean } = {}): Labelled {
  const ylist = Array.isArray(y) ? (y as readonly Data[]) : [y as Data];
  const outs = m.outputs.length;
  if (ylist.length !== outs) throw new ShapeError(`model '${m.name}'`, `has ${outs} output${outs > 1 ? 's' : ''} but ${what} y gives ${ylist.length} targets`);
  const xs = inputRows(m, x, `${what} x`);
  const d: Labelled = {
    xs, ys: ylist.map((t, i) => new Rows(t, outs > 1 ? `${what} y[${i}]` : `${what} y`)), w: w && new Rows(w, `${what} sampleWeight`),
  };
  d.ys.forEach((y, k) => checkTargets(m, k, d.xs[0].n, y, d.w));
  if (d.w) checkWeights(d.w, `${what} sampleWeight`);
  if (o.finite) {
    xs.forEach((r, i) => checkFinite(r, xs.length > 1 ? `${what} x[${i}]` : `${what} x`));
    d.ys.forEach((r, i) => checkFinite(r, outs > 1 ? `${what} y[${i}]` : `${what} y`));
  }
  return d;
}

/** Where `r` (float32 values held in an array: a tensor is not read back for this) holds NaN or ±Infinity: an ArgumentError naming the sample and position. */
function checkFinite(r: Rows, what: string): void {
  const v = r.array;
  if (!(v instanceof Float32Array)) return;
  for (let j = 0; j < v.length; j++) {
    if (v[j] - v[j] === 0) continue; // NaN and ±Infinity give NaN
    throw argumentError(what, `sample ${Math.floor(j / Math.max(1, r.rowSize))} holds ${v[j]}${positionOf(r, j)}: training on it makes the loss NaN; remove or replace such values first`);
  }
}

/** Sample weights must be finite and ≥ 0 (a negative weight would make training maximise that sample's loss). */
function checkWeights(w: Rows, what: string): void {
  const v = w.values();
  for (let j = 0; j < v.length; j++) {
    if (v[j] >= 0 && v[j] !== Infinity) continue;
    throw argumentError(what, `of sample ${Math.floor(j / Math.max(1, w.rowSize))} is ${v[j]}${positionOf(w, j)}: sample weights must be finite and ≥ 0`);
  }
}

/** ' at [i, j]' for value j of a row with a sample shape, else ''. */
function positionOf(r: Rows, j: number): string {
  return r.sampleShape.length ? ` at [${unravel(j % r.rowSize, r.sampleShape).join(', ')}]` : '';
}

/** Checks the targets of output `k` (and the sample weights) against the output's shape and loss. */
function checkTargets(m: Model, k: number, n: number, y: Rows, w: Rows | undefined): void {
  if (n !== y.n) throw new ShapeError(`model '${m.name}'`, `${n} input samples but ${y.n} targets`);
  const loss = m.losses[k] ?? m.loss!;
  const out = m.outputs[k].shape;
  const which = m.outputs.length > 1 ? `output ${k} of model '${m.name}' ('${m.producer(m.outputs[k])?.layer.name}')` : `model '${m.name}'`;
  const sparse = loss.labelDType === 'int32';
  const labelShape = sparse ? out.slice(0, -1) : out;
  if (y.sampleShape.length !== labelShape.length || y.sampleShape.some((d, i) => d !== labelShape[i])) {
    throw new ShapeError(loss.name, `${which} outputs [N, ${out.join(', ')}], so its ${sparse ? 'class-index labels' : 'targets'} must be [N${labelShape.map((d) => `, ${d}`).join('')}], got [${y.n}${y.sampleShape.map((d) => `, ${d}`).join('')}]`);
  }
  if (sparse) {
    if (y.dtype !== 'int32') throw new DTypeError(loss.name, `labels must be int32 class indices, got ${y.dtype}`);
    const classes = out[out.length - 1];
    const v = y.values();
    for (let i = 0; i < v.length; i++) {
      if (!(v[i] >= 0 && v[i] < classes) && v[i] !== loss.ignoreClass) {
        throw new IndexError(loss.name, `label ${v[i]} of sample ${Math.floor(i / Math.max(1, y.rowSize))} is outside the ${m.outputs.length > 1 ? `output's` : `model's`} ${classes} classes [0, ${classes})`);
      }
    }
  } else if (y.dtype !== 'float32') throw new DTypeError(loss.name, `targets must be float32, got ${y.dtype}`);
  if (w) {
    const positions = loss.name === 'categorical_crossentropy' ? y.sampleShape.slice(0, -1) : y.sampleShape;
    if (w.n !== y.n || w.sampleShape.length > positions.length || w.sampleShape.some((d, i) => d !== positions[i])) {
      const fits = ['[N]', ...positions.map((_, i) => `[N, ${positions.slice(0, i + 1).join(', ')}]`)].join(' or ');
      throw new ShapeError(loss.name, `sample weights [${[w.n, ...w.sampleShape].join(', ')}] do not fit targets [${[y.n, ...y.sampleShape].join(', ')}]: expected ${fits} with N = ${y.n}`);
    }
  }
}

function requireCompiled(m: Model, what: string): void {
  if (!m.optimizer || !m.loss) throw new Error(`model '${m.name}': call compile({ optimizer, loss }) before ${what}`);
}

/** Loss and metrics of one batch; with `train`, also one optimizer step (skipped when the loss is not finite). */
function runBatch(m: Model, xb: Tensor | Tensor[], ybs: Tensor[], wb: Tensor | undefined, train: boolean, seed: number): { loss: number; metrics: { sum: number; count: number }[] } {
  const losses = m.losses.length ? m.losses : [m.loss!];
  // One output: a final softmax may hand its logits to the cross-entropy (exact and stable). Several: each output's
  // loss on its predictions, weighted and summed (Keras).
  const logits = ybs.length === 1 && losses[0].fusesSoftmax && !losses[0].fromLogits && m.endsInSoftmax();
  return tidy(() => {
    let outs!: Tensor[];
    // Keras: an output that carries a mask (an Embedding's maskZero kept by the layers after it) weighs its loss and
    // metrics per position by it, on top of the sample weights.
    let masks: readonly (Tensor | undefined)[] = [];
    const terms = train ? trainingTerms(m) : [];
    // One weight cache for the forward pass, the regularizers and the training terms: each W is materialised once.
    const f = (): Tensor => withWeightCache(() => {
      const r = m.callWithMasks(xb, { training: train, seed, logits });
      outs = r.outputs;
      masks = r.masks ?? [];
      const w = (k: number): LossInputs | undefined => (wb || masks[k] ? { sampleWeight: wb, mask: masks[k] } : undefined);
      const data = ybs.length === 1 ? losses[0].compute(outs[0], ybs[0], logits || losses[0].fromLogits, w(0))
        : losses.map((l, k) => mul(l.compute(outs[k], ybs[k], l.fromLogits, w(k)), m.lossWeights[k] ?? 1)).reduce((a, b) => add(a, b));
      // Keras: the layers' regularization penalties count in the loss of fit and evaluate; the training terms only in fit.
      const extra = [...m.layers.flatMap((l) => l.regularizationLosses()), ...terms.map((t) => t.loss())];
      return extra.reduce((a, b) => add(a, b), data);
    });
    let value: number;
    if (train) {
      const params = m.namedParameters().map((p) => p.param.value);
      const groups = terms.flatMap((t) => t.groups ?? []);
      const r = valueAndGrads(f, [...params, ...groups.flatMap((g) => g.params)]);
      value = r.value.item();
      if (Number.isFinite(value)) {
        m.optimizer!.step(params, r.grads.slice(0, params.length));
        let at = params.length;
        for (const g of groups) g.optimizer.step(g.params, r.grads.slice(at, (at += g.params.length)));
      }
    } else value = f().item();
    return {
      loss: value,
      metrics: m.metrics.map((mt) => {
        const k = mt.output ?? 0;
        return mt.update(outs[k], ybs[k], { logits: (k === 0 && logits) || losses[k].fromLogits, sampleWeight: wb, mask: masks[k], ignoreClass: losses[k].ignoreClass });
      }),
    };
  }) as { loss: number; metrics: { sum: number; count: number }[] };
}

/** Options of {@link trainOnBatch}. */
export interface TrainOnBatchOptions {
  /** Seed of the step's randomness (dropout); default: from the optimizer's step count. */
  seed?: number;
  /** Keras `sample_weight` for this batch, as in {@link FitOptions.sampleWeight}: [N] or per position. */
  sampleWeight?: Data;
}

/**
 * Keras `train_on_batch`: one optimizer step on a batch; returns its loss and metrics (the step is skipped if the loss is
 * not finite). The batch is checked as fit checks its data (shapes, dtypes, label range) before anything runs.
 */
export function trainOnBatch(m: Model, x: Data | readonly Data[], y: Data | readonly Data[], o: TrainOnBatchOptions = {}): Logs {
  requireCompiled(m, 'trainOnBatch');
  notWhileFitting(m, 'trainOnBatch');
  checkOptions('trainOnBatch', o, ['seed', 'sampleWeight'], TRAINING_HINTS);
  m.build();
  const ylist = Array.isArray(y) ? (y as readonly Data[]) : [y as Data];
  if (ylist.length !== m.outputs.length) throw new ShapeError(`model '${m.name}'`, `has ${m.outputs.length} outputs but trainOnBatch got ${ylist.length} targets`);
  labelled(m, 'trainOnBatch:', x, ylist, o.sampleWeight);
  const seed = o.seed === undefined ? mixSeed(0, `step:${m.optimizer!.iterations}`) : integer('trainOnBatch', 'seed', o.seed);
  // Tensors as given; { data, shape } arrays (as fit takes them) copied into tensors for this step.
  const made: Tensor[] = [];
  const asTensor = (d: Data): Tensor => {
    if ('isTensor' in d) return d;
    const t = tensor(d.data, d.shape, d.data instanceof Int32Array ? 'int32' : 'float32');
    made.push(t);
    return t;
  };
  let r: ReturnType<typeof runBatch>;
  try {
    const xs = Array.isArray(x) ? (x as readonly Data[]).map(asTensor) : asTensor(x as Data);
    r = runBatch(m, xs, ylist.map(asTensor), o.sampleWeight && asTensor(o.sampleWeight), true, seed);
  } finally {
    for (const t of made) t.dispose();
  }
  const logs: Logs = { loss: r.loss };
  m.metrics.forEach((mt, i) => { logs[mt.name] = mt.result(r.metrics[i].sum, r.metrics[i].count); });
  return logs;
}

/** Calls `visit` on consecutive batches of the rows (the last may be short) with the batch's first row; disposes each batch after. */
function forEachBatch(rows: (Rows | undefined)[], batchSize: number, visit: (batch: (Tensor | undefined)[], start: number) => void): void {
  const n = rows[0]!.n;
  for (let start = 0; start < n; start += batchSize) {
    const idx = new Int32Array(Math.min(batchSize, n - start)).map((_, i) => start + i);
    const batch = rows.map((r) => r?.take(idx));
    try {
      visit(batch, start);
    } finally {
      for (const t of batch) t?.dispose();
    }
  }
}

/** Mean loss (batch losses weighted by batch size, as Keras) and metrics (from their exact sums) over all samples. */
function evaluateRows(m: Model, { xs, ys, w }: Labelled, batchSize: number): Logs {
  let lossSum = 0;
  const sums = m.metrics.map(() => 0);
  const counts = m.metrics.map(() => 0);
  const k = ys.length;
  forEachBatch([...ys, w, ...xs], batchSize, (b) => {
    const r = runBatch(m, b.slice(k + 1) as Tensor[], b.slice(0, k) as Tensor[], b[k], false, 0);
    lossSum += r.loss * b[0]!.shape[0];
    r.metrics.forEach((s, i) => { sums[i] += s.sum; counts[i] += s.count; });
  });
  const logs: Logs = { loss: lossSum / Math.max(1, ys[0].n) };
  m.metrics.forEach((mt, i) => { logs[mt.name] = mt.result(sums[i], counts[i]); });
  return logs;
}

/** `v` when it is an integer ≥ `min`, else a RangeError naming the function `fn` and the option. */
function integer(fn: string, what: string, v: unknown, min = -Infinity): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) {
    throw new RangeError(`${fn}: ${what} must be ${min === 1 ? 'a positive integer' : min === 0 ? 'an integer ≥ 0' : 'an integer'}, got ${quote(v)}`);
  }
  return v;
}

/** Models inside a fit() call: a second fit (or trainOnBatch, compile) meanwhile would interleave with it. */
const fitting = new WeakSet<Model>();

/** True while `m` is being trained by fit(). */
export function isFitting(m: Model): boolean {
  return fitting.has(m);
}

/** Throws a StateError naming the model and `what` when fit() is running on `m`. */
export function notWhileFitting(m: Model, what: string): void {
  if (fitting.has(m)) throw new StateError(`model '${m.name}'`, `${what}() called while fit() is running on it (await that fit first: two would interleave their batches)`);
}

/** Throws an ArgumentError naming the function when (x, y) hold no samples: a mean over nothing is no result. */
function requireSamples(fn: string, d: Labelled, what: string, use: string): void {
  if (d.ys[0].n === 0) throw new ArgumentError(fn, `${what} hold no samples (x [${[0, ...d.xs[0].sampleShape].join(', ')}]): nothing to ${use}`);
}

/**
 * Lets the event loop run (timers, signals, a page's input and rendering) and resumes as soon as it may: setImmediate in
 * Node; in a browser a message to itself, since setTimeout(0) from a timer's continuation is clamped to ≥ 4 ms there.
 */
function yieldNow(): Promise<void> {
  if (typeof setImmediate === 'function') return new Promise((r) => setImmediate(r));
  if (typeof MessageChannel !== 'function') return new Promise((r) => setTimeout(r, 0));
  return new Promise((r) => {
    const c = new MessageChannel();
    c.port1.onmessage = () => {
      c.port1.close();
      r();
    };
    c.port2.postMessage(null);
  });
}

/** Keras `fit`: trains `m` on (x, y); see {@link FitOptions}. Async so that signals, timers and progress output can run. */
export async function fit(m: Model, xData: Data | readonly Data[], yData: Data | readonly Data[], o: FitOptions = {}): Promise<History> {
  requireCompiled(m, 'fit');
  notWhileFitting(m, 'fit');
  checkOptions('fit', o, FIT_OPTIONS, TRAINING_HINTS);
  m.build();
  const epochs = integer('fit', 'epochs', o.epochs ?? 1, 1);
  const batchSize = integer('fit', 'batchSize', o.batchSize ?? 32, 1);
  const seed = integer('fit', 'seed', o.seed ?? 0);
  const initialEpoch = integer('fit', 'initialEpoch', o.initialEpoch ?? 0, 0);
  integer('fit', 'initialStep', o.initialStep ?? 0, 0);
  if (o.callbacks !== undefined && !Array.isArray(o.callbacks)) throw new ArgumentError('fit', `callbacks must be a list, got ${describeValue(o.callbacks)}`);
  let { xs, ys, w } = labelled(m, 'fit:', xData, yData, o.sampleWeight, { finite: true });
  requireSamples('fit', { xs, ys }, 'x and y', 'train on');
  let val: Labelled | undefined;
  if (o.shuffle !== undefined && typeof o.shuffle !== 'boolean') throw new RangeError(`fit: shuffle must be true or false, got ${quote(o.shuffle)}`);
  if (o.validationData !== undefined && o.validationData !== null) {
    if (!Array.isArray(o.validationData)) throw new ArgumentError('fit', `validationData must be [x, y] or [x, y, sampleWeight], got ${describeValue(o.validationData)}`);
    const [vx, vy, vw] = o.validationData;
    val = labelled(m, 'fit: validation', vx, vy, vw, { finite: true });
    requireSamples('fit', val, 'validationData x and y', 'validate on');
  } else if (o.validationSplit !== undefined && o.validationSplit !== null && o.validationSplit !== 0) {
    const f = o.validationSplit;
    if (!(typeof f === 'number' && f > 0 && f < 1)) throw new RangeError(`fit: validationSplit must be a number in (0, 1), got ${quote(f)}`);
    const all = ys[0].n;
    const cut = Math.floor(all * (1 - f));
    if (cut < 1 || cut >= all) throw new RangeError(`fit: validationSplit ${f} of ${all} samples leaves an empty part`);
    val = labelled(m, 'fit: validation', xs.map((x) => x.range(cut, x.n)), ys.map((y) => y.range(cut, y.n)), w?.range(cut, w.n));
    ({ xs, ys, w } = labelled(m, 'fit:', xs.map((x) => x.range(0, cut)), ys.map((y) => y.range(0, cut)), w?.range(0, cut)));
  }
  fitting.add(m);
  try {
    return await fitRows(m, { xs, ys, w }, val, { ...o, epochs, batchSize, seed, initialEpoch });
  } finally {
    fitting.delete(m);
  }
}

/** fit's loop over epochs and batches, on checked data and options. */
async function fitRows(
  m: Model, { xs, ys, w }: Labelled, val: Labelled | undefined, o: FitOptions & { epochs: number; batchSize: number; seed: number; initialEpoch: number },
): Promise<History> {
  const { epochs, batchSize, seed, initialEpoch } = o;
  const n = ys[0].n;
  const steps = Math.ceil(n / batchSize);
  const history: History = { epoch: [], history: {} };
  if (o.verbose !== undefined && o.verbose !== 0 && o.verbose !== 1 && o.verbose !== 2) throw new RangeError(`fit: verbose must be 0, 1 or 2, got ${quote(o.verbose)}`);
  const cbs: Callback[] = [...o.callbacks ?? [], ...(o.verbose ? [new ProgressLogger({ verbose: o.verbose })] : [])];
  const yieldMs = o.yieldEveryMs ?? 50;
  let lastYield = Date.now();
  m.stopTraining = false;
  for (const c of cbs) c.setModel?.(m);
  const skippedSamples = Math.min(n, Math.min(o.initialStep ?? 0, steps) * batchSize);
  for (const c of cbs) await c.onTrainBegin?.({ epochs, stepsPerEpoch: steps, samples: n, initialEpoch, skippedSamples });
  let logs: Logs = {};
  for (let epoch = initialEpoch; epoch < epochs && !m.stopTraining; epoch++) {
    for (const c of cbs) await c.onEpochBegin?.(epoch);
    const order = epochOrder(n, o.shuffle ?? true, seed, epoch);
    let lossSum = 0;
    let seen = 0;
    const sums = m.metrics.map(() => 0);
    const counts = m.metrics.map(() => 0);
    const first = epoch === initialEpoch ? Math.min(o.initialStep ?? 0, steps) : 0;
    let skipped = 0;
    if (first > 0) {
      seen = Math.min(n, first * batchSize);
      const p = o.initialPartial;
      if (p && p.seen === seen && p.sums.length === sums.length) {
        lossSum = p.lossSum;
        p.sums.forEach((v, i) => { sums[i] = v; counts[i] = p.counts[i]; });
      } else skipped = seen; // no sums of the skipped batches: the epoch's logs cover the batches run here
    }
    let done = first;
    for (let step = first; step < steps && !m.stopTraining; step++) {
      if (m.disposed) throw new StateError(`model '${m.name}'`, `was disposed during fit() (epoch ${epoch + 1}, batch ${step + 1})`);
      const idx = order.subarray(step * batchSize, Math.min(n, (step + 1) * batchSize));
      const xb = xs.map((x) => x.take(idx));
      const yb = ys.map((y) => y.take(idx));
      const wb = w?.take(idx);
      let r: ReturnType<typeof runBatch>;
      try {
        r = runBatch(m, xb, yb, wb, true, mixSeed(seed, `step:${m.optimizer!.iterations}`));
      } finally {
        for (const t of xb) t.dispose();
        for (const t of yb) t.dispose();
        wb?.dispose();
      }
      if (!Number.isFinite(r.loss)) throw new NonFiniteLossError(epoch, step, r.loss);
      lossSum += r.loss * idx.length;
      seen += idx.length;
      r.metrics.forEach((s, i) => { sums[i] += s.sum; counts[i] += s.count; });
      const batchLogs: Logs = { loss: lossSum / (seen - skipped), samples: seen };
      m.metrics.forEach((mt, i) => { batchLogs[mt.name] = mt.result(sums[i], counts[i]); });
      done = step + 1;
      for (const c of cbs) await c.onBatchEnd?.(step, batchLogs);
      if (Date.now() - lastYield >= yieldMs) {
        await yieldNow();
        lastYield = Date.now();
      }
    }
    if (done < steps) {
      // Stopped mid-epoch: the epoch is not complete, so it is not logged; its sums let a resumed run finish the logs.
      history.stopped = { epoch, step: done, partial: { lossSum, seen, sums: [...sums], counts: [...counts] } };
      break;
    }
    logs = { loss: lossSum / Math.max(1, seen - skipped) };
    m.metrics.forEach((mt, i) => { logs[mt.name] = mt.result(sums[i], counts[i]); });
    if (val) for (const [k, v] of Object.entries(evaluateRows(m, val, batchSize))) logs[`val_${k}`] = v;
    history.epoch.push(epoch);
    for (const [k, v] of Object.entries(logs)) (history.history[k] ??= []).push(v);
    for (const c of cbs) await c.onEpochEnd?.(epoch, logs);
  }
  for (const c of cbs) await c.onTrainEnd?.(logs);
  return history;
}

/** Keras `evaluate`: mean loss and metrics over (x, y), optionally sample-weighted. */
export function evaluate(m: Model, xData: Data | readonly Data[], yData: Data | readonly Data[], o: EvaluateOptions = {}): Logs {
  requireCompiled(m, 'evaluate');
  checkOptions('evaluate', o, ['batchSize', 'sampleWeight'], TRAINING_HINTS);
  m.build();
  const batchSize = integer('evaluate', 'batchSize', o.batchSize ?? 32, 1);
  const d = labelled(m, 'evaluate:', xData, yData, o.sampleWeight);
  requireSamples('evaluate', d, 'x and y', 'evaluate');
  return evaluateRows(m, d, batchSize);
}

/** Keras `predict`: the model's outputs for every sample, [N, ...outputShape], computed in batches (one tensor per output with {@link predictAll}). */
export function predict(m: Model, xData: Data | readonly Data[], o: { batchSize?: number } = {}): Tensor {
  if (m.outputs.length !== 1) throw new Error(`model '${m.name}' has ${m.outputs.length} outputs: use predictAll`);
  return predictAll(m, xData, o)[0];
}

/** The model's outputs for every sample, one tensor [N, ...outputShape] per output, computed in batches. */
export function predictAll(m: Model, xData: Data | readonly Data[], o: { batchSize?: number } = {}): Tensor[] {
  checkOptions('predict', o, ['batchSize']);
  m.build();
  const xs = inputRows(m, xData, 'predict: x');
  const bs = integer('predict', 'batchSize', o.batchSize ?? 32, 1);
  const n = xs[0].n;
  const shapes = m.outputs.map((s) => s.shape);
  const rowSizes = shapes.map((s) => s.reduce((a, b) => a * b, 1));
  const outs: (Float32Array | Int32Array)[] = shapes.map((_, i) => new Float32Array(n * rowSizes[i]));
  forEachBatch(xs, bs, (xb, start) => {
    const ys = tidy(() => m.callAll(xb as Tensor[]));
    ys.forEach((y, i) => {
      if (start === 0 && y.dtype === 'int32') outs[i] = new Int32Array(n * rowSizes[i]);
      outs[i].set(y.data(), start * rowSizes[i]);
    });
    // A model may list one tensor as two outputs: each is freed once.
    for (const y of new Set(ys)) y.dispose();
  });
  return shapes.map((s, i) => tensor(outs[i], [n, ...s], outs[i] instanceof Int32Array ? 'int32' : 'float32'));
}
