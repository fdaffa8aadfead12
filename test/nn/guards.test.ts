// The library's guards at its boundary: empty data, wrong argument types, overlapping fit calls, use after dispose, bad counts, and no tensor leak on a failed call.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { memory, tidy } from '../../src/core/engine.js';
import { ArgumentError, DTypeError, StateError } from '../../src/core/errors.js';
import { ones, tensor } from '../../src/core/ops/index.js';
import { limitDataset } from '../../src/data/dataset.js';
import { createGptModel, createTextModel, Dense, input, layers, type Model, model, sequential } from '../../src/nn/index.js';

/** A compiled 3 → 4 softmax classifier. */
function classifier(): Model {
  const m = sequential([new Dense({ units: 4, activation: 'softmax' })], { inputShape: [3], name: 'clf' }).build(0);
  m.compile({ optimizer: 'adam', loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'] });
  return m;
}
const xs = (n: number): { data: Float32Array; shape: number[] } => ({ data: Float32Array.from({ length: 3 * n }, (_, i) => (i % 7) / 7), shape: [n, 3] });
const ys = (n: number): { data: Int32Array; shape: number[] } => ({ data: Int32Array.from({ length: n }, (_, i) => i % 4), shape: [n] });

/** `e` is an instance of `cls` with exactly the message `msg` (one line). */
const is = (cls: new (...a: never[]) => Error, msg: string) => (e: Error): boolean => {
  assert.ok(e instanceof cls, `${e.name}: ${e.message}`);
  assert.equal(e.message, msg);
  return true;
};

test('fit and evaluate on an empty dataset are ArgumentErrors naming x and y (not loss 0, accuracy NaN); predict of nothing is an empty tensor', async () => {
  const m = classifier();
  await assert.rejects(m.fit(xs(0), ys(0)), is(ArgumentError, 'fit: x and y hold no samples (x [0, 3]): nothing to train on'));
  await assert.rejects(m.fit(xs(4), ys(4), { validationData: [xs(0), ys(0)] }),
    is(ArgumentError, 'fit: validationData x and y hold no samples (x [0, 3]): nothing to validate on'));
  assert.throws(() => m.evaluate(xs(0), ys(0)), is(ArgumentError, 'evaluate: x and y hold no samples (x [0, 3]): nothing to evaluate'));
  const p = m.predict(xs(0));
  assert.deepEqual(p.shape, [0, 4]);
  p.dispose();
  m.dispose();
});

test('fit, evaluate, predict and compile refuse options they do not take, naming them (classWeight and learningRate were ignored)', async () => {
  const m = classifier();
  await assert.rejects(m.fit(xs(4), ys(4), { classWeight: { 0: 2 } } as never), is(ArgumentError,
    "fit: unknown option 'classWeight' (options: epochs, batchSize, validationSplit, validationData, sampleWeight, shuffle, seed, callbacks, verbose, initialEpoch, initialStep, initialPartial, yieldEveryMs); weight the classes with sampleWeight (each sample the weight of its class)"));
  await assert.rejects(m.fit(xs(4), ys(4), { epochs: 1, onEpochEnd: () => 0 } as never), /^ArgumentError: fit: unknown option 'onEpochEnd' \(options: .*\); pass callbacks: \[\{ onEpochEnd\(epoch, logs\) \{ … \} \}\]$/);
  await assert.rejects(m.fit(xs(4), ys(4), null as never), /^ArgumentError: fit: options must be an object \{ epochs, /);
  await assert.rejects(m.fit(xs(4), ys(4), { shuffle: 'no' } as never), /^RangeError: fit: shuffle must be true or false, got "no"$/);
  await assert.rejects(m.fit(xs(4), ys(4), { validationSplit: '0.5' } as never), /^RangeError: fit: validationSplit must be a number in \(0, 1\), got "0.5"$/);
  assert.throws(() => m.evaluate(xs(4), ys(4), { batchsize: 2 } as never), is(ArgumentError, "evaluate: unknown option 'batchsize' (options: batchSize, sampleWeight)"));
  assert.throws(() => m.predict(xs(4), { verbose: 1 } as never), is(ArgumentError, "predict: unknown option 'verbose' (options: batchSize)"));
  assert.throws(() => m.compile({ optimizer: 'adam', loss: 'sparse_categorical_crossentropy', learningRate: 0.1 } as never), is(ArgumentError,
    "compile: unknown option 'learningRate' (options: optimizer, loss, lossWeights, metrics, fromLogits, ignoreClass); give it to the optimizer: optimizer: { name: 'adam', learningRate }"));
  assert.throws(() => m.compile({ optimizer: 'adam', loss: 'sparse_categorical_crossentropy', lossWeights: 0 } as never), /^RangeError: model 'clf': lossWeights must be 1 finite numbers ≥ 0 \(one per output\), got 0$/);
  // An option given as undefined is no option (spreading partial settings).
  const h = await m.fit(xs(4), ys(4), { epochs: 1, batchSize: undefined, classWeight: undefined } as never);
  assert.equal(h.epoch.length, 1);
  m.dispose();
});

test('wrong argument types are ArgumentErrors naming the function and the argument', async () => {
  const m = classifier();
  const nested = [[1, 2, 3]] as never;
  await assert.rejects(m.fit(nested, [0] as never), is(ArgumentError, "fit: x must be a Tensor or { data: Float32Array | Int32Array, shape: number[] }, got an array (make a tensor of nested arrays with tensor(values), int32 labels with tensor(labels, undefined, 'int32'))"));
  await assert.rejects(m.fit({ data: [1, 2, 3], shape: [1, 3] } as never, ys(1)), is(ArgumentError, 'fit: x.data must be a Float32Array or Int32Array, got an array'));
  await assert.rejects(m.fit(xs(1), { data: new Int32Array(1), shape: '1' } as never), is(ArgumentError, 'fit: y.shape must be a list of whole sizes ≥ 0, got the string "1"'));
  await assert.rejects(m.fit(null as never, ys(1)), is(ArgumentError, 'fit: x must be a Tensor or { data: Float32Array | Int32Array, shape: number[] }, got null'));
  await assert.rejects(m.fit(xs(2), ys(2), { validationData: [xs(2), 7 as never] }), /^ArgumentError: fit: validation y must be a Tensor .*, got the number 7$/);
  await assert.rejects(m.fit(xs(2), ys(2), { callbacks: {} as never }), is(ArgumentError, 'fit: callbacks must be a list, got an object'));
  assert.throws(() => m.evaluate(xs(1), new Float64Array(1) as never), /^ArgumentError: evaluate: y must be a Tensor .*, got a Float64Array$/);
  assert.throws(() => m.predict({ data: new Float32Array(3), shape: [1, 1.5] }), is(ArgumentError, 'predict: x.shape must be a list of whole sizes ≥ 0, got [1,1.5]'));
  assert.throws(() => m.compile({ optimizer: 'adam', loss: 'sparse_categorical_crossentropy', metrics: 'accuracy' as never }),
    is(ArgumentError, "compile: metrics must be a list of metric names (e.g. ['accuracy']), got the string \"accuracy\""));
  assert.throws(() => m.compile({ optimizer: 'adam' } as never), is(ArgumentError, "compile: loss is missing (e.g. 'sparse_categorical_crossentropy')"));
  assert.throws(() => m.compile({ optimizer: 'adam', loss: 3 as never }), is(ArgumentError, 'compile: loss must be a loss name or a Loss, got the number 3'));
  // An ArgumentError is also a TypeError, as JavaScript's own wrong-type errors are.
  assert.ok(new ArgumentError('f', 'x') instanceof TypeError);
  m.dispose();
});

test('counts out of range are RangeErrors naming the function that was called (predict is not reported as fit)', async () => {
  const m = classifier();
  assert.throws(() => m.predict(xs(1), { batchSize: 0 }), is(RangeError, 'predict: batchSize must be a positive integer, got 0'));
  assert.throws(() => m.evaluate(xs(1), ys(1), { batchSize: 2.5 }), is(RangeError, 'evaluate: batchSize must be a positive integer, got 2.5'));
  await assert.rejects(m.fit(xs(2), ys(2), { epochs: -1 }), is(RangeError, 'fit: epochs must be a positive integer, got -1'));
  await assert.rejects(m.fit(xs(2), ys(2), { initialEpoch: -2 }), is(RangeError, 'fit: initialEpoch must be an integer ≥ 0, got -2'));
  await assert.rejects(m.fit(xs(2), ys(2), { initialStep: -1 }), is(RangeError, 'fit: initialStep must be an integer ≥ 0, got -1'));
  await assert.rejects(m.fit(xs(2), ys(2), { seed: '1' as never }), is(RangeError, 'fit: seed must be an integer, got "1"'));
  const ds = { name: 'tiny', shape: [3], classes: 4, xTrain: xs(5).data, yTrain: ys(5).data, xTest: xs(2).data, yTest: ys(2).data };
  assert.throws(() => limitDataset(ds, -10), is(RangeError, 'limitDataset: trainLimit must be an integer ≥ 0, got -10'));
  assert.throws(() => limitDataset(ds, undefined, 1.5), is(RangeError, 'limitDataset: testLimit must be an integer ≥ 0, got 1.5'));
  m.dispose();
});

test('a second fit() while one runs is a StateError (so are trainOnBatch and compile); the first finishes as if alone', async () => {
  const alone = classifier();
  const want = await alone.fit(xs(64), ys(64), { epochs: 2, batchSize: 8 });
  alone.dispose();
  const m = classifier();
  // yieldEveryMs 0: the first fit gives way to the event loop after every batch, so the second call comes while it runs.
  const first = m.fit(xs(64), ys(64), { epochs: 2, batchSize: 8, yieldEveryMs: 0 });
  const busy = "model 'clf': fit() called while fit() is running on it (await that fit first: two would interleave their batches)";
  await assert.rejects(m.fit(xs(64), ys(64)), is(StateError, busy));
  assert.throws(() => m.trainOnBatch(tensor(xs(2).data, [2, 3]), tensor(ys(2).data, [2], 'int32')), /^StateError: model 'clf': trainOnBatch\(\) called while fit\(\) is running/);
  assert.throws(() => m.compile({ optimizer: 'sgd', loss: 'sparse_categorical_crossentropy' }), /^StateError: model 'clf': compile\(\) called while fit\(\) is running/);
  // Exact: the rejected calls changed nothing, so the history is the lone run's bit for bit.
  assert.deepEqual(await first, want);
  await m.fit(xs(8), ys(8)); // once it is done, fit runs again
  m.dispose();
});

test('predict, fit, evaluate, trainOnBatch and getWeights after dispose() are StateErrors (not a freshly initialised model)', async () => {
  const m = classifier();
  m.dispose();
  m.dispose(); // twice is harmless
  assert.ok(m.disposed);
  const gone = "model 'clf': was disposed (its weights are freed); create or load the model again to use it";
  assert.throws(() => m.predict(xs(1)), is(StateError, gone));
  await assert.rejects(m.fit(xs(1), ys(1)), is(StateError, gone));
  assert.throws(() => m.evaluate(xs(1), ys(1)), is(StateError, gone));
  assert.throws(() => tidy(() => m.trainOnBatch(ones([1, 3]), tensor(Int32Array.of(0), [1], 'int32'))), is(StateError, gone));
  assert.throws(() => m.getWeights(), is(StateError, gone));
  // Disposed while fit runs: the next batch stops with the same kind of error.
  const n = classifier();
  const run = n.fit(xs(64), ys(64), { epochs: 2, batchSize: 8, yieldEveryMs: 0, callbacks: [{ onBatchEnd: (step) => void (step === 2 && n.dispose()) }] });
  await assert.rejects(run, is(StateError, "model 'clf': was disposed during fit() (epoch 1, batch 4)"));
});

test('a failed call leaks no tensor: trainOnBatch with float32 labels, fit with bad labels, a throwing tidy (memory() before and after, exact)', async () => {
  const m = classifier();
  const x = tensor(xs(2).data, [2, 3]);
  const floatLabels = tensor(Float32Array.of(0, 1), [2]);
  const outOfRange = tensor(Int32Array.of(0, 9), [2], 'int32');
  const before = memory();
  for (let i = 0; i < 3; i++) {
    assert.throws(() => m.trainOnBatch(x, floatLabels), is(DTypeError, 'sparse_categorical_crossentropy: labels must be int32 class indices, got float32'));
  }
  await assert.rejects(m.fit(x, floatLabels), DTypeError);
  assert.throws(() => m.trainOnBatch(x, outOfRange), /label 9 of sample 1 is outside the model's 4 classes/);
  assert.deepEqual(memory(), before);
  assert.throws(() => tidy(() => {
    ones([5, 5]);
    throw new Error('inside tidy');
  }), /inside tidy/);
  assert.deepEqual(memory(), before);
  for (const t of [x, floatLabels, outOfRange]) t.dispose();
  m.dispose();
});

test('a layer factory called without its options names itself and what it takes; options that are not numbers are quoted as they came', () => {
  for (const [f, takes] of [['lstm', '{ units }'], ['dense', '{ units }'], ['embedding', '{ inputDim, outputDim }'], ['multiHeadAttention', '{ numHeads, keyDim }']] as const) {
    assert.throws(() => (layers[f] as (o?: unknown) => unknown)(), (e: Error) => e instanceof TypeError && e.message === `layers.${f}: takes an options object such as ${takes}, got undefined`);
  }
  assert.throws(() => (layers.gru as (o: unknown) => unknown)(8), /^TypeError: layers\.gru: takes an options object such as \{ units \}, got the number 8$/);
  // NaN and ±Infinity as themselves (JSON would print null), strings in quotes.
  assert.throws(() => layers.lstm({ units: NaN }), /^RangeError: layer 'lstm': units must be an integer ≥ 1, got NaN$/);
  assert.throws(() => layers.dropout({ rate: Infinity }), /rate must be in \[0, 1\), got Infinity$/);
  assert.throws(() => layers.lstm({ units: '4' as never }), /units must be an integer ≥ 1, got "4"$/);
});

test('a weight too large to allocate names its layer, weight, shape and size (was a bare "Invalid typed array length"); nothing is left allocated', () => {
  const before = memory().tensors;
  const x = input({ shape: [1000] });
  assert.throws(() => model({ inputs: x, outputs: layers.dense({ units: 1e9, name: 'wide' }).apply(x) }).build(1),
    /^RangeError: layer 'wide' \(Dense\): weight 'kernel' of shape \[1000,1000000000\] has 1,000,000,000,000 values \(3730 GiB as float32\), too many to allocate \(/);
  const ids = input({ shape: [4], dtype: 'int32' });
  assert.throws(() => model({ inputs: ids, outputs: layers.embedding({ inputDim: 3e9, outputDim: 8 }).apply(ids) }).build(1), /layer 'embedding\w*' \(Embedding\): weight 'embeddings' of shape \[3000000000,8\]/);
  assert.equal(memory().tensors, before);
});

test('the text model factories check their options like the layers: tied a boolean, sizes numbers, options given', () => {
  assert.throws(() => createTextModel('char-lstm', { vocab: 5, length: 4, embed: 4, hidden: 4, tied: 'no' as never }), /^RangeError: model 'char-lstm': tied must be true or false, got "no"$/);
  assert.throws(() => createTextModel('char-lstm', { vocab: '5' as never, length: 4 }), /vocabulary size must be an integer ≥ 2, got "5"$/);
  assert.throws(() => (createTextModel as (n: string) => unknown)('char-lstm'), /^TypeError: createTextModel\('char-lstm'\): takes options such as \{ vocab, length \}, got undefined$/);
  assert.throws(() => (createGptModel as () => unknown)(), /^TypeError: createGptModel: takes options such as \{ vocab, context \}, got undefined$/);
  // Options of another kind of model are refused, not ignored; dropout must be a number ([] read as 0); depth is bounded.
  assert.throws(() => createTextModel('char-lstm', { vocab: 5, length: 4, classes: 3 }), /^RangeError: model 'char-lstm': classes is for the text classifiers \(text-gru, text-lstm\); a language model predicts the next token$/);
  assert.throws(() => createTextModel('gpt', { vocab: 5, length: 4, classes: 3 }), /^RangeError: model 'gpt': classes is for the text classifiers/);
  assert.throws(() => createTextModel('text-gru', { vocab: 5, length: 4, classes: 2, dropout: [] as never }), /^RangeError: model 'text-gru': dropout must be in \[0, 1\), got \[\]$/);
  assert.throws(() => createTextModel('word-lstm', { vocab: 5, length: 4, layers: 1e9 }), /^RangeError: model 'word-lstm': layers must be an integer in \[1, 1000\], got 1000000000$/);
  assert.throws(() => createGptModel({ vocab: 5, context: 4, name: 7 as never }), /^RangeError: createGptModel: name must be a string, got the number 7$/);
});

test('trainOnBatch takes { data, shape } arrays as fit does: the same step as with tensors, no tensor left behind', () => {
  const [a, b] = [classifier(), classifier()];
  for (const m of [a, b]) tidy(() => m.trainOnBatch(tensor(xs(2).data, [2, 3]), tensor(ys(2).data, [2], 'int32'))); // Adam's slots exist from here
  const before = memory().tensors;
  const viaArrays = a.trainOnBatch(xs(4), ys(4));
  assert.equal(memory().tensors, before, 'the step made and freed its tensors');
  const viaTensors = tidy(() => b.trainOnBatch(tensor(xs(4).data, [4, 3]), tensor(ys(4).data, [4], 'int32')));
  assert.deepEqual(viaArrays, viaTensors);
  assert.deepEqual([...a.getWeights().values()].map((w) => [...w]), [...b.getWeights().values()].map((w) => [...w]));
  a.dispose();
  b.dispose();
});

test('an option a layer does not have is refused at its first use, naming it (Keras options not implemented here were ignored)', () => {
  const x = input({ shape: [4, 6] });
  assert.throws(() => layers.multiHeadAttention({ numHeads: 2, keyDim: 2, attentionAxes: [1] } as never).apply(x),
    /^LayerConfigError: layer 'multi_head_attention' \(MultiHeadAttention\): unknown option 'attentionAxes', which this library does not implement or which is misspelt \(options: name, numHeads, /);
  const gru = layers.gru({ units: 2, stateful: true } as never);
  assert.throws(() => gru.apply(x), /layer 'gru' \(GRU\): unknown option 'stateful'/);
  assert.throws(() => gru.apply(x), /unknown option 'stateful'/, 'and at every later use');
  assert.throws(() => new Dense({ units: 2, activaton: 'relu' } as never).apply(input({ shape: [3] })), /layer 'dense' \(Dense\): unknown option 'activaton'/);
  assert.throws(() => layers.layerNormalization({ rmsScaling: true } as never).apply(x), /unknown option 'rmsScaling'/);
  // A wrapped layer is rebuilt from its config, never applied itself: Bidirectional checks it when it takes it.
  assert.throws(() => layers.bidirectional({ layer: layers.lstm({ units: 2, stateful: true } as never) }), /layer 'lstm' \(LSTM\): unknown option 'stateful'/);
  // Options written in another form (timeSharing as a map, a block's inputs and outputs as its graph), regularizers,
  // and options given as undefined are fine.
  layers.lstm({ units: 2, steps: 4, timeSharing: 'untied', kernelRegularizer: { l2: 0.1 }, dropout: undefined }).apply(x);
  const i = input({ shape: [4, 6] });
  layers.block({ inputs: i, outputs: layers.dense({ units: 6 }).apply(i) }).apply(x);
});

test('trainOnBatch takes sampleWeight (it was ignored) and refuses options it does not have', () => {
  const m = sequential([new Dense({ units: 1 })], { inputShape: [2] }).build(0);
  m.compile({ optimizer: { name: 'sgd', learningRate: 1e-30 }, loss: 'mse' });
  const x = { data: Float32Array.of(1, 2, 3, 4), shape: [2, 2] }, y = { data: Float32Array.of(0, 10), shape: [2, 1] };
  const p = m.predict(x).f32();
  const err = [p[0] ** 2, (p[1] - 10) ** 2];
  assert.ok(Math.abs(m.trainOnBatch(x, y).loss - (err[0] + err[1]) / 2) < 1e-4);
  assert.ok(Math.abs(m.trainOnBatch(x, y, { sampleWeight: { data: Float32Array.of(1, 0), shape: [2] } }).loss - err[0] / 2) < 1e-4, 'Keras: weighted sum over the batch size');
  assert.throws(() => m.trainOnBatch(x, y, { sampleWeights: 1 } as never), /^ArgumentError: trainOnBatch: unknown option 'sampleWeights' \(options: seed, sampleWeight\)$/);
  assert.throws(() => m.trainOnBatch(x, y, { sampleWeight: { data: Float32Array.of(1, -1), shape: [2] } }), /trainOnBatch: sampleWeight of sample 1 is -1/);
  m.dispose();
});

test('factories, optimizers, callbacks, tokenizers and loadModel refuse options they do not take (they were ignored), naming them', async () => {
  const { createModel, EarlyStopping } = await import('../../src/nn/index.js');
  const { Adam, AdamW, SGD } = await import('../../src/optim/index.js');
  const { WordTokenizer } = await import('../../src/data/tokenizer.js');
  const { loadModel } = await import('../../src/io/files.js');
  const cases: [string, () => unknown, RegExp][] = [
    ['createModel', () => createModel('mlp:8', { inputShape: [4], classs: 3 } as never), /^ArgumentError: createModel: unknown option 'classs' \(options: inputShape, classes\)$/],
    ['createTextModel', () => createTextModel('char-lstm', { vocab: 5, length: 4, units: 8 } as never), /^ArgumentError: createTextModel\('char-lstm'\): unknown option 'units' \(options: vocab, length, /],
    ['createGptModel', () => createGptModel({ vocab: 5, context: 4, numHeads: 2 } as never), /^ArgumentError: createGptModel: unknown option 'numHeads' /],
    ['Adam', () => new Adam({ lr: 0.1 } as never), /^ArgumentError: Adam: unknown option 'lr' \(options: learningRate, beta1, beta2, epsilon, globalClipnorm, clipnorm, schedule\)$/],
    ['AdamW', () => new AdamW({ weight_decay: 0.1 } as never), /^ArgumentError: AdamW: unknown option 'weight_decay' \(options: learningRate, beta1, beta2, epsilon, weightDecay, /],
    ['SGD', () => new SGD({ learningRate: 0.1, decay: 0.1 } as never), /^ArgumentError: SGD: unknown option 'decay' /],
    ['EarlyStopping', () => new EarlyStopping({ patience: 2, restoreBest: true } as never), /^ArgumentError: EarlyStopping: unknown option 'restoreBest' \(options: monitor, minDelta, patience, mode, baseline, restoreBestWeights\)$/],
    ['WordTokenizer', () => WordTokenizer.build('a b', { maxTokens: 10 } as never), /^ArgumentError: WordTokenizer\.build: unknown option 'maxTokens' \(options: maxVocab, source\); the vocabulary cap is maxVocab$/],
    ['loadModel', () => loadModel('x.wsm', { lazy: true } as never), /^ArgumentError: loadModel: unknown option 'lazy' \(options: maxElements, maxModelElements, allowNonFinite\)$/],
  ];
  const { CSVLogger, ModelCheckpoint } = await import('../../src/io/callbacks.js');
  const { exportOnnx } = await import('../../src/io/onnx/export.js');
  const { exportTfjs } = await import('../../src/io/tfjs/export.js');
  const { loadTextDataset } = await import('../../src/data/corpora.js');
  const { saveModel, saveTfjs } = await import('../../src/io/files.js');
  const { deepCompressSettings } = await import('../../src/transforms/deep-compression.js');
  const { softSharingSettings } = await import('../../src/transforms/soft-sharing.js');
  const { variationalDropoutSettings } = await import('../../src/transforms/variational-dropout.js');
  const m = createModel('mlp:4', { inputShape: [3], classes: 2 }).build(0);
  cases.push(
    ['ModelCheckpoint', () => new ModelCheckpoint('x.wsm', { save_best_only: true } as never), /^ArgumentError: ModelCheckpoint: unknown option 'save_best_only' /],
    ['CSVLogger', () => new CSVLogger('x.csv', { sep: ';' } as never), /^ArgumentError: CSVLogger: unknown option 'sep' \(options: separator, append\)$/],
    ['exportOnnx', () => exportOnnx(m, { opset: 13 } as never), /^ArgumentError: exportOnnx: unknown option 'opset' \(options: materialize, onNote, version\)$/],
    ['exportTfjs', () => exportTfjs(m, { quantise: 'uint8' } as never), /^ArgumentError: exportTfjs: unknown option 'quantise' /],
    ['saveTfjs', () => saveTfjs('never-written', m as never), /^ArgumentError: saveTfjs: writes what exportTfjs\(model\) returns \(\{ modelJson, weightData \}\), got an? \w+: call exportTfjs\(model\) first$/],
    ['loadTextDataset', () => loadTextDataset('sotu', { window: 32 } as never), /^ArgumentError: loadTextDataset: unknown option 'window' /],
    ['saveModel', () => saveModel('never-written.wsm', m, { overwrite: true } as never), /^ArgumentError: saveModel: unknown option 'overwrite' \(options: training, initSeed, withOptimizer, withCompile, extra, tokenizer, force, compressHeader, ship\)$/],
    ['deepCompressSettings', () => deepCompressSettings({ clusters: 8, finetuneEpoch: 2 } as never), /^ArgumentError: deepCompress: unknown option 'finetuneEpoch' /],
    ['softSharingSettings', () => softSharingSettings({ component: 8 } as never), /^ArgumentError: softWeightSharing: unknown option 'component' /],
    ['variationalDropoutSettings', () => variationalDropoutSettings({ kl_weight: 1 } as never), /^ArgumentError: sparseVariationalDropout: unknown option 'kl_weight' /],
  );
  for (const [label, f, re] of cases) assert.throws(f, (e: Error) => re.test(`${e.name}: ${e.message}`), label);
  // The pipelines' data: a missing part is named (it failed inside as "Cannot read properties of undefined").
  const { softWeightSharing } = await import('../../src/transforms/soft-sharing.js');
  const { deepCompress } = await import('../../src/transforms/deep-compression.js');
  const x = { data: new Float32Array(6), shape: [2, 3] };
  await assert.rejects(softWeightSharing(m, { train: { x } } as never), /^ArgumentError: softWeightSharing: data must be \{ train: \{ x, y \}, test: \{ x, y \} \}: data\.train\.y is missing$/);
  await assert.rejects(deepCompress(m, null as never, { clusters: 4 }), /^ArgumentError: deepCompress: data must be .*, got null$/);
  m.dispose();
  // What they take still works, AdamW's weightDecay included, and sparseVariationalDropout's initLogSigma2 (its list
  // named it initLogSigma, so the documented option was refused and the misspelt one ignored).
  assert.equal(new AdamW({ weightDecay: 0.05, learningRate: 0.01 }).weightDecay, 0.05);
  assert.equal(variationalDropoutSettings({ initLogSigma2: -8 }).initLogSigma2, -8);
  assert.throws(() => variationalDropoutSettings({ initLogSigma: -8 } as never), /^ArgumentError: sparseVariationalDropout: unknown option 'initLogSigma' /);
});

test('a non-model, a non-tensor or a wrongly typed argument is named by the function it was given to (it failed inside, reading a property of null)', async () => {
  const { saveModel, loadModel } = await import('../../src/io/files.js');
  const { exportOnnx } = await import('../../src/io/onnx/export.js');
  const { importOnnx } = await import('../../src/io/onnx/import.js');
  const { exportTfjs } = await import('../../src/io/tfjs/export.js');
  const { subspace } = await import('../../src/transforms/subspace.js');
  const { pruneWeights } = await import('../../src/transforms/prune.js');
  const { tensor } = await import('../../src/core/ops/index.js');
  const { model, sequential } = await import('../../src/nn/model.js');
  const { createModel } = await import('../../src/nn/zoo.js');
  const m = createModel('mlp:4', { inputShape: [3], classes: 2 }).build(0);
  const cases: [string, () => unknown, RegExp][] = [
    ['saveModel', () => saveModel('never-written.wsm', {} as never), /^ArgumentError: saveModel: takes a model \(createModel, sequential or model\), got an object$/],
    ['exportOnnx', () => exportOnnx(null as never), /^ArgumentError: exportOnnx: takes a model .*, got null$/],
    ['exportTfjs', () => exportTfjs(undefined as never), /^ArgumentError: exportTfjs: takes a model .*, got undefined$/],
    ['subspace', () => subspace(null as never, { dim: 2 }), /^ArgumentError: subspace: takes a model/],
    ['pruneWeights', () => pruneWeights(null as never, { prune: 0.5 }), /^ArgumentError: pruneWeights: takes a model/],
    ['importOnnx', () => importOnnx('x' as never), /^OnnxImportError: model\.onnx: importOnnx takes the file's bytes \(a Uint8Array, e\.g\. readFileSync's Buffer\), got the string "x"$/],
    ['loadModel', () => loadModel(123 as never), /^CheckpointError: 123: a path must be a string, got the number 123$/],
    ['model', () => model({} as never), /^ArgumentError: model: needs inputs and outputs/],
    ['sequential', () => sequential(null as never), /^ArgumentError: sequential: takes an array of layers, got null$/],
    ['getLayer', () => m.getLayer(5 as never), /^ArgumentError: getLayer: takes a layer name/],
    ['setWeights', () => m.setWeights(null as never), /^ArgumentError: setWeights: takes a Map or an object/],
    ['tensor', () => tensor('abc' as never), /^DTypeError: tensor: takes numbers \(a number, an array, possibly nested, or a typed array\), got the string "abc"$/],
    ['tensor', () => tensor([1, '2'] as never), /^DTypeError: tensor: takes numbers, got "2" at flat index 1$/],
  ];
  for (const [label, f, re] of cases) assert.throws(f, (e: Error) => re.test(`${e.name}: ${e.message}`), label);
  m.dispose();
});
