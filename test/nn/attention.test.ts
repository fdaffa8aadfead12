// MultiHeadAttention: outputs and gradients against PyTorch (Keras' computation in einsum), masks, sharing maps, Keras initialisation, errors.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { memory, setBackend, tidy } from '../../src/core/engine.js';
import { mul, slice, sum, tensor } from '../../src/core/ops/index.js';
import { valueAndGrads } from '../../src/core/tape.js';
import type { Tensor } from '../../src/core/tensor.js';
import { decodeCheckpoint, encodeCheckpoint, modelFromCheckpoint, modelToCheckpoint } from '../../src/io/index.js';
import { Dense, Embedding, input, layers, type Model, model, MultiHeadAttention } from '../../src/nn/index.js';
import { assertMatches, type FixtureTensor, fromFixture, loadFixture } from '../helpers/fixtures.js';
import { checkGradients } from '../helpers/gradcheck.js';
import { compareBits } from '../helpers/compare.js';
import { Rng } from '../helpers/random.js';

interface AttentionCase {
  name: string;
  numHeads: number;
  keyDim: number;
  valueDim: number;
  outputShape: number | null;
  useCausalMask: boolean;
  inputs: FixtureTensor[];
  masks: (FixtureTensor | null)[];
  weights: Record<string, FixtureTensor>;
  dy: FixtureTensor;
  y: FixtureTensor;
  dInputs: FixtureTensor[];
  dWeights: Record<string, FixtureTensor>;
}

const fixture = loadFixture<{ maskedScore: number; cases: AttentionCase[] }>('attention');

/** Writes the fixture's weights into a built layer's dense maps, by Keras path. */
function setWeights(layer: MultiHeadAttention, w: Record<string, FixtureTensor>): void {
  const named = layer.weights();
  assert.deepEqual(named.map((x) => x.path).sort(), Object.keys(w).sort(), 'weight paths');
  for (const x of named) {
    assert.deepEqual(x.map.shape, w[x.path].shape, `${x.path}: shape`);
    const p = x.map.parameters()[0].value;
    p.backend.write(p.buf, Float32Array.from(w[x.path].data));
  }
}

/** Saves and reloads `m` through the model file; the copy must give the same bits on `x`. Returns the copy (to dispose). */
function reloaded(m: Model, x: Tensor, initSeed: number): Model {
  const back = modelFromCheckpoint(decodeCheckpoint(encodeCheckpoint(modelToCheckpoint(m, { initSeed })))).model;
  tidy(() => assert.equal(compareBits(back.call(x).f32(), m.call(x).f32()).message, undefined, 'outputs after save and load'));
  return back;
}

function f32(shape: number[], seed: number, lo = -1, hi = 1): Tensor {
  return tensor(new Rng(seed).uniforms(shape.reduce((a, b) => a * b, 1), lo, hi), shape);
}

for (const backend of ['ref', 'wasm'] as const) {
  describe(`MultiHeadAttention against PyTorch (${backend})`, () => {
    for (const c of fixture.cases) {
      test(c.name, () => {
        setBackend(backend);
        const before = memory().tensors;
        const layer = new MultiHeadAttention({ numHeads: c.numHeads, keyDim: c.keyDim, valueDim: c.valueDim, outputShape: c.outputShape, useCausalMask: c.useCausalMask, name: 'mha' });
        layer.build(c.inputs.map((t) => t.shape.slice(1)), 0);
        setWeights(layer, c.weights);
        tidy(() => {
          const xs = c.inputs.map((t) => fromFixture(t));
          const masks = c.masks.map((m) => (m ? fromFixture(m) : undefined));
          const ctx = { training: false, seed: 0, ...(masks.some((m) => m) ? { masks } : {}) };
          const paths = layer.weights().map((x) => x.path);
          const params = layer.weights().map((x) => x.map.parameters()[0].value);
          const r = valueAndGrads(() => {
            const y = layer.callAll(xs, ctx)[0];
            assertMatches(`${c.name}: y`, y, c.y, 1e-5, 1e-6);
            return sum(mul(y, fromFixture(c.dy)));
          }, [...xs, ...params]);
          // Sums over steps and heads: relative 1e-5 of the larger entries, absolute 1e-5 where terms cancel.
          xs.forEach((_, i) => assertMatches(`${c.name}: d input ${i}`, r.grads[i], c.dInputs[i], 1e-5, 1e-5));
          paths.forEach((p, i) => assertMatches(`${c.name}: d ${p}`, r.grads[xs.length + i], c.dWeights[p], 1e-5, 1e-5));
          const masked = c.masks[0];
          if (masked && masked.data.includes(0)) {
            // A padded query step attends to nothing: its output is the output bias, and the output keeps the query's mask.
            const y = layer.callAll(xs, ctx)[0].f32();
            const bias = c.weights['attention_output/bias'].data;
            const t = c.inputs[0].shape[1];
            masked.data.forEach((m, i) => {
              if (m === 0) bias.forEach((b, k) => assert.ok(Math.abs(y[i * bias.length + k] - b) < 1e-6, `${c.name}: padded step ${i % t} of sample ${Math.floor(i / t)}`));
            });
            assert.equal(layer.computeMask(xs, masks)?.[0], masks[0]);
          }
        });
        layer.dispose();
        assert.equal(memory().tensors, before, 'tensors leaked');
      });
    }
  });
}

