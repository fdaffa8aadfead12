// Shared pieces of the CLI commands: output streams, dataset loading with limits, number formatting, CLI errors.
import { DATASET_NAMES, type Dataset, loadDataset } from '../data/index.js';
import { setThreads } from '../core/engine.js';

/** Where commands write: results to `out` (stdout), progress and messages to `err` (stderr). */
export interface Io {
  out: { write(s: string): unknown };
  err: { write(s: string): unknown; isTTY?: boolean; columns?: number };
}

/** An error the CLI reports as one line with a given exit code (never with a stack trace unless --verbose). */
export class CliError extends Error {
  constructor(message: string, readonly exitCode = 1) {
    super(message);
    this.name = 'CliError';
  }
}

/** Flags every data-reading command shares. */
export const DATA_FLAGS = {
  dataset: { type: 'string', default: 'mnist-sample', choices: DATASET_NAMES, description: 'Dataset: mnist-sample (built in), mnist or fashion-mnist (IDX files)' },
  data: { type: 'string', metavar: 'dir', description: 'Folder holding the four IDX files (train/t10k images and labels, raw or .gz)' },
} as const;

/** Flags every command shares. */
export const COMMON_FLAGS = {
  threads: { type: 'int', min: 1, description: 'Worker threads of the wasm engine (default: all cores, or WEIGHTSHARE_THREADS)' },
  json: { type: 'boolean', description: 'Print a machine-readable JSON summary on stdout' },
  verbose: { type: 'boolean', description: 'Show stack traces on errors' },
} as const;

/** Applies --threads before any tensor exists. */
export function applyThreads(threads: number | undefined): void {
  if (threads !== undefined) setThreads(threads);
}

/** Loads a dataset by name, optionally from a folder, and keeps the first `limit` training samples. */
export function readDataset(name: string, dataDir: string | undefined, limit?: number, testLimit?: number): Dataset {
  const ds = loadDataset(name, { dataDir });
  const cut = <T extends Float32Array | Int32Array>(a: T, n: number | undefined, row: number): T => (n === undefined || n * row >= a.length ? a : (a.subarray(0, n * row) as T));
  return {
    ...ds,
    xTrain: cut(ds.xTrain, limit, 784), yTrain: cut(ds.yTrain, limit, 1),
    xTest: cut(ds.xTest, testLimit, 784), yTest: cut(ds.yTest, testLimit, 1),
  };
}

/** Data in the form Model.fit takes. */
export function images(x: Float32Array): { data: Float32Array; shape: number[] } {
  return { data: x, shape: [x.length / 784, 28, 28, 1] };
}

/** Labels in the form Model.fit takes. */
export function labels(y: Int32Array): { data: Int32Array; shape: number[] } {
  return { data: y, shape: [y.length] };
}

/** 0.98765 → '98.77 %'. */
export function percent(v: number): string {
  return `${(100 * v).toFixed(2)} %`;
}
