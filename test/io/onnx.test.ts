// ONNX export checked by the real runtime: every zoo model plain and with each sharing map, run by onnxruntime-web on
// mnist-sample digits against our predictions; compact encodings (uint8 codes, one initializer for tied weights); bad input.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import ort from '../helpers/ort.js';
import { mul } from '../../src/core/ops/index.js';
import { loadDataset } from '../../src/data/datasets.js';
import { decodeOnnx, exportOnnx, importOnnx, OnnxExportError } from '../../src/io/onnx/index.js';
import { input, Layer, layers, type Model, model, sequential } from '../../src/nn/index.js';
import type { Shape } from '../../src/core/shape.js';
import type { Tensor } from '../../src/core/tensor.js';
import { createModel, MODEL_NAMES } from '../../src/nn/zoo.js';
import { createTextModel, TEXT_MODEL_NAMES } from '../../src/nn/zoo-text.js';
import { createGptModel } from '../../src/nn/zoo-gpt.js';
import { sparseCodes } from '../../src/io/onnx/weights.js';
import { everythingModel, recurrentModel, share } from '../helpers/onnx.js';

const ds = loadDataset('mnist-sample');
const N = 32;
const digits = ds.xTest.slice(0, N * 784);

/** Max |ours − ONNX Runtime's| over the outputs for `x` [N, ...shape] fed to the model's only input. */
async function maxDiff(m: Model, bytes: Uint8Array, x: Float32Array | Int32Array, shape: number[]): Promise<number> {
  const ours = m.predict({ data: x, shape }).data();
  const s = await ort.InferenceSession.create(bytes);
  const r = await s.run({ [s.inputNames[0]]: new ort.Tensor(x instanceof Int32Array ? 'int32' : 'float32', x, shape) });
  const theirs = r[s.outputNames[0]].data as Float32Array;
  assert.equal(theirs.length, ours.length, 'output sizes');
  let d = 0;
  for (let i = 0; i < ours.length; i++) d = Math.max(d, Math.abs(theirs[i] - ours[i]));
  return d;
}

/** Initializers of an ONNX file by name: element type and element count. */
function initializers(bytes: Uint8Array): Map<string, { type: number; size: number }> {
  const g = decodeOnnx(bytes).graph as { initializer: { name: string; dataType?: number; data_type?: number; dims?: number[] }[] };
  return new Map(g.initializer.map((t) => [t.name, { type: (t.data_type ?? t.dataType)!, size: (t.dims ?? []).reduce((a, b) => a * b, 1) }]));
}

const FLOAT = 1, UINT8 = 2;

describe('exportOnnx: zoo models run by onnxruntime-web match our predictions (1e-5) on mnist-sample digits', () => {
  for (const name of MODEL_NAMES) {
    for (const kind of ['plain', 'hashed', 'lowRank', 'codebook', 'pruned-codebook'] as const) {
      if (name === 'seed-cnn-local' && kind !== 'plain' && kind !== 'pruned-codebook') continue; // 2.6 M kernel weights: two variants are enough
      test(`${name}, ${kind}`, async () => {
        const m = createModel(name).build(0);
        share(m, kind);
        const bytes = exportOnnx(m);
        const d = await maxDiff(m, bytes, digits, [N, 28, 28, 1]);
        assert.ok(d <= 1e-5, `max difference ${d}`);
        const inits = initializers(bytes);
        const kernels = m.weights().filter((w) => w.role === 'kernel');
        if (kind === 'plain') for (const w of kernels) assert.equal(inits.get(w.path)?.size, w.map.shape.reduce((a, b) => a * b, 1), w.path);
        if (kind === 'codebook') {
          // Compact: 4-bit codes packed in a uint8 tensor and 16 centroids per kernel, no float W.
          for (const w of kernels) {
            const n = w.map.shape.reduce((a, b) => a * b, 1);
            assert.equal(inits.get(`${w.path}/codes`)?.type, UINT8, `${w.path} codes`);
            assert.equal(inits.get(`${w.path}/codes`)?.size, Math.ceil(n / 2) + 1, `${w.path}: 4 bits per code, one pad byte`);
            assert.equal(inits.get(`${w.path}/centroids`)?.size, 16);
            assert.equal(inits.has(w.path), false);
          }
        }
        if (kind !== 'plain') {
          const floats = [...inits.values()].filter((t) => t.type === FLOAT).reduce((s, t) => s + t.size, 0);
          assert.ok(floats < m.countParams() + 64, `float32 values written ${floats}, free parameters ${m.countParams()}`);
        }
        m.dispose();
      });
    }
  }
});

