// Transformer blocks from layers: the pre-norm block's function, what each shareLayers mode builds and reuses, and bad options.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setBackend, tidy } from '../../src/core/engine.js';
import { add, gelu, matmul, mean, mul, reshape, rsqrt, softmax, square, sub, tensor, transpose } from '../../src/core/ops/index.js';
import type { Tensor } from '../../src/core/tensor.js';
import { input, model, transformerBlock, transformerStack, type ShareLayers } from '../../src/nn/index.js';
import { compareClose, relTol } from '../helpers/compare.js';
import { Rng } from '../helpers/random.js';

describe('transformer blocks', () => {
  test('a block computes x + MHA(LN(x)) (causal), then x + W₂·gelu(W₁·LN(x) + b₁) + b₂, written out with ops', () => {
    setBackend('ref');
    const [N, T, D, H, F] = [2, 4, 6, 2, 5];
    const block = transformerBlock([T, D], { heads: H, ffDim: F });
    const x = input({ shape: [T, D] });
    const net = model({ inputs: x, outputs: block.apply(x) }).build(4);
    // Random weights everywhere (LN's gamma and beta too), so that every term shows.
    net.setWeights(Object.fromEntries(net.namedParameters().map((p, k) => [p.name, new Rng(10 + k).uniforms(p.param.value.size, -0.6, 0.6)])));
    const w = net.getWeights();
    const W = (name: string, shape: number[]): Tensor => tensor(w.get(`block/${name}`)!, shape);
    tidy(() => {
      const xs = tensor(new Rng(1).uniforms(N * T * D, -1, 1), [N, T, D]);
      const ln = (v: Tensor, at: string): Tensor => {
        const c = sub(v, mean(v, [2], true));
        return add(mul(mul(c, rsqrt(add(mean(square(c), [2], true), 1e-5))), W(`${at}/norm/gamma`, [D])), W(`${at}/norm/beta`, [D]));
      };
      const proj = (v: Tensor, name: string): Tensor => // [N, T, D] → [N, H, T, K]
        transpose(reshape(add(matmul(reshape(v, [N * T, D]), W(`self_attention/attention/${name}/kernel`, [D, D])), W(`self_attention/attention/${name}/bias`, [D])), [N, T, H, D / H]), [0, 2, 1, 3]);
      const h = ln(xs, 'self_attention');
      const causal = tensor(Float32Array.from({ length: T * T }, (_, k) => (k % T <= Math.floor(k / T) ? 0 : -1e9)), [T, T]);
      const p = softmax(add(mul(matmul(proj(h, 'query'), proj(h, 'key'), false, true), 1 / Math.sqrt(D / H)), causal));
      const o = reshape(transpose(matmul(p, proj(h, 'value')), [0, 2, 1, 3]), [N * T, D]);
      const a = add(xs, reshape(add(matmul(o, W('self_attention/attention/attention_output/kernel', [D, D])), W('self_attention/attention/attention_output/bias', [D])), [N, T, D]));
      const f = gelu(add(matmul(reshape(ln(a, 'feed_forward'), [N * T, D]), W('feed_forward/intermediate/kernel', [D, F])), W('feed_forward/intermediate/bias', [F])));
      const want = add(a, reshape(add(matmul(f, W('feed_forward/output/kernel', [F, D])), W('feed_forward/output/bias', [D])), [N, T, D]));
      const got = net.call(xs);
      const cmp = compareClose(got.f32(), want.f32(), relTol(1e-5, 1e-6));
      assert.equal(cmp.message, undefined, cmp.message);
    });
    net.dispose();
  });

  test('each shareLayers mode: the blocks it makes, how often each is applied, and the parameter count', () => {
    const [T, D, F, L] = [3, 4, 8, 3];
    const attn = 2 * D + 4 * (D * D + D), ffn = 2 * D + 2 * D * F + F + D;
    const want: Record<ShareLayers, [string[], number]> = {
      none: [['block', 'block_1', 'block_2'], L * (attn + ffn)],
      all: [['block'], attn + ffn],
      attention: [['self_attention', 'feed_forward', 'feed_forward_1', 'feed_forward_2'], attn + L * ffn],
      ffn: [['self_attention', 'feed_forward', 'self_attention_1', 'self_attention_2'], L * attn + ffn],
    };
    for (const [share, [names, params]] of Object.entries(want) as [ShareLayers, [string[], number]][]) {
      const x = input({ shape: [T, D] });
      const m = model({ inputs: x, outputs: transformerStack(x, { layers: L, heads: 2, ffDim: F, shareLayers: share }) }).build(1);
      assert.deepEqual(m.layers.map((l) => l.name), names, share);
      assert.equal(m.countParams(), params, share);
      // Depth L: every application is a node; a shared block has L of them.
      assert.equal(m.graph.length, share === 'all' || share === 'none' ? L : 2 * L, `${share}: nodes`);
      m.dispose();
    }
  });

  test('bad options: one line naming the option and its value', () => {
    const x = input({ shape: [3, 6] });
    assert.throws(() => transformerStack(x, { layers: 2, heads: 4 }), /^RangeError: block 'block': heads 4 must divide dim 6 \(each head gets dim \/ heads features\)$/);
    assert.throws(() => transformerStack(x, { layers: 2, heads: 2, shareLayers: 'some' as never }), /^RangeError: transformer: shareLayers must be one of none, attention, ffn, all, got "some"$/);
    assert.throws(() => transformerStack(x, { layers: 0, heads: 2 }), /^RangeError: transformer: layers must be an integer in \[1, 1000\], got 0$/);
    assert.throws(() => transformerBlock([6], { heads: 2 }), /^RangeError: block 'block': takes inputs \[T, dim\] per sample, got \[6\]$/);
    assert.throws(() => transformerBlock([3, 6], { heads: 2, ffDim: 0 }), /^RangeError: block 'block': ffDim must be a positive integer, got 0$/);
  });
});
