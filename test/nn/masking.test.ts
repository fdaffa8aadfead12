// Keras masks: Embedding(maskZero) makes one, layers keep, combine or drop it, the graph hands it to layers in ctx.masks, and a masked output weighs the loss and metrics.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { memory, setBackend, tidy } from '../../src/core/engine.js';
import { tensor } from '../../src/core/ops/index.js';
import type { Shape } from '../../src/core/shape.js';
import type { Tensor } from '../../src/core/tensor.js';
import { decodeCheckpoint, encodeCheckpoint, modelFromCheckpoint, modelToCheckpoint } from '../../src/io/index.js';
import {
  Activation, Add, Block, type CallContext, Concatenate, Dense, Dropout, Embedding, Flatten, input, Layer, LayerNormalization, type Model, model,
  Multiply, type SymbolicTensor,
} from '../../src/nn/index.js';
import { SGD } from '../../src/optim/index.js';

const V = 9;
const E = 4;

/** ids [N, t] → Embedding → Dense logits [N, t, V] per step, compiled with a from-logits sparse cross-entropy and accuracy. */
function tagger(t: number, maskZero: boolean): Model {
  const ids = input({ shape: [t], dtype: 'int32' });
  const h = new Embedding({ inputDim: V, outputDim: E, maskZero, name: 'embedding' }).apply(ids);
  const m = model({ inputs: ids, outputs: new Dense({ units: V, name: 'dense' }).apply(h), name: `tagger_${t}` }).build(3);
  m.compile({ optimizer: new SGD({ learningRate: 0.5 }), loss: 'sparse_categorical_crossentropy', fromLogits: true, metrics: ['accuracy'] });
  return m;
}

/** Sequences of real ids (1…8) and their labels, padded with id 0 (label 4, which would count if the mask were lost) to length t. */
function padded(seqs: number[][], labels: number[][], t: number): { x: { data: Int32Array; shape: number[] }; y: { data: Int32Array; shape: number[] } } {
  const x = new Int32Array(seqs.length * t);
  const y = new Int32Array(seqs.length * t).fill(4);
  seqs.forEach((s, i) => s.forEach((v, j) => { x[i * t + j] = v; y[i * t + j] = labels[i][j]; }));
  return { x: { data: x, shape: [seqs.length, t] }, y: { data: y, shape: [seqs.length, t] } };
}

const SEQS = [[3, 1, 7], [2, 2, 5, 8, 6, 1], [4, 4], [8, 1, 3, 3, 2]];
const LABELS = [[1, 7, 2], [0, 3, 3, 8, 5, 2], [6, 1], [2, 2, 0, 7, 4]];

