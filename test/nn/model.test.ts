// Model and Sequential: graph building, seeding, summary, layer reuse (tied gradients), compile, losses, metrics, predict/evaluate, errors.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { tidy } from '../../src/core/engine.js';
import { IndexError, ShapeError } from '../../src/core/errors.js';
import { mul, sum, tensor } from '../../src/core/ops/index.js';
import { valueAndGrads } from '../../src/core/tape.js';
import type { Tensor } from '../../src/core/tensor.js';
import {
  Activation, Conv2D, createModel, Dense, Dropout, Flatten, getLoss, GRU, input, LocallyConnected2D, LSTM, MaxPooling2D, model, type Model, sequential,
} from '../../src/nn/index.js';
import { Adam, SGD } from '../../src/optim/index.js';
import { compareBits, compareClose, relTol } from '../helpers/compare.js';
import { Rng } from '../helpers/random.js';

const f32 = (shape: number[], seed: number, lo = -1, hi = 1): Tensor => tensor(new Rng(seed).uniforms(shape.reduce((a, b) => a * b, 1), lo, hi), shape);
const labels = (n: number, classes: number, seed: number): Tensor => tensor(new Rng(seed).ints(n, 0, classes - 1), [n], 'int32');

/** A small CNN, as a list of fresh layers (names given so both model styles agree on them). */
const cnnLayers = () => [
  new Conv2D({ filters: 3, kernelSize: 3, activation: 'relu', name: 'c1' }),
  new MaxPooling2D({ name: 'p1' }),
  new Flatten({ name: 'f' }),
  new Dense({ units: 5, activation: 'softmax', name: 'out' }),
];

