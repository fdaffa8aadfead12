// ONNX import: our exports of every zoo model (plain and with each map) come back with the same predictions and maps;
// PyTorch-made files (scripts/make-onnx-import-fixtures.py) match PyTorch and onnxruntime-web; bad files fail in one line.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ort from '../helpers/ort.js';
import { memory } from '../../src/core/engine.js';
import { loadDataset } from '../../src/data/datasets.js';
import { OnnxGraph } from '../../src/io/onnx/builder.js';
import { decodeOnnx, exportOnnx, importOnnx, OnnxImportError } from '../../src/io/onnx/index.js';
import { encodeModel } from '../../src/io/onnx/proto.js';
import { input, layers, type Model, model } from '../../src/nn/index.js';
import { createModel, MODEL_NAMES } from '../../src/nn/zoo.js';
import { createTextModel, TEXT_MODEL_NAMES } from '../../src/nn/zoo-text.js';
import { everythingModel, recurrentModel, share, type Sharing } from '../helpers/onnx.js';

const digits = loadDataset('mnist-sample').xTest.slice(0, 16 * 784);
const fixtures = new URL('../../../test/fixtures/onnx-import/', import.meta.url);

/** Max |a − b| of two models' predictions on the same input. */
function maxDiff(a: Model, b: Model, x: Float32Array | Int32Array, shape: number[]): number {
  const ya = a.predict({ data: x, shape }).data();
  const yb = b.predict({ data: x, shape }).data();
  assert.equal(yb.length, ya.length, 'output sizes');
  let d = 0;
  for (let i = 0; i < ya.length; i++) d = Math.max(d, Math.abs(ya[i] - yb[i]));
  return d;
}

/** Each weight as 'path:kind' (maps named and kinded as in the original). */
function maps(m: Model): string[] {
  return m.weights().map((w) => `${w.path}:${w.map.kind}`);
}

/** Exports, imports, and checks predictions (1e-6), weight paths and map kinds (`expected`, default the original's), and the free parameter count. */
function roundTrip(m: Model, x: Float32Array | Int32Array, shape: number[], expected = maps(m)): string[] {
  const { model: back, notes } = importOnnx(exportOnnx(m), { file: `${m.name}.onnx` });
  try {
    const d = maxDiff(m, back, x, shape);
    assert.ok(d <= 1e-6, `${m.name}: max difference ${d}`);
    assert.deepEqual(maps(back), expected, `${m.name}: weights and their maps`);
    assert.equal(back.countParams(), m.countParams(), `${m.name}: free parameters`);
  } finally {
    back.dispose();
  }
  return notes;
}

