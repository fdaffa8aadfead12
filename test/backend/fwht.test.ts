// The fast Walsh–Hadamard transform: wasm kernel against the reference on awkward sizes, H·H = n·I, shape errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setBackend, tidy } from '../../src/core/engine.js';
import { fwht, tensor } from '../../src/core/ops/index.js';
import { Random } from '../../src/core/random.js';

/** Runs f in a tidy scope and returns its (non-tensor) result. */
function scoped<T>(f: () => T): T {
  let out!: T;
  tidy(() => {
    out = f();
  });
  return out;
}

const rand = (n: number, seed: number): Float32Array => {
  const r = new Random(seed);
  return Float32Array.from({ length: n }, () => r.uniform() * 2 - 1);
};

/** H_n by its definition: H[i, j] = (−1)^popcount(i & j). */
function naive(x: Float32Array, rows: number, n: number): Float64Array {
  const y = new Float64Array(rows * n);
  for (let r = 0; r < rows; r++) for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < n; j++) {
      let b = i & j, p = 0;
      while (b) (p ^= b & 1), (b >>= 1);
      s += (p ? -1 : 1) * x[r * n + j];
    }
    y[r * n + i] = s;
  }
  return y;
}

test('fwht: wasm and ref agree with the definition of H for n = 1 … 1024 and odd row counts; H·H = n·I', () => {
  for (const backend of ['ref', 'wasm'] as const) {
    setBackend(backend);
    for (const [rows, n] of [[1, 1], [3, 2], [1, 4], [5, 8], [2, 16], [7, 64], [3, 1024]]) {
      const x = rand(rows * n, rows * 31 + n);
      const want = naive(x, rows, n);
      const got = scoped(() => fwht(tensor(x, [rows, n])).f32());
      for (let i = 0; i < got.length; i++) assert.ok(Math.abs(got[i] - want[i]) <= 1e-5 * Math.sqrt(n) * 4, `${backend} [${rows}, ${n}] at ${i}: ${got[i]} vs ${want[i]}`);
      const twice = scoped(() => fwht(fwht(tensor(x, [rows, n]))).f32());
      for (let i = 0; i < x.length; i++) assert.ok(Math.abs(twice[i] / n - x[i]) <= 1e-5, `${backend} H·H at ${i}`);
    }
    assert.throws(() => fwht(tensor(rand(12, 1), [2, 6])), /power-of-2 length/);
  }
  setBackend('wasm');
});
