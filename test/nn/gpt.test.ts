// createGptModel: PyTorch's logits, loss and gradients for given weights, parameter counts, sharing maps on its weights, save/load, and bad options.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { memory, setBackend, tidy } from '../../src/core/engine.js';
import { tensor } from '../../src/core/ops/index.js';
import { valueAndGrads } from '../../src/core/tape.js';
import type { Tensor } from '../../src/core/tensor.js';
import { decodeCheckpoint, encodeCheckpoint, modelFromCheckpoint, modelToCheckpoint } from '../../src/io/index.js';
import { createGptModel, generateTokens, getLoss, type GptModelOptions, type Model } from '../../src/nn/index.js';
import { Adam } from '../../src/optim/index.js';
import { TiedMap } from '../../src/sharing/index.js';
import { compareBits } from '../helpers/compare.js';
import { assertMatches, type FixtureTensor, fromFixture, loadFixture } from '../helpers/fixtures.js';
import { Rng } from '../helpers/random.js';

interface GptCase {
  name: string;
  config: GptModelOptions;
  ids: FixtureTensor;
  labels: FixtureTensor;
  weights: Record<string, FixtureTensor>;
  logits: FixtureTensor;
  loss: number;
  grads: Record<string, FixtureTensor>;
}

const fixture = loadFixture<{ cases: GptCase[] }>('gpt');

describe('GPT against PyTorch (scripts/make-gpt-fixtures.py)', () => {
  for (const backend of ['ref', 'wasm'] as const) {
    for (const c of fixture.cases) {
      test(`${c.name}: logits, loss and every parameter's gradient (${backend})`, () => {
        setBackend(backend);
        const before = memory().tensors;
        const m = createGptModel(c.config).build(0);
        // The same parameters, each once: a shared sub-block and the tied table appear once in both.
        assert.deepEqual(m.namedParameters().map((p) => p.name).sort(), Object.keys(c.weights).sort());
        m.setWeights(Object.fromEntries(Object.entries(c.weights).map(([k, v]) => [k, Float32Array.from(v.data)])));
        tidy(() => {
          const ids = fromFixture(c.ids, 'int32');
          const labels = fromFixture(c.labels, 'int32');
          const named = m.namedParameters();
          const loss = getLoss('sparse_categorical_crossentropy', { fromLogits: true });
          const r = valueAndGrads(() => {
            const y = m.call(ids, { training: false, seed: 0, logits: true });
            // float32 through 2 blocks, against float64.
            assertMatches('logits', y, c.logits, 1e-4, 1e-5);
            return loss.compute(y, labels);
          }, named.map((p) => p.param.value));
          assert.ok(Math.abs(r.value.item() - c.loss) < 1e-5 * c.loss, `loss ${r.value.item()} vs PyTorch ${c.loss}`);
          named.forEach((p, k) => assertMatches(`d ${p.name}`, r.grads[k], c.grads[p.name], 1e-3, 1e-5));
        });
        m.dispose();
        assert.equal(memory().tensors, before, 'tensors leaked');
      });
    }
  }
});

/** Parameters of one attention sub-block (LN, four projections with biases) and of one feed-forward sub-block. */
const attn = (d: number): number => 2 * d + 4 * (d * d + d);
const ffn = (d: number, f: number): number => 2 * d + d * f + f + f * d + d;

