// The sharing maps hashed, lowRank, randomMask and tied: gradients, definitions, save/load, CLI specs and errors.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { memory, tidy } from '../../src/core/engine.js';
import { matmul, mul, randomUniform, sum, tensor, transpose } from '../../src/core/ops/index.js';
import { valueAndGrads } from '../../src/core/tape.js';
import type { Tensor } from '../../src/core/tensor.js';
import { decodeCheckpoint, encodeCheckpoint } from '../../src/io/checkpoint.js';
import { modelFromCheckpoint, modelToCheckpoint } from '../../src/io/model-file.js';
import { input, layers, model, sequential, type Model } from '../../src/nn/index.js';
import { applySharing } from '../../src/cli/train.js';
import { createModel } from '../../src/nn/zoo.js';
import { createMap, parseMapSpec, SharingError } from '../../src/sharing/index.js';
import { checkMapGradient } from '../helpers/gradcheck.js';

const ctx = (shape: number[], seed = 3) => ({
  layer: 'test', weight: 'kernel', shape, initializer: 'glorot_uniform', seed,
  init: (s: readonly number[], sd: number) => randomUniform(s, { seed: sd, min: -0.5, max: 0.5 }),
});

test('hashed: W[i] = ξ(i)·θ[h(i)] with the stated bucket count, signs ±1, recomputed from the seed; gradient = signed bucket sums', () => {
  const m = createMap('hashed:buckets=7', ctx([6, 5]));
  assert.deepEqual(m.stats(), { virtual: 30, free: 7, bits: 224 });
  const theta = m.parameters()[0].value.f32();
  const w = tidy(() => m.materialize().f32() as unknown as Tensor) as unknown as Float32Array;
  for (const x of w) assert.ok(theta.some((t) => Math.abs(Math.abs(t) - Math.abs(x)) < 1e-7), `${x} is ±θ[k]`);
  const again = createMap(m.toJSON(), ctx([6, 5], 99));
  again.parameters()[0].value.backend.write(again.parameters()[0].value.buf, theta);
  assert.deepEqual(tidy(() => again.materialize().f32() as unknown as Tensor), w, 'same seed in the config → same tables');
  checkMapGradient(m);
  assert.equal(createMap('hashed:1/8', ctx([40, 20])).stats().free, 100);
  m.dispose();
  again.dispose();
});

test('lowRank: W = U·V reshaped; gradients; rank range checked', () => {
  const m = createMap('lowRank:2', ctx([3, 3, 2, 4]));
  const [u, v] = m.parameters().map((p) => p.value);
  assert.deepEqual(u.shape, [18, 2]);
  assert.deepEqual(v.shape, [2, 4]);
  const w = tidy(() => m.materialize().f32() as unknown as Tensor) as unknown as Float32Array;
  const uv = tidy(() => matmul(u, v).f32() as unknown as Tensor) as unknown as Float32Array;
  assert.deepEqual(w, uv);
  assert.equal(m.stats().free, 2 * (18 + 4));
  checkMapGradient(m);
  m.dispose();
  assert.throws(() => createMap('lowRank:5', ctx([8, 4])), (e: unknown) => e instanceof SharingError && /layer 'test' kernel, scheme 'lowRank': rank must be an integer in \[1, 4\]/.test((e as Error).message));
});

