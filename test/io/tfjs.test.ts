// TF.js export and import checked by the real runtime: our models loaded by tfjs-layers (CPU backend) predict what ours
// predict, models built and saved by tfjs-layers predict the same once imported; quantisation bounds; bad input.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { truncatedNormal } from '../../src/core/ops/index.js';
import { loadDataset } from '../../src/data/datasets.js';
import { exportTfjs, importTfjs, quantizationBound, type TfjsExport, TfjsExportError, TfjsImportError, type TfjsModelJson } from '../../src/io/tfjs/index.js';
import { fromHalf, toHalf } from '../../src/io/tfjs/weights.js';
import { input, layers, type Model, model, sequential } from '../../src/nn/index.js';
import { createModel } from '../../src/nn/zoo.js';
import { createTextModel } from '../../src/nn/zoo-text.js';
import { HashedMap } from '../../src/sharing/hashed.js';
import { clusterWeights } from '../../src/transforms/cluster.js';
import { valuesOf } from '../../src/transforms/select.js';
import { tf, tfl } from '../helpers/tfjs.js';

const ds = loadDataset('mnist-sample');
const N = 16;
const digits = ds.xTest.slice(0, N * 784);

/** Joins the export's shards into one buffer, as tf.io hands weight data to a layers model. */
function joined(shards: readonly Uint8Array[]): ArrayBuffer {
  const out = new Uint8Array(shards.reduce((s, b) => s + b.length, 0));
  let at = 0;
  for (const b of shards) out.set(b, at), (at += b.length);
  return out.buffer;
}

/** tfjs-layers' model for an export, loaded the way tf.loadLayersModel reads a model.json and its weight files. */
async function loadInTfjs(e: TfjsExport): Promise<tfl.LayersModel> {
  const json = JSON.parse(JSON.stringify(e.modelJson)) as tf.io.ModelJSON;
  const artifacts = await tf.io.getModelArtifactsForJSON(json, async (m) => [m.flatMap((g) => g.weights), joined(e.weightData)]);
  return tfl.loadLayersModel(tf.io.fromMemory(artifacts));
}

/** Predictions of a tfjs-layers model on x [shape] (first output), as float32. */
function tfjsPredict(m: tfl.LayersModel, x: Float32Array | Int32Array, shape: number[]): Float32Array {
  const t = tf.tensor(x, shape, x instanceof Int32Array ? 'int32' : 'float32');
  const y = m.predict(t);
  const out = (Array.isArray(y) ? y[0] : y).dataSync() as Float32Array;
  tf.dispose([t, y]);
  return Float32Array.from(out);
}

/** Max |a − b| (sizes must agree). */
function maxAbs(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length, 'output sizes');
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

/** Max |ours − tfjs-layers'| on x for a model exported with `o`; quantised exports are compared with our model holding the dequantised weights. */
async function exportDiff(m: Model, x: Float32Array | Int32Array, shape: number[], o: Parameters<typeof exportTfjs>[1] = {}): Promise<{ d: number; e: TfjsExport }> {
  const e = exportTfjs(m, o);
  const theirs = tfjsPredict(await loadInTfjs(e), x, shape);
  const ref = o.quantize ? importTfjs(e.modelJson, e.weightData).model : m;
  const ours = ref.predict({ data: x, shape }).f32();
  if (ref !== m) ref.dispose();
  return { d: maxAbs(ours, theirs), e };
}

type Variant = 'plain' | 'hashed' | 'codebook';

/** Replaces every kernel of a built model by a hashed map (1/8 of the weights) or clusters it into a 16-centroid codebook. */
function share(m: Model, kind: Variant): void {
  if (kind === 'codebook') clusterWeights(m, { clusters: 16 });
  if (kind !== 'hashed') return;
  let seed = 1;
  for (const w of m.weights()) {
    if (w.role !== 'kernel') continue;
    const n = w.map.shape.reduce((a, b) => a * b, 1);
    const k = Math.max(1, Math.ceil(n / 8));
    w.layer.replaceWeight(w.name, new HashedMap(w.map.shape, k, seed++, true, truncatedNormal([k], { seed: seed++, stddev: 0.1 })));
  }
}