describe('model building', () => {
  test('sequential and functional models of the same layers give the same outputs for the same seed', () => {
    const seq = sequential(cnnLayers(), { inputShape: [6, 6, 2] }).build(42);
    const inp = input({ shape: [6, 6, 2] });
    let s = inp;
    for (const l of cnnLayers()) s = l.apply(s);
    const fun = model({ inputs: inp, outputs: s }).build(42);
    assert.deepEqual(fun.outputShape, seq.outputShape);
    assert.equal(fun.countParams(), seq.countParams());
    tidy(() => {
      const x = f32([3, 6, 6, 2], 1);
      const cmp = compareBits(fun.call(x).f32(), seq.call(x).f32());
      assert.equal(cmp.message, undefined, cmp.message);
    });
    seq.dispose();
    fun.dispose();
  });

  test('build(seed): the same seed gives the same weights, another seed other weights', () => {
    const w = (seed: number): Map<string, Float32Array> => {
      const m = sequential(cnnLayers(), { inputShape: [6, 6, 2] }).build(seed);
      const out = m.getWeights();
      m.dispose();
      return out;
    };
    const [a, b, c] = [w(7), w(7), w(8)];
    for (const [name, v] of a) {
      assert.equal(compareBits(b.get(name)!, v).message, undefined, `${name}: same seed`);
      if (name.endsWith('kernel')) assert.ok(c.get(name)!.some((x, i) => x !== v[i]), `${name}: another seed must differ`);
    }
    // A layer's own seed wins over the model's.
    const own = (modelSeed: number): Float32Array => {
      const m = sequential([new Dense({ units: 3, seed: 99 })], { inputShape: [4] }).build(modelSeed);
      const k = m.getWeights().get('dense/kernel')!;
      m.dispose();
      return k;
    };
    assert.equal(compareBits(own(1), own(2)).message, undefined);
  });

  test("summary() of createModel('seed-cnn') lists every layer and Keras' total of 225,034 parameters", () => {
    const m = createModel('seed-cnn');
    const s = m.summary();
    const rows: [string, string, string][] = [
      ['conv2d (Conv2D)', '(None, 26, 26, 32)', '320'],
      ['max_pooling2d (MaxPooling2D)', '(None, 13, 13, 32)', '0'],
      ['conv2d_1 (Conv2D)', '(None, 11, 11, 64)', '18,496'],
      ['max_pooling2d_1 (MaxPooling2D)', '(None, 5, 5, 64)', '0'],
      ['flatten (Flatten)', '(None, 1600)', '0'],
      ['dense (Dense)', '(None, 128)', '204,928'],
      ['dense_1 (Dense)', '(None, 10)', '1,290'],
    ];
    const lines = s.split('\n');
    for (const [name, shape, params] of rows) {
      const line = lines.find((l) => l.startsWith(name + ' '));
      assert.ok(line, `summary has no row for ${name}:\n${s}`);
      assert.match(line, new RegExp(`${shape.replace(/[()]/g, '\\$&')}\\s+${params}$`), `row ${name}`);
    }
    assert.match(s, /^Model: "seed-cnn"/);
    assert.match(s, /Total params: 225,034 \(/);
    assert.equal(m.countParams(), 225034);
    // The unshared twin: each Conv2D's kernel repeated at every output position.
    const local = createModel('seed-cnn-local').build(0);
    assert.equal(local.getLayer('locally_connected2d').countParams(), 26 * 26 * (9 * 32) + 26 * 26 * 32);
    assert.ok(local.getLayer('locally_connected2d') instanceof LocallyConnected2D);
    m.dispose();
    local.dispose();
  });
});

describe('layer reuse', () => {
  /** x → shared → shared → head, or with two separate layers a and b holding the same values. */
  function build(tied: boolean): Model {
    const inp = input({ shape: [3] });
    const shared = new Dense({ units: 3, activation: 'tanh', name: 'shared' });
    const a = tied ? shared : new Dense({ units: 3, activation: 'tanh', name: 'a' });
    const b = tied ? shared : new Dense({ units: 3, activation: 'tanh', name: 'b' });
    const out = new Dense({ units: 2, name: 'head' }).apply(b.apply(a.apply(inp)));
    return model({ inputs: inp, outputs: out, name: tied ? 'tied' : 'untied' }).build(3);
  }

  test('a layer applied twice has its parameters counted once, and summary() marks the second use', () => {
    const m = build(true);
    assert.equal(m.layers.length, 2);
    assert.equal(m.graph.length, 3);
    assert.equal(m.countParams(), 3 * 3 + 3 + 3 * 2 + 2);
    assert.deepEqual([...m.getWeights().keys()], ['shared/kernel', 'shared/bias', 'head/kernel', 'head/bias']);
    const rows = m.summary().split('\n').filter((l) => l.startsWith('shared '));
    assert.equal(rows.length, 2);
    assert.match(rows[0], /\s12\s+input\[0\]\[0\]$/);
    assert.match(rows[1], /\(shared\)\s+shared\[0\]\[0\]$/);
    assert.match(m.summary(), /Total params: 20 \(/);
    m.dispose();
  });

  test('the gradient of a tied kernel equals the sum of the two untied gradients', () => {
    const tied = build(true);
    const untied = build(false);
    const w = tied.getWeights();
    untied.setWeights({
      'a/kernel': w.get('shared/kernel')!, 'a/bias': w.get('shared/bias')!,
      'b/kernel': w.get('shared/kernel')!, 'b/bias': w.get('shared/bias')!,
      'head/kernel': w.get('head/kernel')!, 'head/bias': w.get('head/bias')!,
    });
    const grads = (m: Model): Map<string, Float32Array> => {
      const out = new Map<string, Float32Array>();
      tidy(() => {
        const x = f32([4, 3], 5);
        const r = f32([4, 2], 6);
        const named = m.namedParameters();
        const g = valueAndGrads(() => sum(mul(m.call(x), r)), named.map((p) => p.param.value)).grads;
        named.forEach((p, i) => out.set(p.name, g[i].f32()));
      });
      return out;
    };
    const gt = grads(tied);
    const gu = grads(untied);
    for (const wname of ['kernel', 'bias']) {
      const a = gu.get(`a/${wname}`)!;
      const b = gu.get(`b/${wname}`)!;
      assert.ok(a.some((v, i) => Math.abs(v - b[i]) > 1e-4), `the two uses must have different gradients (${wname})`);
      const want = a.map((v, i) => v + b[i]);
      const cmp = compareClose(gt.get(`shared/${wname}`)!, want, relTol(1e-6, 1e-7));
      assert.equal(cmp.message, undefined, `shared/${wname}: ${cmp.message}`);
    }
    // The head sees the same input in both models.
    assert.equal(compareBits(gt.get('head/kernel')!, gu.get('head/kernel')!).message, undefined);

    // One SGD step moves the shared kernel once, by lr × the summed gradient.
    const lr = 0.5;
    const k0 = tied.getWeights().get('shared/kernel')!;
    const opt = new SGD({ learningRate: lr });
    tidy(() => {
      const x = f32([4, 3], 5);
      const r = f32([4, 2], 6);
      const params = tied.namedParameters().map((p) => p.param.value);
      const g = valueAndGrads(() => sum(mul(tied.call(x), r)), params).grads;
      opt.step(params, g);
    });
    const k1 = tied.getWeights().get('shared/kernel')!;
    const sumK = gt.get('shared/kernel')!;
    const cmp = compareClose(k1, k0.map((v, i) => v - lr * sumK[i]), relTol(1e-6, 1e-6));
    assert.equal(cmp.message, undefined, cmp.message);
    opt.dispose();
    tied.dispose();
    untied.dispose();
  });
});

describe('compile', () => {
  test('takes an optimizer name, a config or an Optimizer', () => {
    const m = sequential([new Dense({ units: 2 })], { inputShape: [3] });
    m.compile({ optimizer: 'adam', loss: 'mse' });
    assert.equal(m.optimizer!.name, 'adam');
    assert.equal(m.optimizer!.learningRate, 0.001);
    m.compile({ optimizer: { name: 'sgd', learningRate: 0.5, momentum: 0.9 }, loss: 'meanSquaredError' });
    assert.equal(m.optimizer!.name, 'sgd');
    assert.equal(m.optimizer!.learningRate, 0.5);
    assert.equal((m.optimizer as SGD).momentum, 0.9);
    const opt = new Adam({ learningRate: 0.01 });
    m.compile({ optimizer: opt, loss: 'sparse_categorical_crossentropy', metrics: ['acc'], fromLogits: true });
    assert.equal(m.optimizer, opt);
    assert.deepEqual(m.compileConfig(), {
      optimizer: opt.toJSON(), loss: 'sparse_categorical_crossentropy', fromLogits: true, metrics: ['accuracy'],
    });
    assert.throws(() => m.compile({ optimizer: 'nope', loss: 'mse' }), /unknown optimizer 'nope'/);
    assert.throws(() => m.compile({ optimizer: 'sgd', loss: 'hinge' }), /unknown loss 'hinge'/);
    assert.throws(() => m.compile({ optimizer: 'sgd', loss: 'mse', metrics: ['auc'] }), /unknown metric 'auc'/);
    m.dispose();
  });
});

describe('losses against hand-computed values', () => {
  const logits = [[2, -1, 0.5], [0, 0, 0], [-3, 4, 1], [1.5, 1.5, -2]];
  const y = [0, 2, 1, 1];
  const softmax = (row: number[]): number[] => {
    const m = Math.max(...row);
    const e = row.map((v) => Math.exp(v - m));
    const s = e.reduce((a, b) => a + b, 0);
    return e.map((v) => v / s);
  };
  const mean = (v: number[]): number => v.reduce((a, b) => a + b, 0) / v.length;
  const run = (f: () => Tensor): number => tidy(() => f().item());
  const T = (rows: number[][]): Tensor => tensor(Float32Array.from(rows.flat()), [rows.length, rows[0].length]);
  const I = (v: number[]): Tensor => tensor(Int32Array.from(v), [v.length], 'int32');

  test('sparse categorical cross-entropy from logits and from probabilities', () => {
    const want = mean(logits.map((r, i) => -Math.log(softmax(r)[y[i]])));
    const fromLogits = run(() => getLoss('sparse_categorical_crossentropy', { fromLogits: true }).compute(T(logits), I(y)));
    assert.ok(Math.abs(fromLogits - want) < 1e-6 * want, `from logits ${fromLogits} want ${want}`);
    const probs = logits.map(softmax);
    const fromProbs = run(() => getLoss('sparseCategoricalCrossentropy').compute(T(probs), I(y)));
    assert.ok(Math.abs(fromProbs - want) < 2e-6 * want, `from probabilities ${fromProbs} want ${want}`);
  });

  test('categorical cross-entropy from logits and from probabilities (soft targets)', () => {
    const t = [[0.7, 0.2, 0.1], [0, 0, 1], [0, 1, 0], [0.5, 0.5, 0]];
    const want = mean(logits.map((r, i) => -softmax(r).reduce((s, p, j) => s + t[i][j] * Math.log(p), 0)));
    const a = run(() => getLoss('categorical_crossentropy', { fromLogits: true }).compute(T(logits), T(t)));
    const b = run(() => getLoss('categorical_crossentropy').compute(T(logits.map(softmax)), T(t)));
    assert.ok(Math.abs(a - want) < 1e-6 * want, `from logits ${a} want ${want}`);
    assert.ok(Math.abs(b - want) < 2e-6 * want, `from probabilities ${b} want ${want}`);
  });

  test('from probabilities clips to [1e-7, 1 − 1e-7] like Keras', () => {
    // Class 0 has probability exactly 0 in the first row and 1 in the second: −log(1e−7) and −log(1 − 1e−7).
    const p = [[0, 0.25, 0.75], [1, 0, 0]];
    const want = (-Math.log(1e-7) - Math.log(Math.fround(1 - 1e-7))) / 2;
    const sparse = run(() => getLoss('sparse_categorical_crossentropy').compute(T(p), I([0, 0])));
    const cat = run(() => getLoss('categorical_crossentropy').compute(T(p), T([[1, 0, 0], [1, 0, 0]])));
    for (const v of [sparse, cat]) assert.ok(Math.abs(v - want) < 1e-5, `${v} want ${want} (16.118…/2)`);
  });

  test('mean squared error averages over every element', () => {
    const p = [[1, 2, 3], [0, -1, 0.5]];
    const t = [[0, 2, 5], [1, 1, 0.5]];
    const want = mean(p.flat().map((v, i) => (v - t.flat()[i]) ** 2));
    for (const name of ['mse', 'mean_squared_error', 'meanSquaredError']) {
      assert.equal(run(() => getLoss(name).compute(T(p), T(t))), Math.fround(want), name);
    }
  });
});

describe('training-facing behaviour', () => {
  const softmaxModel = (): Model => sequential([
    new Dense({ units: 6, activation: 'relu' }), new Dense({ units: 4, activation: 'softmax' }),
  ], { inputShape: [5] }).build(2);

  /** −mean log p[y] computed here from the model's probabilities (float64). */
  const ceOfProbs = (m: Model, x: Tensor, y: Int32Array): number => {
    const p = m.predict(x);
    const v = p.f32();
    p.dispose();
    let s = 0;
    for (let i = 0; i < y.length; i++) s -= Math.log(v[i * 4 + y[i]]);
    return s / y.length;
  };

  test('a model ending in softmax with sparse CE (fused from logits) gives the CE of its probabilities', async () => {
    const m = softmaxModel();
    m.compile({ optimizer: new SGD({ learningRate: 0.1 }), loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'] });
    const x = f32([10, 5], 3, -2, 2);
    const y = labels(10, 4, 4);
    const yv = y.data() as Int32Array;
    const want = ceOfProbs(m, x, yv);
    const got = m.evaluate(x, y, { batchSize: 10 }).loss;
    assert.ok(Math.abs(got - want) < 1e-6, `evaluate ${got} want ${want}`);
    // One training step on the whole batch reports the loss before the step, computed the same way.
    const h = await m.fit(x, y, { epochs: 1, batchSize: 10, shuffle: false });
    assert.ok(Math.abs(h.history.loss[0] - want) < 1e-6, `fit ${h.history.loss[0]} want ${want}`);
    assert.ok(ceOfProbs(m, x, yv) < want, 'the step lowers the loss');
    x.dispose();
    y.dispose();
    m.dispose();
  });

  test('accuracy counts argmax hits', () => {
    // Identity Dense: the prediction is the argmax of the input itself.
    const m = sequential([new Dense({ units: 3, useBias: false, name: 'id' })], { inputShape: [3] }).build(0);
    m.setWeights({ 'id/kernel': Float32Array.from([1, 0, 0, 0, 1, 0, 0, 0, 1]) });
    m.compile({ optimizer: 'sgd', loss: 'sparse_categorical_crossentropy', fromLogits: true, metrics: ['accuracy'] });
    const x = tensor(Float32Array.from([5, 0, 0, 0, 5, 0, 0, 0, 5, 5, 0, 0, 0, 0, 5]), [5, 3]);
    const y = tensor(Int32Array.from([0, 1, 0, 0, 2]), [5], 'int32'); // hits: samples 0, 1, 3, 4
    assert.equal(m.evaluate(x, y, { batchSize: 2 }).accuracy, 4 / 5);
    m.compile({ optimizer: 'sgd', loss: 'categorical_crossentropy', fromLogits: true, metrics: ['accuracy'] });
    const oneHot = tensor(Float32Array.from([1, 0, 0, 0, 1, 0, 1, 0, 0, 1, 0, 0, 0, 0, 1]), [5, 3]);
    assert.equal(m.evaluate(x, oneHot, { batchSize: 3 }).accuracy, 4 / 5);
    for (const t of [x, y, oneHot]) t.dispose();
    m.dispose();
  });

  test('predict and evaluate: shapes, and the same results whatever the batch size', () => {
    const m = sequential(cnnLayers(), { inputShape: [6, 6, 2] }).build(1);
    m.compile({ optimizer: 'sgd', loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'] });
    const x = f32([7, 6, 6, 2], 9);
    const y = labels(7, 5, 10);
    const outs = [1, 3, 7, 32].map((bs) => {
      const p = m.predict(x, { batchSize: bs });
      assert.deepEqual(p.shape, [7, 5]);
      const v = p.f32();
      p.dispose();
      return v;
    });
    for (const o of outs.slice(1)) {
      const cmp = compareClose(o, outs[0], relTol(1e-6, 1e-7));
      assert.equal(cmp.message, undefined, cmp.message);
    }
    const evals = [1, 2, 7].map((bs) => m.evaluate(x, y, { batchSize: bs }));
    for (const e of evals) {
      assert.deepEqual(Object.keys(e).sort(), ['accuracy', 'loss']);
      assert.ok(Math.abs(e.loss - evals[0].loss) < 1e-6, `loss ${e.loss} vs ${evals[0].loss}`);
      assert.equal(e.accuracy, evals[0].accuracy);
    }
    // Typed arrays work as well as tensors.
    const p = m.predict({ data: x.f32(), shape: x.shape });
    assert.equal(compareClose(p.f32(), outs[0], relTol(1e-6, 1e-7)).message, undefined);
    p.dispose();
    x.dispose();
    y.dispose();
    m.dispose();
  });
});

describe('errors', () => {
  test('a wrong input shape names the model and the first layer', () => {
    const m = sequential([new Dense({ units: 2, name: 'first' })], { inputShape: [3], name: 'net' }).build(0);
    m.compile({ optimizer: 'sgd', loss: 'mse' });
    const x = f32([2, 4], 1);
    assert.throws(() => m.call(x), (e: Error) => e instanceof ShapeError && /model 'net'/.test(e.message) && /'first'/.test(e.message) && /\[N, 3\]/.test(e.message));
    assert.throws(() => m.predict(x), /model 'net'.*'first'/);
    assert.throws(() => m.evaluate(x, f32([2, 2], 2)), (e: Error) => e instanceof ShapeError && /model 'net'.*'first'/.test(e.message));
    x.dispose();
    // A layer that does not fit its input names itself.
    assert.throws(() => sequential([new Flatten(), new Conv2D({ filters: 1, kernelSize: 3, name: 'conv' })], { inputShape: [4, 4, 1] }),
      (e: Error) => e instanceof ShapeError && /layer 'conv' \(Conv2D\)/.test(e.message));
    assert.throws(() => sequential([new Conv2D({ filters: 1, kernelSize: 5, name: 'big' })], { inputShape: [4, 4, 1] }),
      (e: Error) => e instanceof ShapeError && /layer 'big'/.test(e.message));
    m.dispose();
  });

  test('labels out of range name the label value and the sample', async () => {
    const m = sequential([new Dense({ units: 3 })], { inputShape: [2] });
    m.compile({ optimizer: 'sgd', loss: 'sparse_categorical_crossentropy', fromLogits: true });
    const x = f32([4, 2], 1);
    const y = tensor(Int32Array.from([0, 2, 3, 1]), [4], 'int32');
    await assert.rejects(m.fit(x, y), (e: Error) => e instanceof IndexError && /label 3 of sample 2/.test(e.message) && /3 classes/.test(e.message));
    assert.throws(() => m.evaluate(x, tensor(Int32Array.from([0, -1, 0, 0]), [4], 'int32')), /label -1 of sample 1/);
    await assert.rejects(m.fit(x, f32([4], 2)), /labels must be int32/);
    x.dispose();
    y.dispose();
    m.dispose();
  });

  test('fit or evaluate before compile, and x/y count mismatch', async () => {
    const m = sequential([new Dense({ units: 1 })], { inputShape: [2], name: 'raw' });
    const x = f32([4, 2], 1);
    await assert.rejects(m.fit(x, f32([4, 1], 2)), /model 'raw': call compile\(\{ optimizer, loss \}\) before fit/);
    assert.throws(() => m.evaluate(x, f32([4, 1], 2)), /before evaluate/);
    m.compile({ optimizer: 'sgd', loss: 'mse' });
    await assert.rejects(m.fit(x, f32([3, 1], 2)), (e: Error) => e instanceof ShapeError && /4 input samples but 3 targets/.test(e.message));
    await assert.rejects(m.fit(x, f32([4, 1], 2), { batchSize: 0 }), RangeError);
    await assert.rejects(m.fit(x, f32([4, 1], 2), { validationSplit: 1.5 }), RangeError);
    x.dispose();
    m.dispose();
  });

  test('bad option values raise a RangeError naming the layer', () => {
    const cases: [string, () => unknown, RegExp][] = [
      ['units 0', () => new Dense({ units: 0, name: 'd' }), /layer 'd'.*units/],
      ['units 1.5', () => new Dense({ units: 1.5 }), /layer 'dense'.*units/],
      ['rate 1', () => new Dropout({ rate: 1, name: 'drop' }), /layer 'drop'.*rate/],
      ['rate −0.1', () => new Dropout({ rate: -0.1 }), /layer 'dropout'.*rate/],
      ['activation', () => new Dense({ units: 2, activation: 'swish' as 'relu', name: 'd' }), /layer 'd'.*unknown activation 'swish'/],
      ['Activation layer', () => new Activation({ activation: 'elu' as 'relu' }), /layer 'activation'.*unknown activation 'elu'/],
      ['initializer', () => new Conv2D({ filters: 1, kernelSize: 3, kernelInitializer: 'no_such_initializer', name: 'c' }), /layer 'c'.*unknown initializer 'no_such_initializer'/],
      ['padding', () => new Conv2D({ filters: 1, kernelSize: 3, padding: 'full' as 'same', name: 'c' }), /layer 'c'.*padding/],
      ['pool padding', () => new MaxPooling2D({ padding: 'causal' as 'same' }), /layer 'max_pooling2d'.*padding/],
      ['kernelSize', () => new LocallyConnected2D({ filters: 1, kernelSize: [3, 0] }), /layer 'locally_connected2d'.*kernelSize/],
      ['filters', () => new Conv2D({ filters: -2, kernelSize: 3 }), /layer 'conv2d'.*filters/],
      // A value that is not a name is named as a value (it used to fail inside String.replace), with its option.
      ['initializer 1.5', () => new Dense({ units: 2, biasInitializer: 1.5 as never, name: 'd' }), /^layer 'd': biasInitializer must be the name of an initializer \(one of glorot_uniform, .*\), got the number 1\.5$/],
      ['activation true', () => new Dense({ units: 2, activation: true as never, name: 'd' }), /^layer 'd': activation must be the name of an activation \(one of linear, .*\), got the boolean true$/],
      ['recurrentActivation', () => new LSTM({ units: 2, recurrentActivation: 'swish' as never, name: 'r' }), /^layer 'r': unknown activation 'swish' for recurrentActivation \(expected one of linear, /],
      ['recurrentInitializer', () => new GRU({ units: 2, recurrentInitializer: 'nope', name: 'g' }), /^layer 'g': unknown initializer 'nope' for recurrentInitializer /],
    ];
    for (const [label, f, re] of cases) assert.throws(f, (e: Error) => e instanceof RangeError && re.test(e.message), label);
  });
});