test('lowRank on a weight that starts at 0 (a bias, a zeros initialiser): W = 0 still, and it trains (U and V both 0 had every gradient 0)', async () => {
  const z = createMap('lowRank:2', { ...ctx([4, 3]), initializer: 'zeros', init: (s: readonly number[]) => tensor(new Float32Array(s.reduce((a, b) => a * b, 1)), [...s]) });
  assert.deepEqual(Array.from(tidy(() => z.materialize().f32() as unknown as Tensor) as unknown as Float32Array), new Array(12).fill(0));
  assert.ok(z.parameters()[0]!.value.f32().some((x) => x !== 0), 'U is random');
  checkMapGradient(z);
  z.dispose();
  const x = input({ shape: [4] });
  const d = layers.dense({ units: 3, maps: { kernel: 'lowRank:2', bias: 'lowRank:1' }, kernelInitializer: 'zeros' });
  const m = model({ inputs: x, outputs: d.apply(x) }).build(0);
  m.compile({ optimizer: { name: 'adam', learningRate: 0.05 }, loss: 'mse' });
  const xs = Float32Array.from({ length: 64 }, (_, i) => Math.sin(i)), ys = Float32Array.from({ length: 48 }, (_, i) => 1 + Math.cos(i));
  const h = await m.fit({ data: xs, shape: [16, 4] }, { data: ys, shape: [16, 3] }, { epochs: 30, verbose: 0 });
  const loss = h.history.loss as number[];
  assert.ok(loss[loss.length - 1]! < 0.5 * loss[0]!, `loss ${loss[0]} → ${loss[loss.length - 1]}`);
  m.dispose();
});

test('map options of another JSON kind are refused by name (a string, true, an array or null was coerced: true read as 1 bucket)', () => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ kind: 'hashed', buckets: '8' }, /scheme 'hashed': buckets must be a number, got "8"$/],
    [{ kind: 'hashed', buckets: true }, /buckets must be a number, got true$/],
    [{ kind: 'hashed', compression: null }, /compression must be a number, got null$/],
    [{ kind: 'lowRank', rank: '0x2' }, /scheme 'lowRank': rank must be a number, got "0x2"$/],
    [{ kind: 'lowRankDelta', rank: false }, /scheme 'lowRankDelta': rank must be a number, got false$/],
    [{ kind: 'codebook', clusters: '4' }, /scheme 'codebook': clusters must be a number, got "4"$/],
    [{ kind: 'codebook', clusters: 4, init: null }, /scheme 'codebook': init must be a string, got null$/],
    [{ kind: 'randomMask', density: true }, /scheme 'randomMask': density must be a number, got true$/],
    [{ kind: 'subspace', dim: 2, total: 200, seed: -5.5 }, /scheme 'subspace': seed must be an integer in \[0, 2³²\), got -5\.5$/],
    [{ kind: 'subspace', dim: '2', total: 200 }, /scheme 'subspace': dim must be a number, got "2"$/],
    [{ kind: 'tied' }, /scheme 'tied': needs to, the weight it shares/],
    [{ kind: 'tied', to: 5 }, /scheme 'tied': to must be a string, got 5$/],
  ];
  for (const [spec, re] of cases) assert.throws(() => createMap(spec as never, ctx([8, 4])), (e: Error) => e instanceof SharingError && re.test(e.message), JSON.stringify(spec));
  // Short specs give numbers, as before.
  assert.equal(createMap('hashed:buckets=8', ctx([8, 4])).stats().free, 8);
});

test('randomMask: exactly `kept` trained elements, the rest zero; gradient flows only to θ', () => {
  const m = createMap('randomMask:kept=9', ctx([5, 6]));
  const w = tidy(() => m.materialize().f32() as unknown as Tensor) as unknown as Float32Array;
  assert.equal(w.filter((x) => x !== 0).length, 9);
  assert.deepEqual(m.stats(), { virtual: 30, free: 9, bits: 288 });
  checkMapGradient(m);
  m.dispose();
});

