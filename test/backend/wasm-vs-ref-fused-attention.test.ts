// The fused attention kernels (attention, attentionGrad) on the wasm backend against RefBackend: causal or not, Tq ≠ Tv,
// sizes off the 4×8 tiles, the packed [N, T, 3, H, D] layout; 1- vs 2-thread bits; and against the composed ops.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AttentionParams, Backend } from '../../src/backend/backend.js';
import { RefBackend } from '../../src/backend/ref/ref.js';
import { setBackend, tidy } from '../../src/core/engine.js';
import * as T from '../../src/core/ops/index.js';
import type { Tensor } from '../../src/core/tensor.js';
import { valueAndGrads } from '../../src/core/tape.js';
import { f32Out, pairOn, runOn, wasmBackends } from '../helpers/backends.js';
import { compareBits, compareClose, Failures, relTol } from '../helpers/compare.js';
import { Rng } from '../helpers/random.js';

const ref = new RefBackend();
const [wasm, wasm1] = wasmBackends(2, 1);
const both = pairOn(ref, wasm);

/** [n, heads, tq, tv, dk, dv, packed]: one of everything, odd sizes, Tq ≠ Tv both ways, the GPT's [32, 4, 64, 64, 32, 32]. */
const CASES: [number, number, number, number, number, number, boolean][] = [
  [1, 1, 1, 1, 1, 1, false], [2, 3, 5, 7, 3, 6, false], [1, 2, 9, 4, 5, 2, false], [3, 1, 6, 13, 8, 9, false],
  [2, 2, 10, 10, 4, 4, true], [8, 4, 64, 64, 32, 32, true], [4, 2, 33, 70, 12, 16, false],
];

function params(n: number, heads: number, tq: number, tv: number, dk: number, dv: number, packed: boolean, causal: boolean): AttentionParams {
  const op = (offset: number, step: number, t: number) => ({ offset, step, sample: step * t });
  const layout: AttentionParams['layout'] = packed
    ? [op(0, 3 * heads * dk, tq), op(heads * dk, 3 * heads * dk, tq), op(2 * heads * dk, 3 * heads * dk, tq)]
    : [op(0, heads * dk, tq), op(0, heads * dk, tv), op(0, heads * dv, tv)];
  return { n, heads, tq, tv, dk, dv, scale: 0.4, causal, layout };
}

test('attention and attentionGrad: wasm matches ref (causal or not, odd sizes, packed), 1 and 2 threads give the same bits', (t) => {
  const rng = new Rng(31);
  const fwd = new Failures('attention');
  const bwd = new Failures('attentionGrad');
  for (const [n, heads, tq, tv, dk, dv, packed] of CASES) {
    const qkv = packed ? rng.normals(n * tq * 3 * heads * dk, 1.5) : undefined;
    const q = qkv ?? rng.normals(n * tq * heads * dk, 1.5);
    const k = qkv ?? rng.normals(n * tv * heads * dk, 1.5);
    const v = qkv ?? rng.normals(n * tv * heads * dv);
    const go = rng.normals(n * tq * heads * dv);
    for (const causal of [false, true]) {
      const a = params(n, heads, tq, tv, dk, dv, packed, causal);
      const label = `[${n},${heads},${tq},${tv},${dk},${dv}]${packed ? ' packed' : ''} causal=${causal}`;
      const outs = [f32Out(n * tq * heads * dv), f32Out(n * heads * tq * tv)];
      const fw = (be: Backend, b: number[]) => (packed ? be.attention(b[0], b[0], b[0], b[1], b[2], a) : be.attention(b[0], b[1], b[2], b[3], b[4], a));
      const ins = packed ? [qkv!] : [q, k, v];
      const [r, w] = both(ins, outs, fw);
      // Scores sum dk float32 products (|z| up to ~30 here), the exp in float32: a few 1e-6 relative on P; O sums
      // P·V over up to 70 steps (|V| ≲ 4), so its error is absolute at ~1e-5.
      fwd.add(`${label} p`, compareClose(w.outs[1], r.outs[1], relTol(5e-6, 1e-7)));
      fwd.add(`${label} o`, compareClose(w.outs[0], r.outs[0], relTol(1e-5, 1e-5)));
      const p = r.outs[1] as Float32Array;
      const gradOuts = packed ? [f32Out(qkv!.length)] : [f32Out(q.length), f32Out(k.length), f32Out(v.length)];
      const bw = (be: Backend, b: number[]) => (packed
        ? be.attentionGrad(b[0], b[1], b[1], b[1], b[2], b[3], b[3], b[3], a)
        : be.attentionGrad(b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], a));
      const gIns = [go, ...ins, p];
      const [rg, wg] = both(gIns, gradOuts, bw);
      wg.outs.forEach((o, i) => bwd.add(`${label} d${'qkv'[i] ?? ''}`, compareClose(o, rg.outs[i], relTol(5e-5, 5e-6))));
      if (n * heads >= 8) {
        const one = runOn(wasm1, ins, outs, (b) => fw(wasm1, b));
        fwd.add(`${label} 1 vs 2 threads`, compareBits(w.outs[0], one.outs[0]));
        const oneG = runOn(wasm1, gIns, gradOuts, (b) => bw(wasm1, b));
        oneG.outs.forEach((o, i) => bwd.add(`${label} d${i} 1 vs 2 threads`, compareBits(wg.outs[i], o)));
      }
    }
  }
  for (const f of [fwd, bwd]) t.diagnostic(f.summary());
  fwd.assertNone();
  bwd.assertNone();
});

