// SimpleRNN, LSTM, GRU and Bidirectional: PyTorch fixtures (outputs and gradients), Keras semantics (masks, go_backwards,
// initial and returned states, dropout), initialisers and errors, on both backends and both implementations.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { memory, setBackend, tidy } from '../../src/core/engine.js';
import { add, concat, gather, matmul, mul, reshape, rnnSequence, slice, sum, tensor, zeros } from '../../src/core/ops/index.js';
import { valueAndGrads } from '../../src/core/tape.js';
import type { Tensor } from '../../src/core/tensor.js';
import {
  Bidirectional, GRU, input, type Layer, layers, LSTM, type Model, model, Recurrent, SimpleRNN,
} from '../../src/nn/index.js';
import { decodeCheckpoint, encodeCheckpoint, modelFromCheckpoint, modelToCheckpoint } from '../../src/io/index.js';
import { createWasmBackend } from '../../src/backend/wasm/wasm.js';
import { compareBits } from '../helpers/compare.js';
import { Rng } from '../helpers/random.js';

interface Arr {
  shape: number[];
  data: number[];
}
interface FixtureCase {
  name: string;
  layer: 'LSTM' | 'GRU' | 'SimpleRNN';
  options: {
    units: number; goBackwards: boolean; activation: 'tanh' | 'relu' | 'sigmoid' | 'linear'; resetAfter?: boolean; zeroOutputForMask?: boolean;
    recurrentActivation?: 'hard_sigmoid'; returnSequences?: boolean; useBias?: boolean;
  };
  inputs: Record<string, Arr>;
  outputs: Record<string, Arr>;
}

function fixture(): FixtureCase[] {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) dir = dirname(dir);
  return (JSON.parse(readFileSync(join(dir, 'test', 'fixtures', 'rnn.json'), 'utf8')) as { cases: FixtureCase[] }).cases;
}

const t = (a: Arr): Tensor => tensor(Float32Array.from(a.data), a.shape);

/** |got − want| ≤ atol + rtol·|want| everywhere. */
function near(what: string, got: Tensor, want: Arr, atol = 2e-5, rtol = 1e-4): void {
  assert.deepEqual(got.shape, want.shape, `${what}: shape`);
  const g = got.f32();
  want.data.forEach((w, i) => assert.ok(Math.abs(g[i] - w) <= atol + rtol * Math.abs(w), `${what}[${i}]: ${g[i]} vs torch ${w}`));
}

/** A recurrent layer by class name. */
function make(name: FixtureCase['layer'], o: ConstructorParameters<typeof LSTM>[0] & { resetAfter?: boolean }): Recurrent {
  return name === 'LSTM' ? new LSTM(o) : name === 'GRU' ? new GRU(o) : new SimpleRNN(o);
}

/** Writes θ of a dense weight. */
function setWeight(l: Layer, name: string, a: Arr): void {
  const p = l.weight(name).parameters()[0].value;
  assert.deepEqual(p.shape, a.shape, `${l.name}/${name} shape`);
  p.backend.write(p.buf, Float32Array.from(a.data));
}

for (const backend of ['ref', 'wasm'] as const) {
  describe(`recurrent layers vs PyTorch (${backend})`, () => {
    for (const c of fixture()) {
      for (const implementation of [1, 2] as const) {
        test(`${c.name}, implementation ${implementation}`, () => {
          setBackend(backend);
          const before = memory().tensors;
          const { inputs: i, outputs: o } = c;
          const [, steps, features] = i.x.shape;
          const lstm = c.layer === 'LSTM';
          const layer = make(c.layer, { ...c.options, returnSequences: c.options.returnSequences ?? true, returnState: true, implementation, name: 'rnn' });
          layer.build([[steps, features], [c.options.units], ...(lstm ? [[c.options.units]] : [])], 1);
          const weights = ['kernel', 'recurrentKernel', ...(c.options.useBias === false ? [] : ['bias'])];
          assert.equal(layer.parameters().length, weights.length, 'weights');
          for (const w of weights) setWeight(layer, w, i[w]);
          tidy(() => {
            const xs = [t(i.x), t(i.h0), ...(lstm ? [t(i.c0)] : [])];
            const params = weights.map((w) => layer.weight(w).parameters()[0].value);
            const ctx = { training: false, seed: 0, masks: i.mask ? [t(i.mask)] : undefined };
            let outs: Tensor[] = [];
            const { grads } = valueAndGrads(() => {
              outs = layer.callAll(xs, ctx);
              const r = [t(i.ry), t(i.rh), ...(lstm ? [t(i.rc)] : [])];
              return outs.map((y, k) => sum(mul(y, r[k]))).reduce((a, b) => add(a, b));
            }, [...xs, ...params]);
            near('y', outs[0], o.y);
            near('h', outs[1], o.h);
            if (lstm) near('c', outs[2], o.c);
            const names = ['dx', 'dh0', ...(lstm ? ['dc0'] : []), ...weights.map((w) => `d${w}`)];
            names.forEach((n, k) => near(n, grads[k], o[n], 1e-4, 2e-4));
          });
          layer.dispose();
          assert.equal(memory().tensors, before, 'tensors leaked');
        });
      }
    }
  });
}

