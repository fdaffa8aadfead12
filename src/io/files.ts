// Node-only checkpoint files: atomic writes (temp file, fsync, rename) and load/save by path.
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { dirname } from 'node:path';
import type { Model } from '../nn/model.js';
import type { Callback, Logs } from '../nn/training.js';
import type { Tokenizer } from '../data/tokenizer.js';
import { modelFromCheckpoint, modelToCheckpoint, type TrainingState } from './model-file.js';
import { CheckpointError, decodeCheckpoint, type DecodeOptions, encodeCheckpoint, type CheckpointContents } from './checkpoint.js';
import type { LoadOptions } from './limits.js';

/**
 * Writes `bytes` (a string is written as UTF-8) to `path` so that readers see either the old file
 * or the complete new one, never a partial write: the data go to `${path}.tmp-${pid}-${random}`
 * in the same directory, are fsynced, and the temp file is renamed over `path`. The parent
 * directory is created if missing. On any failure the temp file is removed, `path` is left as it
 * was, and the underlying Node error is rethrown.
 */
export function writeFileAtomic(path: string, bytes: Uint8Array | string): void {
  const data = typeof bytes === 'string' ? new TextEncoder().encode(bytes) : bytes;
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true });
  const tmp = `${path}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`;
  let fd: number | undefined = openSync(tmp, 'wx');
  try {
    for (let at = 0; at < data.length; ) at += writeSync(fd, data, at, data.length - at);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, path);
  } catch (e) {
    if (fd !== undefined) try { closeSync(fd); } catch { /* already failing; keep the first error */ }
    try { unlinkSync(tmp); } catch { /* already gone */ }
    throw e;
  }
  syncDirectory(dir);
}

/** Makes a rename durable by fsyncing its directory; best effort (not possible on every platform). */
function syncDirectory(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    /* e.g. Windows cannot open a directory; the rename itself has already happened */
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Encodes `c` and writes it atomically to `path`, returning the bytes written; any failure is a CheckpointError naming the path. */
export function saveCheckpoint(path: string, c: CheckpointContents): number {
  const bytes = encodeCheckpoint(c, path);
  try {
    writeFileAtomic(path, bytes);
  } catch (e) {
    throw new CheckpointError(path, `cannot write checkpoint: ${(e as Error).message}`, { cause: e });
  }
  return bytes.length;
}

/**
 * Reads and decodes the checkpoint at `path` (options: see {@link DecodeOptions}); a missing, unreadable or invalid
 * file is a CheckpointError naming the path.
 */
export function loadCheckpoint(path: string, o: DecodeOptions = {}): CheckpointContents {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new CheckpointError(path, 'no such file', { cause: e });
    throw new CheckpointError(path, `cannot read checkpoint: ${(e as Error).message}`, { cause: e });
  }
  return decodeCheckpoint(bytes, path, o);
}

/** Saves a model (weights, config, optimizer state, training progress) atomically to `path`; returns the file size in bytes. */
export function saveModel(path: string, m: Model, o: Parameters<typeof modelToCheckpoint>[1] = {}): number {
  return saveCheckpoint(path, modelToCheckpoint(m, o));
}

/**
 * Loads a model saved by {@link saveModel} (with its tokenizer when it has one), checking everything in the file before
 * trusting it (see modelFromCheckpoint; `o` sets the element limit and the opt-in to non-finite weights); coded tensors
 * are decoded only once their shapes fit the model. Errors name the file and what is wrong.
 */
export function loadModel(path: string, o: LoadOptions = {}): ReturnType<typeof modelFromCheckpoint> {
  return modelFromCheckpoint(loadCheckpoint(path, { lazy: true, maxElements: o.maxElements }), path, o);
}

/**
 * A fit callback that saves the model with optimizer state (and `tokenizer`, when given) after every epoch (Keras
 * `ModelCheckpoint`); `training(epoch, logs)` supplies the progress record stored with it.
 */
export function modelCheckpoint(
  path: string, training: (epoch: number, logs: Logs) => TrainingState, o: { initSeed?: number; tokenizer?: Tokenizer } = {},
): Callback & { model?: Model } {
  const cb: Callback & { model?: Model } = {
    onEpochEnd(epoch, logs) {
      if (!cb.model) throw new Error('modelCheckpoint: set callback.model before fit');
      saveModel(path, cb.model, { training: training(epoch, logs), initSeed: o.initSeed, tokenizer: o.tokenizer });
    },
  };
  return cb;
}
