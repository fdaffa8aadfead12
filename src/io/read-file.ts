// Node-only reads of input files (model files, IDX, PNG/JPEG, text, imports): regular files only, read up to the size they declare.
import { closeSync, constants, fstatSync, openSync, readSync, statSync, type Stats } from 'node:fs';
import { describeValue } from '../core/errors.js';

/** A file that cannot be read as input: missing, not a regular file, unreadable; the message names the path. */
export class ReadError extends Error {
  constructor(readonly path: string, message: string, o?: { cause?: unknown }) {
    super(`${path}: ${message}`, o);
    this.name = 'ReadError';
  }
}

/** Options of {@link readRegularFile}. */
export interface ReadOptions {
  /**
   * Makes the error thrown for `message` (one line, without the path), e.g. `(m) => new DataError(path, m)`, so that each
   * reader keeps its own error class; default a {@link ReadError} naming the path.
   */
  error?: (message: string, cause?: unknown) => Error;
  /** The message for a path where nothing exists (default 'no such file'). */
  missing?: string;
}

/** What a path that is no regular file is, in words ('a character device'), or undefined for a regular file. */
export function fileKind(st: Stats): string | undefined {
  if (st.isFile()) return undefined;
  return st.isDirectory() ? 'a directory' : st.isCharacterDevice() ? 'a character device' : st.isBlockDevice() ? 'a block device'
    : st.isFIFO() ? 'a FIFO (named pipe)' : st.isSocket() ? 'a socket' : 'not a regular file';
}

const NOT_REGULAR = (kind: string): string => `is ${kind}, not a regular file`;

/**
 * Reads a regular file (symbolic links followed) whole, as `readFileSync` would, but refuses anything else before it
 * is opened for reading: a directory, character or block device (`/dev/zero`, `/dev/stdin` on a terminal), FIFO or
 * socket is an error naming the path (`/dev/zero: is a character device, not a regular file`), so that no input can
 * make a reader hang or read without end. The file is opened non-blocking and checked again through its descriptor
 * (it may have been swapped since the first look), and at most the size it declares then is read: a file that grows
 * while it is read is cut there. Errors come from `o.error` (default {@link ReadError}).
 */
export function readRegularFile(path: string, o: ReadOptions = {}): Buffer {
  const fail = (message: string, cause?: unknown): never => {
    throw o.error ? o.error(message, cause) : new ReadError(path, message, { cause });
  };
  const problem = (e: unknown): string => {
    const code = (e as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? o.missing ?? 'no such file'
      : code === 'ENOTDIR' ? `${o.missing ?? 'no such file'} (a part of the path is not a directory)`
      : `cannot read: ${(e as Error).message}`;
  };
  if (typeof path !== 'string') fail(`a path must be a string, got ${describeValue(path)}`);
  if (path === '') fail('an empty path names no file');
  if (path.includes('\0')) fail('the path holds a NUL byte, which no file name can');
  let kind: string | undefined;
  try {
    kind = fileKind(statSync(path));
  } catch (e) {
    fail(problem(e), e);
  }
  if (kind) fail(NOT_REGULAR(kind));
  let fd: number | undefined;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    fail(problem(e), e);
  }
  try {
    const st = fstatSync(fd!);
    const now = fileKind(st);
    if (now) fail(NOT_REGULAR(now));
    const size = st.size;
    const buf = Buffer.allocUnsafe(size);
    let at = 0;
    while (at < size) {
      let n: number;
      try {
        n = readSync(fd!, buf, at, size - at, at);
      } catch (e) {
        return fail(problem(e), e);
      }
      if (n === 0) break; // the file shrank while it was read: what is there
      at += n;
    }
    return at === size ? buf : buf.subarray(0, at);
  } finally {
    closeSync(fd!);
  }
}
