// Recurrent layers with per-step recurrent kernels (steps, timeSharing): PyTorch fixtures, equality with the plain layer
// at initialisation and at rank 0, parameter counts, roles, summary, stripSharing and errors.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { memory, setBackend, tidy } from '../../src/core/engine.js';
import { add, mul, sum, tensor } from '../../src/core/ops/index.js';
import { valueAndGrads } from '../../src/core/tape.js';
import type { Tensor } from '../../src/core/tensor.js';
import { GRU, input, type Layer, LSTM, model, type Recurrent, SimpleRNN, type TimeSharing } from '../../src/nn/index.js';
import { stripSharing } from '../../src/transforms/index.js';
import { compareBits } from '../helpers/compare.js';
import { assertMatches, type FixtureTensor, fromFixture as t, loadFixture } from '../helpers/fixtures.js';
import { Rng } from '../helpers/random.js';

interface FixtureCase {
  name: string;
  layer: 'LSTM' | 'GRU' | 'SimpleRNN';
  options: { units: number; steps: number; timeSharing: TimeSharing; goBackwards: boolean };
  inputs: Record<string, FixtureTensor>;
  outputs: Record<string, FixtureTensor>;
}

type Options = ConstructorParameters<typeof GRU>[0];
const makers: Record<string, (o: Options) => Recurrent> = {
  SimpleRNN: (o) => new SimpleRNN(o),
  LSTM: (o) => new LSTM(o),
  GRU: (o) => new GRU(o),
  'GRU resetAfter false': (o) => new GRU({ ...o, resetAfter: false }),
};

/** Seeded inputs [n, steps, features] in [−1, 1). */
function seq(n: number, steps: number, features: number, seed: number): Tensor {
  return tensor(new Rng(seed).uniforms(n * steps * features, -1, 1), [n, steps, features]);
}

