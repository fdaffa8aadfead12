// Model.fit end to end: learning MNIST, bit-exact resume (epoch and mid-epoch), NaN stop, validation split, flat memory.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { memory } from '../../src/core/engine.js';
import { tensor } from '../../src/core/ops/index.js';
import type { Tensor } from '../../src/core/tensor.js';
import { loadDataset } from '../../src/data/index.js';
import { createModel, Dense, Dropout, Flatten, type Model, NonFiniteLossError, sequential } from '../../src/nn/index.js';
import { Adam, SGD } from '../../src/optim/index.js';
import { decodeCheckpoint, encodeCheckpoint, modelFromCheckpoint, modelToCheckpoint } from '../../src/io/index.js';
import { compareBits } from '../helpers/compare.js';
import { Rng } from '../helpers/random.js';

/** A small classification problem: 96 samples of 6 features, the label is the argmax of a fixed linear map. */
function toyData(n = 96, seed = 1): { x: Float32Array; y: Int32Array } {
  const rng = new Rng(seed);
  const x = rng.uniforms(n * 6, -1, 1);
  const w = rng.uniforms(6 * 3, -1, 1);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = -Infinity;
    for (let c = 0; c < 3; c++) {
      let s = 0;
      for (let j = 0; j < 6; j++) s += x[i * 6 + j] * w[j * 3 + c];
      if (s > best) [best, y[i]] = [s, c];
    }
  }
  return { x, y };
}

