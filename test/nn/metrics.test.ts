// Metrics over [..., C] (accuracy, top-k, perplexity, bits per char) with masks and weights against float64 references; fit/evaluate with sequence targets, sample weights, val_ logs, int32 token inputs.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { tidy } from '../../src/core/engine.js';
import { IndexError, ShapeError } from '../../src/core/errors.js';
import { oneHot, softmax, tensor } from '../../src/core/ops/index.js';
import type { Shape } from '../../src/core/shape.js';
import type { Tensor } from '../../src/core/tensor.js';
import { Layer } from '../../src/nn/layer.js';
import { Dense, getMetric, type LossName, sequential, type Model } from '../../src/nn/index.js';
import { Rng } from '../helpers/random.js';

const B = 3, T = 4, C = 6;
const logitsV = new Rng(21).uniforms(B * T * C, -3, 3);
const labelsV = [2, 5, 1, 0, 3, 3, 0, 0, 1, 2, 4, 0];
const L = (): Tensor => tensor(Float32Array.from(logitsV), [B, T, C]);
const Y = (): Tensor => tensor(Int32Array.from(labelsV), [B, T], 'int32');
const W = (v: number[], shape: number[]): Tensor => tensor(Float32Array.from(v), shape);
const row = (i: number): number[] => Array.from(logitsV.subarray(i * C, (i + 1) * C), Number);
const ce64 = (i: number, label: number): number => {
  const r = row(i);
  const m = Math.max(...r);
  return m + Math.log(r.reduce((s, v) => s + Math.exp(v - m), 0)) - r[label];
};
const close = (got: number, want: number, what: string, tol = 1e-9): void =>
  assert.ok(Math.abs(got - want) <= tol * Math.max(1, Math.abs(want)), `${what}: ${got} want ${want}`);
const update = (name: string, f: (m: ReturnType<typeof getMetric>) => { sum: number; count: number }, loss: LossName = 'sparse_categorical_crossentropy', k?: number) =>
  tidy(() => {
    const m = getMetric(name, loss, { k });
    const r = f(m);
    return { ...r, value: m.result(r.sum, r.count), name: m.name };
  });