for (const backend of ['ref', 'wasm'] as const) {
  describe(`per-step recurrent kernels vs PyTorch cells (${backend})`, () => {
    for (const c of loadFixture<{ cases: FixtureCase[] }>('time-sharing').cases) {
      test(c.name, () => {
        setBackend(backend);
        const before = memory().tensors;
        const { inputs: i, outputs: o } = c;
        const [, steps, features] = i.x.shape;
        const lstm = c.layer === 'LSTM';
        const layer = makers[c.layer]({ ...c.options, returnSequences: true, returnState: true, name: 'rnn' });
        layer.build([[steps, features], [c.options.units], ...(lstm ? [[c.options.units]] : [])], 1);
        // θ in the map's order: recurrentKernel (untied: one dense [S, U, G·U]) or base, a, b (lowRankDelta).
        const theta = c.options.timeSharing === 'untied' ? ['recurrentKernel'] : ['base', 'a', 'b'];
        const params = [...layer.weight('kernel').parameters(), ...layer.weight('bias').parameters(), ...layer.weight('recurrentKernel').parameters()].map((p) => p.value);
        ['kernel', 'bias', ...theta].forEach((name, k) => {
          assert.deepEqual(params[k].shape, i[name].shape, `${name} shape`);
          params[k].backend.write(params[k].buf, Float32Array.from(i[name].data));
        });
        tidy(() => {
          const xs = [t(i.x), t(i.h0), ...(lstm ? [t(i.c0)] : [])];
          let outs: Tensor[] = [];
          const { grads } = valueAndGrads(() => {
            outs = layer.callAll(xs, { training: false, seed: 0 });
            const r = [t(i.ry), t(i.rh), ...(lstm ? [t(i.rc)] : [])];
            return outs.map((y, k) => sum(mul(y, r[k]))).reduce((a, b) => add(a, b));
          }, [...xs, ...params]);
          assertMatches('y', outs[0], o.y, 1e-4, 2e-5);
          assertMatches('h', outs[1], o.h, 1e-4, 2e-5);
          if (lstm) assertMatches('c', outs[2], o.c, 1e-4, 2e-5);
          ['dx', 'dh0', ...(lstm ? ['dc0'] : []), 'dkernel', 'dbias', ...theta.map((n) => `d${n}`)].forEach((n, k) => assertMatches(n, grads[k], o[n], 2e-4, 1e-4));
        });
        layer.dispose();
        assert.equal(memory().tensors, before, 'tensors leaked');
      });
    }
  });

  describe(`per-step recurrent kernels = the plain layer where they must be (${backend})`, () => {
    for (const [cell, make] of Object.entries(makers)) {
      test(`${cell}: at initialisation untied, rank 0 and rank 2 compute the plain layer's bits (goBackwards, masks, dropout, S < T and S > T)`, () => {
        setBackend(backend);
        const before = memory().tensors;
        const mask = tensor(Float32Array.from([1, 1, 0, 1, 1, 1, 0, 0, 1, 1, 1, 1]), [2, 6]);
        for (const goBackwards of [false, true]) {
          const base = { units: 4, returnSequences: true, returnState: true, goBackwards, seed: 9 };
          const plain = make({ ...base, implementation: 1 });
          const fused = make(base);
          const stepped = [
            make({ ...base, steps: 4, timeSharing: 'untied' }), make({ ...base, steps: 8, timeSharing: { rank: 0 } }),
            make({ ...base, steps: 4, timeSharing: { rank: 2 } }), make({ ...base, steps: 3 }),
          ];
          for (const l of [plain, fused, ...stepped]) l.build([6, 3], 1);
          tidy(() => {
            const x = seq(2, 6, 3, 4);
            for (const masks of [undefined, [mask]]) {
              const ctx = { training: false, seed: 0, masks };
              const want = plain.callAll([x], ctx).map((y) => y.f32());
              stepped.forEach((l, k) => l.callAll([x], ctx).forEach((y, j) => {
                const cmp = compareBits(y.f32(), want[j]);
                assert.equal(cmp.message, undefined, `${cell} variant ${k} goBackwards ${goBackwards} mask ${!!masks}: output ${j}: ${cmp.message}`);
              }));
              // The fused op (implementation 2) runs another summation order: equal to rounding.
              fused.callAll([x], ctx).forEach((y, j) => y.f32().forEach((v, e) => assert.ok(Math.abs(v - want[j][e]) < 1e-5, `${cell} fused output ${j}[${e}]`)));
            }
          });
          for (const l of [plain, fused, ...stepped]) l.dispose();
          // Training with dropout and recurrent dropout: the same masks (same layer path and seed), the same bits.
          const drop = { ...base, dropout: 0.25, recurrentDropout: 0.25 };
          const [pd, sd] = [make(drop), make({ ...drop, steps: 4, timeSharing: { rank: 2 } })];
          for (const l of [pd, sd]) l.build([6, 3], 1);
          tidy(() => {
            const x = seq(2, 6, 3, 5);
            const ctx = { training: true, seed: 3 };
            const want = pd.callAll([x], ctx).map((y) => y.f32());
            assert.notEqual(compareBits(pd.callAll([x], { training: false, seed: 3 })[0].f32(), want[0]).message, undefined, 'dropout acts');
            sd.callAll([x], ctx).forEach((y, j) => assert.equal(compareBits(y.f32(), want[j]).message, undefined, `${cell} with dropout: output ${j}`));
          });
          for (const l of [pd, sd]) l.dispose();
        }
        mask.dispose();
        assert.equal(memory().tensors, before, 'tensors leaked');
      });

      test(`${cell}: rank 0 is the plain layer: same free parameters, same outputs, W₀'s gradient = the plain kernel's`, () => {
        setBackend(backend);
        const plain = make({ units: 3, implementation: 1, returnSequences: true, seed: 2 });
        const r0 = make({ units: 3, steps: 3, timeSharing: { rank: 0 }, returnSequences: true, seed: 2 });
        for (const l of [plain, r0]) l.build([5, 2], 1);
        assert.equal(r0.countParams(), plain.countParams());
        tidy(() => {
          const x = seq(3, 5, 2, 8);
          const r = seq(3, 5, 3, 9);
          const run = (l: Layer) => {
            let y: Tensor | undefined;
            const ps = l.parameters().map((p) => p.value);
            const { grads } = valueAndGrads(() => sum(mul((y = l.call(x, { training: false, seed: 0 })), r)), ps);
            return { y: y!.f32(), grads: grads.map((g) => g.f32()) };
          };
          const [a, b] = [run(plain), run(r0)];
          assert.equal(compareBits(b.y, a.y).message, undefined, 'outputs');
          // Parameters in the same order (kernel, recurrent kernel or W₀, bias); W₀'s gradient sums the steps' in another order.
          a.grads.forEach((g, k) => g.forEach((v, e) => assert.ok(Math.abs(b.grads[k][e] - v) <= 1e-6 + 1e-5 * Math.abs(v), `${cell} gradient ${k}[${e}]: ${b.grads[k][e]} vs ${v}`)));
        });
        plain.dispose();
        r0.dispose();
      });
    }
  });
}

