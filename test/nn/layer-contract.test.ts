// One contract check for every layer (shape, parameter count, gradients, save/load, one SGD step), on both backends, plus Keras defaults.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { memory, setBackend, tidy } from '../../src/core/engine.js';
import { concat, mul, reshape, sum, tensor } from '../../src/core/ops/index.js';
import { Random } from '../../src/core/random.js';
import { valueAndGrads } from '../../src/core/tape.js';
import type { Tensor } from '../../src/core/tensor.js';
import {
  Activation, Add, AveragePooling2D, Bidirectional, Block, type CallContext, Conv2D, Dense, Dropout, Embedding, Flatten, GRU, input, LayerNormalization,
  LocallyConnected2D, LSTM, MaxPooling2D, MultiHeadAttention, type Layer, type Model, model, PositionEmbedding, sequential, SimpleRNN, SinePositionEncoding,
  transformerBlock,
} from '../../src/nn/index.js';
import { SGD } from '../../src/optim/index.js';
import { decodeCheckpoint, encodeCheckpoint, modelFromCheckpoint, modelToCheckpoint } from '../../src/io/index.js';
import { checkGradients, type GradCheckOptions } from '../helpers/gradcheck.js';
import { compareBits } from '../helpers/compare.js';
import { Rng } from '../helpers/random.js';

/** One layer under test: a fresh instance, the per-sample input shape, and the Keras parameter count. */
interface LayerCase {
  label: string;
  make: () => Layer;
  /** Per-sample input shape [H, W, C] or [features]. */
  inputShape: number[];
  /** Free parameters by Keras' formula. */
  params: number;
  /** Input values: 'spread' keeps |x| ≥ 0.1 (kinks of relu) and distinct by ≥ 0.05 (ties of max pooling). */
  input?: 'uniform' | 'spread';
  /** Run the gradient check in training mode (Dropout: a fixed mask). */
  training?: boolean;
  grad?: GradCheckOptions;
  /** Integer inputs (token ids) drawn from [0, ids): the model input is int32 and only the parameters' gradients are checked. */
  ids?: number;
  /** Per-sample shapes of further inputs (a recurrent layer's initial states); the model is then functional. */
  extraInputs?: number[][];
  /**
   * Moves θ away from its initial values after the build, where the initialisation hides something from the checks:
   * a low-rank delta's zero factor B, whose partner A gets no gradient (and no SGD step) until B moves.
   */
  prepare?: (m: Model) => void;
}

const BATCH = 2;

/** x + tanh(dense(x)) as one layer. */
function residualBlock(n: number, maps: Record<string, string>): Block {
  const x = input({ shape: [n] });
  const y = new Add().apply([x, new Dense({ units: n, activation: 'tanh', name: 'inner' }).apply(x)]);
  return new Block({ inputs: x, outputs: y, maps });
}

/** Writes uniform values in [−0.5, 0.5) into every per-step delta factor B (`…/recurrentKernel/b`) of the model. */
function moveDeltas(m: Model): void {
  for (const { name, param } of m.namedParameters()) {
    if (name.endsWith('recurrentKernel/b')) param.value.backend.write(param.value.buf, new Rng(5).uniforms(param.value.size, -0.5, 0.5));
  }
}

/** Seeded inputs [BATCH, ...shape]: uniform in [−1, 1), or distinct values at least 0.05 apart and away from 0. */
function inputs(shape: number[], kind: 'uniform' | 'spread', seed: number): Float32Array {
  const n = BATCH * shape.reduce((a, b) => a * b, 1);
  const rng = new Rng(seed);
  if (kind === 'uniform') return rng.uniforms(n, -1, 1);
  const perm = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(0, i);
    [perm[i], perm[j]] = [perm[j], perm[i]];
  }
  return Float32Array.from(perm, (v) => {
    const c = (v - (n - 1) / 2) * 0.05;
    return c >= 0 ? c + 0.1 : c - 0.1;
  });
}

/** All of the layer's outputs for inputs `xs`, each flattened per sample and joined: [N, Σ sizes]. */
function joined(layer: Layer, xs: readonly Tensor[], ctx: CallContext): Tensor {
  const ys = layer.callAll(xs, ctx);
  return ys.length === 1 ? ys[0] : concat(ys.map((y) => reshape(y, [y.shape[0], -1])), 1);
}

