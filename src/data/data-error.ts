// DataError: a data file or dataset that cannot be used, with the file or dataset named (browser-safe).

/** A malformed or missing data file; the message names the file, the byte offset or value, and what was expected. */
export class DataError extends Error {
  constructor(file: string, message: string) {
    super(`${file}: ${message}`);
    this.name = 'DataError';
  }
}
