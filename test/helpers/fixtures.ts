// Loading the PyTorch fixtures of test/fixtures/ and comparing tensors against their stored values.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tensor } from '../../src/core/ops/index.js';
import type { Tensor } from '../../src/core/tensor.js';
import { compareClose, relTol } from './compare.js';

/** A tensor as the fixture scripts store it (`enc` in scripts/make-fixtures.py): shape and row-major values. */
export interface FixtureTensor {
  shape: number[];
  data: number[];
}

/** Parses test/fixtures/<name>.json (found from the repository root). */
export function loadFixture<T>(name: string): T {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) dir = dirname(dir);
  return JSON.parse(readFileSync(join(dir, 'test', 'fixtures', `${name}.json`), 'utf8')) as T;
}

/** The fixture tensor as a float32 (or, with dtype 'int32', int32) tensor on the current backend. */
export function fromFixture(t: FixtureTensor, dtype: 'float32' | 'int32' = 'float32'): Tensor {
  return tensor(dtype === 'int32' ? Int32Array.from(t.data) : Float32Array.from(t.data), t.shape, dtype);
}

/** Asserts `actual` has the fixture's shape and values within rtol·|expected| + atol (float32 against float64 references). */
export function assertMatches(label: string, actual: Tensor, expected: FixtureTensor, rtol = 1e-5, atol = 1e-6): void {
  assert.deepEqual(actual.shape, expected.shape, `${label}: shape`);
  const cmp = compareClose(actual.f32(), Float32Array.from(expected.data), relTol(rtol, atol));
  assert.equal(cmp.message, undefined, `${label}: ${cmp.message}`);
}
