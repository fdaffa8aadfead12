// `weightshare export`: the Deep-Compression target (LeNet-300-100 within 1.5× of its .wsm file, onnxruntime-web agreeing on
// all 2,000 test digits), the reference CNN under a second, and bad input (one-line errors, nothing written).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ort from '../helpers/ort.js';
import { loadDataset } from '../../src/data/datasets.js';
import { loadModel, saveModel } from '../../src/io/files.js';
import { createModel } from '../../src/nn/zoo.js';
import { input, layers, model } from '../../src/nn/index.js';
import { runCli as run } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'ws-export-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));
const tmp = (name: string): string => join(dir, name);


const argmax = (a: ArrayLike<number>, i: number, k: number): number => {
  let b = 0;
  for (let j = 1; j < k; j++) if (a[i * k + j] > a[i * k + b]) b = j;
  return b;
};

test('Deep-Compression LeNet-300-100: the ONNX file stays within 1.5× of the .wsm file; onnxruntime agrees on all 2,000 test digits', async () => {
  assert.equal((await run('train', '--model', 'lenet-300-100', '--epochs', '1', '--limit', '2000', '--out', tmp('l300.wsm'))).code, 0);
  const c = await run('compress', tmp('l300.wsm'), '--prune', '0.92', '--clusters', '32', '--finetune-epochs', '0', '--out', tmp('l300-dc.wsm'));
  assert.equal(c.code, 0, c.err);
  const r = await run('export', tmp('l300-dc.wsm'), '--format', 'onnx', '--out', tmp('l300-dc.onnx'), '--json');
  assert.equal(r.code, 0, r.err);
  const wsm = statSync(tmp('l300-dc.wsm')).size, onnx = statSync(tmp('l300-dc.onnx')).size;
  assert.match(r.err, new RegExp(`^Saved .*l300-dc\\.onnx: ONNX opset 17, ${(onnx / 1024).toFixed(1)} KiB \\(.*l300-dc\\.wsm: ${(wsm / 1024).toFixed(1)} KiB, ${(onnx / wsm).toFixed(2)}×\\)`, 'm'));
  assert.deepEqual([JSON.parse(r.out).bytes, JSON.parse(r.out).modelBytes], [onnx, wsm]);
  assert.ok(onnx <= 1.5 * wsm, `ONNX ${onnx} bytes, .wsm ${wsm} bytes: ${(onnx / wsm).toFixed(2)}×`);

  const ds = loadDataset('mnist-sample');
  const n = ds.yTest.length;
  const { model } = loadModel(tmp('l300-dc.wsm'));
  const ours = model.predict({ data: ds.xTest, shape: [n, 28, 28, 1] }).f32();
  const s = await ort.InferenceSession.create(readFileSync(tmp('l300-dc.onnx')));
  const theirs = (await s.run({ input: new ort.Tensor('float32', ds.xTest, [n, 28, 28, 1]) }))[s.outputNames[0]].data as Float32Array;
  let agree = 0, diff = 0;
  for (let i = 0; i < n; i++) if (argmax(ours, i, 10) === argmax(theirs, i, 10)) agree++;
  for (let i = 0; i < ours.length; i++) diff = Math.max(diff, Math.abs(ours[i] - theirs[i]));
  assert.equal(agree, n);
  assert.ok(diff <= 1e-5, `max difference ${diff}`);
  model.dispose();
});

test('the reference CNN exports in under a second; the default output is <model>.onnx', async () => {
  const m = createModel('seed-cnn').build(0);
  saveModel(tmp('cnn.wsm'), m);
  m.dispose();
  const r = await run('export', tmp('cnn.wsm'), '--json');
  assert.equal(r.code, 0, r.err);
  const j = JSON.parse(r.out) as { out: string; seconds: number; bytes: number };
  assert.equal(j.out, tmp('cnn.onnx'));
  assert.equal(statSync(tmp('cnn.onnx')).size, j.bytes);
  assert.ok(j.seconds < 1, `export took ${j.seconds} s`);
});