describe('importOnnx: our exports come back with identical predictions (1e-6), the same weights and maps', () => {
  for (const name of MODEL_NAMES) {
    for (const kind of ['plain', 'hashed', 'lowRank', 'codebook', 'pruned-codebook'] as Sharing[]) {
      if (name === 'seed-cnn-local' && kind !== 'plain' && kind !== 'pruned-codebook') continue; // 2.6 M kernel weights: two variants are enough
      test(`${name}, ${kind}`, () => {
        const m = createModel(name).build(0);
        share(m, kind);
        assert.deepEqual(roundTrip(m, digits, [16, 28, 28, 1]), [], 'no notes');
        m.dispose();
      });
    }
  }

  test('text zoo (gpt and word-gpt excepted): char-lstm tied to its embedding, masked classifiers with padding ids; hashed, codebook, low-rank kernels', () => {
    const ids = Int32Array.from([0, 0, 0, 5, 7, 2, /**/ 3, 4, 9, 1, 0, 0, /**/ 0, 0, 0, 0, 0, 0, /**/ 8, 8, 8, 8, 8, 8]);
    for (const name of TEXT_MODEL_NAMES.filter((n) => !n.includes('gpt'))) {
      for (const kind of ['plain', 'hashed', 'lowRank', 'codebook'] as Sharing[]) {
        const m = createTextModel(name, { vocab: 12, length: 6, embed: 8, hidden: 8, layers: 2, ...(name.startsWith('text-') ? { classes: 3 } : { tied: name === 'char-lstm' }) }).build(0);
        share(m, kind);
        roundTrip(m, ids, [4, 6]);
        if (name === 'char-lstm' && kind === 'plain') assert.ok(maps(m).includes('decoder/kernel:tied'));
        m.dispose();
      }
    }
  });

  test('gpt and word-gpt: attention, positions, blocks shared across depth (each mode), factorised and tied embeddings; hashed, codebook, low-rank kernels', () => {
    const ids = Int32Array.from({ length: 3 * 6 }, (_, i) => (i * 7 + 3) % 12);
    const kinds = (m: Model): string[] => m.weights().map((w) => w.map.kind);
    const cases: [string, Record<string, unknown>, Sharing][] = [
      ['gpt', {}, 'plain'], ['gpt', { shareLayers: 'all' }, 'plain'], ['gpt', { shareLayers: 'attention', layers: 3 }, 'hashed'],
      ['gpt', { shareLayers: 'ffn' }, 'codebook'], ['word-gpt', { factorizedEmbedding: 4, tied: true }, 'lowRank'], ['word-gpt', { tied: true, dim: 16 }, 'pruned-codebook'],
    ];
    for (const [name, o, kind] of cases) {
      const m = createTextModel(name, { vocab: 12, length: 6, dim: 8, heads: 2, layers: 2, ...o }).build(0);
      share(m, kind);
      const { model: back, notes } = importOnnx(exportOnnx(m), { file: `${name}.onnx` });
      const what = `${name} ${JSON.stringify(o)} ${kind}`;
      assert.deepEqual(notes, [], what);
      assert.ok(maxDiff(m, back, ids, [3, 6]) <= 1e-6, `${what}: predictions`);
      assert.equal(back.countParams(), m.countParams(), `${what}: free parameters`);
      // A block applied again comes back as layers tied to the first application's: the other maps are the original's.
      assert.deepEqual(kinds(back).filter((k) => k !== 'tied'), kinds(m).filter((k) => k !== 'tied'), `${what}: maps`);
      const layerCount = (c: string): number => back.layers.filter((l) => l.className === c).length;
      assert.equal(layerCount('MultiHeadAttention'), (o.layers as number | undefined) ?? 2, what);
      assert.equal(layerCount('PositionEmbedding'), 1, what);
      const shared = { all: 16, attention: 2 * 10, ffn: 6 }[o.shareLayers as string] ?? 0;
      assert.equal(kinds(back).filter((k) => k === 'tied').length - kinds(m).filter((k) => k === 'tied').length, shared, `${what}: tied weights`);
      m.dispose();
      back.dispose();
    }
  });

  test('cross-attention (query, value and key from three inputs), no bias, valueDim ≠ keyDim, outputShape, causal; sine positions', () => {
    const q = input({ shape: [5, 6], name: 'q' }), v = input({ shape: [7, 4], name: 'v' }), k = input({ shape: [7, 3], name: 'k' });
    const qp = layers.add().apply([q, layers.sinePositionEncoding({ maxWavelength: 500 }).apply(q)]);
    const att = layers.multiHeadAttention({ numHeads: 3, keyDim: 4, valueDim: 2, useBias: false, outputShape: 5, useCausalMask: true }).apply([qp, v, k]);
    const m = model({ inputs: [q, v, k], outputs: att }).build(0);
    const bytes = exportOnnx(m);
    const { model: back, notes } = importOnnx(bytes, { file: 'cross.onnx' });
    assert.deepEqual(notes, []);
    assert.deepEqual(back.layers.map((l) => l.className), ['SinePositionEncoding', 'Add', 'MultiHeadAttention']);
    assert.equal((back.layers[0] as unknown as { maxWavelength: number }).maxWavelength, 500);
    assert.deepEqual(back.layers[2].toJSON().config, { ...m.layers[2].toJSON().config, name: back.layers[2].name });
    const rand = (n: number, seed: number): Float32Array => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 12.9898 + seed));
    const xs = [{ data: rand(2 * 30, 1), shape: [2, 5, 6] }, { data: rand(2 * 28, 2), shape: [2, 7, 4] }, { data: rand(2 * 21, 3), shape: [2, 7, 3] }];
    const [a, b] = [m.predict(xs).data(), back.predict(xs).data()];
    a.forEach((y, i) => assert.ok(Math.abs(y - b[i]) <= 1e-6, `[${i}]: ${y} vs ${b[i]}`));
    assert.equal(back.countParams(), m.countParams());
    m.dispose();
    back.dispose();
  });

  test('attention on padded sequences: the masked softmax comes back as the masks our Embedding (maskZero) carries, same predictions', () => {
    const ids = input({ shape: [6], dtype: 'int32' });
    const e = layers.embedding({ inputDim: 12, outputDim: 8, maskZero: true }).apply(ids);
    const x = layers.add().apply([e, layers.positionEmbedding({ sequenceLength: 6 }).apply(e)]);
    const m = model({ inputs: ids, outputs: layers.dense({ units: 3 }).apply(layers.multiHeadAttention({ numHeads: 2, keyDim: 4, useCausalMask: true }).apply(x)) }).build(1);
    const notes = roundTrip(m, Int32Array.from([0, 0, 0, 5, 7, 2, /**/ 3, 4, 9, 1, 0, 0, /**/ 0, 0, 0, 0, 0, 0, /**/ 8, 8, 8, 8, 8, 8]), [4, 6]);
    assert.deepEqual(notes, []);
    m.dispose();
  });

  test('layers beyond the zoo: tied :T comes back tied, a reused layer as a second layer tied to it; merges, Average, same-padded pools, gelu, layer norm', () => {
    const m = everythingModel();
    const expected = maps(m);
    expected.splice(expected.indexOf('ln/beta:dense') + 1, 0, 'shared_1/kernel:tied', 'shared_1/bias:tied');
    roundTrip(m, digits, [16, 28, 28, 1], expected);
    m.dispose();
  });

  test('recurrent stack: LSTM states, GRU reset before and after, goBackwards, both Bidirectionals (ave; concat with states), hashed recurrent kernel', () => {
    const m = recurrentModel();
    roundTrip(m, Int32Array.from({ length: 5 * 6 }, (_, i) => (i * 5 + 3) % 12), [5, 6]);
    m.dispose();
  });

  test('a hashed map without its recorded seed (metadata removed) comes back as its dense W, with a note naming the weight', () => {
    const m = createModel('mlp').build(0);
    share(m, 'hashed');
    const proto = decodeOnnx(exportOnnx(m));
    delete proto.metadata_props;
    const { model: back, notes } = importOnnx(encodeModel(proto), { file: 'mlp.onnx' });
    assert.ok(maxDiff(m, back, digits, [16, 28, 28, 1]) <= 1e-6);
    assert.deepEqual(notes, ['dense', 'dense_1', 'dense_2'].map((l) => `${l}/kernel: a hashed weight (a Gather from [θ, −θ]) whose hash seed the file does not record; imported as its dense W`));
    assert.ok(maps(back).every((s) => s.endsWith(':dense')));
    m.dispose();
    back.dispose();
  });
});

