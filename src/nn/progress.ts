// Keras-like training progress: an in-place TTY progress bar per epoch, the one-line per-epoch summary, and the fit callback
// that prints both (fit's `verbose`, the CLI's train).
import { quote } from '../core/errors.js';
import type { Callback, Logs } from './training.js';

/** The part of a writable stream the reporter uses (process.stderr fits; tests pass a fake). */
export interface ProgressStream {
  write(chunk: string): unknown;
  isTTY?: boolean;
  /** Terminal width; the bar line is truncated to fit when known. */
  columns?: number;
}

/** Options of a `ProgressBar`. */
export interface ProgressOptions {
  /** Steps (batches) per epoch. */
  total: number;
  /** 1-based epoch number and the epoch count, shown as `Epoch 3/10`. */
  epoch: number;
  epochs: number;
  /** Default: process.stderr in Node, else the console (one console.log per line). */
  stream?: ProgressStream;
  /** Whether to redraw in place; default `stream.isTTY`. When false nothing is printed per step. */
  isTTY?: boolean;
  /** Bar width in characters between the brackets (default 20). */
  width?: number;
  /** Clock in milliseconds (default `performance.now`), for tests. */
  now?: () => number;
  /** Minimum milliseconds between redraws (default 100, i.e. ~10 redraws/s); the last step is always drawn. */
  minIntervalMs?: number;
}

/** Metrics shown on the bar; any may be omitted. */
export interface StepMetrics {
  loss?: number;
  accuracy?: number;
  /** Another running metric (e.g. bits_per_char), shown after the loss. */
  metric?: { name: string; value: number };
  samplesPerSec?: number;
}

/** process.stderr where there is one (Node), else a stream that writes each completed line with console.log (browsers). */
export function defaultStream(): ProgressStream {
  const proc = (globalThis as { process?: { stderr?: ProgressStream } }).process;
  if (proc?.stderr) return proc.stderr;
  let pending = '';
  return {
    write(chunk: string): void {
      const lines = (pending + chunk).split('\n');
      pending = lines.pop() ?? '';
      for (const l of lines) console.log(l.replace(/^.*\r/, ''));
    },
  };
}

/** `1234567.8` → `'1,234,568'` (rounded, locale-independent). */
export function formatThousands(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  const s = String(Math.round(Math.abs(n))).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return n < 0 && Math.round(n) !== 0 ? `-${s}` : s;
}

/** Seconds as `m:ss` below an hour, else `h:mm:ss` (rounded to whole seconds): 7 → `0:07`, 3723 → `1:02:03`. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?:??';
  const total = Math.max(0, Math.round(seconds));
  const h = Math.floor(total / 3600), m = Math.floor((total % 3600) / 60), s = total % 60;
  const ss = String(s).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/** Fields of the per-epoch summary line. */
export interface EpochSummary {
  epoch: number;
  epochs: number;
  seconds: number;
  samplesPerSec?: number;
  loss?: number;
  accuracy?: number;
  valLoss?: number;
  valAccuracy?: number;
  /** Other metrics (e.g. bits_per_char, val_bits_per_char), shown in this order after the others. */
  metrics?: Record<string, number>;
}

/**
 * The Keras-like per-epoch line, e.g.
 * `Epoch 3/10 - 12.3s - 1,234 samples/s - loss: 0.2345 - accuracy: 0.9312 - val_loss: 0.1234 - val_accuracy: 0.9600`.
 * Omitted fields are left out; durations of a minute or more use `formatDuration`.
 */
export function formatEpochLine(s: EpochSummary): string {
  const parts = [`Epoch ${s.epoch}/${s.epochs}`, s.seconds < 60 ? `${s.seconds.toFixed(1)}s` : formatDuration(s.seconds)];
  if (s.samplesPerSec !== undefined) parts.push(`${formatThousands(s.samplesPerSec)} samples/s`);
  const metric = (name: string, v: number | undefined): void => { if (v !== undefined) parts.push(`${name}: ${v.toFixed(4)}`); };
  metric('loss', s.loss);
  metric('accuracy', s.accuracy);
  metric('val_loss', s.valLoss);
  metric('val_accuracy', s.valAccuracy);
  for (const [k, v] of Object.entries(s.metrics ?? {})) metric(k, v);
  return parts.join(' - ');
}

