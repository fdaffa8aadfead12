// One layer, one set of weights, sequences of different lengths (Keras semantics): a seq2seq-style model whose encoder
// (6 steps) and decoder (4 steps) share the Embedding, LSTM, LayerNormalization, MultiHeadAttention and output Dense.
// Each use equals a model of its own built at that length with the same weights; training, save/load, ONNX and TF.js work;
// a transformer block (a Block of Blocks) serves both lengths too, and a Conv2D images of two sizes; layers whose weights
// see the shape (other features, a locally connected grid, a block whose layers would) are still refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { memory } from '../../src/core/engine.js';
import type { Tensor } from '../../src/core/tensor.js';
import { exportOnnx, importOnnx } from '../../src/io/onnx/index.js';
import { decodeCheckpoint, encodeCheckpoint, modelFromCheckpoint, modelToCheckpoint } from '../../src/io/index.js';
import { input, layers, type Model, model, transformerBlock } from '../../src/nn/index.js';
import ort from '../helpers/ort.js';
import { tf, tfl } from '../helpers/tfjs.js';
import { exportTfjs } from '../../src/io/tfjs/export.js';

const VOCAB = 12;
const ENC = Int32Array.from({ length: 12 }, (_, i) => (i * 5) % VOCAB); // [2, 6], some ids 0 (masked)
const DEC = Int32Array.from({ length: 8 }, (_, i) => (i * 7 + 1) % VOCAB); // [2, 4]

/** The shared layers, created fresh (names fixed so that weights map between models). */
function shared() {
  return {
    emb: layers.embedding({ inputDim: VOCAB, outputDim: 8, maskZero: true, name: 'emb' }),
    rnn: layers.lstm({ units: 5, returnSequences: true, name: 'rnn' }),
    norm: layers.layerNormalization({ name: 'norm' }),
    att: layers.multiHeadAttention({ numHeads: 2, keyDim: 3, name: 'att' }),
    out: layers.dense({ units: VOCAB, activation: 'softmax', name: 'out' }),
  };
}

/** Encoder ids [6] and decoder ids [4] through the same layers; outputs: the decoder attending to the encoder, then each one's own states. */
function seq2seq(): Model {
  const l = shared();
  const enc = input({ shape: [6], dtype: 'int32', name: 'enc' }), dec = input({ shape: [4], dtype: 'int32', name: 'dec' });
  const he = l.norm.apply(l.rnn.apply(l.emb.apply(enc))), hd = l.norm.apply(l.rnn.apply(l.emb.apply(dec)));
  return model({ inputs: [enc, dec], outputs: [l.out.apply(l.att.apply([hd, he])), l.out.apply(he), l.out.apply(hd)], name: 'seq2seq' }).build(7);
}

/** The encoder branch alone at length `t` (no attention): emb → rnn → norm → out. */
function branch(t: number): Model {
  const l = shared();
  const x = input({ shape: [t], dtype: 'int32' });
  return model({ inputs: x, outputs: l.out.apply(l.norm.apply(l.rnn.apply(l.emb.apply(x)))) }).build(0);
}

const feed = [{ data: ENC, shape: [2, 6] }, { data: DEC, shape: [2, 4] }];

/** ONNX Runtime runs the export of a model taking `enc` [2, 6] and `dec` [2, 4] and gives its outputs `ours` (1e-5). */
async function agreesWithOnnxRuntime(m: Model, ours: readonly Tensor[]): Promise<void> {
  const s = await ort.InferenceSession.create(exportOnnx(m));
  const r = await s.run({ enc: new ort.Tensor('int32', ENC, [2, 6]), dec: new ort.Tensor('int32', DEC, [2, 4]) });
  ours.forEach((y, i) => {
    const theirs = r[s.outputNames[i]].data as Float32Array;
    assert.equal(theirs.length, y.size);
    y.data().forEach((v, j) => assert.ok(Math.abs(v - theirs[j]) <= 1e-5, `output ${i} [${j}]: ours ${v}, onnxruntime ${theirs[j]}`));
  });
}