interface Expected {
  opset: number;
  input: { shape: number[]; dtype: 'float32' | 'int64'; data: number[] };
  output: { shape: number[]; data: number[] };
}

describe('importOnnx: PyTorch-made files (torch 1.13, opsets 13–17; gpt: attention written out) match PyTorch and onnxruntime-web (1e-5)', () => {
  const expected = JSON.parse(readFileSync(new URL('expected.json', fixtures), 'utf8')) as Record<string, Expected>;
  const layersOf: Record<string, string[]> = {
    cnn: ['Conv2D', 'MaxPooling2D', 'Conv2D', 'MaxPooling2D', 'Flatten', 'Dense', 'Dense'],
    mlp: ['Dense', 'Dense', 'Dense'],
    misc: ['Conv2D', 'Conv2D', 'AveragePooling2D', 'Add', 'Flatten', 'Dense', 'LayerNormalization', 'Activation', 'Dense'],
    lstm: ['Embedding', 'LSTM', 'Dense'],
    gru: ['Embedding', 'Bidirectional', 'Dense'],
    gpt: ['Embedding', 'PositionEmbedding', 'Add', 'LayerNormalization', 'MultiHeadAttention', 'Add', 'LayerNormalization', 'Dense', 'Dense', 'Add', 'LayerNormalization', 'Dense'],
  };
  for (const [name, e] of Object.entries(expected)) {
    test(`${name} (opset ${e.opset})`, async () => {
      const bytes = readFileSync(new URL(`${name}.onnx`, fixtures));
      const { model: m, notes } = importOnnx(bytes, { file: `${name}.onnx` });
      assert.deepEqual(m.layers.map((l) => l.className), layersOf[name]);
      // Our input: NHWC images (the NCHW input transposed), int32 ids.
      let x: Float32Array | Int32Array = e.input.dtype === 'int64' ? Int32Array.from(e.input.data) : Float32Array.from(e.input.data);
      let shape = e.input.shape;
      if (shape.length === 4) {
        const [n, c, h, w] = shape;
        const nhwc = new Float32Array(x.length);
        for (let i = 0; i < x.length; i++) {
          const [b, ch, r, col] = [Math.floor(i / (c * h * w)), Math.floor(i / (h * w)) % c, Math.floor(i / w) % h, i % w];
          nhwc[((b * h + r) * w + col) * c + ch] = x[i];
        }
        [x, shape] = [nhwc, [n, h, w, c]];
        assert.deepEqual(notes, [`input 'input': NCHW [N, ${c}, ${h}, ${w}] in the file, NHWC [N, ${h}, ${w}, ${c}] here: feed images channels-last`]);
      }
      const ours = m.predict({ data: x, shape }).data();
      const s = await ort.InferenceSession.create(bytes);
      const feed = e.input.dtype === 'int64' ? new ort.Tensor('int64', BigInt64Array.from(e.input.data.map(BigInt)), e.input.shape) : new ort.Tensor('float32', Float32Array.from(e.input.data), e.input.shape);
      const theirs = (await s.run({ input: feed })).output.data as Float32Array;
      assert.deepEqual([...m.outputs[0].shape], e.output.shape.slice(1));
      assert.equal(ours.length, e.output.data.length);
      for (let i = 0; i < ours.length; i++) {
        assert.ok(Math.abs(ours[i] - e.output.data[i]) <= 1e-5, `${name}[${i}]: ours ${ours[i]}, PyTorch ${e.output.data[i]}`);
        assert.ok(Math.abs(ours[i] - theirs[i]) <= 1e-5, `${name}[${i}]: ours ${ours[i]}, onnxruntime ${theirs[i]}`);
      }
      const initializers = (decodeOnnx(bytes).graph as { initializer: { dims?: number[] }[] }).initializer;
      // Every number of the file is a parameter, but ONNX's two LSTM biases (input, recurrent) are one here (4·8 fewer)
      // and gpt's causal bias [6, 6] is the layer's useCausalMask.
      const numbers = initializers.reduce((t, i) => t + (i.dims ?? []).reduce((a, b) => a * b, 1), 0);
      assert.equal(m.countParams(), numbers - ({ lstm: 32, gpt: 36 }[name] ?? 0), 'free parameters');
      m.dispose();
    });
  }
});