describe('masked loss and metrics', () => {
  test('Embedding(maskZero) → Dense over padded sequences gives the loss and accuracy of the same data without the padding', () => {
    for (const backend of ['ref', 'wasm'] as const) {
      setBackend(backend);
      const before = memory().tensors;
      const T = 7;
      const m = tagger(T, true);
      const { x, y } = padded(SEQS, LABELS, T);
      // One batch: evaluate averages batch losses by batch size (as Keras), the mask acts within each batch.
      const got = m.evaluate(x, y, { batchSize: 4 });
      // Each sequence alone, unpadded, with the same weights: the mean over all real steps weighs each by its length.
      let loss = 0, acc = 0, steps = 0;
      for (const [i, s] of SEQS.entries()) {
        const one = tagger(s.length, false);
        one.setWeights(m.getWeights());
        const r = one.evaluate({ data: Int32Array.from(s), shape: [1, s.length] }, { data: Int32Array.from(LABELS[i]), shape: [1, s.length] });
        loss += r.loss * s.length;
        acc += r.accuracy * s.length;
        steps += s.length;
        one.dispose();
      }
      assert.ok(Math.abs(got.loss - loss / steps) < 1e-6, `${backend}: masked loss ${got.loss} vs unpadded ${loss / steps}`);
      assert.ok(Math.abs(got.accuracy - acc / steps) < 1e-9, `${backend}: masked accuracy ${got.accuracy} vs unpadded ${acc / steps}`);
      // Without the mask the padding steps count: a different loss.
      const plain = tagger(T, false);
      plain.setWeights(m.getWeights());
      assert.ok(Math.abs(plain.evaluate(x, y, { batchSize: 3 }).loss - got.loss) > 1e-2, `${backend}: the mask changed nothing`);
      // Sample weights combine with the mask (Keras): Σ w·loss over real steps / their number.
      const w = [0.5, 2, 1, 0];
      const weighted = m.evaluate(x, y, { batchSize: 4, sampleWeight: { data: Float32Array.from(w), shape: [4] } });
      let wsum = 0;
      for (const [i, s] of SEQS.entries()) {
        const one = tagger(s.length, false);
        one.setWeights(m.getWeights());
        wsum += w[i] * s.length * one.evaluate({ data: Int32Array.from(s), shape: [1, s.length] }, { data: Int32Array.from(LABELS[i]), shape: [1, s.length] }).loss;
        one.dispose();
      }
      assert.ok(Math.abs(weighted.loss - wsum / steps) < 1e-6, `${backend}: weighted masked loss ${weighted.loss} vs ${wsum / steps}`);
      m.dispose();
      plain.dispose();
      assert.equal(memory().tensors, before, `${backend}: tensors leaked`);
    }
  });

  test('a training step on padded sequences moves the weights as the same step on the unpadded ones', () => {
    setBackend('wasm');
    const seqs = [[3, 1, 7, 2], [2, 5, 8, 6], [4, 4, 1, 1]];
    const labels = [[1, 7, 2, 0], [0, 3, 8, 5], [6, 1, 2, 3]];
    const a = tagger(6, true);
    const b = tagger(4, false);
    b.setWeights(a.getWeights());
    const p = padded(seqs, labels, 6);
    const u = padded(seqs, labels, 4);
    const row0 = a.getWeights().get('embedding/embeddings')!.slice(0, E);
    tidy(() => {
      a.trainOnBatch(tensor(p.x.data, p.x.shape, 'int32'), tensor(p.y.data, p.y.shape, 'int32'));
      b.trainOnBatch(tensor(u.x.data, u.x.shape, 'int32'), tensor(u.y.data, u.y.shape, 'int32'));
    });
    const wb = b.getWeights();
    for (const [name, va] of a.getWeights()) {
      const vb = wb.get(name)!;
      const worst = va.reduce((s, v, i) => Math.max(s, Math.abs(v - vb[i])), 0);
      assert.ok(worst < 1e-6, `${name}: differs by ${worst}`);
    }
    // Row 0 (padding) got no gradient: it is where it started.
    assert.deepEqual(a.getWeights().get('embedding/embeddings')!.slice(0, E), row0);
    a.dispose();
    b.dispose();
  });

  test('the mask survives save/load (maskZero is in the config) and the loaded model evaluates to the same loss', () => {
    setBackend('wasm');
    const m = tagger(7, true);
    const { x, y } = padded(SEQS, LABELS, 7);
    const before = m.evaluate(x, y);
    const { model: back } = modelFromCheckpoint(decodeCheckpoint(encodeCheckpoint(modelToCheckpoint(m, { initSeed: 3 }))));
    assert.equal((back.getLayer('embedding') as Embedding).maskZero, true);
    back.compile({ optimizer: 'sgd', loss: 'sparse_categorical_crossentropy', fromLogits: true, metrics: ['accuracy'] });
    assert.deepEqual(back.evaluate(x, y), before);
    m.dispose();
    back.dispose();
  });
});

/** Records the masks it is called with (ctx.masks) and passes its input and its mask through. */
class MaskProbe extends Layer {
  readonly className = 'MaskProbe';
  readonly defaultName = 'probe';
  seen: (number[] | undefined)[][] = [];
  override get supportsMasking(): boolean {
    return true;
  }
  outputShape(s: Shape): number[] {
    return [...s];
  }
  call(x: Tensor, ctx: CallContext): Tensor {
    this.seen.push((ctx.masks ?? []).map((m) => {
      if (!m) return undefined;
      assert.equal(m.dtype, 'float32');
      assert.deepEqual(m.shape, x.shape.slice(0, -1), 'a mask is the input shape without its feature axis');
      return Array.from(m.f32());
    }));
    return x;
  }
  protected config(): Record<string, unknown> {
    return {};
  }
}

