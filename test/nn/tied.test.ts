// Tied embeddings: an output Dense whose kernel is the Embedding table transposed: PyTorch's gradient, one θ counted, stored and stepped once, save/load, and the transforms.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { memory, setBackend, tidy } from '../../src/core/engine.js';
import { valueAndGrads } from '../../src/core/tape.js';
import { decodeCheckpoint, encodeCheckpoint, modelFromCheckpoint, modelToCheckpoint } from '../../src/io/index.js';
import { getLoss, input, layers, type Model, model } from '../../src/nn/index.js';
import { SGD } from '../../src/optim/index.js';
import { TiedMap } from '../../src/sharing/index.js';
import { clusterWeights, pruneWeights, stripSharing, subspace } from '../../src/transforms/index.js';
import { compareBits } from '../helpers/compare.js';
import { assertMatches, type FixtureTensor, fromFixture, loadFixture } from '../helpers/fixtures.js';

interface TiedCase {
  ids: FixtureTensor;
  labels: FixtureTensor;
  embeddings: FixtureTensor;
  bias: FixtureTensor;
  logits: FixtureTensor;
  loss: number;
  dEmbeddings: FixtureTensor;
  dBias: FixtureTensor;
}

const fx = loadFixture<{ cases: TiedCase[] }>('tied_embedding').cases[0];
const [V, E] = fx.embeddings.shape;
const T = fx.ids.shape[1];

/** ids [N, T] → Embedding(V, E) → Dense(V) with kernel = embeddingsᵀ: logits [N, T, V] at every step. */
function tiedLM(units = V): Model {
  const ids = input({ shape: [T], dtype: 'int32', name: 'ids' });
  const h = layers.embedding({ inputDim: V, outputDim: E, name: 'embedding' }).apply(ids);
  const logits = layers.dense({ units, name: 'decoder', maps: { kernel: 'tied:embedding/embeddings:T' } }).apply(h);
  return model({ inputs: ids, outputs: logits, name: 'tied_lm' }).build(0);
}

/** The fixture's table and decoder bias as the model's weights. */
function setFixtureWeights(m: Model): void {
  m.setWeights({ 'embedding/embeddings': Float32Array.from(fx.embeddings.data), 'decoder/bias': Float32Array.from(fx.bias.data) });
}

