// Tests of model files: models ⇄ checkpoint contents (config, weights, optimizer state, training record) and
// saveModel/loadModel on disk, including every way a file can fail to fit the model it describes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CheckpointError, decodeCheckpoint, encodeCheckpoint, type CheckpointContents } from '../../src/io/checkpoint.js';
import { type ModelFileMeta, modelFromCheckpoint, modelToCheckpoint, type TrainingState } from '../../src/io/model-file.js';
import { loadCheckpoint, loadModel, modelCheckpoint, saveCheckpoint, saveModel } from '../../src/io/files.js';
import type { Model } from '../../src/nn/model.js';
import { createModel } from '../../src/nn/zoo.js';
import { createOptimizer } from '../../src/optim/index.js';
import { CharTokenizer, WordTokenizer } from '../../src/data/tokenizer.js';
import { Dense, Embedding } from '../../src/nn/layers/index.js';
import { sequential } from '../../src/nn/index.js';

const dir = mkdtempSync(join(tmpdir(), 'ws-model-file-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

/** 64 pseudo-random 28×28 images with labels 0–9 (deterministic). */
function data(n = 64): { x: { data: Float32Array; shape: number[] }; y: { data: Int32Array; shape: number[] } } {
  let s = 12345;
  const next = (): number => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32);
  const x = Float32Array.from({ length: n * 784 }, () => next());
  const y = Int32Array.from({ length: n }, (_, i) => i % 10);
  return { x: { data: x, shape: [n, 28, 28, 1] }, y: { data: y, shape: [n] } };
}

/** A seed-cnn compiled with Adam and trained for 2 steps, so that every Adam slot and the iteration count are non-trivial. */
async function trainedCnn(): Promise<Model> {
  const m = createModel('seed-cnn');
  m.build(1);
  m.compile({ optimizer: createOptimizer({ name: 'adam', learningRate: 0.002 }), loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'] });
  const { x, y } = data();
  await m.fit(x, y, { epochs: 1, batchSize: 32, seed: 5 });
  return m;
}

const training: TrainingState = {
  epoch: 1, epochs: 3, batchSize: 32, seed: 5, dataset: 'mnist-sample', history: { epoch: [0], history: { loss: [2.25], accuracy: [0.125] } }, model: 'seed-cnn',
};

/** Bit-exact equality of two float arrays. */
function assertBits(a: Float32Array, b: Float32Array, what: string): void {
  assert.equal(a.length, b.length, what);
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length), ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < ua.length; i++) if (ua[i] !== ub[i]) assert.fail(`${what}[${i}]: ${a[i]} vs ${b[i]}`);
}

function assertSameWeights(a: Model, b: Model): void {
  const wa = a.getWeights(), wb = b.getWeights();
  assert.deepEqual([...wa.keys()], [...wb.keys()]);
  for (const [k, v] of wa) assertBits(v, wb.get(k)!, k);
}

function optimizerState(m: Model): ReturnType<NonNullable<Model['optimizer']>['getState']> {
  const named = m.namedParameters();
  return m.optimizer!.getState(named.map((p) => p.param.value), named.map((p) => p.name));
}

/** A mutable deep copy of checkpoint contents (fresh meta JSON, same tensor map entries). */
function copy(c: CheckpointContents): CheckpointContents & { meta: ModelFileMeta } {
  return { meta: JSON.parse(JSON.stringify(c.meta)) as ModelFileMeta, tensors: new Map(c.tensors) };
}

const throwsCheckpoint = (re: RegExp) => (e: unknown): boolean => {
  assert.ok(e instanceof CheckpointError, `expected a CheckpointError, got ${String(e)}`);
  assert.match(e.message, re);
  assert.doesNotMatch(e.message, /\n/);
  return true;
};

let cnn: Model | undefined;
const sharedCnn = async (): Promise<Model> => (cnn ??= await trainedCnn());

test('round trip of a compiled, trained seed-cnn keeps weights, compile settings, Adam slots and iterations', async () => {
  const m = await sharedCnn();
  const c = modelToCheckpoint(m, { training, initSeed: 1 });
  const meta = c.meta as ModelFileMeta;
  assert.equal(meta.kind, 'weightshare-model');
  assert.equal(meta.initSeed, 1);
  assert.equal(meta.optimizer?.iterations, 2);
  assert.deepEqual(Object.values(meta.optimizer!.steps), Array(8).fill(2));
  const names = m.namedParameters().map((p) => p.name);
  assert.deepEqual([...c.tensors.keys()].filter((k) => k.startsWith('weights/')), names.map((n) => `weights/${n}`));
  const slots = [...c.tensors.keys()].filter((k) => k.startsWith('optimizer/'));
  assert.equal(slots.length, 2 * names.length, slots.join(', ')); // Adam: m and v per weight
  for (const k of slots) assert.ok(c.tensors.get(k)!.data.some((v) => v !== 0), `${k} is all zeros`);

  const back = modelFromCheckpoint(decodeCheckpoint(encodeCheckpoint(c, 'cnn.wsm'), 'cnn.wsm'), 'cnn.wsm');
  assert.equal(back.model.name, 'seed-cnn');
  assert.equal(back.model.countParams(), 225034);
  assert.deepEqual(back.model.toJSON(), m.toJSON());
  assert.deepEqual(back.model.compileConfig(), m.compileConfig());
  assert.deepEqual(back.meta.training, training);
  assertSameWeights(back.model, m);
  const sa = optimizerState(m), sb = optimizerState(back.model);
  assert.equal(sb.iterations, sa.iterations);
  assert.deepEqual(sb.steps, sa.steps);
  assert.deepEqual(Object.keys(sb.slots).sort(), Object.keys(sa.slots).sort());
  for (const k of Object.keys(sa.slots)) assertBits(sb.slots[k]!, sa.slots[k]!, k);
});

test('the restored optimizer continues exactly; without optimizer state it does not', async () => {
  const m = await sharedCnn();
  const full = modelFromCheckpoint(decodeCheckpoint(encodeCheckpoint(modelToCheckpoint(m))));
  const bare = modelToCheckpoint(m, { withOptimizer: false });
  assert.equal((bare.meta as ModelFileMeta).optimizer, undefined);
  assert.ok(![...bare.tensors.keys()].some((k) => k.startsWith('optimizer/')));
  const fresh = modelFromCheckpoint(decodeCheckpoint(encodeCheckpoint(bare)));
  assert.equal(optimizerState(fresh.model).iterations, 0);

  const { x, y } = data(32);
  for (const model of [m, full.model, fresh.model]) await model.fit(x, y, { epochs: 1, batchSize: 32, seed: 9 });
  assertSameWeights(full.model, m);
  assert.equal(optimizerState(full.model).iterations, 3);
  const a = m.getWeights().get('dense/kernel')!, b = fresh.model.getWeights().get('dense/kernel')!;
  assert.ok(a.some((v, i) => v !== b[i]), 'a fresh Adam should take a different step than a restored one');
});

test('an uncompiled model round-trips without compile settings or optimizer', () => {
  const m = createModel('lenet5');
  m.build(3);
  const c = modelToCheckpoint(m);
  assert.equal((c.meta as ModelFileMeta).compile, undefined);
  const back = modelFromCheckpoint(decodeCheckpoint(encodeCheckpoint(c)));
  assert.equal(back.model.optimizer, undefined);
  assert.equal(back.meta.training, undefined);
  assertSameWeights(back.model, m);
});

test('a history value JSON cannot hold (perplexity e^loss of a diverging run: Infinity) is stored and comes back', () => {
  const m = createModel('lenet5');
  m.build(3);
  const t: TrainingState = { ...training, history: { epoch: [0, 1], history: { loss: [812.5, 900], perplexity: [Infinity, Infinity], x: [NaN, -Infinity] } } };
  const bytes = encodeCheckpoint(modelToCheckpoint(m, { training: t }));
  const back = modelFromCheckpoint(decodeCheckpoint(bytes));
  assert.deepEqual(back.meta.training?.history.history, { loss: [812.5, 900], perplexity: [Infinity, Infinity], x: [NaN, -Infinity] });
  // Any other string is still refused by name.
  const bad = copy(decodeCheckpoint(bytes));
  (bad.meta.training!.history.history as Record<string, unknown[]>).loss[0] = 'big';
  assert.throws(() => modelFromCheckpoint(bad), /field 'history\.history\.loss\[0\]'/);
  back.model.dispose();
  m.dispose();
});

test('a tokenizer saved with the model comes back identical; a damaged one is a CheckpointError naming it', () => {
  const m = sequential([new Dense({ units: 3 })], { inputShape: [4] }).build(1);
  const words = WordTokenizer.build('The Union is strong. The union, “strong”!\nAnd ünïcödé 😀 too.');
  const c = modelToCheckpoint(m, { tokenizer: words });
  assert.deepEqual((c.meta as ModelFileMeta).tokenizer, words.toJSON());
  const back = modelFromCheckpoint(decodeCheckpoint(encodeCheckpoint(c)), 'w.wsm');
  assert.ok(back.tokenizer instanceof WordTokenizer);
  assert.deepEqual(back.tokenizer.tokens, words.tokens);
  assert.deepEqual(back.tokenizer.encode('the union 😀 is new'), words.encode('the union 😀 is new'));
  assertSameWeights(back.model, m);
  assert.equal(modelFromCheckpoint(modelToCheckpoint(m)).tokenizer, undefined, 'no tokenizer, none returned');
  const chars = CharTokenizer.build('abc😀\n');
  const file = join(dir, 'chars.wsm');
  saveModel(file, m, { tokenizer: chars });
  const loaded = loadModel(file);
  assert.ok(loaded.tokenizer instanceof CharTokenizer);
  assert.equal(loaded.tokenizer.decode(loaded.tokenizer.encode('c😀a')), 'c😀a');
  const bad = copy(c);
  (bad.meta as ModelFileMeta).tokenizer!.tokens[4] = 'Upper Case';
  assert.throws(() => modelFromCheckpoint(bad, 'bad.wsm'), throwsCheckpoint(/^bad\.wsm: stored word tokenizer: token 4 \("Upper Case"\) is not a lower-case word/));
  (bad.meta as ModelFileMeta).tokenizer = { kind: 'bytes' } as unknown as ModelFileMeta['tokenizer'];
  assert.throws(() => modelFromCheckpoint(bad, 'bad.wsm'), throwsCheckpoint(/^bad\.wsm: stored tokenizer: unknown kind "bytes"/));
});

test('a weight of the wrong shape or dtype is a CheckpointError naming the weight and both shapes', async () => {
  const c = modelToCheckpoint(await sharedCnn());
  const bad = copy(c);
  bad.tensors.set('weights/dense/kernel', { dtype: 'float32', shape: [128, 1600], data: new Float32Array(128 * 1600) });
  assert.throws(() => modelFromCheckpoint(bad, 'bad.wsm'), throwsCheckpoint(/^bad\.wsm: weight 'dense\/kernel' is float32 \[128,1600\] but layer expects float32 \[1600,128\]$/));
  const rank = copy(c);
  rank.tensors.set('weights/conv2d/bias', { dtype: 'float32', shape: [1, 32], data: new Float32Array(32) });
  assert.throws(() => modelFromCheckpoint(rank, 'rank.wsm'), throwsCheckpoint(/weight 'conv2d\/bias' is float32 \[1,32\] but layer expects float32 \[32\]/));
  const int = copy(c);
  int.tensors.set('weights/dense_1/bias', { dtype: 'int32', shape: [10], data: new Int32Array(10) });
  assert.throws(() => modelFromCheckpoint(int, 'int.wsm'), throwsCheckpoint(/weight 'dense_1\/bias' is int32 \[10\]/));
});

test('a missing weight, an extra weight and a mis-sized optimizer slot are named', async () => {
  const c = modelToCheckpoint(await sharedCnn());
  const missing = copy(c);
  missing.tensors.delete('weights/conv2d_1/kernel');
  assert.throws(() => modelFromCheckpoint(missing, 'm.wsm'), throwsCheckpoint(/^m\.wsm: weight 'conv2d_1\/kernel' is missing$/));
  const extra = copy(c);
  extra.tensors.set('weights/dense_9/kernel', { dtype: 'float32', shape: [2], data: new Float32Array(2) });
  assert.throws(() => modelFromCheckpoint(extra, 'x.wsm'), throwsCheckpoint(/tensor 'weights\/dense_9\/kernel' belongs to no weight of the model/));
  const slot = copy(c);
  const key = [...c.tensors.keys()].find((k) => k.startsWith('optimizer/dense/kernel'))!;
  slot.tensors.set(key, { dtype: 'float32', shape: [3], data: new Float32Array(3) });
  assert.throws(() => modelFromCheckpoint(slot, 's.wsm'), throwsCheckpoint(/^s\.wsm: optimizer state does not fit the model: .*dense\/kernel/));
});

test('an unknown layer class or a header that is not a model is a clear error', async () => {
  const c = modelToCheckpoint(await sharedCnn());
  const unknown = copy(c);
  unknown.meta.model.layers[1]!.className = 'Bogus2D';
  assert.throws(() => modelFromCheckpoint(unknown, 'u.wsm'), throwsCheckpoint(/^u\.wsm: model config cannot be rebuilt: unknown layer class 'Bogus2D' \(known: .*Conv2D/));
  const modelClass = copy(c);
  (modelClass.meta.model as { className: string }).className = 'Graph';
  assert.throws(() => modelFromCheckpoint(modelClass, 'g.wsm'), throwsCheckpoint(/unknown model class 'Graph'/));
  for (const meta of [null, 42, { kind: 'something-else', model: {} }, { kind: 'weightshare-model' }]) {
    assert.throws(() => modelFromCheckpoint({ meta, tensors: new Map() }, 'n.wsm'), throwsCheckpoint(/^n\.wsm: not a weightshare model/));
  }
});

test('saveModel/loadModel through files: round trip, damage detection, missing file', async () => {
  const m = await sharedCnn();
  const file = join(dir, 'sub', 'cnn.wsm');
  saveModel(file, m, { training, initSeed: 1 });
  assert.ok(existsSync(file));
  const { model, meta } = loadModel(file);
  assertSameWeights(model, m);
  assert.deepEqual(meta.training, training);
  assert.equal(optimizerState(model).iterations, optimizerState(m).iterations);
  // loadCheckpoint + modelFromCheckpoint is what loadModel does.
  assertSameWeights(modelFromCheckpoint(loadCheckpoint(file), file).model, m);

  const bytes = readFileSync(file);
  const flipped = join(dir, 'flipped.wsm');
  const b = Uint8Array.from(bytes);
  b[b.length - 5]! ^= 0x80;
  writeFileSync(flipped, b);
  assert.throws(() => loadModel(flipped), throwsCheckpoint(/flipped\.wsm: checksum mismatch/));
  assert.throws(() => loadModel(join(dir, 'nope.wsm')), throwsCheckpoint(/nope\.wsm: no such file/));

  // A file whose contents are a valid checkpoint but whose weights do not fit.
  const c = copy(modelToCheckpoint(m));
  c.tensors.set('weights/dense/bias', { dtype: 'float32', shape: [64], data: new Float32Array(64) });
  const wrong = join(dir, 'wrong.wsm');
  saveCheckpoint(wrong, c);
  assert.throws(() => loadModel(wrong), throwsCheckpoint(/wrong\.wsm: weight 'dense\/bias' is float32 \[64\] but layer expects float32 \[128\]/));
});

test('saveModel ship: a file for shipping (no optimizer state, compile settings or training record; header compressed, format 3) loads with the same weights and meta', async () => {
  const m = await sharedCnn();
  const shipped = join(dir, 'cnn-ship.wsm'), full = join(dir, 'cnn-full.wsm'), bare = join(dir, 'cnn-bare.wsm');
  const bytes = saveModel(shipped, m, { initSeed: 1, ship: true });
  saveModel(full, m, { training, initSeed: 1 });
  saveModel(bare, m, { initSeed: 1, withOptimizer: false, withCompile: false });
  const version = (f: string): number => readFileSync(f).readUInt32LE(4);
  assert.deepEqual([version(shipped), version(full), version(bare)], [3, 2, 2]);
  assert.equal(bytes, readFileSync(shipped).length);
  const a = loadModel(shipped), b = loadModel(bare);
  assert.deepEqual(a.meta, b.meta, 'the meta of a file saved without optimizer, compile settings and training record');
  assert.deepEqual(Object.keys(a.meta).sort(), ['initSeed', 'kind', 'model']);
  assert.equal(a.model.optimizer, undefined);
  assertSameWeights(a.model, m);
  const cs = loadCheckpoint(shipped), cb = loadCheckpoint(bare);
  assert.deepEqual(cs.stored!.tensorBytes, cb.stored!.tensorBytes, 'the same tensors, stored alike');
  assert.ok(cs.stored!.fileBytes < cb.stored!.fileBytes, `${cs.stored!.fileBytes} bytes shipped vs ${cb.stored!.fileBytes}`);
  // An option given with ship wins over what ship sets.
  saveModel(shipped, m, { ship: true, compressHeader: false, withCompile: true });
  assert.equal(version(shipped), 2);
  assert.ok(loadModel(shipped).meta.compile);
  saveModel(shipped, m, { compressHeader: true });
  assert.equal(version(shipped), 3);
  assert.equal(optimizerState(loadModel(shipped).model).iterations, optimizerState(m).iterations, 'compressHeader alone keeps everything else');
});

test('modelCheckpoint saves after every epoch with the training record', async () => {
  const m = createModel('mlp');
  m.build(2);
  m.compile({ optimizer: 'sgd', loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'] });
  const file = join(dir, 'mlp-ckpt.wsm');
  const epochs: number[] = [];
  const cb = modelCheckpoint(file, (epoch, logs) => {
    epochs.push(epoch);
    return { epoch: epoch + 1, epochs: 2, batchSize: 16, seed: 0, history: { epoch: [epoch], history: { loss: [logs.loss!] } } };
  }, { initSeed: 2 });
  cb.model = m;
  const { x, y } = data(32);
  await m.fit(x, y, { epochs: 2, batchSize: 16, callbacks: [cb] });
  assert.deepEqual(epochs, [0, 1]);
  const { model, meta } = loadModel(file);
  assert.equal(meta.training?.epoch, 2);
  assert.equal(meta.initSeed, 2);
  assertSameWeights(model, m);
});

test('loadModel works from a process that imports only src/io/files.js (layers are registered by the model-file module)', async () => {
  const m = createModel('seed-cnn');
  m.build(4);
  const file = join(dir, 'standalone.wsm');
  saveModel(file, m);
  const files = fileURLToPath(new URL('../../src/io/files.js', import.meta.url));
  const script = `const { loadModel } = await import(${JSON.stringify(files)}); const { model } = loadModel(${JSON.stringify(file)}); console.log(model.countParams());`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), '225034');
});

test('saveModel refuses a tokenizer that is not one, or whose ids an Embedding reading the input cannot take, before writing', () => {
  const m = sequential([new Embedding({ inputDim: 5, outputDim: 3 }), new Dense({ units: 5 })], { inputShape: [4], inputDType: 'int32' }).build(1);
  const file = join(dir, 'tok.wsm');
  const big = CharTokenizer.build('abcdefghijklmnopqrs');
  assert.throws(() => saveModel(file, m, { tokenizer: big }), /^ArgumentError: saveModel: tokenizer has 21 tokens but layer 'embedding' \(Embedding\) takes ids below 5: the tokenizer does not fit the model$/);
  assert.throws(() => saveModel(file, m, { tokenizer: { foo: 1 } as unknown as CharTokenizer }), /saveModel: tokenizer must be a CharTokenizer or WordTokenizer \(e\.g\. from CharTokenizer\.build\), got/);
  assert.equal(existsSync(file), false, 'nothing written');
  saveModel(file, m, { tokenizer: CharTokenizer.build('ab') });
  assert.equal(loadModel(file).tokenizer!.vocabSize, 4);
});