test('Embedding, LSTM, LayerNormalization, MultiHeadAttention and Dense serve sequences of two lengths with one set of weights; each use equals a model built at its length', () => {
  const m = seq2seq();
  assert.equal(m.countParams(), 12 * 8 + 4 * 5 * (8 + 5 + 1) + 2 * 5 + (3 * (5 * 6 + 6) + 6 * 5 + 5) + 5 * 12 + 12, 'each layer counted once');
  const [ya, ye, yd] = m.predictAll(feed);
  assert.deepEqual([ya.shape, ye.shape, yd.shape], [[2, 4, VOCAB], [2, 6, VOCAB], [2, 4, VOCAB]]);
  // The same weights in models built at length 6 and at length 4: each use of a shared layer computes what a layer built for it would.
  for (const [t, ids, y] of [[6, ENC, ye], [4, DEC, yd]] as const) {
    const b = branch(t);
    b.setWeights(new Map([...m.getWeights()].filter(([k]) => !k.startsWith('att/'))));
    assert.deepEqual(Array.from(y.data()), Array.from(b.predict({ data: ids, shape: [2, t] }).data()), `length ${t}`);
    b.dispose();
  }
  m.dispose();
});

test('a model sharing layers across lengths trains, round-trips through its file, and runs in ONNX Runtime', async () => {
  const m = seq2seq();
  m.compile({ optimizer: 'adam', loss: 'sparse_categorical_crossentropy' });
  const h = await m.fit(feed, [{ data: DEC, shape: [2, 4] }, { data: ENC, shape: [2, 6] }, { data: DEC, shape: [2, 4] }], { epochs: 5, verbose: 0 });
  const loss = h.history.loss;
  assert.ok(loss[4] < loss[0], `loss falls: ${loss.join(', ')}`);
  // The shared output layer makes three outputs: each has its own metrics (out, out_1, out_2), none overwritten.
  m.compile({ optimizer: 'adam', loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'] });
  const ys = [{ data: DEC, shape: [2, 4] }, { data: ENC, shape: [2, 6] }, { data: DEC, shape: [2, 4] }];
  const logs = m.evaluate(feed, ys);
  assert.deepEqual(Object.keys(logs).filter((k) => k.endsWith('accuracy')).sort(), ['out_1_accuracy', 'out_2_accuracy', 'out_accuracy']);
  const [pa, pe, pd] = m.predictAll(feed).map((y) => y.f32());
  // Accuracy over the unmasked positions (maskZero: the inputs' id 0, here also the labels' id 0).
  const acc = (p: Float32Array, ids: Int32Array): number => {
    const live = Array.from(ids.keys()).filter((i) => ids[i] !== 0);
    return live.filter((i) => p.subarray(i * VOCAB, (i + 1) * VOCAB).indexOf(Math.max(...p.subarray(i * VOCAB, (i + 1) * VOCAB))) === ids[i]).length / live.length;
  };
  assert.deepEqual([logs.out_accuracy, logs.out_1_accuracy, logs.out_2_accuracy].map((v) => v.toFixed(6)), [acc(pa, DEC), acc(pe, ENC), acc(pd, DEC)].map((v) => v.toFixed(6)));
  const again = modelFromCheckpoint(decodeCheckpoint(encodeCheckpoint(modelToCheckpoint(m))), 'seq2seq.wsm').model;
  const [a, b] = [m.predictAll(feed), again.predictAll(feed)];
  a.forEach((y, i) => assert.deepEqual(Array.from(b[i].data()), Array.from(y.data())));
  await agreesWithOnnxRuntime(m, a);
  // Imported back, each layer's second use is a layer whose every weight is tied to the first's (the LSTM's bias too).
  const back = importOnnx(exportOnnx(m)).model;
  back.predictAll(feed).forEach((y, i) => y.data().forEach((v, j) => assert.ok(Math.abs(v - a[i].data()[j]) <= 1e-5, `imported output ${i} [${j}]`)));
  assert.equal(back.countParams(), m.countParams(), back.summary());
  m.dispose();
  again.dispose();
  back.dispose();
});

test('a transformer block (a block of blocks) serves sequences of two lengths: each use equals the block built at its length; it trains, round-trips and runs in ONNX Runtime', async () => {
  const parts = (t: number) => ({
    emb: layers.embedding({ inputDim: VOCAB, outputDim: 8, name: 'emb' }),
    blk: transformerBlock([t, 8], { heads: 2, name: 'blk' }),
    out: layers.dense({ units: VOCAB, activation: 'softmax', name: 'out' }),
  });
  const l = parts(6);
  const enc = input({ shape: [6], dtype: 'int32', name: 'enc' }), dec = input({ shape: [4], dtype: 'int32', name: 'dec' });
  const m = model({ inputs: [enc, dec], outputs: [l.out.apply(l.blk.apply(l.emb.apply(enc))), l.out.apply(l.blk.apply(l.emb.apply(dec)))], name: 'two-lengths' }).build(3);
  const [ye, yd] = m.predictAll(feed);
  assert.deepEqual([ye.shape, yd.shape], [[2, 6, VOCAB], [2, 4, VOCAB]]);
  for (const [t, ids, y] of [[6, ENC, ye], [4, DEC, yd]] as const) {
    const p = parts(t);
    const x = input({ shape: [t], dtype: 'int32' });
    const one = model({ inputs: x, outputs: p.out.apply(p.blk.apply(p.emb.apply(x))) }).build(0);
    one.setWeights(m.getWeights());
    assert.deepEqual(Array.from(y.data()), Array.from(one.predict({ data: ids, shape: [2, t] }).data()), `length ${t}`);
    one.dispose();
  }
  m.compile({ optimizer: 'adam', loss: 'sparse_categorical_crossentropy' });
  const h = await m.fit(feed, [{ data: ENC, shape: [2, 6] }, { data: DEC, shape: [2, 4] }], { epochs: 5, verbose: 0 });
  assert.ok(h.history.loss[4] < h.history.loss[0], `loss falls: ${h.history.loss.join(', ')}`);
  const a = m.predictAll(feed);
  const again = modelFromCheckpoint(decodeCheckpoint(encodeCheckpoint(modelToCheckpoint(m))), 'two-lengths.wsm').model;
  again.predictAll(feed).forEach((y, i) => assert.deepEqual(Array.from(y.data()), Array.from(a[i].data())));
  await agreesWithOnnxRuntime(m, a);
  m.dispose();
  again.dispose();
});

test('tfjs-layers loads the TF.js export of an Embedding → LSTM → Dense shared by inputs of lengths 6 and 4 and agrees (1e-6)', async () => {
  const enc = input({ shape: [6], dtype: 'int32', name: 'enc' }), dec = input({ shape: [4], dtype: 'int32', name: 'dec' });
  const emb = layers.embedding({ inputDim: VOCAB, outputDim: 8 }), rnn = layers.lstm({ units: 5, returnSequences: true }), out = layers.dense({ units: 3 });
  const m = model({ inputs: [enc, dec], outputs: [out.apply(rnn.apply(emb.apply(enc))), out.apply(rnn.apply(emb.apply(dec)))] }).build(1);
  const e = exportTfjs(m);
  const weights = new Uint8Array(e.weightData.reduce((n, w) => n + w.length, 0));
  e.weightData.reduce((at, w) => (weights.set(w, at), at + w.length), 0);
  const artifacts = await tf.io.getModelArtifactsForJSON(JSON.parse(JSON.stringify(e.modelJson)) as tf.io.ModelJSON, async (g) => [g.flatMap((x) => x.weights), weights.buffer]);
  const theirs = (await tfl.loadLayersModel(tf.io.fromMemory(artifacts))).predict([tf.tensor(ENC, [2, 6], 'int32'), tf.tensor(DEC, [2, 4], 'int32')]) as tf.Tensor[];
  m.predictAll(feed).forEach((y, i) => {
    const t = theirs[i].dataSync();
    y.data().forEach((v, j) => assert.ok(Math.abs(v - t[j]) <= 1e-6, `output ${i} [${j}]: ours ${v}, tfjs ${t[j]}`));
  });
  tf.dispose(theirs);
  m.dispose();
});

test('one Conv2D serves images of two sizes (its kernel sees the channels only): each use equals a layer built at that size; ONNX Runtime agrees', async () => {
  const conv = (): ReturnType<typeof layers.conv2d> => layers.conv2d({ filters: 3, kernelSize: 3, padding: 'same', activation: 'relu', name: 'conv' });
  const big = input({ shape: [12, 12, 2], name: 'big' }), small = input({ shape: [7, 7, 2], name: 'small' });
  const c = conv();
  const m = model({ inputs: [big, small], outputs: [c.apply(big), c.apply(small)] }).build(5);
  const rng = (n: number, k: number): Float32Array => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37 + k));
  const xs = [{ data: rng(2 * 12 * 12 * 2, 1), shape: [2, 12, 12, 2] }, { data: rng(2 * 7 * 7 * 2, 2), shape: [2, 7, 7, 2] }];
  const ys = m.predictAll(xs);
  for (const [i, size] of [[0, 12], [1, 7]] as const) {
    const x = input({ shape: [size, size, 2] });
    const alone = model({ inputs: x, outputs: conv().apply(x) }).build(0);
    alone.setWeights(m.getWeights());
    assert.deepEqual(Array.from(ys[i].data()), Array.from(alone.predict(xs[i]).data()), `size ${size}`);
    alone.dispose();
  }
  const s = await ort.InferenceSession.create(exportOnnx(m));
  const r = await s.run({ big: new ort.Tensor('float32', xs[0].data, xs[0].shape), small: new ort.Tensor('float32', xs[1].data, xs[1].shape) });
  ys.forEach((y, i) => y.data().forEach((v, j) => assert.ok(Math.abs(v - (r[s.outputNames[i]].data as Float32Array)[j]) <= 1e-5, `onnx output ${i} [${j}]`)));
  assert.throws(() => c.apply(input({ shape: [12, 12, 3] })), /is applied again to inputs \(None, 12, 12, 3\)/);
  m.dispose();
});

