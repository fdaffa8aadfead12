// Fit callbacks that write files (Node; Keras names): ModelCheckpoint (with saveBestOnly) and CSVLogger.
import { checkOptions } from '../core/errors.js';
import { appendFileSync, existsSync, statSync, writeFileSync } from 'node:fs';
import { improves, monitoredValue, monitorMode } from '../nn/callbacks.js';
import type { Model } from '../nn/model.js';
import type { Callback, Logs } from '../nn/training.js';
import type { Tokenizer } from '../data/tokenizer.js';
import { saveModel } from './files.js';
import { readRegularFile } from './read-file.js';

/**
 * A Keras file pattern with the epoch's values: `{epoch}` is 1-based, a log is named by its key (`{val_loss}`), and a
 * Python format spec may follow a colon: `{epoch:02d}`, `{val_loss:.4f}`, `{loss:.3e}`.
 */
export function formatFilepath(pattern: string, epoch: number, logs: Logs): string {
  return pattern.replace(/\{(\w+)(?::([^}]*))?\}/g, (_, key: string, spec: string | undefined) => {
    const v = key === 'epoch' ? epoch + 1 : logs[key];
    if (v === undefined) throw new RangeError(`ModelCheckpoint: filepath '${pattern}' names '{${key}}', which the epoch logs do not have (they have epoch, ${Object.keys(logs).join(', ')})`);
    if (spec === undefined || spec === '') return String(v);
    const m = /^(0?)(\d*)(?:\.(\d+))?([dfe])$/.exec(spec);
    if (!m) throw new RangeError(`ModelCheckpoint: filepath '${pattern}': format '${spec}' of '{${key}}' is not one of d, Nd, 0Nd, .Nf, .Ne`);
    const [, zero, widthText, digits, kind] = m;
    const text = kind === 'd' ? String(Math.round(v)) : kind === 'f' ? v.toFixed(Number(digits ?? 6)) : v.toExponential(Number(digits ?? 6)).replace(/e([+-])(\d)$/, 'e$10$2');
    const width = Number(widthText || 0);
    return zero ? (text.startsWith('-') ? `-${text.slice(1).padStart(width - 1, '0')}` : text.padStart(width, '0')) : text.padStart(width);
  });
}

/** Options of {@link ModelCheckpoint} (Keras names and defaults). */
export interface ModelCheckpointOptions {
  /** The log watched by saveBestOnly (default 'val_loss': needs validationSplit or validationData). */
  monitor?: string;
  /** Save only when `monitor` improves on the best epoch so far (default false: save after every epoch). */
  saveBestOnly?: boolean;
  /** 'min' or 'max'; 'auto' (default) is 'max' for accuracy-like logs, else 'min'. */
  mode?: 'auto' | 'min' | 'max';
  /** Leave the optimizer's state out of the file (Keras' weights-only save; the file still holds the config). */
  saveWeightsOnly?: boolean;
  /** saveBestOnly saves only values better than this (Keras' initial_value_threshold). */
  initialValueThreshold?: number;
  /** 1: one line per save on the console (default 0). */
  verbose?: 0 | 1;
  /** Stored with the model (a text model's vocabulary), so that the file alone generates and evaluates. */
  tokenizer?: Tokenizer;
}

/**
 * Keras `ModelCheckpoint`: saves the model being fitted (a weightshare model file, written atomically) after each epoch, or
 * with `saveBestOnly` only after epochs whose `monitor` beats the best so far. `filepath` may hold `{epoch:02d}` and log
 * values such as `{val_loss:.4f}` to keep one file per epoch. Pass it in `callbacks`; fit gives it the model.
 */
export class ModelCheckpoint implements Callback {
  readonly filepath: string;
  readonly monitor: string;
  readonly mode: 'min' | 'max';
  readonly saveBestOnly: boolean;
  /** The best monitored value so far (saveBestOnly), or undefined. */
  best: number | undefined;
  /** The files written by the last fit, in order. */
  readonly saved: string[] = [];
  private model: Model | undefined;