describe('importOnnx: ops our export does not write, checked against onnxruntime-web (1e-5)', () => {
  test('Conv with auto_pad SAME_UPPER and stride 2, Gelu (opset 20), GlobalAveragePool, Flatten, Gemm with transB', async () => {
    const g = new OnnxGraph('extra');
    const rand = (n: number, seed: number): Float32Array => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 12.9898 + seed) * 0.5);
    const x = g.input('x', 'float32', ['N', 3, 7, 7]);
    const k = g.initializer('conv.weight', 'float32', [5, 3, 3, 3], rand(135, 1));
    const c = g.node('Conv', [x, k, g.initializer('conv.bias', 'float32', [5], rand(5, 2))], 'conv', { auto_pad: 'SAME_UPPER', strides: [2, 2] });
    const p = g.node('GlobalAveragePool', [g.node('Gelu', [c], 'gelu')], 'pool');
    const y = g.node('Gemm', [g.node('Flatten', [p], 'flatten', { axis: 1 }), g.initializer('fc.weight', 'float32', [3, 5], rand(15, 3)), g.initializer('fc.bias', 'float32', [3], rand(3, 4))], 'fc', { transB: 1 });
    g.output(y, 'y', 'float32', ['N', 3]);
    const bytes = g.toBytes({ opset: 20, producer: 'test', version: '1' });
    const { model: m } = importOnnx(bytes, { file: 'extra.onnx' });
    assert.deepEqual(m.layers.map((l) => l.className), ['Conv2D', 'AveragePooling2D', 'Flatten', 'Dense']);
    const nchw = rand(2 * 3 * 49, 5);
    const nhwc = new Float32Array(nchw.length);
    for (let i = 0; i < nchw.length; i++) nhwc[Math.floor(i / 147) * 147 + (i % 49) * 3 + (Math.floor(i / 49) % 3)] = nchw[i];
    const ours = m.predict({ data: nhwc, shape: [2, 7, 7, 3] }).data();
    const s = await ort.InferenceSession.create(bytes);
    const theirs = (await s.run({ x: new ort.Tensor('float32', nchw, [2, 3, 7, 7]) })).y.data as Float32Array;
    ours.forEach((v, i) => assert.ok(Math.abs(v - theirs[i]) <= 1e-5, `[${i}]: ours ${v}, onnxruntime ${theirs[i]}`));
    m.dispose();
  });
});