describe('metrics over [B, T, C]', () => {
  const counts = (i: number): boolean => labelsV[i] !== 0;
  const weight = (i: number): number => [0.5, 2, 1][Math.floor(i / T)];

  test('accuracy: token accuracy over the positions that count, weighted', () => {
    let hits = 0, n = 0, wHits = 0, wN = 0;
    for (let i = 0; i < B * T; i++) {
      if (!counts(i)) continue;
      const r = row(i);
      const hit = r.indexOf(Math.max(...r)) === labelsV[i] ? 1 : 0;
      hits += hit; n++;
      wHits += weight(i) * hit; wN += weight(i);
    }
    const a = update('accuracy', (m) => m.update(L(), Y(), { ignoreClass: 0 }));
    assert.deepEqual([a.sum, a.count], [hits, n]);
    const b = update('acc', (m) => m.update(L(), Y(), { ignoreClass: 0, sampleWeight: W([0.5, 2, 1], [B]) }));
    close(b.value, wHits / wN, 'weighted');
    assert.equal(b.name, 'accuracy');
    const all = update('accuracy', (m) => m.update(L(), Y()));
    assert.equal(all.count, B * T);
  });

  test('top-k accuracy: the label among the k highest (ties at the boundary count, as tf in_top_k); sparse and one-hot, alias by loss', () => {
    const p = W([0.1, 0.5, 0.5, 0.2, 0.9, 0.05, 0.3, 0.3, 0.3], [3, 3]);
    const y = tensor(Int32Array.from([2, 0, 1]), [3], 'int32');
    // Sample 0: label ties the top → in top 1. Sample 1: rank 2 of 3 → in top 2. Sample 2: three-way tie → in top 1.
    assert.equal(update('sparse_top_k_categorical_accuracy', (m) => m.update(p, y), undefined, 1).value, 2 / 3);
    assert.equal(update('top_k_accuracy', (m) => m.update(p, y), undefined, 2).value, 1);
    const oh = update('top_k_accuracy', (m) => m.update(p, oneHot(y, 3)), 'categorical_crossentropy', 1);
    assert.deepEqual([oh.name, oh.value], ['top_k_categorical_accuracy', 2 / 3]);
    assert.equal(update('top_k_accuracy', (m) => m.update(p, y)).name, 'sparse_top_k_categorical_accuracy');
    // Over [B, T, C] with padding ignored, k = 2.
    let want = 0, n = 0;
    for (let i = 0; i < B * T; i++) {
      if (!counts(i)) continue;
      const r = row(i);
      want += r.filter((v) => v > r[labelsV[i]]).length < 2 ? 1 : 0;
      n++;
    }
    close(update('sparse_top_k_categorical_accuracy', (m) => m.update(L(), Y(), { ignoreClass: 0 }), undefined, 2).value, want / n, 'top-2 sequence');
    p.dispose();
    y.dispose();
  });

  test('perplexity = exp and bits_per_char = 1/ln 2 of the mean token cross-entropy, from logits or probabilities', () => {
    let s = 0, n = 0;
    for (let i = 0; i < B * T; i++) if (counts(i)) { s += weight(i) * ce64(i, labelsV[i]); n += weight(i); }
    const inputs = { ignoreClass: 0, sampleWeight: W([0.5, 2, 1], [B]) };
    close(update('perplexity', (m) => m.update(L(), Y(), { ...inputs, logits: true })).value, Math.exp(s / n), 'perplexity from logits');
    close(update('perplexity', (m) => m.update(softmax(L()), Y(), inputs)).value, Math.exp(s / n), 'perplexity from probabilities', 1e-6);
    close(update('bits_per_char', (m) => m.update(L(), Y(), { ...inputs, logits: true })).value, s / n / Math.LN2, 'bits per char');
    // Categorical (one-hot) targets: ignoreClass is sparse-only, so every position counts, padding included.
    let cs = 0, cn = 0;
    for (let i = 0; i < B * T; i++) { cs += weight(i) * ce64(i, labelsV[i]); cn += weight(i); }
    const bpc = update('bpc', (m) => m.update(softmax(L()), oneHot(Y(), C), { sampleWeight: W([0.5, 2, 1], [B]) }), 'categorical_crossentropy');
    close(bpc.value, cs / cn / Math.LN2, 'bits per char, one-hot targets', 1e-6);
    // Nothing counted (every weight 0): NaN, not the perplexity 1 of a perfect model; accuracy stays Keras' 0.
    const none = { ignoreClass: 0, sampleWeight: W([0, 0, 0], [B]), logits: true };
    assert.ok(Number.isNaN(update('perplexity', (m) => m.update(L(), Y(), none)).value));
    assert.ok(Number.isNaN(update('bits_per_char', (m) => m.update(L(), Y(), none)).value));
    assert.equal(update('accuracy', (m) => m.update(L(), Y(), none)).value, 0);
  });

  test('errors: unknown names, perplexity without a cross-entropy, bad k, weights of the wrong shape, labels out of range', () => {
    assert.throws(() => getMetric('f1', 'sparse_categorical_crossentropy'), /unknown metric 'f1'/);
    assert.throws(() => getMetric('perplexity', 'mean_squared_error'), /perplexity.*cross-entropy/);
    assert.throws(() => getMetric('top_k_accuracy', 'sparse_categorical_crossentropy', { k: 0 }), RangeError);
    assert.throws(() => update('accuracy', (m) => m.update(L(), Y(), { sampleWeight: W([1, 2], [2]) })),
      (e: Error) => e instanceof ShapeError && /^accuracy: sample weights \[2\] do not fit positions \[3,4\]/.test(e.message));
    assert.throws(() => update('perplexity', (m) => m.update(L(), tensor(Int32Array.from(labelsV.map((v) => v + 1)), [B, T], 'int32'))),
      (e: Error) => e instanceof IndexError && /perplexity: label 6 at position 1/.test(e.message));
  });
});

