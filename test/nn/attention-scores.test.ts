// MultiHeadAttention with returnAttentionScores: the scores against a float64 softmax of the layer's own projections
// (fused, packed and masked paths, both backends), the output unchanged, gradients through the scores, files and ONNX.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import ort from '../helpers/ort.js';
import { setBackend, tidy } from '../../src/core/engine.js';
import { add, mul, sum, tensor } from '../../src/core/ops/index.js';
import type { Tensor } from '../../src/core/tensor.js';
import { decodeCheckpoint, encodeCheckpoint, modelFromCheckpoint, modelToCheckpoint } from '../../src/io/index.js';
import { exportOnnx, importOnnx } from '../../src/io/onnx/index.js';
import { input, layers, type Model, model, MultiHeadAttention } from '../../src/nn/index.js';
import { checkGradients } from '../helpers/gradcheck.js';
import { compareBits } from '../helpers/compare.js';
import { Rng } from '../helpers/random.js';

const N = 2, TQ = 5, TV = 4, D = 6, H = 2, DK = 3;

/** Query (and, for cross-attention, value) inputs → [output, scores]; `mask` feeds ids through an Embedding with maskZero. */
function scoresModel(o: { cross: boolean; causal: boolean; valueDim?: number; mask?: boolean }, seed: number): { m: Model; mha: MultiHeadAttention } {
  const mha = new MultiHeadAttention({ numHeads: H, keyDim: DK, valueDim: o.valueDim, useCausalMask: o.causal, returnAttentionScores: true, name: 'mha' });
  if (o.mask) {
    const ids = input({ shape: [TQ], dtype: 'int32' });
    const e = layers.embedding({ inputDim: 7, outputDim: D, maskZero: true }).apply(ids);
    return { m: model({ inputs: ids, outputs: mha.applyAll(e) }).build(seed), mha };
  }
  const q = input({ shape: [TQ, D], name: 'query' });
  if (!o.cross) return { m: model({ inputs: q, outputs: mha.applyAll(q) }).build(seed), mha };
  const v = input({ shape: [TV, D], name: 'value' });
  return { m: model({ inputs: [q, v], outputs: mha.applyAll([q, v]) }).build(seed), mha };
}