/**
 * Central differences of L = Σ layer(xs)·R against the taped gradient w.r.t. each of the layer's own
 * parameter tensors (the ones the optimizer steps), perturbed in place through the backend. Same
 * tolerance rule as checkGradients: |a − n| ≤ atol + rtol·max(|a|, |n|).
 */
function checkParamGradients(label: string, layer: Layer, xs: readonly Tensor[], training: boolean, o: GradCheckOptions = {}): void {
  const eps = o.eps ?? 1e-2;
  const rtol = o.rtol ?? 2e-2;
  const atol = o.atol ?? 2e-3;
  const params = layer.parameters().map((p) => p.value);
  tidy(() => {
    const ctx = { training, seed: 11 };
    const y0 = joined(layer, xs, ctx);
    const rng = new Random(o.seed ?? 7);
    const r = tensor(Float32Array.from({ length: y0.size }, () => rng.uniform() * 2 - 1), y0.shape);
    const loss = (): Tensor => sum(mul(joined(layer, xs, ctx), r));
    const { grads } = valueAndGrads(loss, params);
    params.forEach((p, k) => {
      const base = p.f32();
      const analytic = grads[k].f32();
      const stride = Math.max(1, Math.floor(p.size / (o.maxCoords ?? 48)));
      for (let i = 0; i < p.size; i += stride) {
        const h = eps * Math.max(1, Math.abs(base[i]));
        const at = (v: number): number => {
          const d = base.slice();
          d[i] = v;
          p.backend.write(p.buf, d);
          const l = tidy(() => loss().item());
          p.backend.write(p.buf, base);
          return l;
        };
        const numeric = (at(base[i] + h) - at(base[i] - h)) / (2 * h);
        const a = analytic[i];
        assert.ok(Math.abs(a - numeric) <= atol + rtol * Math.max(Math.abs(a), Math.abs(numeric)),
          `${label}: d/d ${layer.name} parameter ${k} [${i}] analytic ${a} vs numeric ${numeric}`);
      }
    });
  });
}

