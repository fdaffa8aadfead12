// Test helper: asserting that a data step fails with a one-line DataError saying the right things.
import assert from 'node:assert/strict';
import { DataError } from '../../src/data/data-error.js';

/** Asserts that `fn` throws a DataError whose message is one line matching every pattern. */
export function failsWithDataError(fn: () => unknown, ...patterns: RegExp[]): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof DataError, `expected DataError, got ${String(e)}`);
    assert.ok(!e.message.includes('\n'), `one line: ${e.message}`);
    for (const p of patterns) assert.match(e.message, p);
    return true;
  });
}