/**
 * A per-epoch progress bar, e.g.
 * `Epoch 3/10  [=========>..........]  120/250  loss 0.2345  acc 0.9312  1,234 samples/s  ETA 0:07`,
 * redrawn in place with `\r` on a TTY (throttled), silent per step otherwise. Call `finish` once at the end.
 */
export class ProgressBar {
  private readonly stream: ProgressStream;
  private readonly tty: boolean;
  private readonly width: number;
  private readonly now: () => number;
  private readonly minInterval: number;
  private readonly start: number;
  private lastDraw = -Infinity;
  private lastLen = 0;
  private done = false;

  constructor(private readonly opts: ProgressOptions) {
    if (!Number.isInteger(opts.total) || opts.total < 1) throw new RangeError(`ProgressBar: total must be a positive integer, got ${opts.total}`);
    this.stream = opts.stream ?? defaultStream();
    this.tty = opts.isTTY ?? this.stream.isTTY === true;
    this.width = opts.width ?? 20;
    this.now = opts.now ?? (() => performance.now());
    this.minInterval = opts.minIntervalMs ?? 100;
    this.start = this.now();
  }

  /** The bar line for `step` of `total` (no `\r`); exposed for tests and for callers that print their own way. */
  render(step: number, m: StepMetrics = {}): string {
    const { total, epoch, epochs } = this.opts;
    const k = Math.min(Math.max(step, 0), total);
    const filled = Math.floor((k / total) * this.width);
    const bar = k >= total ? '='.repeat(this.width) : `${'='.repeat(filled)}>${'.'.repeat(this.width - filled - 1)}`;
    const digits = String(total).length;
    const parts = [`Epoch ${epoch}/${epochs}`, `[${bar}]`, `${String(k).padStart(digits)}/${total}`];
    if (m.loss !== undefined) parts.push(`loss ${m.loss.toFixed(4)}`);
    if (m.accuracy !== undefined) parts.push(`acc ${m.accuracy.toFixed(4)}`);
    if (m.metric !== undefined) parts.push(`${m.metric.name} ${m.metric.value.toFixed(4)}`);
    if (m.samplesPerSec !== undefined) parts.push(`${formatThousands(m.samplesPerSec)} samples/s`);
    if (k > 0 && k < total) parts.push(`ETA ${formatDuration(((this.now() - this.start) / 1000 / k) * (total - k))}`);
    return parts.join('  ');
  }

  /** Reports that `step` of `total` steps are done; redraws when on a TTY and the throttle interval has passed (or step = total). */
  update(step: number, metrics: StepMetrics = {}): void {
    if (!this.tty || this.done) return;
    const t = this.now();
    if (step < this.opts.total && t - this.lastDraw < this.minInterval) return;
    this.lastDraw = t;
    let line = this.render(step, metrics);
    const cols = this.stream.columns;
    if (cols && line.length > cols - 1) line = line.slice(0, Math.max(0, cols - 1));
    this.stream.write(`\r${line}${' '.repeat(Math.max(0, this.lastLen - line.length))}`);
    this.lastLen = line.length;
  }

  /** Clears the bar (on a TTY) and prints `line` (e.g. from `formatEpochLine`) followed by a newline. Later updates are ignored. */
  finish(line: string): void {
    if (this.done) return;
    this.done = true;
    const clear = this.tty && this.lastLen > 0 ? `\r${' '.repeat(this.lastLen)}\r` : '';
    this.stream.write(`${clear}${line}\n`);
  }
}