/** The contract every layer meets (Keras run_layer_test): (a) shape, (b) parameter count, (c) gradients, (d) save/load, (e) one SGD step. */
async function checkLayerContract(c: LayerCase, backend: 'ref' | 'wasm'): Promise<void> {
  setBackend(backend);
  const label = `${c.label} (${backend})`;
  const before = memory().tensors;
  const layer = c.make();
  const shapes = [c.inputShape, ...(c.extraInputs ?? [])];
  const want = layer.outputShapes(shapes);
  const dtype = (k: number): 'int32' | undefined => (k === 0 && c.ids ? 'int32' : undefined);
  // One input and one output: a sequential model; else a functional one with an input per shape.
  const ins = shapes.map((s, k) => input({ shape: s, name: k ? `input_${k}` : 'input', dtype: dtype(k) }));
  const m = (shapes.length === 1 && want.length === 1 ? sequential([layer], { inputShape: c.inputShape, inputDType: dtype(0) }) : model({ inputs: ins, outputs: layer.applyAll(ins) })).build(5);
  c.prepare?.(m);
  const xs = shapes.map((s, k) => (dtype(k)
    ? tensor(new Rng(3).ints(BATCH * s.reduce((a, b) => a * b, 1), 0, c.ids! - 1), [BATCH, ...s], 'int32')
    : tensor(inputs(s, c.input ?? 'uniform', 3 + k), [BATCH, ...s])));
  const callAll = (mm: Model): Tensor[] => tidy(() => mm.callAll(xs));
  const release = (ts: Tensor[]): void => ts.forEach((t) => { if (!xs.includes(t)) t.dispose(); }); // identity layers hand back their input
  try {
    // (a) declared output shapes = model's = the real forward outputs'.
    assert.deepEqual(m.outputs.map((o) => o.shape), want, `${label}: model output shapes`);
    assert.deepEqual(layer.outputShape(c.inputShape), want[0], `${label}: outputShape`);
    const ys = callAll(m);
    assert.deepEqual(ys.map((y) => y.shape), want.map((w) => [BATCH, ...w]), `${label}: forward output shapes`);
    release(ys);

    // (b) parameter count = Keras formula, for the layer and the model (each parameter once).
    assert.equal(layer.countParams(), c.params, `${label}: layer.countParams()`);
    assert.equal(m.countParams(), c.params, `${label}: model.countParams()`);
    assert.equal(m.namedParameters().reduce((s, p) => s + p.param.value.size, 0), c.params, `${label}: named parameters`);

    // (c) finite differences w.r.t. every input and every parameter.
    const training = c.training ?? false;
    // 'spread' inputs are ≥ 0.05 apart and |x| ≤ ~3: a step of 5e-3·|x| never crosses a tie or a kink.
    const grad = { ...(c.input === 'spread' ? { eps: 5e-3 } : {}), ...c.grad };
    if (!c.ids) checkGradients(`${label} input`, (...ts) => joined(layer, ts, { training, seed: 11 }), xs, grad);
    checkParamGradients(label, layer, xs, training, grad);

    // (d) save/load: identical config JSON and bit-identical outputs.
    const bytes = encodeCheckpoint(modelToCheckpoint(m, { initSeed: 5 }));
    const { model: back } = modelFromCheckpoint(decodeCheckpoint(bytes));
    try {
      assert.equal(JSON.stringify(back.toJSON()), JSON.stringify(m.toJSON()), `${label}: config JSON after round trip`);
      assert.equal(back.countParams(), c.params, `${label}: parameters after round trip`);
      const [y1, y2] = [callAll(m), callAll(back)];
      y1.forEach((y, k) => {
        const cmp = compareBits(y2[k].f32(), y.f32());
        assert.equal(cmp.message, undefined, `${label}: output ${k} after round trip: ${cmp.message}`);
      });
      release([...y1, ...y2]);
    } finally {
      back.dispose();
    }

    // (e) one SGD step on an MSE target per output changes every parameter and lowers the loss.
    const targets = want.map((w, k) => tensor(new Rng(9 + k).uniforms(BATCH * w.reduce((a, b) => a * b, 1), -1, 1), [BATCH, ...w]));
    try {
      m.compile({ optimizer: new SGD({ learningRate: 1e-2 }), loss: 'mse' });
      const w0 = m.getWeights();
      const l0 = m.evaluate(xs, targets).loss;
      const h = await m.fit(xs, targets, { epochs: 1, batchSize: BATCH, shuffle: false, seed: 1 });
      assert.equal(h.epoch.length, 1);
      const l1 = m.evaluate(xs, targets).loss;
      for (const [name, v1] of m.getWeights()) {
        const v0 = w0.get(name)!;
        assert.ok(v1.some((v, i) => v !== v0[i]), `${label}: SGD step left '${name}' unchanged`);
      }
      if (c.params > 0) assert.ok(l1 < l0, `${label}: loss ${l0} → ${l1} after one SGD step`);
      else assert.equal(l1, l0, `${label}: a layer without parameters cannot change the loss`);
    } finally {
      targets.forEach((t) => t.dispose());
    }
  } finally {
    xs.forEach((x) => x.dispose());
    m.dispose();
  }
  assert.equal(memory().tensors, before, `${label}: tensors leaked`);
}