test('tied: a Dense kernel tied (transposed) to another has the sum of both uses as its gradient, counted once', () => {
  const x = input({ shape: [4] });
  const enc = layers.dense({ units: 3, useBias: false, name: 'enc' });
  const dec = layers.dense({ units: 4, useBias: false, name: 'dec', maps: { kernel: 'tied:enc/kernel:T' } });
  const m = model({ inputs: x, outputs: dec.apply(enc.apply(x)) }).build(1);
  assert.equal(m.countParams(), 12, 'the tied kernel adds no parameters');
  const k = enc.weight('kernel').parameters()[0].value;
  const xs = randomUniform([5, 4], { seed: 4 });
  const { grads } = valueAndGrads(() => sum(mul(m.call(xs), m.call(xs))), [k]);
  // The same loss with the kernel used twice explicitly (untied copies A and B = Aᵀ): dL/dK = dL/dA + (dL/dB)ᵀ.
  const a = tensor(k.f32(), k.shape);
  const b = tensor(tidy(() => transpose(k).f32() as unknown as Tensor) as unknown as Float32Array, [3, 4]);
  const r = valueAndGrads(() => { const y = matmul(matmul(xs, a), b); return sum(mul(y, y)); }, [a, b]);
  const want = tidy(() => r.grads[0].f32() as unknown as Tensor) as unknown as Float32Array;
  const bt = tidy(() => transpose(r.grads[1]).f32() as unknown as Tensor) as unknown as Float32Array;
  const got = grads[0].f32();
  got.forEach((g, i) => assert.ok(Math.abs(g - (want[i] + bt[i])) < 1e-4, `coordinate ${i}: ${g} vs ${want[i] + bt[i]}`));
  assert.throws(() => model({ inputs: x, outputs: layers.dense({ units: 4, maps: { kernel: 'tied:enc/kernel' } }).apply(enc.apply(x)) }).build(),
    /scheme 'tied': 'enc\/kernel' has shape \[4,3\] but this weight needs \[3,4\]/);
  assert.throws(() => model({ inputs: x, outputs: layers.dense({ units: 4, maps: { kernel: 'tied:nope/kernel' } }).apply(x) }).build(), /'nope\/kernel' is not a weight/);
  m.dispose();
});

function roundTrip(m: Model): Model {
  return modelFromCheckpoint(decodeCheckpoint(encodeCheckpoint(modelToCheckpoint(m)))).model;
}

test('a model with hashed, lowRank, randomMask and tied weights saves θ and seeds only, and loads to identical outputs', () => {
  const x = input({ shape: [12] });
  const h1 = layers.dense({ units: 10, activation: 'relu', maps: { kernel: 'hashed:1/4', bias: 'hashed:buckets=3' } });
  const h2 = layers.dense({ units: 8, activation: 'tanh', maps: { kernel: 'lowRank:3' } });
  const h3 = layers.dense({ units: 10, maps: { kernel: 'randomMask:1/2' } });
  const h4 = layers.dense({ units: 8, maps: { kernel: 'tied:dense_1/kernel' } });
  const m = model({ inputs: x, outputs: h4.apply(h3.apply(h2.apply(h1.apply(x)))) }).build(5);
  m.compile({ optimizer: 'adam', loss: 'mean_squared_error' });
  const xs = randomUniform([6, 12], { seed: 1 });
  m.trainOnBatch(xs, randomUniform([6, 8], { seed: 2 }));
  const c = modelToCheckpoint(m);
  assert.ok(!c.tensors.has('weights/dense/kernel'), 'the hashed kernel is stored as θ, never as W');
  assert.equal(c.tensors.get('weights/dense/kernel/theta')!.data.length, 30);
  const back = roundTrip(m);
  assert.deepEqual(back.call(xs).f32(), m.call(xs).f32());
  assert.deepEqual(back.toJSON(), m.toJSON());
  assert.ok(m.summary().includes('hashed') && m.summary().includes('Virtual params'));
  m.dispose();
  back.dispose();
});