/** Sequence data: x [N, T, F] float, labels [N, T] with trailing padding 0 (classes 1…C−1). */
function sequences(n: number, t: number, f: number, c: number, seed: number): { x: Float32Array; y: Int32Array } {
  const rng = new Rng(seed);
  const x = rng.uniforms(n * t * f, -1, 1);
  const y = new Int32Array(n * t);
  for (let i = 0; i < n; i++) {
    const len = 1 + (i % t);
    for (let j = 0; j < len; j++) y[i * t + j] = 1 + Math.floor(rng.uniform() * (c - 1));
  }
  return { x, y };
}

/** −Σ w·log p[label] / Σ w over non-padding positions, from the model's predicted probabilities (float64). */
function tokenCE(m: Model, x: { data: Float32Array | Int32Array; shape: number[] }, y: Int32Array, c: number, w?: (i: number) => number): number {
  const p = m.predict(x, { batchSize: 7 });
  const v = p.f32();
  p.dispose();
  const t = y.length / x.shape[0];
  let s = 0, n = 0;
  for (let i = 0; i < y.length; i++) {
    if (y[i] === 0) continue;
    const wi = w ? w(Math.floor(i / t)) : 1;
    s -= wi * Math.log(v[i * c + y[i]]);
    n += wi;
  }
  return s / n;
}

describe('fit and evaluate on sequence targets [N, T]', () => {
  const N = 20, Tn = 5, F = 3, Cn = 4;
  const data = sequences(N, Tn, F, Cn, 3);
  const X = { data: data.x, shape: [N, Tn, F] };
  const Yd = { data: data.y, shape: [N, Tn] };
  const build = (): Model => {
    const m = sequential([new Dense({ units: 8, activation: 'tanh' }), new Dense({ units: Cn, activation: 'softmax' })], { inputShape: [Tn, F] }).build(5);
    m.compile({ optimizer: 'adam', loss: 'sparse_categorical_crossentropy', ignoreClass: 0, metrics: ['accuracy', 'top_k_accuracy', 'perplexity', 'bits_per_char'] });
    return m;
  };

  test('padding is ignored; perplexity comes from the epoch sums (not a mean of batch perplexities); val_ logs too', async () => {
    const m = build();
    const want = tokenCE(m, X, data.y, Cn);
    const e = m.evaluate(X, Yd, { batchSize: 3 });
    assert.deepEqual(Object.keys(e).sort(), ['accuracy', 'bits_per_char', 'loss', 'perplexity', 'sparse_top_k_categorical_accuracy']);
    close(e.perplexity, Math.exp(want), 'perplexity', 1e-6);
    close(e.bits_per_char, want / Math.LN2, 'bits per char', 1e-6);
    assert.equal(e.sparse_top_k_categorical_accuracy, 1, 'k = 5 ≥ 4 classes');
    // The batch losses are means over each batch's tokens; their batch-size-weighted mean (Keras) differs from the token mean here.
    assert.ok(Math.abs(e.loss - want) > 1e-4, `loss ${e.loss} vs token mean ${want}`);
    close(m.evaluate(X, Yd, { batchSize: N }).loss, want, 'one batch: the loss is the token mean', 1e-6);
    const h = await m.fit(X, Yd, { epochs: 2, batchSize: 4, validationSplit: 0.25, seed: 1 });
    for (const k of ['loss', 'accuracy', 'perplexity', 'bits_per_char', 'sparse_top_k_categorical_accuracy']) {
      assert.equal(h.history[k].length, 2, k);
      assert.equal(h.history[`val_${k}`].length, 2, `val_${k}`);
    }
    close(h.history.bits_per_char[1], Math.log(h.history.perplexity[1]) / Math.LN2, 'bpc and perplexity agree', 1e-9);
    m.dispose();
  });

  test('sampleWeight [N] and [N, T] in evaluate and fit (Keras semantics), and a validationSplit takes its weights along', async () => {
    const m = build();
    const wN = Float32Array.from({ length: N }, (_, i) => (i % 3) + 0.5);
    const one = { batchSize: N };
    // Loss: Σ w·ce / tokens; perplexity: exp(Σ w·ce / Σ w).
    let s = 0, tokens = 0;
    const p = m.predict(X);
    const v = p.f32();
    p.dispose();
    for (let i = 0; i < N * Tn; i++) if (data.y[i] !== 0) { s -= wN[Math.floor(i / Tn)] * Math.log(v[i * Cn + data.y[i]]); tokens++; }
    const e = m.evaluate(X, Yd, { ...one, sampleWeight: { data: wN, shape: [N] } });
    close(e.loss, s / tokens, 'weighted loss', 1e-6);
    close(e.perplexity, Math.exp(tokenCE(m, X, data.y, Cn, (i) => wN[i])), 'weighted perplexity', 1e-6);
    const wNT = new Float32Array(N * Tn);
    for (let i = 0; i < N; i++) wNT.fill(wN[i], i * Tn, (i + 1) * Tn);
    const e2 = m.evaluate(X, Yd, { ...one, sampleWeight: { data: wNT, shape: [N, Tn] } });
    close(e2.loss, e.loss, '[N, T] weights equal per sample = [N]', 1e-6);
    // Zero weight on the held-out samples: their val_loss is 0.
    const wz = Float32Array.from({ length: N }, (_, i) => (i < 15 ? 1 : 0));
    const h = await m.fit(X, Yd, { epochs: 1, batchSize: 5, validationSplit: 0.25, sampleWeight: { data: wz, shape: [N] } });
    assert.ok(h.history.val_loss[0] === 0, `val_loss ${h.history.val_loss[0]}`);
    assert.ok(h.history.loss[0] > 0);
    assert.throws(() => m.evaluate(X, Yd, { sampleWeight: { data: new Float32Array(N * 2), shape: [N, 2] } }),
      (err: Error) => err instanceof ShapeError && err.message === 'sparse_categorical_crossentropy: sample weights [20, 2] do not fit targets [20, 5]: expected [N] or [N, 5] with N = 20');
    assert.throws(() => m.evaluate(X, { data: new Int32Array(N), shape: [N] }),
      (err: Error) => err instanceof ShapeError && /model 'sequential' outputs \[N, 5, 4\], so its class-index labels must be \[N, 5\], got \[20\]/.test(err.message));
    m.dispose();
  });
});