describe('GPT sizes and sharing across depth', () => {
  const V = 13, T = 6, D = 8, F = 20, N = 3;
  const base: GptModelOptions = { vocab: V, context: T, dim: D, heads: 2, layers: N, ffDim: F };
  const outside = V * D + T * D + 2 * D + D * V + V; // table, positions, final norm, decoder

  test('parameter counts: none N blocks, attention / ffn one shared sub-block, all one block; E factorised; tied', () => {
    const count = (o: Partial<GptModelOptions>): number => {
      const m = createGptModel({ ...base, ...o }).build(1);
      const n = m.countParams();
      m.dispose();
      return n;
    };
    assert.equal(count({}), outside + N * (attn(D) + ffn(D, F)));
    assert.equal(count({ shareLayers: 'attention' }), outside + attn(D) + N * ffn(D, F));
    assert.equal(count({ shareLayers: 'ffn' }), outside + N * attn(D) + ffn(D, F));
    assert.equal(count({ shareLayers: 'all' }), outside + attn(D) + ffn(D, F));
    assert.equal(count({ shareLayers: 'all', tied: true }), outside - D * V + attn(D) + ffn(D, F));
    const E = 3;
    // Table [V, E], Dense E → D and D → E without bias, decoder [E, V] + V.
    assert.equal(count({ shareLayers: 'all', factorizedEmbedding: E }), V * E + E * D + T * D + attn(D) + ffn(D, F) + 2 * D + D * E + E * V + V);
    assert.equal(count({ shareLayers: 'all', factorizedEmbedding: E, tied: true, position: 'sine' }), V * E + E * D + attn(D) + ffn(D, F) + 2 * D + D * E + V);
    assert.equal(count({ ffDim: undefined }), outside + N * (attn(D) + ffn(D, 4 * D)), 'ffDim defaults to 4·dim');
  });

  test('the names sharing and the CLI find: blocks by depth, sub-blocks and their layers by path', () => {
    const m = createGptModel({ ...base, shareLayers: 'ffn', factorizedEmbedding: 4, tied: true }).build(1);
    assert.deepEqual(m.layers.map((l) => l.name), [
      'embedding', 'embedding_projection', 'position_embedding', 'embedding_sum', 'self_attention', 'feed_forward', 'self_attention_1', 'self_attention_2',
      'final_norm', 'output_projection', 'decoder',
    ]);
    const paths = m.weights().map((w) => w.path);
    for (const p of ['self_attention_2/attention/query/kernel', 'self_attention_1/norm/gamma', 'feed_forward/intermediate/kernel', 'feed_forward/output/bias', 'decoder/kernel']) {
      assert.ok(paths.includes(p), `${p} in ${paths.join(', ')}`);
    }
    assert.ok(m.getLayer('decoder').weight('kernel') instanceof TiedMap);
    m.dispose();
  });

  for (const share of ['all', 'attention', 'ffn'] as const) {
    test(`shareLayers '${share}': the shared θ's gradient is the sum of the gradients of N untied copies (finite differences too)`, () => {
      setBackend('wasm');
      const shared = createGptModel({ ...base, shareLayers: share }).build(2);
      const untied = createGptModel({ ...base, shareLayers: 'none' }).build(3);
      // Every depth of the untied model gets the shared weights: the two compute the same function.
      const sw = shared.getWeights();
      // The shared model's weight that an untied weight copies: block_i/<sub>/… → block/<sub>/…, <sub>/… or <sub>_i/….
      const sharedAt = (path: string): string => {
        const m = /^block(?:_(\d+))?\/(self_attention|feed_forward)\/(.*)$/.exec(path);
        if (!m) return path;
        const [i, sub, rest] = [Number(m[1] ?? 0), m[2], m[3]];
        if (share === 'all') return `block/${sub}/${rest}`;
        const one = (share === 'attention') === (sub === 'self_attention');
        return `${one || i === 0 ? sub : `${sub}_${i}`}/${rest}`;
      };
      untied.setWeights(Object.fromEntries([...untied.getWeights().keys()].map((k) => [k, sw.get(sharedAt(k))!])));
      const ids = new Rng(4).ints(2 * T, 0, V - 1), labels = new Rng(5).ints(2 * T, 0, V - 1);
      const lossOf = (m: Model): Tensor => getLoss('sparse_categorical_crossentropy', { fromLogits: true })
        .compute(m.call(tensor(ids, [2, T], 'int32'), { training: false, seed: 0, logits: true }), tensor(labels, [2, T], 'int32'));
      const grads = (m: Model): Map<string, Float32Array> => {
        const out = new Map<string, Float32Array>();
        tidy(() => {
          const named = m.namedParameters();
          const r = valueAndGrads(() => lossOf(m), named.map((p) => p.param.value));
          named.forEach((p, k) => out.set(p.name, r.grads[k].f32()));
        });
        return out;
      };
      const gs = grads(shared), gu = grads(untied);
      for (const [name, g] of gs) {
        const parts = [...gu.keys()].filter((k) => sharedAt(k) === name);
        const want = g.map((_, j) => parts.reduce((s, k) => s + gu.get(k)![j], 0));
        const worst = g.reduce((s, v, j) => Math.max(s, Math.abs(v - want[j]) / (1e-4 + Math.abs(want[j]))), 0);
        assert.ok(worst < 1e-3, `${share}: d ${name} vs the sum over ${parts.join(' + ')}: relative error ${worst}`);
        const depths = share === 'all' ? name.startsWith('block/') : name.startsWith(share === 'attention' ? 'self_attention/' : 'feed_forward/');
        assert.equal(parts.length, depths ? N : 1, `${name} stands for ${parts.join(', ')}`);
      }
      // Finite differences on a few coordinates of a shared kernel.
      const name = share === 'attention' ? 'self_attention/attention/value/kernel' : share === 'ffn' ? 'feed_forward/output/kernel' : 'block/feed_forward/intermediate/kernel';
      const p = shared.namedParameters().find((q) => q.name === name)!.param.value;
      const base0 = p.f32();
      const lossAt = (): number => tidy(() => lossOf(shared).item());
      for (const i of [0, 7, base0.length - 1]) {
        const h = 1e-2;
        const at = (v: number): number => {
          const d = base0.slice();
          d[i] = v;
          p.backend.write(p.buf, d);
          return lossAt();
        };
        const numeric = (at(base0[i] + h) - at(base0[i] - h)) / (2 * h);
        p.backend.write(p.buf, base0);
        const a = gs.get(name)![i];
        assert.ok(Math.abs(a - numeric) <= 2e-3 + 2e-2 * Math.abs(numeric), `${name}[${i}]: analytic ${a} vs numeric ${numeric}`);
      }
      shared.dispose();
      untied.dispose();
    });
  }
});

