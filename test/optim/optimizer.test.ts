// Optimizer contract: shared parameters stepped once, convergence, no memory growth, exact resume, factory; and assign().
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../../src/core/ops/index.js';
import { memory, setBackend, tidy } from '../../src/core/engine.js';
import { valueAndGrads } from '../../src/core/tape.js';
import { assign, type Tensor } from '../../src/core/tensor.js';
import { DTypeError, ShapeError } from '../../src/core/errors.js';
import { Adam, AdamW, createOptimizer, type Optimizer, type OptimizerConfig, type OptimizerState, SGD } from '../../src/optim/index.js';
import { assertClose } from './reference.js';

const NAMES: OptimizerConfig[] = [
  { name: 'sgd', learningRate: 0.05, momentum: 0.9, nesterov: true },
  { name: 'adam', learningRate: 0.05 },
  { name: 'adamw', learningRate: 0.05, weightDecay: 0.001 },
];

/** Least squares ‖Xw − y‖²/n on fixed data with a known solution. */
function problem() {
  const n = 16;
  const xs: number[] = [];
  const ys: number[] = [];
  const wTrue = [1.5, -2, 0.5];
  for (let i = 0; i < n; i++) {
    const row = [Math.sin(i + 1), Math.cos(2 * i), ((i % 5) - 2) / 2];
    xs.push(...row);
    ys.push(row.reduce((s, v, j) => s + v * wTrue[j], 0));
  }
  return { x: T.tensor(xs, [n, 3]), y: T.tensor(ys, [n, 1]), wTrue };
}

/** The state after a trip through JSON (Float32Arrays as plain arrays), as a checkpoint would store it. */
function viaJSON(s: OptimizerState): OptimizerState {
  const text = JSON.stringify(s, (_, v: unknown) => (v instanceof Float32Array ? Array.from(v) : v));
  return JSON.parse(text, (_, v: unknown) => (Array.isArray(v) ? Float32Array.from(v as number[]) : v)) as OptimizerState;
}

function lossStep(opt: Optimizer, w: Tensor, x: Tensor, y: Tensor): number {
  return tidy(() => {
    const { value, grads } = valueAndGrads(() => T.meanSquaredError(T.matmul(x, w), y), [w]);
    opt.step([w], grads);
    return value.item();
  });
}

