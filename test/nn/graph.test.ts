// Graph models: residual connections, several inputs and outputs, merge layers, blocks of layers reused at several
// depths (one θ, W materialised once per pass, a Dropout mask per use), saved node graphs, and the errors of bad graphs.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { memory, tidy } from '../../src/core/engine.js';
import { ShapeError } from '../../src/core/errors.js';
import { mul, sum, tensor } from '../../src/core/ops/index.js';
import { valueAndGrads } from '../../src/core/tape.js';
import type { Tensor } from '../../src/core/tensor.js';
import { loadDataset } from '../../src/data/index.js';
import { decodeCheckpoint, encodeCheckpoint, modelFromCheckpoint, modelToCheckpoint } from '../../src/io/index.js';
import {
  Add, Block, type CallContext, type LayerSpec, Concatenate, Dense, Dropout, Flatten, getLoss, input, Layer, type LayerOptions, layers, type Model, model, modelFromConfig,
  Multiply, registerLayer, sequential, Subtract, Average,
} from '../../src/nn/index.js';
import type { Random } from '../../src/core/random.js';
import type { WeightMap } from '../../src/sharing/weight-map.js';
import { compareBits } from '../helpers/compare.js';
import { checkGradients } from '../helpers/gradcheck.js';
import { Rng } from '../helpers/random.js';

const f32 = (shape: number[], seed: number): Tensor => tensor(new Rng(seed).uniforms(shape.reduce((a, b) => a * b, 1), -1, 1), shape);

/** x[784] → dense 32 → (dense 32 → dense 32) + skip → dense 10 softmax. */
function residualMlp(): Model {
  const x = input({ shape: [28, 28, 1], name: 'pixels' });
  const h = layers.dense({ units: 32, activation: 'relu' }).apply(layers.flatten().apply(x));
  const f = layers.dense({ units: 32 }).apply(layers.dense({ units: 32, activation: 'relu' }).apply(h));
  const r = layers.add().apply([h, f]);
  return model({ inputs: x, outputs: layers.dense({ units: 10, activation: 'softmax' }).apply(r), name: 'residual-mlp' });
}

/** Two inputs (the top and bottom halves of a digit), one branch each, concatenated. */
function twoInput(): Model {
  const top = input({ shape: [14, 28, 1], name: 'top' });
  const bottom = input({ shape: [14, 28, 1], name: 'bottom' });
  const a = layers.dense({ units: 24, activation: 'relu' }).apply(layers.flatten().apply(top));
  const b = layers.dense({ units: 24, activation: 'relu' }).apply(layers.flatten().apply(bottom));
  const j = layers.concatenate().apply([a, b]);
  return model({ inputs: [top, bottom], outputs: layers.dense({ units: 10, activation: 'softmax' }).apply(j), name: 'two-input' });
}

/** A residual block (dense → dropout → dense, plus the skip) applied three times: one θ for all three depths. */
function blockModel(rate = 0.1): { m: Model; block: Block } {
  const bi = input({ shape: [24] });
  const inner = layers.dense({ units: 24, activation: 'relu' }).apply(bi);
  const out = layers.dense({ units: 24 }).apply(layers.dropout({ rate }).apply(inner));
  const block = layers.block({ inputs: bi, outputs: layers.add().apply([bi, out]), name: 'block' });
  const x = input({ shape: [28, 28, 1] });
  let h = layers.dense({ units: 24, activation: 'relu' }).apply(layers.flatten().apply(x));
  for (let i = 0; i < 3; i++) h = block.apply(h);
  return { m: model({ inputs: x, outputs: layers.dense({ units: 10, activation: 'softmax' }).apply(h), name: 'deep-shared' }), block };
}

const px = 28 * 28;
function digits(n: number, split: 'train' | 'test'): { x: Float32Array; y: Int32Array } {
  const ds = loadDataset('mnist-sample');
  const x = split === 'train' ? ds.xTrain : ds.xTest;
  const y = split === 'train' ? ds.yTrain : ds.yTest;
  return { x: x.subarray(0, n * px), y: y.subarray(0, n) };
}

/** The top and bottom 14 rows of each 28×28 image. */
function halves(x: Float32Array, n: number): [Float32Array, Float32Array] {
  const half = 14 * 28;
  const top = new Float32Array(n * half), bottom = new Float32Array(n * half);
  for (let i = 0; i < n; i++) {
    top.set(x.subarray(i * px, i * px + half), i * half);
    bottom.set(x.subarray(i * px + half, (i + 1) * px), i * half);
  }
  return [top, bottom];
}