test('reuse across lengths also holds for per-step kernels and a position table (up to its length); it stays refused where the weights see the shape: other features, a locally connected grid, a block whose layers would see other features', () => {
  const before = memory().tensors;
  const a = input({ shape: [5, 8] }), b = input({ shape: [3, 7] }), c = input({ shape: [3, 8] }), long = input({ shape: [7, 8] });
  const dense = layers.dense({ units: 4 });
  dense.apply(a);
  assert.throws(() => dense.apply(b), /is applied again to inputs \(None, 3, 7\), but its first use took \(None, 5, 8\)/);
  assert.deepEqual(dense.apply(c).shape, [3, 4]);
  const perStep = layers.lstm({ units: 4, steps: 5, returnSequences: true });
  perStep.apply(a);
  assert.deepEqual(perStep.apply(long).shape, [7, 4]);
  const pos = layers.positionEmbedding({ sequenceLength: 5 });
  pos.apply(a);
  assert.deepEqual(pos.apply(c).shape, [3, 8]);
  assert.throws(() => pos.apply(long), /has 7 steps, more than its sequenceLength 5|7 steps, more than its sequenceLength 5/);
  const norm = layers.layerNormalization(); // the trailing axis: any length, any rank
  norm.apply(input({ shape: [8] }));
  assert.deepEqual(norm.apply(c).shape, [3, 8]);
  const byAxis = layers.layerNormalization({ axis: 1 }); // Keras' axis 1: the first per-sample axis, whose size is the length
  byAxis.apply(a);
  assert.throws(() => byAxis.apply(c), /is applied again to inputs \(None, 3, 8\)/);
  assert.throws(() => layers.conv2d({ filters: 2, kernelSize: 3 }).apply(input({ shape: [2, 2, 1] })), (e: Error) => /does not fit: input size 2 is smaller than the effective kernel size 3/.test(e.message) && !e.message.includes(': :'));
  // Pooling and LocallyConnected2D as well (they read "does not fit: : input size …").
  for (const l of [layers.maxPooling2d({ poolSize: 3 }), layers.locallyConnected2d({ filters: 1, kernelSize: 3 })]) {
    assert.throws(() => l.apply(input({ shape: [2, 2, 1] })), (e: Error) => /does not fit: input size 2 is smaller than the effective kernel size 3/.test(e.message) && !e.message.includes(': :'));
  }
  const bi = input({ shape: [5, 8] });
  const block = layers.block({ inputs: bi, outputs: layers.dense({ units: 8, name: 'inner' }).apply(bi) });
  block.apply(a);
  assert.deepEqual(block.apply(c).shape, [3, 8], 'a block takes what its layers take');
  assert.throws(() => block.apply(b), /layer 'block' \(Block\): .*at \(None, 3, 7\) its inner layer 'inner' \(Dense\) would get \(None, 3, 7\), which its weights \(built for \(None, 5, 8\)\) do not fit/);
  const flat = layers.block({ inputs: bi, outputs: layers.dense({ units: 2, name: 'head' }).apply(layers.flatten().apply(bi)) });
  flat.apply(a);
  assert.throws(() => flat.apply(c), /at \(None, 3, 8\) its inner layer 'head' \(Dense\) would get \(None, 24\), which its weights \(built for \(None, 40\)\) do not fit/);
  const grid = layers.locallyConnected2d({ filters: 2, kernelSize: 3 });
  grid.apply(input({ shape: [6, 6, 1] }));
  assert.throws(() => grid.apply(input({ shape: [5, 5, 1] })), /is applied again to inputs \(None, 5, 5, 1\)/);
  assert.equal(memory().tensors, before);
});
