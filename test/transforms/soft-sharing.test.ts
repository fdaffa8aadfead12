// Soft weight-sharing: the mixture prior's NLL against float64 and finite differences, merging, quantising, the pipeline on mnist-sample, bad options.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tidy } from '../../src/core/engine.js';
import { tensor } from '../../src/core/ops/index.js';
import type { Tensor } from '../../src/core/tensor.js';
import { loadDataset } from '../../src/data/datasets.js';
import { modelFromCheckpoint, modelToCheckpoint } from '../../src/io/model-file.js';
import { decodeCheckpoint, encodeCheckpoint } from '../../src/io/checkpoint.js';
import { Dense, Flatten, type Model, sequential } from '../../src/nn/index.js';
import { CodebookMap } from '../../src/sharing/index.js';
import {
  mergeComponents, MixturePrior, mixtureNegLogLikelihood, responsibleComponents, type SoftSharingEvent, softWeightSharing,
} from '../../src/transforms/index.js';
import { checkGradients } from '../helpers/gradcheck.js';

const alpha = Float32Array.of(5000, 250, 250), beta = Float32Array.of(2, 0.1, 0.1);

test('mixture NLL: equals −Σ log Σ π N(w | μ, 1/λ) + Gamma terms in float64 (rel 1e-5); gradients to w, means, log precisions, logits by finite differences', () => {
  const w = [0.3, -0.02, 0.01, -0.41, 0.0, 0.22];
  const means = [-0.4, 0.25], gammas = [Math.log(400), Math.log(50), Math.log(30)], rhos = [0.3, -0.2];
  const pi0 = 0.9;
  const value = tidy(() => mixtureNegLogLikelihood([tensor(w, [2, 3])], { means: tensor(means), gammas: tensor(gammas), rhos: tensor(rhos) }, { pi0, alpha, beta }).item());
  const e = rhos.map(Math.exp), z = e[0] + e[1];
  const pi = [pi0, ...e.map((v) => ((1 - pi0) * v) / z)], mu = [0, ...means], lam = gammas.map(Math.exp);
  let want = 0;
  for (const x of w) want -= Math.log(pi.reduce((s, p, j) => s + p * Math.sqrt(lam[j] / (2 * Math.PI)) * Math.exp(-0.5 * lam[j] * (x - mu[j]) ** 2), 0));
  gammas.forEach((g, j) => (want += (1 - alpha[j]) * g + beta[j] * Math.exp(g)));
  assert.ok(Math.abs(value - want) <= 1e-5 * Math.abs(want), `${value} vs ${want}`);
  // Gradients of every input at once, with mild hyper-priors (α = 5000 would make the value ~3e4, beyond float32 central differences).
  const mild = { pi0, alpha: Float32Array.of(3, 2, 2), beta: Float32Array.of(1e-3, 1e-3, 1e-3) };
  checkGradients('mixture NLL', (wt: Tensor, m: Tensor, g: Tensor, r: Tensor) => mixtureNegLogLikelihood([wt], { means: m, gammas: g, rhos: r }, mild),
    [tensor(w, [2, 3]), tensor(means), tensor(gammas), tensor(rhos)], { eps: 1e-3, rtol: 2e-2, atol: 2e-3 });
});

test('a prior far from every weight still has a finite NLL (the logsumexp is max-shifted)', () => {
  const v = tidy(() => mixtureNegLogLikelihood([tensor([50, -80])], { means: tensor([1]), gammas: tensor([Math.log(1e4), Math.log(1e4)]), rhos: tensor([0]) }, { pi0: 0.99, alpha: Float32Array.of(1, 1), beta: Float32Array.of(0, 0) }).item());
  assert.ok(Number.isFinite(v) && v > 1e7, `${v}`);
});

test('mergeComponents: the closest pair below the threshold merges (weighted mean and variance, summed proportion); the zero component keeps mean 0', () => {
  const s = { means: [0, 0.5, 0.501, 0.01], variances: [1e-4, 1e-3, 1e-3, 1e-4], proportions: [0.9, 0.03, 0.06, 0.01] };
  const m = mergeComponents(s, 0.1);
  // 0.5/0.501 (symmetric KL 5e-4) merge; 0 and 0.01 (symmetric KL 0.5) do not at 0.1 but do at 1.
  assert.deepEqual(m.means.length, 3);
  assert.ok(Math.abs(m.means[1] - (0.03 * 0.5 + 0.06 * 0.501) / 0.09) < 1e-12);
  assert.ok(Math.abs(m.proportions[1] - 0.09) < 1e-12);
  const all = mergeComponents(s, 1);
  assert.deepEqual([all.means.length, all.means[0]], [2, 0]);
  assert.ok(Math.abs(all.proportions[0] - 0.91) < 1e-12);
  assert.deepEqual(mergeComponents(s, 0), s);
});