describe('exportTfjs: image zoo models loaded by tfjs-layers predict as ours on mnist-sample digits', () => {
  for (const name of ['mlp', 'lenet-300-100', 'lenet5', 'seed-cnn']) {
    for (const kind of ['plain', 'hashed', 'codebook'] as const) {
      const what = kind === 'plain' ? 'float32 (1e-5)' : kind === 'hashed' ? 'hashed, materialized (1e-5)' : 'codebook, materialized, uint8 (1e-5 against the dequantised weights; each weight within scale/2 + half a float32 step)';
      test(`${name}, ${what}`, async () => {
        const m = createModel(name).build(0);
        share(m, kind);
        const { d, e } = await exportDiff(m, digits, [N, 28, 28, 1], kind === 'plain' ? {} : { materialize: true, ...(kind === 'codebook' ? { quantize: 'uint8' } : {}) });
        assert.ok(d <= 1e-5, `max difference ${d}`);
        const specs = e.modelJson.weightsManifest[0].weights;
        assert.deepEqual(specs.map((s) => s.name), m.weights().map((w) => w.path), 'weights named layer/weight');
        if (kind === 'codebook') {
          // uint8: one byte per weight; the bound scale/2 holds for every weight.
          assert.equal(e.weightData[0].length, specs.reduce((s, w) => s + w.shape.reduce((a, b) => a * b, 1), 0));
          const back = importTfjs(e.modelJson, e.weightData).model.getWeights();
          for (const w of m.weights()) {
            const before = valuesOf(w.map);
            const bound = quantizationBound('uint8', before.reduce((a, b) => Math.min(a, b)), before.reduce((a, b) => Math.max(a, b)));
            const err = maxAbs(before, back.get(w.path)!);
            assert.ok(err <= bound * (1 + 1e-6), `${w.path}: error ${err}, bound ${bound}`);
          }
        }
        m.dispose();
      });
    }
  }
});