describe('tied embeddings', () => {
  for (const backend of ['ref', 'wasm'] as const) {
    test(`the one table's gradient is PyTorch's (decoder.weight = encoder.weight), and one SGD step moves it once by it (${backend})`, () => {
      setBackend(backend);
      const before = memory().tensors;
      const m = tiedLM();
      setFixtureWeights(m);
      assert.deepEqual(m.namedParameters().map((p) => p.name), ['embedding/embeddings', 'decoder/bias']);
      tidy(() => {
        const ids = fromFixture(fx.ids, 'int32');
        const labels = fromFixture(fx.labels, 'int32');
        const params = m.namedParameters().map((p) => p.param.value);
        const loss = getLoss('sparse_categorical_crossentropy', { fromLogits: true });
        const r = valueAndGrads(() => {
          const y = m.call(ids);
          assertMatches('logits', y, fx.logits, 1e-5, 1e-6);
          return loss.compute(y, labels);
        }, params);
        assert.ok(Math.abs(r.value.item() - fx.loss) < 1e-5 * fx.loss, `loss ${r.value.item()} vs PyTorch ${fx.loss}`);
        assertMatches('dEmbeddings (both uses summed)', r.grads[0], fx.dEmbeddings, 1e-5, 1e-6);
        assertMatches('dBias', r.grads[1], fx.dBias, 1e-5, 1e-6);

        const lr = 0.5;
        m.compile({ optimizer: new SGD({ learningRate: lr }), loss: 'sparse_categorical_crossentropy', fromLogits: true });
        const logs = m.trainOnBatch(ids, labels);
        assert.ok(Math.abs(logs.loss - fx.loss) < 1e-5 * fx.loss);
        const after = m.getWeights().get('embedding/embeddings')!;
        const want = fx.embeddings.data.map((w, i) => w - lr * fx.dEmbeddings.data[i]);
        const worst = want.reduce((s, w, i) => Math.max(s, Math.abs(after[i] - w)), 0);
        assert.ok(worst < 1e-6, `θ − lr·(summed gradient): off by ${worst} (a second step of the same θ would be off by ~${lr * Math.max(...fx.dEmbeddings.data.map(Math.abs))})`);
      });
      m.dispose();
      assert.equal(memory().tensors, before, `${backend}: tensors leaked`);
    });
  }

  test('counted once in countParams and summary(), which names the tie; stored once; saves, loads and predicts bit-identically', () => {
    setBackend('wasm');
    const m = tiedLM();
    assert.equal(m.countParams(), V * E + V);
    const s = m.summary();
    assert.match(s, /^decoder \(Dense\) +\(None, 3, 7\) +7 +35 +tied\+dense +224$/m, 'the decoder owns its bias only');
    assert.match(s, new RegExp(`Total params: ${V * E + V} `));
    assert.match(s, /^Tied weights \(their parameters counted once, at the source\): decoder\/kernel = embedding\/embeddings transposed$/m);
    const ck = modelToCheckpoint(m);
    assert.deepEqual([...ck.tensors.keys()].filter((k) => k.includes('embeddings') || k.includes('kernel')).map((k) => k.replace(/^[^/]*\//, '')), ['embedding/embeddings']);
    const { model: back } = modelFromCheckpoint(decodeCheckpoint(encodeCheckpoint(ck)));
    assert.ok(back.getLayer('decoder').weight('kernel') instanceof TiedMap, 'still tied after load');
    assert.equal(back.countParams(), V * E + V);
    const x = { data: Int32Array.from([1, 2, 3, 0, 6, 5, 4, 4, 4]), shape: [3, T] };
    const [a, b] = [m.predict(x), back.predict(x)];
    assert.equal(compareBits(b.f32(), a.f32()).message, undefined);
    a.dispose();
    b.dispose();
    back.dispose();
    m.dispose();
  });

  test('tying tables of different sizes is a one-line error naming both shapes', () => {
    assert.throws(() => tiedLM(V + 1), (e: Error) => e.message === `layer 'decoder' kernel, scheme 'tied': 'embedding/embeddings' has shape [${V},${E}], transposed [${E},${V}], but this weight needs [${E},${V + 1}]`);
  });

  test('clustering or pruning the table keeps the tie (one θ); stripSharing unties into copies; subspace refuses', async () => {
    setBackend('wasm');
    const x = { data: Int32Array.from([1, 2, 3, 0, 6, 5, 4, 4, 4, 2, 2, 1]), shape: [4, T] };
    const y = { data: Int32Array.from([2, 3, 0, 6, 5, 4, 4, 4, 1, 2, 1, 0]), shape: [4, T] };

    const c = tiedLM();
    assert.throws(() => clusterWeights(c, { clusters: 4, layers: ['decoder'] }), /layer 'decoder' kernel, scheme 'codebook': the kernel is tied to 'embedding\/embeddings': cluster that weight, and the tie follows/);
    const done = clusterWeights(c, { clusters: 4 });
    assert.deepEqual(done.map((d) => d.path), ['embedding/embeddings'], 'the table is clustered, the tied kernel follows');
    const kernel = c.getLayer('decoder').weight('kernel') as TiedMap;
    assert.equal(kernel.source, c.getLayer('embedding').weight('embeddings'));
    assert.equal(c.countParams(), 4 + V);
    // The decoder's effective kernel is the clustered table transposed.
    tidy(() => {
      const table = c.getLayer('embedding').weight('embeddings').materialize().f32();
      const k = kernel.materialize().f32();
      for (let v = 0; v < V; v++) for (let e = 0; e < E; e++) assert.equal(k[e * V + v], table[v * E + e]);
    });
    c.compile({ optimizer: new SGD({ learningRate: 0.1 }), loss: 'sparse_categorical_crossentropy', fromLogits: true });
    await c.fit(x, y, { epochs: 1, batchSize: 4 });
    const { model: back } = modelFromCheckpoint(decodeCheckpoint(encodeCheckpoint(modelToCheckpoint(c))));
    assert.equal((back.getLayer('decoder').weight('kernel') as TiedMap).source, back.getLayer('embedding').weight('embeddings'));
    const [a, b] = [c.predict(x), back.predict(x)];
    assert.equal(compareBits(b.f32(), a.f32()).message, undefined, 'a clustered tied model loads bit-identically');
    for (const t of [a, b]) t.dispose();
    back.dispose();
    c.dispose();

    const p = tiedLM();
    pruneWeights(p, { prune: 0.5 });
    assert.equal((p.getLayer('decoder').weight('kernel') as TiedMap).source, p.getLayer('embedding').weight('embeddings'));
    assert.equal(p.countParams(), V * E + V, 'pruning keeps θ, one table');
    p.dispose();

    const s = tiedLM();
    const before = s.predict(x);
    assert.deepEqual(stripSharing(s), ['decoder/kernel']);
    assert.equal(s.countParams(), 2 * V * E + V, 'stripped: the kernel is a copy of its own');
    const after = s.predict(x);
    assert.equal(compareBits(after.f32(), before.f32()).message, undefined);
    for (const t of [before, after]) t.dispose();
    s.dispose();

    const d = tiedLM();
    assert.throws(() => subspace(d, { dim: 4 }), /scheme 'subspace': needs a model with dense weights, this one is 'tied'/);
    d.dispose();
  });
});