/** Options of {@link ProgressLogger}. */
export interface ProgressLoggerOptions {
  /** 1: the bar (redrawn in place on a TTY) and a line per epoch; 2: only the line per epoch (Keras' verbose). */
  verbose?: 1 | 2;
  /** Default: {@link defaultStream}. */
  stream?: ProgressStream;
  /** Whether to redraw in place; default the stream's isTTY (as {@link ProgressBar}). */
  isTTY?: boolean;
  /** Clock in milliseconds (default performance.now), for tests. */
  now?: () => number;
}

/**
 * A fit callback printing Keras-like progress: a bar per epoch (verbose 1) and the epoch's line with its time, samples/s
 * (training batches only, not the validation pass) and logs. `fit({ verbose })` adds one; `epochSamples` and
 * `trainSeconds` give what it measured.
 */
export class ProgressLogger implements Callback {
  private bar: ProgressBar | undefined;
  private epochs = 1;
  private steps = 1;
  private initial = { epoch: 0, samples: 0 };
  private epochStart = 0;
  private lastBatchEnd = 0;
  private skipped = 0;
  /** Samples trained in the current (or last) epoch by this run, and seconds spent in training batches by the whole run. */
  epochSamples = 0;
  trainSeconds = 0;
  /** Samples trained by the whole run. */
  samples = 0;
  private readonly now: () => number;

  constructor(private readonly o: ProgressLoggerOptions = {}) {
    if (o.verbose !== undefined && o.verbose !== 1 && o.verbose !== 2) throw new RangeError(`ProgressLogger: verbose must be 1 or 2, got ${quote(o.verbose)}`);
    this.now = o.now ?? (() => performance.now());
  }

  onTrainBegin(info: { epochs: number; stepsPerEpoch: number; initialEpoch: number; skippedSamples?: number }): void {
    this.epochs = info.epochs;
    this.steps = info.stepsPerEpoch;
    this.initial = { epoch: info.initialEpoch, samples: info.skippedSamples ?? 0 };
    this.trainSeconds = 0;
    this.samples = 0;
  }

  onEpochBegin(epoch: number): void {
    this.epochStart = this.lastBatchEnd = this.now();
    this.epochSamples = 0;
    this.skipped = epoch === this.initial.epoch ? this.initial.samples : 0;
    this.bar = new ProgressBar({
      total: Math.max(1, this.steps), epoch: epoch + 1, epochs: this.epochs, stream: this.o.stream,
      isTTY: this.o.verbose === 2 ? false : this.o.isTTY, now: this.now,
    });
  }

  onBatchEnd(step: number, logs: Logs): void {
    this.epochSamples = logs.samples - this.skipped;
    this.lastBatchEnd = this.now();
    const secs = (this.lastBatchEnd - this.epochStart) / 1000;
    const other = Object.keys(logs).find((k) => k !== 'loss' && k !== 'accuracy' && k !== 'samples');
    this.bar?.update(step + 1, {
      loss: logs.loss, accuracy: logs.accuracy, ...(other !== undefined ? { metric: { name: other, value: logs[other] } } : {}),
      samplesPerSec: this.epochSamples / Math.max(secs, 1e-9),
    });
  }

  onEpochEnd(epoch: number, logs: Logs): void {
    const secs = (this.now() - this.epochStart) / 1000;
    const trainSecs = Math.max(0, (this.lastBatchEnd - this.epochStart) / 1000);
    this.samples += this.epochSamples;
    this.trainSeconds += trainSecs;
    const named = ['loss', 'accuracy', 'val_loss', 'val_accuracy'];
    this.bar?.finish(formatEpochLine({
      epoch: epoch + 1, epochs: this.epochs, seconds: secs, samplesPerSec: this.epochSamples / Math.max(trainSecs, 1e-9),
      loss: logs.loss, accuracy: logs.accuracy, valLoss: logs.val_loss, valAccuracy: logs.val_accuracy,
      metrics: Object.fromEntries(Object.entries(logs).filter(([k]) => !named.includes(k))),
    }));
    this.bar = undefined;
  }

  /** Ends an interrupted epoch's bar with `line` (e.g. 'Epoch 3/10 interrupted after batch 12'). */
  interrupt(line: string): void {
    this.bar?.finish(line);
    this.bar = undefined;
  }
}