/** `m` saved to model-file bytes and loaded back, checked to have as many parameters and to predict the same bits on `x`. */
function reloaded(m: Model, x: { data: Int32Array; shape: number[] }): Model {
  const { model: back } = modelFromCheckpoint(decodeCheckpoint(encodeCheckpoint(modelToCheckpoint(m))));
  assert.equal(back.countParams(), m.countParams());
  const [a, b] = [m.predict(x), back.predict(x)];
  assert.equal(compareBits(b.f32(), a.f32()).message, undefined, 'the reloaded model predicts the same bits');
  a.dispose();
  b.dispose();
  return back;
}

describe('GPT with other maps, saved and trained', () => {
  test('a hashed feed-forward kernel, a low-rank query kernel and a codebook table through maps: counted, trained, saved and reloaded', async () => {
    setBackend('wasm');
    const o: GptModelOptions = {
      vocab: 11, context: 5, dim: 8, heads: 2, layers: 2, ffDim: 16, shareLayers: 'attention', dropout: 0.1,
      maps: { 'feed_forward_1/intermediate/kernel': 'hashed:1/4', 'self_attention/attention/query/kernel': 'lowRank:2', 'embedding/embeddings': 'codebook:4' },
    };
    const m = createGptModel(o).build(7);
    const kinds = Object.fromEntries(m.weights().map((w) => [w.path, w.map.kind]));
    assert.equal(kinds['feed_forward_1/intermediate/kernel'], 'hashed');
    assert.equal(kinds['feed_forward/intermediate/kernel'], 'dense');
    assert.equal(kinds['self_attention/attention/query/kernel'], 'lowRank');
    assert.equal(kinds['embedding/embeddings'], 'codebook');
    const plain = createGptModel({ ...o, maps: undefined }).build(7);
    const saved = 8 * 16 - 8 * 16 / 4 + 8 * 8 - 2 * (8 + 8);
    const stats = m.weights().find((w) => w.path === 'embedding/embeddings')!.map.stats();
    assert.equal(m.countParams(), plain.countParams() - saved - (11 * 8 - stats.free));
    plain.dispose();
    const x = { data: new Rng(1).ints(4 * 5, 0, 10), shape: [4, 5] };
    const y = { data: new Rng(2).ints(4 * 5, 0, 10), shape: [4, 5] };
    m.compile({ optimizer: new Adam({ learningRate: 1e-2 }), loss: 'sparse_categorical_crossentropy' });
    const h = await m.fit(x, y, { epochs: 3, batchSize: 4, shuffle: false, seed: 1 });
    assert.ok(h.history.loss[2] < h.history.loss[0], `loss ${h.history.loss.join(' → ')}`);
    const back = reloaded(m, x);
    assert.equal(back.weights().find((w) => w.path === 'feed_forward_1/intermediate/kernel')!.map.kind, 'hashed');
    back.dispose();
    m.dispose();
  });

  test('all shared + factorised + tied + sine: trains with dropout, saves and reloads bit-identically', async () => {
    setBackend('wasm');
    const m = createGptModel({ vocab: 9, context: 4, dim: 8, heads: 4, layers: 3, shareLayers: 'all', factorizedEmbedding: 3, tied: true, position: 'sine', dropout: 0.2 }).build(3);
    const x = { data: new Rng(3).ints(6 * 4, 0, 8), shape: [6, 4] };
    m.compile({ optimizer: new Adam({ learningRate: 1e-2 }), loss: 'sparse_categorical_crossentropy' });
    const h = await m.fit(x, x, { epochs: 4, batchSize: 6, seed: 2 });
    assert.ok(h.history.loss[3] < h.history.loss[0], `loss ${h.history.loss.join(' → ')}`);
    const back = reloaded(m, x);
    assert.ok(back.getLayer('decoder').weight('kernel') instanceof TiedMap);
    back.dispose();
    m.dispose();
  });
});