/** Seeded inputs [n, steps, features] in [−1, 1). */
function seq(n: number, steps: number, features: number, seed: number): Tensor {
  return tensor(new Rng(seed).uniforms(n * steps * features, -1, 1), [n, steps, features]);
}

/** A built layer for sequences [steps, features] (with initial states when `states`). */
function built<L extends Layer>(l: L, steps: number, features: number, states: number[][] = []): L {
  l.build([[steps, features], ...states], 7);
  return l;
}

/** The elements of y along time (axis 1) in reverse order. */
function flipTime(y: Tensor): Tensor {
  const steps = y.shape[1];
  return gather(y, tensor(Int32Array.from({ length: steps }, (_, i) => steps - 1 - i), [steps], 'int32'), 1);
}

const cells = [
  ['SimpleRNN', (o: object) => new SimpleRNN({ units: 5, ...o })],
  ['LSTM', (o: object) => new LSTM({ units: 5, ...o })],
  ['GRU', (o: object) => new GRU({ units: 5, ...o })],
  ['GRU resetAfter false', (o: object) => new GRU({ units: 5, resetAfter: false, ...o })],
] as const;

for (const backend of ['ref', 'wasm'] as const) {
  describe(`recurrent layers, Keras semantics (${backend})`, () => {
    for (const [label, mk] of cells) {
      test(`${label}: implementation 1 (small ops) and 2 (fused) agree, with a mask and goBackwards`, () => {
        setBackend(backend);
        tidy(() => {
          const mask = tensor([[1, 1, 0, 1, 0, 1], [0, 1, 1, 1, 1, 0], [1, 1, 1, 1, 1, 1]]);
          for (const goBackwards of [false, true]) {
            const [a, b] = [1, 2].map((implementation) => built(mk({ returnSequences: true, returnState: true, goBackwards, implementation, seed: 3 }), 6, 4));
            const x = seq(3, 6, 4, 11);
            const ya = a.callAll([x], { training: false, seed: 0, masks: [mask] });
            const yb = b.callAll([x], { training: false, seed: 0, masks: [mask] });
            ya.forEach((y, k) => {
              const d = y.f32().reduce((m, v, i) => Math.max(m, Math.abs(v - yb[k].f32()[i])), 0);
              assert.ok(d < 1e-6, `${label} goBackwards ${goBackwards} output ${k}: max difference ${d}`);
            });
            a.dispose();
            b.dispose();
          }
        });
      });

      test(`${label}: a masked step keeps the state and repeats the previous output; padding at the end changes nothing`, () => {
        setBackend(backend);
        tidy(() => {
          const l = built(mk({ returnSequences: true, returnState: true }), 5, 3);
          const x = seq(2, 5, 3, 12);
          const mask = tensor([[1, 1, 1, 0, 0], [1, 0, 1, 1, 0]]);
          const [y, h] = l.callAll([x], { training: false, seed: 0, masks: [mask] });
          const yv = y.f32();
          const u = 5;
          const row = (n: number, s: number): number[] => Array.from(yv.subarray((n * 5 + s) * u, (n * 5 + s + 1) * u));
          assert.deepEqual(row(0, 3), row(0, 2), 'sample 0, step 3 (masked) repeats step 2');
          assert.deepEqual(row(0, 4), row(0, 2), 'sample 0, step 4 (masked) repeats step 2');
          assert.deepEqual(row(1, 1), row(1, 0), 'sample 1, step 1 (masked) repeats step 0');
          assert.deepEqual(Array.from(h.f32().subarray(0, u)), row(0, 2), 'final state of sample 0 = its last real step');
          // Sample 0 with its padding cut off: the same final state and the same outputs.
          const [y3, h3] = l.callAll([slice(x, [0, 0, 0], [1, 3, 3])], { training: false, seed: 0 });
          assert.equal(compareBits(y3.f32(), yv.subarray(0, 3 * u)).message, undefined, 'outputs of the unpadded sequence');
          assert.equal(compareBits(h3.f32(), h.f32().subarray(0, u)).message, undefined, 'final state of the unpadded sequence');
          // A mask of ones is no mask.
          const [y1] = l.callAll([x], { training: false, seed: 0, masks: [tensor(new Float32Array(10).fill(1), [2, 5])] });
          const [y0] = l.callAll([x], { training: false, seed: 0 });
          assert.equal(compareBits(y1.f32(), y0.f32()).message, undefined, 'mask of ones');
          l.dispose();
        });
      });

      test(`${label}: leading masked steps output zeros (zeroOutputForMask: every masked step)`, () => {
        setBackend(backend);
        tidy(() => {
          const mask = tensor([[0, 1, 0, 1]]);
          for (const zeroOutputForMask of [false, true]) {
            const l = built(mk({ returnSequences: true, zeroOutputForMask }), 4, 2, [[5], ...(label === 'LSTM' ? [[5]] : [])]);
            const h0 = tensor(new Rng(4).uniforms(5, -1, 1), [1, 5]);
            const states = label === 'LSTM' ? [h0, h0] : [h0];
            const y = l.callAll([seq(1, 4, 2, 13), ...states], { training: false, seed: 0, masks: [mask] })[0].f32();
            assert.ok(y.subarray(0, 5).every((v) => v === 0), `step 0 is masked: zeros, not h0 (${y.subarray(0, 5)})`);
            const step2 = Array.from(y.subarray(10, 15));
            assert.deepEqual(step2, zeroOutputForMask ? [0, 0, 0, 0, 0] : Array.from(y.subarray(5, 10)), `step 2 (zeroOutputForMask ${zeroOutputForMask})`);
            l.dispose();
          }
        });
      });

      test(`${label}: goBackwards reads the sequence from its end and returns the outputs in that order`, () => {
        setBackend(backend);
        tidy(() => {
          const fwd = built(mk({ returnSequences: true, seed: 9 }), 4, 3);
          const bwd = built(mk({ returnSequences: true, seed: 9, goBackwards: true }), 4, 3);
          const x = seq(2, 4, 3, 14);
          const a = bwd.call(x, { training: false, seed: 0 });
          const b = fwd.call(flipTime(x), { training: false, seed: 0 });
          assert.equal(compareBits(a.f32(), b.f32()).message, undefined);
          fwd.dispose();
          bwd.dispose();
        });
      });
    }

    test('returnState, initial states and the last output', () => {
      setBackend(backend);
      tidy(() => {
        const l = built(new LSTM({ units: 3, returnState: true }), 4, 2, [[3], [3]]);
        const x = seq(2, 4, 2, 15);
        const [y, h, c] = l.callAll([x], { training: false, seed: 0 });
        assert.deepEqual([y.shape, h.shape, c.shape], [[2, 3], [2, 3], [2, 3]]);
        assert.equal(compareBits(y.f32(), h.f32()).message, undefined, 'without a mask the last output is h');
        const z = zeros([2, 3]);
        const [y0] = l.callAll([x, z, z], { training: false, seed: 0 });
        assert.equal(compareBits(y0.f32(), y.f32()).message, undefined, 'zero initial states = none');
        const [y1] = l.callAll([x, h, c], { training: false, seed: 0 });
        assert.ok(y1.f32().some((v, i) => v !== y.f32()[i]), 'other initial states change the output');
        // Running 4 steps then 4 more from the returned states = running the 8 steps at once.
        const l8 = new LSTM({ units: 3, returnState: true });
        l8.build([[8, 2]], 7);
        for (const w of ['kernel', 'recurrentKernel', 'bias']) setWeight(l8, w, { shape: l.weight(w).shape as number[], data: Array.from(l.weight(w).parameters()[0].value.f32()) });
        const x2 = seq(2, 4, 2, 16);
        const [, h8] = l8.callAll([concat([x, x2], 1)], { training: false, seed: 0 });
        const [, h4] = l.callAll([x2, h, c], { training: false, seed: 0 });
        const d = h8.f32().reduce((m, v, i) => Math.max(m, Math.abs(v - h4.f32()[i])), 0);
        assert.ok(d < 1e-6, `8 steps at once vs 4 + 4: ${d}`);
        l.dispose();
        l8.dispose();
      });
    });

    test('dropout: one input mask per sequence (implementation 2), per gate (implementation 1); recurrentDropout: one mask per sequence', () => {
      setBackend(backend);
      tidy(() => {
        // Linear SimpleRNN with U = 0: y_t = (x_t ⊙ m)·W, so constant inputs give the same output at every step iff the mask is.
        const l = built(new SimpleRNN({ units: 6, activation: 'linear', dropout: 0.5, returnSequences: true, useBias: false }), 5, 8);
        setWeight(l, 'recurrentKernel', { shape: [6, 6], data: new Array(36).fill(0) });
        const x = tensor(new Float32Array(2 * 5 * 8).fill(1), [2, 5, 8]);
        const train = l.call(x, { training: true, seed: 1, path: 'rnn' }).f32();
        const infer = l.call(x, { training: false, seed: 1 }).f32();
        for (let n = 0; n < 2; n++) for (let s = 1; s < 5; s++) {
          assert.deepEqual(Array.from(train.subarray((n * 5 + s) * 6, (n * 5 + s + 1) * 6)), Array.from(train.subarray(n * 30, n * 30 + 6)), `sample ${n} step ${s}: same mask`);
        }
        assert.ok(train.some((v, i) => v !== infer[i]), 'training drops inputs');
        assert.notDeepEqual(Array.from(train.subarray(0, 6)), Array.from(train.subarray(30, 36)), 'each sample has its own mask');
        const again = l.call(x, { training: true, seed: 1, path: 'rnn' }).f32();
        assert.equal(compareBits(again, train).message, undefined, 'same seed and path, same masks');
        l.dispose();
        // Recurrent dropout, linear, x·W = e (constant), U = I: h1 = e + h0⊙m, h2 = e + h1⊙m with the same m.
        const r = built(new SimpleRNN({ units: 4, activation: 'linear', recurrentDropout: 0.5, returnSequences: true, useBias: false }), 2, 1, [[4]]);
        assert.equal(r.implementation, 1, 'recurrentDropout selects implementation 1, as in Keras');
        setWeight(r, 'recurrentKernel', { shape: [4, 4], data: [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1] });
        setWeight(r, 'kernel', { shape: [1, 4], data: [0.5, -0.25, 1, 2] });
        const h0 = tensor([[1, 2, 3, 4], [-1, -2, 1, 3]]);
        const y = r.callAll([tensor(new Float32Array(4).fill(1), [2, 2, 1]), h0], { training: true, seed: 5, path: 'r' })[0].f32();
        const e = [0.5, -0.25, 1, 2];
        let dropped = 0;
        for (let n = 0; n < 2; n++) for (let j = 0; j < 4; j++) {
          const h1 = y[n * 8 + j];
          const m = (h1 - e[j]) / h0.f32()[n * 4 + j];
          assert.ok(Math.abs(m) < 1e-6 || Math.abs(m - 2) < 1e-6, `mask value ${m} is 0 or 1/(1 − 0.5)`);
          if (Math.abs(m) < 1e-6) dropped++;
          assert.ok(Math.abs(y[n * 8 + 4 + j] - (e[j] + h1 * m)) < 1e-5, `sample ${n} unit ${j}: step 2 uses step 1's mask`);
        }
        assert.ok(dropped > 0 && dropped < 8, `${dropped} of 8 recurrent units dropped`);
        r.dispose();
      });
    });
  });
}