describe('MultiHeadAttention behaviour', () => {
  test('causal: the output at step i does not depend on later steps (zero gradient), and the graph path applies it', () => {
    setBackend('wasm');
    const x = input({ shape: [6, 8] });
    const m = model({ inputs: x, outputs: layers.multiHeadAttention({ numHeads: 2, keyDim: 4, useCausalMask: true, name: 'attn' }).apply(x) }).build(1);
    tidy(() => {
      const xs = f32([2, 6, 8], 3);
      const { grads } = valueAndGrads(() => sum(slice(m.call(xs), [0, 2, 0], [2, 1, 8])), [xs]);
      const g = grads[0].f32();
      for (let n = 0; n < 2; n++) {
        for (let t = 0; t < 6; t++) {
          const row = g.subarray((n * 6 + t) * 8, (n * 6 + t + 1) * 8);
          if (t > 2) assert.ok(row.every((v) => v === 0), `step ${t} > 2 got gradient ${row}`);
          else assert.ok(row.some((v) => v !== 0), `step ${t} ≤ 2 got no gradient`);
        }
      }
    });
    m.dispose();
  });

  test('Embedding(maskZero) → attention: padded value steps get no weight, the output carries the mask, fit and reload', async () => {
    setBackend('wasm');
    const tagger = (t: number): Model => {
      const ids = input({ shape: [t], dtype: 'int32' });
      const h = new Embedding({ inputDim: 7, outputDim: 6, maskZero: true, name: 'embedding' }).apply(ids);
      const a = layers.multiHeadAttention({ numHeads: 2, keyDim: 3, name: 'attn' }).apply(h);
      return model({ inputs: ids, outputs: new Dense({ units: 7, name: 'dense' }).apply(a) }).build(2);
    };
    const m = tagger(5);
    const short = tagger(3);
    short.setWeights(m.getWeights());
    tidy(() => {
      // The real steps of [3, 1, 4, pad, pad] give what [3, 1, 4] alone gives; the mask leaves the model.
      const r = m.callWithMasks(tensor(Int32Array.from([3, 1, 4, 0, 0]), [1, 5], 'int32'));
      assert.deepEqual([...r.masks![0]!.f32()], [1, 1, 1, 0, 0]);
      const want = short.call(tensor(Int32Array.from([3, 1, 4]), [1, 3], 'int32')).f32();
      const got = r.outputs[0].f32().subarray(0, want.length);
      want.forEach((v, i) => assert.ok(Math.abs(got[i] - v) <= 1e-6 * (1 + Math.abs(v)), `real step output [${i}] ${got[i]} vs unpadded ${v}`));
    });
    short.dispose();
    m.compile({ optimizer: { name: 'adam', learningRate: 0.05 }, loss: 'sparse_categorical_crossentropy', fromLogits: true });
    const x = { data: Int32Array.from([3, 1, 4, 0, 0, 2, 5, 6, 1, 0]), shape: [2, 5] };
    const y = { data: Int32Array.from([4, 2, 5, 0, 0, 3, 6, 0, 2, 0]), shape: [2, 5] };
    const hist = await m.fit(x, y, { epochs: 40, batchSize: 2 });
    assert.ok(hist.history.loss[39] < hist.history.loss[0] * 0.3, `loss ${hist.history.loss[0]} → ${hist.history.loss[39]}`);
    tidy(() => reloaded(m, tensor(x.data, x.shape, 'int32'), 2).dispose());
    m.dispose();
  });
});

