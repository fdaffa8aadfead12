// The fused recurrence kernels (rnnForward / rnnBackward): wasm on 1 and 2 threads bit-identical, and close to the
// reference backend, for every cell on awkward sizes (N = 1, units not a multiple of 4, T = 1), masks and reverse.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  type Backend, type OutputActivation, type Buf, RNN_GATES, RNN_SAVED, type RnnCell, type RnnParams,
} from '../../src/backend/backend.js';
import { RefBackend } from '../../src/backend/ref/ref.js';
import { wasmBackends } from '../helpers/backends.js';
import { compareBits, compareClose, relTol } from '../helpers/compare.js';
import { Rng } from '../helpers/random.js';

const ref = new RefBackend();
const [wasm1, wasm2] = wasmBackends(1, 2);

interface Case {
  cell: RnnCell;
  n: number;
  t: number;
  units: number;
  act?: OutputActivation;
  recAct?: OutputActivation;
  reverse?: boolean;
  mask?: boolean;
  zeroOutput?: boolean;
  bias?: boolean;
  /** Largest |p| (default 1): larger values saturate the gates. */
  scale?: number;
  /** p is a table of this many rows, looked up by random ids [N, T]. */
  vocab?: number;
}

/** Every output of one forward and one backward call, read back (inputs drawn from `seed`). */
function run(be: Backend, c: Case, seed: number): Record<string, Float32Array> {
  const q: RnnParams = {
    cell: c.cell, n: c.n, t: c.t, units: c.units, act: c.act ?? 'tanh', recAct: c.recAct ?? 'sigmoid',
    reverse: c.reverse ?? false, zeroOutput: c.zeroOutput ?? false,
  };
  const { n, t, units: u } = q;
  const gu = RNN_GATES[c.cell] * u;
  const rng = new Rng(seed);
  const bufs: Buf[] = [];
  const buf = (len: number, data?: Float32Array): Buf => {
    const b = be.alloc(len, 'float32');
    be.write(b, data ?? new Float32Array(len).fill(-7.25));
    bufs.push(b);
    return b;
  };
  const input = (len: number, scale = 1): Buf => buf(len, rng.uniforms(len, -scale, scale));
  const lstm = c.cell === 'lstm';
  const maskData = Float32Array.from({ length: n * t }, (_, i) => (i % 3 === 1 || i % 7 === 5 ? 0 : 1));
  let ids: Buf | undefined;
  if (c.vocab) {
    ids = be.alloc(n * t, 'int32');
    be.write(ids, Int32Array.from({ length: n * t }, () => Math.floor(rng.uniform() * c.vocab!)));
    bufs.push(ids);
  }
  const f = {
    ids, p: input((c.vocab ?? n * t) * gu, c.scale), u: input(u * gu, 1 / Math.sqrt(u)), h0: input(n * u), c0: lstm ? input(n * u) : undefined,
    bRec: c.bias ? input(gu, 0.2) : undefined, mask: c.mask ? buf(n * t, maskData) : undefined,
    y: buf(n * t * u), h: buf(n * u), c: lstm ? buf(n * u) : undefined, hprev: buf(n * t * u), save: buf(n * t * RNN_SAVED[c.cell] * u),
  };
  be.rnnForward(f, q);
  const g = {
    u: f.u, bRec: f.bRec, mask: f.mask, c0: f.c0, hprev: f.hprev, save: f.save,
    gy: input(n * t * u), gh: input(n * u), gc: lstm ? input(n * u) : undefined,
    dp: buf(n * t * gu), dr: c.cell === 'gru' ? buf(n * t * gu) : undefined, dh0: buf(n * u), dc0: lstm ? buf(n * u) : undefined,
    du: buf(u * gu),
  };
  be.rnnBackward(g, q);
  const out: Record<string, Float32Array> = {};
  const read = (name: string, b: Buf | undefined, len: number): void => {
    if (b !== undefined) out[name] = be.read(b, 'float32', len) as Float32Array;
  };
  read('y', f.y, n * t * u);
  read('h', f.h, n * u);
  read('c', f.c, n * u);
  read('hprev', f.hprev, n * t * u);
  read('dp', g.dp, n * t * gu);
  read('dr', g.dr, n * t * gu);
  read('dh0', g.dh0, n * u);
  read('dc0', g.dc0, n * u);
  read('du', g.du, u * gu);
  for (const b of bufs) be.free(b);
  return out;
}

