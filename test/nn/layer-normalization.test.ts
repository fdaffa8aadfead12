// LayerNormalization: outputs and gradients against PyTorch's F.layer_norm (Keras' eps 1e-3 and others), the fused last-axis path against
// the composed ops, Keras defaults, axes and errors.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { getBackend, memory, setBackend, tidy } from '../../src/core/engine.js';
import { add, mean, mul, rsqrt, square, sub, sum } from '../../src/core/ops/index.js';
import { valueAndGrads } from '../../src/core/tape.js';
import type { Tensor } from '../../src/core/tensor.js';
import { input, LayerNormalization, layers, sequential } from '../../src/nn/index.js';
import { compareClose, relTol } from '../helpers/compare.js';
import { assertMatches, type FixtureTensor, fromFixture, loadFixture } from '../helpers/fixtures.js';

interface LayerNormCase {
  name: string;
  /** Keras axes (the batch axis is 0). */
  axis: number[];
  center: boolean;
  scale: boolean;
  /** The case's epsilon when not the fixture's (Keras' 1e-3). */
  epsilon?: number;
  x: FixtureTensor;
  dy: FixtureTensor;
  y: FixtureTensor;
  dx: FixtureTensor;
  gamma?: FixtureTensor;
  beta?: FixtureTensor;
  dGamma?: FixtureTensor;
  dBeta?: FixtureTensor;
}

const fixture = loadFixture<{ epsilon: number; cases: LayerNormCase[] }>('layer_normalization');

for (const backend of ['ref', 'wasm'] as const) {
  test(`LayerNormalization matches PyTorch's F.layer_norm (eps 1e-3, 1e-5, 1e-6, 1e-12, 0.5; center, scale or both; a mean far from 0): output and gradients of x, gamma, beta (${backend})`, () => {
    setBackend(backend);
    const before = memory().tensors;
    for (const c of fixture.cases) {
      const epsilon = c.epsilon ?? fixture.epsilon;
      const layer = new LayerNormalization({ axis: c.axis.length === 1 ? c.axis[0] : c.axis, center: c.center, scale: c.scale, name: 'ln', ...(c.epsilon === undefined ? {} : { epsilon }) });
      assert.equal(layer.epsilon, epsilon);
      layer.build(c.x.shape.slice(1), 0);
      const set = (name: string, t: FixtureTensor | undefined): void => {
        const p = layer.weight(name).parameters()[0].value;
        p.backend.write(p.buf, Float32Array.from(t!.data));
      };
      if (c.scale) set('gamma', c.gamma);
      if (c.center) set('beta', c.beta);
      tidy(() => {
        const x = fromFixture(c.x);
        const dy = fromFixture(c.dy);
        const params = layer.parameters().map((p) => p.value);
        const r = valueAndGrads(() => {
          const y = layer.call(x, { training: true, seed: 0 });
          assertMatches(`${c.name}: y`, y, c.y, 1e-5, 1e-6);
          return sum(mul(y, dy));
        }, [x, ...params]);
        const [dx, ...dp] = r.grads as Tensor[];
        // dx sums terms that cancel (its rows sum to 0): an absolute tolerance at the scale of dy·gamma/σ.
        assertMatches(`${c.name}: dx`, dx, c.dx, 1e-4, 1e-5);
        if (c.scale) assertMatches(`${c.name}: dGamma`, dp[0], c.dGamma!, 1e-5, 1e-5);
        if (c.center) assertMatches(`${c.name}: dBeta`, dp[c.scale ? 1 : 0], c.dBeta!, 1e-5, 1e-6);
      });
      layer.dispose();
    }
    assert.equal(memory().tensors, before, 'tensors leaked');
  });
}

