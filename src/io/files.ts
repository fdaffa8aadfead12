// Node-only model files: safe atomic writes (temp file, fsync, rename; regular files only, symlinks followed, read-only kept, a lock per output), load/save by path (regular files only), TF.js model folders.
import {
  closeSync, existsSync, fchmodSync, fsyncSync, lstatSync, mkdirSync, openSync, readdirSync, readlinkSync, renameSync, rmdirSync, statSync, unlinkSync,
  writeSync,
  type Stats,
} from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { ArgumentError, checkOptions, describeValue } from '../core/errors.js';
import { type Model, requireModel } from '../nn/model.js';
import type { Callback, Logs } from '../nn/training.js';
import type { Tokenizer } from '../data/tokenizer.js';
import { modelFromCheckpoint, modelToCheckpoint, type TrainingState } from './model-file.js';
import { CheckpointError, decodeCheckpoint, type DecodeOptions, encodeCheckpoint, type EncodeOptions, type CheckpointContents } from './checkpoint.js';
import type { LoadOptions } from './limits.js';
import type { TfjsExport } from './tfjs/export.js';
import { importTfjs, type TfjsImport, type TfjsImportOptions } from './tfjs/import.js';
import { TfjsImportError } from './tfjs/topology.js';
import { fileKind, readRegularFile } from './read-file.js';

/** Options of the writers. */
export interface WriteOptions {
  /** Replace a read-only file (the new file keeps its read-only mode); default false: a read-only file is refused. */
  force?: boolean;
}

/** A write that is refused or fails before anything is replaced: not a regular file, read-only, locked by another process; the message names the path. */
export class WriteError extends Error {
  constructor(readonly path: string, message: string, o?: { cause?: unknown }) {
    super(`${path}: ${message}`, o);
    this.name = 'WriteError';
  }
}

/** Symbolic links followed before giving up (as the kernel's ELOOP limit). */
const MAX_LINKS = 40;

/**
 * The file a write to `path` lands on: `path` itself, or for a symbolic link (also a chain of them, or a dangling one) the
 * file it points to, so that writing replaces the target and the link stays a link.
 */
export function writeTarget(path: string): string {
  if (typeof path !== 'string') throw new WriteError(String(path), `a path must be a string, got ${describeValue(path)}`);
  if (path === '') throw new WriteError(String(path), 'an empty path names no file to write');
  if (path.includes('\0')) throw new WriteError(path, 'the path holds a NUL byte, which no file name can');
  let p = path;
  for (let hops = 0; hops < MAX_LINKS; hops++) {
    let st: Stats;
    try {
      st = lstatSync(p);
    } catch {
      return p; // nothing there yet (or a dangling link's target)
    }
    if (!st.isSymbolicLink()) return p;
    const to = readlinkSync(p);
    p = isAbsolute(to) ? to : join(dirname(p), to);
  }
  throw new WriteError(path, `more than ${MAX_LINKS} symbolic links to follow (a loop?)`);
}

/**
 * Checks that `target` (a path from {@link writeTarget}) may be replaced: it is absent or a regular file, and a read-only
 * file only with `force`. Returns the existing file's permission bits (kept by the new file), or undefined.
 */
function checkReplaceable(target: string, o: WriteOptions): number | undefined {
  let st: Stats;
  try {
    st = statSync(target);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined; // nothing there (making its folder will tell)
    throw new WriteError(target, `cannot inspect the output: ${(e as Error).message}`, { cause: e });
  }
  const kind = fileKind(st);
  if (kind) throw new WriteError(target, `is ${kind}, not a regular file: refusing to replace it`);
  const mode = st.mode & 0o7777;
  if ((mode & 0o222) === 0 && !o.force) {
    throw new WriteError(target, `is read-only (mode ${mode.toString(8).padStart(4, '0')}): not replaced unless forced (--force on the command line, { force: true } in code)`);
  }
  return mode;
}

/** True when a process with this id exists (one owned by another user counts). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Removes the temp files `<target>.tmp-PID-RAND` that writers killed mid-save left behind (their process is gone);
 * those of running processes are kept. Returns the names removed. Best effort: a file that cannot be removed stays.
 */
export function removeStaleTemps(target: string): string[] {
  const dir = dirname(target);
  const re = new RegExp(`^${escapeRegExp(basename(target))}\\.tmp-(\\d+)-[0-9a-f]+$`);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const pid = Number(re.exec(name)?.[1]);
    if (!Number.isSafeInteger(pid) || pid === process.pid || alive(pid)) continue;
    try {
      unlinkSync(join(dir, name));
      removed.push(name);
    } catch { /* gone already, or not ours to remove */ }
  }
  return removed;
}