/** softmax(scale·Q·Kᵀ) per head in float64 from the layer's weights: [N, H, Tq, Tv], 0 where masked. */
function referenceScores(m: Model, q: Float64Array, v: Float64Array, tq: number, tv: number, causal: boolean, live?: (n: number, i: number, j: number) => boolean): Float64Array {
  const w = m.getWeights();
  const proj = (x: Float64Array, t: number, sub: string): Float64Array => {
    const k = w.get(`mha/${sub}/kernel`)!, b = w.get(`mha/${sub}/bias`)!; // [D, H, DK], [H, DK]
    const out = new Float64Array(N * t * H * DK);
    for (let n = 0; n < N; n++) for (let i = 0; i < t; i++) for (let c = 0; c < H * DK; c++) {
      let s = b[c];
      for (let f = 0; f < D; f++) s += x[(n * t + i) * D + f] * k[f * H * DK + c];
      out[(n * t + i) * H * DK + c] = s;
    }
    return out;
  };
  const Q = proj(q, tq, 'query'), K = proj(v, tv, 'key');
  const p = new Float64Array(N * H * tq * tv);
  for (let n = 0; n < N; n++) for (let h = 0; h < H; h++) for (let i = 0; i < tq; i++) {
    const ok = (j: number): boolean => (!causal || j <= i) && (!live || live(n, i, j));
    const s = Array.from({ length: tv }, (_, j) => {
      let d = 0;
      for (let c = 0; c < DK; c++) d += Q[((n * tq + i) * H + h) * DK + c] * K[((n * tv + j) * H + h) * DK + c];
      return d / Math.sqrt(DK);
    });
    const mx = Math.max(...s.filter((_, j) => ok(j)), -Infinity);
    const e = s.map((x, j) => (ok(j) ? Math.exp(x - mx) : 0));
    const z = e.reduce((a, b) => a + b, 0);
    for (let j = 0; j < tv; j++) p[((n * H + h) * tq + i) * tv + j] = z > 0 ? e[j] / z : 0;
  }
  return p;
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

for (const backend of ['wasm', 'ref'] as const) {
  describe(`MultiHeadAttention returnAttentionScores (${backend})`, () => {
    setBackend(backend);
    const rng = new Rng(5);
    const xq = Float32Array.from(rng.uniforms(N * TQ * D, -1, 1)), xv = Float32Array.from(rng.uniforms(N * TV * D, -1, 1));

    for (const o of [{ cross: false, causal: true }, { cross: false, causal: false }, { cross: true, causal: false }, { cross: true, causal: true, valueDim: 2 }]) {
      test(`scores = softmax(Q·Kᵀ/√dk) per head${o.causal ? ', causal' : ''}${o.cross ? ', cross-attention' : ', self-attention'}; the output is the single-output layer's`, () => {
        const { m } = scoresModel(o, 3);
        const xs = o.cross ? [{ data: xq, shape: [N, TQ, D] }, { data: xv, shape: [N, TV, D] }] : [{ data: xq, shape: [N, TQ, D] }];
        const [y, scores] = m.predictAll(o.cross ? xs : xs[0]);
        assert.deepEqual(scores.shape, [N, H, TQ, o.cross ? TV : TQ]);
        const ref = referenceScores(m, Float64Array.from(xq), Float64Array.from(o.cross ? xv : xq), TQ, o.cross ? TV : TQ, o.causal);
        assert.ok(maxDiff(scores.f32(), ref) < 1e-6, `scores differ by ${maxDiff(scores.f32(), ref)}`);
        // The same weights without the option: the same output, to the bit.
        const plain = new MultiHeadAttention({ numHeads: H, keyDim: DK, valueDim: o.valueDim, useCausalMask: o.causal, name: 'mha' });
        const q = input({ shape: [TQ, D], name: 'query' }), v = input({ shape: [TV, D], name: 'value' });
        const single = (o.cross ? model({ inputs: [q, v], outputs: plain.apply([q, v]) }) : model({ inputs: q, outputs: plain.apply(q) })).build(0);
        single.setWeights(Object.fromEntries(m.getWeights()));
        const y1 = single.predict(o.cross ? xs : xs[0]);
        assert.equal(compareBits(y.f32(), y1.f32()).message, undefined);
        for (const t of [y, scores, y1]) t.dispose();
        m.dispose();
        single.dispose();
      });
    }

    test('with a padding mask: masked columns score 0 and the scores carry no mask', () => {
      const { m } = scoresModel({ cross: false, causal: false, mask: true }, 4);
      const ids = Int32Array.of(3, 1, 4, 0, 0, 5, 2, 6, 1, 0);
      const [, scores] = m.predictAll({ data: ids, shape: [N, TQ] });
      const emb = m.getWeights().get('embedding/embeddings')!;
      const x = Float64Array.from({ length: N * TQ * D }, (_, i) => emb[ids[Math.floor(i / D)] * D + (i % D)]);
      const live = (n: number, i: number, j: number): boolean => ids[n * TQ + i] !== 0 && ids[n * TQ + j] !== 0;
      const ref = referenceScores(m, x, x, TQ, TQ, false, live);
      assert.ok(maxDiff(scores.f32(), ref) < 1e-6, `scores differ by ${maxDiff(scores.f32(), ref)}`);
      scores.dispose();
      m.dispose();
    });

    test('gradients flow through both outputs (finite differences), and apply() asks for applyAll', () => {
      const { m, mha } = scoresModel({ cross: false, causal: true }, 6);
      const r = tensor(Float32Array.from(rng.uniforms(N * H * TQ * TQ, -1, 1)), [N, H, TQ, TQ]);
      const x = tensor(xq, [N, TQ, D]);
      checkGradients('output + scores', (t: Tensor) => {
        const [y, s] = m.callAll(t);
        return add(sum(y), sum(mul(s, r)));
      }, [x], { maxCoords: 20 });
      x.dispose();
      r.dispose();
      assert.throws(() => mha.apply(input({ shape: [TQ, D] })), /makes 2 outputs: use applyAll/);
      m.dispose();
    });

    test('the option round-trips through a model file; false is written as its absence', () => {
      const { m } = scoresModel({ cross: false, causal: true }, 7);
      const back = modelFromCheckpoint(decodeCheckpoint(encodeCheckpoint(modelToCheckpoint(m)))).model;
      const [a, b] = [m.predictAll({ data: xq, shape: [N, TQ, D] }), back.predictAll({ data: xq, shape: [N, TQ, D] })];
      a.forEach((t, i) => assert.equal(compareBits(t.f32(), b[i].f32()).message, undefined, `output ${i}`));
      for (const t of [...a, ...b]) t.dispose();
      const spec = (l: MultiHeadAttention): Record<string, unknown> => l.toJSON().config;
      assert.equal(spec(new MultiHeadAttention({ numHeads: 1, keyDim: 2, returnAttentionScores: false })).returnAttentionScores, undefined);
      assert.equal(spec(new MultiHeadAttention({ numHeads: 1, keyDim: 2, returnAttentionScores: true })).returnAttentionScores, true);
      assert.throws(() => new MultiHeadAttention({ numHeads: 1, keyDim: 2, returnAttentionScores: 'yes' as unknown as boolean }), /returnAttentionScores must be true or false/);
      m.dispose();
      back.dispose();
    });
  });
}

test('ONNX export: both outputs, run by onnxruntime-web, match ours', async () => {
  setBackend('wasm');
  const { m } = scoresModel({ cross: false, causal: true }, 8);
  const x = Float32Array.from(new Rng(9).uniforms(N * TQ * D, -1, 1));
  const ours = m.predictAll({ data: x, shape: [N, TQ, D] });
  const bytes = exportOnnx(m);
  assert.throws(() => importOnnx(bytes, { file: 'scores.onnx' }), /scores\.onnx: unsupported ops: .*an attention that has its weights \(the Softmax\) read besides by the product with the values, e\.g\. returned as attention scores, which import does not read back/);
  const s = await ort.InferenceSession.create(bytes);
  const r = await s.run({ [s.inputNames[0]]: new ort.Tensor('float32', x, [N, TQ, D]) });
  assert.equal(s.outputNames.length, 2);
  s.outputNames.forEach((name, i) => {
    assert.deepEqual([...r[name].dims], ours[i].shape, `output ${i} shape`);
    assert.ok(maxDiff(r[name].data as Float32Array, ours[i].f32()) < 1e-5, `output ${i}`);
  });
  tidy(() => ours.forEach((t) => t.dispose()));
  m.dispose();
});