describe('LayerNormalization (Keras semantics)', () => {
  test('defaults: axis −1, epsilon 1e-3, center and scale with gamma = 1 and beta = 0 of the last axis (roles gamma, beta)', () => {
    setBackend('wasm');
    const m = sequential([layers.layerNormalization({ inputShape: [3, 5] })]).build(0);
    const l = m.getLayer('layer_normalization');
    assert.deepEqual(l.weights().map((w) => [w.name, w.role, w.map.shape]), [['gamma', 'gamma', [5]], ['beta', 'beta', [5]]]);
    const w = m.getWeights();
    assert.ok(w.get('layer_normalization/gamma')!.every((v) => v === 1));
    assert.ok(w.get('layer_normalization/beta')!.every((v) => v === 0));
    assert.deepEqual(l.toJSON().config, {
      name: 'layer_normalization', axis: -1, epsilon: 1e-3, center: true, scale: true, betaInitializer: 'zeros', gammaInitializer: 'ones', inputShape: [3, 5],
    });
    m.dispose();
  });

  test('a list of axes gives gamma and beta of those axes, in ascending order (Keras counts the batch axis as 0)', () => {
    setBackend('wasm');
    const x = input({ shape: [2, 3, 4] });
    const ln = new LayerNormalization({ axis: [3, 1], center: false });
    ln.apply(x);
    ln.build([2, 3, 4], 0);
    assert.deepEqual(ln.weights().map((w) => [w.name, w.map.shape]), [['gamma', [2, 4]]]);
    let y: Float32Array = new Float32Array(0);
    tidy(() => {
      const xs = fromFixture({ shape: [1, 2, 3, 4], data: Array.from({ length: 24 }, (_, i) => (i * 7) % 11) });
      y = ln.call(xs, { training: false, seed: 0 }).f32();
    });
    // Over axes 1 and 3 each of the 3 slices [2, 4] has mean 0 and variance var/(var + eps).
    for (let j = 0; j < 3; j++) {
      const v: number[] = [];
      for (let a = 0; a < 2; a++) for (let c = 0; c < 4; c++) v.push(y[a * 12 + j * 4 + c]);
      const mean = v.reduce((s, t) => s + t, 0) / v.length;
      assert.ok(Math.abs(mean) < 1e-5, `slice ${j}: mean ${mean}`);
      assert.ok(Math.abs(v.reduce((s, t) => s + t * t, 0) / v.length - 1) < 1e-3, `slice ${j}: variance not ≈ 1`);
    }
    ln.dispose();
  });

  test('over the last axis: one fused layerNorm and layerNormGrad, matching the composed ops for each center/scale (both backends)', () => {
    for (const backend of ['ref', 'wasm'] as const) {
      setBackend(backend);
      for (const [center, scale] of [[true, true], [true, false], [false, true], [false, false]]) {
        const label = `${backend} center ${center} scale ${scale}`;
        const ln = new LayerNormalization({ center, scale, epsilon: 0.01, gammaInitializer: 'uniform', betaInitializer: 'uniform' });
        ln.build([3, 7], 5);
        const be = getBackend();
        const calls: string[] = [];
        for (const k of ['layerNorm', 'layerNormGrad', 'reduce'] as const) {
          const original = be[k] as (...a: unknown[]) => void;
          (be as unknown as Record<string, unknown>)[k] = (...a: unknown[]) => {
            calls.push(k);
            original.apply(be, a);
          };
        }
        tidy(() => {
          const x = fromFixture({ shape: [2, 3, 7], data: Array.from({ length: 42 }, (_, i) => Math.sin(i * 1.7) * (1 + (i % 5)) + 3) });
          const dy = fromFixture({ shape: [2, 3, 7], data: Array.from({ length: 42 }, (_, i) => Math.cos(i * 0.9)) });
          const params = ln.parameters().map((p) => p.value);
          let got: { value: Tensor; grads: Tensor[] };
          try {
            got = valueAndGrads(() => sum(mul(ln.call(x, { training: true, seed: 0 }), dy)), [x, ...params]);
          } finally {
            for (const k of ['layerNorm', 'layerNormGrad', 'reduce']) Reflect.deleteProperty(be, k);
          }
          assert.deepEqual(calls, ['layerNorm', 'reduce', 'layerNormGrad'], `${label}: kernels (the loss's sum is the one reduce)`);
          // The composition the layer uses over other axes, written out for the last one.
          const composed = (): Tensor => {
            const xc = sub(x, mean(x, [2], true));
            let y = mul(xc, rsqrt(add(mean(square(xc), [2], true), 0.01)));
            if (scale) y = mul(y, params[0]);
            if (center) y = add(y, params[scale ? 1 : 0]);
            return sum(mul(y, dy));
          };
          const want = valueAndGrads(composed, [x, ...params]);
          assert.equal(compareClose(got.value.f32(), want.value.f32(), relTol(1e-5, 1e-5)).message, undefined, `${label}: loss`);
          got.grads.forEach((g, i) => assert.equal(compareClose(g.f32(), want.grads[i].f32(), relTol(1e-4, 1e-5)).message, undefined, `${label}: gradient ${i}`));
        });
        ln.dispose();
      }
    }
  });

  test('values past float32 squares (|x − mean| > 1.8e19): wasm normalises them as ref (float64) does, output and gradient (was 0)', () => {
    const rows = [1e20, -1e20, 3e19, 0, 1, 2, 3, 4, -3e38, 3e38, 1, 0];
    const run = (backend: 'ref' | 'wasm'): number[][] => {
      setBackend(backend);
      return tidy(() => {
        const x = fromFixture({ shape: [3, 4], data: rows });
        const dy = fromFixture({ shape: [3, 4], data: [1, -2, 0.5, 3, 1, -2, 0.5, 3, 1, -2, 0.5, 3] });
        const ln = new LayerNormalization({ epsilon: 1e-3 });
        ln.build([4], 0);
        const r = valueAndGrads(() => sum(mul(ln.call(x, { training: true, seed: 0 }), dy)), [x]);
        const y = ln.call(x, { training: false, seed: 0 });
        const out = [Array.from(y.f32()), Array.from(r.grads[0].f32())];
        ln.dispose();
        return out;
      });
    };
    const [ref, wasm] = [run('ref'), run('wasm')];
    assert.ok(ref[0].slice(0, 4).every((v) => Math.abs(v) > 0.1), `ref normalises the large row: ${ref[0]}`);
    assert.equal(compareClose(Float32Array.from(wasm[0]), Float32Array.from(ref[0]), relTol(1e-5, 1e-6)).message, undefined, `output: wasm ${wasm[0]}, ref ${ref[0]}`);
    // The gradient w.r.t. x of a row of scale 1e20 is ~1e-20: compared relative to each row's own scale.
    for (let r = 0; r < 3; r++) {
      const [a, b] = [wasm[1].slice(4 * r, 4 * r + 4), ref[1].slice(4 * r, 4 * r + 4)];
      const scale = Math.max(...b.map(Math.abs));
      a.forEach((v, i) => assert.ok(Math.abs(v - b[i]) <= 1e-4 * scale, `gradient row ${r} [${i}]: wasm ${v}, ref ${b[i]}`));
    }
  });

  test('bad axes and epsilon are one-line errors naming the layer', () => {
    assert.throws(() => new LayerNormalization({ axis: 0, name: 'ln' }), /layer 'ln': axis must be a non-zero integer or a list of distinct ones \(0 is the batch axis\), got 0/);
    assert.throws(() => new LayerNormalization({ axis: [1, 1] }), /list of distinct ones/);
    assert.throws(() => new LayerNormalization({ epsilon: 0 }), /epsilon must be a positive number, got 0/);
    assert.throws(() => new LayerNormalization({ axis: 3, name: 'ln' }).apply(input({ shape: [4] })),
      /layer 'ln' \(LayerNormalization\): axis 3 does not fit inputs \(None, 4\) \(rank 2;/);
    assert.throws(() => new LayerNormalization({ axis: [1, -1] }).apply(input({ shape: [4] })), /axis \[1,-1\] does not fit inputs \(None, 4\)/);
  });
});
