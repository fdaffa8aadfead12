// Keras weight regularizers: penalty values, the loss of evaluate and fit, the gradient step, save/load, bad factors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tidy } from '../../src/core/engine.js';
import { tensor } from '../../src/core/ops/index.js';
import { modelFromCheckpoint, modelToCheckpoint } from '../../src/io/model-file.js';
import { Conv2D, Dense, Flatten, penalty, regularizer, sequential, type Model } from '../../src/nn/index.js';
import { SGD } from '../../src/optim/index.js';

const w = [0.5, -1.5, 2, 0, -0.25, 1];

test('l1, l2, l1l2: Keras factors (default 0.01) and penalty l1·Σ|w| + l2·Σw² (rel 1e-6)', () => {
  assert.deepEqual(regularizer('l2', 'x'), { kind: 'l2', l1: 0, l2: 0.01 });
  assert.deepEqual(regularizer('l1:0.5', 'x'), { kind: 'l1', l1: 0.5, l2: 0 });
  assert.deepEqual(regularizer('l1l2', 'x'), { kind: 'l1l2', l1: 0.01, l2: 0.01 });
  assert.deepEqual(regularizer('l1_l2:0.001:0.002', 'x'), { kind: 'l1l2', l1: 0.001, l2: 0.002 });
  assert.deepEqual(regularizer({ l2: 1e-4 }, 'x'), { kind: 'l2', l1: 0, l2: 1e-4 });
  const sumAbs = w.reduce((s, v) => s + Math.abs(v), 0), sumSq = w.reduce((s, v) => s + v * v, 0);
  const value = (spec: string): number => tidy(() => penalty(regularizer(spec, 'x'), tensor(w, [2, 3])).item());
  const close = (a: number, b: number): void => assert.ok(Math.abs(a - b) <= 1e-6 * Math.abs(b), `${a} vs ${b}`);
  close(value('l2:0.01'), 0.01 * sumSq);
  close(value('l1:0.3'), 0.3 * sumAbs);
  close(value('l1l2:0.3:0.01'), 0.3 * sumAbs + 0.01 * sumSq);
});

