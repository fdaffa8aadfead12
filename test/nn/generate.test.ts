// generateTokens on recurrent language models: the one-step path (states carried) must pick what the model itself
// scores, for models that end in logits, have per-step kernels, or mask id 0.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setBackend } from '../../src/core/engine.js';
import { generateText, generateTokens, input, layers, model, type Model } from '../../src/nn/index.js';

const V = 6;
const T = 8;

/** Embedding → LSTM (all steps) → Dense(V), with the Dense's options. */
function lm(seed: number, o: { activation?: 'softmax'; maskZero?: boolean; steps?: number; timeSharing?: 'untied' | { rank: number }; maps?: Record<string, string> } = {}): Model {
  const ids = input({ shape: [T], dtype: 'int32' });
  let h = layers.embedding({ inputDim: V, outputDim: 4, maskZero: o.maskZero }).apply(ids);
  h = layers.lstm({ units: 5, returnSequences: true, ...(o.steps ? { steps: o.steps, timeSharing: o.timeSharing } : {}), ...(o.maps ? { maps: o.maps } : {}) }).apply(h);
  return model({ inputs: ids, outputs: layers.dense({ units: V, activation: o.activation }).apply(h) }).build(seed);
}

/** Greedy continuation computed from whole-window predictions: the argmax at the last known position, T at most. */
function greedyByPredict(m: Model, prompt: number[], length: number): number[] {
  const ids = [...prompt];
  for (let s = 0; s < length; s++) {
    const x = new Int32Array(T);
    const known = Math.min(T, ids.length);
    x.set(ids.slice(ids.length - known));
    const y = m.predict({ data: x, shape: [1, T] });
    const row = y.f32().subarray((known - 1) * V, known * V);
    let best = 0;
    for (let v = 1; v < V; v++) if (row[v] > row[best]) best = v;
    y.dispose();
    ids.push(best);
  }
  return ids.slice(prompt.length);
}

