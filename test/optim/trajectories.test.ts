// Each optimizer's trajectory vs a float64 implementation of its documented rule and vs PyTorch 1.13 fixtures.
import { test } from 'node:test';
import * as T from '../../src/core/ops/index.js';
import { memory, setBackend, tidy } from '../../src/core/engine.js';
import { valueAndGrads } from '../../src/core/tape.js';
import { createOptimizer, type OptimizerConfig } from '../../src/optim/index.js';
import { assertClose, optimFixture, QUAD, quadGrad, refOptimizer, ulps } from './reference.js';
import assert from 'node:assert/strict';

const CONFIGS: OptimizerConfig[] = [
  { name: 'sgd', learningRate: 0.1 },
  { name: 'sgd', learningRate: 0.1, momentum: 0.9 },
  { name: 'sgd', learningRate: 0.05, momentum: 0.8, nesterov: true },
  { name: 'adam', learningRate: 0.01 },
  { name: 'adam', learningRate: 0.1, beta1: 0.5, beta2: 0.9, epsilon: 1e-7 },
  { name: 'adamw', learningRate: 0.01, weightDecay: 0.01 },
  { name: 'adamw', learningRate: 0.1, beta1: 0.8, beta2: 0.95, weightDecay: 0.5 },
];
const STEPS = 6;

for (const backend of ['ref', 'wasm'] as const) {
  for (const cfg of CONFIGS) {
    test(`${JSON.stringify(cfg)} on a quadratic matches the float64 rule (${backend})`, () => {
      setBackend(backend);
      const before = memory();
      const opt = createOptimizer(cfg);
      const p = T.tensor(QUAD.p0, QUAD.shape);
      const a = T.tensor(QUAD.a, QUAD.shape);
      const c = T.tensor(QUAD.c, QUAD.shape);
      const ref = refOptimizer(cfg);
      let q = [...QUAD.p0];
      for (let s = 1; s <= STEPS; s++) {
        tidy(() => {
          const { grads } = valueAndGrads(() => T.mul(T.sum(T.mul(a, T.square(T.sub(p, c)))), 0.5), [p]);
          opt.step([p], grads);
        });
        q = ref(q, quadGrad(q));
        assertClose(p.f32(), q, `${cfg.name} step ${s}`);
      }
      opt.dispose();
      for (const t of [p, a, c]) t.dispose();
      assert.deepEqual(memory(), before);
    });
  }

  test(`optimizers match PyTorch 1.13 trajectories with given gradients (${backend})`, () => {
    setBackend(backend);
    const fx = optimFixture();
    for (const k of fx.cases) {
      const cfg = { name: k.optimizer, ...k.config } as OptimizerConfig;
      const opt = createOptimizer(cfg);
      const p = T.tensor(fx.param, fx.shape);
      const ref = refOptimizer(cfg);
      let q = [...fx.param];
      k.trajectory.forEach((expected, s) => {
        tidy(() => opt.step([p], [T.tensor(fx.grads[s], fx.shape)]));
        q = ref(q, fx.grads[s]);
        assertClose(p.f32(), expected, `${JSON.stringify(cfg)} vs torch, step ${s + 1}`);
        assertClose(q, expected, `float64 rule ${JSON.stringify(cfg)} vs torch, step ${s + 1}`, 1e-12, 1e-14);
      });
      opt.dispose();
      p.dispose();
    }
  });
}

for (const backend of ['ref', 'wasm'] as const) {
  test(`Adam and AdamW in float32 match PyTorch 1.13's float32 trajectories bit for bit over 40 steps (${backend})`, () => {
    setBackend(backend);
    const fx = optimFixture().float32;
    for (const k of fx.cases) {
      const cfg = { name: k.optimizer, ...k.config } as OptimizerConfig;
      const opt = createOptimizer(cfg);
      const p = T.tensor(fx.param, [fx.param.length]);
      k.trajectory.forEach((expected, s) => {
        tidy(() => opt.step([p], [T.tensor(fx.grads[s], [fx.param.length])]));
        const got = p.f32();
        const worst = Math.max(...expected.map((e, i) => ulps(got[i], e)));
        assert.equal(worst, 0, `${JSON.stringify(cfg)} vs torch float32, step ${s + 1}: ${worst} ulps apart`);
      });
      assert.ok(k.trajectory.length >= 30);
      opt.dispose();
      p.dispose();
    }
  });
}