describe('exportTfjs: sequence models and functional graphs', () => {
  const ids = Int32Array.from([0, 0, 0, 5, 7, 2, /**/ 3, 4, 9, 1, 0, 0, /**/ 0, 0, 0, 0, 0, 0, /**/ 1, 0, 2, 0, 3, 0, /**/ 8, 8, 8, 8, 8, 8]);

  test('text zoo: text-lstm (Embedding maskZero, padded and empty rows), word-lstm, char-lstm with its tied decoder materialized (1e-5)', async () => {
    const cases = [
      createTextModel('text-lstm', { vocab: 12, length: 6, classes: 3, embed: 5, hidden: 4, layers: 2 }),
      createTextModel('word-lstm', { vocab: 12, length: 6, embed: 8, hidden: 6, layers: 2, dropout: 0.1 }),
      createTextModel('char-lstm', { vocab: 12, length: 6, embed: 8, hidden: 8, tied: true }),
    ];
    for (const m of cases) {
      m.build(0);
      const { d } = await exportDiff(m, ids, [5, 6], { materialize: m.name === 'char-lstm' });
      assert.ok(d <= 1e-5, `${m.name}: max difference ${d}`);
      m.dispose();
    }
  });

  test('SimpleRNN, GRU (resetAfter false), goBackwards, Bidirectional (concat, ave, masked), LayerNormalization, returnState (1e-5)', async () => {
    const x = input({ shape: [6], dtype: 'int32', name: 'ids' });
    const e = layers.embedding({ inputDim: 12, outputDim: 5, maskZero: true }).apply(x);
    const g = layers.gru({ units: 6, resetAfter: false, returnSequences: true }).apply(e);
    const b = layers.bidirectional({ layer: layers.lstm({ units: 3, returnSequences: true }) }).apply(g);
    const n = layers.layerNormalization({ epsilon: 1e-5 }).apply(b);
    const [r, h] = layers.simpleRNN({ units: 4, goBackwards: true, returnState: true, activation: 'relu' }).applyAll(n);
    const a = layers.bidirectional({ layer: layers.gru({ units: 3, resetAfter: false }), mergeMode: 'ave' }).apply(n);
    const out = layers.dense({ units: 3, activation: 'softmax' }).apply(layers.concatenate().apply([r, h, a]));
    const m = model({ inputs: x, outputs: out, name: 'rnns' }).build(2);
    const { d, e: exp } = await exportDiff(m, ids, [5, 6]);
    assert.ok(d <= 1e-5, `max difference ${d}`);
    assert.ok(exp.modelJson.weightsManifest[0].weights.some((w) => w.name === 'bidirectional/forward_lstm/recurrent_kernel'));
    m.dispose();
  });

  test('a functional model: Add, Multiply, Average, Concatenate, a Dense applied twice (one set of weights), pooling with same padding, gelu (1e-5)', async () => {
    const img = input({ shape: [28, 28, 1], name: 'image' });
    const c = layers.conv2d({ filters: 4, kernelSize: 3, strides: 2, padding: 'same', activation: 'tanh', dilationRate: 1 }).apply(img);
    const p = layers.averagePooling2d({ poolSize: 3, strides: 2, padding: 'same' }).apply(c);
    const q = layers.maxPooling2d({ poolSize: 3, strides: 2, padding: 'same' }).apply(c);
    const f = layers.flatten().apply(layers.concatenate().apply([layers.activation({ activation: 'sigmoid' }).apply(p), q]));
    const shared = layers.dense({ units: 16, activation: 'gelu', name: 'shared' });
    const u = shared.apply(layers.dense({ units: 16, name: 'left' }).apply(f));
    const v = shared.apply(layers.dropout({ rate: 0.5 }).apply(layers.dense({ units: 16, name: 'right' }).apply(f)));
    const merged = layers.average().apply([layers.add().apply([u, v]), layers.multiply().apply([u, v])]);
    const out = layers.dense({ units: 10, activation: 'softmax', name: 'head' }).apply(merged);
    const m = model({ inputs: img, outputs: out, name: 'graph' }).build(3);
    const { d, e } = await exportDiff(m, digits, [N, 28, 28, 1]);
    assert.ok(d <= 1e-5, `max difference ${d}`);
    const topo = e.modelJson.modelTopology.config as { layers: { name: string; inbound_nodes: unknown[] }[] };
    assert.equal(topo.layers.find((l) => l.name === 'shared')!.inbound_nodes.length, 2, 'two inbound nodes');
    assert.equal(e.modelJson.weightsManifest[0].weights.filter((w) => w.name.startsWith('shared/')).length, 2, 'one kernel and one bias');
    m.dispose();
  });
});

