// The layer graph running a Conv2D and the MaxPooling2D after it as one op (conv2dBiasActPool): the same outputs and
// gradients as the two layers apart, and only where nothing else uses the convolution's output; the reference CNN's
// gradients on wasm (fused, Winograd) against the ref backend; a Dense with GELU running the fused bias + GELU.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Backend } from '../../src/backend/backend.js';
import { getBackend, setBackend, tidy } from '../../src/core/engine.js';
import { add, gelu, logSoftmax, matmul, mean, mul, neg, oneHot, reshape, softmaxCrossEntropy, sum, tensor } from '../../src/core/ops/index.js';
import { valueAndGrads } from '../../src/core/tape.js';
import type { Tensor } from '../../src/core/tensor.js';
import { loadDataset } from '../../src/data/index.js';
import { createModel, input, layers, model, type Model } from '../../src/nn/index.js';
import { compareBits, compareClose, relTol } from '../helpers/compare.js';
import { Rng } from '../helpers/random.js';

const f32 = (shape: number[], seed: number): Tensor => tensor(new Rng(seed).uniforms(shape.reduce((a, b) => a * b, 1), -1, 1), shape);

/** Counts the backend's conv2dBiasActPool calls made by `f`. */
function fusedCalls(f: () => void): number {
  const be = getBackend();
  const original = be.conv2dBiasActPool;
  let calls = 0;
  be.conv2dBiasActPool = (...a: Parameters<Backend['conv2dBiasActPool']>) => {
    calls++;
    original.apply(be, a);
  };
  try {
    f();
  } finally {
    Reflect.deleteProperty(be, 'conv2dBiasActPool');
  }
  return calls;
}

/** One set of layers in two models: `fused` (conv → pool → dense) and `apart`, which also returns the conv's output. */
function twins(act: 'relu' | 'tanh' | 'linear', padding: 'same' | 'valid', poolSize: number): { fused: Model; apart: Model } {
  const x = input({ shape: [11, 12, 5] });
  const c = layers.conv2d({ filters: 8, kernelSize: 3, activation: act, padding }).apply(x);
  const out = layers.dense({ units: 3 }).apply(layers.flatten().apply(layers.maxPooling2d({ poolSize }).apply(c)));
  const fused = model({ inputs: x, outputs: out }).build(3);
  return { fused, apart: model({ inputs: x, outputs: [out, c] }) };
}

test('a Conv2D followed by MaxPooling2D runs as one op, with the outputs and gradients of the layers apart', () => {
  for (const [act, padding, poolSize] of [['relu', 'valid', 2], ['tanh', 'same', 2], ['linear', 'valid', 3]] as const) {
    const { fused, apart } = twins(act, padding, poolSize);
    const label = `${act} ${padding} pool ${poolSize}`;
    const x = f32([3, 11, 12, 5], 1), r = f32([3, 3], 2);
    tidy(() => {
      let a: Tensor | undefined, b: Tensor | undefined;
      assert.equal(fusedCalls(() => (a = fused.call(x))), 1, `${label}: fused`);
      assert.equal(fusedCalls(() => (b = apart.callAll(x)[0])), 0, `${label}: the conv output is also returned, so not fused`);
      assert.equal(compareBits(a!.f32(), b!.f32()).message, undefined, `${label}: outputs`);
      const params = fused.namedParameters().map((p) => p.param.value);
      const gf = valueAndGrads(() => sum(mul(fused.call(x, { training: true, seed: 0 }), r)), params).grads;
      const ga = valueAndGrads(() => sum(mul(apart.callAll(x, { training: true, seed: 0 })[0], r)), params).grads;
      fused.namedParameters().forEach(({ name: path }, i) => {
        // The bias gradient is summed in another order (per pooled row); every other gradient has the same bits.
        const c = /^conv2d(_\d+)?\/bias$/.test(path) ? compareClose(gf[i].f32(), ga[i].f32(), relTol(1e-5, 1e-6)) : compareBits(gf[i].f32(), ga[i].f32());
        assert.equal(c.message, undefined, `${label}: gradient of ${path}`);
      });
    });
    fused.dispose();
  }
});

test('the reference CNN runs both of its conv → pool pairs fused', () => {
  const m = createModel('seed-cnn').build(0);
  const x = f32([2, 28, 28, 1], 3);
  tidy(() => assert.equal(fusedCalls(() => m.call(x)), 2));
  m.dispose();
});

test('the reference CNN on mnist-sample digits: every gradient on wasm within 1e-5 of ref (relative to its largest entry)', () => {
  // Digits have a zero background: a Winograd output there that were rounding noise instead of exactly 0 would flip
  // relu's gradient mask while the biases are 0 and change the bias gradients by tens of per cent.
  const ds = loadDataset('mnist-sample');
  const n = 16;
  const grads = (backend: 'ref' | 'wasm'): Float32Array[] => {
    setBackend(backend);
    const m = createModel('seed-cnn').build(0);
    const x = tensor(ds.xTrain.subarray(0, n * 784), [n, 28, 28, 1]);
    const y = tensor(Int32Array.from(ds.yTrain.subarray(0, n)), [n], 'int32');
    const params = m.namedParameters().map((p) => p.param.value);
    let g: Float32Array[] = [];
    tidy(() => {
      g = valueAndGrads(() => softmaxCrossEntropy(m.call(x, { training: true, seed: 0, logits: true }), y), params).grads.map((t) => t.f32());
    });
    for (const t of [x, y]) t.dispose();
    m.dispose();
    return g;
  };
  const before = getBackend();
  try {
    const [r, w] = [grads('ref'), grads('wasm')];
    r.forEach((gr, i) => {
      const big = gr.reduce((a, v) => Math.max(a, Math.abs(v)), 0);
      assert.equal(compareClose(w[i], gr, relTol(0, 1e-5 * big)).message, undefined, `parameter ${i}`);
    });
  } finally {
    setBackend(before);
  }
});