const cases: LayerCase[] = [
  { label: 'Dense', make: () => new Dense({ units: 3 }), inputShape: [4], params: 4 * 3 + 3 },
  { label: 'Dense tanh on [2, 4] samples', make: () => new Dense({ units: 3, activation: 'tanh' }), inputShape: [2, 4], params: 4 * 3 + 3 },
  { label: 'Dense useBias false', make: () => new Dense({ units: 5, useBias: false }), inputShape: [3], params: 3 * 5 },
  { label: 'Conv2D valid', make: () => new Conv2D({ filters: 3, kernelSize: [2, 3] }), inputShape: [4, 5, 2], params: 2 * 3 * 2 * 3 + 3 },
  { label: 'Conv2D strides 2 same', make: () => new Conv2D({ filters: 2, kernelSize: 3, strides: 2, padding: 'same' }), inputShape: [5, 4, 2], params: 3 * 3 * 2 * 2 + 2 },
  { label: 'Conv2D dilation 2', make: () => new Conv2D({ filters: 2, kernelSize: 2, dilationRate: 2 }), inputShape: [5, 5, 1], params: 2 * 2 * 1 * 2 + 2 },
  { label: 'Conv2D useBias false', make: () => new Conv2D({ filters: 4, kernelSize: 3, useBias: false }), inputShape: [4, 4, 2], params: 3 * 3 * 2 * 4 },
  // oh·ow·kh·kw·c·f + oh·ow·f
  { label: 'LocallyConnected2D valid', make: () => new LocallyConnected2D({ filters: 2, kernelSize: 2 }), inputShape: [4, 3, 2], params: 3 * 2 * (2 * 2 * 2 * 2) + 3 * 2 * 2 },
  { label: 'LocallyConnected2D strides 2', make: () => new LocallyConnected2D({ filters: 3, kernelSize: [3, 2], strides: 2 }), inputShape: [5, 6, 1], params: 2 * 3 * (3 * 2 * 1 * 3) + 2 * 3 * 3 },
  { label: 'MaxPooling2D', make: () => new MaxPooling2D(), inputShape: [4, 5, 2], params: 0, input: 'spread' },
  { label: 'MaxPooling2D 3 stride 2 same', make: () => new MaxPooling2D({ poolSize: 3, strides: 2, padding: 'same' }), inputShape: [5, 5, 2], params: 0, input: 'spread' },
  { label: 'AveragePooling2D', make: () => new AveragePooling2D(), inputShape: [4, 4, 3], params: 0 },
  { label: 'AveragePooling2D same', make: () => new AveragePooling2D({ poolSize: 2, padding: 'same' }), inputShape: [3, 5, 2], params: 0 },
  { label: 'Flatten', make: () => new Flatten(), inputShape: [3, 2, 2], params: 0 },
  { label: 'Dropout (inference)', make: () => new Dropout({ rate: 0.5 }), inputShape: [6], params: 0 },
  { label: 'Dropout (training mask)', make: () => new Dropout({ rate: 0.3 }), inputShape: [3, 4], params: 0, training: true },
  { label: 'Block (residual dense)', make: () => residualBlock(4, {}), inputShape: [4], params: 4 * 4 + 4 },
  { label: 'Block with a low-rank sublayer kernel by path', make: () => residualBlock(6, { 'inner/kernel': 'lowRank:2' }), inputShape: [6], params: 6 * 2 + 2 * 6 + 6 },
  // V·E; ids [2, 5] from a vocabulary of 4 repeat, so rows accumulate several gradients.
  { label: 'Embedding', make: () => new Embedding({ inputDim: 4, outputDim: 3 }), inputShape: [5], params: 4 * 3, ids: 4 },
  { label: 'Embedding maskZero on ids [2, 3]', make: () => new Embedding({ inputDim: 6, outputDim: 2, maskZero: true }), inputShape: [2, 3], params: 6 * 2, ids: 6 },
  // gamma and beta of the normalised axes' shape.
  { label: 'LayerNormalization', make: () => new LayerNormalization(), inputShape: [3, 5], params: 2 * 5 },
  { label: 'LayerNormalization axes [1, 2]', make: () => new LayerNormalization({ axis: [1, 2] }), inputShape: [3, 4], params: 2 * 3 * 4 },
  { label: 'LayerNormalization axis 1 of 3, no center', make: () => new LayerNormalization({ axis: 1, center: false }), inputShape: [4, 3], params: 4 },
  // A table [L, D] (here T = L, so that one SGD step moves every row); the output reads only the input's shape.
  { label: 'PositionEmbedding', make: () => new PositionEmbedding({ sequenceLength: 4 }), inputShape: [4, 3], params: 4 * 3 },
  { label: 'PositionEmbedding with a hashed table', make: () => new PositionEmbedding({ sequenceLength: 5, maps: { embeddings: 'hashed:1/2' } }), inputShape: [5, 4], params: 10 },
  { label: 'SinePositionEncoding', make: () => new SinePositionEncoding(), inputShape: [5, 6], params: 0 },
  // Recurrent layers: F = 3 features, U = 4 units, T = 5 steps (Keras counts: SimpleRNN F·U + U² + U, LSTM 4×, GRU 3× with
  // two bias rows when resetAfter).
  { label: 'SimpleRNN', make: () => new SimpleRNN({ units: 4 }), inputShape: [5, 3], params: 3 * 4 + 16 + 4 },
  { label: 'SimpleRNN relu, returnSequences, goBackwards', make: () => new SimpleRNN({ units: 4, activation: 'relu', returnSequences: true, goBackwards: true }), inputShape: [5, 3], params: 3 * 4 + 16 + 4, input: 'spread', grad: { eps: 1e-3 } },
  { label: 'SimpleRNN returnState with an initial state', make: () => new SimpleRNN({ units: 4, returnState: true }), inputShape: [5, 3], extraInputs: [[4]], params: 3 * 4 + 16 + 4 },
  { label: 'LSTM', make: () => new LSTM({ units: 4 }), inputShape: [5, 3], params: 4 * (3 * 4 + 16 + 4) },
  { label: 'LSTM returnSequences, goBackwards', make: () => new LSTM({ units: 4, returnSequences: true, goBackwards: true }), inputShape: [5, 3], params: 4 * (3 * 4 + 16 + 4) },
  { label: 'LSTM returnState with initial states', make: () => new LSTM({ units: 4, returnState: true, returnSequences: true }), inputShape: [5, 3], extraInputs: [[4], [4]], params: 4 * (3 * 4 + 16 + 4) },
  { label: 'LSTM implementation 1, no bias', make: () => new LSTM({ units: 4, implementation: 1, useBias: false }), inputShape: [5, 3], params: 4 * (3 * 4 + 16) },
  { label: 'LSTM dropout and recurrentDropout (training masks)', make: () => new LSTM({ units: 4, dropout: 0.3, recurrentDropout: 0.3, returnSequences: true }), inputShape: [5, 3], params: 4 * (3 * 4 + 16 + 4), training: true },
  // Shared weights: a low-rank kernel (3·2 + 2·16) and a hashed recurrent kernel (1/4 of 4·16 buckets).
  { label: 'LSTM with a low-rank kernel and a hashed recurrent kernel', make: () => new LSTM({ units: 4, maps: { kernel: 'lowRank:2', recurrentKernel: 'hashed:1/4' } }), inputShape: [5, 3], params: 3 * 2 + 2 * 16 + 16 + 16 },
  { label: 'GRU', make: () => new GRU({ units: 4 }), inputShape: [5, 3], params: 3 * (3 * 4 + 16 + 2 * 4) },
  { label: 'GRU returnSequences, goBackwards, returnState', make: () => new GRU({ units: 4, returnSequences: true, goBackwards: true, returnState: true }), inputShape: [5, 3], params: 3 * (3 * 4 + 16 + 2 * 4) },
  { label: 'GRU resetAfter false with an initial state', make: () => new GRU({ units: 4, resetAfter: false }), inputShape: [5, 3], extraInputs: [[4]], params: 3 * (3 * 4 + 16 + 4) },
  // Per-step recurrent kernels (steps S): untied S·U·G·U; rank r U·G·U + S·r·(U + G·U) (W₀, A, B); rank 0 U·G·U.
  { label: 'SimpleRNN untied, 3 per-step kernels for 5 steps', make: () => new SimpleRNN({ units: 4, steps: 3, timeSharing: 'untied' }), inputShape: [5, 3], params: 3 * 4 + 3 * 16 + 4 },
  { label: 'LSTM rank-1 per-step kernels, returnSequences, goBackwards', make: () => new LSTM({ units: 4, steps: 5, timeSharing: { rank: 1 }, returnSequences: true, goBackwards: true }), inputShape: [5, 3], params: 3 * 16 + 16 + 4 * 16 + 5 * (4 + 16), prepare: moveDeltas },
  { label: 'GRU rank-2 per-step kernels (4 for 5 steps), returnState with an initial state', make: () => new GRU({ units: 4, steps: 4, timeSharing: { rank: 2 }, returnState: true }), inputShape: [5, 3], extraInputs: [[4]], params: 3 * 12 + 2 * 12 + 4 * 12 + 4 * 2 * (4 + 12), prepare: moveDeltas },
  { label: 'GRU rank-0 per-step kernels (one shared W₀)', make: () => new GRU({ units: 4, steps: 6, timeSharing: { rank: 0 } }), inputShape: [5, 3], params: 3 * (3 * 4 + 16 + 2 * 4) },
  { label: 'Bidirectional GRU with rank-1 per-step kernels', make: () => new Bidirectional({ layer: new GRU({ units: 3, steps: 4, timeSharing: { rank: 1 } }) }), inputShape: [4, 3], params: 2 * (3 * 9 + 2 * 9 + 3 * 9 + 4 * (3 + 9)), prepare: moveDeltas },
  { label: 'Bidirectional LSTM (concat)', make: () => new Bidirectional({ layer: new LSTM({ units: 3 }) }), inputShape: [4, 3], params: 2 * 4 * (3 * 3 + 9 + 3) },
  { label: 'Bidirectional LSTM with a low-rank backward kernel by path', make: () => new Bidirectional({ layer: new LSTM({ units: 3 }), maps: { 'backward_lstm/kernel': 'lowRank:1' } }), inputShape: [4, 3], params: 4 * (3 * 3 + 9 + 3) + 4 * (9 + 3) + 3 + 12 },
  { label: 'Bidirectional GRU returnSequences (ave)', make: () => new Bidirectional({ layer: new GRU({ units: 3, returnSequences: true }), mergeMode: 'ave' }), inputShape: [4, 3], params: 2 * 3 * (3 * 3 + 9 + 2 * 3) },
  { label: 'Bidirectional SimpleRNN returnState, initial states, mergeMode null', make: () => new Bidirectional({ layer: new SimpleRNN({ units: 3, returnSequences: true, returnState: true }), mergeMode: null }), inputShape: [4, 3], extraInputs: [[3], [3]], params: 2 * (3 * 3 + 9 + 3) },
  // Attention: per projection dq·H·Dk + H·Dk (value H·Dv), output H·Dv·out + out (Keras' count).
  { label: 'MultiHeadAttention self-attention', make: () => new MultiHeadAttention({ numHeads: 2, keyDim: 3 }), inputShape: [4, 5], params: 3 * (5 * 2 * 3 + 2 * 3) + 2 * 3 * 5 + 5 },
  {
    label: 'MultiHeadAttention causal, [query, value, key], valueDim 2, outputShape 3, no bias',
    make: () => new MultiHeadAttention({ numHeads: 2, keyDim: 3, valueDim: 2, outputShape: 3, useBias: false, useCausalMask: true }),
    inputShape: [3, 4], extraInputs: [[5, 6], [5, 2]], params: 4 * 2 * 3 + 2 * 2 * 3 + 6 * 2 * 2 + 2 * 2 * 3,
  },
  // A low-rank query kernel over its matrix view [6, 2·3] (rank 2: 2·(6 + 6)) and a hashed value kernel (36 / 4 buckets).
  {
    label: 'MultiHeadAttention with a low-rank query kernel and a hashed value kernel by path',
    make: () => new MultiHeadAttention({ numHeads: 2, keyDim: 3, maps: { 'query/kernel': 'lowRank:2', 'value/kernel': 'hashed:1/4' } }),
    inputShape: [4, 6], params: 2 * (6 + 6) + 6 + (36 + 6) + 9 + 6 + (36 + 6),
  },
  { label: 'MultiHeadAttention causal with dropout (training mask)', make: () => new MultiHeadAttention({ numHeads: 3, keyDim: 2, dropout: 0.3, useCausalMask: true }), inputShape: [5, 4], params: 3 * (4 * 3 * 2 + 3 * 2) + 3 * 2 * 4 + 4, training: true },
  // A pre-norm transformer block (Block of two sub-blocks): LN 2·D + 4 projections 4·(D² + D); LN 2·D + D·F + F + F·D + D.
  { label: 'Block: a pre-norm transformer block', make: () => transformerBlock([3, 4], { heads: 2, ffDim: 6 }), inputShape: [3, 4], params: 8 + 4 * 20 + 8 + 24 + 6 + 24 + 4 },
  {
    label: 'Block: a transformer block with dropout (training masks) and a low-rank feed-forward kernel', training: true,
    make: () => transformerBlock([4, 6], { heads: 3, ffDim: 5, dropout: 0.2, maps: { 'feed_forward/intermediate/kernel': 'lowRank:2' } }),
    inputShape: [4, 6], params: 12 + 4 * 42 + 12 + 2 * (6 + 5) + 5 + 5 * 6 + 6,
  },
  ...(['relu', 'sigmoid', 'tanh', 'softmax', 'gelu'] as const).map((a): LayerCase => ({
    label: `Activation ${a}`, make: () => new Activation({ activation: a }), inputShape: [5], params: 0, input: a === 'relu' ? 'spread' : 'uniform',
  })),
];