describe('MultiHeadAttention in a block reused across depth (ALBERT-style)', () => {
  test('one θ for both uses, dropout masks from the seed, gradients by finite differences, save and load', () => {
    setBackend('wasm');
    const bx = input({ shape: [5, 8] });
    const attn = layers.multiHeadAttention({ numHeads: 2, keyDim: 4, useCausalMask: true, dropout: 0.2, name: 'attn' }).apply(bx);
    const block = layers.block({ inputs: bx, outputs: layers.layerNormalization({ name: 'ln' }).apply(layers.add().apply([bx, attn])), name: 'layer' });
    const x = input({ shape: [5, 8] });
    const m = model({ inputs: x, outputs: block.apply(block.apply(x)) }).build(6);
    assert.equal(m.countParams(), 4 * (8 * 8 + 8) + 2 * 8);
    tidy(() => {
      const xs = f32([2, 5, 8], 7);
      // Training: the masks come from the step's seed (and each use's path), so the same seed gives the same output.
      const twice = m.call(xs, { training: true, seed: 3 }).f32();
      const again = m.call(xs, { training: true, seed: 3 }).f32();
      assert.equal(compareBits(again, twice).message, undefined, 'same seed, same masks');
      checkGradients('block stack (training, fixed masks)', (t) => m.call(t, { training: true, seed: 3 }), [xs], { maxCoords: 24 });
      reloaded(m, xs, 6).dispose();
    });
    m.dispose();
  });
});

describe('MultiHeadAttention weights and sharing', () => {
  test('Keras names and shapes; glorot-uniform kernels with Keras fans of the rank-3 shapes; zero biases', () => {
    setBackend('wasm');
    const x = input({ shape: [10, 64] });
    const m = model({ inputs: x, outputs: layers.multiHeadAttention({ numHeads: 4, keyDim: 16, valueDim: 8, outputShape: 32, name: 'attn' }).apply(x) }).build(1);
    const w = m.getWeights();
    assert.deepEqual([...w.keys()], [
      'attn/query/kernel', 'attn/query/bias', 'attn/key/kernel', 'attn/key/bias', 'attn/value/kernel', 'attn/value/bias',
      'attn/attention_output/kernel', 'attn/attention_output/bias',
    ]);
    assert.deepEqual(m.weights().map((x) => x.map.shape), [[64, 4, 16], [4, 16], [64, 4, 16], [4, 16], [64, 4, 8], [4, 8], [4, 8, 32], [32]]);
    // fanIn = shape[-2]·Π shape[:-2], fanOut = shape[-1]·Π shape[:-2] (keras.initializers compute_fans).
    const check = (name: string, fanIn: number, fanOut: number): void => {
      const k = w.get(name)!;
      const limit = Math.sqrt(6 / (fanIn + fanOut));
      for (const v of k) assert.ok(Math.abs(v) <= limit, `${name}: ${v} outside ±${limit}`);
      const variance = k.reduce((s, v) => s + v * v, 0) / k.length;
      // ≥ 1024 draws: the sample variance of U(−a, a) has relative sd ≤ 3 %; allow 15 %.
      assert.ok(Math.abs(variance / (limit * limit / 3) - 1) < 0.15, `${name}: variance ${variance}, want ${limit * limit / 3}`);
    };
    check('attn/query/kernel', 64 * 4, 64 * 16);
    check('attn/value/kernel', 64 * 4, 64 * 8);
    check('attn/attention_output/kernel', 4 * 8, 4 * 32);
    for (const [name, v] of w) if (name.endsWith('/bias')) assert.ok(v.every((b) => b === 0), `${name} not zero`);
    assert.equal(m.countParams(), 2 * (64 * 64 + 64) + (64 * 32 + 32) + (32 * 32 + 32));
    assert.match(m.summary(), /attn \(MultiHeadAttention\)/);
    m.dispose();
  });

  test('a low-rank kernel factorises the matrix [dim, heads·keyDim]; a codebook kernel holds its clusters; both train and reload', () => {
    setBackend('wasm');
    const x = input({ shape: [5, 12] });
    const attn = layers.multiHeadAttention({ numHeads: 3, keyDim: 4, name: 'attn', maps: { 'query/kernel': 'lowRank:2', 'key/kernel': 'codebook:4' } });
    const m = model({ inputs: x, outputs: attn.apply(x) }).build(4);
    const q = m.weights().find((w) => w.path === 'attn/query/kernel')!;
    assert.equal(q.map.kind, 'lowRank');
    assert.deepEqual(q.map.parameters().map((p) => p.value.shape), [[12, 2], [2, 12]]);
    assert.deepEqual(q.map.shape, [12, 3, 4]);
    const k = m.getWeights().get('attn/key/kernel')!;
    assert.ok(new Set(k).size <= 4, `codebook kernel has ${new Set(k).size} distinct values`);
    // The codebook's free parameters are its 4 centroids (the codes are fixed).
    assert.equal(m.countParams(), 2 * (12 + 12) + 12 + 4 + 12 + (144 + 12) + (144 + 12));
    tidy(() => {
      const xs = f32([2, 5, 12], 8);
      const params = m.namedParameters();
      const { grads } = valueAndGrads(() => sum(mul(m.call(xs), f32([2, 5, 12], 9))), params.map((p) => p.param.value));
      grads.forEach((g, i) => assert.ok(g.f32().some((v) => v !== 0), `${params[i].name}: zero gradient`));
      const back = reloaded(m, xs, 4);
      assert.equal(back.weights().find((w) => w.path === 'attn/query/kernel')!.map.kind, 'lowRank');
      back.dispose();
    });
    m.dispose();
  });
});