/** MLP 6-16-3 with dropout (so the per-step seed matters too), Adam (so the optimizer state matters). */
function mlp(): Model {
  const m = sequential([
    new Dense({ units: 16, activation: 'relu' }), new Dropout({ rate: 0.2 }), new Dense({ units: 3, activation: 'softmax' }),
  ], { inputShape: [6] }).build(4);
  m.compile({ optimizer: new Adam({ learningRate: 0.01 }), loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'] });
  return m;
}

/** Save → bytes → load, as `--resume` does. */
function roundTrip(m: Model): Model {
  return modelFromCheckpoint(decodeCheckpoint(encodeCheckpoint(modelToCheckpoint(m, { initSeed: 4 })))).model;
}

function assertSameWeights(actual: Model, expected: Model, label: string): void {
  const e = expected.getWeights();
  const a = actual.getWeights();
  assert.deepEqual([...a.keys()], [...e.keys()]);
  for (const [name, v] of e) {
    const cmp = compareBits(a.get(name)!, v);
    assert.equal(cmp.message, undefined, `${label}: ${name}: ${cmp.message}`);
  }
}

describe('fit', () => {
  test("the reference CNN learns MNIST: held-out accuracy far above chance after one epoch on 1,500 digits", async () => {
    const ds = loadDataset('mnist-sample');
    const nTrain = 1500;
    const nTest = 500;
    const px = 28 * 28;
    const x = { data: ds.xTrain.subarray(0, nTrain * px), shape: [nTrain, 28, 28, 1] };
    const y = { data: ds.yTrain.subarray(0, nTrain), shape: [nTrain] };
    const m = createModel('seed-cnn').build(0);
    m.compile({ optimizer: 'adam', loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'] });
    const t0 = Date.now();
    const h = await m.fit(x, y, { epochs: 1, batchSize: 32, seed: 0 });
    const r = m.evaluate({ data: ds.xTest.subarray(0, nTest * px), shape: [nTest, 28, 28, 1] }, { data: ds.yTest.subarray(0, nTest), shape: [nTest] }, { batchSize: 100 });
    const seconds = (Date.now() - t0) / 1000;
    assert.ok(h.history.loss[0] < Math.log(10), `training loss ${h.history.loss[0]} not below chance (${Math.log(10)})`);
    assert.ok(r.accuracy >= 0.7, `held-out accuracy ${r.accuracy} (chance 0.1), loss ${r.loss}, ${seconds.toFixed(1)} s`);
    m.dispose();
  });

  test('resuming from a checkpoint after epoch 1 gives bit-identical weights to an uninterrupted run', async () => {
    const { x, y } = toyData();
    const data = [{ data: x, shape: [96, 6] }, { data: y, shape: [96] }] as const;
    const opts = { batchSize: 16, seed: 3 };
    const straight = mlp();
    const h = await straight.fit(data[0], data[1], { ...opts, epochs: 2 });
    assert.deepEqual(h.epoch, [0, 1]);

    const first = mlp();
    await first.fit(data[0], data[1], { ...opts, epochs: 1 });
    const resumed = roundTrip(first);
    assert.equal(resumed.optimizer!.iterations, 6);
    const h2 = await resumed.fit(data[0], data[1], { ...opts, epochs: 2, initialEpoch: 1 });
    assert.deepEqual(h2.epoch, [1]);
    assert.equal(h2.history.loss[0], h.history.loss[1]);
    assertSameWeights(resumed, straight, 'resume after epoch 1');
    for (const m of [straight, first, resumed]) m.dispose();
  });

  test('resuming mid-epoch with initialStep after a callback stopped training gives bit-identical weights', async () => {
    const { x, y } = toyData();
    const data = [{ data: x, shape: [96, 6] }, { data: y, shape: [96] }] as const;
    const opts = { batchSize: 16, seed: 5 };
    const straight = mlp();
    const hs = await straight.fit(data[0], data[1], { ...opts, epochs: 2 });

    const first = mlp();
    const h = await first.fit(data[0], data[1], {
      ...opts, epochs: 2,
      callbacks: [{ onBatchEnd: (step) => { if (step === 3) first.stopTraining = true; } }],
    });
    assert.deepEqual({ epoch: h.stopped!.epoch, step: h.stopped!.step, seen: h.stopped!.partial.seen }, { epoch: 0, step: 4, seen: 64 });
    assert.deepEqual(h.epoch, [], 'an interrupted epoch is not logged');
    const resumed = roundTrip(first);
    assert.equal(resumed.optimizer!.iterations, 4);
    const steps: number[] = [];
    const h2 = await resumed.fit(data[0], data[1], {
      ...opts, epochs: 2, initialEpoch: h.stopped!.epoch, initialStep: h.stopped!.step, initialPartial: h.stopped!.partial,
      callbacks: [{ onBatchEnd: (s) => { steps.push(s); } }],
    });
    assert.deepEqual(steps, [4, 5, 0, 1, 2, 3, 4, 5]);
    assert.deepEqual(h2.epoch, [0, 1]);
    assert.deepEqual(h2.history, hs.history, 'with the partial sums, the resumed epoch logs the whole epoch');
    assertSameWeights(resumed, straight, 'resume mid-epoch');
    for (const m of [straight, first, resumed]) m.dispose();
  });

  test('a huge learning rate throws NonFiniteLossError and keeps the weights from before the failing step', async () => {
    const { x } = toyData(32);
    const m = sequential([new Dense({ units: 8, activation: 'relu' }), new Dense({ units: 2 })], { inputShape: [6] }).build(1);
    m.compile({ optimizer: new SGD({ learningRate: 1e6 }), loss: 'mse' });
    const target = new Rng(2).uniforms(64, -1, 1);
    let last = m.getWeights();
    let batches = 0;
    const err = await m.fit({ data: x, shape: [32, 6] }, { data: target, shape: [32, 2] }, {
      epochs: 50, batchSize: 8, shuffle: false,
      callbacks: [{ onBatchEnd: () => { last = m.getWeights(); batches++; } }],
    }).then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof NonFiniteLossError, `expected NonFiniteLossError, got ${String(err)}`);
    assert.ok(!Number.isFinite(err.value));
    assert.equal(err.epoch * 4 + err.step, batches, 'the failing batch follows the last completed one');
    assert.match(err.message, /loss became .* at epoch \d+, batch \d+/);
    for (const [name, v] of m.getWeights()) assert.equal(compareBits(v, last.get(name)!).message, undefined, name);
    m.dispose();
  });

  test('NaN or ±Infinity in array data, and negative or non-finite sample weights, are refused before training, naming the sample', async () => {
    const { x, y } = toyData(48);
    const m = mlp();
    const before = m.getWeights();
    const bad = x.slice();
    bad[5 * 6 + 3] = NaN;
    await assert.rejects(m.fit({ data: bad, shape: [48, 6] }, { data: y, shape: [48] }), /^ArgumentError: fit: x sample 5 holds NaN at \[3\]: training on it makes the loss NaN/);
    bad[5 * 6 + 3] = 0;
    bad[47 * 6] = -Infinity;
    await assert.rejects(m.fit({ data: x, shape: [48, 6] }, { data: y, shape: [48] }, { validationData: [{ data: bad, shape: [48, 6] }, { data: y, shape: [48] }] }),
      /fit: validation x sample 47 holds -Infinity at \[0\]/);
    const w = new Float32Array(48).fill(1);
    w[9] = -5;
    await assert.rejects(m.fit({ data: x, shape: [48, 6] }, { data: y, shape: [48] }, { sampleWeight: { data: w, shape: [48] } }), /fit: sampleWeight of sample 9 is -5: sample weights must be finite and ≥ 0/);
    w[9] = NaN;
    assert.throws(() => m.evaluate({ data: x, shape: [48, 6] }, { data: y, shape: [48] }, { sampleWeight: { data: w, shape: [48] } }), /evaluate: sampleWeight of sample 9 is NaN/);
    assert.equal(m.optimizer!.iterations, 0);
    for (const [name, v] of m.getWeights()) assert.equal(compareBits(v, before.get(name)!).message, undefined, name);
    m.dispose();
  });

  test('a NaN in the inputs (a tensor: not checked up front) stops at that batch with the weights of the previous step', async () => {
    const { x, y } = toyData(48);
    x[2 * 16 * 6 + 7] = NaN; // in batch 2 (no shuffling)
    const m = mlp();
    let last = m.getWeights();
    const xt = tensor(x, [48, 6]);
    const err = await m.fit(xt, { data: y, shape: [48] }, {
      epochs: 1, batchSize: 16, shuffle: false,
      callbacks: [{ onBatchEnd: () => { last = m.getWeights(); } }],
    }).then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof NonFiniteLossError, `expected NonFiniteLossError, got ${String(err)}`);
    assert.equal(err.epoch, 0);
    assert.equal(err.step, 2);
    assert.equal(m.optimizer!.iterations, 2, 'the failing step was not applied');
    assert.match(err.message, /try a lower learning rate, or look for NaN or infinite values in data given as tensors/);
    for (const [name, v] of m.getWeights()) assert.equal(compareBits(v, last.get(name)!).message, undefined, name);
    xt.dispose();
    m.dispose();
  });

  test('validationSplit reports val_loss and val_accuracy every epoch, on the last samples', async () => {
    const { x, y } = toyData();
    const m = mlp();
    const h = await m.fit({ data: x, shape: [96, 6] }, { data: y, shape: [96] }, { epochs: 3, batchSize: 16, validationSplit: 0.25 });
    assert.deepEqual(Object.keys(h.history).sort(), ['accuracy', 'loss', 'val_accuracy', 'val_loss']);
    for (const k of Object.keys(h.history)) assert.equal(h.history[k].length, 3, k);
    const tail = m.evaluate({ data: x.subarray(72 * 6), shape: [24, 6] }, { data: y.subarray(72), shape: [24] }, { batchSize: 16 });
    assert.ok(Math.abs(h.history.val_loss[2] - tail.loss) < 1e-6, `val_loss ${h.history.val_loss[2]} vs evaluate on the held-out 24: ${tail.loss}`);
    assert.equal(h.history.val_accuracy[2], tail.accuracy);
    let samples = 0;
    await m.fit({ data: x, shape: [96, 6] }, { data: y, shape: [96] }, {
      epochs: 1, batchSize: 16, validationSplit: 0.25, callbacks: [{ onTrainBegin: (i) => { samples = i.samples; } }],
    });
    assert.equal(samples, 72);
    m.dispose();
  });

  test('memory stays flat across fit, evaluate and predict', async () => {
    const { x, y } = toyData();
    const xt: Tensor = tensor(x, [96, 6]);
    const yt: Tensor = tensor(y, [96], 'int32');
    const m = mlp();
    await m.fit(xt, yt, { epochs: 1, batchSize: 32 }); // creates Adam's slots once
    const before = memory().tensors;
    await m.fit(xt, yt, { epochs: 2, batchSize: 16, validationSplit: 0.2 });
    await m.fit({ data: x, shape: [96, 6] }, { data: y, shape: [96] }, { epochs: 1, batchSize: 40 });
    m.evaluate(xt, yt, { batchSize: 20 });
    m.predict(xt, { batchSize: 7 }).dispose();
    assert.equal(memory().tensors, before, 'live tensors after fit + evaluate + predict');
    m.dispose();
    xt.dispose();
    yt.dispose();
  });
});

describe('fit options', () => {
  test('the same seed gives the same run; flattening MLP input from images works', async () => {
    const run = async (seed: number): Promise<Map<string, Float32Array>> => {
      const m = sequential([new Flatten(), new Dense({ units: 3, activation: 'softmax' })], { inputShape: [2, 3] }).build(0);
      m.compile({ optimizer: 'adam', loss: 'sparse_categorical_crossentropy' });
      const { x, y } = toyData();
      await m.fit({ data: x, shape: [96, 2, 3] }, { data: y, shape: [96] }, { epochs: 2, batchSize: 10, seed });
      const w = m.getWeights();
      m.dispose();
      return w;
    };
    const [a, b, c] = [await run(1), await run(1), await run(2)];
    for (const [k, v] of a) {
      assert.equal(compareBits(b.get(k)!, v).message, undefined, k);
      assert.ok(c.get(k)!.some((z, i) => z !== v[i]), `${k}: another shuffle seed, another run`);
    }
  });
});