for (const backend of ['ref', 'wasm'] as const) {
  describe(`layer contract (${backend})`, () => {
    for (const c of cases) test(c.label, () => checkLayerContract(c, backend));
  });
}

describe('Dropout', () => {
  const n = 4000;
  const x = (): Tensor => tensor(new Float32Array(n).fill(2), [8, n / 8]);

  test('is the identity at inference', () => {
    setBackend('wasm');
    const d = new Dropout({ rate: 0.4, name: 'dropout' });
    const xs = x();
    const y = d.call(xs, { training: false, seed: 3 });
    assert.equal(y, xs);
    xs.dispose();
  });

  test('in training zeroes about `rate` of the values, scales survivors by 1/(1−rate), and the same seed gives the same mask', () => {
    for (const backend of ['ref', 'wasm'] as const) {
      setBackend(backend);
      const rate = 0.3;
      const d = new Dropout({ rate, name: 'dropout' });
      tidy(() => {
        const xs = x();
        const a = d.call(xs, { training: true, seed: 3 }).f32();
        const b = d.call(xs, { training: true, seed: 3 }).f32();
        const c = d.call(xs, { training: true, seed: 4 }).f32();
        const zeros = a.filter((v) => v === 0).length;
        // Binomial(4000, 0.3): sd ≈ 29, so ±5 sd is ±0.036 of the rate.
        assert.ok(Math.abs(zeros / n - rate) < 0.036, `${backend}: ${zeros} zeros of ${n}, rate ${rate}`);
        const scaled = Math.fround(2 / (1 - rate));
        for (const v of a) if (v !== 0) assert.ok(Math.abs(v - scaled) < 1e-6, `${backend}: survivor ${v}, want ${scaled}`);
        assert.equal(compareBits(b, a).message, undefined, `${backend}: same seed, same mask`);
        assert.ok(c.some((v, i) => v !== a[i]), `${backend}: another seed gives another mask`);
      });
    }
  });
});

