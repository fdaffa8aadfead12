// Learning-rate schedules (Keras' CosineDecay / ExponentialDecay formulas) and gradient clipping (Keras' clipnorm, global_clipnorm).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../../src/core/ops/index.js';
import { setBackend, tidy } from '../../src/core/engine.js';
import { Adam, checkSchedule, createOptimizer, scheduledRate, SGD } from '../../src/optim/index.js';

setBackend('ref');

test('cosine decay: Keras values at the start, middle, end and past the end; alpha is the floor', () => {
  const s = checkSchedule({ name: 'cosine_decay', decaySteps: 100, alpha: 0.1 });
  assert.equal(scheduledRate(1, s, 0), 1);
  assert.ok(Math.abs(scheduledRate(1, s, 50) - (0.9 * 0.5 + 0.1)) < 1e-15);
  assert.ok(Math.abs(scheduledRate(2, s, 25) - 2 * (0.9 * 0.5 * (1 + Math.SQRT1_2) + 0.1)) < 1e-14);
  assert.ok(Math.abs(scheduledRate(1, s, 100) - 0.1) < 1e-15);
  assert.ok(Math.abs(scheduledRate(1, s, 1000) - 0.1) < 1e-15);
});

test('cosine decay with warm-up: linear from the base rate to warmupTarget, then the decay from there', () => {
  const s = checkSchedule({ name: 'cosine_decay', decaySteps: 10, warmupSteps: 4, warmupTarget: 1 });
  assert.deepEqual([0, 1, 2, 3, 4].map((t) => scheduledRate(0, s, t)), [0, 0.25, 0.5, 0.75, 1]);
  assert.ok(Math.abs(scheduledRate(0, s, 9) - 0.5) < 1e-15);
  assert.ok(Math.abs(scheduledRate(0, s, 14)) < 1e-15);
});

test('exponential decay, smooth and staircase', () => {
  const s = checkSchedule({ name: 'exponential_decay', decaySteps: 10, decayRate: 0.5 });
  assert.ok(Math.abs(scheduledRate(1, s, 5) - Math.SQRT1_2) < 1e-15);
  const st = checkSchedule({ name: 'exponential_decay', decaySteps: 10, decayRate: 0.5, staircase: true });
  assert.equal(scheduledRate(1, st, 9), 1);
  assert.equal(scheduledRate(1, st, 10), 0.5);
});

test('bad schedules are refused with the key and value named', () => {
  assert.throws(() => checkSchedule({ name: 'cosine' }), /unknown schedule 'cosine'/);
  assert.throws(() => checkSchedule({ name: 'cosine_decay', decaySteps: 0 }), /decaySteps must be a finite number > 0, got 0/);
  assert.throws(() => checkSchedule({ name: 'cosine_decay', decaySteps: 5, warmupSteps: 2 }), /warmupTarget/);
  assert.throws(() => checkSchedule({ name: 'exponential_decay', decaySteps: 5, decayRate: 0.5, alpha: 1 }), /no option 'alpha'/);
  assert.throws(() => createOptimizer({ name: 'adam', globalClipnorm: -1 }), /globalClipnorm must be a finite number > 0/);
  // Norms are float32: a bound above its largest value would overflow (and give NaN updates).
  assert.throws(() => createOptimizer({ name: 'adam', globalClipnorm: 3.5e38 }), /globalClipnorm must be at most 3\.4028234663852886e\+38 \(float32's largest\), got 3\.5e\+38/);
  assert.throws(() => createOptimizer({ name: 'sgd', clipnorm: 1e39 }), /clipnorm must be at most/);
});

test('SGD follows the schedule update by update (the first update uses step 0)', () => {
  const sched = { name: 'exponential_decay' as const, decaySteps: 1, decayRate: 0.5 };
  const opt = new SGD({ learningRate: 1, schedule: sched });
  const w = T.tensor([0], [1]);
  const seen: number[] = [];
  for (let i = 0; i < 4; i++) {
    assert.equal(opt.currentLearningRate(), Math.pow(0.5, i));
    tidy(() => opt.step([w], [T.tensor([-1], [1])]));
    seen.push(w.f32()[0]);
  }
  assert.deepEqual(seen, [1, 1.5, 1.75, 1.875]);
  assert.deepEqual(createOptimizer(opt.toJSON()).toJSON(), opt.toJSON());
});

test('global clipping scales every gradient by clip / max(global norm, clip); below the clip nothing changes', () => {
  // Gradients (3, 4) and (12): global norm 13. Clip 6.5 halves them; SGD lr 1 moves w by −g/2.
  const a = T.tensor([0, 0], [2]), b = T.tensor([0], [1]);
  const opt = new SGD({ learningRate: 1, globalClipnorm: 6.5 });
  tidy(() => opt.step([a, b], [T.tensor([3, 4], [2]), T.tensor([12], [1])]));
  assert.deepEqual([...a.f32(), ...b.f32()], [-1.5, -2, -6]);
  const big = new SGD({ learningRate: 1, globalClipnorm: 100 });
  tidy(() => big.step([a, b], [T.tensor([3, 4], [2]), T.tensor([12], [1])]));
  assert.deepEqual([...a.f32(), ...b.f32()], [-4.5, -6, -18]);
});

test('per-parameter clipnorm clips each gradient on its own; a shared parameter is clipped after its gradients are summed', () => {
  const a = T.tensor([0, 0], [2]), b = T.tensor([0], [1]);
  const opt = new SGD({ learningRate: 1, clipnorm: 1 });
  tidy(() => opt.step([a, b, a], [T.tensor([1.5, 2], [2]), T.tensor([0.5], [1]), T.tensor([1.5, 2], [2])]));
  assert.deepEqual([...a.f32(), ...b.f32()], [-0.6000000238418579, -0.800000011920929, -0.5]);
});

test('Adam with a schedule and clipping resumes exactly from its state (the schedule reads the iteration count)', () => {
  const cfg = { learningRate: 0.1, globalClipnorm: 0.5, schedule: { name: 'cosine_decay' as const, decaySteps: 6, warmupSteps: 2, warmupTarget: 0.2 } };
  const run = (resumeAt?: number): Float32Array => {
    let opt = new Adam(cfg);
    const w = T.tensor([1, -2, 3], [3]);
    for (let i = 0; i < 8; i++) {
      if (i === resumeAt) {
        const st = opt.getState([w]);
        opt.dispose();
        opt = new Adam(cfg);
        opt.setState(st, [w]);
      }
      tidy(() => opt.step([w], [T.mul(w, T.tensor([1, 2, 3], [3]))]));
    }
    return w.f32();
  };
  assert.deepEqual(run(3), run());
});
