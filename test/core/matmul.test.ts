// Batched matmul over rank ≥ 3 ([B, H, M, K] · [B, H, K, N]): values on both backends against per-matrix float64 products, broadcasting, errors.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { memory, setBackend, tidy } from '../../src/core/engine.js';
import { ShapeError } from '../../src/core/errors.js';
import { matmul, tensor } from '../../src/core/ops/index.js';
import { compareClose, scaledTol } from '../helpers/compare.js';
import { Rng } from '../helpers/random.js';

/** Row-major values of op(x) for matrix `i` of x [..., r, c] (batch of one when x holds a single matrix). */
function matrixAt(x: Float32Array, shape: number[], i: number, trans: boolean): (r: number, c: number) => number {
  const [rows, cols] = shape.slice(-2);
  const count = shape.slice(0, -2).reduce((a, b) => a * b, 1);
  const base = (count === 1 ? 0 : i) * rows * cols;
  return trans ? (r, c) => x[base + c * cols + r] : (r, c) => x[base + r * cols + c];
}

/** Σ_k op(a)[i,k]·op(b)[k,j] per batch matrix in float64, and Σ |terms| (the scale of each sum's rounding). */
function reference(a: Float32Array, as: number[], b: Float32Array, bs: number[], ta: boolean, tb: boolean, batch: number) {
  const m = ta ? as[as.length - 1] : as[as.length - 2];
  const k = ta ? as[as.length - 2] : as[as.length - 1];
  const n = tb ? bs[bs.length - 2] : bs[bs.length - 1];
  const y = new Float64Array(batch * m * n);
  const scale = new Float64Array(batch * m * n);
  for (let p = 0; p < batch; p++) {
    const A = matrixAt(a, as, p, ta);
    const B = matrixAt(b, bs, p, tb);
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0, t = 0;
        for (let q = 0; q < k; q++) {
          s += A(i, q) * B(q, j);
          t += Math.abs(A(i, q) * B(q, j));
        }
        y[(p * m + i) * n + j] = s;
        scale[(p * m + i) * n + j] = t;
      }
    }
  }
  return { y, scale };
}

const CASES: { a: number[]; b: number[]; ta?: boolean; tb?: boolean; out: number[] }[] = [
  { a: [2, 3, 5, 7], b: [2, 3, 7, 4], out: [2, 3, 5, 4] },
  { a: [3, 4, 17, 9], b: [3, 4, 13, 9], tb: true, out: [3, 4, 17, 13] },
  { a: [2, 2, 9, 6], b: [2, 2, 9, 5], ta: true, out: [2, 2, 6, 5] },
  { a: [2, 1, 3, 1, 4], b: [2, 1, 3, 4, 1], out: [2, 1, 3, 1, 1] },
  { a: [2, 3, 6, 5], b: [5, 7], out: [2, 3, 6, 7] },
  { a: [6, 5], b: [2, 3, 5, 7], tb: false, out: [2, 3, 6, 7] },
  { a: [1, 1, 6, 5], b: [2, 3, 7, 5], tb: true, ta: false, out: [2, 3, 6, 7] },
  { a: [1, 4, 5], b: [2, 3, 5, 4], ta: true, tb: true, out: [2, 3, 5, 5] },
];

for (const backend of ['ref', 'wasm'] as const) {
  describe(`matmul over rank ≥ 3 (${backend})`, () => {
    test('each batch matrix is its own product, transposed or broadcast, within 4 ulps of Σ|terms|', () => {
      setBackend(backend);
      const before = memory().tensors;
      const rng = new Rng(12);
      for (const c of CASES) {
        const a = rng.normals(c.a.reduce((x, y) => x * y, 1));
        const b = rng.normals(c.b.reduce((x, y) => x * y, 1));
        tidy(() => {
          const y = matmul(tensor(a, c.a), tensor(b, c.b), c.ta, c.tb);
          assert.deepEqual(y.shape, c.out, `${c.a} · ${c.b}: shape`);
          const batch = c.out.slice(0, -2).reduce((x, z) => x * z, 1);
          const r = reference(a, c.a, b, c.b, c.ta ?? false, c.tb ?? false, batch);
          const cmp = compareClose(y.f32(), Float32Array.from(r.y), scaledTol(r.scale, 4 * 2 ** -23, 1e-30));
          assert.equal(cmp.message, undefined, `[${c.a}]${c.ta ? 'ᵀ' : ''} · [${c.b}]${c.tb ? 'ᵀ' : ''}: ${cmp.message}`);
        });
      }
      assert.equal(memory().tensors, before, 'tensors leaked');
    });
  });
}

describe('matmul batch errors', () => {
  test('leading axes that are neither equal nor a single matrix are refused, naming both shapes', () => {
    setBackend('ref');
    tidy(() => {
      const z = (s: number[]) => tensor(new Float32Array(s.reduce((a, b) => a * b, 1)), s);
      for (const [a, b] of [[[2, 3, 4, 5], [3, 2, 5, 4]], [[2, 1, 4, 5], [1, 3, 5, 4]], [[2, 3, 4, 5], [3, 5, 4]]]) {
        assert.throws(() => matmul(z(a), z(b)), (e: Error) => e instanceof ShapeError && e.message.includes(`[${a.join(',')}]`) && e.message.includes(`[${b.join(',')}]`) && /batch dimensions differ/.test(e.message));
      }
      assert.throws(() => matmul(z([4]), z([4, 2])), /operands must have rank ≥ 2, got \[4\] and \[4,2\]/);
    });
  });
});