test('the fused attention op equals the composed one (transpose, matmul, maskedSoftmax), values and gradients, on wasm', () => {
  setBackend('wasm');
  tidy(() => {
    const rng = new Rng(32);
    const [n, tq, h, d] = [3, 20, 4, 8];
    const q = T.tensor(rng.normals(n * tq * h * d), [n, tq, h, d]);
    const k = T.tensor(rng.normals(n * tq * h * d), [n, tq, h, d]);
    const v = T.tensor(rng.normals(n * tq * h * d), [n, tq, h, d]);
    const w = T.tensor(rng.normals(n * tq * h * d), [n, tq, h, d]);
    const composed = (x: Tensor, y: Tensor, z: Tensor): Tensor => {
      const heads = (t: Tensor) => T.transpose(t, [0, 2, 1, 3]);
      const p = T.maskedSoftmax(T.matmul(heads(x), heads(y), false, true), { scale: 1 / Math.sqrt(d), causal: true });
      return T.transpose(T.matmul(p, heads(z)), [0, 2, 1, 3]);
    };
    const loss = (f: (x: Tensor, y: Tensor, z: Tensor) => Tensor) => valueAndGrads(() => T.sum(T.mul(f(q, k, v), w)), [q, k, v]);
    const fused = loss((x, y, z) => T.attention(x, y, z, { causal: true }));
    const plain = loss(composed);
    assert.ok(Math.abs(fused.value.data()[0] - plain.value.data()[0]) <= 1e-4 * Math.abs(plain.value.data()[0]));
    fused.grads.forEach((g, i) => {
      const c = compareClose(g.data() as Float32Array, plain.grads[i].data() as Float32Array, relTol(1e-5, 1e-6));
      assert.equal(c.message, undefined, `gradient ${i}: ${c.message}`);
    });
  });
});

test('causal attention: a NaN or ∞ at step s reaches only the steps that see s, on wasm as on ref, forward and backward', () => {
  // [n, heads, tq, tv, dk, dv] = [2, 2, 11, 11, 3, 5]: the NaN's step falls inside a 4-row diagonal block (6) and at
  // its start (8); the kernel used to reach steps 4 and 5 from step 6 (0·NaN) and to zero a query row of NaN.
  const [n, heads, t, dk, dv] = [2, 2, 11, 3, 5];
  const a = params(n, heads, t, t, dk, dv, false, true);
  const rng = new Rng(35);
  for (const [which, step, bad] of [['q', 6, NaN], ['k', 6, NaN], ['v', 6, NaN], ['v', 8, Infinity], ['q', 8, NaN]] as const) {
    const q = rng.normals(n * t * heads * dk), k = rng.normals(n * t * heads * dk), v = rng.normals(n * t * heads * dv);
    const x = which === 'q' ? q : which === 'k' ? k : v, d = which === 'v' ? dv : dk;
    for (let h = 0; h < heads; h++) x[((1 * t + step) * heads + h) * d] = bad; // sample 1, every head, first feature
    const label = `${String(bad)} in ${which} at step ${step}`;
    const outs = [f32Out(n * t * heads * dv), f32Out(n * heads * t * t)];
    const [r, w] = both([q, k, v], outs, (be, b) => be.attention(b[0], b[1], b[2], b[3], b[4], a));
    const o = w.outs[0] as Float32Array, ro = r.outs[0] as Float32Array;
    for (let i = 0; i < o.length; i++) {
      assert.equal(Number.isNaN(o[i]), Number.isNaN(ro[i]), `${label}: output ${i} is ${o[i]} on wasm, ${ro[i]} on ref`);
      const [sample, s] = [Math.floor(i / (t * heads * dv)), Math.floor(i / (heads * dv)) % t];
      if (sample === 0 || s < step) assert.ok(Number.isFinite(o[i]), `${label}: output ${i} (sample ${sample}, step ${s}) is ${o[i]}`);
    }
    const go = rng.normals(n * t * heads * dv);
    const gradOuts = [f32Out(q.length), f32Out(k.length), f32Out(v.length)];
    const [rg, wg] = both([go, q, k, v, r.outs[1]], gradOuts, (be, b) => be.attentionGrad(b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], a));
    wg.outs.forEach((g, j) => g.forEach((x, i) => assert.equal(Number.isNaN(x), Number.isNaN(rg.outs[j][i]), `${label}: d${'qkv'[j]} ${i} is ${x} on wasm, ${rg.outs[j][i]} on ref`)));
  }
});
