// The lowRankDelta map: W[s] = W₀ + A[s]·B[s] against a float64 computation, its start at W₀, rank 0, gradients, specs and errors.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { memory, setBackend, tidy } from '../../src/core/engine.js';
import { randomUniform } from '../../src/core/ops/index.js';
import type { Tensor } from '../../src/core/tensor.js';
import { createMap, LowRankDeltaMap, parseMapSpec, SharingError } from '../../src/sharing/index.js';
import { compareBits } from '../helpers/compare.js';
import { checkMapGradient } from '../helpers/gradcheck.js';
import { Rng } from '../helpers/random.js';

const ctx = (shape: number[], seed = 5) => ({
  layer: 'rnn', weight: 'recurrentKernel', shape, initializer: 'orthogonal', seed,
  init: (s: readonly number[], sd: number) => randomUniform(s, { seed: sd, min: -0.5, max: 0.5 }),
});

const values = (t: Tensor): Float32Array => t.f32();
const materialized = (m: LowRankDeltaMap): Float32Array => {
  let w: Float32Array = new Float32Array(0);
  tidy(() => {
    w = m.materialize().f32();
  });
  return w;
};

for (const backend of ['ref', 'wasm'] as const) {
  test(`lowRankDelta (${backend}): every slice starts at W₀, the initialiser's draw for one slice; θ sizes; stats`, () => {
    setBackend(backend);
    const before = memory().tensors;
    const m = createMap('lowRankDelta:2', ctx([3, 4, 6])) as LowRankDeltaMap;
    assert.ok(m instanceof LowRankDeltaMap);
    const [base, a, b] = m.parameters();
    assert.deepEqual([base.name, a.name, b.name], ['base', 'a', 'b']);
    assert.deepEqual([base.value.shape, a.value.shape, b.value.shape], [[4, 6], [3, 4, 2], [3, 2, 6]]);
    const draw = ctx([4, 6]).init([4, 6], 5);
    assert.equal(compareBits(values(base.value), values(draw)).message, undefined, 'W₀ = the initialiser at the weight seed');
    draw.dispose();
    assert.ok(values(b.value).every((v) => v === 0), 'B starts at zero');
    // A: truncated normal with sd 1/√r, so |A| ≤ 2/√r and its sample sd is near 1/√2 ≈ 0.71 (24 draws: allow ±0.3).
    const av = values(a.value);
    assert.ok(av.every((v) => Math.abs(v) <= 2 / Math.sqrt(2) + 1e-6), 'A within ±2/√r');
    const sd = Math.sqrt(av.reduce((s, v) => s + v * v, 0) / av.length);
    assert.ok(Math.abs(sd - 1 / Math.sqrt(2)) < 0.3, `A's sd ${sd}`);
    const w = materialized(m);
    const w0 = values(base.value);
    for (let s = 0; s < 3; s++) assert.equal(compareBits(w.subarray(s * 24, s * 24 + 24), w0).message, undefined, `slice ${s} = W₀`);
    assert.deepEqual(m.stats(), { virtual: 72, free: 24 + 3 * 2 * (4 + 6), bits: 32 * (24 + 3 * 2 * (4 + 6)) });
    assert.deepEqual(m.toJSON(), { kind: 'lowRankDelta', rank: 2 });
    m.dispose();
    assert.equal(memory().tensors, before, 'tensors leaked');
  });

  test(`lowRankDelta (${backend}): W[s] = W₀ + A[s]·B[s] (float64 reference) and its gradients (finite differences)`, () => {
    setBackend(backend);
    const [s, rows, cols, r] = [3, 5, 4, 2];
    const m = createMap({ kind: 'lowRankDelta', rank: r }, ctx([s, rows, cols])) as LowRankDeltaMap;
    const [base, a, b] = m.parameters().map((p) => p.value);
    const rng = new Rng(21);
    b.backend.write(b.buf, rng.uniforms(b.size, -1, 1));
    const [w0, av, bv] = [base, a, b].map(values);
    const w = materialized(m);
    for (let k = 0; k < s; k++) {
      for (let i = 0; i < rows; i++) {
        for (let j = 0; j < cols; j++) {
          let want = w0[i * cols + j];
          for (let q = 0; q < r; q++) want += av[(k * rows + i) * r + q] * bv[(k * r + q) * cols + j];
          const got = w[(k * rows + i) * cols + j];
          assert.ok(Math.abs(got - want) <= 1e-6 * (1 + Math.abs(want)), `W[${k}][${i}][${j}] = ${got}, want ${want}`);
        }
      }
    }
    checkMapGradient(m);
    m.dispose();
  });
}

test('lowRankDelta rank 0: W₀ alone, the same in every slice; a weight [S, C] has slices [1, C]', () => {
  setBackend('wasm');
  const m = createMap('lowRankDelta:0', ctx([4, 3, 5])) as LowRankDeltaMap;
  assert.equal(m.parameters().length, 1);
  assert.deepEqual(m.stats(), { virtual: 60, free: 15, bits: 480 });
  const w = materialized(m);
  const w0 = values(m.parameters()[0].value);
  for (let s = 0; s < 4; s++) assert.equal(compareBits(w.subarray(s * 15, s * 15 + 15), w0).message, undefined, `slice ${s}`);
  checkMapGradient(m);
  m.dispose();
  const v = createMap('lowRankDelta:1', ctx([3, 7])) as LowRankDeltaMap;
  assert.deepEqual(v.parameters().map((p) => p.value.shape), [[7], [3, 1, 1], [3, 1, 7]]);
  checkMapGradient(v);
  v.dispose();
});

test('lowRankDelta specs and errors: the short form names the rank; bad ranks and shapes fail naming the layer and the range', () => {
  assert.deepEqual(parseMapSpec('lowRankDelta:4'), { kind: 'lowRankDelta', rank: 4 });
  const fails = (spec: string, shape: number[], re: RegExp): void => {
    assert.throws(() => createMap(spec, ctx(shape)), (e: unknown) => e instanceof SharingError && re.test((e as Error).message), `${spec} on [${shape}]`);
  };
  fails('lowRankDelta:5', [3, 4, 8], /^layer 'rnn' recurrentKernel, scheme 'lowRankDelta': rank must be an integer in \[0, 4\] for slices \[4, 8\], got 5$/);
  fails('lowRankDelta:1.5', [3, 4, 8], /rank must be an integer in \[0, 4\] for slices \[4, 8\], got 1.5/);
  fails('lowRankDelta:rank=-1', [3, 4, 8], /got -1/);
  fails('lowRankDelta', [3, 4, 8], /got undefined/);
  fails('lowRankDelta:1', [12], /needs a stack of matrices \[S, …\] \(rank ≥ 2\), got a weight of shape \[12\]/);
});