test('bad input: a file that is not a model, a missing file, a layer ONNX export does not take yet (a recurrent layer after a masked Embedding): one line, exit 1, nothing written', async () => {
  writeFileSync(tmp('junk.wsm'), 'this is not a model');
  const before = readdirSync(dir).sort();
  for (const [args, message] of [
    [[tmp('junk.wsm'), '--out', tmp('junk.onnx')], /^weightshare: error: .*junk\.wsm: /],
    [[tmp('missing.wsm'), '--out', tmp('missing.onnx')], /^weightshare: error: .*missing\.wsm: no such file/],
  ] as const) {
    const r = await run('export', ...args);
    assert.equal(r.code, 1);
    assert.match(r.err, message);
    assert.equal(r.err.trim().split('\n').length, 1, r.err);
  }
  const ids = input({ shape: [6], dtype: 'int32' });
  const seq = layers.gru({ units: 4, returnSequences: true, goBackwards: true }).apply(layers.embedding({ inputDim: 12, outputDim: 4, maskZero: true }).apply(ids));
  const m = model({ inputs: ids, outputs: layers.dense({ units: 2 }).apply(seq) }).build(0);
  saveModel(tmp('rnn.wsm'), m);
  m.dispose();
  const r = await run('export', tmp('rnn.wsm'), '--out', tmp('rnn.onnx'));
  assert.equal(r.code, 1);
  assert.match(r.err, /^weightshare: error: .*rnn\.wsm: layer 'gru' \(GRU\): a masked input \(an Embedding with maskZero before it\) with returnSequences and goBackwards is not exported yet$/m);
  assert.equal(r.err.trim().split('\n').length, 1, r.err);
  assert.deepEqual(readdirSync(dir).sort(), [...before, 'rnn.wsm'].sort(), 'no output and no temporary file left');
  const u = await run('export', tmp('rnn.wsm'), '--format', 'tflite');
  assert.equal(u.code, 2);
  assert.match(u.err, /--format must be one of onnx/);
});

test('an --out that is an input is refused before anything is written (export and import wrote over their model); a TF.js export replaces an earlier one in its folder', async () => {
  const m = createModel('mlp:8', { inputShape: [28, 28, 1], classes: 10 }).build(0);
  saveModel(tmp('small.wsm'), m);
  m.dispose();
  const bytes = readFileSync(tmp('small.wsm'));
  const refused = async (args: string[], re: RegExp): Promise<void> => {
    const r = await run(...args);
    assert.equal(r.code, 2, r.err);
    assert.match(r.err, re);
  };
  await refused(['export', tmp('small.wsm'), '--out', tmp('small.wsm')], /^weightshare export: --out .*small\.wsm is the model file: the model would be written over it; give another --out$/m);
  assert.deepEqual(readFileSync(tmp('small.wsm')), bytes, 'the model is untouched');
  assert.equal((await run('export', tmp('small.wsm'), '--out', tmp('small.onnx'))).code, 0);
  const onnx = readFileSync(tmp('small.onnx'));
  await refused(['import', tmp('small.onnx'), '--out', tmp('small.onnx')], /^weightshare import: --out .*small\.onnx is the model file/m);
  assert.deepEqual(readFileSync(tmp('small.onnx')), onnx);
  // TF.js: twice into the same folder (the second run used to fail on the folder itself), and never over its weight file.
  for (let i = 0; i < 2; i++) assert.equal((await run('export', tmp('small.wsm'), '--format', 'tfjs', '--out', tmp('small-tfjs'))).code, 0);
  const shard = readdirSync(tmp('small-tfjs')).find((f) => f.endsWith('.bin'))!;
  await refused(['import', join(tmp('small-tfjs'), 'model.json'), '--out', join(tmp('small-tfjs'), shard)], /is the weight file: the model would be written over it/);
  await refused(['export', tmp('small.wsm'), '--format', 'tfjs', '--out', tmp('small.onnx')], /--out .*small\.onnx: a TF\.js export is a folder \(model\.json and its weight files\), and .* is a file/);
  assert.equal((await run('import', join(tmp('small-tfjs'), 'model.json'), '--out', tmp('back.wsm'))).code, 0);
  const folder = await run('import', tmp('small-tfjs'));
  assert.equal(folder.code, 1);
  assert.match(folder.err, /small-tfjs: is a folder; import reads \.json .*: give .*small-tfjs\/model\.json$/m);
  // --data with a built-in dataset is refused, as train refuses it (it was ignored).
  await refused(['import', tmp('small.onnx'), '--data', dir, '--out', tmp('o.wsm')], /--data .*: --dataset mnist-sample is built in and reads no --data/);
  await refused(['intrinsic-dim', '--data', dir, '--dims', '10', '--limit', '100'], /^weightshare intrinsic-dim: --data .*: --dataset mnist-sample is built in/m);
  // --dataset idx without its folder is a usage error (exit 2) before anything is read, as --dataset text without its file.
  for (const cmd of [['import', tmp('small.onnx')], ['train'], ['intrinsic-dim']]) {
    await refused([...cmd, '--dataset', 'idx'], new RegExp(`^weightshare ${cmd[0]}: --dataset idx reads a folder of IDX files: give it with --data DIR$`, 'm'));
  }
  // intrinsic-dim names its flags (a map's message named neither).
  await refused(['intrinsic-dim', '--model', 'mlp:8', '--seed', '-1', '--dims', '10', '--limit', '64'], /^weightshare intrinsic-dim: --seed must be an integer in \[0, 2\^32\)/m);
  await refused(['intrinsic-dim', '--model', 'mlp:8', '--dims', '10,99999', '--limit', '64'], /^weightshare intrinsic-dim: --dims: 99999 is more than the model's 6,370 parameters/m);
});