const cases: Case[] = [
  { cell: 'simple', n: 1, t: 1, units: 1 },
  { cell: 'simple', n: 3, t: 5, units: 7, act: 'relu', mask: true, reverse: true },
  { cell: 'simple', n: 16, t: 4, units: 203, mask: true, zeroOutput: true },
  { cell: 'lstm', n: 2, t: 3, units: 5 },
  { cell: 'lstm', n: 5, t: 6, units: 13, mask: true, reverse: true },
  { cell: 'lstm', n: 3, t: 4, units: 9, act: 'relu', recAct: 'linear', mask: true, zeroOutput: true },
  { cell: 'lstm', n: 16, t: 5, units: 101, mask: true },
  { cell: 'gru', n: 1, t: 4, units: 3, bias: true },
  { cell: 'gru', n: 4, t: 5, units: 11, bias: true, mask: true, reverse: true },
  { cell: 'gru', n: 3, t: 3, units: 6, act: 'sigmoid', recAct: 'tanh', mask: true, zeroOutput: true },
  { cell: 'gru', n: 16, t: 4, units: 130, mask: true },
  // More units than one GEMM k-block (256): the packed recurrent kernels hold several blocks.
  { cell: 'simple', n: 2, t: 3, units: 401, reverse: true },
  { cell: 'lstm', n: 2, t: 3, units: 390, mask: true },
  // Batches of ≥ 8 rows run split over rows on 2 threads: rows not a multiple of 4, several row blocks (> 64 rows on
  // one thread), GEMM k blocks.
  { cell: 'gru', n: 33, t: 4, units: 37, bias: true, mask: true, reverse: true, zeroOutput: true },
  { cell: 'lstm', n: 70, t: 3, units: 70, mask: true },
  { cell: 'simple', n: 17, t: 2, units: 300 },
  // du over more rows than one k block (256), units a multiple of 4 and G·U of 8 (written in place).
  { cell: 'lstm', n: 40, t: 9, units: 12 },
  // Smaller batches split each step over units when a step has ≥ 2·2²⁰ multiply-adds.
  { cell: 'gru', n: 7, t: 3, units: 350, bias: true, mask: true },
  { cell: 'lstm', n: 5, t: 2, units: 420, reverse: true },
  // Projections looked up in a table by ids (an Embedding feeding the layer), rows split and not.
  { cell: 'lstm', n: 20, t: 5, units: 9, vocab: 7, mask: true, reverse: true },
  { cell: 'gru', n: 3, t: 4, units: 30, vocab: 2, bias: true },
  // Saturated gates and cells (|pre-activations| up to ~12).
  { cell: 'lstm', n: 6, t: 5, units: 21, scale: 12 },
  { cell: 'gru', n: 5, t: 4, units: 10, scale: 12, act: 'sigmoid', recAct: 'tanh' },
];

test('rnnForward / rnnBackward: wasm 1 and 2 threads bit-identical, and within float32 rounding of ref', () => {
  cases.forEach((c, k) => {
    const label = `${c.cell} n=${c.n} t=${c.t} units=${c.units}${c.mask ? ' masked' : ''}${c.reverse ? ' reverse' : ''}`;
    const want = run(ref, c, 100 + k);
    const one = run(wasm1, c, 100 + k);
    const two = run(wasm2, c, 100 + k);
    for (const [name, w] of Object.entries(want)) {
      assert.equal(compareBits(two[name], one[name]).message, undefined, `${label}: ${name}, 2 threads vs 1`);
      // Sums of ≤ 4·units float32 products per step, through ≤ 9 steps (du: over all N·T rows): a few ulps of the
      // largest terms.
      const cmp = compareClose(one[name], w, relTol(2e-5, 2e-5));
      assert.equal(cmp.message, undefined, `${label}: ${name}, wasm vs ref: ${cmp.message}`);
    }
  });
});
