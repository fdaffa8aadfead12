// EarlyStopping (Keras semantics): patience, minDelta, mode, baseline, restoring the best weights, inside fit, and resuming exactly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Dense, EarlyStopping, type Model, sequential } from '../../src/nn/index.js';
import { Adam } from '../../src/optim/index.js';
import { Rng } from '../helpers/random.js';

function net(): Model {
  const m = sequential([new Dense({ units: 8, activation: 'relu' }), new Dense({ units: 3, activation: 'softmax' })], { inputShape: [4] }).build(2);
  m.compile({ optimizer: new Adam({ learningRate: 0.05 }), loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'] });
  return m;
}

/** Drives the callback by hand with scripted epoch logs; before each epoch the weights are set to the epoch number. */
function script(es: EarlyStopping, m: Model, values: number[], key = 'val_loss'): number[] {
  es.setModel(m);
  m.stopTraining = false;
  es.onTrainBegin();
  const ran: number[] = [];
  for (let e = 0; e < values.length && !m.stopTraining; e++) {
    m.setWeights(new Map([...m.getWeights()].map(([k, v]) => [k, v.fill(e)])));
    ran.push(e);
    es.onEpochEnd(e, { loss: 1, [key]: values[e] });
  }
  return ran;
}

const kernel = (m: Model): number => m.getWeights().get('dense/kernel')![0];

test('stops after `patience` epochs without improvement and restores the best epoch\'s weights', () => {
  const m = net();
  const es = new EarlyStopping({ patience: 2, restoreBestWeights: true });
  assert.deepEqual(script(es, m, [1.0, 0.8, 0.85, 0.9, 0.7]), [0, 1, 2, 3]);
  assert.deepEqual(es.getState(), { best: 0.8, bestEpoch: 1, wait: 2, stoppedEpoch: 3 });
  assert.ok(es.stopped && m.stopTraining);
  assert.equal(kernel(m), 1, 'weights of epoch 1 restored');
  // Without restoreBestWeights the last weights stay; the same callback resets for the next fit.
  const keep = new EarlyStopping({ patience: 2 });
  script(keep, m, [1.0, 0.8, 0.85, 0.9]);
  assert.equal(kernel(m), 3);
  assert.deepEqual(script(keep, m, [1.0, 0.9, 0.8, 0.7]), [0, 1, 2, 3]);
  assert.equal(keep.stopped, false);
  m.dispose();
});

test('minDelta, mode (auto is max for accuracy), baseline, patience 0, and a missing log', () => {
  const m = net();
  // Improvements smaller than minDelta do not count.
  assert.deepEqual(script(new EarlyStopping({ patience: 1, minDelta: 0.1 }), m, [1.0, 0.95, 0.92, 0.5]), [0, 1]);
  // val_accuracy: higher is better.
  const acc = new EarlyStopping({ monitor: 'val_accuracy', patience: 1 });
  assert.equal(acc.mode, 'max');
  assert.deepEqual(script(acc, m, [0.5, 0.6, 0.7, 0.65, 0.9], 'val_accuracy'), [0, 1, 2, 3]);
  assert.equal(acc.getState().best, 0.7);
  // A baseline: improving on the best so far does not reset the counter unless it also beats the baseline.
  assert.deepEqual(script(new EarlyStopping({ patience: 2, baseline: 0.5 }), m, [0.9, 0.8, 0.85, 0.4]), [0, 1, 2]);
  assert.deepEqual(script(new EarlyStopping({ patience: 2 }), m, [0.9, 0.8, 0.85, 0.4]), [0, 1, 2, 3]);
  // patience 0: the first epoch without improvement stops (never the first epoch).
  assert.deepEqual(script(new EarlyStopping(), m, [1.0, 1.0, 0.5]), [0, 1]);
  assert.throws(() => script(new EarlyStopping(), m, [1.0], 'loss'), /EarlyStopping: the epoch logs have no 'val_loss' \(they have loss\); fit needs validationSplit or validationData/);
  assert.throws(() => new EarlyStopping({ patience: -1 }), /patience must be a non-negative integer/);
  assert.throws(() => new EarlyStopping({ mode: 'up' as 'min' }), /mode must be 'auto', 'min' or 'max'/);
  m.dispose();
});

test('inside fit: stops training early, and a run resumed from its state ends exactly like an uninterrupted one', async () => {
  const rng = new Rng(3);
  const n = 120;
  const x = rng.uniforms(n * 4, -1, 1);
  const y = Int32Array.from({ length: n }, (_, i) => (x[i * 4] + x[i * 4 + 1] > 0 ? (x[i * 4 + 2] > 0 ? 2 : 1) : 0));
  const data = { data: x, shape: [n, 4] }, labels = { data: y, shape: [n] };
  // Nothing improves by 10: stopped after the second epoch (index 1) of 6.
  const m0 = net();
  const h0 = await m0.fit(data, labels, { epochs: 6, batchSize: 16, seed: 1, validationSplit: 0.25, callbacks: [new EarlyStopping({ monitor: 'loss', minDelta: 10 })] });
  assert.deepEqual(h0.epoch, [0, 1]);
  assert.equal(h0.stopped, undefined, 'an early stop is not an interruption');
  m0.dispose();

  const opts = (es: EarlyStopping) => ({ epochs: 20, batchSize: 16, seed: 1, validationSplit: 0.25, callbacks: [es] });
  const make = () => new EarlyStopping({ patience: 2, minDelta: 0.02, restoreBestWeights: true });
  const whole = net();
  const esWhole = make();
  const hw = await whole.fit(data, labels, opts(esWhole));
  // val_loss 0.687 … 0.151 (epoch 6), 0.146, 0.163: no gain of 0.02 for two epochs → stopped after epoch 8, epoch 6's weights back.
  assert.deepEqual(hw.epoch, [0, 1, 2, 3, 4, 5, 6, 7, 8]);
  const st = esWhole.getState();
  assert.deepEqual([st.bestEpoch, st.wait, st.stoppedEpoch], [6, 2, 8]);
  assert.ok(Math.abs(st.best! - hw.history.val_loss[6]) < 1e-12);
  // The same run stopped after 5 epochs (as a Ctrl-C would), then continued from the callback's state and best weights.
  const part = net();
  const esPart = make();
  let left = 5;
  await part.fit(data, labels, { ...opts(esPart), callbacks: [esPart, { onEpochEnd: () => { if (--left === 0) part.stopTraining = true; } }] });
  assert.equal(esPart.stopped, false);
  const esNext = make();
  esNext.setState(esPart.getState(), esPart.bestWeights());
  await part.fit(data, labels, { ...opts(esNext), initialEpoch: 5 });
  assert.deepEqual(esNext.getState(), esWhole.getState());
  for (const [k, v] of whole.getWeights()) assert.deepEqual(part.getWeights().get(k), v, k);
  whole.dispose();
  part.dispose();
});