for (const backend of ['ref', 'wasm'] as const) {
  test(`assign writes in place, through views, and checks shape and dtype (${backend})`, () => {
    setBackend(backend);
    const before = memory();
    const t = T.zeros([2, 3]);
    const v = T.reshape(t, [6]);
    const src = T.tensor([1, 2, 3, 4, 5, 6], [2, 3]);
    assert.equal(assign(t, src), t);
    assert.deepEqual(Array.from(v.f32()), [1, 2, 3, 4, 5, 6]);
    assert.throws(() => assign(t, v), (e: unknown) => e instanceof ShapeError && /\[2,3\].*\[6\]/.test(e.message));
    const i = T.tensor(new Int32Array(6), [2, 3]);
    assert.throws(() => assign(t, i), DTypeError);
    for (const x of [t, v, src, i]) x.dispose();
    assert.deepEqual(memory(), before);
  });

  for (const cfg of NAMES) {
    test(`${cfg.name}: a shared parameter is stepped once with the summed gradient (${backend})`, () => {
      setBackend(backend);
      const w = T.tensor([1, -2, 3], [3]);
      const w2 = T.tensor([1, -2, 3], [3]);
      const g1 = T.tensor([0.5, 1, -1], [3]);
      const g2 = T.tensor([0.25, -3, 2], [3]);
      const shared = createOptimizer(cfg);
      const single = createOptimizer(cfg);
      for (let s = 0; s < 3; s++) {
        shared.step([w, w, w], [g1, g2, g1]);
        tidy(() => single.step([w2], [T.add(T.add(g1, g2), g1)]));
        assertClose(w.f32(), w2.f32(), `${cfg.name} step ${s}`, 1e-6, 1e-7);
      }
      assert.equal(shared.getState([w]).steps['0'], 3);
      for (const x of [w, w2, g1, g2]) x.dispose();
      shared.dispose();
      single.dispose();
    });

    test(`${cfg.name}: least squares converges; memory does not grow over 200 steps (${backend})`, () => {
      setBackend(backend);
      const { x, y, wTrue } = problem();
      const w = T.zeros([3, 1]);
      const opt = createOptimizer(cfg);
      const first = lossStep(opt, w, x, y);
      lossStep(opt, w, x, y);
      const mid = memory();
      let last = first;
      for (let s = 0; s < 200; s++) last = lossStep(opt, w, x, y);
      assert.deepEqual(memory(), mid, 'memory grew during training');
      for (let s = 0; s < 600; s++) last = lossStep(opt, w, x, y);
      assert.ok(last < 1e-4 * first, `loss ${first} → ${last}`);
      assertClose(w.f32(), wTrue, `${cfg.name} solution`, 0.02, 0.02);
      opt.dispose();
      for (const t of [x, y, w]) t.dispose();
    });

    test(`${cfg.name}: getState/setState resumes identically (${backend})`, () => {
      setBackend(backend);
      const { x, y } = problem();
      const a = T.zeros([3, 1]);
      const optA = createOptimizer(cfg);
      for (let s = 0; s < 5; s++) lossStep(optA, a, x, y);
      const saved = optA.getState([a], ['w']);
      const savedW = a.f32();
      assert.equal(saved.iterations, 5);
      assert.equal(saved.steps.w, 5);
      for (let s = 0; s < 5; s++) lossStep(optA, a, x, y);
      // A fresh parameter and optimizer, as after loading a checkpoint.
      const b = T.tensor(savedW, [3, 1]);
      const optB = createOptimizer(optA.toJSON());
      optB.setState(viaJSON(saved), [b], ['w']);
      for (let s = 0; s < 5; s++) lossStep(optB, b, x, y);
      assert.deepEqual(Array.from(b.f32()), Array.from(a.f32()));
      assert.equal(optB.iterations, 10);
      optA.dispose();
      optB.dispose();
      for (const t of [x, y, a, b]) t.dispose();
    });
  }
}

test('createOptimizer: Keras names, defaults, toJSON round trip, errors', () => {
  const adam = createOptimizer('Adam');
  assert.ok(adam instanceof Adam && !(adam instanceof AdamW));
  assert.deepEqual(adam.toJSON(), { name: 'adam', learningRate: 0.001, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 });
  assert.deepEqual(createOptimizer('sgd').toJSON(), { name: 'sgd', learningRate: 0.01, momentum: 0, nesterov: false });
  assert.deepEqual(createOptimizer('adamw').toJSON(), { name: 'adamw', learningRate: 0.001, beta1: 0.9, beta2: 0.999, epsilon: 1e-7, weightDecay: 0.01 });
  const sgd = new SGD({ learningRate: 0.3, momentum: 0.5, nesterov: true });
  assert.deepEqual(createOptimizer(sgd.toJSON()).toJSON(), sgd.toJSON());
  assert.throws(() => createOptimizer('rmsprop'), /unknown optimizer 'rmsprop'/);
  assert.throws(() => createOptimizer({ name: 'adam', momentum: 0.9 }), /no option 'momentum'/);
  assert.throws(() => new SGD({ nesterov: true }), RangeError);
  assert.throws(() => new Adam({ beta1: 1 }), RangeError);
  assert.throws(() => new Adam({ learningRate: -1 }), RangeError);
});

test('step rejects mismatched lists and shapes', () => {
  setBackend('ref');
  const p = T.zeros([2]);
  const g = T.zeros([3]);
  const opt = new SGD();
  assert.throws(() => opt.step([p], []), ShapeError);
  assert.throws(() => opt.step([p], [g]), /parameter 0 has shape \[2\] but its gradient \[3\]/);
  p.dispose();
  g.dispose();
});
