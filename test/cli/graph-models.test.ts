// Graph models made in code (a residual MLP, a block reused three times) through the command line: summary, eval and
// compress (sublayers' kernels found by path, --layer-prune by path); a two-input model is compressed from code.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadDataset } from '../../src/data/datasets.js';
import { loadModel, saveModel } from '../../src/io/files.js';
import { input, layers, type Model, model } from '../../src/nn/index.js';
import { applySharing } from '../../src/cli/train.js';
import { deepCompress, subspace } from '../../src/transforms/index.js';
import { runCli as run } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'ws-graph-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));


const N = 1000, px = 28 * 28;
const ds = loadDataset('mnist-sample');
const train = { x: { data: ds.xTrain.subarray(0, N * px), shape: [N, 28, 28, 1] }, y: { data: ds.yTrain.subarray(0, N), shape: [N] } };

function residual(): Model {
  const x = input({ shape: [28, 28, 1] });
  const h = layers.dense({ units: 32, activation: 'relu' }).apply(layers.flatten().apply(x));
  const f = layers.dense({ units: 32 }).apply(layers.dense({ units: 32, activation: 'relu' }).apply(h));
  return model({ inputs: x, outputs: layers.dense({ units: 10, activation: 'softmax' }).apply(layers.add().apply([h, f])), name: 'residual' });
}

function blocks(): Model {
  const bi = input({ shape: [32] });
  const inner = layers.dense({ units: 32 }).apply(layers.dense({ units: 32, activation: 'relu' }).apply(bi));
  const block = layers.block({ inputs: bi, outputs: layers.add().apply([bi, inner]), name: 'block' });
  const x = input({ shape: [28, 28, 1] });
  let h = layers.dense({ units: 32, activation: 'relu' }).apply(layers.flatten().apply(x));
  for (let i = 0; i < 3; i++) h = block.apply(h);
  return model({ inputs: x, outputs: layers.dense({ units: 10, activation: 'softmax' }).apply(h), name: 'blocks' });
}

async function trained(make: () => Model, file: string): Promise<string> {
  const m = make().build(0);
  m.compile({ optimizer: 'adam', loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'] });
  await m.fit(train.x, train.y, { epochs: 3, seed: 0 });
  const path = join(dir, file);
  saveModel(path, m);
  m.dispose();
  return path;
}

test('weightshare summary, eval and compress on a residual MLP and on a model with a block reused three times', async () => {
  for (const [make, name] of [[residual, 'residual'], [blocks, 'blocks']] as const) {
    const file = await trained(make, `${name}.wsm`);
    const s = await run('summary', file);
    assert.equal(s.code, 0, s.err);
    assert.match(s.out, /Connected to/);
    const out = join(dir, `${name}-c.wsm`);
    const extra = name === 'blocks' ? ['--layer-prune', 'block/dense=0.5'] : [];
    const c = await run('compress', file, '--clusters', '8', '--prune', '0.2', ...extra, '--finetune-epochs', '1', '--limit', '500', '--test-limit', '300', '--out', out, '--json');
    assert.equal(c.code, 0, c.err);
    const report = JSON.parse(c.out) as { layers: { path: string; clusters: number; pruned: number; weights: number }[]; finetuned: { accuracy: number } };
    const paths = report.layers.map((l) => l.path);
    if (name === 'blocks') {
      assert.deepEqual(paths, ['dense/kernel', 'block/dense/kernel', 'block/dense_1/kernel', 'dense_1/kernel']);
      const bd = report.layers.find((l) => l.path === 'block/dense/kernel')!;
      assert.equal(bd.pruned, Math.floor(0.5 * bd.weights), 'the per-layer fraction reaches the sublayer by path');
      assert.equal(report.layers.find((l) => l.path === 'dense/kernel')!.pruned, Math.floor(0.2 * 784 * 32), 'and not the top-level layer of the same local name');
    } else assert.deepEqual(paths, ['dense/kernel', 'dense_1/kernel', 'dense_2/kernel', 'dense_3/kernel']);
    assert.ok(report.finetuned.accuracy > 0.6, `${name}: accuracy after compression ${report.finetuned.accuracy}`);
    const e = await run('eval', out, '--test-limit', '300');
    assert.equal(e.code, 0, e.err);
    assert.match(e.out, /accuracy/);
    const { model: back } = loadModel(out);
    assert.ok(back.weights().filter((w) => w.map.kind === 'codebook').length === paths.length);
    back.dispose();
  }
});

test('a two-input model: the command line says what it cannot feed; deepCompress from code compresses it', async () => {
  const top = input({ shape: [14, 28, 1], name: 'top' }), bottom = input({ shape: [14, 28, 1], name: 'bottom' });
  const j = layers.concatenate().apply([top, bottom].map((t) => layers.dense({ units: 24, activation: 'relu' }).apply(layers.flatten().apply(t))));
  const m = model({ inputs: [top, bottom], outputs: layers.dense({ units: 10, activation: 'softmax' }).apply(j), name: 'two' }).build(0);
  m.compile({ optimizer: 'adam', loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'] });
  const half = 14 * 28;
  const split = (x: Float32Array, n: number): { data: Float32Array; shape: number[] }[] => [0, 1].map((k) => {
    const out = new Float32Array(n * half);
    for (let i = 0; i < n; i++) out.set(x.subarray(i * px + k * half, i * px + (k + 1) * half), i * half);
    return { data: out, shape: [n, 14, 28, 1] };
  });
  const xs = split(ds.xTrain, N);
  await m.fit(xs, train.y, { epochs: 3, seed: 0 });
  const file = join(dir, 'two.wsm');
  saveModel(file, m);
  const c = await run('compress', file);
  assert.equal(c.code, 1);
  assert.match(c.err, /model 'two' has 2 inputs and 1 outputs; the command line feeds a dataset's samples to a model with one input/);
  const test_ = { x: split(ds.xTest, 300), y: { data: ds.yTest.subarray(0, 300), shape: [300] } };
  const r = await deepCompress(m, { train: { x: xs, y: train.y }, test: test_ }, { clusters: 8, finetuneEpochs: 1 });
  assert.deepEqual(r.layers.map((l) => l.path), ['dense/kernel', 'dense_1/kernel', 'dense_2/kernel']);
  assert.ok(r.finetuned!.accuracy > 0.6, `accuracy ${r.finetuned!.accuracy}`);
  m.dispose();
});

test('--sharing and subspace reach a block\'s sublayers by path', () => {
  const m = blocks();
  applySharing(m, 'block/dense=lowRank:4,dense_1=hashed:1/4');
  m.build(0);
  const kinds = Object.fromEntries(m.weights().map((w) => [w.path, w.map.kind]));
  assert.equal(kinds['block/dense/kernel'], 'lowRank');
  assert.equal(kinds['block/dense_1/kernel'], 'dense');
  assert.equal(kinds['dense_1/kernel'], 'hashed');
  assert.equal(kinds['dense/kernel'], 'dense');
  m.dispose();
  const plain = blocks().build(0);
  const sub = subspace(plain, { dim: 50, projection: 'sparse' });
  assert.equal(sub.countParams(), 50);
  assert.deepEqual([...new Set(sub.weights().map((w) => w.map.kind))], ['subspace']);
  assert.ok(sub.weights().some((w) => w.path === 'block/dense_1/kernel'));
  plain.dispose();
  sub.dispose();
});