test("a Dense with activation 'gelu' runs one fused biasAct and biasActGrad, matching Dense then gelu", () => {
  const be = getBackend();
  const seen: string[] = [];
  const spy = <K extends 'unary' | 'biasAct' | 'biasActGrad'>(name: K, label: (a: Parameters<Backend[K]>) => string) => {
    const original = be[name] as (...a: Parameters<Backend[K]>) => void;
    (be as unknown as Record<string, unknown>)[name] = (...a: Parameters<Backend[K]>) => {
      seen.push(label(a));
      original.apply(be, a);
    };
  };
  const fusedDense = layers.dense({ units: 6, activation: 'gelu' });
  const x = f32([5, 4], 3), r = f32([5, 6], 4);
  const xi = input({ shape: [4] });
  const m = model({ inputs: xi, outputs: fusedDense.apply(xi) }).build(7);
  const [kernel, bias] = m.namedParameters().map((p) => p.param.value);
  tidy(() => {
    spy('unary', (a) => `unary:${a[0]}`);
    spy('biasAct', (a) => `biasAct:${a[5]}`);
    spy('biasActGrad', (a) => `biasActGrad:${a[6]}`);
    let got: { value: Tensor; grads: Tensor[] };
    try {
      got = valueAndGrads(() => sum(mul(m.call(x), r)), [kernel, bias]);
    } finally {
      for (const k of ['unary', 'biasAct', 'biasActGrad']) Reflect.deleteProperty(be, k);
    }
    assert.deepEqual(seen, ['biasAct:gelu', 'biasActGrad:gelu']);
    // The composed ops: x·W + b, then the unary gelu and its rule through erf and exp (1e-6: different roundings).
    const want = valueAndGrads(() => sum(mul(gelu(add(matmul(x, kernel), bias)), r)), [kernel, bias]);
    assert.equal(compareClose(got.value.f32(), want.value.f32(), relTol(1e-6, 1e-6)).message, undefined, 'output');
    got.grads.forEach((g, i) => assert.equal(compareClose(g.f32(), want.grads[i].f32(), relTol(1e-5, 1e-6)).message, undefined, `gradient ${i}`));
  });
});

test('the sparse cross-entropy runs one fused pick per row (no [rows, C] one-hot) with the bits of log-softmax · one-hot', () => {
  const be = getBackend();
  // Row lengths with and without a vector tail; [B, C] and [B, T, C] logits; plain and masked (ignoreClass) means.
  for (const [shape, ignoreClass] of [[[6, 10], undefined], [[4, 3, 8], undefined], [[3, 5, 101], 2]] as [number[], number | undefined][]) {
    tidy(() => {
      const c = shape[shape.length - 1], rows = shape.slice(0, -1).reduce((a, b) => a * b, 1);
      const logits = tensor(new Rng(rows).uniforms(rows * c, -6, 6), shape);
      const labels = tensor(Int32Array.from({ length: rows }, (_, i) => (i * 7 + 3) % c), shape.slice(0, -1), 'int32');
      let picks = 0, oneHots = 0;
      const original = be.logSoftmaxPick;
      be.logSoftmaxPick = (...a: Parameters<Backend['logSoftmaxPick']>) => {
        picks++;
        original.apply(be, a);
      };
      const originalSoftmax = be.softmax;
      be.softmax = (...a: Parameters<Backend['softmax']>) => {
        oneHots++;
        originalSoftmax.apply(be, a);
      };
      let got: { value: Tensor; grads: Tensor[] };
      try {
        got = valueAndGrads(() => softmaxCrossEntropy(logits, labels, { ignoreClass }), [logits]);
      } finally {
        Reflect.deleteProperty(be, 'logSoftmaxPick');
        Reflect.deleteProperty(be, 'softmax');
      }
      assert.deepEqual([picks, oneHots], [1, 0], `${fmtShape(shape)}: one fused pick, no whole log-softmax`);
      // The composition it replaces: Σ over classes of log-softmax · one-hot, then the (weighted) mean of its negation.
      const want = valueAndGrads(() => {
        const x = reshape(logits, [rows, c]);
        const picked = sum(mul(logSoftmax(x), oneHot(reshape(labels, [rows]), c)), 1);
        if (ignoreClass === undefined) return neg(mean(picked));
        const keep = Float32Array.from(labels.data(), (l) => (l === ignoreClass ? 0 : 1));
        const valid = keep.reduce((a, b) => a + b, 0);
        return neg(sum(mul(picked, tensor(keep.map((k) => k / valid), [rows]))));
      }, [logits]);
      assert.equal(compareBits(got.value.f32(), want.value.f32()).message, undefined, `${fmtShape(shape)}: loss`);
      assert.equal(compareBits(got.grads[0].f32(), want.grads[0].f32()).message, undefined, `${fmtShape(shape)}: gradient`);
    });
  }
});

const fmtShape = (s: number[]): string => `[${s.join(', ')}]`;