describe('GPT is causal', () => {
  test('the scores at step t do not depend on the tokens after t; generateTokens drives the model', () => {
    setBackend('wasm');
    const m = createGptModel({ vocab: 12, context: 6, dim: 8, heads: 2, layers: 2, shareLayers: 'all' }).build(5);
    const a = Int32Array.from([3, 1, 4, 1, 5, 9]);
    const b = Int32Array.from([3, 1, 4, 2, 6, 5]);
    const [ya, yb] = [m.predict({ data: a, shape: [1, 6] }), m.predict({ data: b, shape: [1, 6] })];
    const [va, vb] = [ya.f32(), yb.f32()];
    assert.equal(compareBits(vb.subarray(0, 3 * 12), va.subarray(0, 3 * 12)).message, undefined, 'steps 0–2 see the same prefix');
    assert.ok(vb.subarray(3 * 12).some((v, i) => v !== va[3 * 12 + i]), 'step 3 on sees the changed tokens');
    ya.dispose();
    yb.dispose();
    const out = generateTokens(m, [3, 1], { length: 8, seed: 1 });
    assert.equal(out.length, 8);
    assert.ok(out.every((t) => t >= 0 && t < 12));
    m.dispose();
  });
});

describe('GPT bad options', () => {
  const ok: GptModelOptions = { vocab: 10, context: 8, dim: 16, heads: 4, layers: 2 };
  const cases: [Partial<GptModelOptions> & Record<string, unknown>, string][] = [
    [{ heads: 3 }, "model 'gpt': heads 3 must divide dim 16 (each head gets dim / heads features)"],
    [{ context: 9, positions: 8 }, "model 'gpt': context 9 is longer than the position table (positions 8)"],
    [{ shareLayers: 'both' as never }, "model 'gpt': shareLayers must be one of none, attention, ffn, all, got \"both\""],
    [{ factorizedEmbedding: 0 }, "model 'gpt': factorizedEmbedding must be a positive integer, got 0"],
    [{ factorizedEmbedding: 2.5 }, "model 'gpt': factorizedEmbedding must be a positive integer, got 2.5"],
    [{ factorizedEmbedding: 16 }, "model 'gpt': factorizedEmbedding 16 must be smaller than dim 16 (at E ≥ dim the table [V, E] and its projections E ↔ dim only add parameters; leave it out for a table [V, dim])"],
    [{ position: 'rope' as never }, "model 'gpt': position must be 'learned' or 'sine', got \"rope\""],
    [{ dropout: 1 }, "model 'gpt': dropout must be in [0, 1), got 1"],
    [{ layers: 0 }, "model 'gpt': layers must be an integer in [1, 1000], got 0"],
    // A mistyped depth fails at once: 1e9 blocks used to fill the JavaScript heap for minutes and abort the process.
    [{ layers: 1e9, shareLayers: 'all' }, "model 'gpt': layers must be an integer in [1, 1000], got 1000000000"],
    [{ maps: [] as never }, "model 'gpt': maps must be an object of map specs by 'layer/weight', got an array"],
    [{ vocab: 1 }, "model 'gpt': vocab must be an integer ≥ 2, got 1"],
    [{ tied: true, maps: { 'decoder/kernel': 'hashed:1/2' } }, "model 'gpt': maps['decoder/kernel'] and tied both say how the decoder's kernel is shared; give one"],
    [{ maps: { 'blok/feed_forward/output/kernel': 'hashed:1/2' } }, "model 'gpt': maps name 'blok/feed_forward/output/kernel', but its layers with weights are embedding, position_embedding, block, block_1, final_norm, decoder (give 'layer/…/weight')"],
  ];
  for (const [o, msg] of cases) {
    test(msg, () => assert.throws(() => createGptModel({ ...ok, ...o }), (e: Error) => e instanceof RangeError && e.message === msg));
  }
  test('a map naming no weight inside a block fails at build, naming the sublayers', () => {
    const m = createGptModel({ ...ok, maps: { 'block/feed_forward/intermediat/kernel': 'hashed:1/2' } });
    assert.throws(() => m.build(0), /layer 'feed_forward': maps name 'intermediat\/kernel', but its weights are none; sublayers: norm, intermediate, output, residual/);
  });
});
