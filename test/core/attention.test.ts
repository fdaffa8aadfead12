// The fused maskedSoftmax against its composition (Keras' masked Softmax: add −1e9 where masked, softmax, multiply by the mask), forward and backward;
// attention / packedAttention on bad input (one-line errors) and on empty input.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { memory, setBackend, tidy } from '../../src/core/engine.js';
import * as T from '../../src/core/ops/index.js';
import { valueAndGrads } from '../../src/core/tape.js';
import type { Tensor } from '../../src/core/tensor.js';
import { compareClose, relTol } from '../helpers/compare.js';
import { Rng } from '../helpers/random.js';

/** softmax(scale·x + (1 − m)·(−1e9))·m with m = mask [N, Tq, Tv] · causal [1, Tq, Tv], broadcast over the heads. */
function composed(x: Tensor, scale: number, causal: boolean, mask?: Tensor): Tensor {
  const [tq, tv] = x.shape.slice(-2);
  const parts = [...(mask ? [mask] : []), ...(causal ? [T.causalMask(tq, tv)] : [])];
  const z = T.mul(x, scale);
  if (!parts.length) return T.softmax(z);
  const m = T.expandDims(parts.length === 2 ? T.mul(parts[0], parts[1]) : parts[0], 1);
  return T.mul(T.softmax(T.add(z, T.mul(T.sub(1, m), -1e9))), m);
}

for (const backend of ['ref', 'wasm'] as const) {
  describe(`maskedSoftmax (${backend})`, () => {
    test('equals the composition of Keras\' masked softmax, and so does its gradient, for causal, masked and empty rows', () => {
      setBackend(backend);
      const before = memory().tensors;
      const rng = new Rng(4);
      for (const [n, h, tq, tv] of [[2, 3, 5, 7], [1, 2, 6, 6], [3, 1, 4, 9]]) {
        for (const causal of [false, true]) {
          for (const masked of [false, true]) {
            tidy(() => {
              const x = T.tensor(rng.normals(n * h * tq * tv, 2), [n, h, tq, tv]);
              const mask = masked ? T.tensor(Float32Array.from(rng.uniforms(n * tq * tv), (u, i) => (u < 0.25 || i < tv ? 0 : 1)), [n, tq, tv]) : undefined;
              const r = T.tensor(rng.normals(x.size), x.shape);
              const label = `[${x.shape}] causal=${causal} mask=${masked}`;
              const fused = valueAndGrads(() => T.sum(T.mul(T.maskedSoftmax(x, { scale: 0.4, causal, mask }), r)), [x]);
              const comp = valueAndGrads(() => T.sum(T.mul(composed(x, 0.4, causal, mask), r)), [x]);
              const y = T.maskedSoftmax(x, { scale: 0.4, causal, mask }).f32();
              const yc = composed(x, 0.4, causal, mask).f32();
              const cy = compareClose(y, yc, relTol(2e-6, 1e-7));
              assert.equal(cy.message, undefined, `${label}: y ${cy.message}`);
              // Masked entries are exact zeros in both.
              yc.forEach((v, i) => { if (v === 0) assert.equal(y[i], 0, `${label}: y[${i}] should be 0`); });
              const cg = compareClose(fused.grads[0].f32(), comp.grads[0].f32(), relTol(1e-5, 1e-6));
              assert.equal(cg.message, undefined, `${label}: dx ${cg.message}`);
            });
          }
        }
      }
      assert.equal(memory().tensors, before, 'tensors leaked');
    });

    test('checks the mask\'s shape and the scores\' rank', () => {
      setBackend(backend);
      tidy(() => {
        assert.throws(() => T.maskedSoftmax(T.zeros([2, 3, 4, 5]), { mask: T.ones([2, 5, 4]) }), /maskedSoftmax.*mask \[2,5,4\] does not fit scores \[2,3,4,5\]: expected \[2,4,5\]/);
        assert.throws(() => T.maskedSoftmax(T.zeros([5])), /needs scores \[\.\.\., Tq, Tv\] of rank ≥ 2, got \[5\]/);
      });
    });
  });
}