/** A small graph written with our builder: input x [N, 4] (or `dims`), a chain of `nodes`, output 'y'. */
function graph(nodes: (g: OnnxGraph, x: string) => string, o: { opset?: number; dims?: (number | string)[] } = {}): Uint8Array {
  const g = new OnnxGraph('g');
  const x = g.input('x', 'float32', o.dims ?? ['N', 4]);
  g.output(nodes(g, x), 'y', 'float32', ['N', 3]);
  return g.toBytes({ opset: o.opset ?? 17, producer: 'test', version: '1' });
}

/** Asserts importOnnx throws an OnnxImportError whose one-line message is `message` (a string, or a pattern). */
function fails(bytes: Uint8Array, message: string | RegExp): void {
  const before = memory().tensors;
  assert.throws(() => importOnnx(bytes, { file: 'm.onnx' }), (e: Error) => {
    assert.ok(e instanceof OnnxImportError, `${e.name}: ${e.message}`);
    assert.ok(!e.message.includes('\n'), 'one line');
    if (typeof message === 'string') assert.equal(e.message, message);
    else assert.match(e.message, message);
    return true;
  });
  assert.equal(memory().tensors, before, 'nothing left allocated');
}

describe('importOnnx: bad files fail with one line naming the file and the node, tensor or input', () => {
  const w = (g: OnnxGraph, rows = 4): string => g.initializer('w', 'float32', [rows, 3], new Float32Array(rows * 3).fill(0.5));

  test('not ONNX: empty, random bytes, a truncated file', () => {
    fails(new Uint8Array(0), 'm.onnx: the file is empty, not an ONNX model');
    fails(Uint8Array.from({ length: 64 }, (_, i) => (i * 37 + 11) % 256), /^m\.onnx: not an ONNX model/);
    const cnn = readFileSync(new URL('cnn.onnx', fixtures));
    fails(cnn.subarray(0, cnn.length - 1000), /^m\.onnx: not an ONNX model, or truncated \(the protobuf does not decode: /);
  });

  test('opsets outside 9–21', () => {
    fails(graph((g, x) => g.node('MatMul', [x, w(g)], 'fc'), { opset: 8 }), 'm.onnx: opset 8 is outside the opsets import reads (9–21)');
    fails(graph((g, x) => g.node('MatMul', [x, w(g)], 'fc'), { opset: 22 }), 'm.onnx: opset 22 is outside the opsets import reads (9–21)');
  });

  test('every unsupported op in one error, by name and node', () => {
    const bytes = graph((g, x) => g.node('MatMul', [g.node('Resize', [g.node('LeakyRelu', [x], 'a')], 'b'), w(g)], 'fc'));
    fails(bytes, `m.onnx: unsupported ops: LeakyRelu (node 'a/LeakyRelu'), Resize (node 'b/Resize')`);
  });

  test('an output that does not depend on the input values (a position table alone): named as such, not as an unsupported op', () => {
    const x = input({ shape: [6], dtype: 'int32' });
    const h = layers.positionEmbedding({ sequenceLength: 6 }).apply(layers.embedding({ inputDim: 10, outputDim: 4 }).apply(x));
    const m = model({ inputs: x, outputs: layers.dense({ units: 3, activation: 'softmax', name: 'head' }).apply(h) }).build(0);
    fails(exportOnnx(m), /^m\.onnx: output 'head' does not depend on the values of the graph's inputs \(computed from weights and shapes alone: a constant\)/);
    m.dispose();
  });

  test('a symbolic dimension other than the batch', () => {
    fails(graph((g, x) => g.node('MatMul', [x, w(g)], 'fc'), { dims: ['N', 'T', 4] }), `m.onnx: input 'x' has a symbolic dimension 'T' at axis 1: only the batch axis (0) may vary`);
  });

  test('a missing initializer', () => {
    fails(graph((g, x) => g.node('MatMul', [x, 'fc/kernel'], 'fc')), `m.onnx: node 'fc/MatMul' (MatMul) reads 'fc/kernel', which is no graph input, initializer or node output (a missing initializer?)`);
  });

  test('a weight that does not fit its input, after other weights were read', () => {
    const bytes = graph((g, x) => g.node('MatMul', [g.node('MatMul', [x, g.initializer('a', 'float32', [4, 4], new Float32Array(16))], 'ok'), w(g, 5)], 'fc'));
    fails(bytes, `m.onnx: node 'fc/MatMul' (MatMul): weight 'w' is [5, 3] but its input has 4 features`);
  });

  test('a tensor whose data is shorter than its dims', () => {
    const proto = decodeOnnx(graph((g, x) => g.node('MatMul', [x, w(g)], 'fc')));
    const init = (proto.graph as { initializer: { raw_data: Uint8Array }[] }).initializer[0];
    init.raw_data = init.raw_data.subarray(0, 40);
    fails(encodeModel(proto), `m.onnx: initializer 'w' holds 40 bytes of FLOAT for dims [4, 3] (48 expected): the file is truncated or damaged`);
  });

  test('attention: a mask that is not causal, another scale, a product of activations outside the pattern', () => {
    const gpt = createTextModel('gpt', { vocab: 12, length: 6, dim: 8, heads: 2, layers: 1 }).build(0);
    const edit = (name: string, f: (v: Float32Array) => void): Uint8Array => {
      const proto = decodeOnnx(exportOnnx(gpt));
      const init = (proto.graph as { initializer: { name: string; raw_data: Uint8Array }[] }).initializer.find((t) => t.name === name)!;
      const v = new Float32Array(new Uint8Array(init.raw_data).buffer);
      f(v);
      init.raw_data = new Uint8Array(v.buffer);
      return encodeModel(proto);
    };
    const at = `m.onnx: node 'block/self_attention/attention/Add' (Add): an attention that`;
    fails(edit('block/self_attention/attention/causal_bias', (v) => (v[6] = -Infinity)), `${at} adds a constant [6, 6] to its scores that is not a causal mask (−∞ above the diagonal, 0 elsewhere; padding masks are not imported)`);
    fails(edit('block/self_attention/attention/scale', (v) => (v[0] = 0.25)), `${at} scales its scores by 0.25, not 1/√4 (1/√key depth is imported)`);
    gpt.dispose();
    const g = new OnnxGraph('g');
    const x = g.input('x', 'float32', ['N', 5, 4]);
    const scores = g.node('MatMul', [x, g.node('Transpose', [x], 't', { perm: [0, 2, 1] })], 'qk');
    g.output(g.node('MatMul', [g.node('Softmax', [scores], 'p', { axis: -1 }), x], 'pv'), 'y', 'float32', ['N', 5, 4]);
    fails(g.toBytes({ opset: 17, producer: 'test', version: '1' }), `m.onnx: unsupported ops: MatMul of two activations: an attention that the query is not split into heads by a Transpose [0, 2, 1, 3] (node 'qk/MatMul'), MatMul of two activations outside the attention pattern import reads (node 'pv/MatMul')`);
  });

  test('convolution padding that neither valid nor same gives; a reshape that is no flatten', () => {
    const conv = new OnnxGraph('c');
    const x = conv.input('x', 'float32', ['N', 1, 6, 6]);
    const k = conv.initializer('k', 'float32', [2, 1, 3, 3], new Float32Array(18));
    conv.output(conv.node('Conv', [x, k], 'conv', { pads: [2, 0, 0, 0] }), 'y', 'float32', ['N', 2, 6, 4]);
    fails(conv.toBytes({ opset: 13, producer: 'test', version: '1' }), `m.onnx: node 'conv/Conv' (Conv): pads [2, 0, 0, 0] on a 6×6 input give windows that neither 'valid' nor 'same' padding gives`);
    fails(graph((g, x) => g.node('Reshape', [x, g.int64s('shape', [-1, 2, 2])], 'r')), `m.onnx: node 'r/Reshape' (Reshape): reshapes [N, 4] to [N, 2, 2]: only a flatten to [N, −1] and size-1 axes are imported`);
  });
});

test('without the optional protobufjs package, ONNX import and export say how to install it (one line) and nothing else breaks', () => {
  // A copy of the built package where protobufjs cannot be resolved: dist and package.json in an empty temp folder.
  const root = mkdtempSync(join(tmpdir(), 'ws-no-protobuf-'));
  try {
    const here = fileURLToPath(new URL('../../../', import.meta.url));
    cpSync(join(here, 'dist'), join(root, 'dist'), { recursive: true });
    cpSync(join(here, 'package.json'), join(root, 'package.json'));
    const script = `
      const { importOnnx, exportOnnx } = await import('./dist/src/io/onnx/index.js');
      const { createModel } = await import('./dist/src/nn/zoo.js');
      for (const f of [() => importOnnx(new Uint8Array([8, 1]), { file: 'm.onnx' }), () => exportOnnx(createModel('mlp').build(0))]) {
        try { f(); console.log('no error'); } catch (e) { console.log(e.message); }
      }`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: root, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const install = 'needs the optional package protobufjs, which is not installed: run npm install protobufjs@^8';
    assert.deepEqual(r.stdout.trim().split('\n'), [`m.onnx: reading and writing ONNX files ${install}`, `reading and writing ONNX files ${install}`]);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
