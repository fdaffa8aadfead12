// Built-in fit callbacks (Keras names): EarlyStopping, and the monitor helpers it shares with the Node callbacks (io/callbacks).
import { checkOptions, quote } from '../core/errors.js';
import type { Model } from './model.js';
import type { Callback, Logs } from './training.js';

/** Options of {@link EarlyStopping} (Keras names and defaults). */
export interface EarlyStoppingOptions {
  /** The epoch log watched (default 'val_loss': needs validationSplit or validationData). */
  monitor?: string;
  /** Smallest change that counts as an improvement (default 0). */
  minDelta?: number;
  /** Epochs without improvement after which training stops (default 0). */
  patience?: number;
  /** 'min' or 'max'; 'auto' (default) is 'max' for accuracy-like logs (…acc, …accuracy, …auc), else 'min'. */
  mode?: 'auto' | 'min' | 'max';
  /** The patience counter only resets on epochs that also beat this value. */
  baseline?: number;
  /** When training stops early, put back the weights of the best epoch (default false; as in Keras 2, not when the epochs simply run out). */
  restoreBestWeights?: boolean;
}

/** Where an EarlyStopping stands, for saving with a checkpoint and resuming exactly (`best` null before any epoch). */
export interface EarlyStoppingState {
  best: number | null;
  /** 0-based epoch of `best`, or -1. */
  bestEpoch: number;
  /** Epochs since the last improvement (that also beat the baseline). */
  wait: number;
  /** 0-based epoch after which training was stopped, or -1. */
  stoppedEpoch: number;
}

/**
 * The direction of a monitored log: 'min' or 'max' as given, or for 'auto' 'max' for accuracy-like logs (…acc, …accuracy,
 * …auc) and 'min' otherwise; `who` names the callback in the error for any other mode.
 */
export function monitorMode(monitor: string, mode: string | undefined, who: string): 'min' | 'max' {
  const m = mode ?? 'auto';
  if (m !== 'auto' && m !== 'min' && m !== 'max') throw new RangeError(`${who}: mode must be 'auto', 'min' or 'max', got ${quote(mode)}`);
  return m === 'auto' ? (/(acc|accuracy|auc)$/.test(monitor) ? 'max' : 'min') : m;
}

/** Whether `current` beats `reference` by more than `minDelta` in direction `mode`; any non-NaN value beats no reference (null or undefined). */
export function improves(mode: 'min' | 'max', current: number, reference: number | null | undefined, minDelta = 0): boolean {
  if (reference === null || reference === undefined) return !Number.isNaN(current);
  return mode === 'min' ? current < reference - minDelta : current > reference + minDelta;
}

/** The monitored value of an epoch's logs; the error names the logs there are (and says when validation is needed). */
export function monitoredValue(logs: Logs, monitor: string, who: string): number {
  const current = logs[monitor];
  if (current === undefined) {
    throw new RangeError(`${who}: the epoch logs have no '${monitor}' (they have ${Object.keys(logs).join(', ')})` +
      (monitor.startsWith('val_') ? '; fit needs validationSplit or validationData for it' : ''));
  }
  return current;
}

/** The state before the first epoch. */
const freshState = (): EarlyStoppingState => ({ best: null, bestEpoch: -1, wait: 0, stoppedEpoch: -1 });

/**
 * Keras `EarlyStopping`: after each epoch compares `monitor` with the best value so far; after `patience`
 * epochs without an improvement of more than `minDelta` it sets `model.stopTraining` (never after the first
 * epoch). With `restoreBestWeights` it keeps a copy of the best epoch's weights and restores them when it
 * stops. Reusable across fit calls (state resets at the start of each) unless {@link setState} was called
 * for a resumed run.
 */
export class EarlyStopping implements Callback {
  readonly monitor: string;
  readonly minDelta: number;
  readonly patience: number;
  readonly mode: 'min' | 'max';
  readonly baseline: number | undefined;
  readonly restoreBestWeights: boolean;
  private model: Model | undefined;
  private state = freshState();
  private weights: Map<string, Float32Array> | undefined;
  private resumed = false;

  constructor(o: EarlyStoppingOptions = {}) {
    checkOptions('EarlyStopping', o, ['monitor', 'minDelta', 'patience', 'mode', 'baseline', 'restoreBestWeights']);
    this.monitor = o.monitor ?? 'val_loss';
    this.minDelta = Math.abs(o.minDelta ?? 0);
    this.patience = o.patience ?? 0;
    if (!Number.isInteger(this.patience) || this.patience < 0) throw new RangeError(`EarlyStopping: patience must be a non-negative integer, got ${o.patience}`);
    if (!Number.isFinite(this.minDelta)) throw new RangeError(`EarlyStopping: minDelta must be a finite number, got ${o.minDelta}`);
    this.mode = monitorMode(this.monitor, o.mode, 'EarlyStopping');
    this.baseline = o.baseline;
    this.restoreBestWeights = o.restoreBestWeights ?? false;
  }

  setModel(m: Model): void {
    this.model = m;
  }

  /** A copy of the state (see {@link EarlyStoppingState}). */
  getState(): EarlyStoppingState {
    return { ...this.state };
  }

  /** The best epoch's weights kept for restoring (restoreBestWeights only), by weight name. */
  bestWeights(): Map<string, Float32Array> | undefined {
    return this.weights;
  }

  /** Continues a run: the next fit starts from this state (and these best weights) instead of resetting. */
  setState(s: EarlyStoppingState, bestWeights?: Map<string, Float32Array>): void {
    this.state = { ...s };
    this.weights = bestWeights;
    this.resumed = true;
  }

  /** True when this callback stopped the last fit. */
  get stopped(): boolean {
    return this.state.stoppedEpoch >= 0;
  }

  onTrainBegin(): void {
    if (!this.resumed) {
      this.state = freshState();
      this.weights = undefined;
    }
    this.resumed = false;
  }

  onEpochEnd(epoch: number, logs: Logs): void {
    const current = monitoredValue(logs, this.monitor, 'EarlyStopping');
    const s = this.state;
    s.wait++;
    if (this.improves(current, s.best)) {
      s.best = current;
      s.bestEpoch = epoch;
      if (this.restoreBestWeights) this.weights = this.model?.getWeights();
      if (this.baseline === undefined || this.improves(current, this.baseline)) s.wait = 0;
      return;
    }
    if (s.wait >= this.patience && epoch > 0) {
      s.stoppedEpoch = epoch;
      if (this.model) {
        this.model.stopTraining = true;
        if (this.restoreBestWeights && this.weights) this.model.setWeights(this.weights);
      }
    }
  }

  private improves(current: number, reference: number | null): boolean {
    return improves(this.mode, current, reference, this.minDelta);
  }
}