describe('per-step recurrent kernels: parameters, roles, config, transforms and errors', () => {
  test('parameter counts: untied S·U·G·U, rank r U·G·U + S·r·(U + G·U), on top of the input kernel and bias; roles and shapes', () => {
    setBackend('wasm');
    const [f, u, s] = [3, 4, 5];
    for (const [cell, make] of Object.entries(makers)) {
      const shared = make({ units: u });
      shared.build([7, f], 1);
      const g = shared.gates;
      const rest = shared.countParams() - u * g * u;
      const cases: [Partial<Options>, number, string[]][] = [
        [{ steps: s }, rest + s * u * g * u, ['recurrentKernel']],
        [{ steps: s, timeSharing: 'untied' }, rest + s * u * g * u, ['recurrentKernel']],
        [{ steps: s, timeSharing: { rank: 0 } }, rest + u * g * u, ['recurrentKernel/base']],
        [{ steps: s, timeSharing: { rank: 2 } }, rest + u * g * u + s * 2 * (u + g * u), ['recurrentKernel/base', 'recurrentKernel/a', 'recurrentKernel/b']],
        [{ steps: s, maps: { recurrentKernel: 'hashed:buckets=30' } }, rest + 30, ['recurrentKernel/theta']],
      ];
      for (const [o, params, names] of cases) {
        const x = input({ shape: [7, f] });
        const m = model({ inputs: x, outputs: make({ ...o, units: u, name: 'rnn' }).apply(x) }).build(1);
        const label = `${cell} ${JSON.stringify(o)}`;
        assert.equal(m.countParams(), params, `${label}: countParams`);
        const rk = m.weights().find((w) => w.path === 'rnn/recurrentKernel')!;
        assert.deepEqual([rk.role, rk.map.shape, rk.map.stats().virtual, rk.map.stats().free], ['recurrentKernel', [s, u, g * u], s * u * g * u, params - rest], label);
        assert.deepEqual(m.namedParameters().map((p) => p.name).filter((n) => n.startsWith('rnn/recurrentKernel')), names.map((n) => `rnn/${n}`), label);
        assert.match(m.summary(), new RegExp(`Total params: ${params.toLocaleString('en-US')}\\b`), `${label}: summary`);
        m.dispose();
      }
      shared.dispose();
    }
  });

  test('config: steps is saved, timeSharing through the recurrentKernel map; shared layers keep their old config; implementation 1', () => {
    const plain = new GRU({ units: 2 });
    assert.equal('steps' in plain.toJSON().config, false);
    assert.equal(plain.implementation, 2);
    const r = new GRU({ units: 2, steps: 6, timeSharing: { rank: 1 } });
    assert.deepEqual([r.toJSON().config.steps, r.toJSON().config.maps, r.implementation], [6, { recurrentKernel: { kind: 'lowRankDelta', rank: 1 } }, 1]);
    const u = new GRU({ units: 2, steps: 6, timeSharing: 'untied', implementation: 2 });
    assert.deepEqual([u.toJSON().config.steps, u.toJSON().config.maps, u.implementation], [6, undefined, 1]);
  });

  test('stripSharing turns rank-r kernels into the untied layer they are, with the same outputs', () => {
    setBackend('wasm');
    const x = input({ shape: [5, 3] });
    const m = model({ inputs: x, outputs: new LSTM({ units: 3, steps: 4, timeSharing: { rank: 2 }, name: 'rnn' }).apply(x) }).build(2);
    const b = m.namedParameters().find((p) => p.name === 'rnn/recurrentKernel/b')!.param.value;
    b.backend.write(b.buf, new Rng(1).uniforms(b.size, -1, 1));
    tidy(() => {
      const xs = seq(2, 5, 3, 6);
      const before = m.call(xs).f32();
      assert.deepEqual(stripSharing(m), ['rnn/recurrentKernel']);
      assert.deepEqual(m.weights().find((w) => w.path === 'rnn/recurrentKernel')!.map.kind, 'dense');
      assert.equal(m.countParams(), 4 * (3 * 3 + 3) + 4 * 3 * 12);
      assert.equal(compareBits(m.call(xs).f32(), before).message, undefined);
    });
    m.dispose();
  });

  test('bad options: one-line errors naming the layer and the value', () => {
    assert.throws(() => new GRU({ units: 3, timeSharing: 'untied' }), /^RangeError: layer 'gru': timeSharing "untied" needs steps: S, the number of per-step recurrent kernels$/);
    assert.throws(() => new LSTM({ units: 3, timeSharing: { rank: 2 } }), /layer 'lstm': timeSharing \{"rank":2\} needs steps/);
    assert.throws(() => new GRU({ units: 3, steps: 4, timeSharing: 'shared' }), /layer 'gru': timeSharing 'shared' keeps one recurrent kernel, so it takes no steps \(got steps 4\); \{ rank: 0 \} shares one kernel as 4 per-step views/);
    assert.throws(() => new GRU({ units: 3, steps: 4, timeSharing: 'tied' as never }), /layer 'gru': timeSharing must be 'shared', 'untied' or \{ rank: r \} with an integer r ≥ 0, got "tied"/);
    assert.throws(() => new GRU({ units: 3, steps: 4, timeSharing: { rank: -1 } }), /got \{"rank":-1\}/);
    assert.throws(() => new SimpleRNN({ units: 3, steps: 0 }), /layer 'simple_rnn': steps must be an integer ≥ 1, got 0/);
    assert.throws(() => new SimpleRNN({ units: 3, steps: 2.5 }), /steps must be an integer ≥ 1, got 2.5/);
    assert.throws(() => new GRU({ units: 3, steps: 4, timeSharing: { rank: 1 }, maps: { recurrentKernel: 'hashed:1/4' } }),
      /layer 'gru': timeSharing \{"rank":1\} sets the recurrentKernel's map, and maps.recurrentKernel is given too; give one/);
    assert.throws(() => new GRU({ units: 3, steps: 4, timeSharing: 'untied', maps: { recurrentKernel: 'hashed:1/4' } }), /sets the recurrentKernel's map/);
    const l = new GRU({ units: 3, steps: 4, timeSharing: { rank: 4 }, name: 'enc' });
    assert.throws(() => l.build([5, 2], 0), /^SharingError: layer 'enc' recurrentKernel, scheme 'lowRankDelta': rank must be an integer in \[0, 3\] for slices \[3, 9\], got 4$/);
  });
});
