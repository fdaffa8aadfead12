// Inference memory: without a recording tape a graph frees each intermediate value after its last reader, so a deep
// model's prediction holds about one layer's activations at a time instead of all of them (a GPT evaluated at batch 256
// and context 256 ran out of the engine's 4 GiB before); values are the same bits as with a tape, and nothing leaks.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { memory, tidy } from '../../src/core/engine.js';
import { sum, tensor } from '../../src/core/ops/index.js';
import { valueAndGrads } from '../../src/core/tape.js';
import type { Tensor } from '../../src/core/tensor.js';
import { type CallContext, createModel, createTextModel, evaluationBatchSize, input, Layer, layers, type Model, model, registerLayer } from '../../src/nn/index.js';
import { compareBits } from '../helpers/compare.js';
import { Rng } from '../helpers/random.js';

/** An identity layer that records the engine's bytes in use while it runs. */
class Probe extends Layer {
  readonly className = 'TestMemoryProbe';
  readonly defaultName = 'probe';
  static seen: number[] = [];
  outputShape(s: number[]): number[] {
    return s;
  }
  call(x: Tensor, _ctx: CallContext): Tensor {
    Probe.seen.push(memory().bytes);
    return x;
  }
  protected config(): Record<string, unknown> {
    return {};
  }
}
registerLayer('TestMemoryProbe', (c) => new Probe(c));

const BATCH = 2048, WIDTH = 64;
const ACT = BATCH * WIDTH * 4;

/** depth × (dense relu, a dropout that hands its input back at inference) with a skip over the whole stack, then a probe. */
function deepModel(depth: number): Model {
  const x = input({ shape: [WIDTH] });
  let h = x;
  for (let i = 0; i < depth; i++) h = layers.dropout({ rate: 0.1 }).apply(layers.dense({ units: WIDTH, activation: 'relu' }).apply(h));
  const y = new Probe({}).apply(layers.add().apply([h, x]));
  return model({ inputs: x, outputs: layers.dense({ units: 3 }).apply(y) }).build(0);
}

const xs = (n: number, seed: number): Tensor => tensor(new Rng(seed).uniforms(n * WIDTH, -1, 1), [n, WIDTH]);

describe('inference memory', () => {
  test('a deep chain holds about one layer of activations at its last layer, not one per layer; with a tape, all of them', () => {
    const m = deepModel(12);
    const x = xs(BATCH, 1);
    const before = memory();
    Probe.seen = [];
    const y = tidy(() => m.call(x, { training: false, seed: 0 }));
    const held = Probe.seen[0] - before.bytes;
    // The probe's input (the sum) and materialised weights at most; 12 dense outputs would be 12 · ACT.
    assert.ok(held <= 2 * ACT, `inference held ${held} bytes at the last layer, more than 2 activations (${2 * ACT})`);
    Probe.seen = [];
    const taped = tidy(() => {
      const r = valueAndGrads(() => sum(m.call(x, { training: false, seed: 0 })), [x]);
      return { held: Probe.seen[0] - before.bytes, value: r.value };
    });
    assert.ok(taped.held >= 12 * ACT, `with a tape every value must live for the backward pass: held ${taped.held}`);
    // Same bits either way.
    const again = tidy(() => sum(m.call(x, { training: false, seed: 0 })));
    compareBits(again.f32(), taped.value.f32());
    for (const t of [y, again, taped.value, x]) t.dispose();
    assert.equal(memory().tensors, before.tensors - 1, 'tensors leaked');
    m.dispose();
  });

  test('predict and evaluate of a GPT with blocks shared across depth (one Block at every depth) give the taped values and leak nothing', () => {
    const m = createTextModel('gpt', { vocab: 20, length: 16, layers: 3, dim: 16, heads: 2, shareLayers: 'all' }).build(3);
    m.compile({ optimizer: 'adam', loss: 'sparse_categorical_crossentropy' });
    const rng = new Rng(5);
    const ids = tensor(Int32Array.from({ length: 4 * 16 }, () => Math.floor(rng.uniform() * 20)), [4, 16], 'int32');
    const before = memory().tensors;
    const p = m.predict(ids, { batchSize: 2 });
    const ref = tidy(() => {
      let out: Tensor | undefined;
      valueAndGrads(() => { out = m.call(ids, { training: false, seed: 0 }); return sum(out); }, []);
      return out!;
    });
    compareBits(p.f32(), ref.f32());
    const logs = m.evaluate(ids, ids, { batchSize: 3 });
    assert.ok(Number.isFinite(logs.loss));
    p.dispose();
    ref.dispose();
    assert.equal(memory().tensors, before, 'tensors leaked');
    ids.dispose();
    m.dispose();
  });

  test('evaluationBatchSize keeps 256 for the image and default text models, and cuts it where one layer would pass 1 GiB', () => {
    const cases: [Model, number][] = [
      [createModel('seed-cnn', { inputShape: [28, 28, 1], classes: 10 }), 256],
      [createTextModel('char-lstm', { vocab: 100, length: 64 }), 256],
      [createTextModel('gpt', { vocab: 100, length: 64 }), 256],
      // Scores over 10,000 words at 256 steps: 10 MB per sample, 4 copies → 26 per GiB.
      [createTextModel('word-lstm', { vocab: 10_000, length: 256, embed: 8, hidden: 8 }), Math.floor(2 ** 30 / (256 * 10_000 * 4 * 4))],
      // Attention scores of 4 heads over 1024² positions: 16 MiB per sample → 64.
      [createTextModel('gpt', { vocab: 100, length: 1024, dim: 16 }), 64],
      // An LSTM of 1024 units over 1024 steps: 11 floats per unit and step → 23.
      [createTextModel('char-lstm', { vocab: 100, length: 1024, hidden: 1024 }), Math.floor(2 ** 30 / (1024 * 11 * 1024 * 4))],
    ];
    for (const [m, want] of cases) {
      m.build(0);
      assert.equal(evaluationBatchSize(m, 256), want, m.name);
      assert.equal(evaluationBatchSize(m, 8), Math.min(8, want), `${m.name}: never more than asked`);
      m.dispose();
    }
  });
});
