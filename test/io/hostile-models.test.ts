// Hostile model files (issue 15): sizes checked before allocation, strict header schema, non-finite weights and bad map state refused by name.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tensor } from '../../src/core/ops/index.js';
import { CheckpointError, decodeCheckpoint, encodeCheckpoint } from '../../src/io/checkpoint.js';
import { modelFromCheckpoint, modelToCheckpoint } from '../../src/io/model-file.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Dense, LocallyConnected2D, sequential } from '../../src/nn/index.js';
import { subspace } from '../../src/transforms/subspace.js';
import { runCli } from '../helpers/cli.js';
import type { Model } from '../../src/nn/model.js';
import { compressedField, deflateBomb, editHeader, headerJson, layerConfig, replaceHeader } from '../helpers/model-bytes.js';
import { measurePeak } from '../helpers/memory.js';

/** A compiled 16 → 8 → 3 classifier; `maps` shares the first kernel; the first kernel is zero, so the file codes it (sparse). */
function smallModel(maps?: Record<string, string>): Model {
  const m = sequential([new Dense({ units: 8, activation: 'relu', ...(maps ? { maps } : {}) }), new Dense({ units: 3, activation: 'softmax' })], { inputShape: [16] }).build(3);
  m.compile({ optimizer: 'adam', loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'] });
  if (!maps) m.setWeights({ 'dense/kernel': new Float32Array(128) });
  return m;
}

const load = (bytes: Uint8Array, o: { allowNonFinite?: boolean; maxElements?: number; maxModelElements?: number } = {}): Model =>
  modelFromCheckpoint(decodeCheckpoint(bytes, 'm.wsm', { lazy: true, maxElements: o.maxElements }), 'm.wsm', o).model;

/** Asserts that loading `bytes` fails with a one-line CheckpointError matching `re`, lifting the peak RSS by less than 64 MiB. */
function refused(bytes: Uint8Array, re: RegExp, o: { allowNonFinite?: boolean; maxModelElements?: number } = {}): void {
  const r = measurePeak(() => load(bytes, o));
  assert.ok(r.error instanceof CheckpointError, `expected a CheckpointError, got ${String(r.error ?? 'a model')}`);
  assert.match(r.error.message, re);
  assert.doesNotMatch(r.error.message, /\n/);
  assert.ok(r.peakRise < 64 * 2 ** 20, `peak RSS rose by ${(r.peakRise / 2 ** 20).toFixed(0)} MiB (bound 64 MiB)`);
}

const bytesOf = (m: Model): Uint8Array => encodeCheckpoint(modelToCheckpoint(m));

test('the file loads as saved (guards the cases below): same predictions to the bit', () => {
  const m = smallModel();
  const x = tensor(Float32Array.from({ length: 32 }, (_, i) => Math.sin(i)), [2, 16]);
  assert.deepEqual(load(bytesOf(m)).predict(x).f32(), m.predict(x).f32());
});

test('a coded tensor whose shape claims [2e9] is refused from the header, before any decoding (limit 2^28 elements)', () => {
  const bytes = bytesOf(smallModel());
  const huge = editHeader(bytes, (h) => {
    const e = h.tensors.find((t) => t.name === 'weights/dense/kernel')!;
    assert.ok(e.encoding, 'the zero kernel is stored coded');
    e.shape = [2_000_000_000];
  });
  assert.ok(huge.length < 8192, `a small file (${huge.length} bytes)`);
  refused(huge, /^m\.wsm: tensor "weights\/dense\/kernel": shape \[2000000000\] has 2000000000 elements, above the limit of 268435456 per tensor \(raise it with the maxElements option or WEIGHTSHARE_MAX_ELEMENTS\)$/);
  assert.throws(() => decodeCheckpoint(huge, 'm.wsm'), /above the limit of 268435456 per tensor/, 'eager decoding checks the same limit');
  // Below the limit, the lazy loader compares the shape with the model's before expanding anything.
  const big = editHeader(bytes, (h) => { h.tensors.find((t) => t.name === 'weights/dense/kernel')!.shape = [100_000_000]; });
  refused(big, /^m\.wsm: weight 'dense\/kernel' is float32 \[100000000\] but layer expects float32 \[16,8\]$/);
});

test("a header with Dense units: 1000000 is refused before the kernel is allocated: the file's tensor must have the config's shape", () => {
  const bytes = bytesOf(smallModel());
  refused(editHeader(bytes, (h) => { layerConfig(h.meta, 'dense').units = 1_000_000; }), /^m\.wsm: weight 'dense\/kernel' is float32 \[16,8\] but layer expects float32 \[16,1000000\]$/);
  refused(editHeader(bytes, (h) => { layerConfig(h.meta, 'dense').units = 100_000_000; }), /^m\.wsm: weight 'dense\/kernel' \[16,100000000\] has 1600000000 elements, above the limit of 268435456 per weight/);
  // A hashed weight stores only θ, so its virtual size is bounded by the limit alone (its tables are W's size).
  const hashed = bytesOf(smallModel({ kernel: 'hashed:buckets=16' }));
  refused(editHeader(hashed, (h) => { layerConfig(h.meta, 'dense').units = 20_000_000; }), /^m\.wsm: weight 'dense\/kernel' \[16,20000000\] has 320000000 elements, above the limit/);
  assert.throws(() => load(editHeader(hashed, (h) => { layerConfig(h.meta, 'dense').units = 20_000_000; }), { maxElements: 10 }), /above the limit of 10 per tensor/);
});

test('the weights of a whole model are summed before any is allocated: many moderately large hashed layers are refused (limit 2^26 elements)', () => {
  // Five Dense layers whose kernels and biases are hashed (θ 16 values each): the file stays small whatever the units say.
  const hashed = { kernel: 'hashed:buckets=16', bias: 'hashed:buckets=4' };
  const m = sequential(Array.from({ length: 5 }, () => new Dense({ units: 8, activation: 'relu', maps: hashed })), { inputShape: [16] }).build(1);
  const bytes = bytesOf(m);
  load(bytes); // as saved, it loads
  // units 4096: each kernel [4096, 4096] is 2^24 elements, far below the 2^28 per weight, and its hash tables alone would
  // take 128 MiB; all five add up to just above 2^26, refused at the fifth kernel with nothing allocated.
  const big = editHeader(bytes, (h) => { for (const name of ['dense', 'dense_1', 'dense_2', 'dense_3', 'dense_4']) layerConfig(h.meta, name).units = 4096; });
  assert.ok(big.length < 16384, `a small file (${big.length} bytes)`);
  refused(big, /^m\.wsm: the weights up to 'dense_4\/kernel' \[4096,4096\] add up to 67190784 elements, above the limit of 67108864 per model \(raise it with the maxModelElements option or WEIGHTSHARE_MAX_MODEL_ELEMENTS\)$/);
  // The sum counts every weight W at its full size (here 8·8 per hashed kernel); a tied weight (another's W) is not counted again.
  refused(bytes, /^m\.wsm: the weights up to 'dense_3\/kernel' \[8,8\] add up to 344 elements, above the limit of 300 per model/, { maxModelElements: 300 });
  assert.equal(load(bytes, { maxModelElements: 16 * 8 + 4 * 64 + 5 * 8 }).countParams(), m.countParams(), 'exactly at the limit it loads');
  const tied = sequential([new Dense({ units: 16 }), new Dense({ units: 16, maps: { kernel: 'tied:dense/kernel' } })], { inputShape: [16] }).build(2);
  assert.equal(load(bytesOf(tied), { maxModelElements: 256 + 16 + 16 }).countParams(), 288, 'the tied kernel is not counted twice');
});

test("a layer's own constants count too: a LocallyConnected2D whose patch filter (k² values) would take 5 GB is refused from its config", () => {
  const m = sequential([new LocallyConnected2D({ filters: 1, kernelSize: 3 })], { inputShape: [3, 3, 2] }).build(0);
  assert.equal(load(bytesOf(m)).countParams(), m.countParams(), 'as saved, it loads');
  // 4,000 channels: the kernel [1, 36000, 1] is a 144 KB tensor the file holds, but the patch filter is [3,3,4000,36000].
  const c = modelToCheckpoint(m);
  const channels = (n: number): Uint8Array => {
    const model = (c.meta as { model: { inputShape: number[]; inputs: { shape: number[] }[] } }).model;
    model.inputShape = model.inputs[0]!.shape = [3, 3, n];
    c.tensors.set('weights/locally_connected2d/kernel', { dtype: 'float32', shape: [1, 9 * n, 1], data: new Float32Array(9 * n) });
    return encodeCheckpoint(c);
  };
  refused(channels(4000), /^m\.wsm: constant 'locally_connected2d\/patchFilter' \[3,3,4000,36000\] has 1296000000 elements, above the limit of 268435456 per constant/);
  refused(channels(1000), /^m\.wsm: the weights up to 'locally_connected2d\/patchFilter' \[3,3,1000,9000\] add up to 81009001 elements, above the limit of 67108864 per model/);
});

test("a subspace map's projection counts too: a file asking for dim 2^27 is refused from its config (it took 39 s and 5 GB)", () => {
  const m = subspace(sequential([new Dense({ units: 3 })], { inputShape: [4] }), { dim: 5 });
  assert.equal(load(bytesOf(m)).countParams(), 5, 'as saved, it loads');
  const c = modelToCheckpoint(m);
  const dimmed = (dim: number, projection: string): Uint8Array => {
    for (const l of (c.meta as { model: { layers: { config: { maps?: Record<string, Record<string, unknown>> } }[] } }).model.layers) {
      for (const spec of Object.values(l.config.maps ?? {})) Object.assign(spec, { dim, total: dim, projection });
    }
    return encodeCheckpoint(c);
  };
  // Fastfood: three tables of 2^27 and d [2^27] for the owner.
  refused(dimmed(2 ** 27, 'fastfood'), /^m\.wsm: subspace projection 'dense\/kernel' \[536870912\] has 536870912 elements, above the limit of 268435456 per subspace projection/);
  // Dense P: 12 rows × 2^23 and d, over the model's sum.
  refused(dimmed(2 ** 23, 'dense'), /^m\.wsm: the weights up to 'dense\/kernel' \[109051904\] add up to 109051916 elements, above the limit of 67108864 per model/);
  m.dispose();
});

test('the model limit comes from the option, else WEIGHTSHARE_MAX_MODEL_ELEMENTS; a bad value is refused by name', async () => {
  const bytes = bytesOf(smallModel()); // 16·8 + 8 + 8·3 + 3 = 163 elements
  const before = process.env.WEIGHTSHARE_MAX_MODEL_ELEMENTS;
  try {
    process.env.WEIGHTSHARE_MAX_MODEL_ELEMENTS = '150';
    refused(bytes, /^m\.wsm: the weights up to 'dense_1\/kernel' \[8,3\] add up to 160 elements, above the limit of 150 per model/);
    assert.equal(load(bytes, { maxModelElements: 163 }).countParams(), 163, 'the option wins over the variable');
    const dir = mkdtempSync(join(tmpdir(), 'ws-model-limit-'));
    try {
      writeFileSync(join(dir, 'm.wsm'), bytes);
      const r = await runCli('summary', join(dir, 'm.wsm'));
      assert.equal(r.code, 1);
      assert.match(r.err, /^weightshare: error: .*m\.wsm: the weights up to 'dense_1\/kernel' \[8,3\] add up to 160 elements, above the limit of 150 per model \([^\n]*\)\n$/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    process.env.WEIGHTSHARE_MAX_MODEL_ELEMENTS = 'lots';
    assert.throws(() => load(bytes), /^RangeError: maxModelElements must be a positive integer, got WEIGHTSHARE_MAX_MODEL_ELEMENTS=lots$/);
  } finally {
    if (before === undefined) delete process.env.WEIGHTSHARE_MAX_MODEL_ELEMENTS;
    else process.env.WEIGHTSHARE_MAX_MODEL_ELEMENTS = before;
  }
  assert.throws(() => load(bytes, { maxModelElements: 0 }), /^RangeError: maxModelElements must be a positive integer, got 0$/);
  assert.equal(load(bytes).countParams(), 163, 'the default (2^26) takes it');
});

test("a misspelt or mistyped layer option is refused by name (no silent default: 'ctivation' would drop the softmax)", () => {
  const bytes = bytesOf(smallModel());
  refused(editHeader(bytes, (h) => {
    const c = layerConfig(h.meta, 'dense_1');
    c.ctivation = c.activation;
    delete c.activation;
  }), /^m\.wsm: layer 'dense_1' \(Dense\): unknown option 'ctivation' \(options: name, units, activation, /);
  refused(editHeader(bytes, (h) => { layerConfig(h.meta, 'dense_1').useBias = 'false'; }), /^m\.wsm: model config cannot be rebuilt: layer 'dense_1': useBias must be true or false, got "false"$/);
  // An option of another JSON kind than the layer writes back is refused even where the layer does not check it.
  refused(editHeader(bytes, (h) => { layerConfig(h.meta, 'dense_1').activation = ['softmax']; }), /^m\.wsm: (layer 'dense_1' \(Dense\): option 'activation' must be a string|model config cannot be rebuilt: .*activation)/);
  refused(editHeader(bytes, (h) => { layerConfig(h.meta, 'dense_1').seed = 'x'; }), /^m\.wsm: model config cannot be rebuilt: layer 'dense_1': seed must be a non-negative integer, got "x"$/);
  const hashed = bytesOf(smallModel({ kernel: 'hashed:buckets=16' }));
  refused(editHeader(hashed, (h) => { (layerConfig(h.meta, 'dense').maps as { kernel: Record<string, unknown> }).kernel.sed = 3; }),
    /^m\.wsm: model config cannot be rebuilt: layer 'dense' kernel, scheme 'hashed': unknown option 'sed' \(options: compression, buckets, seed, signs\)$/);
});

test('unknown or mistyped header fields are refused by their dotted path', () => {
  const bytes = bytesOf(smallModel());
  const cases: [(meta: any) => void, RegExp][] = [
    [(meta) => (meta.compiled = true), /^m\.wsm: header unknown field 'compiled' \(known: kind, model, initSeed, compile, optimizer, training, tokenizer\)$/],
    [(meta) => (meta.compile.metric = ['accuracy']), /^m\.wsm: header unknown field 'compile\.metric'/],
    [(meta) => (meta.compile.fromLogits = 'no'), /^m\.wsm: header field 'compile\.fromLogits' must be true or false, got "no"$/],
    [(meta) => (meta.optimizer.iterations = -1), /^m\.wsm: header field 'optimizer\.iterations' must be an integer ≥ 0, got -1$/],
    [(meta) => (meta.model.inputShape = [16, 0]), /^m\.wsm: header field 'model\.inputShape\[1\]' must be an integer ≥ 1, got 0$/],
    [(meta) => (meta.model.graph[0].inbund = []), /^m\.wsm: header unknown field 'model\.graph\[0\]\.inbund'/],
    [(meta) => (meta.model.graph = []), /^m\.wsm: model config cannot be rebuilt: model config 'sequential': the graph has no nodes/],
    [(meta) => (meta.initSeed = 1.5), /^m\.wsm: header field 'initSeed' must be an integer ≥ 0, got 1\.5$/],
    [(meta) => (meta.compile.optimizer.learningRate = -1), /^m\.wsm: compile settings do not fit the model: optimizer: learningRate/],
    [(meta) => (meta.optimizer.steps['dense/kernal'] = 1), /^m\.wsm: optimizer state does not fit the model: steps name 'dense\/kernal', which is no weight of the model$/],
  ];
  for (const [change, re] of cases) refused(editHeader(bytes, (h) => change(h.meta)), re);
});

test('NaN or ±Infinity in a weight or an optimizer slot is refused unless allowNonFinite; masks must be 0/1', () => {
  const m = smallModel();
  m.setWeights({ 'dense_1/bias': Float32Array.of(0, Number.NaN, 0) });
  const nan = bytesOf(m);
  refused(nan, /^m\.wsm: weight 'dense_1\/bias' holds NaN at position 1 \(allowNonFinite: true in code, --allow-non-finite or WEIGHTSHARE_ALLOW_NON_FINITE=1 on the command line, accepts it\)$/);
  const loaded = load(nan, { allowNonFinite: true });
  assert.ok(Number.isNaN(loaded.getWeights().get('dense_1/bias')![1]), 'opted in: loads as stored');

  const ok = smallModel();
  ok.trainOnBatch(tensor(new Float32Array(32).fill(0.5), [2, 16]), tensor(Int32Array.of(0, 1), [2], 'int32'));
  const c = modelToCheckpoint(ok);
  (c.tensors.get('optimizer/dense_1/kernel/v')!.data as Float32Array)[5] = Number.POSITIVE_INFINITY;
  refused(encodeCheckpoint(c), /^m\.wsm: optimizer slot 'dense_1\/kernel\/v' holds Infinity at position 5 /);

  const pruned = modelToCheckpoint(smallModel({ kernel: 'pruned:0.5' }));
  (pruned.tensors.get('maps/dense/kernel/mask')!.data as Float32Array)[3] = 0.5;
  refused(encodeCheckpoint(pruned), /^m\.wsm: map state 'maps\/dense\/kernel\/mask' holds 0\.5 at position 3; a mask holds only 0 and 1$/);
  const codes = modelToCheckpoint(smallModel({ kernel: 'codebook:4' }));
  (codes.tensors.get('maps/dense/kernel/codes')!.data as Int32Array)[7] = 4;
  refused(encodeCheckpoint(codes), /^m\.wsm: map state 'maps\/dense\/kernel\/codes' holds 4 at position 7, outside \[0, 3\]$/);
});

test('a file for shipping (header compressed, format 3) is checked as format 2 is: a hostile header inside the deflate stream, a deflate bomb, a lying length', () => {
  const shipped = encodeCheckpoint(modelToCheckpoint(smallModel(), { withOptimizer: false, withCompile: false }), 'm.wsm', { compressHeader: true });
  const x = tensor(Float32Array.from({ length: 32 }, (_, i) => Math.sin(i)), [2, 16]);
  assert.deepEqual(load(shipped).predict(x).f32(), smallModel().predict(x).f32(), 'it loads as saved');
  refused(editHeader(shipped, (h) => { layerConfig(h.meta, 'dense').units = 100_000_000; }), /^m\.wsm: weight 'dense\/kernel' \[16,100000000\] has 1600000000 elements, above the limit of 268435456 per weight/);
  refused(editHeader(shipped, (h) => { h.tensors.find((t) => t.name === 'weights/dense/kernel')!.shape = [2_000_000_000]; }), /^m\.wsm: tensor "weights\/dense\/kernel": shape \[2000000000\] has 2000000000 elements, above the limit/);
  refused(replaceHeader(shipped, compressedField(new Uint8Array(0), deflateBomb(64), 2 ** 24)), /^m\.wsm: compressed header inflates to more than the 16777216 bytes it declares$/);
  const json = headerJson(shipped);
  refused(replaceHeader(shipped, compressedField(json, undefined, json.length + 8)), new RegExp(`^m\\.wsm: compressed header inflates to ${json.length} bytes, not the ${json.length + 8} it declares$`));
});

test('the command line reports a hostile file in one line and exits 1 (weightshare summary)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ws-hostile-'));
  try {
    const file = join(dir, 'model.wsm');
    writeFileSync(file, editHeader(bytesOf(smallModel()), (h) => {
      const c = layerConfig(h.meta, 'dense_1');
      c.ctivation = c.activation;
      delete c.activation;
    }));
    const r = await runCli('summary', file);
    assert.equal(r.code, 1);
    assert.equal(r.out, '');
    assert.match(r.err, /^weightshare: error: .*model\.wsm: layer 'dense_1' \(Dense\): unknown option 'ctivation' \(options: [^\n]*\)\n$/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