describe('exportTfjs: quantisation', () => {
  for (const q of ['uint8', 'uint16', 'float16'] as const) {
    test(`seed-cnn as ${q}: tfjs-layers predicts what our model with the dequantised weights predicts (1e-5); every weight within its bound`, async () => {
      const m = createModel('seed-cnn').build(0);
      const { d, e } = await exportDiff(m, digits, [N, 28, 28, 1], { quantize: q });
      assert.ok(d <= 1e-5, `max difference ${d}`);
      const bytes = { uint8: 1, uint16: 2, float16: 2 }[q];
      assert.equal(e.weightData[0].length, bytes * m.countParams());
      let worst = 0;
      const back = importTfjs(e.modelJson, e.weightData).model;
      for (const w of m.weights()) {
        const v = valuesOf(w.map);
        const bound = quantizationBound(q, v.reduce((a, b) => Math.min(a, b)), v.reduce((a, b) => Math.max(a, b)));
        worst = Math.max(worst, bound);
        const err = maxAbs(v, back.getWeights().get(w.path)!);
        assert.ok(err <= bound * (1 + 1e-6), `${w.path}: error ${err} > bound ${bound}`);
      }
      assert.ok(e.maxQuantizationError > 0 && e.maxQuantizationError <= worst * (1 + 1e-6), `max error ${e.maxQuantizationError}, bound ${worst}`);
      back.dispose();
      m.dispose();
    });
  }

  test('float16 halves: exact for representable values, round to nearest even, subnormals (exact comparison)', () => {
    for (const v of [0, 1, -2, 0.5, 65504, 2 ** -14, 2 ** -24, -(2 ** -20), 1 + 2 ** -10]) assert.equal(fromHalf(toHalf(v)), v, String(v));
    assert.equal(fromHalf(toHalf(1 + 2 ** -11)), 1, 'a tie rounds to the even significand');
    assert.equal(fromHalf(toHalf(1 + 3 * 2 ** -11)), 1 + 2 * 2 ** -10, 'a tie rounds up to the even significand');
    assert.equal(fromHalf(toHalf(2 ** -26)), 0);
    assert.equal(toHalf(-0), 0x8000);
  });

  test('affine uint8 keeps 0 exact and a constant tensor exact (0 tolerance)', async () => {
    const m = sequential([layers.dense({ units: 3, inputShape: [4], name: 'fc' })]).build(0);
    m.setWeights({ 'fc/bias': Float32Array.of(0.25, 0.25, 0.25), 'fc/kernel': Float32Array.from({ length: 12 }, (_, i) => (i % 3 === 0 ? 0 : i / 7 - 0.6)) });
    const e = exportTfjs(m, { quantize: 'uint8' });
    const back = importTfjs(e.modelJson, e.weightData).model.getWeights();
    assert.deepEqual(back.get('fc/bias'), Float32Array.of(0.25, 0.25, 0.25));
    back.get('fc/kernel')!.forEach((v, i) => i % 3 === 0 && assert.equal(v, 0));
    m.dispose();
  });
});