test('bad regularizers: negative or non-finite factors and unknown names are one-line errors naming the layer and option', () => {
  const bad = (o: object, re: RegExp): void => assert.throws(() => new Dense({ units: 2, name: 'd', ...o }), (e: Error) => re.test(e.message) && !e.message.includes('\n'));
  bad({ kernelRegularizer: 'l2:-0.1' }, /^layer 'd' kernelRegularizer: l2 must be a finite number ≥ 0, got -0\.1$/);
  bad({ kernelRegularizer: { l1: Infinity } }, /^layer 'd' kernelRegularizer: l1 must be a finite number ≥ 0, got Infinity$/);
  bad({ kernelRegularizer: { l2: NaN } }, /^layer 'd' kernelRegularizer: l2 must be a finite number ≥ 0, got NaN$/);
  bad({ biasRegularizer: 'l2:abc' }, /^layer 'd' biasRegularizer: l2 must be a finite number ≥ 0, got "abc"$/);
  bad({ kernelRegularizer: 'l3' }, /^layer 'd' kernelRegularizer: unknown regularizer 'l3' \(known: l1, l2, l1l2\)$/);
  // Objects: an unknown key, an array, or a factor of the other kind was no penalty (or the wrong one) without a word.
  bad({ kernelRegularizer: { L2: 0.01 } }, /^layer 'd' kernelRegularizer: unknown key 'L2' \(a regularizer object is \{ kind\?, l1\?, l2\? \}/);
  bad({ kernelRegularizer: { kind: 'l2', factor: 0.01 } }, /unknown key 'factor'/);
  bad({ kernelRegularizer: [0.01] }, /^layer 'd' kernelRegularizer: expected a regularizer name \(l1, l2, l1l2\) or \{ l1, l2 \}, got \[0\.01\]$/);
  bad({ kernelRegularizer: { kind: 'l1', l2: 0.5 } }, /^layer 'd' kernelRegularizer: kind 'l1' takes l1 only, got l2 0\.5 too \(both: kind 'l1l2'\)$/);
  // A layer without a name yet is named by its class (the message began "layer maps.kernel").
  assert.throws(() => new Dense({ units: 2, maps: { kernel: 'hashed:1/8:x' } }), /^RangeError: Dense layer maps\.kernel: cannot read 'x'/);
  // { kind } alone has its name's default factor, as the name does; what toJSON writes reads back.
  assert.deepEqual(new Dense({ units: 2, kernelRegularizer: { kind: 'l2' } }).toJSON().config.kernelRegularizer, { kind: 'l2', l1: 0, l2: 0.01 });
  assert.deepEqual(new Dense({ units: 2, kernelRegularizer: { kind: 'l2', l1: 0, l2: 0.01 } }).toJSON().config.kernelRegularizer, { kind: 'l2', l1: 0, l2: 0.01 });
  const m = sequential([new Flatten({ inputShape: [2, 2, 1], kernelRegularizer: 'l2' } as never), new Dense({ units: 2 })]);
  assert.throws(() => m.build(0), /^RangeError: layer 'flatten' \(Flatten\): kernelRegularizer is set but the layer has no weight of role kernel/);
});

/** A Dense + Conv2D net with fixed weights, with or without regularizers. */
function net(reg: boolean): Model {
  const r = reg ? { kernelRegularizer: 'l2:0.05', biasRegularizer: 'l1:0.02' } : {};
  const m = sequential([
    new Conv2D({ filters: 2, kernelSize: 2, activation: 'relu', inputShape: [3, 3, 1], name: 'c', ...(reg ? { kernelRegularizer: 'l1:0.01' } : {}) }),
    new Flatten(), new Dense({ units: 3, activation: 'softmax', name: 'd', ...r }),
  ]).build(4);
  m.compile({ optimizer: new SGD({ learningRate: 0.1 }), loss: 'sparse_categorical_crossentropy' });
  return m;
}

test('regularizers add their penalties to the loss of evaluate and to the gradient of fit (Keras); saved and loaded with the layer config', async () => {
  const x = { data: Float32Array.from({ length: 4 * 9 }, (_, i) => Math.sin(i)), shape: [4, 3, 3, 1] };
  const y = { data: Int32Array.of(0, 2, 1, 2), shape: [4] };
  const plain = net(false), reg = net(true);
  const weights = plain.getWeights();
  const sum = (name: string, f: (v: number) => number): number => weights.get(name)!.reduce((s, v) => s + f(v), 0);
  const extra = 0.05 * sum('d/kernel', (v) => v * v) + 0.02 * sum('d/bias', Math.abs) + 0.01 * sum('c/kernel', Math.abs);
  const l0 = plain.evaluate(x, y).loss, l1 = reg.evaluate(x, y).loss;
  assert.ok(Math.abs(l1 - (l0 + extra)) <= 1e-5, `loss ${l1} vs ${l0} + ${extra}`);
  // One SGD step (lr 0.1): the regularized kernel moves by an extra −lr·2·0.05·w (tolerance 1e-5).
  await plain.fit(x, y, { epochs: 1, batchSize: 4, shuffle: false });
  await reg.fit(x, y, { epochs: 1, batchSize: 4, shuffle: false });
  const a = plain.getWeights().get('d/kernel')!, b = reg.getWeights().get('d/kernel')!, w0 = weights.get('d/kernel')!;
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(b[i] - (a[i] - 0.1 * 2 * 0.05 * w0[i])) <= 1e-5, `kernel ${i}: ${b[i]} vs ${a[i]} − lr·0.1·${w0[i]}`);
  const back = modelFromCheckpoint(modelToCheckpoint(reg)).model;
  assert.deepEqual(back.getLayer('d').regularizers, { kernelRegularizer: { kind: 'l2', l1: 0, l2: 0.05 }, biasRegularizer: { kind: 'l1', l1: 0.02, l2: 0 } });
  assert.deepEqual(back.getLayer('c').regularizers, { kernelRegularizer: { kind: 'l1', l1: 0.01, l2: 0 } });
  assert.ok(Math.abs(back.evaluate(x, y).loss - reg.evaluate(x, y).loss) <= 1e-7);
  for (const m of [plain, reg, back]) m.dispose();
});