describe('generateTokens on recurrent models picks what the model scores', () => {
  setBackend('wasm');

  test('a model ending in a softmax: greedy tokens equal the argmax of whole-window predictions', () => {
    for (const seed of [1, 2, 3]) {
      const m = lm(seed, { activation: 'softmax' });
      assert.deepEqual([...generateTokens(m, [1, 2], { length: 5, temperature: 0 })], greedyByPredict(m, [1, 2], 5), `seed ${seed}`);
      m.dispose();
    }
  });

  test('a codebook-compressed model (codes are map state, not θ): the one-step path uses its codes', () => {
    for (const seed of [4, 5]) {
      const m = lm(seed, { activation: 'softmax', maps: { kernel: 'codebook:3', recurrentKernel: 'codebook:3' } });
      assert.ok(m.namedBuffers().length > 0);
      assert.deepEqual([...generateTokens(m, [1, 2], { length: 6, temperature: 0 })], greedyByPredict(m, [1, 2], 6), `seed ${seed}`);
      m.dispose();
    }
  });

  test('a model ending in logits (no softmax): its scores are used as they are, negative ones included', () => {
    const m = lm(1);
    const w = m.getWeights();
    const kernelName = [...w.keys()].find((k) => k.startsWith('dense') && k.endsWith('kernel'))!;
    const biasName = [...w.keys()].find((k) => k.startsWith('dense') && k.endsWith('bias'))!;
    const zero = new Float32Array(w.get(kernelName)!.length);
    // Every score is the bias: token 1 is the most likely though its logit is negative.
    m.setWeights({ [kernelName]: zero, [biasName]: Float32Array.from([-1, -0.5, -2, -2, -2, -2]) });
    assert.deepEqual([...generateTokens(m, [3], { length: 3, temperature: 0 })], [1, 1, 1]);
    // Sampling follows softmax(logits): with bias [0.5, −0.5 × 5] token 0 has probability 0.35, each other 0.13.
    m.setWeights({ [kernelName]: zero, [biasName]: Float32Array.from([0.5, -0.5, -0.5, -0.5, -0.5, -0.5]) });
    const counts = new Array<number>(V).fill(0);
    for (let s = 0; s < 400; s++) counts[generateTokens(m, [1], { length: 1, seed: s })[0]]++;
    assert.ok(counts[0] > 105 && counts[0] < 180, `token 0 drawn ${counts[0]} of 400 times (expected ≈ 141)`);
    for (let v = 1; v < V; v++) assert.ok(counts[v] > 28 && counts[v] < 80, `token ${v} drawn ${counts[v]} of 400 times (expected ≈ 52)`);
    m.dispose();
  });

  test('per-step kernels (steps: S): the token at position t is scored with kernel t, as the model does', () => {
    for (const timeSharing of ['untied', { rank: 1 }] as const) {
      for (const seed of [1, 2, 3, 4]) {
        const m = lm(seed, { activation: 'softmax', steps: T, timeSharing });
        // Per-step kernels start equal (untied: copies; rank: zero deltas): make every weight different.
        let r = seed;
        const rnd = (): number => ((r = (r * 1103515245 + 12345) >>> 0) / 2 ** 32 - 0.5);
        m.setWeights(new Map([...m.getWeights()].map(([k, v]) => [k, v.map(() => rnd())])));
        assert.deepEqual([...generateTokens(m, [1, 2], { length: 5, temperature: 0 })], greedyByPredict(m, [1, 2], 5), `${JSON.stringify(timeSharing)}, seed ${seed}`);
        m.dispose();
      }
    }
  });

  test('maskZero with id 0 in the prompt: the masked step repeats the previous output, as in the model', () => {
    for (const seed of [1, 2, 3, 4]) {
      const m = lm(seed, { activation: 'softmax', maskZero: true });
      assert.deepEqual([...generateTokens(m, [1, 2, 0], { length: 3, temperature: 0 })], greedyByPredict(m, [1, 2, 0], 3), `seed ${seed}`);
      m.dispose();
    }
  });

  test('onToken hears every generated token, in order, as it is drawn (both paths)', () => {
    for (const m of [lm(2, { activation: 'softmax' }), lm(2, { activation: 'softmax', maskZero: true })]) {
      const heard: number[] = [];
      const ids = generateTokens(m, [1, 2], { length: 6, seed: 4, onToken: (id) => heard.push(id) });
      assert.deepEqual(heard, [...ids]);
      assert.deepEqual([...generateTokens(m, [1, 2], { length: 6, seed: 4 })], heard, 'the same tokens without it');
      m.dispose();
    }
  });

  test('topP (nucleus sampling) draws only from the fewest most likely tokens reaching p; 1 changes nothing; a bad value is refused', () => {
    // Scores that ignore the input: next-token probabilities 0.5, 0.3, 0.15, 0.04, 0.01, and ~0 for the last token.
    const ids = input({ shape: [T], dtype: 'int32' });
    const m = model({ inputs: ids, outputs: layers.dense({ units: V, activation: 'softmax', name: 'out' }).apply(layers.embedding({ inputDim: V, outputDim: 2, name: 'emb' }).apply(ids)) }).build(0);
    m.setWeights({ 'out/kernel': new Float32Array(2 * V), 'out/bias': Float32Array.from([0.5, 0.3, 0.15, 0.04, 0.01, 1e-30].map(Math.log)) });
    const drawn = (o: { topP?: number; topK?: number; seed: number }): Set<number> => new Set(generateTokens(m, [1], { length: 400, temperature: 1, ...o }));
    const sorted = (x: Set<number>): number[] => [...x].sort((a, b) => a - b);
    assert.deepEqual(sorted(drawn({ topP: 0.7, seed: 1 })), [0, 1], '0.5 < 0.7 ≤ 0.5 + 0.3');
    assert.deepEqual(sorted(drawn({ topP: 0.79, seed: 2 })), [0, 1]);
    assert.deepEqual(sorted(drawn({ topP: 0.81, seed: 3 })), [0, 1, 2]);
    assert.deepEqual(sorted(drawn({ topP: 1e-9, seed: 4 })), [0], 'the most likely token always stays');
    assert.deepEqual(sorted(drawn({ topP: 0.9, topK: 2, seed: 5 })), [0, 1], 'after top-k');
    assert.deepEqual(sorted(drawn({ seed: 6 })), [0, 1, 2, 3, 4]);
    assert.deepEqual([...generateTokens(m, [1], { length: 50, temperature: 1, topP: 1, seed: 7 })], [...generateTokens(m, [1], { length: 50, temperature: 1, seed: 7 })]);
    for (const bad of [0, -0.1, 1.5, Number.NaN]) {
      assert.throws(() => generateTokens(m, [1], { length: 1, topP: bad }), new RegExp(`generate: topP must be a number in \\(0, 1\\], got ${String(bad)}`));
    }
    m.dispose();
  });

  test('exclude: ids outside the vocabulary are refused by name (they used to count toward "every token is excluded"); missing options are named', () => {
    const m = lm(3, { activation: 'softmax' });
    assert.throws(() => generateTokens(m, [1], { length: 1, exclude: [0, 1, 6, 7, 8, 9] }), /^RangeError: generate: exclude holds 6, not a token id of the model's vocabulary \[0, 6\)$/);
    assert.throws(() => generateTokens(m, [1], { length: 1, exclude: [0.5] }), /exclude holds 0\.5/);
    assert.throws(() => generateTokens(m, [1], { length: 1, exclude: [0, 1, 2, 3, 4, 5] }), /every token is excluded/);
    const out = generateTokens(m, [1], { length: 60, exclude: [0, 2, 4], seed: 1 });
    assert.ok(out.every((id) => id % 2 === 1), String(out));
    assert.throws(() => generateTokens(m, [1], undefined as unknown as { length: number }), /^ArgumentError: generate: takes options \{ length, temperature\?, /);
    // Options of the wrong kind or name are refused, not ignored (top_k sampled from every token) nor a raw TypeError.
    assert.throws(() => generateTokens(m, [1], { length: 1, top_k: 2 } as never), /^ArgumentError: generate: unknown option 'top_k' \(options: length, temperature, topK, topP, seed, exclude, onToken\); write it topK$/);
    assert.throws(() => generateTokens(m, [1], { length: 1, exclude: 5 } as never), /^ArgumentError: generate: exclude must be a list of token ids, got the number 5$/);
    assert.throws(() => generateTokens(m, [1], { length: '3' } as never), /^RangeError: generate: length must be an integer ≥ 0, got "3"$/);
    assert.throws(() => generateTokens(m, [1], { length: 1, seed: Number.NaN }), /^RangeError: generate: seed must be a finite number, got NaN$/);
    assert.throws(() => generateTokens(m, [1], { length: 1, onToken: 3 } as never), /^ArgumentError: generate: onToken must be a function, got the number 3$/);
    assert.throws(() => generateTokens(m, null as never, { length: 1 }), /^ArgumentError: generate: the prompt must be token ids/);
    assert.throws(() => generateText(m, undefined as never, 'a', { length: 1 }), /^ArgumentError: generateText: takes a tokenizer \(with encode and decode\)/);
    m.dispose();
    // Scores over more tokens than the Embedding reads: refused before generating (it failed mid-way on the first such id).
    const ids = input({ shape: [T], dtype: 'int32' });
    const wide = model({ inputs: ids, outputs: layers.dense({ units: V + 3 }).apply(layers.embedding({ inputDim: V, outputDim: 4, name: 'emb' }).apply(ids)), name: 'wide' }).build(0);
    assert.throws(() => generateTokens(wide, [1], { length: 5 }), /^RangeError: model 'wide' scores 9 tokens but layer 'emb' \(Embedding\) reads ids below 6: the tokens it generates could not be read back$/);
    wide.dispose();
  });
});

test('generation refuses a model that is not causal inside a block too (a Bidirectional in a Block generated), and attention without its causal mask', () => {
  const T = 4;
  const x = input({ shape: [T], dtype: 'int32' }), bi = input({ shape: [T, 4] });
  const block = layers.block({ inputs: bi, outputs: layers.bidirectional({ layer: layers.lstm({ units: 4, returnSequences: true }) }).apply(bi) });
  const m = model({ inputs: x, outputs: layers.dense({ units: 6 }).apply(block.apply(layers.embedding({ inputDim: 6, outputDim: 4 }).apply(x))) }).build(0);
  assert.throws(() => generateTokens(m, [1], { length: 3 }), /^RangeError: model 'model': layer 'block\/bidirectional' \(Bidirectional\) reads the sequence backwards, so the model is not causal/);
  m.dispose();
  const y = input({ shape: [T], dtype: 'int32' });
  const e = layers.embedding({ inputDim: 6, outputDim: 4 }).apply(y);
  const att = layers.multiHeadAttention({ numHeads: 1, keyDim: 4 }).apply([e, e]);
  const a = model({ inputs: y, outputs: layers.dense({ units: 6 }).apply(att) }).build(0);
  assert.throws(() => generateTokens(a, [1], { length: 3 }), /layer 'multi_head_attention' \(MultiHeadAttention\) attends to later steps \(useCausalMask is false\)/);
  a.dispose();
});

test('generation samples from a softmax that is not the top layer\'s activation (inside a Block, before a Dropout) through its logarithm, not as if it were logits', () => {
  const V = 6;
  const share5 = (m: Model): number => Array.from(generateTokens(m, [1], { length: 200, seed: 0 })).filter((i) => i === 5).length / 200;
  // p(5) = 0.9998 at every step: token 5 nearly always (it came out 0.36 of the time).
  const bi = input({ shape: [2, 4] }), x = input({ shape: [2], dtype: 'int32' });
  const head = layers.block({ inputs: bi, outputs: layers.dense({ units: V, activation: 'softmax', kernelInitializer: 'zeros' }).apply(bi) });
  const inBlock = model({ inputs: x, outputs: head.apply(layers.embedding({ inputDim: V, outputDim: 4 }).apply(x)) }).build(0);
  inBlock.setWeights({ 'block/dense/bias': Float32Array.of(0, 0, 0, 0, 0, 10) });
  assert.equal(inBlock.finalActivation(), 'softmax');
  assert.ok(share5(inBlock) > 0.95);
  inBlock.dispose();
  // A recurrent chain (the one-step path) ending in a Dropout after its softmax.
  const y = input({ shape: [2], dtype: 'int32' });
  const h = layers.lstm({ units: 4, returnSequences: true }).apply(layers.embedding({ inputDim: V, outputDim: 4 }).apply(y));
  const out = layers.dense({ units: V, activation: 'softmax', kernelInitializer: 'zeros', name: 'out' }).apply(h);
  const dropped = model({ inputs: y, outputs: layers.dropout({ rate: 0.1 }).apply(out) }).build(0);
  dropped.setWeights({ 'out/bias': Float32Array.of(0, 0, 0, 0, 0, 10) });
  assert.ok(share5(dropped) > 0.95);
  dropped.dispose();
});