describe('exportTfjs: what TF.js cannot hold is a one-line TfjsExportError naming the layer', () => {
  const cases: [string, () => Model, RegExp][] = [
    ['LocallyConnected2D', () => createModel('seed-cnn-local'), /^layer 'locally_connected2d' \(LocallyConnected2D\) has no TF\.js class/],
    ['GRU with resetAfter', () => createTextModel('char-gru', { vocab: 10, length: 4, embed: 4, hidden: 4 }), /^layer 'gru' \(GRU\) has resetAfter true .*export it to ONNX instead \(--format onnx\), or build it with resetAfter: false in code$/],
    ['gpt (PositionEmbedding, attention blocks)', () => createTextModel('gpt', { vocab: 10, length: 4, dim: 8, heads: 2, layers: 1 }),
      /^layer 'position_embedding' \(PositionEmbedding\) has no TF\.js class \(tfjs-layers 4\.22 has no PositionEmbedding\)$/],
    ['MultiHeadAttention', () => {
      const x = input({ shape: [4, 8] });
      return model({ inputs: x, outputs: layers.multiHeadAttention({ numHeads: 2, keyDim: 4 }).apply(x) });
    }, /^layer 'multi_head_attention' \(MultiHeadAttention\) has no TF\.js class/],
    ['a Block', () => {
      const i = input({ shape: [4] });
      const x = input({ shape: [4] });
      return model({ inputs: x, outputs: layers.block({ inputs: i, outputs: layers.dense({ units: 2 }).apply(i) }).apply(x) });
    }, /^layer 'block' \(Block\) is a graph of layers inside a layer, which a TF\.js layers model cannot nest$/],
    ['Subtract', () => {
      const x = input({ shape: [4] });
      return model({ inputs: x, outputs: layers.subtract().apply([layers.dense({ units: 2 }).apply(x), layers.dense({ units: 2 }).apply(x)]) });
    }, /^layer 'subtract' \(Subtract\) has no TF\.js class \(tfjs-layers 4\.22 has no Subtract layer\)$/],
    ['a hashed kernel', () => sequential([layers.dense({ units: 3, inputShape: [8], maps: { kernel: 'hashed:1/4' } })]),
      /^layer 'dense' \(Dense\): weight 'kernel' is held by a 'hashed' map; TF\.js stores dense tensors only \(export with --materialize/],
    ['per-step recurrent kernels', () => sequential([layers.simpleRNN({ units: 2, steps: 3, inputShape: [3, 2] })]), /^layer 'simple_rnn' \(SimpleRNN\) has per-step recurrent kernels/],
  ];
  for (const [what, make, message] of cases) {
    test(what, () => {
      const m = make().build(0);
      assert.throws(() => exportTfjs(m), (e: Error) => e instanceof TfjsExportError && message.test(e.message) && !e.message.includes('\n'));
      m.dispose();
    });
  }
});

/** A tfjs-layers model saved by its own save handler as `file://` writes it: model.json (weightsManifest → weights.bin) and weights.bin. */
async function saveLikeFile(m: tfl.LayersModel): Promise<{ json: Record<string, unknown>; bin: Uint8Array }> {
  let saved: { json: Record<string, unknown>; bin: Uint8Array } | undefined;
  await m.save(tf.io.withSaveHandler(async (a) => {
    const json = { modelTopology: a.modelTopology, format: a.format, generatedBy: a.generatedBy, convertedBy: a.convertedBy, weightsManifest: [{ paths: ['weights.bin'], weights: a.weightSpecs }] };
    saved = { json: JSON.parse(JSON.stringify(json)) as Record<string, unknown>, bin: new Uint8Array(a.weightData as ArrayBuffer) };
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
  }));
  return saved!;
}

/** A text model built in TF.js: ids → Embedding (maskZero) → LSTM → GRU → Bidirectional SimpleRNN → Dense softmax (gates with sigmoid; TF.js' default hard_sigmoid is not ours). */
function tfjsTextModel(recurrentActivation = 'sigmoid'): tfl.LayersModel {
  const x = tfl.input({ shape: [6], dtype: 'int32' });
  const e = tfl.layers.embedding({ inputDim: 12, outputDim: 5, maskZero: true }).apply(x) as tfl.SymbolicTensor;
  const l = tfl.layers.lstm({ units: 4, returnSequences: true, recurrentActivation: recurrentActivation as 'sigmoid' }).apply(e) as tfl.SymbolicTensor;
  const g = tfl.layers.gru({ units: 3, returnSequences: true, recurrentActivation: 'sigmoid' }).apply(l) as tfl.SymbolicTensor;
  const b = tfl.layers.bidirectional({ layer: tfl.layers.simpleRNN({ units: 2 }) as tfl.RNN, mergeMode: 'concat' }).apply(g) as tfl.SymbolicTensor;
  return tfl.model({ inputs: x, outputs: tfl.layers.dense({ units: 3, activation: 'softmax' }).apply(b) as tfl.SymbolicTensor });
}

const ids = Int32Array.from([0, 0, 0, 5, 7, 2, /**/ 3, 4, 9, 1, 0, 0, /**/ 0, 0, 0, 0, 0, 0, /**/ 1, 0, 2, 0, 3, 0, /**/ 8, 8, 8, 8, 8, 8]);

describe('importTfjs: models built and saved by tfjs-layers predict the same once imported (1e-5)', () => {
  test('an MNIST CNN (Conv2D, pooling, Dropout, Dense; Sequential)', async () => {
    const m = tfl.sequential({
      layers: [
        tfl.layers.conv2d({ inputShape: [28, 28, 1], filters: 8, kernelSize: 3, activation: 'relu' }),
        tfl.layers.maxPooling2d({ poolSize: 2 }),
        tfl.layers.conv2d({ filters: 16, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: 'heNormal' }),
        tfl.layers.averagePooling2d({ poolSize: 2, strides: 2 }),
        tfl.layers.flatten(),
        tfl.layers.dropout({ rate: 0.25 }),
        tfl.layers.dense({ units: 32, activation: 'relu' }),
        tfl.layers.dense({ units: 10, activation: 'softmax' }),
      ],
    });
    const { json, bin } = await saveLikeFile(m);
    const r = importTfjs(json, [bin]);
    assert.equal(r.model.countParams(), m.countParams());
    assert.deepEqual(r.notes, []);
    const d = maxAbs(r.model.predict({ data: digits, shape: [N, 28, 28, 1] }).f32(), tfjsPredict(m, digits, [N, 28, 28, 1]));
    assert.ok(d <= 1e-5, `max difference ${d}`);
    assert.equal(r.model.getLayer(m.layers[2].name).toJSON().config.kernelInitializer, 'he_normal', 'initialisers map to ours');
    r.model.dispose();
  });

  test('an MLP on [784] vectors, imported as is and with a Flatten from [28, 28, 1] in front', async () => {
    const m = tfl.sequential({ layers: [tfl.layers.dense({ inputShape: [784], units: 64, activation: 'relu' }), tfl.layers.dense({ units: 10, activation: 'softmax' })] });
    const { json, bin } = await saveLikeFile(m);
    const theirs = tfjsPredict(m, digits, [N, 784]);
    const flat = importTfjs(json, bin).model;
    assert.deepEqual(flat.inputShape, [784]);
    assert.ok(maxAbs(flat.predict({ data: digits, shape: [N, 784] }).f32(), theirs) <= 1e-5);
    const img = importTfjs(json, bin, { inputShape: [28, 28, 1] }).model;
    assert.deepEqual([img.inputShape, img.layers[0].className], [[28, 28, 1], 'Flatten']);
    assert.ok(maxAbs(img.predict({ data: digits, shape: [N, 28, 28, 1] }).f32(), theirs) <= 1e-5);
    flat.dispose();
    img.dispose();
  });

  test('a text model: Embedding with maskZero, LSTM, GRU (reset before), Bidirectional; padded and empty rows', async () => {
    const m = tfjsTextModel();
    const { json, bin } = await saveLikeFile(m);
    const r = importTfjs(json, bin);
    assert.equal(r.model.inputs[0].dtype, 'int32');
    assert.deepEqual([...r.layers.values()], ['Embedding', 'LSTM', 'GRU', 'Bidirectional', 'Dense']);
    const d = maxAbs(r.model.predict({ data: ids, shape: [5, 6] }).f32(), tfjsPredict(m, ids, [5, 6]));
    assert.ok(d <= 1e-5, `max difference ${d}`);
    r.model.dispose();
  });

  test("TF.js' default gate activation hard_sigmoid (LSTM, GRU) and hard_sigmoid Dense and SimpleRNN: columns scaled by 1.2, TF.js' predictions (1e-5)", async () => {
    const x = tfl.input({ shape: [6], dtype: 'int32' });
    const e = tfl.layers.embedding({ inputDim: 12, outputDim: 5, maskZero: true }).apply(x) as tfl.SymbolicTensor;
    const l = tfl.layers.lstm({ units: 4, returnSequences: true }).apply(e) as tfl.SymbolicTensor;
    const g = tfl.layers.gru({ units: 3, returnSequences: true, activation: 'hardSigmoid' }).apply(l) as tfl.SymbolicTensor;
    const b = tfl.layers.bidirectional({ layer: tfl.layers.simpleRNN({ units: 2, activation: 'hardSigmoid' }) as tfl.RNN, mergeMode: 'concat' }).apply(g) as tfl.SymbolicTensor;
    const h = tfl.layers.dense({ units: 4, activation: 'hardSigmoid' }).apply(b) as tfl.SymbolicTensor;
    const m = tfl.model({ inputs: x, outputs: tfl.layers.dense({ units: 3, activation: 'softmax' }).apply(h) as tfl.SymbolicTensor });
    const { json, bin } = await saveLikeFile(m);
    const r = importTfjs(json, bin);
    const acts = r.model.layers.flatMap((y) => {
      const c = y.toJSON().config as Record<string, unknown>;
      return c.activation === undefined ? [] : [`${y.className}:${String(c.activation)}/${String(c.recurrentActivation ?? '-')}`];
    });
    assert.deepEqual(acts, ['LSTM:tanh/hard_sigmoid', 'GRU:hard_sigmoid/hard_sigmoid', 'Dense:hard_sigmoid/-', 'Dense:softmax/-']);
    assert.equal(r.notes.filter((n) => n.includes("TF.js' hard_sigmoid")).length, 5, r.notes.join('\n'));
    const d = maxAbs(r.model.predict({ data: ids, shape: [5, 6] }).f32(), tfjsPredict(m, ids, [5, 6]));
    assert.ok(d <= 1e-5, `max difference ${d}`);
    assert.throws(() => exportTfjs(r.model), /has recurrent_activation hard_sigmoid \(Keras 3's clip\(x\/6 \+ 0\.5\)\), which TF\.js' hard_sigmoid \(clip\(0\.2x \+ 0\.5\)\) is not$/);
    r.model.dispose();
  });

  test('the same model in Keras 2 and 3 dress: Functional in model_config, dict inbound nodes, cell names and :0 suffixes, Keras 3 indexed weights (1e-5)', async () => {
    const m = tfjsTextModel();
    const { json, bin } = await saveLikeFile(m);
    const topo = json.modelTopology as { class_name: string; config: { layers: { class_name: string; name: string; inbound_nodes: unknown[][][] }[] } };
    for (const l of topo.config.layers) {
      l.inbound_nodes = l.inbound_nodes.map((node) => ({
        args: [node.map((r) => ({ class_name: '__keras_tensor__', config: { shape: null, dtype: 'float32', keras_history: (r as unknown[]).slice(0, 3) } }))], kwargs: {},
      })) as unknown as unknown[][][];
    }
    const keras = { ...json, modelTopology: { model_config: { ...topo, class_name: 'Functional' }, keras_version: '3.3.3', backend: 'tensorflow' } };
    const manifest = json.weightsManifest as { weights: { name: string }[] }[];
    const lstm = m.layers.find((l) => l.getClassName() === 'LSTM')!.name, dense = m.layers[m.layers.length - 1].name;
    for (const w of manifest[0].weights) {
      if (w.name.startsWith(`${lstm}/`)) w.name = w.name.replace(`${lstm}/`, `${lstm}/lstm_cell/`) + ':0';
      if (w.name.startsWith(`${dense}/`)) w.name = `${dense}/vars/${w.name.endsWith('kernel') ? 0 : 1}`;
    }
    const r = importTfjs(keras, bin);
    const d = maxAbs(r.model.predict({ data: ids, shape: [5, 6] }).f32(), tfjsPredict(m, ids, [5, 6]));
    assert.ok(d <= 1e-5, `max difference ${d}`);
    r.model.dispose();
  });

  test('our export read back: the same layers, weights bit for bit, the same predictions (0 tolerance)', () => {
    const m = createTextModel('text-lstm', { vocab: 12, length: 6, classes: 3, embed: 5, hidden: 4, layers: 2 }).build(0);
    const e = exportTfjs(m);
    const back = importTfjs(e.modelJson, e.weightData).model;
    assert.deepEqual(back.layers.map((l) => l.toJSON()), m.layers.map((l) => l.toJSON()));
    assert.deepEqual(back.getWeights(), m.getWeights());
    assert.deepEqual(back.predict({ data: ids, shape: [5, 6] }).f32(), m.predict({ data: ids, shape: [5, 6] }).f32());
    back.dispose();
    m.dispose();
  });
});

describe('importTfjs: bad input is a one-line TfjsImportError naming the file and the layer or weight', () => {
  const oneLine = (pattern: RegExp) => (e: Error): boolean => e instanceof TfjsImportError && pattern.test(e.message) && !e.message.includes('\n');

  test('layer classes we lack are listed together', async () => {
    const m = tfl.sequential({
      layers: [
        tfl.layers.conv2d({ inputShape: [8, 8, 1], filters: 2, kernelSize: 3 }), tfl.layers.batchNormalization(),
        tfl.layers.globalAveragePooling2d({}), tfl.layers.dense({ units: 2 }),
      ],
    });
    const { json, bin } = await saveLikeFile(m);
    const [, bn, gap] = m.layers.map((l) => l.name);
    assert.throws(() => importTfjs(json, bin, { file: 'cnn/model.json' }), oneLine(new RegExp(`^cnn/model\\.json: unsupported layers: BatchNormalization \\(${bn}\\), GlobalAveragePooling2D \\(${gap}\\)$`)));
  });

  test("TF.js' hard_sigmoid (clip(0.2x + 0.5)) on an Activation layer or as an LSTM's activation, an activation we lack: refused", async () => {
    const x = tfl.input({ shape: [6, 3] });
    const lstm = tfl.layers.lstm({ units: 2, activation: 'hardSigmoid' });
    const a = tfl.model({ inputs: x, outputs: lstm.apply(x) as tfl.SymbolicTensor });
    const { json, bin } = await saveLikeFile(a);
    const why = "hard_sigmoid, TF.js' clip\\(0\\.2x \\+ 0\\.5\\), which weightshare has only as Keras 3's clip\\(x/6 \\+ 0\\.5\\) of 1\\.2x and cannot rewrite here";
    assert.throws(() => importTfjs(json, bin), oneLine(new RegExp(`^model\\.json: layer '${lstm.name}' \\(LSTM\\) has activation ${why}$`)));
    const elu = tfl.layers.lstm({ units: 2, activation: 'elu' });
    const c = await saveLikeFile(tfl.model({ inputs: x, outputs: elu.apply(x) as tfl.SymbolicTensor }));
    assert.throws(() => importTfjs(c.json, c.bin), oneLine(new RegExp(`^model\\.json: layer '${elu.name}' \\(LSTM\\) has activation 'elu', which weightshare does not have \\(linear, relu, sigmoid, tanh, softmax, gelu, hard_sigmoid\\)$`)));
    const act = tfl.layers.activation({ activation: 'hardSigmoid' });
    const b = tfl.sequential({ layers: [tfl.layers.dense({ inputShape: [3], units: 2 }), act] });
    const saved = await saveLikeFile(b);
    assert.throws(() => importTfjs(saved.json, saved.bin), oneLine(new RegExp(`^model\\.json: layer '${act.name}' \\(Activation\\) has activation ${why}$`)));
  });

  test('a wrong shape, truncated and surplus weight data, a free input size, a graph model', () => {
    const m = sequential([layers.dense({ units: 3, inputShape: [4], name: 'fc' })]).build(0);
    const e = exportTfjs(m);
    const bytes = e.weightData[0];
    const json = (): TfjsModelJson => JSON.parse(JSON.stringify(e.modelJson)) as TfjsModelJson;
    const wrong = json();
    wrong.weightsManifest[0].weights[0].shape = [3, 4];
    assert.throws(() => importTfjs(wrong, bytes), oneLine(/^model\.json: weight 'fc\/kernel' is \[3, 4\] but layer 'fc' \(Dense\) expects 'fc\/kernel' \[4, 3\]$/));
    assert.throws(() => importTfjs(e.modelJson, [bytes.subarray(0, 50)]), oneLine(/^model\.json: weight data is truncated: 'fc\/bias' needs bytes 48–60 of weight file group1-shard1of1\.bin, which has 50$/));
    assert.throws(() => importTfjs(e.modelJson, [Uint8Array.of(...bytes, 0, 0, 0, 0)]), oneLine(/^model\.json: weight file group1-shard1of1\.bin has 64 bytes but its weights take 60$/));
    assert.throws(() => importTfjs(e.modelJson, []), oneLine(/^model\.json: the weights manifest lists 1 weight files but 0 were given$/));
    const free = json();
    (free.modelTopology.config as { layers: { config: Record<string, unknown> }[] }).layers[0].config.batch_input_shape = [null, null];
    assert.throws(() => importTfjs(free, bytes), oneLine(/^model\.json: input 'input' has shape \[null,null\]; weightshare models take fixed per-sample sizes/));
    assert.throws(() => importTfjs({ ...json(), format: 'graph-model' }, bytes), oneLine(/^model\.json: format 'graph-model' is a TF\.js graph model/));
    m.dispose();
  });
});