test('loading builds stand-ins, not fits (no k-means, no draws), and every such scheme loads to identical outputs', () => {
  // The loader's build (MapContext.restoring): θ and map state are left for the file to fill.
  const fitted = createMap('codebook:4', ctx([6, 5]));
  const stand = createMap('codebook:4', { ...ctx([6, 5]), restoring: true });
  assert.ok(fitted.parameters()[0].value.f32().some((c) => c !== 0), 'a fit from a draw has centroids');
  assert.deepEqual([...stand.parameters()[0].value.f32()], [0, 0, 0, 0], 'a stand-in has none');
  assert.deepEqual(stand.stats().free, fitted.stats().free);
  const lr = createMap('lowRank:2', { ...ctx([6, 5]), restoring: true });
  assert.ok(lr.parameters().every((p) => p.value.f32().every((v) => v === 0)));
  for (const m of [fitted, stand, lr]) m.dispose();

  const x = input({ shape: [12], name: 'x' });
  const h = [
    layers.dense({ units: 10, activation: 'relu', maps: { kernel: 'codebook:6' } }),
    layers.dense({ units: 10, activation: 'relu', maps: { kernel: 'codebook:4:prune=0.5' } }),
    layers.dense({ units: 10, activation: 'tanh', maps: { kernel: 'pruned:prune=0.6' } }),
    layers.dense({ units: 8, maps: { kernel: 'lowRank:3', bias: 'hashed:buckets=3' } }),
    layers.dense({ units: 8, maps: { kernel: 'randomMask:1/2' } }),
  ];
  const seqIn = input({ shape: [4, 2], name: 'sequence' });
  const rnn = layers.lstm({ units: 3, steps: 4, timeSharing: { rank: 2 } });
  const m = model({ inputs: [x, seqIn], outputs: [h.reduce((t, l) => l.apply(t), x), rnn.apply(seqIn)] }).build(7);
  m.compile({ optimizer: 'adam', loss: 'mean_squared_error' });
  const xs = [randomUniform([6, 12], { seed: 1 }), randomUniform([6, 4, 2], { seed: 3 })];
  m.trainOnBatch(xs, [randomUniform([6, 8], { seed: 2 }), randomUniform([6, 3], { seed: 4 })]);
  const back = roundTrip(m);
  const [a, b] = [m.callAll(xs), back.callAll(xs)];
  for (let i = 0; i < 2; i++) assert.deepEqual(b[i].f32(), a[i].f32());
  for (const { name, param } of m.namedParameters()) {
    assert.deepEqual(back.namedParameters().find((p) => p.name === name)!.param.value.f32(), param.value.f32(), name);
  }
  assert.deepEqual(back.toJSON(), m.toJSON());
  for (const t of [...a, ...b, ...xs]) t.dispose();
  m.dispose();
  back.dispose();
});