describe('mask propagation in the graph', () => {
  const ids = [[5, 2, 0, 0], [1, 0, 3, 0]];
  const mask = ids.flat().map((v) => (v !== 0 ? 1 : 0));
  const idsOther = [[0, 1, 1, 1], [2, 2, 2, 0]];
  const maskOther = idsOther.flat().map((v) => (v !== 0 ? 1 : 0));

  /** The masks of the model's outputs for the ids (undefined where an output has none). */
  function outputMasks(inputs: SymbolicTensor[], outputs: SymbolicTensor[], data: number[][][]): (number[] | undefined)[] {
    const m = model({ inputs, outputs }).build(1);
    let out: (number[] | undefined)[] = [];
    tidy(() => {
      const r = m.callWithMasks(data.map((d) => tensor(Int32Array.from(d.flat()), [d.length, d[0].length], 'int32')));
      out = (r.masks ?? []).map((t) => t && Array.from(t.f32()));
    });
    m.dispose();
    return out;
  }

  test('Dropout, Activation, LayerNormalization and Dense keep the mask; Flatten drops it; layers after get it in ctx.masks', () => {
    setBackend('wasm');
    const x = input({ shape: [4], dtype: 'int32' });
    const e = new Embedding({ inputDim: 6, outputDim: 3, maskZero: true }).apply(x);
    const probe = new MaskProbe();
    const kept = new Dense({ units: 2 }).apply(new LayerNormalization().apply(new Activation({ activation: 'tanh' }).apply(new Dropout({ rate: 0.5 }).apply(probe.apply(e)))));
    const flat = new Flatten().apply(kept);
    const plain = new Dense({ units: 2 }).apply(new Embedding({ inputDim: 6, outputDim: 3 }).apply(x));
    assert.deepEqual(outputMasks([x], [kept, flat, plain], [ids]), [mask, undefined, undefined]);
    assert.deepEqual(probe.seen, [[mask]]);
  });

  test('merge layers AND their inputs\' masks (an input without one does not count); Concatenate along a step axis joins them', () => {
    setBackend('wasm');
    const a = input({ shape: [4], dtype: 'int32', name: 'a' });
    const b = input({ shape: [4], dtype: 'int32', name: 'b' });
    const ea = new Embedding({ inputDim: 6, outputDim: 3, maskZero: true }).apply(a);
    const eb = new Embedding({ inputDim: 6, outputDim: 3, maskZero: true }).apply(b);
    const ec = new Embedding({ inputDim: 6, outputDim: 3 }).apply(b);
    const and = mask.map((v, i) => v * maskOther[i]);
    const joined = [...mask.slice(0, 4), ...maskOther.slice(0, 4), ...mask.slice(4), ...maskOther.slice(4)];
    const outs = [
      new Add().apply([ea, eb]), new Multiply().apply([ea, ec]), new Concatenate().apply([ea, eb]), new Concatenate({ axis: 1 }).apply([ea, eb]),
      new Concatenate({ axis: 1 }).apply([ea, ec]),
    ];
    assert.deepEqual(outputMasks([a, b], outs, [ids, idsOther]), [
      and, mask, and, joined, [...mask.slice(0, 4), 1, 1, 1, 1, ...mask.slice(4), 1, 1, 1, 1],
    ]);
  });

  test('a Block hands its input mask to its inner layers and its output carries what the inner graph makes', () => {
    setBackend('wasm');
    const inner = input({ shape: [4, 3] });
    const probe = new MaskProbe();
    const block = new Block({ inputs: inner, outputs: new Dense({ units: 2 }).apply(probe.apply(inner)) });
    const x = input({ shape: [4], dtype: 'int32' });
    const y = block.apply(new Embedding({ inputDim: 6, outputDim: 3, maskZero: true }).apply(x));
    assert.deepEqual(outputMasks([x], [y], [ids]), [mask]);
    assert.deepEqual(probe.seen, [[mask]]);
  });
});
