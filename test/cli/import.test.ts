// `weightshare export --format tfjs` and `weightshare import`: folders tfjs-layers loads from disk, a TF.js-built CNN imported,
// evaluated, compressed and re-exported, and bad input (one-line errors, exit 1).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadDataset } from '../../src/data/datasets.js';
import { loadModel, loadTfjs, saveModel } from '../../src/io/files.js';
import { OnnxGraph } from '../../src/io/onnx/builder.js';
import { importOnnx } from '../../src/io/onnx/index.js';
import { createModel } from '../../src/nn/zoo.js';
import { clusterWeights } from '../../src/transforms/cluster.js';
import { runCli as run } from '../helpers/cli.js';
import { tf, tfl } from '../helpers/tfjs.js';

const dir = mkdtempSync(join(tmpdir(), 'ws-import-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));
const tmp = (name: string): string => join(dir, name);
const ds = loadDataset('mnist-sample');
const N = 64;
const digits = ds.xTest.slice(0, N * 784);

/** tf.loadLayersModel on a folder written to disk: model.json and the weight files it names, read as file:// reads them. */
async function loadFolder(folder: string): Promise<tfl.LayersModel> {
  const json = JSON.parse(readFileSync(join(folder, 'model.json'), 'utf8')) as tf.io.ModelJSON;
  const artifacts = await tf.io.getModelArtifactsForJSON(json, async (m) => {
    const parts = m.flatMap((g) => g.paths.map((p) => readFileSync(join(folder, p))));
    return [m.flatMap((g) => g.weights), new Uint8Array(Buffer.concat(parts)).buffer];
  });
  return tfl.loadLayersModel(tf.io.fromMemory(artifacts));
}

const maxAbs = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  assert.equal(a.length, b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
};

test('export --format tfjs: a codebook model needs --materialize; with it and --quantize uint8 tfjs-layers loads the folder and predicts as the dequantised model (1e-5)', async () => {
  const m = createModel('lenet-300-100').build(0);
  clusterWeights(m, { clusters: 16 });
  saveModel(tmp('dc.wsm'), m);
  const before = readdirSync(dir).sort();
  const refused = await run('export', tmp('dc.wsm'), '--format', 'tfjs', '--out', tmp('refused'));
  assert.equal(refused.code, 1);
  assert.match(refused.err, /^weightshare: error: .*dc\.wsm: layer 'dense' \(Dense\): weight 'kernel' is held by a 'codebook' map; TF\.js stores dense tensors only \(export with --materialize/);
  assert.equal(refused.err.trim().split('\n').length, 1, refused.err);
  assert.deepEqual(readdirSync(dir).sort(), before, 'nothing written');

  const r = await run('export', tmp('dc.wsm'), '--format', 'tfjs', '--materialize', '--quantize', 'uint8', '--json');
  assert.equal(r.code, 0, r.err);
  const out = tmp('dc-tfjs');
  assert.deepEqual(readdirSync(out).sort(), ['group1-shard1of1.bin', 'model.json']);
  const j = JSON.parse(r.out) as { bytes: number; maxQuantizationError: number; files: string[] };
  const bin = readFileSync(join(out, 'group1-shard1of1.bin')).length, json = readFileSync(join(out, 'model.json')).length;
  assert.equal(j.bytes, bin + json);
  assert.equal(bin, 784 * 300 + 300 + 300 * 100 + 100 + 100 * 10 + 10, 'one byte per weight');
  assert.match(r.err, new RegExp(`^Saved .*dc-tfjs/model\\.json \\+ 1 weight file: TF\\.js layers model, uint8 weights \\(max error ${j.maxQuantizationError.toPrecision(3)}\\), ${((bin + json) / 1024).toFixed(1)} KiB \\(.*dc\\.wsm: `, 'm'));
  assert.match(r.err, /^note: dense\/kernel: a 'codebook' map written as its dense W/m);
  const theirs = (await loadFolder(out)).predict(tf.tensor(digits, [N, 28, 28, 1])) as tf.Tensor;
  const back = loadTfjs(join(out, 'model.json')).model;
  assert.ok(maxAbs(back.predict({ data: digits, shape: [N, 28, 28, 1] }).f32(), theirs.dataSync()) <= 1e-5);
  back.dispose();
  m.dispose();
});

test('import: a CNN built and saved by tfjs-layers (model.json + weights.bin) predicts the same (1e-5), is bound to mnist-sample, and eval, compress and export take it', async () => {
  const cnn = tfl.sequential({
    layers: [
      tfl.layers.conv2d({ inputShape: [28, 28, 1], filters: 4, kernelSize: 3, activation: 'relu' }), tfl.layers.maxPooling2d({ poolSize: 2 }),
      tfl.layers.flatten(), tfl.layers.dense({ units: 10, activation: 'softmax' }),
    ],
  });
  mkdirSync(tmp('cnn'));
  await cnn.save(tf.io.withSaveHandler(async (a) => {
    writeFileSync(tmp('cnn/model.json'), JSON.stringify({ modelTopology: a.modelTopology, format: a.format, generatedBy: a.generatedBy, convertedBy: a.convertedBy, weightsManifest: [{ paths: ['weights.bin'], weights: a.weightSpecs }] }));
    writeFileSync(tmp('cnn/weights.bin'), new Uint8Array(a.weightData as ArrayBuffer));
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
  }));
  const r = await run('import', tmp('cnn/model.json'));
  assert.equal(r.code, 0, r.err);
  assert.match(r.err, /^Read .*cnn\/model\.json \(TensorFlow\.js tfjs-layers v4\.22\.0\): Sequential '.*', 4 layers \(1 Conv2D, 1 MaxPooling2D, 1 Flatten, 1 Dense\), 6,810 parameters in 4 weights, input \[28, 28, 1\]/m);
  assert.match(r.err, /^Saved .*cnn\.wsm: .* KiB, dataset mnist-sample \(eval and compress use it\)$/m);
  const { model, meta } = loadModel(tmp('cnn.wsm'));
  assert.equal(meta.training?.dataset, 'mnist-sample');
  const theirs = (cnn.predict(tf.tensor(digits, [N, 28, 28, 1])) as tf.Tensor).dataSync();
  assert.ok(maxAbs(model.predict({ data: digits, shape: [N, 28, 28, 1] }).f32(), theirs) <= 1e-5);
  model.dispose();

  const e = await run('eval', tmp('cnn.wsm'), '--test-limit', '100');
  assert.equal(e.code, 0, e.err);
  assert.match(e.out, /^mnist-sample test set \(100 samples\): loss \d/);
  const c = await run('compress', tmp('cnn.wsm'), '--finetune-epochs', '0', '--test-limit', '100', '--out', tmp('cnn-dc.wsm'));
  assert.equal(c.code, 0, c.err);
  const x = await run('export', tmp('cnn-dc.wsm'), '--format', 'tfjs', '--materialize', '--quantize', 'uint8', '--out', tmp('cnn-web'));
  assert.equal(x.code, 0, x.err);
  assert.ok(existsSync(tmp('cnn-web/model.json')));
});

test('import: an MLP on [784] vectors gets a Flatten from [28, 28, 1] so that eval runs; a model of other inputs is saved without a dataset', async () => {
  const mlp = tfl.sequential({ layers: [tfl.layers.dense({ inputShape: [784], units: 10, activation: 'softmax' })] });
  const small = tfl.sequential({ layers: [tfl.layers.dense({ inputShape: [5], units: 2 })] });
  for (const [name, m] of [['mlp', mlp], ['small', small]] as const) {
    await m.save(tf.io.withSaveHandler(async (a) => {
      writeFileSync(tmp(`${name}.json`), JSON.stringify({ modelTopology: a.modelTopology, format: a.format, weightsManifest: [{ paths: [`${name}.bin`], weights: a.weightSpecs }] }));
      writeFileSync(tmp(`${name}.bin`), new Uint8Array(a.weightData as ArrayBuffer));
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }));
  }
  const r = await run('import', tmp('mlp.json'));
  assert.equal(r.code, 0, r.err);
  assert.match(r.err, /^note: the \[784\] input gets a Flatten from \[28, 28, 1\] in front/m);
  assert.equal((await run('eval', tmp('mlp.wsm'), '--test-limit', '50')).code, 0);
  const s = await run('import', tmp('small.json'), '--json');
  assert.equal(s.code, 0, s.err);
  assert.equal((JSON.parse(s.out) as { dataset: null }).dataset, null);
  assert.match(s.err, /no dataset \(give --dataset to eval and compress\)/);
});

test('import: bad input is one line, exit 1: another extension, a missing weight file, truncated weights, a dataset the model does not fit; a bare Keras topology', async () => {
  const m = createModel('mlp').build(0);
  saveModel(tmp('plain.wsm'), m);
  m.dispose();
  assert.equal((await run('export', tmp('plain.wsm'), '--format', 'tfjs', '--out', tmp('plain'))).code, 0);
  writeFileSync(tmp('model.onnx'), 'x');
  writeFileSync(tmp('model.pb'), 'x');
  const cases: [string[], RegExp][] = [
    [[tmp('model.onnx')], /^weightshare: error: .*model\.onnx: /],
    [[tmp('model.pb')], /^weightshare: error: .*model\.pb: cannot import '\.pb' files; import reads \.json \(a TF\.js layers model.*, \.onnx \(an ONNX model/],
    [[tmp('nothing/model.json')], /^weightshare: error: .*nothing\/model\.json: the file is missing\n$/],
  ];
  for (const [args, message] of cases) {
    const r = await run('import', ...args);
    assert.equal(r.code, 1, r.err);
    assert.match(r.err, message);
    assert.equal(r.err.trim().split('\n').length, 1, r.err);
  }
  const bin = readFileSync(tmp('plain/group1-shard1of1.bin'));
  rmSync(tmp('plain/group1-shard1of1.bin'));
  let r = await run('import', tmp('plain/model.json'), '--out', tmp('x.wsm'));
  assert.match(r.err, /^weightshare: error: .*plain\/model\.json: weight file 'group1-shard1of1\.bin' \(.*plain\/group1-shard1of1\.bin\) is missing\n$/);
  writeFileSync(tmp('plain/group1-shard1of1.bin'), bin.subarray(0, 1000));
  r = await run('import', tmp('plain/model.json'), '--out', tmp('x.wsm'));
  assert.match(r.err, /^weightshare: error: .*plain\/model\.json: weight data is truncated: 'dense\/kernel' needs bytes 0–627200 of weight file group1-shard1of1\.bin, which has 1000\n$/);
  writeFileSync(tmp('plain/group1-shard1of1.bin'), bin);
  // A bare Keras topology (no weights: initialised, with a note) that does not take mnist-sample's images.
  writeFileSync(tmp('keras.json'), JSON.stringify({ class_name: 'Sequential', config: { name: 'tiny', layers: [{ class_name: 'Dense', config: { name: 'fc', units: 2, batch_input_shape: [null, 5] } }] } }));
  r = await run('import', tmp('keras.json'), '--dataset', 'mnist-sample', '--out', tmp('x.wsm'));
  assert.match(r.err, /^weightshare: error: .*keras\.json: model 'tiny' takes inputs \[5\] but dataset 'mnist-sample' has samples \[28, 28, 1\]\n$/);
  assert.equal(existsSync(tmp('x.wsm')), false, 'nothing written');
  r = await run('import', tmp('keras.json'), '--out', tmp('x.wsm'));
  assert.equal(r.code, 0, r.err);
  assert.match(r.err, /^note: .*keras\.json: no weights manifest: the weights are initialised \(seed 0\)$/m);
});

test('import model.onnx: an MLP on [784] vectors gets a Flatten from [28, 28, 1], predicts what the file does on the same pixels, and eval runs it', async () => {
  const g = new OnnxGraph('mlp784');
  const x = g.input('x', 'float32', ['N', 784]);
  const wts = Float32Array.from({ length: 10 * 784 }, (_, i) => Math.sin(i * 0.37) * 0.05);
  const y = g.node('Gemm', [x, g.initializer('fc.weight', 'float32', [10, 784], wts), g.initializer('fc.bias', 'float32', [10], new Float32Array(10).fill(0.1))], 'fc', { transB: 1 });
  g.output(g.node('Softmax', [y], 'softmax', { axis: 1 }), 'y', 'float32', ['N', 10]);
  const bytes = g.toBytes({ opset: 13, producer: 'test', version: '1' });
  writeFileSync(tmp('mlp784.onnx'), bytes);
  const r = await run('import', tmp('mlp784.onnx'), '--json');
  assert.equal(r.code, 0, r.err);
  assert.match(r.err, /^note: the \[784\] input gets a Flatten from \[28, 28, 1\] in front/m);
  const j = JSON.parse(r.out) as { dataset: string; inputShape: number[]; layers: Record<string, string> };
  assert.deepEqual([j.dataset, j.inputShape, Object.values(j.layers)], ['mnist-sample', [28, 28, 1], ['Flatten', 'Dense']]);
  const { model } = loadModel(tmp('mlp784.wsm'));
  const { model: flat } = importOnnx(bytes);
  assert.ok(maxAbs(model.predict({ data: digits, shape: [N, 28, 28, 1] }).data(), flat.predict({ data: digits, shape: [N, 784] }).data()) === 0);
  model.dispose();
  flat.dispose();
  assert.equal((await run('eval', tmp('mlp784.wsm'), '--test-limit', '20')).code, 0);
});

test('import model.onnx: a PyTorch CNN (NCHW) becomes an NHWC model bound to mnist-sample that predicts what PyTorch does (1e-5), and eval runs it', async () => {
  const fixtures = new URL('../../../test/fixtures/onnx-import/', import.meta.url);
  const file = tmp('cnn.onnx');
  writeFileSync(file, readFileSync(new URL('cnn.onnx', fixtures)));
  const r = await run('import', file, '--out', tmp('torch-cnn.wsm'), '--json');
  assert.equal(r.code, 0, r.err);
  assert.match(r.err, /^note: input 'input': NCHW \[N, 1, 28, 28\] in the file, NHWC \[N, 28, 28, 1\] here/m);
  const j = JSON.parse(r.out) as { dataset: string; parameters: number; layers: Record<string, string> };
  assert.equal(j.dataset, 'mnist-sample');
  assert.deepEqual(Object.values(j.layers), ['Conv2D', 'MaxPooling2D', 'Conv2D', 'MaxPooling2D', 'Flatten', 'Dense', 'Dense']);
  const e = (JSON.parse(readFileSync(new URL('expected.json', fixtures), 'utf8')) as Record<string, { input: { shape: number[]; data: number[] }; output: { data: number[] } }>).cnn;
  const [n, , h, w] = e.input.shape; // one channel: NCHW and NHWC hold the same order
  const { model } = loadModel(tmp('torch-cnn.wsm'));
  const ours = model.predict({ data: Float32Array.from(e.input.data), shape: [n, h, w, 1] }).data();
  e.output.data.forEach((v, i) => assert.ok(Math.abs(ours[i] - v) <= 1e-5, `[${i}]: ours ${ours[i]}, PyTorch ${v}`));
  const ev = await run('eval', tmp('torch-cnn.wsm'), '--test-limit', '20');
  assert.equal(ev.code, 0, ev.err);
  assert.match(ev.out, /^mnist-sample test set \(20 samples\): loss [\d.]+ - accuracy [\d.]+ %\n$/);
});
