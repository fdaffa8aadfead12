// PositionEmbedding and SinePositionEncoding: keras_hub's values and semantics, the table's gradient, and the errors.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { memory, setBackend, tidy } from '../../src/core/engine.js';
import { mul, sum, tensor } from '../../src/core/ops/index.js';
import { valueAndGrads } from '../../src/core/tape.js';
import { input, layers, model, PositionEmbedding, SinePositionEncoding } from '../../src/nn/index.js';
import { Rng } from '../helpers/random.js';

describe('PositionEmbedding', () => {
  for (const backend of ['ref', 'wasm'] as const) {
    test(`T < L: the table's first T rows broadcast over the batch; their gradient sums over the batch, the other rows get none (${backend})`, () => {
      setBackend(backend);
      const before = memory().tensors;
      const [L, T, D, N] = [6, 4, 3, 2];
      const layer = new PositionEmbedding({ sequenceLength: L, name: 'pos' });
      layer.build([T, D], 1);
      const table = layer.parameters()[0].value;
      const t = table.f32();
      tidy(() => {
        const x = tensor(new Rng(2).uniforms(N * T * D, -1, 1), [N, T, D]);
        const y = layer.call(x, { training: false, seed: 0 });
        assert.deepEqual(y.shape, [N, T, D]);
        const yv = y.f32();
        for (let n = 0; n < N; n++) for (let i = 0; i < T * D; i++) assert.equal(yv[n * T * D + i], t[i], `sample ${n}, element ${i}`);
        const dyv = new Rng(3).uniforms(N * T * D, -1, 1);
        const { grads } = valueAndGrads(() => sum(mul(layer.call(x, { training: true, seed: 0 }), tensor(dyv, [N, T, D]))), [table]);
        const g = grads[0].f32();
        assert.deepEqual(grads[0].shape, [L, D]);
        for (let i = 0; i < L * D; i++) {
          const want = i < T * D ? Math.fround(dyv[i] + dyv[T * D + i]) : 0;
          assert.ok(Math.abs(g[i] - want) <= 1e-6, `d table [${Math.floor(i / D)}, ${i % D}]: ${g[i]} vs ${want}`);
        }
      });
      layer.dispose();
      assert.equal(memory().tensors, before, 'tensors leaked');
    });
  }

  test("keras_hub defaults: glorot-uniform table [L, D] within ±sqrt(6/(L+D)); the weight is 'embeddings', role embedding", () => {
    setBackend('wasm');
    const x = input({ shape: [64, 32] });
    const m = model({ inputs: x, outputs: layers.positionEmbedding({ sequenceLength: 128 }).apply(x) }).build(3);
    const w = m.weights();
    assert.deepEqual(w.map((v) => [v.layer.name, v.name, v.role]), [['position_embedding', 'embeddings', 'embedding']]);
    const t = m.getWeights().get('position_embedding/embeddings')!;
    assert.equal(t.length, 128 * 32);
    const limit = Math.sqrt(6 / (128 + 32));
    for (const v of t) assert.ok(Math.abs(v) <= limit, `${v} outside ±${limit}`);
    // 4,096 draws of U(−a, a): the sample variance is a²/3 with relative sd ≈ 1.8 %; allow 8 %.
    const variance = t.reduce((s, v) => s + v * v, 0) / t.length;
    assert.ok(Math.abs(variance / (limit * limit / 3) - 1) < 0.08, `variance ${variance}`);
    m.dispose();
  });

  test('more steps than sequenceLength, or inputs without a step axis, are one-line errors naming both', () => {
    const x = input({ shape: [9, 4] });
    assert.throws(() => layers.positionEmbedding({ sequenceLength: 8, name: 'pos' }).apply(x),
      /^ShapeError: layer 'pos' \(PositionEmbedding\): inputs \(None, 9, 4\) have 9 steps, more than its sequenceLength 8 \(node 0 of layer 'pos', inputs from input\)$/);
    assert.throws(() => layers.positionEmbedding({ sequenceLength: 8 }).apply(input({ shape: [4] })), /needs inputs \[N, \.\.\., T, D\] \(steps, features\), got \(None, 4\)/);
    assert.throws(() => layers.positionEmbedding({ sequenceLength: 0, name: 'pos' }), /^RangeError: layer 'pos': sequenceLength must be an integer ≥ 1, got 0$/);
    assert.throws(() => layers.positionEmbedding({ sequenceLength: 4, initializer: 'nope' }), /unknown initializer 'nope'/);
  });

  test('on [N, S, T, D] inputs the table broadcasts over the batch and S', () => {
    setBackend('wasm');
    const layer = new PositionEmbedding({ sequenceLength: 3 });
    layer.build([2, 3, 2], 4);
    const t = layer.parameters()[0].value.f32();
    tidy(() => {
      const y = layer.call(tensor(new Float32Array(2 * 2 * 3 * 2), [2, 2, 3, 2]), { training: false, seed: 0 }).f32();
      for (let k = 0; k < 4; k++) assert.deepEqual([...y.subarray(k * 6, k * 6 + 6)], [...t]);
    });
    layer.dispose();
  });
});

describe('SinePositionEncoding', () => {
  test("keras_hub's formula: sin(t·10000^(−2⌊i/2⌋/D)) at even i, cos at odd i, the same for every sample", () => {
    for (const backend of ['ref', 'wasm'] as const) {
      setBackend(backend);
      const enc = new SinePositionEncoding();
      tidy(() => {
        const y = enc.call(tensor(new Float32Array(2 * 3 * 4), [2, 3, 4]), { training: false, seed: 0 });
        assert.deepEqual(y.shape, [2, 3, 4]);
        // D = 4: timescales 1, 1, 1/100, 1/100.
        const want = [
          0, 1, 0, 1,
          Math.sin(1), Math.cos(1), Math.sin(0.01), Math.cos(0.01),
          Math.sin(2), Math.cos(2), Math.sin(0.02), Math.cos(0.02),
        ];
        const v = y.f32();
        for (let n = 0; n < 2; n++) want.forEach((w, i) => assert.equal(v[n * 12 + i], Math.fround(w), `${backend}: sample ${n}, [${Math.floor(i / 4)}, ${i % 4}]`));
      });
    }
  });

  test('maxWavelength sets the slowest frequency; odd D; any T (no weights, no limit)', () => {
    setBackend('wasm');
    const enc = new SinePositionEncoding({ maxWavelength: 100 });
    tidy(() => {
      const v = enc.call(tensor(new Float32Array(500 * 3), [1, 500, 3]), { training: false, seed: 0 }).f32();
      // D = 3: timescales 1, 1, 100^(−2/3).
      const t = 499;
      assert.equal(v[t * 3], Math.fround(Math.sin(t)));
      assert.equal(v[t * 3 + 1], Math.fround(Math.cos(t)));
      assert.equal(v[t * 3 + 2], Math.fround(Math.sin(t * Math.pow(100, -2 / 3))));
    });
    assert.equal(enc.countParams(), 0);
    assert.deepEqual(enc.toJSON(), { className: 'SinePositionEncoding', config: { name: '', maxWavelength: 100 } });
    assert.throws(() => new SinePositionEncoding({ maxWavelength: 0, name: 'sine' }), /^RangeError: layer 'sine': maxWavelength must be a positive number, got 0$/);
  });
});