describe('Keras defaults', () => {
  test('glorot-uniform kernels lie within ±sqrt(6/(fanIn+fanOut)) with variance limit²/3; biases start at zero', () => {
    setBackend('wasm');
    const m = sequential([new Dense({ units: 32 }), new Dense({ units: 16 })], { inputShape: [64] }).build(1);
    const c = sequential([new Conv2D({ filters: 16, kernelSize: 3 })], { inputShape: [8, 8, 8] }).build(1);
    const check = (w: Map<string, Float32Array>, name: string, fanIn: number, fanOut: number): void => {
      const k = w.get(name)!;
      const limit = Math.sqrt(6 / (fanIn + fanOut));
      for (const v of k) assert.ok(Math.abs(v) <= limit, `${name}: ${v} outside ±${limit}`);
      const variance = k.reduce((s, v) => s + v * v, 0) / k.length;
      // n ≥ 512 draws: the sample variance of U(−a, a) is a²/3 with relative sd ≤ 4 %; allow 15 %.
      assert.ok(Math.abs(variance / (limit * limit / 3) - 1) < 0.15, `${name}: variance ${variance}, want ${limit * limit / 3}`);
    };
    const wm = m.getWeights();
    check(wm, 'dense/kernel', 64, 32);
    check(wm, 'dense_1/kernel', 32, 16);
    check(c.getWeights(), 'conv2d/kernel', 3 * 3 * 8, 3 * 3 * 16);
    for (const [name, v] of [...wm, ...c.getWeights()]) if (name.endsWith('/bias')) assert.ok(v.every((b) => b === 0), `${name} not zero`);
    m.dispose();
    c.dispose();
  });

  test('default names follow Keras: dense, dense_1, conv2d, max_pooling2d, flatten', () => {
    const m = sequential([
      new Conv2D({ filters: 2, kernelSize: 3 }), new MaxPooling2D(), new Conv2D({ filters: 2, kernelSize: 1 }), new Flatten(),
      new Dense({ units: 4 }), new Dense({ units: 2 }),
    ], { inputShape: [6, 6, 1] });
    assert.deepEqual(m.layers.map((l) => l.name), ['conv2d', 'max_pooling2d', 'conv2d_1', 'flatten', 'dense', 'dense_1']);
    assert.deepEqual([...m.build(0).getWeights().keys()], [
      'conv2d/kernel', 'conv2d/bias', 'conv2d_1/kernel', 'conv2d_1/bias', 'dense/kernel', 'dense/bias', 'dense_1/kernel', 'dense_1/bias',
    ]);
    m.dispose();
  });
});