test('specs: short strings parse; bad specs and ranges fail before training with the layer, scheme and range', () => {
  assert.deepEqual(parseMapSpec('hashed:1/64'), { kind: 'hashed', compression: 1 / 64 });
  assert.deepEqual(parseMapSpec('hashed:buckets=1000:seed=3'), { kind: 'hashed', buckets: 1000, seed: 3 });
  assert.deepEqual(parseMapSpec('tied:enc/kernel:T'), { kind: 'tied', to: 'enc/kernel', transpose: true });
  assert.throws(() => createMap('warp', ctx([2, 2])), /scheme 'warp': unknown scheme/);
  assert.throws(() => createMap('hashed:buckets=0', ctx([2, 2])), /buckets must be an integer in \[1, 4\]/);
  assert.throws(() => createMap('randomMask:2', ctx([2, 2])), /density \(kept\/virtual\) must be in \(0, 1\]/);
  assert.throws(() => sequential([layers.dense({ units: 2, inputShape: [3], maps: { kernal: 'hashed:1/2' } })]).build(), /maps name 'kernal', but its weights are kernel, bias/);
  const live = memory().tensors;
  assert.throws(() => sequential([layers.dense({ units: 2, inputShape: [3], maps: { kernel: 'lowRank:9' } })]).build());
  assert.equal(memory().tensors, live, 'a failed build frees what it made');
  const two = sequential([layers.dense({ units: 3, inputShape: [4] }), layers.dense({ units: 2, maps: { kernel: 'lowRank:9' } })]);
  assert.throws(() => two.build(0), /rank must be an integer in \[1, 2\]/);
  assert.equal(memory().tensors, live, 'the layers built before the failing one are freed too');
  // A block's spec for a sublayer's weight that has a spec of its own: refused, naming both.
  const i = input({ shape: [4] });
  const inner = layers.dense({ units: 3, name: 'dense', maps: { kernel: 'hashed:buckets=3' } });
  assert.throws(() => layers.block({ inputs: i, outputs: inner.apply(i), maps: { 'dense/kernel': 'lowRank:2' } }),
    /layer 'block\/dense' kernel: two map specs, "hashed:buckets=3" \(its own\) and "lowRank:2" \(from 'block'\); give one/);
  // Options as text: true/false are booleans ('signs=false' was read as true), an option given twice, two that set one
  // thing, seeds that are not integers in [0, 2³²) and empty options are refused, naming the layer and weight.
  assert.deepEqual(parseMapSpec('hashed:buckets=4:signs=false'), { kind: 'hashed', buckets: 4, signs: false });
  assert.equal((createMap('hashed:buckets=2:signs=false', ctx([2, 2])).toJSON() as unknown as { signs: boolean }).signs, false);
  assert.deepEqual(parseMapSpec('tied:enc/kernel:transpose=true'), { kind: 'tied', to: 'enc/kernel', transpose: true });
  assert.throws(() => createMap('hashed:buckets=2:signs=no', ctx([2, 2])), /scheme 'hashed': signs must be true or false, got "no"/);
  assert.throws(() => parseMapSpec('lowRank:rank=2:rank=3'), /option 'rank' is given twice in map spec 'lowRank:rank=2:rank=3'/);
  assert.throws(() => parseMapSpec('lowRank:2:rank=3'), /option 'rank' is given twice/);
  assert.throws(() => parseMapSpec('hashed::'), /an empty option \(two ':' in a row, or one at the end\) in map spec 'hashed::'/);
  assert.throws(() => createMap('hashed:1/2:buckets=2', ctx([2, 2])), /scheme 'hashed': give compression or buckets, not both \(got compression 0\.5 and buckets 2\)/);
  assert.throws(() => createMap('randomMask:1/2:kept=1', ctx([2, 2])), /give density or kept, not both/);
  for (const seed of ['abc', '1.5', '-1', '4294967296']) {
    assert.throws(() => createMap(`hashed:1/2:seed=${seed}`, ctx([2, 2])), /scheme 'hashed': seed must be an integer in \[0, 2³²\)/, seed);
  }
  assert.throws(() => createMap('codebook:2:seed=abc', ctx([2, 2])), /scheme 'codebook': seed must be an integer/);
  assert.throws(() => createMap('Hashed:1/8', ctx([2, 2])), /scheme 'Hashed': unknown scheme \(known: dense, hashed, .*names are case-sensitive\)/);
  assert.throws(() => layers.dense({ units: 2, name: 'd', maps: { kernel: 'lowRank:2:3' } }), /^RangeError: layer 'd' maps\.kernel: cannot read '3' in map spec 'lowRank:2:3' \(options after the first are key=value\)$/);
});

test('CLI --sharing: one scheme for every kernel, or per layer; unknown layers are rejected before building', () => {
  const m = createModel('seed-cnn');
  applySharing(m, 'hashed:1/8');
  assert.deepEqual(m.layers.filter((l) => l.mapSpecs.kernel).map((l) => l.name), ['conv2d', 'conv2d_1', 'dense', 'dense_1']);
  const p = createModel('mlp');
  applySharing(p, 'dense=lowRank:4,dense_1/bias=hashed:buckets=10');
  assert.deepEqual(p.getLayer('dense').mapSpecs, { kernel: 'lowRank:4' });
  assert.deepEqual(p.getLayer('dense_1').mapSpecs, { bias: 'hashed:buckets=10' });
  p.build(0);
  assert.equal(p.countParams(), 4 * (784 + 200) + 200 + 200 * 200 + 10 + 2010);
  assert.throws(() => applySharing(createModel('mlp'), 'dense_7=hashed:1/8'), /unknown layer 'dense_7' \(layers with weights: dense, dense_1, dense_2\)/);
  assert.throws(() => applySharing(createModel('mlp'), 'flatten=hashed:1/8'), /layer 'flatten' \(Flatten\) has no weights/);
  assert.throws(() => applySharing(createModel('mlp'), 'dense=hashed:buckets=10,dense/kernel=lowRank:2'), /--sharing: dense\/kernel is given two schemes \('dense=hashed:buckets=10' and 'dense\/kernel=lowRank:2'\); give each weight one/);
  p.dispose();
});