/** A test-only layer turning int32 token ids [N, T] into one-hot vectors [N, T, V] (no layer consumes int32 yet). */
class OneHotTokens extends Layer {
  readonly className = 'OneHotTokens';
  readonly defaultName = 'one_hot_tokens';
  constructor(readonly depth: number, o: { inputShape: number[]; inputDType: 'int32' }) {
    super(o);
  }
  outputShape(s: Shape): number[] {
    return [...s, this.depth];
  }
  call(x: Tensor): Tensor {
    return oneHot(x, this.depth);
  }
  protected config(): Record<string, unknown> {
    return { depth: this.depth };
  }
}

test('int32 token inputs go through fit, evaluate and predict (next-token model over one-hot tokens)', async () => {
  const V = 5, Tn = 4, N = 40;
  const rng = new Rng(9);
  const x = new Int32Array(N * Tn).map(() => Math.floor(rng.uniform() * V));
  const y = x.map((v) => (v + 1) % V); // learnable: the next id
  const m = sequential([new OneHotTokens(V, { inputShape: [Tn], inputDType: 'int32' }), new Dense({ units: V, activation: 'softmax' })]).build(0);
  m.compile({ optimizer: { name: 'adam', learningRate: 0.05 }, loss: 'sparse_categorical_crossentropy', metrics: ['accuracy', 'perplexity'] });
  const X = { data: x, shape: [N, Tn] }, Y2 = { data: y, shape: [N, Tn] };
  const before = m.evaluate(X, Y2);
  await m.fit(X, Y2, { epochs: 30, batchSize: 10, seed: 2 });
  const after = m.evaluate(X, Y2);
  assert.ok(after.loss < before.loss / 4, `loss ${before.loss} → ${after.loss}`);
  assert.equal(after.accuracy, 1);
  const p = m.predict({ data: x.subarray(0, 2 * Tn), shape: [2, Tn] });
  assert.deepEqual(p.shape, [2, Tn, V]);
  p.dispose();
  m.dispose();
});
