// Error classes: each message names the op, the shapes or values involved and what was expected.

/** Incompatible shapes for an op. */
export class ShapeError extends Error {
  constructor(op: string, message: string) {
    super(`${op}: ${message}`);
    this.name = 'ShapeError';
  }
}

/** Wrong element type for an op. */
export class DTypeError extends Error {
  constructor(op: string, message: string) {
    super(`${op}: ${message}`);
    this.name = 'DTypeError';
  }
}

/** An index outside the valid range (gather, scatter, one-hot); gather and scatterAdd also give the bad value and its flat position. */
export class IndexError extends Error {
  constructor(op: string, message: string, readonly value?: number, readonly position?: number) {
    super(`${op}: ${message}`);
    this.name = 'IndexError';
  }
}

/** Use of a tensor after it was disposed. */
export class DisposedError extends Error {
  constructor(op: string, shape: readonly number[]) {
    super(`${op}: tensor of shape [${shape.join(',')}] was already disposed (keep it with keep() or return it from tidy())`);
    this.name = 'DisposedError';
  }
}

/** A derivative the engine does not provide (e.g. second derivative of max-pooling). */
export class NotDifferentiableError extends Error {
  constructor(op: string, message: string) {
    super(`${op}: ${message}`);
    this.name = 'NotDifferentiableError';
  }
}

/** Formats a shape for messages: [2,3]. */
export function fmt(shape: readonly number[]): string {
  return `[${shape.join(',')}]`;
}
