// Random-subspace training (θ = θ₀ + P·d): gradients, θ₀ at d = 0, one shared d, projections, save/load, training, errors, CLI.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli/main.js';
import { tidy } from '../../src/core/engine.js';
import { softmaxCrossEntropy, tensor } from '../../src/core/ops/index.js';
import { Random } from '../../src/core/random.js';
import { valueAndGrads } from '../../src/core/tape.js';
import type { Tensor } from '../../src/core/tensor.js';
import { loadDataset } from '../../src/data/datasets.js';
import { loadModel, saveModel } from '../../src/io/files.js';
import { layers } from '../../src/nn/layers/index.js';
import { model, sequential } from '../../src/nn/model.js';
import { input } from '../../src/nn/layer.js';
import { createModel } from '../../src/nn/zoo.js';
import { SharingError } from '../../src/sharing/registry.js';
import { subspace } from '../../src/transforms/subspace.js';
import { projectionRows, SubspaceMap, type Projection, type SubspaceSettings } from '../../src/sharing/subspace.js';
import { checkGradients } from '../helpers/gradcheck.js';

const PROJ: Projection[] = ['dense', 'sparse', 'fastfood'];
const dir = mkdtempSync(join(tmpdir(), 'ws-subspace-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

/** A small MLP 12-8-3 (D = 12·8 + 8 + 8·3 + 3 = 131). */
const small = (activation: 'relu' | 'tanh' = 'relu') => sequential([layers.dense({ units: 8, activation, inputShape: [12] }), layers.dense({ units: 3 })], { name: 'small' });

/** Runs f in a tidy scope and returns its (non-tensor) result. */
function scoped<T>(f: () => T): T {
  let out!: T;
  tidy(() => {
    out = f();
  });
  return out;
}

function randn(n: number, seed: number, scale = 1): Float32Array {
  const r = new Random(seed);
  return Float32Array.from({ length: n }, () => r.normal() * scale);
}

/** P [D, dim] as columns: P·e_j for every j (through the rows of the whole of P). */
function columns(s: SubspaceSettings): Float32Array[] {
  const rows = projectionRows(s, 0, s.total);
  const out = Array.from({ length: s.dim }, (_, j) => scoped(() => {
    const e = new Float32Array(s.dim);
    e[j] = 1;
    return rows.apply(tensor(e, [s.dim])).f32();
  }));
  rows.dispose();
  return out;
}
const dot = (a: Float32Array, b: Float32Array): number => a.reduce((s, v, i) => s + v * b[i], 0);

test('P_rows·d: gradient w.r.t. d by finite differences, every projection, rows not starting at 0', () => {
  for (const projection of PROJ) {
    const s: SubspaceSettings = { dim: 6, projection, seed: 3, total: 300 };
    const rows = projectionRows(s, 37, 50);
    checkGradients(`subspace ${projection}`, (d: Tensor) => rows.apply(d), [tensor(randn(6, 1), [6])], { eps: 1e-2, rtol: 1e-2, atol: 1e-3 });
    rows.dispose();
  }
});

test('model gradient w.r.t. the shared d matches central differences of the loss', () => {
  for (const projection of PROJ) {
    const m = subspace(small('tanh'), { dim: 5, projection, seed: 2 });
    const d = m.namedParameters()[0].param.value;
    m.setWeights({ 'dense/kernel/d': randn(5, 9, 0.3) });
    const x = tensor(randn(4 * 12, 4), [4, 12]);
    const y = tensor(Int32Array.from([0, 2, 1, 2]), [4], 'int32');
    const loss = (): Tensor => softmaxCrossEntropy(m.call(x), y);
    const g = scoped(() => valueAndGrads(loss, [d]).grads[0].f32());
    const d0 = d.f32();
    for (let i = 0; i < 5; i++) {
      const at = (v: number): number => {
        const t = d0.slice();
        t[i] = v;
        m.setWeights({ 'dense/kernel/d': t });
        return tidy(() => loss().item());
      };
      const h = 1e-2;
      const num = (at(d0[i] + h) - at(d0[i] - h)) / (2 * h);
      assert.ok(Math.abs(num - g[i]) <= 2e-3 + 2e-2 * Math.abs(num), `${projection} d[${i}]: analytic ${g[i]} vs numeric ${num}`);
    }
    m.dispose();
  }
});

test('d = 0 gives exactly θ₀, the initialisation of the full model built with the same seed', () => {
  const full = createModel('mlp').build(5);
  const w0 = full.getWeights();
  for (const projection of ['sparse', 'fastfood'] as const) {
    const m = subspace(createModel('mlp'), { dim: 20, projection, seed: 1, initSeed: 5 });
    for (const w of m.weights()) {
      const a = scoped(() => w.map.materialize().f32());
      assert.deepEqual(a, w0.get(w.path), `${projection} ${w.path}`);
    }
    m.dispose();
  }
  full.dispose();
});

test('one Parameter d shared by every map: counted once, named once, one optimizer slot, stepped once', () => {
  const m = subspace(small(), { dim: 7, projection: 'fastfood', seed: 0 });
  const np = m.namedParameters();
  assert.deepEqual(np.map((p) => p.name), ['dense/kernel/d']);
  assert.equal(m.countParams(), 7);
  const ws = m.weights();
  assert.equal(ws.length, 4);
  for (const w of ws) {
    assert.ok(w.map instanceof SubspaceMap);
    assert.equal(w.map.parameters()[0], np[0].param);
  }
  assert.deepEqual(ws.map((w) => w.map.stats().free), [7, 0, 0, 0]);
  m.compile({ optimizer: { name: 'sgd', learningRate: 0.1 }, loss: 'sparse_categorical_crossentropy', fromLogits: true });
  const x = tensor(randn(4 * 12, 4), [4, 12]);
  const y = tensor(Int32Array.from([0, 1, 2, 0]), [4], 'int32');
  const before = np[0].param.value.f32();
  // The summed gradient: one SGD step moves d by −lr·(∂L/∂d), the sum over all maps.
  const g = scoped(() => valueAndGrads(() => softmaxCrossEntropy(m.call(x, { training: true, seed: 0, logits: true }), y), [np[0].param.value]).grads[0].f32());
  m.trainOnBatch(x, y);
  const after = np[0].param.value.f32();
  for (let i = 0; i < 7; i++) assert.ok(Math.abs(after[i] - (before[i] - 0.1 * g[i])) < 1e-5, `d[${i}]`);
  const st = m.optimizer!.getState(np.map((p) => p.param.value), np.map((p) => p.name));
  assert.deepEqual(Object.keys(st.steps), ['dense/kernel/d']);
  assert.equal(st.steps['dense/kernel/d'], 1);
  m.dispose();
});

test('projections are deterministic from the seed and change with it; P does not depend on how rows are split', () => {
  for (const projection of PROJ) {
    const s: SubspaceSettings = { dim: 9, projection, seed: 11, total: 5000 };
    const d = tensor(randn(9, 2), [9]);
    const run = (t: SubspaceSettings, off: number, n: number): Float32Array => {
      const r = projectionRows(t, off, n);
      const v = scoped(() => r.apply(d).f32());
      r.dispose();
      return v;
    };
    const a = run(s, 0, 5000);
    assert.deepEqual(run(s, 0, 5000), a, projection);
    assert.notDeepEqual(run({ ...s, seed: 12 }, 0, 5000), a, projection);
    const parts = [...run(s, 0, 1234), ...run(s, 1234, 4000 - 1234), ...run(s, 4000, 1000)];
    for (let i = 0; i < 5000; i++) assert.ok(Math.abs(parts[i] - a[i]) <= 1e-6 * (1 + Math.abs(a[i])), `${projection} row ${i}`);
  }
});

test('columns of P have norm ≈ 1 and are nearly orthogonal (dense, sparse, fastfood)', () => {
  for (const projection of PROJ) {
    const s: SubspaceSettings = { dim: 24, projection, seed: 4, total: 6000 };
    const cols = columns(s);
    const norms = cols.map((c) => Math.sqrt(dot(c, c)));
    const mean = norms.reduce((a, b) => a + b, 0) / norms.length;
    assert.ok(Math.abs(mean - 1) < 0.05, `${projection}: mean column norm ${mean}`);
    for (const n of norms) assert.ok(Math.abs(n - 1) < (projection === 'sparse' ? 0.25 : 0.1), `${projection}: column norm ${n}`);
    let worst = 0;
    for (let i = 0; i < s.dim; i++) for (let j = i + 1; j < s.dim; j++) worst = Math.max(worst, Math.abs(dot(cols[i], cols[j])) / (norms[i] * norms[j]));
    assert.ok(worst < (projection === 'sparse' ? 0.3 : 0.15), `${projection}: largest |cos| between columns ${worst}`);
  }
});

test('sparse and fastfood agree with dense statistically: ‖P·d‖ ≈ ‖d‖ for random d', () => {
  const stats: Record<string, number> = {};
  for (const projection of PROJ) {
    const s: SubspaceSettings = { dim: 64, projection, seed: 8, total: 20000 };
    const rows = projectionRows(s, 0, s.total);
    let acc = 0;
    for (let k = 0; k < 20; k++) {
      const d = randn(64, 100 + k);
      const nd = Math.sqrt(dot(d, d));
      const v = scoped(() => rows.apply(tensor(d, [64])).f32());
      acc += Math.sqrt(dot(v, v)) / nd;
    }
    rows.dispose();
    stats[projection] = acc / 20;
  }
  for (const p of PROJ) assert.ok(Math.abs(stats[p] - 1) < 0.05, `‖P·d‖/‖d‖ for ${p}: ${stats[p]}`);
  assert.ok(Math.abs(stats.sparse - stats.dense) < 0.05 && Math.abs(stats.fastfood - stats.dense) < 0.05, JSON.stringify(stats));
});

test('save/load round trip: config keeps dim, projection, seeds and offsets; only d is stored; identical outputs', () => {
  for (const projection of PROJ) {
    const m = subspace(small(), { dim: 10, projection, seed: 6, initSeed: 3 });
    m.setWeights({ 'dense/kernel/d': randn(10, 5, 0.5) });
    const path = join(dir, `s-${projection}.wsm`);
    saveModel(path, m, { initSeed: 3 });
    const { model: back } = loadModel(path);
    assert.deepEqual(back.namedParameters().map((p) => p.name), ['dense/kernel/d']);
    assert.deepEqual(back.toJSON(), m.toJSON());
    const x = tensor(randn(5 * 12, 7), [5, 12]);
    assert.deepEqual(scoped(() => back.call(x).f32()), scoped(() => m.call(x).f32()), projection);
    m.dispose();
    back.dispose();
  }
});

test('a subspace MLP 784-200-200-10 (dim 500, fastfood) learns on a slice of mnist-sample', async () => {
  const ds = loadDataset('mnist-sample');
  const n = 2000, nt = 1000;
  const m = subspace(createModel('mlp'), { dim: 500, projection: 'fastfood', seed: 0 });
  m.compile({ optimizer: { name: 'adam', learningRate: 0.05 }, loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'] });
  await m.fit({ data: ds.xTrain.subarray(0, n * 784), shape: [n, 28, 28, 1] }, { data: ds.yTrain.subarray(0, n), shape: [n] }, { epochs: 2, batchSize: 32, seed: 0 });
  const { accuracy } = m.evaluate({ data: ds.xTest.subarray(0, nt * 784), shape: [nt, 28, 28, 1] }, { data: ds.yTest.subarray(0, nt), shape: [nt] });
  assert.ok(accuracy > 0.6, `test accuracy ${accuracy} (chance 0.1)`);
  m.dispose();
});

test('bad input: dim outside [1, D], unknown projection, an oversized dense P, non-dense weights → SharingError before training', () => {
  const D = 131;
  for (const dim of [0, -3, 1.5, D + 1]) {
    assert.throws(() => subspace(small(), { dim }), (e: Error) => e instanceof SharingError && /scheme 'subspace'/.test(e.message) && e.message.includes(`[1, ${D}]`), `dim ${dim}`);
  }
  assert.throws(() => subspace(small(), { dim: 4, projection: 'gaussian' as Projection }), /projection must be one of dense, sparse, fastfood/);
  assert.throws(() => subspace(createModel('mlp'), { dim: 800, projection: 'dense' }), /dense projection .* 608 MiB \(limit 64 MiB\).*sparse' or 'fastfood/);
  const hashed = sequential([layers.dense({ units: 3, inputShape: [4], maps: { kernel: 'hashed:1/2' } })]);
  assert.throws(() => subspace(hashed, { dim: 2 }), /scheme 'subspace': needs a model with dense weights, this one is 'hashed'/);
  const ok = subspace(small(), { dim: D, projection: 'dense' });
  assert.equal(ok.countParams(), D);
  ok.dispose();
});

test('CLI: weightshare intrinsic-dim on a tiny grid (--limit 500 --epochs 1 --dims 10,100), table and JSON; bad dims', async () => {
  const run = async (...argv: string[]): Promise<{ code: number; out: string; err: string }> => {
    let out = '', err = '';
    const code = await main(argv, { out: { write: (s: string) => (out += s) }, err: { write: (s: string) => (err += s) } });
    return { code, out, err };
  };
  const j = await run('intrinsic-dim', '--limit', '500', '--test-limit', '500', '--epochs', '1', '--dims', '10,100', '--json');
  assert.equal(j.code, 0, j.err);
  const r = JSON.parse(j.out) as { parameters: number; baseline: { accuracy: number }; rows: { dim: number; accuracy: number; fraction: number }[]; dint90: number | null };
  assert.equal(r.parameters, 199210);
  assert.deepEqual(r.rows.map((x) => x.dim), [10, 100]);
  assert.ok(r.baseline.accuracy > 0.5, `baseline ${r.baseline.accuracy}`);
  for (const x of r.rows) assert.ok(Math.abs(x.fraction - x.accuracy / r.baseline.accuracy) < 1e-9);
  const t = await run('intrinsic-dim', '--limit', '500', '--test-limit', '200', '--epochs', '1', '--dims', '10', '--projection', 'sparse');
  assert.equal(t.code, 0, t.err);
  assert.match(t.out, /dim +test accuracy +of baseline/);
  assert.match(t.out, /d_int90 = /);
  const bad = await run('intrinsic-dim', '--limit', '100', '--dims', '10,300000');
  assert.equal(bad.code, 2);
  assert.match(bad.err, /--dims: 300000 is more than the model's 199,210 parameters/);
  const bad2 = await run('intrinsic-dim', '--dims', 'ten');
  assert.equal(bad2.code, 2);
  assert.match((await run('--help')).out, /intrinsic-dim/);
});

test('subspace of a model whose first weight sits in a block: one d, and at d = 0 the base model', () => {
  const i = input({ shape: [4] });
  const blk = layers.block({ inputs: i, outputs: layers.dense({ units: 3, name: 'dense' }).apply(i) });
  const x = input({ shape: [4] });
  const base = model({ inputs: x, outputs: layers.dense({ units: 2 }).apply(blk.apply(x)) }).build(0);
  const s = subspace(base, { dim: 5 });
  assert.equal(s.countParams(), 5);
  const data = { data: Float32Array.from({ length: 8 }, (_, k) => Math.sin(k)), shape: [2, 4] };
  const [a, b] = [base.predict(data), s.predict(data)];
  assert.deepEqual(Array.from(b.f32()), Array.from(a.f32()));
  for (const t of [a, b]) t.dispose();
  base.dispose();
  s.dispose();
});

test('subspace refuses options it does not have, null and non-integer seeds, naming them (a misspelt projection fell back to fastfood)', () => {
  const m = sequential([layers.dense({ units: 2, inputShape: [3] })]).build(0);
  assert.throws(() => subspace(m, null as never), /^ArgumentError: subspace: takes options \{ dim, projection\?, seed\?, initSeed\? \}, got null$/);
  assert.throws(() => subspace(m, { dim: 3, projecton: 'dense' } as never), /subspace: unknown option 'projecton' \(options: dim, projection, seed, initSeed\)/);
  assert.throws(() => subspace(m, { dim: 3, projection: null } as never), /subspace: projection is null: leave it out for the default/);
  assert.throws(() => subspace(m, { dim: 3, initSeed: Number.NaN }), /subspace: initSeed must be a non-negative integer, got the number NaN/);
  assert.throws(() => subspace(m, { dim: 3, seed: 1.5 }), /subspace: seed must be a non-negative integer/);
  m.dispose();
});

test("a map's owner is found in its own model only: another model's owner of the same path is not shared (it was, through the last owner made)", () => {
  const mk = (maps?: Record<string, never>) => {
    const x = input({ shape: [4] });
    return model({ inputs: x, outputs: layers.dense({ units: 3, name: 'a', ...(maps ? { maps } : {}) }).apply(x) });
  };
  const a = subspace(mk(), { dim: 5 });
  const spec = { ...(a.toJSON().layers[0]!.config as { maps: { kernel: Record<string, unknown> } }).maps.kernel, offset: 12, owner: 'a/kernel' };
  assert.throws(() => mk({ bias: spec as never }).build(0), /owner 'a\/kernel' is not a subspace weight of an earlier layer of this model/);
  // Within one model, the owner's siblings in its layer find it (the bias follows the kernel).
  assert.equal(a.getLayer('a').weight('bias').parameters()[0], a.getLayer('a').weight('kernel').parameters()[0]);
  a.dispose();
});