/** An output held by {@link lockOutput}: the file written and its lock file; `release()` removes the lock (idempotent). */
export interface OutputLock {
  readonly target: string;
  readonly lockPath: string;
  release(): void;
}

/** Lock files this process holds, by their target's absolute path; removed at exit if still held. */
const held = new Map<string, string>();
let exitHook = false;

/** The process id a lock file names, or undefined when it names none. */
function lockOwner(lockPath: string): number | undefined {
  let absent = false;
  let text: string;
  try {
    // A regular file only: a FIFO put at the lock's path would block a plain read for ever.
    text = readRegularFile(lockPath, {
      error: (m, cause) => {
        const code = (cause as NodeJS.ErrnoException | undefined)?.code;
        absent = code === 'ENOENT' || code === 'ENOTDIR'; // nothing there (a missing folder is made, or reported, by the writer)
        return new WriteError(lockPath, `${m}: cannot be read as the lock file of ${lockPath.slice(0, -'.lock'.length)}`);
      },
    }).toString('utf8');
  } catch (e) {
    if (absent) return undefined;
    throw e;
  }
  const pid = /^\s*(\d+)\s*$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(pid) || pid <= 0) throw new WriteError(lockPath, `lock file names no process (${JSON.stringify(text.slice(0, 40))}); remove it if no other run is writing ${lockPath.slice(0, -'.lock'.length)}`);
  return pid;
}

/** The id of another running process that holds the lock of `target`, or undefined (no lock, or a stale one). */
function otherHolder(target: string): number | undefined {
  if (held.has(resolve(target))) return undefined;
  const pid = lockOwner(`${target}.lock`);
  return pid !== undefined && pid !== process.pid && alive(pid) ? pid : undefined;
}

const lockedBy = (target: string, pid: number): WriteError =>
  new WriteError(target, `is being written by process ${pid} (lock file ${target}.lock); wait for it to finish or write elsewhere`);

/**
 * Takes the advisory lock of an output file before a long job writes it: checks that the file may be replaced (a
 * regular file, not read-only unless `force`; symbolic links followed), creates its folder, removes stale temp
 * files, and creates `<target>.lock` holding this process id with O_EXCL. A lock whose process is gone is stale and
 * taken over. Throws a WriteError naming the path when another running process (or this one) holds the lock, or when
 * the folder is not writable: so a run fails at its start, not after its first epoch. The lock is released by
 * `release()` or when the process exits (a killed process leaves it; the next writer sees its process is gone);
 * `release()` also removes the folders it created when the run wrote nothing there.
 */
export function lockOutput(path: string, o: WriteOptions = {}): OutputLock {
  const target = writeTarget(path);
  checkReplaceable(target, o);
  const lockPath = `${target}.lock`;
  if (held.has(resolve(target))) throw new WriteError(target, `is already being written by this process (pid ${process.pid})`);
  let made: string | undefined;
  try {
    made = mkdirSync(dirname(target), { recursive: true });
  } catch (e) {
    throw new WriteError(target, `cannot create its folder: ${(e as Error).message}`, { cause: e });
  }
  removeStaleTemps(target);
  for (let attempt = 0; ; attempt++) {
    let fd: number;
    try {
      fd = openSync(lockPath, 'wx');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new WriteError(target, `cannot create the lock file ${lockPath}: ${(e as Error).message}`, { cause: e });
      const pid = otherHolder(target);
      if (pid !== undefined) throw lockedBy(target, pid);
      if (attempt >= 2) throw new WriteError(target, `cannot take the lock file ${lockPath} (it keeps reappearing)`);
      try { unlinkSync(lockPath); } catch { /* another writer took it over first */ }
      continue;
    }
    try {
      writeSync(fd, `${process.pid}\n`);
    } finally {
      closeSync(fd);
    }
    break;
  }
  const key = resolve(target), absLock = resolve(lockPath);
  held.set(key, absLock);
  if (!exitHook) {
    exitHook = true;
    process.on('exit', () => { for (const l of held.values()) try { unlinkSync(l); } catch { /* already gone */ } });
  }
  return {
    target, lockPath,
    release() {
      if (held.get(key) !== absLock) return;
      held.delete(key);
      try {
        if (lockOwner(absLock) === process.pid) unlinkSync(absLock);
      } catch { /* removed by hand, or unreadable: leave it */ }
      if (made !== undefined && !existsSync(target)) removeEmptyFolders(dirname(key), resolve(made));
    },
  };
}

