// Pruned maps (W = θ ⊙ mask): gradients, masked weights under Adam, model-file round trip, pruneWeights → clusterWeights, `compress --prune-finetune-epochs`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tidy } from '../../src/core/engine.js';
import { mul, sum, tensor } from '../../src/core/ops/index.js';
import { valueAndGrads } from '../../src/core/tape.js';
import type { Tensor } from '../../src/core/tensor.js';
import { main } from '../../src/cli/main.js';
import { decodeCheckpoint, encodeCheckpoint } from '../../src/io/checkpoint.js';
import { loadModel } from '../../src/io/files.js';
import { modelFromCheckpoint, modelToCheckpoint } from '../../src/io/model-file.js';
import { Dense, Flatten, type Model, sequential } from '../../src/nn/index.js';
import { loadDataset } from '../../src/data/datasets.js';
import { Adam } from '../../src/optim/index.js';
import { CodebookMap, createMap, PrunedMap, pruneByMagnitude, SharingError } from '../../src/sharing/index.js';
import { clusterWeights, pruneWeights } from '../../src/transforms/index.js';
import { checkGradients } from '../helpers/gradcheck.js';
import { Rng } from '../helpers/random.js';

const dir = mkdtempSync(join(tmpdir(), 'ws-prune-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

const rnd = (n: number, seed: number, std = 1): Float32Array => new Rng(seed).normals(n, std);
const isZero = (v: number): boolean => Object.is(v, 0) || Object.is(v, -0);

/** W = map(θ): the map's materialize with θ swapped for `t` (so the gradient check can perturb it). */
function withTheta(map: PrunedMap, t: Tensor): Tensor {
  const p = map.parameters()[0] as { value: Tensor };
  const old = p.value;
  p.value = t;
  try {
    return map.materialize();
  } finally {
    p.value = old;
  }
}

test('PrunedMap: W = θ ⊙ mask, the smallest ⌊prune·n⌋ |w| removed, bits = 32·kept + n', () => {
  const v = rnd(60, 1);
  const m = pruneByMagnitude(v, [6, 10], 0.75);
  const mask = m.buffers().get('mask')!.f32();
  assert.equal(mask.reduce((s, x) => s + x, 0), 15);
  const thr = [...v].map(Math.abs).sort((a, b) => a - b)[45];
  tidy(() => {
    const w = m.materialize();
    assert.deepEqual(w.shape, [6, 10]);
    const wd = w.f32();
    for (let i = 0; i < 60; i++) {
      assert.equal(mask[i], Math.abs(v[i]) >= thr ? 1 : 0, `mask ${i}`);
      if (mask[i]) assert.equal(wd[i], v[i]);
      else assert.ok(isZero(wd[i]));
    }
  });
  // θ itself starts at zero where pruned.
  const th = m.parameters()[0].value.f32();
  for (let i = 0; i < 60; i++) if (!mask[i]) assert.ok(isZero(th[i]));
  assert.equal(m.kept(), 15);
  assert.deepEqual(m.stats(), { virtual: 60, free: 15, bits: 32 * 15 + 60 });
  assert.deepEqual(m.toJSON(), { kind: 'pruned', prune: 0.75 });
  m.dispose();
});

test('PrunedMap: finite-difference gradient check of θ; ∂L/∂θ = mask ⊙ ∂L/∂W, exactly zero where pruned', () => {
  const m = pruneByMagnitude(rnd(48, 2), [4, 12], 0.5);
  const t0 = m.parameters()[0].value;
  checkGradients('pruned', (t) => withTheta(m, t), [tensor(rnd(48, 3), t0.shape)], { atol: 1e-3 });
  const mask = m.buffers().get('mask')!.f32();
  const r = rnd(48, 4);
  tidy(() => {
    const { grads } = valueAndGrads(() => sum(mul(m.materialize(), tensor(r, [4, 12]))), [t0]);
    const g = grads[0].f32();
    for (let i = 0; i < 48; i++) {
      if (mask[i]) assert.ok(Math.abs(g[i] - r[i]) < 1e-6, `kept ${i}: ${g[i]} vs ${r[i]}`);
      else assert.ok(isZero(g[i]), `pruned ${i}: ${g[i]}`);
    }
  });
  m.dispose();
});

/** A small dense net on mnist-sample with a pruned first kernel. */
function prunedNet(): Model {
  const m = sequential([
    new Flatten({ inputShape: [28, 28, 1] }),
    new Dense({ units: 16, activation: 'relu', name: 'h', maps: { kernel: 'pruned:prune=0.8' } }),
    new Dense({ units: 10, activation: 'softmax', name: 'out' }),
  ]).build(5);
  m.compile({ optimizer: new Adam({ learningRate: 0.01 }), loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'] });
  return m;
}

test('masked weights (W and θ) stay exactly zero through Adam steps; kept ones train; the mask does not change', async () => {
  const m = prunedNet();
  const map = m.getLayer('h').weight('kernel') as PrunedMap;
  assert.equal(map.kind, 'pruned');
  assert.equal(m.countParams(), 784 * 16 + 16 + 16 * 10 + 10);
  const mask0 = map.buffers().get('mask')!.f32();
  const t0 = map.parameters()[0].value.f32();
  const ds = loadDataset('mnist-sample');
  await m.fit({ data: ds.xTrain.subarray(0, 128 * 784), shape: [128, 28, 28, 1] }, { data: ds.yTrain.subarray(0, 128), shape: [128] }, { epochs: 2, batchSize: 16, seed: 2 });
  assert.ok(m.optimizer!.iterations > 0);
  assert.deepEqual(map.buffers().get('mask')!.f32(), mask0);
  const t1 = map.parameters()[0].value.f32();
  let moved = 0, zeros = 0;
  tidy(() => {
    const w = map.materialize().f32();
    for (let i = 0; i < w.length; i++) {
      if (mask0[i]) {
        if (t1[i] !== t0[i]) moved++;
      } else {
        assert.ok(isZero(w[i]), `pruned W ${i} is ${w[i]}`);
        assert.ok(isZero(t1[i]), `pruned θ ${i} is ${t1[i]}`);
        zeros++;
      }
    }
  });
  assert.equal(zeros, Math.floor(0.8 * 784 * 16));
  assert.ok(moved > 0.5 * (784 * 16 - zeros), `kept weights moved: ${moved}`);
  assert.equal(map.stats().free, 784 * 16 - zeros);
  m.dispose();
});

test('model-file round trip keeps θ and the mask exactly (maps/<layer>/<weight>/mask); bad state is refused by name', () => {
  const m = prunedNet();
  const map = m.getLayer('h').weight('kernel') as PrunedMap;
  // Make the stored mask differ from what a rebuild from the config would compute.
  const mk = map.buffers().get('mask')!;
  const flipped = Float32Array.from(mk.f32(), (v, i) => (i % 7 === 0 ? 1 - v : v));
  mk.backend.write(mk.buf, flipped);
  const bytes = encodeCheckpoint(modelToCheckpoint(m), 'p.wsm');
  const c = decodeCheckpoint(bytes, 'p.wsm');
  assert.equal(c.tensors.get('maps/h/kernel/mask')!.dtype, 'float32');
  assert.deepEqual(c.tensors.get('maps/h/kernel/mask')!.shape, [784, 16]);
  assert.ok(c.tensors.has('weights/h/kernel/theta'));
  const { model: back } = modelFromCheckpoint(c, 'p.wsm');
  const bm = back.getLayer('h').weight('kernel') as PrunedMap;
  assert.equal(bm.kind, 'pruned');
  assert.deepEqual(bm.buffers().get('mask')!.f32(), flipped);
  assert.deepEqual(bm.parameters()[0].value.f32(), map.parameters()[0].value.f32());
  assert.deepEqual(bm.stats(), map.stats());
  tidy(() => {
    const x = tensor(rnd(3 * 784, 8), [3, 28, 28, 1]);
    assert.deepEqual(back.call(x).f32(), m.call(x).f32());
  });
  const missing = decodeCheckpoint(bytes, 'p.wsm');
  missing.tensors.delete('maps/h/kernel/mask');
  assert.throws(() => modelFromCheckpoint(missing, 'p.wsm'), /p\.wsm: map state 'maps\/h\/kernel\/mask' is missing/);
  m.dispose();
  back.dispose();
});

test("map specs: 'pruned:prune=0.9' builds from the initialiser; bad fractions are SharingErrors naming layer, scheme, range", () => {
  const ctx = { layer: 'd', weight: 'kernel', shape: [4, 5], initializer: 'glorotUniform', seed: 1, init: () => tensor(rnd(20, 1), [4, 5]) };
  const m = createMap('pruned:prune=0.9', ctx) as PrunedMap;
  assert.equal(m.kept(), 2);
  m.dispose();
  assert.throws(() => createMap('pruned:prune=1', ctx), (e: Error) => e instanceof SharingError && /^layer 'd' kernel, scheme 'pruned': prune must be a fraction in \[0, 1\), got 1$/.test(e.message));
  assert.throws(() => createMap({ kind: 'pruned', prune: -0.5 }, ctx), /scheme 'pruned': prune must be a fraction in \[0, 1\), got -0\.5/);
  assert.throws(() => createMap({ kind: 'pruned' }, ctx), /scheme 'pruned': needs prune/);
});

test('pruneWeights then clusterWeights: the codebook keeps the pruned mask and clusters only the survivors; errors name the range', () => {
  const m = sequential([
    new Flatten({ inputShape: [28, 28, 1] }),
    new Dense({ units: 12, activation: 'relu', name: 'a' }),
    new Dense({ units: 10, activation: 'softmax', name: 'b' }),
  ]).build(3);
  assert.throws(() => pruneWeights(m, { prune: 1 }), /SharingError: layer 'a' kernel, scheme 'pruned': prune must be a fraction in \[0, 1\), got 1$/);
  assert.throws(() => pruneWeights(m, { prune: 0.5, layers: ['zz'] }), /layer 'zz' kernel, scheme 'pruned': model '.*' has no such layer/);
  // A misspelt layers pruned every kernel; a misspelt prune kept every weight.
  assert.throws(() => pruneWeights(m, { prune: 0.5, layer: ['a'] } as never), /^ArgumentError: pruneWeights: unknown option 'layer' \(options: prune, layers\); write it layers$/);
  assert.throws(() => clusterWeights(m, { clusters: 4, prun: 0.5 } as never), /^ArgumentError: clusterWeights: unknown option 'prun' .*; write it prune$/);
  assert.throws(() => clusterWeights(m, undefined as never), /^ArgumentError: clusterWeights: options must be an object/);
  assert.ok(m.weights().every((w) => w.map.kind === 'dense'), 'nothing changed');
  const rep = pruneWeights(m, { prune: (w) => (w.layer.name === 'a' ? 0.9 : 0) });
  assert.deepEqual(rep.map((r) => [r.path, r.pruned]), [['a/kernel', Math.floor(0.9 * 784 * 12)]]);
  assert.equal(m.getLayer('b').weight('kernel').kind, 'dense');
  const pm = m.getLayer('a').weight('kernel') as PrunedMap;
  const mask = pm.maskValues();
  const kept = pm.kept();
  const theta = pm.parameters()[0].value.f32();
  assert.throws(() => clusterWeights(m, { clusters: kept + 1, layers: ['a'] }),
    new RegExp(`SharingError: layer 'a' kernel, scheme 'codebook': clusters must be an integer in \\[2, ${kept}\\] \\(the weight's 9408 elements, ${kept} kept by its pruning mask\\), got ${kept + 1}$`));
  assert.throws(() => clusterWeights(m, { clusters: 8, prune: 0.5, layers: ['a'] }), /layer 'a' kernel, scheme 'codebook': the kernel is already pruned/);
  const cr = clusterWeights(m, { clusters: 8 });
  assert.deepEqual(cr.map((r) => r.path), ['a/kernel', 'b/kernel']);
  const cb = m.getLayer('a').weight('kernel') as CodebookMap;
  assert.equal(cb.kind, 'codebook');
  assert.deepEqual(Float32Array.from(cb.buffers().get('codes')!.data(), (v) => (v === 8 ? 0 : 1)), mask);
  assert.equal(cr[0].pruned, 9408 - kept);
  assert.equal(cb.stats().bits, 32 * 8 + 9408 + kept * 3);
  // Centroids are k-means of the survivors only: every kept W is its nearest centroid, within the survivors' range.
  const c = cb.parameters()[0].value.f32();
  let lo = Infinity, hi = -Infinity;
  for (let i = 0; i < theta.length; i++) if (mask[i]) (lo = Math.min(lo, theta[i])), (hi = Math.max(hi, theta[i]));
  assert.ok(c[0] >= lo - 1e-6 && c[7] <= hi + 1e-6);
  tidy(() => {
    const w = cb.materialize().f32();
    for (let i = 0; i < w.length; i++) {
      if (!mask[i]) assert.ok(isZero(w[i]));
      else {
        const d = Math.abs(w[i] - theta[i]);
        for (const ck of c) assert.ok(d <= Math.abs(ck - theta[i]) + 1e-6, `kept ${i} not at its nearest centroid`);
      }
    }
  });
  // The clustered model survives a save/load (the config's prune rebuilds a mask, the file overwrites it).
  const { model: back } = modelFromCheckpoint(decodeCheckpoint(encodeCheckpoint(modelToCheckpoint(m), 'c.wsm'), 'c.wsm'), 'c.wsm');
  tidy(() => {
    const x = tensor(rnd(2 * 784, 9), [2, 28, 28, 1]);
    assert.deepEqual(back.call(x).f32(), m.call(x).f32());
  });
  m.dispose();
  back.dispose();
});

test('`weightshare compress --prune-finetune-epochs` end to end: prune, retrain, cluster, fine-tune, reload', async () => {
  const io = () => {
    const r = { out: '', err: '' };
    return { r, io: { out: { write: (s: string) => (r.out += s) }, err: { write: (s: string) => (r.err += s) } } };
  };
  const f = join(dir, 'mlp.wsm'), g = join(dir, 'mlp-dc.wsm');
  const t = io();
  assert.equal(await main(['train', '--model', 'mlp', '--epochs', '1', '--limit', '500', '--test-limit', '300', '--out', f], t.io), 0, t.r.err);
  const c = io();
  const code = await main(['compress', f, '--prune', '0.5', '--prune-finetune-epochs', '1', '--prune-lr', '1e-3', '--clusters', '16', '--finetune-epochs', '1',
    '--lr', '1e-4', '--test-limit', '300', '--out', g, '--json'], c.io);
  assert.equal(code, 0, c.r.err);
  assert.match(c.r.err, /dense\/kernel: 156,800 weights, 50\.0 % pruned \(78,400 kept \+ 1-bit mask\)/);
  assert.match(c.r.err, /after pruning: accuracy/);
  assert.match(c.r.err, /retraining the surviving weights \(masks fixed\): 1 epochs on 500 samples, Adam lr 0\.001/);
  assert.match(c.r.err, /after retraining: accuracy/);
  assert.match(c.r.err, /dense\/kernel: 156,800 weights → 16 centroids \+ 4-bit indices, 50\.0 % pruned/);
  assert.match(c.r.err, /after clustering: accuracy/);
  assert.match(c.r.err, /after fine-tuning: accuracy/);
  const j = JSON.parse(c.r.out);
  assert.deepEqual(j.pruning.layers.map((l: { path: string }) => l.path), ['dense/kernel', 'dense_1/kernel', 'dense_2/kernel']);
  assert.ok(j.pruning.retrained.accuracy > 0.3, JSON.stringify(j.pruning));
  assert.ok(j.layers.every((l: { pruned: number; weights: number }) => l.pruned === Math.floor(l.weights / 2)));
  assert.ok(j.ratio > 5 && j.bits.after < j.pruning.bits && j.pruning.bits < j.bits.before, `ratio ${j.ratio}`);
  assert.equal(j.settings.pruneFinetuneEpochs, 1);
  const { model } = loadModel(g);
  const k = model.getLayer('dense').weight('kernel') as CodebookMap;
  assert.equal(k.kind, 'codebook');
  assert.equal(k.kept(), 78400);
  const e = io();
  assert.equal(await main(['eval', g, '--test-limit', '300', '--json'], e.io), 0);
  assert.ok(Math.abs(JSON.parse(e.r.out).accuracy - j.finetuned.accuracy) < 1e-9);
  model.dispose();
  // Errors stay one line naming the layer, the scheme and the range; nothing is written.
  const bad = io();
  assert.equal(await main(['compress', f, '--prune', '0.5', '--conv-prune', '0.5', '--prune-finetune-epochs', '1', '--layers', 'dense', '--clusters', '100000', '--out', join(dir, 'x.wsm')], bad.io), 1);
  assert.match(bad.r.err, /^weightshare: error: layer 'dense' kernel, scheme 'codebook': clusters must be an integer in \[2, 78400\] \(the weight's 156800 elements, 78400 after pruning 0\.5\), got 100000\n$/);
  const bad2 = io();
  assert.equal(await main(['compress', f, '--prune', '1', '--prune-finetune-epochs', '1'], bad2.io), 2);
  assert.match(bad2.r.err, /^weightshare compress: --prune must be a fraction in \[0, 1\), got 1\n/);
  // Per-layer fractions override --prune; bad names and values are usage errors before any work.
  const per = io();
  assert.equal(await main(['compress', f, '--prune', '0.5', '--layer-prune', 'dense_2=0.25', '--prune-finetune-epochs', '1', '--clusters', '8',
    '--finetune-epochs', '1', '--test-limit', '100', '--out', join(dir, 'per.wsm'), '--json'], per.io), 0, per.r.err);
  assert.match(per.r.err, /dense\/kernel: 156,800 weights, 50\.0 % pruned/);
  assert.match(per.r.err, /dense_2\/kernel: 2,000 weights, 25\.0 % pruned/);
  // The per-layer fractions are recorded: in --json's settings and in the file's training record.
  assert.deepEqual(JSON.parse(per.r.out).settings.layerPrune, { dense_2: 0.25 });
  const perModel = loadModel(join(dir, 'per.wsm'));
  assert.deepEqual(perModel.meta.training?.compress?.layerPrune, { dense_2: 0.25 });
  perModel.model.dispose();
  const bad3 = io();
  assert.equal(await main(['compress', f, '--layer-prune', 'dense_9=0.5'], bad3.io), 2);
  assert.match(bad3.r.err, /--layer-prune: unknown layer 'dense_9' \(layers: flatten, dense, dense_1, dense_2;/);
  const bad4 = io();
  assert.equal(await main(['compress', f, '--layer-prune', 'dense=1.5'], bad4.io), 2);
  assert.match(bad4.r.err, /--layer-prune: expected layer=fraction with a fraction in \[0, 1\), got 'dense=1\.5'/);
});
