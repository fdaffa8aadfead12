// Codebook (k-means) weight sharing: gradients, pruning under Adam, model-file round trip, clusterWeights/stripSharing, errors, `compress` CLI.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tidy } from '../../src/core/engine.js';
import { mul, sum, tensor } from '../../src/core/ops/index.js';
import { valueAndGrads } from '../../src/core/tape.js';
import type { Tensor } from '../../src/core/tensor.js';
import { main } from '../../src/cli/main.js';
import { decodeCheckpoint, encodeCheckpoint } from '../../src/io/checkpoint.js';
import { loadCheckpoint, loadModel } from '../../src/io/files.js';
import { modelFromCheckpoint, modelToCheckpoint } from '../../src/io/model-file.js';
import { Dense, Flatten, type Model, sequential } from '../../src/nn/index.js';
import { createModel } from '../../src/nn/zoo.js';
import { loadDataset } from '../../src/data/datasets.js';
import { Adam } from '../../src/optim/index.js';
import { CodebookMap, createMap, fitCodebook, SharingError } from '../../src/sharing/index.js';
import { clusterWeights, halfCentroids, stripSharing } from '../../src/transforms/index.js';
import { checkGradients } from '../helpers/gradcheck.js';
import { Rng } from '../helpers/random.js';

const dir = mkdtempSync(join(tmpdir(), 'ws-codebook-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

/** W = map(c): the map's materialize with its centroids swapped for `c` (so the gradient check can perturb them). */
function withCentroids(map: CodebookMap, c: Tensor): Tensor {
  const p = map.parameters()[0] as { value: Tensor };
  const old = p.value;
  p.value = c;
  try {
    return map.materialize();
  } finally {
    p.value = old;
  }
}

const rnd = (n: number, seed: number, std = 1): Float32Array => new Rng(seed).normals(n, std);
/** A codebook map's state: each weight's centroid index (K = pruned) and the 0/1 mask it implies. */
function state(m: CodebookMap): { a: Int32Array; mask: Float32Array } {
  const a = m.buffers().get('codes')!.data() as Int32Array;
  return { a, mask: Float32Array.from(a, (v) => (v === m.clusters ? 0 : 1)) };
}

describe('CodebookMap', () => {
  test('W = [centroids, 0][codes] (code K = pruned), stats count K free numbers and the index bits', () => {
    const m = fitCodebook(rnd(60, 1), [6, 10], { clusters: 4, prune: 0.5 });
    const c = m.parameters()[0].value.f32();
    const { a, mask } = state(m);
    assert.deepEqual([...m.buffers().keys()], ['codes']);
    tidy(() => {
      const w = m.materialize();
      assert.deepEqual(w.shape, [6, 10]);
      const wd = w.f32();
      for (let i = 0; i < 60; i++) assert.equal(wd[i] + 0, mask[i] ? c[a[i]] : 0);
    });
    assert.equal(mask.reduce((s, v) => s + v, 0), 30);
    assert.deepEqual(m.stats(), { virtual: 60, free: 4, bits: 32 * 4 + 60 + 30 * 2 });
    const u = fitCodebook(rnd(60, 1), [60], { clusters: 5 });
    assert.deepEqual(u.stats(), { virtual: 60, free: 5, bits: 32 * 5 + 60 * 3 });
    assert.ok(state(u).a.every((v) => v >= 0 && v < 5), 'no pruned code without pruning');
    assert.deepEqual(m.toJSON(), { kind: 'codebook', clusters: 4, init: 'linear', seed: 0, prune: 0.5 });
    m.dispose();
    u.dispose();
  });

  test('finite-difference gradient check of the centroids (with and without a mask)', () => {
    for (const prune of [0, 0.4]) {
      const m = fitCodebook(rnd(48, 2), [4, 12], { clusters: 6, prune });
      const c0 = m.parameters()[0].value;
      checkGradients(`codebook prune ${prune}`, (c) => withCentroids(m, c), [tensor(c0.f32(), c0.shape)], { atol: 1e-3 });
      m.dispose();
    }
  });

  test('∂L/∂centroid_k = Σ over its (unpruned) members of ∂L/∂W[i]', () => {
    const m = fitCodebook(rnd(200, 3), [20, 10], { clusters: 8, prune: 0.3 });
    const r = rnd(200, 4);
    const { a, mask } = state(m);
    tidy(() => {
      const { grads } = valueAndGrads(() => sum(mul(m.materialize(), tensor(r, [20, 10]))), [m.parameters()[0].value]);
      const g = grads[0].f32();
      // ∂L/∂W = r for the dense weight: sum it by cluster over unpruned positions.
      const want = new Float64Array(8);
      for (let i = 0; i < 200; i++) if (mask[i]) want[a[i]] += r[i];
      for (let k = 0; k < 8; k++) assert.ok(Math.abs(g[k] - want[k]) < 1e-4, `centroid ${k}: ${g[k]} vs ${want[k]}`);
    });
    m.dispose();
  });

  test("'codebook:16' trains from scratch: centroids from k-means of the initial weights, only K + bias parameters", async () => {
    const m = sequential([new Flatten({ inputShape: [28, 28, 1] }), new Dense({ units: 10, activation: 'softmax', maps: { kernel: 'codebook:16' } })]).build(3);
    assert.equal(m.countParams(), 16 + 10);
    const w = m.layers[1].weight('kernel');
    assert.equal(w.kind, 'codebook');
    const c = w.parameters()[0].value.f32();
    assert.ok(c[0] < 0 && c[15] > 0 && c.every((x, i) => i === 0 || x >= c[i - 1]), `centroids ${c}`);
    m.compile({ optimizer: new Adam({ learningRate: 0.01 }), loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'] });
    const ds = loadDataset('mnist-sample');
    const x = { data: ds.xTrain.subarray(0, 256 * 784), shape: [256, 28, 28, 1] }, y = { data: ds.yTrain.subarray(0, 256), shape: [256] };
    const before = m.evaluate(x, y).loss;
    await m.fit(x, y, { epochs: 3, batchSize: 32, seed: 1 });
    assert.ok(m.evaluate(x, y).loss < before, 'loss goes down');
    m.dispose();
  });
});

/** A small dense net on mnist-sample with a pruned codebook on its first kernel. */
function prunedNet(): Model {
  const m = sequential([
    new Flatten({ inputShape: [28, 28, 1] }),
    new Dense({ units: 16, activation: 'relu', name: 'h', maps: { kernel: { kind: 'codebook', clusters: 8, prune: 0.6 } } }),
    new Dense({ units: 10, activation: 'softmax', name: 'out' }),
  ]).build(5);
  m.compile({ optimizer: new Adam({ learningRate: 0.01 }), loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'] });
  return m;
}

test('pruned weights stay exactly zero through Adam steps; the codes do not change', async () => {
  const m = prunedNet();
  const map = m.getLayer('h').weight('kernel') as CodebookMap;
  const { mask: mask0, a: a0 } = state(map);
  const c0 = map.parameters()[0].value.f32();
  const ds = loadDataset('mnist-sample');
  await m.fit({ data: ds.xTrain.subarray(0, 128 * 784), shape: [128, 28, 28, 1] }, { data: ds.yTrain.subarray(0, 128), shape: [128] }, { epochs: 2, batchSize: 16, seed: 2 });
  assert.notDeepEqual(map.parameters()[0].value.f32(), c0, 'centroids moved');
  assert.deepEqual(state(map).a, a0);
  tidy(() => {
    const w = map.materialize().f32();
    let zeros = 0;
    for (let i = 0; i < w.length; i++) if (!mask0[i]) {
      assert.ok(Object.is(w[i], 0) || Object.is(w[i], -0), `pruned ${i} is ${w[i]}`);
      zeros++;
    }
    assert.equal(zeros, Math.floor(0.6 * w.length));
  });
  m.dispose();
});

test('model-file round trip keeps centroids and codes exactly (stored under maps/<layer>/<weight>/codes)', () => {
  const m = prunedNet();
  const map = m.getLayer('h').weight('kernel') as CodebookMap;
  // Make the stored state differ from what a rebuild from the config would fit.
  const a = map.buffers().get('codes')!;
  const shuffled = Int32Array.from(a.data(), (v, i) => (v === 8 ? 8 : (v + i) % 8));
  a.backend.write(a.buf, shuffled);
  const bytes = encodeCheckpoint(modelToCheckpoint(m), 'm.wsm');
  const c = decodeCheckpoint(bytes, 'm.wsm');
  assert.equal(c.tensors.get('maps/h/kernel/codes')!.dtype, 'int32');
  assert.ok(c.tensors.has('weights/h/kernel/centroids'));
  const { model: back } = modelFromCheckpoint(c, 'm.wsm');
  const bm = back.getLayer('h').weight('kernel') as CodebookMap;
  assert.deepEqual(state(bm).a, shuffled);
  assert.deepEqual(bm.parameters()[0].value.f32(), map.parameters()[0].value.f32());
  tidy(() => {
    const x = tensor(rnd(3 * 784, 8), [3, 28, 28, 1]);
    assert.deepEqual(back.call(x).f32(), m.call(x).f32());
  });
  // A file missing the state, or with state of the wrong type, is refused by name.
  const missing = decodeCheckpoint(bytes, 'm.wsm');
  missing.tensors.delete('maps/h/kernel/codes');
  assert.throws(() => modelFromCheckpoint(missing, 'm.wsm'), /m\.wsm: map state 'maps\/h\/kernel\/codes' is missing/);
  const wrong = decodeCheckpoint(bytes, 'm.wsm');
  wrong.tensors.set('maps/h/kernel/codes', { dtype: 'float32', shape: [784 * 16], data: new Float32Array(784 * 16) });
  assert.throws(() => modelFromCheckpoint(wrong, 'm.wsm'), /map state 'maps\/h\/kernel\/codes' is float32 \[12544\] but the map expects int32 \[12544\]/);
  const bad = decodeCheckpoint(bytes, 'm.wsm');
  bad.tensors.get('maps/h/kernel/codes')!.data[7] = 9;
  assert.throws(() => modelFromCheckpoint(bad, 'm.wsm'), /m\.wsm: map state 'maps\/h\/kernel\/codes' holds 9 at position 7, outside \[0, 8\]/);
  // Files from before the `codes` state held `assign` (int32) and `mask` (float32 0/1): they still load, identically.
  const legacy = decodeCheckpoint(bytes, 'm.wsm');
  const codes = legacy.tensors.get('maps/h/kernel/codes')!;
  legacy.tensors.delete('maps/h/kernel/codes');
  legacy.tensors.set('maps/h/kernel/assign', { dtype: 'int32', shape: codes.shape, data: Int32Array.from(codes.data, (v) => (v === 8 ? 0 : v)) });
  legacy.tensors.set('maps/h/kernel/mask', { dtype: 'float32', shape: codes.shape, data: Float32Array.from(codes.data, (v) => (v === 8 ? 0 : 1)) });
  const { model: old } = modelFromCheckpoint(legacy, 'old.wsm');
  assert.deepEqual(state(old.getLayer('h').weight('kernel') as CodebookMap).a, shuffled);
  old.dispose();
  const extra = decodeCheckpoint(bytes, 'm.wsm');
  extra.tensors.set('maps/out/kernel/codes', { dtype: 'int32', shape: [1], data: new Int32Array(1) });
  assert.throws(() => modelFromCheckpoint(extra, 'm.wsm'), /tensor 'maps\/out\/kernel\/codes' belongs to no weight/);
  m.dispose();
  back.dispose();
});

describe('clusterWeights and stripSharing', () => {
  let trained: Model | undefined;
  const ds = loadDataset('mnist-sample');
  const x = { data: ds.xTrain.subarray(0, 1000 * 784), shape: [1000, 28, 28, 1] }, y = { data: ds.yTrain.subarray(0, 1000), shape: [1000] };
  const xt = { data: ds.xTest.subarray(0, 500 * 784), shape: [500, 28, 28, 1] }, yt = { data: ds.yTest.subarray(0, 500), shape: [500] };
  async function mlp(): Promise<Model> {
    if (!trained) {
      trained = createModel('mlp').build(0);
      trained.compile({ optimizer: new Adam(), loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'] });
      await trained.fit(x, y, { epochs: 2, batchSize: 32, seed: 0 });
    }
    const c = modelFromCheckpoint(modelToCheckpoint(trained)).model;
    return c;
  }
  const bits = (m: Model): number => m.weights().reduce((s, w) => s + w.map.stats().bits, 0);

  test('on a trained MLP: accuracy stays close, bits shrink, optimizer state is dropped, the config rebuilds the maps', async () => {
    const m = await mlp();
    const acc0 = m.evaluate(xt, yt).accuracy, bits0 = bits(m);
    assert.ok(m.optimizer!.iterations > 0);
    const report = clusterWeights(m, { clusters: 32 });
    assert.deepEqual(report.map((r) => r.path), ['dense/kernel', 'dense_1/kernel', 'dense_2/kernel']);
    assert.equal(m.optimizer!.iterations, 0);
    assert.deepEqual(m.optimizer!.getState(m.namedParameters().map((p) => p.param.value)).steps, {});
    const acc1 = m.evaluate(xt, yt).accuracy;
    assert.ok(acc1 >= acc0 - 0.02, `accuracy ${acc0} → ${acc1}`);
    assert.ok(bits(m) < bits0 / 5, `bits ${bits0} → ${bits(m)}`);
    assert.equal(m.getLayer('dense').weight('kernel').kind, 'codebook');
    assert.deepEqual(m.toJSON().layers[1].config.maps, { kernel: { kind: 'codebook', clusters: 32, init: 'linear', seed: report.length && (m.getLayer('dense').weight('kernel') as CodebookMap).seed } });
    // Keeps training (centroids only) with the same optimizer object.
    await m.fit(x, y, { epochs: 1, batchSize: 64, seed: 1 });
    assert.ok(m.evaluate(xt, yt).accuracy >= acc0 - 0.03);
    // Prune + layer subset.
    const p = await mlp();
    const rp = clusterWeights(p, { clusters: 16, prune: 0.9, layers: ['dense'], init: 'density' });
    assert.equal(rp.length, 1);
    assert.equal(rp[0].pruned, Math.floor(0.9 * 784 * 200));
    assert.equal(p.getLayer('dense_1').weight('kernel').kind, 'dense');
    m.dispose();
    p.dispose();
  });

  test('stripSharing gives dense maps with identical outputs', async () => {
    const m = await mlp();
    clusterWeights(m, { clusters: 8, prune: 0.5 });
    tidy(() => {
      const xx = tensor(xt.data.subarray(0, 20 * 784), [20, 28, 28, 1]);
      const y0 = m.call(xx).f32();
      assert.deepEqual(stripSharing(m), ['dense/kernel', 'dense_1/kernel', 'dense_2/kernel']);
      assert.ok(m.weights().every((w) => w.map.kind === 'dense'));
      assert.equal(m.toJSON().layers[1].config.maps, undefined);
      assert.deepEqual(m.call(xx).f32(), y0);
    });
    m.dispose();
  });

  test('bad input: a SharingError naming the layer, the scheme and the range, and nothing changes', async () => {
    const m = await mlp();
    const w0 = m.getWeights();
    const cases: [Parameters<typeof clusterWeights>[1], RegExp][] = [
      [{ clusters: 1 }, /^layer 'dense' kernel, scheme 'codebook': clusters must be an integer in \[2, 156800\] \(the weight's 156800 elements\), got 1$/],
      [{ clusters: 2.5 }, /clusters must be an integer in \[2, 156800\]/],
      [{ clusters: 3000 }, /^layer 'dense_2' kernel, scheme 'codebook': clusters must be an integer in \[2, 2000\]/],
      [{ clusters: 300, prune: 0.9, layers: ['dense_2'] }, /layer 'dense_2' kernel, scheme 'codebook': clusters must be an integer in \[2, 200\] \(the weight's 2000 elements, 200 after pruning 0\.9\), got 300/],
      [{ clusters: 16, prune: 1 }, /^layer 'dense' kernel, scheme 'codebook': prune must be a fraction in \[0, 1\), got 1$/],
      [{ clusters: 16, prune: -0.1 }, /prune must be a fraction in \[0, 1\), got -0\.1/],
      [{ clusters: 16, layers: ['dense', 'nope'] }, /^layer 'nope' kernel, scheme 'codebook': model 'mlp' has no such layer \(layers: flatten, dense, dense_1, dense_2\)$/],
      [{ clusters: 16, layers: ['flatten'] }, /layer 'flatten' kernel, scheme 'codebook': layer has no shareable weight \(roles kernel, recurrentKernel, embedding; weights: none\)/],
      [{ clusters: 16, init: 'nope' as never }, /init must be one of linear, density, random, kmeans\+\+, got "nope"/],
    ];
    for (const [o, re] of cases) {
      assert.throws(() => clusterWeights(m, o), (e: Error) => e instanceof SharingError && re.test(e.message), JSON.stringify(o));
      assert.ok(m.weights().every((w) => w.map.kind === 'dense'), 'nothing changed');
    }
    assert.deepEqual(m.getWeights(), w0);
    clusterWeights(m, { clusters: 4, layers: ['dense'] });
    assert.throws(() => clusterWeights(m, { clusters: 4, layers: ['dense'] }), /layer 'dense' kernel, scheme 'codebook': only a dense kernel can be clustered, this one is 'codebook' \(stripSharing first\)/);
    // Map specs are checked the same way.
    const ctx = { layer: 'd', weight: 'kernel', shape: [4, 5], initializer: 'glorotUniform', seed: 1, init: () => tensor(rnd(20, 1), [4, 5]) };
    assert.throws(() => createMap('codebook:1', ctx), /layer 'd' kernel, scheme 'codebook': clusters must be an integer in \[2, 20\]/);
    assert.throws(() => createMap('codebook:21', ctx), /clusters must be an integer in \[2, 20\]/);
    assert.throws(() => createMap('codebook', ctx), /scheme 'codebook': needs clusters, e\.g\. 'codebook:16'/);
    assert.throws(() => createMap('codebook:4:prune=1', ctx), /prune must be a fraction in \[0, 1\), got 1/);
    m.dispose();
  });
});

test('`weightshare compress` end to end: train a tiny MLP, compress it, reload the result', async () => {
  const io = () => {
    const r = { out: '', err: '' };
    return { r, io: { out: { write: (s: string) => (r.out += s) }, err: { write: (s: string) => (r.err += s) } } };
  };
  const f = join(dir, 'mlp.wsm'), g = join(dir, 'mlp-c.wsm');
  const t = io();
  assert.equal(await main(['train', '--model', 'mlp', '--epochs', '1', '--limit', '500', '--test-limit', '300', '--out', f], t.io), 0, t.r.err);
  const c = io();
  const code = await main(['compress', f, '--clusters', '16', '--prune', '0.5', '--init', 'linear', '--layers', 'dense,dense_1', '--finetune-epochs', '1',
    '--lr', '1e-3', '--test-limit', '300', '--out', g, '--json'], c.io);
  assert.equal(code, 0, c.r.err);
  assert.match(c.r.err, /dense\/kernel: 156,800 weights → 16 centroids \+ 4-bit indices, 50\.0 % pruned/);
  assert.match(c.r.err, /after clustering: accuracy/);
  assert.match(c.r.err, /after fine-tuning: accuracy/);
  assert.match(c.r.err, /smaller than float32/);
  const j = JSON.parse(c.r.out);
  assert.deepEqual(j.layers.map((l: { path: string }) => l.path), ['dense/kernel', 'dense_1/kernel']);
  assert.ok(j.ratio > 5 && j.bits.after < j.bits.before, `ratio ${j.ratio}`);
  // The file on disk: what it says, holding the (coded) codes and no optimizer state.
  assert.equal(j.fileBytes, statSync(g).size);
  assert.match(c.r.err, new RegExp(`Saved .*mlp-c\\.wsm: ${(j.fileBytes / 1024).toFixed(1).replace('.', '\\.')} KiB on disk, [0-9.]+× smaller than the float32 weights`));
  const stored = loadCheckpoint(g);
  assert.ok(![...stored.tensors.keys()].some((k) => k.startsWith('optimizer/')), 'no optimizer slots in a compressed file');
  // 196,800 codes: 787 KB as int32, 123 KB as a 1-bit mask + 4-bit indices; gaps + Huffman-coded codes take less.
  assert.ok(j.fileBytes < 100_000, `file ${j.fileBytes} bytes: the codes must be sparse- and entropy-coded`);
  assert.ok(j.finetuned.accuracy > 0.3);
  const { model } = loadModel(g);
  assert.equal(model.getLayer('dense').weight('kernel').kind, 'codebook');
  assert.equal(model.getLayer('dense_2').weight('kernel').kind, 'dense');
  const e = io();
  assert.equal(await main(['eval', g, '--test-limit', '300', '--json'], e.io), 0);
  assert.ok(Math.abs(JSON.parse(e.r.out).accuracy - j.finetuned.accuracy) < 1e-9);
  // Errors reach the user as one line naming the flag (or the layer) and the range.
  const bad = io();
  assert.equal(await main(['compress', f, '--prune', '1', '--out', join(dir, 'x.wsm')], bad.io), 2);
  assert.match(bad.r.err, /^weightshare compress: --prune must be a fraction in \[0, 1\), got 1\n/);
  const bad2 = io();
  assert.equal(await main(['compress', f, '--layers', 'nope'], bad2.io), 1);
  assert.match(bad2.r.err, /layer 'nope' kernel, scheme 'codebook': model 'mlp' has no such layer/);
  // A model whose kernels are all shared already has nothing to cluster: said, not silently "compressed".
  const h = join(dir, 'hashed.wsm');
  const th = io();
  assert.equal(await main(['train', '--model', 'mlp:16', '--sharing', 'hashed:1/4', '--epochs', '1', '--limit', '64', '--test-limit', '32', '--out', h], th.io), 0, th.r.err);
  const bad3 = io();
  assert.equal(await main(['compress', h, '--clusters', '4', '--out', join(dir, 'y.wsm')], bad3.io), 1);
  assert.match(bad3.r.err, /hashed\.wsm: no kernel to compress \(dense\/kernel is 'hashed', dense_1\/kernel is 'hashed'\); compress clusters and prunes plain \(dense\) kernels\n$/);
  model.dispose();
});

test('halfCentroids: centroids rounded to half precision count 16 bits each, are stored at 2 bytes (lossless) and load back bit-exactly', () => {
  const m = createModel('mlp').build(3);
  clusterWeights(m, { clusters: 16, prune: 0.5 });
  const before = m.weights().map((w) => w.map.stats().bits);
  const bytes32 = encodeCheckpoint(modelToCheckpoint(m)).length;
  const r = halfCentroids(m);
  assert.deepEqual(r.weights, ['dense/kernel', 'dense_1/kernel', 'dense_2/kernel']);
  assert.ok(r.maxChange > 0 && r.maxChange < 1e-3, `largest change ${r.maxChange}`);
  const kinds = m.weights().map((w) => w.map.kind);
  m.weights().forEach((w, i) => assert.equal(w.map.stats().bits, kinds[i] === 'codebook' ? before[i] - 16 * 16 : before[i], w.path));
  const bytes16 = encodeCheckpoint(modelToCheckpoint(m));
  // 2 bytes saved per centroid, give or take the alignment of the tensors after them (the header is the same length).
  assert.ok(Math.abs(bytes32 - bytes16.length - 3 * 16 * 2) <= 8, `${bytes32} → ${bytes16.length} bytes`);
  const back = modelFromCheckpoint(decodeCheckpoint(bytes16)).model;
  const digits = loadDataset('mnist-sample').xTest.slice(0, 8 * 784);
  assert.deepEqual(back.predict({ data: digits, shape: [8, 28, 28, 1] }).f32(), m.predict({ data: digits, shape: [8, 28, 28, 1] }).f32());
  back.dispose();
  m.dispose();
});