/** Removes `dir` and its parents up to `top` (inclusive) while they are empty: the folders a failed run made for its output. */
function removeEmptyFolders(dir: string, top: string): void {
  for (let d = dir; d.startsWith(top); d = dirname(d)) {
    try { rmdirSync(d); } catch { return; /* not empty, or not ours to remove */ }
    if (d === top) return;
  }
}

/**
 * Writes `bytes` (a string is written as UTF-8) to `path` so that readers see either the old file or the complete new
 * one, never a partial write: the data go to `<target>.tmp-PID-RAND` in the same directory, are fsynced, and the temp
 * file is renamed over the target. Guards: only a regular file is replaced (a directory, device, FIFO or socket is a
 * WriteError, and stays as it was); a symbolic link is followed and its target replaced (the link stays); a read-only
 * file is refused unless `force` (then the new file keeps its mode, as does any replaced file); a file locked by another
 * running process ({@link lockOutput}) is refused. Stale temp files of dead processes are removed first. The parent
 * directory is created if missing. On any other failure the temp file is removed, the target is left as it was, and
 * the underlying Node error is rethrown.
 */
export function writeFileAtomic(path: string, bytes: Uint8Array | string, o: WriteOptions = {}): void {
  const data = typeof bytes === 'string' ? new TextEncoder().encode(bytes) : bytes;
  const target = writeTarget(path);
  const mode = checkReplaceable(target, o);
  const holder = otherHolder(target);
  if (holder !== undefined) throw lockedBy(target, holder);
  const dir = dirname(target);
  mkdirSync(dir, { recursive: true });
  removeStaleTemps(target);
  const tmp = `${target}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`;
  let fd: number | undefined = openSync(tmp, 'wx');
  try {
    for (let at = 0; at < data.length; ) at += writeSync(fd, data, at, data.length - at);
    if (mode !== undefined) fchmodSync(fd, mode);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, target);
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

/**
 * Encodes `c` (`compressHeader`: see {@link EncodeOptions}) and writes it atomically to `path` ({@link writeFileAtomic},
 * with its guards), returning the bytes written; a refused write is a WriteError, any other failure a CheckpointError,
 * both naming the path.
 */
export function saveCheckpoint(path: string, c: CheckpointContents, o: WriteOptions & EncodeOptions = {}): number {
  const bytes = encodeCheckpoint(c, path, { compressHeader: o.compressHeader });
  try {
    writeFileAtomic(path, bytes, o);
  } catch (e) {
    if (e instanceof WriteError) throw e;
    throw new CheckpointError(path, `cannot write checkpoint: ${(e as Error).message}`, { cause: e });
  }
  return bytes.length;
}

/**
 * Reads and decodes the checkpoint at `path` (options: see {@link DecodeOptions}); a missing, unreadable or invalid
 * file, or one that is no regular file (a directory, device, FIFO or socket: see readRegularFile), is a CheckpointError
 * naming the path.
 */
export function loadCheckpoint(path: string, o: DecodeOptions = {}): CheckpointContents {
  const bytes = readRegularFile(path, { error: (m, cause) => new CheckpointError(path, m, { cause }) });
  return decodeCheckpoint(bytes, path, o);
}

/** Options of {@link saveModel}: what the file holds (see modelToCheckpoint), how it is written, and `ship`. */
export type SaveModelOptions = Parameters<typeof modelToCheckpoint>[1] & WriteOptions & EncodeOptions & {
  /**
   * A file for shipping, as `weightshare compress --ship` writes: no optimizer state, compile settings or training
   * record, and a compressed header (format 3); an option also given here wins (e.g. `compressHeader: false`).
   */
  ship?: boolean;
};

/** What `ship: true` sets unless given: a file for shipping. */
const SHIP: SaveModelOptions = { withOptimizer: false, withCompile: false, training: undefined, compressHeader: true };

/**
 * Saves a model (weights, config, optimizer state, training progress) atomically to `path` (`force`: see
 * {@link WriteOptions}; `ship` and `compressHeader`: see {@link SaveModelOptions}); returns the file size in bytes.
 */
export function saveModel(path: string, m: Model, o: SaveModelOptions = {}): number {
  requireModel('saveModel', m);
  checkOptions('saveModel', o, ['training', 'initSeed', 'withOptimizer', 'withCompile', 'extra', 'tokenizer', 'force', 'compressHeader', 'ship']);
  const { force, compressHeader, ship, ...contents } = { ...(o.ship ? SHIP : {}), ...o };
  return saveCheckpoint(path, modelToCheckpoint(m, contents), { force, compressHeader });
}

/**
 * Loads a model saved by {@link saveModel} (with its tokenizer when it has one), checking everything in the file before
 * trusting it (see modelFromCheckpoint; `o` sets the element limit and the opt-in to non-finite weights); coded tensors
 * are decoded only once their shapes fit the model. Errors name the file and what is wrong.
 */
export function loadModel(path: string, o: LoadOptions = {}): ReturnType<typeof modelFromCheckpoint> {
  checkOptions('loadModel', o, ['maxElements', 'maxModelElements', 'allowNonFinite']);
  return modelFromCheckpoint(loadCheckpoint(path, { lazy: true, maxElements: o.maxElements }), path, o);
}

/**
 * A fit callback that saves the model with optimizer state (and `tokenizer`, when given) after every epoch (Keras
 * `ModelCheckpoint`); `training(epoch, logs)` supplies the progress record stored with it.
 */
export function modelCheckpoint(
  path: string, training: (epoch: number, logs: Logs) => TrainingState, o: { initSeed?: number; tokenizer?: Tokenizer } & WriteOptions = {},
): Callback & { model?: Model } {
  const cb: Callback & { model?: Model } = {
    onEpochEnd(epoch, logs) {
      if (!cb.model) throw new Error('modelCheckpoint: set callback.model before fit');
      saveModel(path, cb.model, { training: training(epoch, logs), initSeed: o.initSeed, tokenizer: o.tokenizer, force: o.force });
    },
  };
  return cb;
}

/**
 * Writes an {@link exportTfjs} result into folder `dir` (created if missing) as TF.js loaders read it: each weight file
 * atomically, then model.json, so that a model.json is never seen naming weight files not yet written. Returns the
 * files written (model.json last) and their total size in bytes.
 */
export function saveTfjs(dir: string, e: TfjsExport, o: WriteOptions = {}): { files: string[]; bytes: number } {
  const given = e as Partial<TfjsExport> | null | undefined;
  if (!given || typeof given !== 'object' || !given.modelJson || !Array.isArray(given.weightData)) {
    throw new ArgumentError('saveTfjs', `writes what exportTfjs(model) returns ({ modelJson, weightData }), got ${describeValue(e)}${(given as { className?: unknown } | null)?.className ? ': call exportTfjs(model) first' : ''}`);
  }
  const files: string[] = [];
  let bytes = 0;
  e.modelJson.weightsManifest[0].paths.forEach((p, i) => {
    writeFileAtomic(join(dir, p), e.weightData[i], o);
    files.push(join(dir, p));
    bytes += e.weightData[i].length;
  });
  const json = JSON.stringify(e.modelJson);
  writeFileAtomic(join(dir, 'model.json'), json, o);
  files.push(join(dir, 'model.json'));
  return { files, bytes: bytes + new TextEncoder().encode(json).length };
}

/**
 * Reads a TF.js layers model from disk: model.json at `path` and the weight files its manifest names, relative to
 * it (as tf.loadLayersModel('file://…') resolves them), then {@link importTfjs}. A file that is missing or not JSON is a
 * TfjsImportError naming it.
 */
export function loadTfjs(path: string, o: Omit<TfjsImportOptions, 'file'> = {}): TfjsImport {
  const read = (p: string, what: string): Buffer => readRegularFile(p, { error: (m) => new TfjsImportError(`${path}: ${what} ${m}`), missing: 'is missing' });
  let json: unknown;
  try {
    json = JSON.parse(read(path, 'the file').toString('utf8'));
  } catch (e) {
    if (e instanceof TfjsImportError) throw e;
    throw new TfjsImportError(`${path}: not JSON (${(e as Error).message})`);
  }
  const groups = (json as { weightsManifest?: { paths?: string[] }[] })?.weightsManifest;
  const paths = Array.isArray(groups) ? groups.flatMap((g) => g.paths ?? []) : [];
  const data = paths.map((p) => read(join(dirname(path), p), `weight file '${p}' (${join(dirname(path), p)})`));
  return importTfjs(json, Array.isArray(groups) ? data : undefined, { ...o, file: path });
}