describe('MultiHeadAttention dropout and errors', () => {
  test('dropout acts in training only, the same seed gives the same output', () => {
    setBackend('wasm');
    const l = new MultiHeadAttention({ numHeads: 2, keyDim: 4, dropout: 0.5, name: 'attn' });
    const plain = new MultiHeadAttention({ numHeads: 2, keyDim: 4, name: 'attn' });
    l.build([6, 8], 3);
    plain.build([6, 8], 3);
    tidy(() => {
      const xs = f32([2, 6, 8], 5);
      const infer = l.call(xs, { training: false, seed: 1 }).f32();
      assert.equal(compareBits(infer, plain.call(xs, { training: false, seed: 1 }).f32()).message, undefined, 'inference ignores dropout');
      const a = l.call(xs, { training: true, seed: 1 }).f32();
      const b = l.call(xs, { training: true, seed: 1 }).f32();
      const c = l.call(xs, { training: true, seed: 2 }).f32();
      assert.equal(compareBits(b, a).message, undefined, 'same seed');
      assert.ok(a.some((v, i) => v !== infer[i]) && c.some((v, i) => v !== a[i]), 'training draws a mask per seed');
    });
    l.dispose();
    plain.dispose();
  });

  test('bad options and shapes: one-line errors naming the layer, the option or input and the value or shape', () => {
    setBackend('wasm');
    assert.throws(() => new MultiHeadAttention({ numHeads: 0, keyDim: 4, name: 'attn' }), /layer 'attn': numHeads must be an integer ≥ 1, got 0/);
    assert.throws(() => new MultiHeadAttention({ numHeads: 2, keyDim: 2.5, name: 'attn' }), /layer 'attn': keyDim must be an integer ≥ 1, got 2.5/);
    assert.throws(() => new MultiHeadAttention({ numHeads: 2, keyDim: 4, valueDim: -1 }), /layer 'multi_head_attention': valueDim must be an integer ≥ 1, got -1/);
    assert.throws(() => new MultiHeadAttention({ numHeads: 2, keyDim: 4, dropout: 1 }), /dropout must be in \[0, 1\), got 1/);
    assert.throws(() => new MultiHeadAttention({ numHeads: 2, keyDim: 4, outputShape: [3, 4] }), /outputShape must be a positive integer or a list of one, got \[3,4\]/);
    const attn = (): MultiHeadAttention => new MultiHeadAttention({ numHeads: 2, keyDim: 4, name: 'attn' });
    assert.throws(() => attn().apply(input({ shape: [8] })), /layer 'attn' \(MultiHeadAttention\): needs query inputs of rank 3 \[batch, time, features\], got query \(None, 8\)/);
    assert.throws(() => attn().apply([input({ shape: [3, 8] }), input({ shape: [5, 8] }), input({ shape: [4, 8] })]),
      /value and key need the same number of time steps, got value \(None, 5, 8\) and key \(None, 4, 8\)/);
    assert.throws(() => attn().apply([input({ shape: [3, 8] }), input({ shape: [5, 8] }), input({ shape: [5, 8] }), input({ shape: [5, 8] })]), /takes one input \(self-attention\) or \[query, value\] or \[query, value, key\], got 4 inputs/);
    const l = attn();
    l.build([[3, 8], [5, 6]], 0);
    tidy(() => {
      assert.throws(() => l.callAll([f32([2, 3, 8], 1), f32([2, 5, 7], 2)], { training: false, seed: 0 }), /layer 'attn' \(MultiHeadAttention\): needs value \[batch, time, 6\], got value \[2, 5, 7\]/);
      assert.throws(() => l.callAll([f32([2, 3, 8], 1), f32([1, 5, 6], 2)], { training: false, seed: 0 }), /one batch size.*query \[2, 3, 8\], value \[1, 5, 6\]/);
    });
    l.dispose();
  });
});