describe('exportOnnx: layers and sharing beyond the zoo', () => {
  test('tied weights are one initializer (Transpose for :T), a reused layer one set of weights; merges, pooling, gelu, layer norm', async () => {
    const m = everythingModel();
    const bytes = exportOnnx(m);
    assert.ok((await maxDiff(m, bytes, digits, [N, 28, 28, 1])) <= 1e-5);
    const inits = initializers(bytes);
    assert.ok(inits.has('enc/kernel') && !inits.has('dec/kernel'), 'the tied kernel is not written twice');
    assert.equal([...inits.keys()].filter((k) => k.startsWith('shared/')).length, 2, 'the reused layer: one kernel, one bias');
    const nodes = (decodeOnnx(bytes).graph as { node: { op_type?: string; opType?: string; input: string[] }[] }).node;
    assert.ok(nodes.some((n) => (n.op_type ?? n.opType) === 'Transpose' && n.input[0] === 'enc/kernel'));
    m.dispose();
  });

  test('Embedding takes int32 ids; a layer normalization over two axes', async () => {
    const ids = input({ shape: [5], dtype: 'int32' });
    const e = layers.embedding({ inputDim: 20, outputDim: 6, maps: { embeddings: 'codebook:8' } }).apply(ids);
    const n = layers.layerNormalization({ axis: [1, 2], epsilon: 1e-5 }).apply(e);
    const m = model({ inputs: ids, outputs: layers.dense({ units: 3, activation: 'softmax' }).apply(layers.flatten().apply(n)) }).build(1);
    const x = Int32Array.from({ length: 4 * 5 }, (_, i) => (i * 7) % 20);
    assert.ok((await maxDiff(m, exportOnnx(m), x, [4, 5])) <= 1e-5);
    m.dispose();
  });

  test("hard_sigmoid (Keras 3's, PyTorch's) as HardSigmoid(alpha 1/6, beta 1/2): onnxruntime agrees, import reads it back; as a recurrent gate it is refused", async () => {
    const x = input({ shape: [28, 28, 1] });
    const h = layers.dense({ units: 16, activation: 'hard_sigmoid' }).apply(layers.flatten().apply(x));
    const m = model({ inputs: x, outputs: layers.dense({ units: 10 }).apply(layers.activation({ activation: 'hard_sigmoid' }).apply(layers.dense({ units: 12 }).apply(h))) }).build(4);
    const bytes = exportOnnx(m);
    assert.ok((await maxDiff(m, bytes, digits, [N, 28, 28, 1])) <= 1e-5);
    const back = importOnnx(bytes).model;
    assert.deepEqual(back.layers.map((l) => (l.toJSON().config as { activation?: string }).activation ?? '-'), ['-', 'hard_sigmoid', 'hard_sigmoid', 'linear']); // the Activation joins the Dense before it
    assert.deepEqual(back.predict({ data: digits, shape: [N, 28, 28, 1] }).f32(), m.predict({ data: digits, shape: [N, 28, 28, 1] }).f32());
    back.dispose();
    m.dispose();
    const seq = input({ shape: [4, 3] });
    const r = model({ inputs: seq, outputs: layers.lstm({ units: 2, recurrentActivation: 'hard_sigmoid', name: 'gates' }).apply(seq) }).build(0);
    assert.throws(() => exportOnnx(r), (e: Error) => e instanceof OnnxExportError && e.message === "layer 'gates' (LSTM): activation 'hard_sigmoid' has no ONNX recurrent form (sigmoid, tanh, relu)");
    r.dispose();
  });

  test('--materialize writes dense float32 kernels', async () => {
    const m = createModel('mlp').build(0);
    share(m, 'hashed');
    const bytes = exportOnnx(m, { materialize: true });
    assert.ok((await maxDiff(m, bytes, digits, [N, 28, 28, 1])) <= 1e-5);
    assert.equal(initializers(bytes).get('dense/kernel')?.size, 784 * 200);
    m.dispose();
  });

  test('a map without a compact ONNX form (pruned θ ⊙ mask) is written as its dense W, with a note naming the weight', async () => {
    const m = sequential([layers.flatten({ inputShape: [28, 28, 1] }), layers.dense({ units: 10, activation: 'softmax', name: 'fc', maps: { kernel: 'pruned:prune=0.5' } })]).build(0);
    const notes: string[] = [];
    const bytes = exportOnnx(m, { onNote: (s) => notes.push(s) });
    assert.deepEqual(notes, [`fc/kernel: a 'pruned' map has no compact ONNX form here; written as its dense float32 W (7840 values)`]);
    assert.ok((await maxDiff(m, bytes, digits, [N, 28, 28, 1])) <= 1e-5);
    m.dispose();
  });

  test('SimpleRNN, LSTM (gates reordered, returnState), GRU (reset after and before), goBackwards, Bidirectional as ONNX RNN, LSTM, GRU', async () => {
    const m = recurrentModel();
    const x = Int32Array.from({ length: 5 * 6 }, (_, i) => (i * 5 + 3) % 12);
    assert.ok((await maxDiff(m, exportOnnx(m), x, [5, 6])) <= 1e-5);
    m.dispose();
  });

  test('every text zoo model exports and matches (ids with padding zeros)', async () => {
    for (const name of TEXT_MODEL_NAMES) {
      const sizes = name.includes('gpt') ? { dim: 8, heads: 2, layers: 1 } : { embed: 8, hidden: 8, layers: 1 };
      const m = createTextModel(name, { vocab: 16, length: 6, ...sizes, ...(name.startsWith('text-') ? { classes: 2 } : {}) }).build(0);
      const x = Int32Array.from({ length: 2 * 6 }, (_, i) => (i < 3 ? 0 : (i * 5) % 16));
      assert.ok((await maxDiff(m, exportOnnx(m), x, [2, 6])) <= 1e-5, name);
      m.dispose();
    }
  });

  test('the text zoo: char-lstm with its output projection tied to the embedding, word-gru', async () => {
    for (const [name, tied] of [['char-lstm', true], ['word-gru', false]] as const) {
      const m = createTextModel(name, { vocab: 20, length: 8, embed: 16, hidden: 16, layers: 2, dropout: 0.1, tied }).build(0);
      const x = Int32Array.from({ length: 3 * 8 }, (_, i) => (i * 7 + 1) % 20);
      const bytes = exportOnnx(m);
      assert.ok((await maxDiff(m, bytes, x, [3, 8])) <= 1e-5, name);
      if (tied) assert.equal([...initializers(bytes).keys()].filter((k) => k.includes('embedding')).length, 1, 'one embedding table for both ends');
      m.dispose();
    }
  });

  test('the transformers: gpt (causal attention, blocks shared across depth), word-gpt (factorised and tied embedding, sine positions)', async () => {
    const gpt = createTextModel('gpt', { vocab: 20, length: 8, dim: 16, heads: 2, layers: 2, shareLayers: 'all', dropout: 0.1 }).build(0);
    const word = createTextModel('word-gpt', { vocab: 30, length: 8, dim: 16, heads: 4, layers: 2, factorizedEmbedding: 8, tied: true }).build(1);
    const sine = createGptModel({ vocab: 20, context: 8, dim: 16, heads: 2, layers: 1, position: 'sine', name: 'gpt-sine' }).build(2);
    for (const m of [gpt, word, sine]) {
      const x = Int32Array.from({ length: 3 * 8 }, (_, i) => (i * 7 + 1) % 20);
      const bytes = exportOnnx(m);
      assert.ok((await maxDiff(m, bytes, x, [3, 8])) <= 1e-5, m.name);
      const floats = [...initializers(bytes).values()].filter((t) => t.type === FLOAT && t.size > 64).reduce((s, t) => s + t.size, 0);
      assert.ok(floats <= m.countParams() + 64, `${m.name}: ${floats} floats written, ${m.countParams()} parameters (shared blocks once)`);
      m.dispose();
    }
  });

  test('masked steps skipped (pre- and post-padding, an all-padding row): text-gru, text-lstm (two layers: masked sequences between), Bidirectional, zeroOutputForMask', async () => {
    const ids = Int32Array.from([0, 0, 0, 5, 7, 2, /**/ 3, 4, 9, 1, 0, 0, /**/ 0, 0, 0, 0, 0, 0, /**/ 1, 0, 2, 0, 3, 0, /**/ 8, 8, 8, 8, 8, 8]);
    for (const name of ['text-gru', 'text-lstm'] as const) {
      const m = createTextModel(name, { vocab: 12, length: 6, classes: 3, embed: 5, hidden: 4, layers: 2 }).build(0);
      assert.ok((await maxDiff(m, exportOnnx(m), ids, [5, 6])) <= 1e-5, name);
      m.dispose();
    }
    const x = input({ shape: [6], dtype: 'int32' });
    const e = layers.dense({ units: 5, activation: 'tanh' }).apply(layers.embedding({ inputDim: 12, outputDim: 4, maskZero: true }).apply(x));
    const z = layers.simpleRNN({ units: 3, returnSequences: true, zeroOutputForMask: true }).apply(e);
    const both = layers.concatenate().apply([layers.bidirectional({ layer: layers.lstm({ units: 3 }), mergeMode: 'sum' }).apply(e), layers.flatten().apply(z)]);
    const m = model({ inputs: x, outputs: both }).build(4);
    assert.ok((await maxDiff(m, exportOnnx(m), ids, [5, 6])) <= 1e-5, 'bidirectional');
    m.dispose();
  });

  test('attention on padded sequences (Keras masks from an Embedding with maskZero): self (causal and not) and cross with masked query and value; an all-padding row', async () => {
    const data = Int32Array.from([0, 0, 0, 5, 7, 2, /**/ 3, 4, 9, 1, 0, 0, /**/ 0, 0, 0, 0, 0, 0, /**/ 8, 8, 8, 8, 8, 8]);
    for (const causal of [false, true]) {
      const ids = input({ shape: [6], dtype: 'int32' });
      const e = layers.embedding({ inputDim: 12, outputDim: 8, maskZero: true }).apply(ids);
      const x = layers.add().apply([e, layers.positionEmbedding({ sequenceLength: 6 }).apply(e)]);
      const m = model({ inputs: ids, outputs: layers.dense({ units: 3 }).apply(layers.multiHeadAttention({ numHeads: 2, keyDim: 4, useCausalMask: causal }).apply(x)) }).build(1);
      assert.ok((await maxDiff(m, exportOnnx(m), data, [4, 6])) <= 1e-5, `causal ${causal}`);
      m.dispose();
    }
    // Cross-attention: two id inputs of their own lengths, both masked; run by onnxruntime on both inputs.
    const q = input({ shape: [6], dtype: 'int32', name: 'q' }), v = input({ shape: [4], dtype: 'int32', name: 'v' });
    const eq = layers.embedding({ inputDim: 12, outputDim: 8, maskZero: true }).apply(q), ev = layers.embedding({ inputDim: 12, outputDim: 6, maskZero: true }).apply(v);
    const m = model({ inputs: [q, v], outputs: layers.multiHeadAttention({ numHeads: 2, keyDim: 3, useCausalMask: true }).apply([eq, ev]) }).build(2);
    const vs = Int32Array.from([1, 2, 0, 0, /**/ 0, 0, 0, 0, /**/ 5, 5, 5, 5, /**/ 0, 3, 0, 7]);
    const ours = m.predict([{ data, shape: [4, 6] }, { data: vs, shape: [4, 4] }]).data();
    const s = await ort.InferenceSession.create(exportOnnx(m));
    const theirs = (await s.run({ q: new ort.Tensor('int32', data, [4, 6]), v: new ort.Tensor('int32', vs, [4, 4]) }))[s.outputNames[0]].data as Float32Array;
    ours.forEach((y, i) => assert.ok(Math.abs(y - theirs[i]) <= 1e-5, `[${i}]: ours ${y}, onnxruntime ${theirs[i]}`));
    m.dispose();
  });

  test('a masked sequence output read backwards (returnSequences, goBackwards): a one-line error naming the layer', () => {
    const ids = input({ shape: [4], dtype: 'int32' });
    const e = layers.embedding({ inputDim: 9, outputDim: 3, maskZero: true }).apply(ids);
    const m = model({ inputs: ids, outputs: layers.gru({ units: 2, name: 'gru', returnSequences: true, goBackwards: true }).apply(layers.dropout({ rate: 0.1 }).apply(e)) }).build(0);
    assert.throws(() => exportOnnx(m), (e: Error) => e.message === `layer 'gru' (GRU): a masked input (an Embedding with maskZero before it) with returnSequences and goBackwards is not exported yet`);
    m.dispose();
  });

  test('a layer ONNX export does not know (a user-defined class): a one-line error naming the layer and its class', () => {
    class Twice extends Layer {
      readonly className = 'Twice';
      readonly defaultName = 'twice';
      outputShape(s: Shape): number[] {
        return [...s];
      }
      call(x: Tensor): Tensor {
        return mul(x, 2);
      }
      protected config(): Record<string, unknown> {
        return {};
      }
    }
    const m = sequential([layers.flatten({ inputShape: [4, 4, 1] }), new Twice({ name: 'twice' }), layers.dense({ units: 2 })]).build(0);
    assert.throws(() => exportOnnx(m), (e: Error) => e instanceof OnnxExportError && /^layer 'twice' \(Twice\) cannot be exported to ONNX yet \(exportable: Dense, /.test(e.message) && !e.message.includes('\n'));
    m.dispose();
  });
});

test('sparseCodes: gaps from the previous kept position, fillers (code K) where a gap is wider than the width holds', () => {
  const k = 4;
  const codes = new Int32Array(3000).fill(k);
  for (const [i, c] of [[0, 1], [5, 2], [6, 3], [2900, 0]] as const) codes[i] = c;
  const s = sparseCodes(codes, k);
  assert.equal(s.codeBits, 3);
  let pos = 0;
  const rebuilt = new Int32Array(3000).fill(k);
  s.gaps.forEach((g, j) => {
    assert.ok(g < 1 << s.gapBits);
    pos += g;
    if (s.codes[j] !== k) rebuilt[pos] = s.codes[j];
  });
  assert.deepEqual(rebuilt, codes);
  assert.ok(s.codes.filter((c) => c === k).length > 0, 'the 2,894-wide gap needs fillers');
});
