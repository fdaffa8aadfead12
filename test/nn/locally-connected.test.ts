// LocallyConnected2D against Conv2D: the same kernel at every position gives Conv2D's output (Keras' [OH·OW, KH·KW·C, F] layout, HWC patches).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setBackend, tidy } from '../../src/core/engine.js';
import { tensor } from '../../src/core/ops/index.js';
import { Conv2D, LocallyConnected2D, sequential } from '../../src/nn/index.js';
import type { Padding } from '../../src/core/shape.js';
import { compareClose, relTol } from '../helpers/compare.js';
import { Rng } from '../helpers/random.js';

interface Geometry {
  label: string;
  input: [number, number, number];
  kernelSize: [number, number];
  filters: number;
  strides: number | [number, number];
  padding: Padding;
}

const geometries: Geometry[] = [
  { label: '3×3 valid', input: [5, 6, 2], kernelSize: [3, 3], filters: 4, strides: 1, padding: 'valid' },
  { label: '2×3 strides [2, 1]', input: [7, 5, 3], kernelSize: [2, 3], filters: 2, strides: [2, 1], padding: 'valid' },
  { label: '3×3 strides 2 same', input: [5, 5, 2], kernelSize: [3, 3], filters: 3, strides: 2, padding: 'same' },
  { label: '1×1 single channel', input: [3, 4, 1], kernelSize: [1, 1], filters: 5, strides: 1, padding: 'valid' },
];

for (const backend of ['ref', 'wasm'] as const) {
  describe(`LocallyConnected2D vs Conv2D (${backend})`, () => {
    for (const g of geometries) {
      test(`${g.label}: one kernel tiled over every position reproduces Conv2D, and the [OH, OW, F] bias is added per position`, () => {
        setBackend(backend);
        const [h, w, c] = g.input;
        const [kh, kw] = g.kernelSize;
        const opts = { filters: g.filters, kernelSize: g.kernelSize, strides: g.strides, padding: g.padding, useBias: true };
        const conv = sequential([new Conv2D({ ...opts, name: 'conv' })], { inputShape: g.input }).build(1);
        const local = sequential([new LocallyConnected2D({ ...opts, name: 'local' })], { inputShape: g.input }).build(2);
        const [oh, ow, f] = conv.outputShape;
        assert.deepEqual(local.outputShape, [oh, ow, f]);
        const k = kh * kw * c;

        // Conv2D's HWIO kernel [KH, KW, C, F] flattened row-major is the [KH·KW·C, F] matrix of one position.
        const rng = new Rng(17);
        const kernel = rng.uniforms(k * f, -1, 1);
        const convBias = rng.uniforms(f, -1, 1);
        const tiled = new Float32Array(oh * ow * k * f);
        for (let p = 0; p < oh * ow; p++) tiled.set(kernel, p * k * f);
        // Per-position bias [OH, OW, F]: Conv2D's bias plus an offset that differs at every position.
        const offset = rng.uniforms(oh * ow * f, -1, 1);
        const localBias = offset.map((v, i) => v + convBias[i % f]);
        conv.setWeights({ 'conv/kernel': kernel, 'conv/bias': convBias });
        local.setWeights({ 'local/kernel': tiled, 'local/bias': localBias });
        assert.deepEqual(local.getWeights().get('local/kernel')!.length, oh * ow * k * f);

        const n = 3;
        tidy(() => {
          const x = tensor(rng.uniforms(n * h * w * c, -1, 1), [n, h, w, c]);
          const yc = conv.call(x).f32();
          const yl = local.call(x).f32();
          const want = yc.map((v, i) => v + offset[i % (oh * ow * f)]);
          // Both sum k products in float32, possibly in a different order: a few ulps of Σ|terms| (≤ k + 2).
          const cmp = compareClose(yl, want, relTol(0, 4e-6 * (k + 2)));
          assert.equal(cmp.message, undefined, cmp.message);
        });
        conv.dispose();
        local.dispose();
      });
    }

    test('a kernel that differs at one position changes only that position', () => {
      setBackend(backend);
      const m = sequential([new LocallyConnected2D({ filters: 2, kernelSize: 2, name: 'local' })], { inputShape: [3, 3, 1] }).build(0);
      const [oh, ow, f] = m.outputShape;
      const k = 4;
      const kernel = new Float32Array(oh * ow * k * f).fill(0.5);
      m.setWeights({ 'local/kernel': kernel, 'local/bias': new Float32Array(oh * ow * f) });
      tidy(() => {
        const x = tensor(Float32Array.from({ length: 9 }, (_, i) => i + 1), [1, 3, 3, 1]);
        const before = m.call(x).f32();
        const p = 1 * ow + 0; // position (1, 0)
        kernel.fill(0, p * k * f, (p + 1) * k * f);
        m.setWeights({ 'local/kernel': kernel });
        const after = m.call(x).f32();
        for (let i = 0; i < before.length; i++) {
          const pos = Math.floor(i / f);
          if (pos === p) assert.equal(after[i], 0, `position ${pos} filter ${i % f}`);
          else assert.equal(after[i], before[i], `position ${pos} filter ${i % f} must not change`);
        }
        // Position (0, 0) sees the patch [1, 2, 4, 5] in HWC order; all weights 0.5 → 6.
        assert.equal(before[0], 6);
      });
      m.dispose();
    });
  });
}