describe('recurrent layers: weights, initialisers, config and errors', () => {
  test('Keras parameter counts, weight shapes, roles, orthogonal recurrent kernels and the unit forget bias', () => {
    setBackend('wasm');
    const f = 3;
    const u = 4;
    const expect: [Recurrent, number, number[]][] = [
      [new SimpleRNN({ units: u }), f * u + u * u + u, [u]],
      [new LSTM({ units: u }), 4 * (f * u + u * u + u), [4 * u]],
      [new GRU({ units: u }), 3 * (f * u + u * u + 2 * u), [2, 3 * u]],
      [new GRU({ units: u, resetAfter: false }), 3 * (f * u + u * u + u), [3 * u]],
    ];
    for (const [l, params, biasShape] of expect) {
      l.build([5, f], 1);
      assert.equal(l.countParams(), params, `${l.className} parameters`);
      assert.deepEqual(l.weights().map((w) => [w.path, w.role, w.map.shape]), [
        ['kernel', 'kernel', [f, l.gates * u]], ['recurrentKernel', 'recurrentKernel', [u, l.gates * u]], ['bias', 'bias', biasShape],
      ]);
      // Orthogonal [U, G·U] (U ≤ G·U): orthonormal rows, R·Rᵀ = I.
      const rk = l.weight('recurrentKernel').parameters()[0].value;
      const rrt = matmul(rk, rk, false, true).f32();
      rrt.forEach((v, i) => assert.ok(Math.abs(v - (i % (u + 1) === 0 ? 1 : 0)) < 1e-5, `${l.className}: (R·Rᵀ)[${i}] = ${v}`));
      const b = l.weight('bias').parameters()[0].value.f32();
      const ones = l instanceof LSTM ? [u, 2 * u] : [0, 0];
      b.forEach((v, i) => assert.equal(v, i >= ones[0] && i < ones[1] ? 1 : 0, `${l.className} bias[${i}]`));
      l.dispose();
    }
    // A tall orthogonal matrix (rows > cols) has orthonormal columns.
    const k = new LSTM({ units: 2, kernelInitializer: 'orthogonal', unitForgetBias: false });
    k.build([3, 20], 2);
    const w = k.weight('kernel').parameters()[0].value;
    matmul(w, w, true, false).f32().forEach((v, i) => assert.ok(Math.abs(v - (i % 9 === 0 ? 1 : 0)) < 1e-5, `WᵀW[${i}] = ${v}`));
    assert.ok(k.weight('bias').parameters()[0].value.f32().every((v) => v === 0), 'unitForgetBias false: zeros');
    k.dispose();
  });

  test('save/load: a model with LSTM, GRU and Bidirectional rebuilds from its config with bit-identical outputs', () => {
    setBackend('wasm');
    const x = input({ shape: [6, 3] });
    const y1 = layers.bidirectional({ layer: layers.gru({ units: 4, returnSequences: true }), mergeMode: 'sum' }).apply(x);
    const y2 = layers.lstm({ units: 5, goBackwards: true, dropout: 0.2 }).apply(y1);
    const y3 = layers.simpleRNN({ units: 2, activation: 'relu' }).apply(x);
    const m = model({ inputs: x, outputs: [y2, y3] }).build(3);
    assert.deepEqual([...m.getWeights().keys()], [
      'bidirectional/forward_gru/kernel', 'bidirectional/forward_gru/recurrentKernel', 'bidirectional/forward_gru/bias',
      'bidirectional/backward_gru/kernel', 'bidirectional/backward_gru/recurrentKernel', 'bidirectional/backward_gru/bias',
      'lstm/kernel', 'lstm/recurrentKernel', 'lstm/bias', 'simple_rnn/kernel', 'simple_rnn/recurrentKernel', 'simple_rnn/bias',
    ]);
    const back = modelFromCheckpoint(decodeCheckpoint(encodeCheckpoint(modelToCheckpoint(m, { initSeed: 3 })))).model;
    assert.equal(JSON.stringify(back.toJSON()), JSON.stringify(m.toJSON()));
    tidy(() => {
      const xs = seq(2, 6, 3, 17);
      const [a, b] = [m.callAll(xs), back.callAll(xs)];
      a.forEach((t, k) => assert.equal(compareBits(b[k].f32(), t.f32()).message, undefined, `output ${k}`));
    });
    const f = back.getLayer('bidirectional/forward_gru') as GRU;
    const bw = back.getLayer('bidirectional/backward_gru') as GRU;
    assert.deepEqual([f.goBackwards, bw.goBackwards, f.zeroOutputForMask, bw.zeroOutputForMask], [false, true, true, true]);
    m.dispose();
    back.dispose();
  });

  test('bad input: one-line errors naming the layer and the shape', () => {
    setBackend('wasm');
    assert.throws(() => new LSTM({ units: 0 }), /layer 'lstm': units must be an integer ≥ 1, got 0/);
    assert.throws(() => new GRU({ units: 3, dropout: 1 }), /layer 'gru': dropout must be in \[0, 1\), got 1/);
    assert.throws(() => new SimpleRNN({ units: 3, activation: 'swish' as never }), /layer 'simple_rnn': unknown activation 'swish'/);
    const l = layers.lstm({ units: 4 });
    assert.throws(() => l.apply(input({ shape: [5] })), /layer 'lstm' \(LSTM\): needs inputs \[N, T, features\] with T ≥ 1, got \(None, 5\)/);
    const x = input({ shape: [5, 2] });
    assert.throws(() => l.apply([x, input({ shape: [4] })]), /takes the sequence and optionally 2 initial states \(h, c\), got 2 inputs: \(None, 5, 2\), \(None, 4\)/);
    assert.throws(() => l.apply([x, input({ shape: [3] }), input({ shape: [4] })]), /layer 'lstm' \(LSTM\): initial state h must be \(None, 4\), got \(None, 3\)/);
    const g = built(new GRU({ units: 3, name: 'enc' }), 4, 2);
    tidy(() => {
      assert.throws(() => g.call(tensor(new Float32Array(8), [4, 2]), { training: false, seed: 0 }), /layer 'enc' \(GRU\): needs inputs \[N, T, features\], got \[4,2\]/);
      assert.throws(() => g.callAll([seq(2, 4, 2, 1), zeros([3, 3])], { training: false, seed: 0 }), /layer 'enc' \(GRU\): initial states must have the batch size 2 of the sequence \[2,4,2\], got \[3,3\]/);
      assert.throws(() => g.call(seq(2, 4, 2, 1), { training: false, seed: 0, masks: [zeros([2, 3])] }), /layer 'enc' \(GRU\): a mask for inputs \[2,4,2\] must be float32 \[2, 4\], got float32 \[2,3\]/);
    });
    g.dispose();
    tidy(() => {
      const p = zeros([2, 3, 8]);
      assert.throws(() => rnnSequence(p, zeros([2, 6]), zeros([2, 2]), { cell: 'lstm', activation: 'tanh' }), /rnnSequence: lstm needs projections p \[N, T, 4·U\] and recurrent kernel u \[U, 4·U\], got p \[2,3,8\] and u \[2,6\]/);
      assert.throws(() => rnnSequence(p, zeros([2, 8]), zeros([2, 2]), { cell: 'lstm', activation: 'tanh' }), /rnnSequence: lstm needs initial cell state c0 \[2,2\]/);
      assert.throws(() => rnnSequence(p, zeros([2, 8]), zeros([3, 2]), { cell: 'lstm', activation: 'tanh', c0: zeros([2, 2]) }), /rnnSequence: initial state h0 must be \[2,2\] for p \[2,3,8\], got \[3,2\]/);
      const ids = tensor(Int32Array.from([0, 1, 4, 2, 0, 1]), [2, 3], 'int32');
      const lstmOpts = { cell: 'lstm' as const, activation: 'tanh' as const, c0: zeros([2, 2]) };
      assert.throws(() => rnnSequence(p, zeros([2, 8]), zeros([2, 2]), { ...lstmOpts, ids }), /rnnSequence: lstm needs a projection table p \[V, 4·U\] \(with ids\) and recurrent kernel u \[U, 4·U\], got p \[2,3,8\] and u \[2,8\]/);
      assert.throws(() => rnnSequence(zeros([4, 8]), zeros([2, 8]), zeros([2, 2]), { ...lstmOpts, ids }), /rnnSequence: id 4 at position 2 of ids \[2,3\] is outside the table's rows \[0, 4\)/);
      assert.throws(() => rnnSequence(zeros([5, 8]), zeros([2, 8]), zeros([2, 2]), { ...lstmOpts, ids: reshape(ids, [6]) }), /rnnSequence: ids must be int32 \[N, T\], got \[6\]/);
    });
    assert.throws(() => new Bidirectional({ layer: new LSTM({ units: 2 }), mergeMode: 'max' as never }), /mergeMode must be one of 'concat', 'sum', 'mul', 'ave' or null, got "max"/);
    assert.throws(() => new Bidirectional({ layer: new LSTM({ units: 2 }), backwardLayer: new LSTM({ units: 2 }) }), /must differ in goBackwards, both have false/);
    assert.throws(() => new Bidirectional({ layer: layers.dense({ units: 2 }) as never }), /^TypeError: layer 'bidirectional' \(Bidirectional\): wraps a recurrent layer \(SimpleRNN, LSTM, GRU\), got Dense$/);
  });

  test('computeMask: the mask goes on with returnSequences only; states carry none', () => {
    const m = zeros([2, 3]);
    assert.deepEqual(new LSTM({ units: 2 }).computeMask([], [m]), [undefined]);
    assert.deepEqual(new LSTM({ units: 2, returnSequences: true, returnState: true }).computeMask([], [m]), [m, undefined, undefined]);
    assert.deepEqual(new Bidirectional({ layer: new GRU({ units: 2, returnSequences: true }), mergeMode: null }).computeMask([], [m]), [m, m]);
    m.dispose();
  });
});

for (const backend of ['ref', 'wasm'] as const) {
  test(`Bidirectional = forward layer ⊕ time-flipped backward layer, every merge mode, masks and initial states (${backend})`, () => {
    setBackend(backend);
    tidy(() => {
      const x = seq(2, 5, 3, 18);
      const mask = tensor([[1, 1, 1, 0, 0], [1, 0, 1, 1, 1]]);
      for (const mergeMode of ['concat', 'sum', 'mul', 'ave', null] as const) {
        const bi = new Bidirectional({ layer: new LSTM({ units: 3, returnSequences: true, returnState: true }), mergeMode });
        bi.build([[5, 3], [3], [3], [3], [3]], 4);
        const f = new LSTM({ units: 3, returnSequences: true, returnState: true, zeroOutputForMask: true });
        const b = new LSTM({ units: 3, returnSequences: true, returnState: true, zeroOutputForMask: true, goBackwards: true });
        for (const [l, src] of [[f, bi.forwardLayer], [b, bi.backwardLayer]] as const) {
          l.build([[5, 3], [3], [3]], 1);
          for (const w of ['kernel', 'recurrentKernel', 'bias']) setWeight(l, w, { shape: src.weight(w).shape as number[], data: Array.from(src.weight(w).parameters()[0].value.f32()) });
        }
        const s = [0, 1, 2, 3].map((k) => tensor(new Rng(30 + k).uniforms(6, -1, 1), [2, 3]));
        const ctx = { training: false, seed: 0, masks: [mask] };
        const got = bi.callAll([x, ...s], ctx);
        const [yf, hf, cf] = f.callAll([x, s[0], s[1]], ctx);
        const [yb0, hb, cb] = b.callAll([x, s[2], s[3]], ctx);
        const yb = flipTime(yb0);
        const merged = mergeMode === 'concat' ? [concat([yf, yb], 2)] : mergeMode === 'sum' ? [add(yf, yb)] : mergeMode === 'mul' ? [mul(yf, yb)]
          : mergeMode === 'ave' ? [mul(add(yf, yb), 0.5)] : [yf, yb];
        const want = [...merged, hf, cf, hb, cb];
        assert.equal(got.length, want.length, `${mergeMode}: number of outputs`);
        assert.deepEqual(bi.outputShapes([[5, 3], [3], [3], [3], [3]]), want.map((w) => w.shape.slice(1)), `${mergeMode}: declared shapes`);
        want.forEach((w, k) => assert.equal(compareBits(got[k].f32(), w.f32()).message, undefined, `${mergeMode}: output ${k}`));
        // Masked steps are zeros in both halves (zeroOutputForMask), so padding stays zero after merging.
        const y0 = reshape(slice(got[0], [0, 3, 0], [1, 1, got[0].shape[2]]), [-1]).f32();
        if (mergeMode !== 'mul') assert.ok(y0.every((v) => v === 0), `${mergeMode}: padded step of sample 0 is zero`);
        for (const l of [bi, f, b]) l.dispose();
      }
    });
  });
}

for (const backend of ['ref', 'wasm'] as const) {
  test(`Embedding → LSTM / GRU: the projection table looked up by ids gives the outputs of the plain projection, gradients within rounding (${backend})`, () => {
    setBackend(backend);
    tidy(() => {
      const rng = new Rng(41);
      const table = tensor(rng.uniforms(6 * 4, -1, 1), [6, 4]);
      const ids = tensor(Int32Array.from({ length: 3 * 5 }, () => Math.floor(rng.uniform() * 6)), [3, 5], 'int32');
      const mask = tensor([[1, 1, 0, 1, 1], [1, 1, 1, 1, 1], [0, 1, 1, 1, 0]]);
      const makers = [
        ['LSTM', (implementation: 1 | 2) => new LSTM({ units: 5, returnSequences: true, implementation })],
        ['GRU', (implementation: 1 | 2) => new GRU({ units: 5, returnSequences: true, goBackwards: true, implementation })],
      ] as const;
      for (const [name, make] of makers) {
        for (const implementation of [1, 2] as const) {
          const l = built(make(implementation), 5, 4);
          const params = l.parameters().map((q) => q.value);
          // mul(x, 1) is the same sequence, but no longer a lookup: the projection runs over all 15 rows.
          const run = (lookup: boolean): { y: Tensor; grads: Tensor[] } => {
            let y: Tensor | undefined;
            const { grads } = valueAndGrads(() => {
              const x = gather(table, ids, 0);
              y = l.call(lookup ? x : mul(x, 1), { training: false, seed: 0, masks: [mask] });
              return sum(mul(y, y));
            }, [table, ...params]);
            return { y: y!, grads };
          };
          const a = run(true), b = run(false);
          const label = `${name} implementation ${implementation}`;
          assert.equal(compareBits(a.y.f32(), b.y.f32()).message, undefined, `${label}: outputs`);
          a.grads.forEach((g, k) => {
            const want = b.grads[k].f32();
            g.f32().forEach((v, i) => assert.ok(Math.abs(v - want[i]) <= 1e-5 + 1e-5 * Math.abs(want[i]), `${label}: gradient ${k}[${i}] ${v} vs ${want[i]}`));
          });
          l.dispose();
        }
      }
    });
  });
}

/**
 * Trains the model `setup` builds (2 epochs of one batch, Adam) on a fresh wasm backend of 1 and of 2 threads and
 * checks that the weights agree to the bit.
 */
async function sameBitsOnOneAndTwoThreads(setup: () => { m: Model; xs: Tensor; ts: Tensor; batchSize: number }): Promise<void> {
  const run = async (threads: number): Promise<Map<string, Float32Array>> => {
    const be = createWasmBackend({ threads });
    setBackend(be);
    const { m, xs, ts, batchSize } = setup();
    await m.fit(xs, ts, { epochs: 2, batchSize, seed: 3 });
    const w = m.getWeights();
    for (const t of [xs, ts]) t.dispose();
    m.dispose();
    setBackend('wasm');
    be.dispose();
    return w;
  };
  const [one, two] = [await run(1), await run(2)];
  for (const [name, v] of one) assert.equal(compareBits(two.get(name)!, v).message, undefined, name);
}

test('an Embedding → LSTM training step (projections looked up by ids) gives the same bits on 1 and 2 wasm threads', async () => {
  await sameBitsOnOneAndTwoThreads(() => {
    const x = input({ shape: [7], dtype: 'int32' });
    const y = layers.dense({ units: 11, activation: 'softmax' }).apply(layers.lstm({ units: 24, returnSequences: true }).apply(layers.embedding({ inputDim: 11, outputDim: 6 }).apply(x)));
    const m = model({ inputs: x, outputs: y }).build(5);
    m.compile({ optimizer: 'adam', loss: 'sparse_categorical_crossentropy' });
    const rng = new Rng(21);
    const ids = (): Tensor => tensor(Int32Array.from({ length: 40 * 7 }, () => Math.floor(rng.uniform() * 11)), [40, 7], 'int32');
    return { m, xs: ids(), ts: ids(), batchSize: 40 };
  });
});

test('an LSTM + GRU training step gives the same bits on 1 and 2 wasm threads', async () => {
  await sameBitsOnOneAndTwoThreads(() => {
    const x = input({ shape: [6, 8] });
    const y = layers.gru({ units: 16, goBackwards: true }).apply(layers.lstm({ units: 64, returnSequences: true, dropout: 0.1 }).apply(x));
    const m = model({ inputs: x, outputs: y }).build(2);
    m.compile({ optimizer: 'adam', loss: 'mse' });
    return { m, xs: seq(16, 6, 8, 19), ts: tensor(new Rng(20).uniforms(16 * 16, -1, 1), [16, 16]), batchSize: 16 };
  });
});