test('responsibleComponents: argmax of log π + ½ log λ − ½ λ (w − μ)²; the zero component wins near 0', () => {
  const s = { means: [0, -0.3, 0.3], variances: [0.001, 0.001, 0.001], proportions: [0.98, 0.01, 0.01] };
  assert.deepEqual([...responsibleComponents(Float32Array.of(0.05, 0.29, -0.31, 0.2, -0.12), s)], [0, 2, 1, 2, 0]);
});

test('MixturePrior: bad options are one-line errors naming the option', () => {
  const v = Float32Array.of(-0.5, 0.1, 0.4);
  const bad = (o: object, re: RegExp): void => assert.throws(() => new MixturePrior(v, { components: 3, pi0: 0.9, ...o }, 'prior'), (e: Error) => re.test(e.message) && !e.message.includes('\n'));
  bad({ variances: [0.01, 0, 0.01] }, /^prior: variances must be > 0, got 0 for component 1$/);
  bad({ variances: [0.01, 0.01] }, /^prior: variances must be 3 finite numbers/);
  bad({ proportions: [0.9, 0.05, 0.04] }, /^prior: proportions must sum to 1, got 0\.99/);
  bad({ proportions: [0.8, 0.1, 0.1] }, /^prior: proportions\[0\] is the zero component's, fixed at pi0 0\.9, got 0\.8$/);
  bad({ pi0: 1 }, /^prior: pi0 must be in \(0, 1\), got 1$/);
  bad({ components: 1 }, /^prior: components must be an integer ≥ 2/);
  bad({ gamma: { zero: [0, 2] } }, /^prior: gamma\.zero must be \[alpha, beta\]/);
  bad({ gamma: { zeros: [1, 2] } }, /^prior: gamma: unknown option 'zeros' \(options: zero, others\)$/);
  bad({ gamma: 5 }, /^prior: gamma: options must be an object \{ zero, others \}, got the number 5$/);
  const p = new MixturePrior(v, { components: 3, pi0: 0.9, means: [-0.5, 0.4], variances: [1e-4, 0.01, 0.02], proportions: [0.9, 0.06, 0.04] });
  const s = p.state();
  assert.deepEqual(s.means.map((x) => +x.toFixed(6)), [0, -0.5, 0.4]);
  assert.ok(s.variances.every((x, j) => Math.abs(x - [1e-4, 0.01, 0.02][j]) < 1e-7 * (1 + x)), `${s.variances}`);
  assert.ok(s.proportions.every((x, j) => Math.abs(x - [0.9, 0.06, 0.04][j]) < 1e-6), `${s.proportions}`);
  p.dispose();
});

/** A small MLP on the first 1,000 mnist-sample digits, trained 2 epochs. */
async function trainedMlp(): Promise<{ m: Model; data: { train: { x: { data: Float32Array; shape: number[] }; y: { data: Int32Array; shape: number[] } }; test: { x: { data: Float32Array; shape: number[] }; y: { data: Int32Array; shape: number[] } } } }> {
  const ds = loadDataset('mnist-sample');
  const n = 1000, t = 500;
  const data = {
    train: { x: { data: ds.xTrain.subarray(0, n * 784), shape: [n, 28, 28, 1] }, y: { data: ds.yTrain.subarray(0, n), shape: [n] } },
    test: { x: { data: ds.xTest.subarray(0, t * 784), shape: [t, 28, 28, 1] }, y: { data: ds.yTest.subarray(0, t), shape: [t] } },
  };
  const m = sequential([new Flatten({ inputShape: [28, 28, 1] }), new Dense({ units: 24, activation: 'relu', name: 'h' }), new Dense({ units: 10, activation: 'softmax', name: 'out' })]).build(1);
  m.compile({ optimizer: { name: 'adam', learningRate: 3e-3 }, loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'] });
  await m.fit(data.train.x, data.train.y, { epochs: 2, batchSize: 32, seed: 1 });
  return { m, data };
}

test('softWeightSharing on mnist-sample: kernels become pruned codebooks of the merged components\' means; report = model; the file round-trips', async () => {
  const { m, data } = await trainedMlp();
  const events: SoftSharingEvent[] = [];
  const r = await softWeightSharing(m, data, { components: 8, pi0: 0.9, tau: 0.05, epochs: 2, batchSize: 50, varianceLr: 1e-2, mixingLr: 1e-2 }, { onProgress: (e) => events.push(e) });
  assert.deepEqual(events.map((e) => e.kind), ['original', 'trainBegin', 'epochEnd', 'epochEnd', 'retrained', 'quantized']);
  assert.ok(r.before.accuracy > 0.8, `trained ${r.before.accuracy}`);
  assert.equal(r.priors.length, 1);
  assert.equal(r.priors[0].means.length, 8);
  const merged = r.merged[0];
  for (const name of ['h', 'out']) {
    const cb = m.getLayer(name).weight('kernel') as CodebookMap;
    assert.ok(cb instanceof CodebookMap, `${name} is a codebook`);
    const w = tidy(() => cb.materialize().f32() as unknown as Tensor) as unknown as Float32Array;
    const centroids = cb.parameters()[0].value.f32();
    // Every element is 0 (the zero component) or one of the merged prior's non-zero means (float32-rounded), which are the centroids.
    for (const x of w) assert.ok(x === 0 || centroids.includes(x), `${name}: ${x} is not a centroid`);
    for (const c of centroids) assert.ok(c === 0 || merged.means.some((mu) => Math.fround(mu) === c), `${name}: centroid ${c} is no component mean`);
    assert.ok(cb.clusters <= merged.means.length - 1 || cb.clusters === 2);
    assert.equal(m.getLayer(name).weight('bias').kind, 'dense');
  }
  const pruned = r.layers.reduce((s, l) => s + l.pruned, 0), total = r.layers.reduce((s, l) => s + l.weights, 0);
  assert.ok(pruned > 0.2 * total, `zero component took ${pruned} of ${total}`);
  const now = m.evaluate(data.test.x, data.test.y, { batchSize: 256 });
  assert.deepEqual([r.quantized.accuracy, r.quantized.loss], [now.accuracy, now.loss]);
  assert.equal(r.finetuned, r.quantized);
  assert.ok(r.quantized.accuracy > 0.6, `quantised accuracy ${r.quantized.accuracy}`);
  assert.equal(r.bits.after, m.weights().reduce((s, w) => s + w.map.stats().bits, 0));
  assert.equal(r.ratio, r.bits.float32 / r.bits.after);
  const back = modelFromCheckpoint(decodeCheckpoint(encodeCheckpoint(modelToCheckpoint(m, { withOptimizer: false })))).model;
  back.compile({ optimizer: 'adam', loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'] });
  assert.deepEqual(back.evaluate(data.test.x, data.test.y, { batchSize: 256 }), now);
  back.dispose();
  m.dispose();
});

test('softWeightSharing: bad options fail before any work, one line naming the option', async () => {
  const { m, data } = await trainedMlp();
  const w0 = m.getWeights().get('h/kernel')!;
  const fails = async (o: object, re: RegExp): Promise<void> => assert.rejects(softWeightSharing(m, data, o), (e: Error) => re.test(e.message) && !e.message.includes('\n'));
  await fails({ tau: -1 }, /^softWeightSharing: tau must be a finite number ≥ 0, got -1$/);
  await fails({ tau: Infinity }, /^softWeightSharing: tau must be a finite number ≥ 0, got Infinity$/);
  await fails({ meanLr: 0 }, /^softWeightSharing: meanLr must be a finite number > 0, got 0$/);
  await fails({ prior: 'net' }, /^softWeightSharing: prior must be 'model' or 'layer', got "net"$/);
  await fails({ components: 3, variances: [0.1, -0.1, 0.1] }, /^softWeightSharing: variances must be > 0, got -0\.1 for component 1$/);
  await fails({ components: 3, pi0: 0.5, proportions: [0.5, 0.3, 0.3] }, /^softWeightSharing: proportions must sum to 1, got 1\.1/);
  await fails({ layers: ['nope'] }, /^layer 'nope' kernel, scheme 'soft-sharing': model 'sequential' has no such layer/);
  assert.deepEqual(m.getWeights().get('h/kernel'), w0);
  assert.equal(m.getLayer('h').weight('kernel').kind, 'dense');
  m.dispose();
});