for (const backend of ['ref', 'wasm'] as const) {
  describe(`attention and packedAttention: bad and empty input (${backend})`, () => {
    test('one-line errors name the op and the problem: rank, shapes that do not fit, dtype, scale, depth 0', () => {
      setBackend(backend);
      const before = memory().tensors;
      tidy(() => {
        const q = T.zeros([2, 3, 2, 4]);
        const bad: [() => unknown, RegExp][] = [
          [() => T.attention(T.zeros([3, 2, 4]), q, q), /^attention: needs q, k, v of rank 4 \[batch, time, heads, depth\], got \[3,2,4\], \[2,3,2,4\], \[2,3,2,4\]$/],
          [() => T.attention(q, T.zeros([2, 3, 2, 5]), q), /^attention: q \[2,3,2,4\], k \[2,3,2,5\] and v \[2,3,2,4\] do not fit: expected k \[2, Tv, 2, 4\]/],
          [() => T.attention(q, q, T.zeros([2, 4, 2, 4])), /^attention: .* do not fit/],
          [() => T.attention(q, q, T.zeros([1, 3, 2, 4])), /^attention: .* do not fit/],
          [() => T.attention(q, q, T.zeros([2, 3, 2, 4], 'int32')), /^attention: expected float32, got int32/],
          [() => T.attention(q, q, q, { scale: Number.NaN }), /^attention: scale must be a finite number, got NaN$/],
          [() => T.attention(q, q, q, { scale: Number.POSITIVE_INFINITY }), /^attention: scale must be a finite number, got Infinity$/],
          [() => T.attention(q, q, q, { scale: '2' as unknown as number }), /^attention: scale must be a finite number, got string "2"$/],
          [() => T.attention(T.zeros([2, 3, 2, 0]), T.zeros([2, 3, 2, 0]), q), /^attention: q and k have depth 0, so the default scale 1\/√depth is undefined: pass options.scale$/],
          [() => T.packedAttention(T.zeros([2, 3, 2, 2, 4])), /^packedAttention: needs qkv \[batch, time, 3, heads, depth\], got \[2,3,2,2,4\]$/],
          [() => T.packedAttention(T.zeros([2, 3, 3, 4])), /^packedAttention: needs qkv \[batch, time, 3, heads, depth\], got \[2,3,3,4\]$/],
          [() => T.packedAttention(T.zeros([2, 3, 3, 2, 4]), { scale: Number.NaN }), /^packedAttention: scale must be a finite number, got NaN$/],
          [() => T.maskedSoftmax(T.zeros([2, 3]), { scale: null as unknown as number }), /^maskedSoftmax: scale must be a finite number, got object null$/],
        ];
        for (const [f, re] of bad) assert.throws(f, (e: Error) => re.test(e.message) && !e.message.includes('\n'), `expected ${re}`);
      });
      assert.equal(memory().tensors, before, 'tensors leaked');
    });

    test('empty inputs: no keys gives zeros (Keras\' masked softmax over nothing), no queries or no samples an empty output; gradients have the inputs\' shapes', () => {
      setBackend(backend);
      const rng = new Rng(8);
      tidy(() => {
        const rand = (shape: number[]): Tensor => T.tensor(rng.normals(shape.reduce((a, b) => a * b, 1), 1), shape);
        for (const [qs, ks, vs] of [[[2, 3, 2, 4], [2, 0, 2, 4], [2, 0, 2, 5]], [[2, 0, 2, 4], [2, 3, 2, 4], [2, 3, 2, 4]], [[0, 3, 2, 4], [0, 3, 2, 4], [0, 3, 2, 4]]]) {
          for (const causal of [false, true]) {
            const xs = [rand(qs), rand(ks), rand(vs)];
            const { value, grads } = valueAndGrads(() => T.sum(T.attention(xs[0], xs[1], xs[2], { causal })), xs);
            assert.equal(value.item(), 0, `[${qs}] [${ks}] causal=${causal}`);
            grads.forEach((g, i) => {
              assert.deepEqual(g.shape, xs[i].shape);
              assert.ok(g.f32().every((v) => v === 0), `[${qs}] [${ks}] causal=${causal}: gradient ${i} should be 0`);
            });
            assert.deepEqual(T.attention(xs[0], xs[1], xs[2], { causal }).shape, [qs[0], qs[1], qs[2], vs[3]]);
          }
        }
        const qkv = rand([1, 0, 3, 2, 4]);
        const { grads } = valueAndGrads(() => T.sum(T.packedAttention(qkv, { causal: true })), [qkv]);
        assert.deepEqual(grads[0].shape, [1, 0, 3, 2, 4]);
        assert.deepEqual(T.packedAttention(qkv).shape, [1, 0, 2, 4]);
      });
    });
  });
}
