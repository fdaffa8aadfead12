// Embedding: forward and gradient against PyTorch's F.embedding, Keras defaults, int32 inputs, and the errors for bad ids.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { memory, setBackend, tidy } from '../../src/core/engine.js';
import { mul, sum, tensor } from '../../src/core/ops/index.js';
import { valueAndGrads } from '../../src/core/tape.js';
import { Embedding, Flatten, initializerName, input, layers, model, sequential } from '../../src/nn/index.js';
import { assertMatches, type FixtureTensor, fromFixture, loadFixture } from '../helpers/fixtures.js';

interface EmbeddingCase {
  name: string;
  ids: FixtureTensor;
  embeddings: FixtureTensor;
  dy: FixtureTensor;
  y: FixtureTensor;
  dEmbeddings: FixtureTensor;
}

const fixture = loadFixture<{ cases: EmbeddingCase[] }>('embedding');

/** A built Embedding whose table holds `table`. */
function withTable(table: FixtureTensor, ids: FixtureTensor, o: { maskZero?: boolean } = {}): Embedding {
  const [v, e] = table.shape;
  const layer = new Embedding({ inputDim: v, outputDim: e, name: 'embedding', ...o });
  layer.build(ids.shape.slice(1), 0);
  const p = layer.parameters()[0].value;
  p.backend.write(p.buf, Float32Array.from(table.data));
  return layer;
}

for (const backend of ['ref', 'wasm'] as const) {
  test(`Embedding matches PyTorch's F.embedding, output and table gradient with repeated ids (${backend})`, () => {
    setBackend(backend);
    const before = memory().tensors;
    for (const c of fixture.cases) {
      const layer = withTable(c.embeddings, c.ids);
      tidy(() => {
        const ids = fromFixture(c.ids, 'int32');
        const dy = fromFixture(c.dy);
        const table = layer.parameters()[0].value;
        assertMatches(`${c.name}: y`, layer.call(ids, { training: false, seed: 0 }), c.y, 0, 0);
        // L = Σ y·dy, so dL/dy = dy: PyTorch's backward with dy.
        const { grads } = valueAndGrads(() => sum(mul(layer.call(ids, { training: true, seed: 0 }), dy)), [table]);
        assertMatches(`${c.name}: dEmbeddings`, grads[0], c.dEmbeddings, 1e-5, 1e-6);
      });
      layer.dispose();
    }
    assert.equal(memory().tensors, before, 'tensors leaked');
  });
}