  constructor(filepath: string, private readonly o: ModelCheckpointOptions = {}) {
    if (typeof filepath !== 'string' || filepath === '') throw new TypeError(`ModelCheckpoint: filepath must be a non-empty string, got ${JSON.stringify(filepath)}`);
    checkOptions('ModelCheckpoint', o, ['monitor', 'saveBestOnly', 'mode', 'saveWeightsOnly', 'initialValueThreshold', 'verbose', 'tokenizer']);
    this.filepath = filepath;
    this.monitor = o.monitor ?? 'val_loss';
    this.mode = monitorMode(this.monitor, o.mode, 'ModelCheckpoint');
    this.saveBestOnly = o.saveBestOnly ?? false;
    if (o.initialValueThreshold !== undefined && !Number.isFinite(o.initialValueThreshold)) {
      throw new RangeError(`ModelCheckpoint: initialValueThreshold must be a finite number, got ${o.initialValueThreshold}`);
    }
  }

  setModel(m: Model): void {
    this.model = m;
  }

  onTrainBegin(): void {
    this.best = this.o.initialValueThreshold;
    this.saved.length = 0;
  }

  onEpochEnd(epoch: number, logs: Logs): void {
    if (!this.model) throw new Error('ModelCheckpoint: no model (pass the callback to fit, which sets it)');
    if (this.saveBestOnly) {
      const current = monitoredValue(logs, this.monitor, 'ModelCheckpoint');
      if (!improves(this.mode, current, this.best)) return;
      this.best = current;
    }
    const file = formatFilepath(this.filepath, epoch, logs);
    saveModel(file, this.model, { withOptimizer: !this.o.saveWeightsOnly, tokenizer: this.o.tokenizer });
    this.saved.push(file);
    if (this.o.verbose) {
      console.log(this.saveBestOnly ? `Epoch ${epoch + 1}: ${this.monitor} improved to ${logs[this.monitor].toFixed(5)}, saving model to ${file}` : `Epoch ${epoch + 1}: saving model to ${file}`);
    }
  }
}

/** Options of {@link CSVLogger} (Keras names). */
export interface CSVLoggerOptions {
  /** Column separator (default ','). */
  separator?: string;
  /** Add rows to an existing file (its header kept) instead of starting a new one (default false). */
  append?: boolean;
}

/**
 * Keras `CSVLogger`: one row per epoch — `epoch` (0-based, as Keras) then the epoch's logs in sorted key order — under a header
 * row; a value missing from an epoch's logs is left empty. The file is written as training goes (each row appended).
 */
export class CSVLogger implements Callback {
  private keys: string[] | undefined;
  private readonly separator: string;

  constructor(readonly filename: string, private readonly o: CSVLoggerOptions = {}) {
    if (typeof filename !== 'string' || filename === '') throw new TypeError(`CSVLogger: filename must be a non-empty string, got ${JSON.stringify(filename)}`);
    checkOptions('CSVLogger', o, ['separator', 'append']);
    this.separator = o.separator ?? ',';
    if (this.separator === '' || /[\n\r"]/.test(this.separator)) throw new RangeError(`CSVLogger: separator must be a non-empty string without quotes or newlines, got ${JSON.stringify(o.separator)}`);
  }

  onTrainBegin(): void {
    this.keys = undefined;
    const keep = this.o.append && existsSync(this.filename) && statSync(this.filename).size > 0;
    if (keep) {
      // Append under the existing header (its columns), as Keras does.
      this.keys = readHeader(this.filename, this.separator);
    } else {
      writeFileSync(this.filename, '');
    }
  }

  onEpochEnd(epoch: number, logs: Logs): void {
    let head = '';
    if (!this.keys) {
      this.keys = Object.keys(logs).sort();
      head = ['epoch', ...this.keys].join(this.separator) + '\n';
    }
    const row = [String(epoch), ...this.keys.map((k) => (logs[k] === undefined ? '' : String(logs[k])))];
    appendFileSync(this.filename, head + row.join(this.separator) + '\n');
  }
}

/** The log columns of an existing CSV log (its header without 'epoch'). */
function readHeader(file: string, separator: string): string[] {
  const first = (readRegularFile(file, { error: (m) => new RangeError(`CSVLogger: ${file}: ${m}`) }).toString('utf8').split('\n')[0] ?? '').trim();
  const cols = first.split(separator);
  if (cols[0] !== 'epoch') throw new RangeError(`CSVLogger: ${file} does not start with an 'epoch' header column (append: true needs a file this logger wrote)`);
  return cols.slice(1);
}