/** Saves and reloads through the model-file format (bytes), returning the rebuilt model. */
function roundTrip(m: Model): Model {
  const bytes = encodeCheckpoint(modelToCheckpoint(m));
  return modelFromCheckpoint(decodeCheckpoint(bytes)).model;
}

function sameOutputs(a: Model, b: Model, xs: Tensor | Tensor[], label: string): void {
  const [ya, yb] = [tidy(() => a.call(xs)), tidy(() => b.call(xs))];
  const cmp = compareBits(yb.f32(), ya.f32());
  assert.equal(cmp.message, undefined, `${label}: ${cmp.message}`);
  ya.dispose();
  yb.dispose();
}

describe('graph models train on MNIST digits through fit, and round-trip through model files', () => {
  const n = 1200, nTest = 400;
  const train = digits(n, 'train'), test_ = digits(nTest, 'test');

  test('a residual MLP', async () => {
    const m = residualMlp().build(0);
    assert.equal(m.isChain, false);
    m.compile({ optimizer: 'adam', loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'] });
    const h = await m.fit({ data: train.x, shape: [n, 28, 28, 1] }, { data: train.y, shape: [n] }, { epochs: 2, batchSize: 32, seed: 0 });
    assert.ok(h.history.loss[1] < h.history.loss[0], `loss ${h.history.loss}`);
    const r = m.evaluate({ data: test_.x, shape: [nTest, 28, 28, 1] }, { data: test_.y, shape: [nTest] });
    assert.ok(r.accuracy > 0.75, `held-out accuracy ${r.accuracy}`);
    const back = roundTrip(m);
    assert.deepEqual(back.toJSON(), m.toJSON());
    sameOutputs(m, back, tensor(test_.x.slice(0, 8 * px), [8, 28, 28, 1]), 'reloaded residual MLP');
    assert.deepEqual(back.evaluate({ data: test_.x, shape: [nTest, 28, 28, 1] }, { data: test_.y, shape: [nTest] }), r);
    m.dispose();
    back.dispose();
  });

  test('a model with two inputs', async () => {
    const m = twoInput().build(0);
    m.compile({ optimizer: 'adam', loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'] });
    const [top, bottom] = halves(train.x, n);
    const h = await m.fit([{ data: top, shape: [n, 14, 28, 1] }, { data: bottom, shape: [n, 14, 28, 1] }], { data: train.y, shape: [n] }, { epochs: 2, seed: 0, validationSplit: 0.1 });
    assert.ok(h.history.val_accuracy[1] > 0.6, `validation accuracy ${h.history.val_accuracy}`);
    const [tt, tb] = halves(test_.x, nTest);
    const xs = [{ data: tt, shape: [nTest, 14, 28, 1] }, { data: tb, shape: [nTest, 14, 28, 1] }];
    const r = m.evaluate(xs, { data: test_.y, shape: [nTest] });
    assert.ok(r.accuracy > 0.7, `held-out accuracy ${r.accuracy}`);
    const p = m.predict(xs);
    assert.deepEqual(p.shape, [nTest, 10]);
    const back = roundTrip(m);
    const pb = back.predict(xs);
    assert.equal(compareBits(pb.f32(), p.f32()).message, undefined);
    assert.throws(() => m.predict(xs[0]), (e: Error) => e instanceof ShapeError && /has 2 inputs \('top', 'bottom'\) but predict: x gives 1/.test(e.message));
    assert.throws(() => m.predict([xs[1], { data: tt, shape: [nTest, 28, 14, 1] }]), (e: Error) => /input 'bottom'/.test(e.message) && /\[N, 14, 28, 1\]/.test(e.message) && /'flatten_1'/.test(e.message));
    for (const t of [p, pb]) t.dispose();
    m.dispose();
    back.dispose();
  });

  test('a block reused three times: one θ, trained, saved and reloaded', async () => {
    const { m, block } = blockModel();
    m.build(0);
    const direct = 784 * 24 + 24 + 2 * (24 * 24 + 24) + 24 * 10 + 10;
    assert.equal(m.countParams(), direct, 'the block\'s weights count once');
    assert.deepEqual(m.weights().map((w) => w.path), ['dense/kernel', 'dense/bias', 'block/dense/kernel', 'block/dense/bias', 'block/dense_1/kernel', 'block/dense_1/bias', 'dense_1/kernel', 'dense_1/bias']);
    assert.deepEqual(block.sublayers().map((l) => l.name), ['dense', 'dropout', 'dense_1', 'add']);
    assert.equal(m.getLayer('block/dense_1'), block.sublayers()[2]);
    assert.throws(() => m.getLayer('block/nope'), /layer 'block' of model 'deep-shared' has no sublayer 'nope' \(sublayers: dense, dropout, dense_1, add\)/);
    m.compile({ optimizer: 'adam', loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'] });
    const h = await m.fit({ data: train.x, shape: [n, 28, 28, 1] }, { data: train.y, shape: [n] }, { epochs: 2, seed: 0 });
    assert.ok(h.history.accuracy[1] > h.history.accuracy[0] && h.history.accuracy[1] > 0.5, `accuracy ${h.history.accuracy} (chance 0.1)`);
    const s = m.summary();
    assert.match(s, /Connected to/);
    assert.equal(s.split('\n').filter((l) => l.startsWith('block (Block)')).length, 3);
    assert.match(s, /block \(Block\)\s+\(None, 24\)\s+\(shared\)\s+block\[1\]\[0\]/);
    const back = roundTrip(m);
    assert.deepEqual(back.toJSON(), m.toJSON());
    sameOutputs(m, back, tensor(test_.x.slice(0, 8 * px), [8, 28, 28, 1]), 'reloaded block model');
    m.dispose();
    back.dispose();
  });
});

describe('layers made of layers', () => {
  test('every use of a block draws its own Dropout mask, the same on every run', () => {
    const { m } = blockModel(0.5);
    m.build(1);
    const x = f32([4, 28, 28, 1], 2);
    const run = (): Float32Array => {
      const y = tidy(() => m.call(x, { training: true, seed: 9 }));
      const v = y.f32();
      y.dispose();
      return v;
    };
    assert.deepEqual(run(), run());
    // With one mask for every use, the block's three dropouts would keep the same units; check the masks directly.
    const bi = input({ shape: [64] });
    const drop = new Dropout({ rate: 0.5 });
    const b = new Block({ inputs: bi, outputs: drop.apply(bi), name: 'b' });
    const xi = input({ shape: [64] });
    const outs = [b.apply(xi), b.apply(xi), b.apply(xi)];
    const three = model({ inputs: xi, outputs: outs, name: 'masks' }).build(0);
    const ones = tensor(new Float32Array(2 * 64).fill(1), [2, 64]);
    const ys = tidy(() => three.callAll(ones, { training: true, seed: 3 })).map((t) => {
      const v = t.f32();
      t.dispose();
      return v;
    });
    assert.notDeepEqual(ys[0], ys[1]);
    assert.notDeepEqual(ys[1], ys[2]);
    for (const y of ys) assert.ok(y.every((v) => v === 0 || v === 2));
    three.dispose();
    m.dispose();
  });

  test('a weight used at several places in one pass is materialised once, and its gradient is the sum over the uses', () => {
    const { m } = blockModel(0);
    m.build(4);
    let calls = 0;
    const w = m.weights().find((v) => v.path === 'block/dense/kernel')!;
    const map: WeightMap = w.map;
    const original = map.materialize.bind(map);
    map.materialize = () => {
      calls++;
      return original();
    };
    const x = f32([3, 28, 28, 1], 5);
    const params = m.namedParameters().map((p) => p.param.value);
    tidy(() => {
      const r = valueAndGrads(() => sum(mul(m.call(x), f32([3, 10], 6))), params);
      assert.equal(calls, 1, 'one materialize for three uses');
      const g = r.grads[params.indexOf(map.parameters()[0].value)].f32();
      assert.ok(g.some((v) => v !== 0));
    });
    const before = memory().tensors;
    tidy(() => {
      m.call(x);
    });
    assert.equal(memory().tensors, before, 'no tensor is left behind by the cache');
    m.dispose();
  });

  test('maps of sublayers are set by path and survive a save', () => {
    const bi = input({ shape: [12] });
    const b = new Block({ inputs: bi, outputs: new Dense({ units: 12, name: 'proj' }).apply(bi), name: 'b', maps: { 'proj/kernel': 'hashed:1/4' } });
    const xi = input({ shape: [12] });
    const m = model({ inputs: xi, outputs: b.apply(b.apply(xi)) }).build(0);
    const kernel = m.weights().find((w) => w.path === 'b/proj/kernel')!;
    assert.equal(kernel.map.kind, 'hashed');
    assert.ok(kernel.map.stats().free < 144);
    assert.equal(m.countParams(), kernel.map.stats().free + 12);
    const back = roundTrip(m);
    assert.equal(back.weights().find((w) => w.path === 'b/proj/kernel')!.map.kind, 'hashed');
    const typo = new Block({ inputs: bi, outputs: new Dense({ units: 12, name: 'p2' }).apply(bi), name: 'typo', maps: { 'porj/kernel': 'hashed:1/4' } });
    assert.throws(() => model({ inputs: xi, outputs: typo.apply(xi) }).build(0), /layer 'typo': maps name 'porj\/kernel', but its weights are none; sublayers: p2/);
    sameOutputs(m, back, f32([2, 12], 1), 'hashed sublayer');
    m.dispose();
    back.dispose();
  });

  test('a block inside a block takes maps by the full path, at construction and after a save', () => {
    const ii = input({ shape: [6] });
    const inner = new Block({ inputs: ii, outputs: new Dense({ units: 6, name: 'proj' }).apply(ii), name: 'inner' });
    const oi = input({ shape: [6] });
    const outer = new Block({ inputs: oi, outputs: inner.apply(oi), name: 'outer', maps: { 'inner/proj/kernel': 'lowRank:2' } });
    const xi = input({ shape: [6] });
    const m = model({ inputs: xi, outputs: outer.apply(xi) }).build(0);
    assert.equal(m.weights().find((w) => w.path === 'outer/inner/proj/kernel')!.map.kind, 'lowRank');
    assert.equal(m.countParams(), 6 * 2 + 2 * 6 + 6);
    const back = roundTrip(m);
    assert.equal(back.weights().find((w) => w.path === 'outer/inner/proj/kernel')!.map.kind, 'lowRank');
    sameOutputs(m, back, f32([2, 6], 1), 'low-rank kernel two blocks down');
    m.dispose();
    back.dispose();
  });

  test('gradients through residual and merge layers match finite differences', () => {
    const a = input({ shape: [5], name: 'a' });
    const b = input({ shape: [5], name: 'b' });
    const d = new Dense({ units: 5, activation: 'tanh', name: 'd' });
    const s = new Add().apply([a, d.apply(b)]);
    const p = new Multiply().apply([s, new Subtract().apply([a, b])]);
    const c = new Concatenate().apply([p, new Average().apply([a, b, s])]);
    const m = model({ inputs: [a, b], outputs: new Dense({ units: 3, name: 'out' }).apply(c) }).build(2);
    checkGradients('merge graph', (x1, x2) => m.call([x1, x2]), [f32([2, 5], 1), f32([2, 5], 2)]);
    const y = tidy(() => m.call([f32([2, 5], 1), f32([2, 5], 2)]));
    assert.deepEqual(y.shape, [2, 3]);
    y.dispose();
    m.dispose();
  });
});

describe('saved graphs', () => {
  test('the config is a node graph naming each node\'s inbound tensors; files from before graphs still load', () => {
    const m = residualMlp();
    const c = m.toJSON();
    assert.deepEqual(c.inputs, [{ name: 'pixels', shape: [28, 28, 1] }]);
    assert.deepEqual(c.graph[4], { layer: 'add', inbound: [['dense', 0, 0], ['dense_2', 0, 0]] });
    assert.deepEqual(c.outputs, [['dense_3', 0, 0]]);
    // A chain config as written before graphs: layer names along the chain.
    const seq = sequential([new Flatten(), new Dense({ units: 4, activation: 'softmax' })], { inputShape: [3, 2] }).build(1);
    const old = { ...seq.toJSON(), graph: ['flatten', 'dense'], inputs: undefined, outputs: undefined };
    const back = modelFromConfig(old).build(1);
    assert.equal(back.className, 'Sequential');
    sameOutputs(seq, back, f32([2, 3, 2], 3), 'old chain config');
    const oldFunctional = modelFromConfig({ ...old, className: 'Model' }).build(1);
    sameOutputs(seq, oldFunctional, f32([2, 3, 2], 3), 'old functional chain config');
    for (const x of [seq, back, oldFunctional]) x.dispose();
  });

  test('a bad graph in a config is refused naming the node: cycle / out of order, unknown layer, missing output', () => {
    const c = residualMlp().toJSON();
    const cyclic = { ...c, graph: [...c.graph] as typeof c.graph };
    (cyclic.graph as { layer: string; inbound: [string, number, number][] }[])[1] = { layer: 'dense', inbound: [['add', 0, 0]] };
    assert.throws(() => modelFromConfig(cyclic), /node 1 \(layer 'dense', use 0\) takes \["add",0,0\], which is no input and no output of an earlier node/);
    assert.throws(() => modelFromConfig({ ...c, graph: [{ layer: 'nope', inbound: [['pixels', 0, 0]] }] }), /node 0 names layer 'nope'/);
    assert.throws(() => modelFromConfig({ ...c, outputs: [['dense_9', 0, 0]] }), /the model's outputs takes \["dense_9",0,0\]/);
    assert.throws(() => modelFromConfig({ ...c, inputs: 5 as unknown as [] }), /'inputs' must be a non-empty list of \{ name, shape\[, dtype\] \}, got 5/);
    assert.throws(() => modelFromConfig({ ...c, outputs: undefined }), /'outputs' must be a non-empty list/);
    assert.throws(() => modelFromConfig({ ...c, graph: [null as unknown as string] }), /node 0 must be \{ layer, inbound/);
    assert.throws(() => modelFromConfig({ ...c, layers: [null as unknown as LayerSpec] }), /each layer must be \{ className, config \}, got null/);
    assert.throws(() => modelFromConfig({ ...c, layers: [c.layers[1], c.layers[1]] }), /two layers are named 'dense'/);
  });
});

describe('bad graphs', () => {
  test('mismatched merge shapes name the layer, the node and both shapes', () => {
    const a = input({ shape: [32], name: 'a' });
    const b = input({ shape: [16], name: 'b' });
    assert.throws(() => new Add({ name: 'sum' }).apply([a, b]),
      (e: Error) => e instanceof ShapeError && /layer 'sum' \(Add\)/.test(e.message) && /\(None, 32\) and \(None, 16\)/.test(e.message) && /node 0/.test(e.message) && /inputs from a, b/.test(e.message));
    assert.throws(() => new Concatenate({ name: 'cat' }).apply([input({ shape: [4, 3] }), input({ shape: [5, 3] })]), /layer 'cat' \(Concatenate\).*\(None, 4, 3\) and \(None, 5, 3\)/);
    assert.throws(() => new Add().apply([a]), /needs at least 2 inputs, got 1/);
    assert.throws(() => new Dense({ units: 3, name: 'd' }).apply([a, a]), /layer 'd' \(Dense\).*takes one input, got 2/);
  });

  test('a layer applied to inputs of different shapes is refused at its second use', () => {
    const d = new Dense({ units: 3, name: 'shared' });
    const a = input({ shape: [8], name: 'a' });
    const y = d.apply(a);
    assert.throws(() => d.apply(input({ shape: [4], name: 'b' })),
      (e: Error) => e instanceof ShapeError && /layer 'shared'/.test(e.message) && /\(None, 4\)/.test(e.message) && /\(None, 8\)/.test(e.message) && /node 1/.test(e.message));
    // Layers without weights may be reused on any shape.
    const f = new Flatten();
    f.apply(input({ shape: [2, 3] }));
    f.apply(input({ shape: [4, 5] }));
    assert.ok(y);
  });

  test('an output that does not come from the inputs, an input that reaches no output', () => {
    const a = input({ shape: [4], name: 'a' });
    const b = input({ shape: [4], name: 'b' });
    const y = new Add({ name: 'plus' }).apply([a, b]);
    assert.throws(() => model({ inputs: a, outputs: y, name: 'm' }), /model 'm': graph disconnected: layer 'plus' \(node 0\) needs input 'b' \(None, 4\), which is not among the model's inputs \('a'\)/);
    const c = input({ shape: [4], name: 'c' });
    assert.throws(() => model({ inputs: [a, b, c], outputs: y, name: 'm' }), /model 'm': input 'c' reaches none of the outputs/);
    assert.throws(() => model({ inputs: [a, y], outputs: y, name: 'm' }), /inputs must come from input\(\)/);
  });

  test('several outputs: predictAll, and the wrong number of targets or losses is refused', async () => {
    const a = input({ shape: [4] });
    const m = model({ inputs: a, outputs: [new Dense({ units: 2 }).apply(a), new Dense({ units: 3 }).apply(a)] }).build(0);
    const x = { data: new Float32Array(8), shape: [2, 4] };
    const ys = m.predictAll(x);
    assert.deepEqual(ys.map((t) => t.shape), [[2, 2], [2, 3]]);
    for (const t of ys) t.dispose();
    assert.throws(() => m.predict(x), /use predictAll/);
    assert.throws(() => m.compile({ optimizer: 'sgd', loss: ['mse', 'mse', 'mse'] }), /has 2 outputs but compile got 3 losses/);
    assert.throws(() => m.compile({ optimizer: 'sgd', loss: 'mse', lossWeights: [1] }), /lossWeights must be 2 finite numbers/);
    m.compile({ optimizer: 'sgd', loss: 'mse' });
    await assert.rejects(m.fit(x, { data: new Float32Array(4), shape: [2, 2] }), /has 2 outputs but fit: y gives 1 targets/);
    await assert.rejects(m.fit(x, [{ data: new Float32Array(4), shape: [2, 2] }, { data: new Float32Array(4), shape: [2, 2] }]),
      /output 1 of model 'model' \('dense_1'\) outputs \[N, 3\], so its targets must be \[N, 3\], got \[2, 2\]/);
    m.dispose();
  });
});

describe('a model with two outputs trains on MNIST digits', () => {
  test('the digit (cross-entropy) and its mean brightness (MSE), weighted; logs per output; saved and reloaded', async () => {
    const n = 1000;
    const { x, y } = digits(n, 'train');
    const bright = Float32Array.from({ length: n }, (_, i) => x.subarray(i * px, (i + 1) * px).reduce((s, v) => s + v, 0) / px);
    const inp = input({ shape: [28, 28, 1] });
    const h = layers.dense({ units: 32, activation: 'relu' }).apply(layers.flatten().apply(inp));
    const digit = layers.dense({ units: 10, activation: 'softmax', name: 'digit' }).apply(h);
    const brightness = layers.dense({ units: 1, name: 'brightness' }).apply(h);
    const m = model({ inputs: inp, outputs: [digit, brightness], name: 'two-heads' }).build(0);
    m.compile({ optimizer: 'adam', loss: ['sparse_categorical_crossentropy', 'mse'], lossWeights: [1, 0.5], metrics: ['accuracy'] });
    const xs = { data: x, shape: [n, 28, 28, 1] };
    const targets = [{ data: y, shape: [n] }, { data: bright, shape: [n, 1] }];
    const h1 = await m.fit(xs, targets, { epochs: 3, seed: 0, validationSplit: 0.2 });
    assert.deepEqual(Object.keys(h1.history).sort(), ['brightness_accuracy', 'digit_accuracy', 'loss', 'val_brightness_accuracy', 'val_digit_accuracy', 'val_loss']);
    assert.ok(h1.history.val_digit_accuracy[2] > 0.7, `validation digit accuracy ${h1.history.val_digit_accuracy}`);
    assert.ok(h1.history.loss[2] < h1.history.loss[0]);
    // The total is the weighted sum of the outputs' losses.
    const r = m.evaluate(xs, targets, { batchSize: n });
    const [pd, pb] = m.predictAll(xs);
    const ce = getLoss('sparse_categorical_crossentropy'), mse = getLoss('mse');
    const parts = tidy(() => [ce.compute(pd, tensor(y, [n], 'int32')).item(), mse.compute(pb, tensor(bright, [n, 1])).item()]);
    assert.ok(Math.abs(r.loss - (parts[0] + 0.5 * parts[1])) < 1e-5 * r.loss, `${r.loss} vs ${parts}`);
    pd.dispose();
    pb.dispose();
    const back = roundTrip(m);
    assert.deepEqual(back.compileConfig(), m.compileConfig());
    assert.deepEqual(back.evaluate(xs, targets, { batchSize: n }), r);
    m.dispose();
    back.dispose();
  });
});

/** A layer written by a user, made of two Dense sublayers: y = sigmoid(gate(x)) ⊙ value(x). */
class Gated extends Layer {
  readonly className = 'TestGated';
  readonly defaultName = 'gated';
  readonly units: number;
  private readonly gate: Dense;
  private readonly value: Dense;
  constructor(o: LayerOptions & { units: number }) {
    super(o);
    this.units = o.units;
    this.gate = this.addLayer('gate', new Dense({ units: o.units, activation: 'sigmoid' }));
    this.value = this.addLayer('value', new Dense({ units: o.units }));
  }
  outputShape(s: number[]): number[] {
    return [...s.slice(0, -1), this.units];
  }
  protected override createWeights(s: number[], rng: Random): void {
    this.buildLayer(this.gate, s, rng);
    this.buildLayer(this.value, s, rng);
  }
  call(x: Tensor, ctx: CallContext): Tensor {
    return mul(this.callLayer(this.gate, x, ctx), this.callLayer(this.value, x, ctx));
  }
  protected config(): Record<string, unknown> {
    return { units: this.units };
  }
}
registerLayer('TestGated', (c) => new Gated(c as unknown as LayerOptions & { units: number }));

describe('a layer class made of layers', () => {
  test('sublayers built, named by path, trained through fit, saved and reloaded with a map by path', async () => {
    const x = input({ shape: [6] });
    const g = new Gated({ units: 4, maps: { 'value/kernel': 'lowRank:2' } });
    const m = model({ inputs: x, outputs: new Dense({ units: 3, activation: 'softmax' }).apply(g.apply(x)) }).build(0);
    assert.deepEqual(m.weights().map((w) => `${w.path}:${w.map.kind}`),
      ['gated/gate/kernel:dense', 'gated/gate/bias:dense', 'gated/value/kernel:lowRank', 'gated/value/bias:dense', 'dense/kernel:dense', 'dense/bias:dense']);
    assert.equal(m.countParams(), 6 * 4 + 4 + (6 * 2 + 2 * 4) + 4 + 4 * 3 + 3);
    checkGradients('gated', (t) => m.call(t), [f32([2, 6], 4)]);
    m.compile({ optimizer: { name: 'adam', learningRate: 0.02 }, loss: 'sparse_categorical_crossentropy' });
    const rng = new Rng(1);
    const xs = rng.uniforms(64 * 6, -1, 1);
    const ys = Int32Array.from({ length: 64 }, (_, i) => (xs[i * 6] > 0 ? 1 : 0) + (xs[i * 6 + 1] > 0 ? 1 : 0));
    const h = await m.fit({ data: xs, shape: [64, 6] }, { data: ys, shape: [64] }, { epochs: 20, batchSize: 16 });
    assert.ok(h.history.loss[19] < h.history.loss[0] * 0.5, `loss ${h.history.loss[0]} → ${h.history.loss[19]}`);
    const back = roundTrip(m);
    assert.equal(back.weights().find((w) => w.path === 'gated/value/kernel')!.map.kind, 'lowRank');
    sameOutputs(m, back, f32([3, 6], 9), 'reloaded gated');
    m.dispose();
    back.dispose();
  });
});

describe('input element types', () => {
  test('a first layer declares int32 inputs (token ids); data of another type is refused naming the input', () => {
    const s = sequential([new Flatten({ inputShape: [3], inputDType: 'int32' })]);
    assert.equal(s.inputs[0].dtype, 'int32');
    assert.equal(modelFromConfig(s.toJSON()).inputs[0].dtype, 'int32');
    const x = input({ shape: [3], dtype: 'int32', name: 'tokens' });
    const m = model({ inputs: x, outputs: new Flatten().apply(x) }).build(0);
    assert.deepEqual(m.toJSON().inputs, [{ name: 'tokens', shape: [3], dtype: 'int32' }]);
    const p = m.predict({ data: Int32Array.of(1, 2, 3), shape: [1, 3] });
    assert.deepEqual([...p.data()], [1, 2, 3]);
    p.dispose();
    assert.throws(() => m.predict({ data: Float32Array.of(1, 2, 3), shape: [1, 3] }), /input 'tokens' must be int32, got float32 data/);
    assert.throws(() => input({ shape: [3], dtype: 'int8' as 'int32' }), /dtype must be 'float32' or 'int32'/);
    m.dispose();
  });
});

test('unnamed inputs of one model are numbered as Keras numbers them (two of them used to be refused as both named input); given names are kept and must differ', () => {
  const a = input({ shape: [3] }), b = input({ shape: [2] }), c = input({ shape: [4], name: 'input_1' });
  const m = model({ inputs: [a, b, c], outputs: layers.concatenate().apply([a, b, c]) }).build(0);
  assert.deepEqual(m.inputs.map((t) => t.name), ['input', 'input_2', 'input_1']);
  // Through the model file the names stay.
  const back = modelFromCheckpoint(decodeCheckpoint(encodeCheckpoint(modelToCheckpoint(m))));
  assert.deepEqual(back.model.inputs.map((t) => t.name), ['input', 'input_2', 'input_1']);
  const y = m.predict([{ data: Float32Array.of(1, 2, 3), shape: [1, 3] }, { data: Float32Array.of(4, 5), shape: [1, 2] }, { data: Float32Array.of(6, 7, 8, 9), shape: [1, 4] }]);
  assert.deepEqual(Array.from(y.f32()), [1, 2, 3, 4, 5, 6, 7, 8, 9]);
  y.dispose();
  assert.throws(() => input({ shape: [null, 3] } as never), /^RangeError: input: shape must hold positive integers \(no batch axis: it is added\), got \[null,3\]$/);
  assert.throws(() => input({} as never), /^TypeError: input: takes \{ shape, name\?, dtype\? \}/);
  assert.throws(() => input({ shape: [2], name: '' }), /input: name must be a non-empty string, got ""/);
  const d = input({ shape: [1], name: 'x' }), e = input({ shape: [1], name: 'x' });
  assert.throws(() => model({ inputs: [d, e], outputs: layers.add().apply([d, e]) }), /two inputs are named 'x' \(give each input a name\)/);
  m.dispose();
  back.model.dispose();
});

test('graphs a file could not hold are refused when built, and odd arguments by name (they saved and did not load, or loaded as another model)', () => {
  const L = layers;
  const built = (f: () => Model): void => void f().build(0);
  // A layer both at the top and inside a block: saved once, wanted twice when loaded.
  assert.throws(() => built(() => {
    const d = L.dense({ units: 4 }), x = input({ shape: [4] }), bi = input({ shape: [4] });
    return model({ inputs: x, outputs: L.block({ inputs: bi, outputs: d.apply(bi) }).apply(d.apply(x)) });
  }), /^Error: model 'model': layer 'dense' is also used as 'block\/dense'; a layer cannot be shared across a block's boundary/);
  // A layer named 'a/b' beside a block 'a' holding 'b': two weights at one path, the file kept one.
  assert.throws(() => built(() => {
    const bi = input({ shape: [4] }), x = input({ shape: [4] });
    const block = L.block({ name: 'a', inputs: bi, outputs: L.dense({ units: 4, name: 'b' }).apply(bi) });
    return model({ inputs: x, outputs: L.dense({ units: 4, name: 'a/b' }).apply(block.apply(x)) });
  }), /two weights have the path 'a\/b\/kernel'/);
  // A block at two depths is one layer at one path: fine.
  const bi = input({ shape: [4] }), block = L.block({ inputs: bi, outputs: L.dense({ units: 4 }).apply(bi) }), x = input({ shape: [4] });
  const twice = model({ inputs: x, outputs: block.apply(block.apply(x)) }).build(0);
  assert.equal(twice.countParams(), 20);
  twice.dispose();
  // One input listed twice (the second array was ignored), outputs that are no symbolic tensors, apply on a tensor.
  const i = input({ shape: [4] });
  assert.throws(() => model({ inputs: [i, i], outputs: L.dense({ units: 2 }).apply(i) }), /input 'input.*' is listed twice among the inputs/);
  assert.throws(() => model({ inputs: i, outputs: 3 as never }), /^ArgumentError: model: outputs must be symbolic tensors .*, got the number 3$/);
  assert.throws(() => L.dense({ units: 2 }).apply(tensor([1, 2], [1, 2]) as never), /apply takes a symbolic tensor/);
  assert.throws(() => L.bidirectional({ layer: { className: 'LSTM' } as never }), /^TypeError: layer 'bidirectional' \(Bidirectional\): needs a recurrent layer or its spec \(\{ className, config \}\)/);
  // A Block takes the dtypes of its inner inputs, named at apply (int ids into an inner Dense failed at predict, naming matmul).
  const fi = input({ shape: [4] }), features = L.block({ inputs: fi, outputs: L.dense({ units: 2 }).apply(fi) });
  assert.throws(() => features.apply(input({ shape: [4], dtype: 'int32' })), /^DTypeError: layer 'block(_\d+)?' \(Block\): its input 'input(_\d+)?' is float32, got int32; token ids go through an Embedding first$/);
  const ii = input({ shape: [4], dtype: 'int32' }), lookup = L.block({ inputs: ii, outputs: L.embedding({ inputDim: 5, outputDim: 2 }).apply(ii) });
  assert.throws(() => lookup.apply(input({ shape: [4] })), /\(Block\): its input 'input(_\d+)?' is int32, got float32$/);
  assert.equal(lookup.apply(input({ shape: [4], dtype: 'int32' })).dtype, 'float32');
  // One tensor listed as two outputs: predictAll gives both (it freed the tensor twice).
  const y = L.dense({ units: 2 }).apply(i);
  const two = model({ inputs: i, outputs: [y, y] }).build(0);
  const outs = two.predictAll({ data: new Float32Array(4), shape: [1, 4] });
  assert.equal(outs.length, 2);
  assert.deepEqual(Array.from(outs[0]!.data()), Array.from(outs[1]!.data()));
  two.dispose();
});