describe('Embedding (Keras semantics)', () => {
  test('defaults: uniform U(−0.05, 0.05) table, maskZero false, role embedding; the config names them', () => {
    setBackend('wasm');
    const m = sequential([new Embedding({ inputDim: 1000, outputDim: 16, inputShape: [4] })]).build(1);
    const t = m.getWeights().get('embedding/embeddings')!;
    assert.equal(t.length, 16000);
    for (const v of t) assert.ok(Math.abs(v) <= 0.05, `${v} outside ±0.05`);
    // 16,000 draws: the sample variance of U(−a, a) is a²/3 with relative sd ≈ 0.7 %; allow 5 %.
    const variance = t.reduce((s, v) => s + v * v, 0) / t.length;
    assert.ok(Math.abs(variance / (0.05 * 0.05 / 3) - 1) < 0.05, `variance ${variance}`);
    const l = m.getLayer('embedding');
    assert.deepEqual(l.weights().map((w) => [w.name, w.role, w.map.shape]), [['embeddings', 'embedding', [1000, 16]]]);
    assert.deepEqual(l.toJSON().config, {
      name: 'embedding', inputDim: 1000, outputDim: 16, embeddingsInitializer: 'uniform', maskZero: false, inputShape: [4], inputDType: 'int32',
    });
    assert.equal(initializerName('random_uniform'), 'uniform', "Keras' class name of 'uniform'");
    assert.equal(m.countParams(), 16000);
    m.dispose();
  });

  test('ids of any shape [N, ...] give [N, ..., outputDim]; a sequential model whose first layer is an Embedding takes int32', () => {
    setBackend('wasm');
    const e = new Embedding({ inputDim: 5, outputDim: 3 });
    assert.deepEqual(e.outputShape([]), [3]);
    assert.deepEqual(e.outputShape([4]), [4, 3]);
    assert.deepEqual(e.outputShape([2, 4]), [2, 4, 3]);
    const m = sequential([layers.embedding({ inputDim: 5, outputDim: 3, inputShape: [2, 4] }), new Flatten()]);
    assert.equal(m.inputs[0].dtype, 'int32');
    const y = m.predict({ data: new Int32Array(2 * 8).fill(4), shape: [2, 2, 4] });
    assert.deepEqual(y.shape, [2, 24]);
    y.dispose();
    m.dispose();
  });

  test('a float32 input is refused when the graph is built, naming the layer', () => {
    const x = input({ shape: [3] });
    assert.throws(() => new Embedding({ inputDim: 4, outputDim: 2, name: 'tokens' }).apply(x),
      /^DTypeError: layer 'tokens' \(Embedding\): takes int32 token ids, got a float32 input/);
    assert.throws(() => new Embedding({ inputDim: 0, outputDim: 2 }), /inputDim must be an integer ≥ 1, got 0/);
    assert.throws(() => new Embedding({ inputDim: 3, outputDim: 2, embeddingsInitializer: 'nope' }), /unknown initializer 'nope'/);
  });

  test('token ids given to a layer that computes on features (the Embedding forgotten) are refused when the graph is built, naming it', () => {
    const ids = input({ shape: [3, 2], dtype: 'int32' });
    for (const [layer, name] of [
      [layers.lstm({ units: 4 }), "'lstm' (LSTM)"], [layers.gru({ units: 4 }), "'gru' (GRU)"], [layers.simpleRNN({ units: 4 }), "'simple_rnn' (SimpleRNN)"],
      [layers.dense({ units: 3 }), "'dense' (Dense)"], [layers.layerNormalization({}), "'layer_normalization' (LayerNormalization)"],
      [layers.bidirectional({ layer: layers.lstm({ units: 2 }) }), "'bidirectional' (Bidirectional)"], [layers.dropout({ rate: 0.5 }), "'dropout' (Dropout)"],
    ] as const) {
      assert.throws(() => layer.apply(ids), (e: Error) => e.name === 'DTypeError' &&
        e.message === `layer ${name}: takes float32 inputs, got int32; token ids go through an Embedding first`, name);
    }
    assert.throws(() => layers.multiHeadAttention({ numHeads: 2, keyDim: 2 }).apply([ids, ids]),
      /^DTypeError: layer 'multi_head_attention' \(MultiHeadAttention\): takes float32 inputs, got int32 \(input 0\)/);
    // Layers that only move values keep taking ids (Flatten before an Embedding, as above).
    assert.deepEqual(new Flatten({}).apply(ids).dtype, 'int32');
  });

  test('an id outside [0, inputDim) is a one-line error naming the layer, the id and its position: in a call, at predict, fit and evaluate', async () => {
    for (const backend of ['ref', 'wasm'] as const) {
      setBackend(backend);
      const before = memory().tensors;
      const layer = new Embedding({ inputDim: 7, outputDim: 2, name: 'tok' });
      layer.build([3], 0);
      for (const [bad, at] of [[9, 5], [-1, 0]]) {
        const data = Int32Array.from([1, 2, 3, 4, 5, 6]);
        data[at] = bad;
        let err: Error | undefined;
        tidy(() => {
          try {
            layer.call(tensor(data, [2, 3], 'int32'), { training: false, seed: 0 });
          } catch (e) {
            err = e as Error;
          }
        });
        assert.ok(err, `${backend}: id ${bad} accepted`);
        assert.equal(err.message, `layer 'tok' (Embedding): token id ${bad} at [${Math.floor(at / 3)}, ${at % 3}] of its input [2,3] is outside [0, 7) (inputDim 7)`);
      }
      layer.dispose();

      const ids = input({ shape: [4], dtype: 'int32' });
      const m = model({ inputs: ids, outputs: layers.dense({ units: 2 }).apply(new Flatten().apply(layers.embedding({ inputDim: 5, outputDim: 3 }).apply(ids))) });
      m.compile({ optimizer: 'sgd', loss: 'sparse_categorical_crossentropy' });
      const x = { data: Int32Array.from([0, 1, 2, 3, 4, 3, 2, 1, 0, 7, 0, 0]), shape: [3, 4] };
      const y = { data: new Int32Array(3), shape: [3] };
      const want = /^layer 'embedding' \(Embedding\): (predict|fit|evaluate): x sample 2 has id 7 at \[1\], outside \[0, 5\)$/;
      assert.throws(() => m.predict(x), (e: Error) => want.test(e.message) && e.message.startsWith("layer 'embedding' (Embedding): predict: x"));
      await assert.rejects(() => m.fit(x, y, { epochs: 1 }), (e: Error) => want.test(e.message) && e.message.includes('fit: x'));
      assert.throws(() => m.evaluate(x, y), (e: Error) => want.test(e.message) && e.message.includes('evaluate: x'));
      m.dispose();
      assert.equal(memory().tensors, before, `${backend}: tensors leaked`);
    }
  });
});
