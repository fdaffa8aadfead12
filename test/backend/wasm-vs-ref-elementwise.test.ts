// Element-wise, reduction, softmax, indexing and copy kernels on the wasm backend against RefBackend.
import { after, test } from 'node:test';
import { BIAS_ACTIVATIONS, BINARY_OPS, UNARY_OPS, type Backend, type BinaryOp, type CopyParams, type UnaryOp } from '../../src/backend/backend.js';
import { geluSlope } from '../../src/backend/ref/math.js';
import { RefBackend } from '../../src/backend/ref/ref.js';
import { createWasmBackend } from '../../src/backend/wasm/wasm.js';
import { abs, f32Out, i32Out, pairOn, runOn } from '../helpers/backends.js';
import { compareBits, compareClose, Failures, relTol, scaledTol, type TolFn } from '../helpers/compare.js';
import { Rng, SPECIAL_VALUES } from '../helpers/random.js';

const ref = new RefBackend();
const wasm = createWasmBackend({ threads: 2 });
after(() => (wasm as Partial<{ dispose(): void }>).dispose?.());
const both = pairOn(ref, wasm);

const SIZES = [1, 2, 3, 4, 5, 7, 15, 16, 17, 33, 1023, 4099];
/** Exactly rounded in IEEE float32, so wasm must give the very value the float64-then-round reference gives. */
const EXACT = relTol(0);
/** Transcendental functions: relative 1e-5, absolute 1e-6 near zeros. */
const TRANSCENDENTAL = relTol(1e-5, 1e-6);
const UNARY_TOL: { [K in UnaryOp]: TolFn } = {
  neg: EXACT, abs: EXACT, sign: EXACT, sqrt: EXACT, square: EXACT, reciprocal: EXACT, relu: EXACT, step: EXACT,
  rsqrt: relTol(3e-7), exp: TRANSCENDENTAL, log: TRANSCENDENTAL, sigmoid: TRANSCENDENTAL, tanh: TRANSCENDENTAL,
  erf: TRANSCENDENTAL, gelu: TRANSCENDENTAL, sin: TRANSCENDENTAL, cos: TRANSCENDENTAL,
};

test('unary: every op on awkward lengths with NaN/Inf/±0/extremes', (t) => {
  const rng = new Rng(11);
  const f = new Failures('unary');
  for (const op of UNARY_OPS) {
    for (const n of SIZES) {
      // sin/cos get moderate arguments: huge ones test range reduction, not the kernel.
      const x = op === 'sin' || op === 'cos' ? rng.normals(n, 10) : rng.normals(n, 3);
      rng.sprinkle(x, 0.1, op === 'sin' || op === 'cos' ? [NaN, Infinity, -Infinity, 0, -0, 1e-45] : SPECIAL_VALUES);
      const [r, w] = both([x], [f32Out(n)], (be, [a, y]) => be.unary(op, a, y, n));
      f.add(`${op} n=${n}`, compareClose(w.outs[0], r.outs[0], UNARY_TOL[op]));
    }
    const wide = rng.uniforms(4096, -12, 12); // the tails of exp/erf/gelu/sigmoid/tanh
    const [r, w] = both([wide], [f32Out(4096)], (be, [a, y]) => be.unary(op, a, y, 4096));
    f.add(`${op} n=4096 uniform(-12,12)`, compareClose(w.outs[0], r.outs[0], UNARY_TOL[op]));
  }
  t.diagnostic(f.summary());
  f.assertNone();
});

/** Row-major strides of `inShape` (right-aligned to `outShape`), 0 along broadcast dimensions. */
function bstrides(outShape: number[], inShape: number[]): number[] {
  const shape = [...new Array<number>(outShape.length - inShape.length).fill(1), ...inShape];
  const strides = new Array<number>(shape.length).fill(0);
  let s = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    strides[d] = shape[d] === 1 && outShape[d] !== 1 ? 0 : s;
    s *= shape[d];
  }
  return strides;
}

const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/** [out, a, b] shapes: same, scalar, row, column, middle axis, outer product, rank 4–6, large. */
const BROADCASTS: number[][][] = [
  [[1], [1], [1]], [[17], [17], [17]], [[1000], [1000], [1]], [[1000], [1], [1000]], [[7, 13], [7, 13], [13]],
  [[7, 13], [7, 1], [7, 13]], [[5, 6, 7], [5, 1, 7], [5, 6, 7]], [[5, 6, 7], [5, 6, 7], [6, 1]], [[9, 11], [9, 1], [1, 11]],
  [[2, 3, 4, 5], [2, 1, 4, 1], [1, 3, 1, 5]], [[3, 1, 4, 2, 5, 2], [3, 1, 4, 1, 5, 2], [4, 2, 1, 1]], [[65, 129], [65, 129], [129]],
  [[4, 16, 16], [4, 16, 16], [4, 16, 16]], [[3, 5], [], [3, 5]],
];

const BINARY_TOL: { [K in BinaryOp]: TolFn } = {
  add: EXACT, sub: EXACT, mul: EXACT, div: EXACT, pow: TRANSCENDENTAL, maximum: EXACT, minimum: EXACT,
  greater: EXACT, greaterEqual: EXACT, less: EXACT, lessEqual: EXACT, equal: EXACT, notEqual: EXACT, reluGrad: EXACT,
};

test('binary: every op with broadcasting (scalar, row, column, middle axis) and NaN/Inf', (t) => {
  const rng = new Rng(12);
  const f = new Failures('binary');
  for (const op of BINARY_OPS) {
    for (const [out, as, bs] of BROADCASTS) {
      const bc = { shape: out, strides: [bstrides(out, as), bstrides(out, bs)] };
      const ties = op !== 'add' && op !== 'sub' && op !== 'mul' && op !== 'div';
      const a = op === 'pow' ? rng.uniforms(size(as), -3, 3) : ties ? rng.grid(size(as), 3) : rng.normals(size(as), 2);
      const b = op === 'pow' ? rng.grid(size(bs), 8, 0.5) : ties ? rng.grid(size(bs), 3) : rng.normals(size(bs), 2);
      const specials = op === 'pow' ? [NaN, Infinity, -Infinity, 0, -0, 1, -1, 0.5] : SPECIAL_VALUES;
      rng.sprinkle(a, 0.08, specials);
      rng.sprinkle(b, 0.08, specials);
      const [r, w] = both([a, b], [f32Out(size(out))], (be, [x, y, z]) => be.binary(op, x, y, z, bc));
      f.add(`${op} [${out}] = [${as}] ∘ [${bs}]`, compareClose(w.outs[0], r.outs[0], BINARY_TOL[op]));
    }
  }
  t.diagnostic(f.summary());
  f.assertNone();
});

test('where: broadcasting, NaN condition selects a, bits copied', (t) => {
  const rng = new Rng(13);
  const f = new Failures('where');
  const patterns = BROADCASTS.map(([out, as, bs]) => [out, bs, as, out]).concat([[[6, 7], [6, 1], [7], []], [[3, 4, 5], [4, 1], [3, 1, 5], [5]]]);
  for (const [out, cs, as, bs] of patterns) {
    const cond = rng.sprinkle(rng.grid(size(cs), 1), 0.1, [NaN, -0, Infinity]);
    const a = rng.sprinkle(rng.normals(size(as)), 0.1), b = rng.sprinkle(rng.normals(size(bs)), 0.1);
    const bc = { shape: out, strides: [bstrides(out, cs), bstrides(out, as), bstrides(out, bs)] };
    const [r, w] = both([cond, a, b], [f32Out(size(out))], (be, [c, x, y, z]) => be.where(c, x, y, z, bc));
    f.add(`[${out}] cond[${cs}] a[${as}] b[${bs}]`, compareBits(w.outs[0], r.outs[0]));
  }
  t.diagnostic(f.summary());
  f.assertNone();
});

/** [outer, size, inner] for reducing every axis of each shape. */
function reduceGeometries(): number[][] {
  const shapes = [[2, 3, 5, 7], [1, 1, 1], [4, 1, 6], [3, 17, 2], [10000], [1000, 3], [7, 257], [16, 16, 16], [5, 4099]];
  const out: number[][] = [];
  for (const s of shapes) {
    for (let ax = 0; ax < s.length; ax++) out.push([size(s.slice(0, ax)), s[ax], size(s.slice(ax + 1))]);
  }
  return out;
}

test('reduce (sum, mean, max, min) and argmax on every axis position, with ties and NaN/Inf', (t) => {
  const rng = new Rng(14);
  const fr = new Failures('reduce');
  const fa = new Failures('argmax');
  for (const [outer, sz, inner] of reduceGeometries()) {
    const n = outer * sz * inner;
    for (const kind of ['normal', 'ties', 'special'] as const) {
      const x = kind === 'ties' ? rng.grid(n, 2) : rng.normals(n);
      if (kind === 'special') rng.sprinkle(x, 0.02, [NaN, Infinity, -Infinity]);
      const label = `${kind} [${outer},${sz},${inner}]`;
      for (const op of ['sum', 'mean', 'max', 'min'] as const) {
        const [r, w] = both([x], [f32Out(outer * inner)], (be, [a, y]) => be.reduce(op, a, y, outer, sz, inner));
        const scale = runOn(ref, [abs(x)], [f32Out(outer * inner)], ([a, y]) => ref.reduce(op, a, y, outer, sz, inner)).outs[0];
        const tol = op === 'sum' || op === 'mean' ? scaledTol(scale, 1e-6 * Math.sqrt(sz), 1e-30) : EXACT;
        fr.add(`${op} ${label}`, compareClose(w.outs[0], r.outs[0], tol));
      }
      const [r, w] = both([x], [i32Out(outer * inner)], (be, [a, y]) => be.argmax(a, y, outer, sz, inner));
      fa.add(label, compareBits(w.outs[0], r.outs[0]));
    }
  }
  for (const f of [fr, fa]) t.diagnostic(f.summary());
  for (const f of [fr, fa]) f.assertNone();
});

test('softmax and log-softmax: awkward rows/cols, large offsets, -Inf entries, NaN rows', (t) => {
  const rng = new Rng(15);
  const f = new Failures('softmax');
  for (const [rows, cols] of [[1, 1], [1, 2], [3, 7], [4, 16], [5, 17], [64, 10], [2, 1000], [3, 4099], [33, 65]]) {
    for (const kind of ['normal', 'offset', 'special'] as const) {
      const x = rng.normals(rows * cols, kind === 'offset' ? 8 : 3, kind === 'offset' ? 60 : 0);
      if (kind === 'special') {
        rng.sprinkle(x, 0.05, [-Infinity]);
        if (rows > 1) x[cols] = NaN; // row 1 becomes all NaN
      }
      for (const log of [false, true]) {
        const [r, w] = both([x], [f32Out(rows * cols)], (be, [a, y]) => be.softmax(a, y, rows, cols, log));
        f.add(`${kind} log=${log} [${rows},${cols}]`, compareClose(w.outs[0], r.outs[0], log ? relTol(1e-5, 1e-5) : relTol(1e-5, 1e-7)));
      }
    }
  }
  t.diagnostic(f.summary());
  f.assertNone();
});

test('gather and scatterAdd: duplicates, int32 and float words, bad index position', (t) => {
  const rng = new Rng(16);
  const fg = new Failures('gather');
  const fs = new Failures('scatterAdd');
  for (const [outer, axisLen, inner, nIdx] of [[1, 5, 1, 3], [3, 7, 5, 10], [2, 1, 4, 6], [4, 100, 17, 50], [1, 1000, 1, 5000], [5, 13, 64, 7], [2, 3, 3, 1]]) {
    const idx = rng.ints(nIdx, 0, axisLen - 1);
    const label = `[${outer},${axisLen},${inner}] nIdx=${nIdx}`;
    for (const x of [rng.sprinkle(rng.normals(outer * axisLen * inner), 0.05), rng.ints(outer * axisLen * inner, -(2 ** 31), 2 ** 31 - 1)]) {
      const out = x instanceof Int32Array ? i32Out(outer * nIdx * inner) : f32Out(outer * nIdx * inner);
      const [r, w] = both([x, idx], [out], (be, [a, i, y]) => be.gather(a, i, y, outer, axisLen, inner, nIdx));
      fg.equal(`${label} ${x.constructor.name} return`, w.ret, r.ret);
      fg.add(`${label} ${x.constructor.name}`, compareBits(w.outs[0], r.outs[0]));
    }
    const upd = rng.normals(outer * nIdx * inner), y0 = rng.normals(outer * axisLen * inner);
    const [r, w] = both([upd, idx], [f32Out(y0.length, y0)], (be, [u, i, y]) => be.scatterAdd(u, i, y, outer, axisLen, inner, nIdx));
    fs.equal(`${label} return`, w.ret, r.ret);
    const scale = runOn(ref, [abs(upd), idx], [f32Out(y0.length, abs(y0))], ([u, i, y]) => ref.scatterAdd(u, i, y, outer, axisLen, inner, nIdx)).outs[0];
    fs.add(label, compareClose(w.outs[0], r.outs[0], scaledTol(scale, 1e-6 * Math.sqrt(nIdx), 1e-30)));
    for (const bad of [axisLen, -1, 2 ** 31 - 1]) {
      const pos = rng.int(0, nIdx - 1);
      const badIdx = idx.slice();
      badIdx[pos] = bad;
      if (pos + 1 < nIdx) badIdx[nIdx - 1] = -5; // a later bad index must not be the one reported
      const out = f32Out(outer * nIdx * inner);
      const [rg, wg] = both([y0, badIdx], [out], (be, [a, i, y]) => be.gather(a, i, y, outer, axisLen, inner, nIdx));
      fg.equal(`${label} bad ${bad} at ${pos}`, wg.ret, rg.ret);
      const [rs, ws] = both([upd, badIdx], [f32Out(y0.length, y0)], (be, [u, i, y]) => be.scatterAdd(u, i, y, outer, axisLen, inner, nIdx));
      fs.equal(`${label} bad ${bad} at ${pos}`, ws.ret, rs.ret);
    }
  }
  for (const f of [fg, fs]) t.diagnostic(f.summary());
  for (const f of [fg, fs]) f.assertNone();
});

test('biasAct: every activation on awkward rows/cols with NaN/Inf', (t) => {
  const rng = new Rng(17);
  const f = new Failures('biasAct');
  for (const act of BIAS_ACTIVATIONS) {
    for (const [rows, cols] of [[1, 1], [1, 17], [3, 5], [32, 128], [7, 33], [100, 10], [4, 1]]) {
      const x = rng.sprinkle(rng.normals(rows * cols, 3), 0.05), bias = rng.normals(cols);
      const [r, w] = both([x, bias], [f32Out(rows * cols)], (be, [a, b, y]) => be.biasAct(a, b, y, rows, cols, act));
      f.add(`${act} [${rows},${cols}]`, compareClose(w.outs[0], r.outs[0], act === 'linear' || act === 'relu' ? EXACT : TRANSCENDENTAL));
    }
  }
  t.diagnostic(f.summary());
  f.assertNone();
});

test('biasActGrad: dz has the bits of the composed ops (GELU: close to ref); db matches ref; 1 and 2 threads agree', (t) => {
  const rng = new Rng(21);
  const f = new Failures('biasActGrad');
  const wasm1 = createWasmBackend({ threads: 1 });
  const composed = (act: string, g: Float32Array, y: Float32Array): Float32Array => {
    const n = g.length, out = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const s = Math.fround(y[i] * Math.fround(1 - y[i])), q = Math.fround(1 - Math.fround(y[i] * y[i]));
      out[i] = act === 'relu' ? (y[i] > 0 ? g[i] : 0) : act === 'sigmoid' ? Math.fround(g[i] * s) : act === 'tanh' ? Math.fround(g[i] * q) : g[i];
    }
    return out;
  };
  for (const act of BIAS_ACTIVATIONS) {
    for (const [rows, cols] of [[1, 1], [1, 17], [3, 5], [63, 4], [64, 7], [65, 3], [129, 32], [700, 33], [10816, 32], [0, 3]]) {
      // GELU reads y = the input x (spread over both tails) and the bias.
      const g = rng.sprinkle(rng.normals(rows * cols, 3), 0.02), y = rng.sprinkle(rng.normals(rows * cols, act === 'gelu' ? 3 : 1), 0.02);
      const bias = rng.normals(cols);
      const run = (be: Backend) => runOn(be, [g, y, bias], [f32Out(rows * cols), f32Out(cols)], ([a, b, c, dz, db]) => be.biasActGrad(a, b, dz, db, rows, cols, act, c)).outs;
      const [wz, wb] = run(wasm), [rz, rb] = run(ref), [oz, ob] = run(wasm1);
      const label = `${act} [${rows},${cols}]`;
      if (act === 'gelu') {
        // |gelu'| ≤ 1.13 with an error ≤ 1e-6 of its scale (the test above; it crosses 0 near z = −0.75): 2e-6·|g|.
        f.add(`${label} dz vs ref`, compareClose(wz, rz, scaledTol(abs(g), 2e-6, 1e-37)));
      } else {
        f.add(`${label} dz vs composed`, compareBits(wz, composed(act, g, y)));
        f.add(`${label} dz vs ref`, compareBits(wz, rz));
      }
      const scale = runOn(ref, [abs(wz as Float32Array), new Float32Array(rows * cols)], [f32Out(rows * cols), f32Out(cols)], ([a, b, dz, db]) => ref.biasActGrad(a, b, dz, db, rows, cols, 'linear')).outs[1];
      f.add(`${label} db vs ref`, compareClose(wb, rb, scaledTol(scale, 1e-6 * Math.sqrt(rows + 1), 1e-30)));
      f.add(`${label} 1 vs 2 threads`, compareBits(wz, oz));
      f.add(`${label} db 1 vs 2 threads`, compareBits(wb, ob));
    }
  }
  wasm1.dispose();
  t.diagnostic(f.summary());
  f.assertNone();
});

test('GELU with its slope kept: y has biasAct\'s bits, and the slope gives biasActGrad\'s dz and db to the bit (1 and 2 threads; ref too)', (t) => {
  const rng = new Rng(23);
  const f = new Failures('gelu slope');
  const wasm1 = createWasmBackend({ threads: 1 });
  for (const [rows, cols] of [[1, 1], [1, 17], [3, 5], [63, 4], [65, 3], [129, 32], [700, 33], [2048, 130], [0, 3]]) {
    const n = rows * cols;
    const x = rng.sprinkle(rng.normals(n, 3), 0.02), g = rng.sprinkle(rng.normals(n, 3), 0.02), bias = rng.normals(cols);
    const label = `[${rows},${cols}]`;
    for (const [name, be] of [['wasm 2T', wasm], ['wasm 1T', wasm1], ['ref', ref]] as const) {
      const plain = runOn(be, [x, bias], [f32Out(n)], ([a, b, y]) => be.biasAct(a, b, y, rows, cols, 'gelu')).outs[0];
      const [y, s] = runOn(be, [x, bias], [f32Out(n), f32Out(n)], ([a, b, yy, ss]) => be.biasAct(a, b, yy, rows, cols, 'gelu', ss)).outs;
      const [dz, db] = runOn(be, [g, x, bias], [f32Out(n), f32Out(cols)], ([a, b, c, z, d]) => be.biasActGrad(a, b, z, d, rows, cols, 'gelu', c)).outs;
      const [sz, sb] = runOn(be, [g, s as Float32Array], [f32Out(n), f32Out(cols)], ([a, b, z, d]) => be.biasActGrad(a, b, z, d, rows, cols, 'gelu')).outs;
      f.add(`${name} ${label} y with slope = y`, compareBits(y, plain));
      f.add(`${name} ${label} dz from the slope`, compareBits(sz, dz));
      f.add(`${name} ${label} db from the slope`, compareBits(sb, db));
    }
  }
  wasm1.dispose();
  t.diagnostic(f.summary());
  f.assertNone();
});

test('erf, GELU (unary and fused with a bias) and GELU\'s slope (biasActGrad) within 1e-6 of float64 from −20 to 20', (t) => {
  const f = new Failures('erf/gelu');
  const n = 40001;
  const x = new Float32Array(n + SPECIAL_VALUES.length);
  for (let i = 0; i < n; i++) x[i] = -20 + (40 * i) / (n - 1); // the core and both tails (erf → ±1, gelu → 0 and x)
  x.set(SPECIAL_VALUES, n);
  const m = x.length, zero = new Float32Array(1), ones = new Float32Array(m).fill(1);
  // 1e-6 relative, and 1e-37 absolute where the float64 value is subnormal in float32 (GELU below x ≈ −13).
  const tol = relTol(1e-6, 1e-37);
  for (const op of ['erf', 'gelu'] as const) {
    const [r, w] = both([x], [f32Out(m)], (be, [a, y]) => be.unary(op, a, y, m));
    f.add(`unary ${op}`, compareClose(w.outs[0], r.outs[0], tol));
  }
  const [rb, wb] = both([x, zero], [f32Out(m)], (be, [a, b, y]) => be.biasAct(a, b, y, m, 1, 'gelu'));
  f.add('biasAct gelu', compareClose(wb.outs[0], rb.outs[0], tol));
  // The slope Φ(z) + z·φ(z) crosses 0 near z = −0.75: its error is measured against Φ(z) + |z|·φ(z).
  const [rs, ws] = both([ones, x, zero], [f32Out(m), f32Out(1)], (be, [g, a, b, dz, db]) => be.biasActGrad(g, a, dz, db, m, 1, 'gelu', b));
  const scale = Array.from(x, (z) => (Number.isFinite(z) ? Math.abs(geluSlope(z)) + 2 * Math.abs(z) * Math.exp(-0.5 * z * z) / Math.sqrt(2 * Math.PI) : 1));
  f.add('biasActGrad gelu slope', compareClose(ws.outs[0], rs.outs[0], scaledTol(scale, 1e-6, 1e-37)));
  t.diagnostic(f.summary());
  f.assertNone();
});

test('layerNorm and layerNormGrad: close to ref on awkward shapes, with and without gamma/beta; 1 and 2 threads agree', (t) => {
  const rng = new Rng(25);
  const f = new Failures('layerNorm');
  const wasm1 = createWasmBackend({ threads: 1 });
  const cases: [number, number][] = [[1, 1], [1, 2], [3, 5], [4, 7], [63, 4], [65, 3], [129, 32], [700, 33], [2048, 128], [0, 3]];
  for (const [rows, cols] of cases) {
    for (const affine of [true, false]) {
      // Rows with an offset (the variance about a far mean) and a spread of scales.
      const x = rng.normals(rows * cols, 3).map((v, i) => v * (1 + (Math.floor(i / cols) % 5)) + 10 * ((Math.floor(i / cols) % 3) - 1));
      const gamma = rng.normals(cols), beta = rng.normals(cols), dy = rng.normals(rows * cols);
      const label = `[${rows},${cols}]${affine ? ' γ β' : ''}`;
      const fwd = (be: Backend) => runOn(be, [x, gamma, beta], [f32Out(rows * cols)], ([a, g, b, y]) => be.layerNorm(a, affine ? g : null, affine ? b : null, y, rows, cols, 1e-3)).outs[0];
      const bwd = (be: Backend) => runOn(be, [dy, x, gamma], [f32Out(rows * cols), f32Out(cols), f32Out(cols)],
        ([d, a, g, dx, dg, db]) => be.layerNormGrad(d, a, affine ? g : null, dx, dg, db, rows, cols, 1e-3)).outs;
      const [wy, ry, oy] = [fwd(wasm), fwd(ref), fwd(wasm1)];
      // |x̂| ≲ 4 here, γ and β O(1): a few float32 roundings of values O(10).
      f.add(`${label} y`, compareClose(wy, ry, relTol(1e-5, 1e-5)));
      f.add(`${label} y 1 vs 2 threads`, compareBits(wy, oy));
      const [w, r, o] = [bwd(wasm), bwd(ref), bwd(wasm1)];
      f.add(`${label} dx`, compareClose(w[0], r[0], relTol(1e-4, 1e-5)));
      f.add(`${label} dgamma`, compareClose(w[1], r[1], relTol(1e-4, 1e-5 * Math.sqrt(rows + 1))));
      f.add(`${label} dbeta`, compareClose(w[2], r[2], relTol(1e-5, 1e-6 * Math.sqrt(rows + 1))));
      for (let k = 0; k < 3; k++) f.add(`${label} grad ${k} 1 vs 2 threads`, compareBits(w[k], o[k]));
    }
  }
  wasm1.dispose();
  t.diagnostic(f.summary());
  f.assertNone();
});

test('copy: transposes, slices with offsets, broadcast, rank 0 and rank 8 (raw bits)', (t) => {
  const rng = new Rng(18);
  const f = new Failures('copy');
  const dense = (shape: number[]) => bstrides(shape, shape);
  const cases: [string, CopyParams, number, number][] = [
    ['transpose [7,13]', { shape: [13, 7], srcStrides: [1, 13], srcOffset: 0, dstStrides: [7, 1], dstOffset: 0 }, 91, 91],
    ['permute [3,4,5]→[5,3,4]', { shape: [5, 3, 4], srcStrides: [1, 20, 5], srcOffset: 0, dstStrides: dense([5, 3, 4]), dstOffset: 0 }, 60, 60],
    ['NHWC→NCHW [2,5,6,3]', { shape: [2, 3, 5, 6], srcStrides: [90, 1, 18, 3], srcOffset: 0, dstStrides: dense([2, 3, 5, 6]), dstOffset: 0 }, 180, 180],
    ['slice [10,12][3:8,2:11]', { shape: [5, 9], srcStrides: [12, 1], srcOffset: 38, dstStrides: [9, 1], dstOffset: 0 }, 120, 45],
    ['concat half into [4,10] at col 6', { shape: [4, 4], srcStrides: [4, 1], srcOffset: 0, dstStrides: [10, 1], dstOffset: 6 }, 16, 40],
    ['broadcast [5]→[4,5]', { shape: [4, 5], srcStrides: [0, 1], srcOffset: 0, dstStrides: [5, 1], dstOffset: 0 }, 5, 20],
    ['reverse [17]', { shape: [17], srcStrides: [-1], srcOffset: 16, dstStrides: [1], dstOffset: 0 }, 17, 17],
    ['rank 1 n=1', { shape: [1], srcStrides: [1], srcOffset: 3, dstStrides: [1], dstOffset: 2 }, 4, 4],
    ['rank 0', { shape: [], srcStrides: [], srcOffset: 2, dstStrides: [], dstOffset: 1 }, 3, 3],
    ['rank 8', { shape: [2, 1, 2, 1, 2, 1, 2, 3], srcStrides: [1, 0, 2, 0, 4, 0, 8, 16], srcOffset: 0, dstStrides: dense([2, 1, 2, 1, 2, 1, 2, 3]), dstOffset: 0 }, 48, 48],
    ['large transpose [300,257]', { shape: [257, 300], srcStrides: [1, 257], srcOffset: 0, dstStrides: [300, 1], dstOffset: 0 }, 77100, 77100],
  ];
  for (const [label, p, srcLen, dstLen] of cases) {
    const x = rng.ints(srcLen, -(2 ** 31), 2 ** 31 - 1); // arbitrary words, NaN payloads included
    const [r, w] = both([x], [i32Out(dstLen)], (be, [a, y]) => be.copy(a, y, p));
    f.add(label, compareBits(w.outs[0], r.outs[0]));
  }
  t.diagnostic(f.summary());
  f.assertNone();
});

test('fill and cast: both dtypes, awkward lengths, truncation toward zero', (t) => {
  const rng = new Rng(19);
  const f = new Failures('fill/cast');
  for (const n of [0, ...SIZES]) {
    for (const v of [0, -0, 1.5, -2.75, Infinity, NaN, 3.4e38]) {
      const [r, w] = both([], [f32Out(n + 3)], (be, [y]) => be.fill(y, 'float32', n, v));
      f.add(`fill float32 n=${n} v=${v}`, compareClose(w.outs[0], r.outs[0], EXACT));
    }
    for (const v of [0, -1, 7, 2147483647, -2147483648]) {
      const [r, w] = both([], [i32Out(n + 3)], (be, [y]) => be.fill(y, 'int32', n, v));
      f.add(`fill int32 n=${n} v=${v}`, compareBits(w.outs[0], r.outs[0]));
    }
    const fl = rng.normals(n, 1000);
    const fixed = [2.5, -2.5, 0.5, -0.5, -0.99, 2147483520, -2147483648, 16777217];
    fl.set(fixed.slice(0, Math.min(n, fixed.length)));
    const runCast = (x: Float32Array | Int32Array, from: 'float32' | 'int32', to: 'float32' | 'int32') =>
      both([x], [to === 'int32' ? i32Out(n) : f32Out(n)], (be, [a, y]) => be.cast(a, from, y, to, n));
    for (const [x, from, to] of [[fl, 'float32', 'int32'], [rng.ints(n, -(2 ** 31), 2 ** 31 - 1), 'int32', 'float32'], [fl, 'float32', 'float32'], [rng.ints(n, -5, 5), 'int32', 'int32']] as const) {
      const [r, w] = runCast(x, from, to);
      f.add(`cast ${from}→${to} n=${n}`, compareBits(w.outs[0], r.outs[0]));
    }
  }
  // Out of int32 range and NaN: the contract is silent; the reference saturates and maps NaN to 0 (trunc_sat).
  const odd = Float32Array.from([NaN, Infinity, -Infinity, 3e9, -3e9, 2147483648, -2147483904]);
  const [r, w] = both([odd], [i32Out(odd.length)], (be, [a, y]) => be.cast(a, 'float32', y, 'int32', odd.length));
  f.add('cast float32→int32 NaN/Inf/out of range (saturating)', compareBits(w.outs[0], r.outs[0]));
  t.diagnostic(f.summary());
  f.assertNone();
});

test('large inputs split across threads: every element-wise and indexing kernel', (t) => {
  const rng = new Rng(20);
  const f = new Failures('large');
  const n = (1 << 18) + 17;
  const x = rng.sprinkle(rng.normals(n, 3), 0.01), x2 = rng.sprinkle(rng.normals(n, 3), 0.01);
  const out = f32Out(n);
  for (const op of ['relu', 'exp', 'gelu', 'sin'] as const) {
    const [r, w] = both([x], [out], (be, [a, y]) => be.unary(op, a, y, n));
    f.add(`unary ${op} n=${n}`, compareClose(w.outs[0], r.outs[0], UNARY_TOL[op]));
  }
  const rowBc = { shape: [n / 7 | 0, 7], strides: [[7, 1], [0, 1]] };
  const m = rowBc.shape[0] * 7;
  const [rb, wb] = both([x, x2], [f32Out(m)], (be, [a, b, y]) => be.binary('mul', a, b, y, rowBc));
  f.add(`binary mul [${rowBc.shape}]·[7]`, compareClose(wb.outs[0], rb.outs[0], EXACT));
  const [rw, ww] = both([x, x2, x], [out], (be, [c, a, b, y]) => be.where(c, a, b, y, { shape: [n], strides: [[1], [1], [1]] }));
  f.add(`where n=${n}`, compareBits(ww.outs[0], rw.outs[0]));
  const [rba, wba] = both([x, x2.subarray(0, 127)], [f32Out(2048 * 127)], (be, [a, b, y]) => be.biasAct(a, b, y, 2048, 127, 'tanh'));
  f.add('biasAct tanh [2048,127]', compareClose(wba.outs[0], rba.outs[0], TRANSCENDENTAL));
  const [ra, wa] = both([x], [i32Out(n / 37 | 0)], (be, [a, y]) => be.argmax(a, y, n / 37 | 0, 37, 1));
  f.add('argmax [7085,37,1]', compareBits(wa.outs[0], ra.outs[0]));
  const [rs, ws] = both([x], [f32Out(2048 * 127)], (be, [a, y]) => be.softmax(a, y, 2048, 127, true));
  f.add('log-softmax [2048,127]', compareClose(ws.outs[0], rs.outs[0], relTol(1e-5, 1e-5)));
  const tp = { shape: [509, 511], srcStrides: [1, 509], srcOffset: 0, dstStrides: [511, 1], dstOffset: 0 };
  const [rc, wc] = both([x], [f32Out(509 * 511)], (be, [a, y]) => be.copy(a, y, tp));
  f.add('copy transpose [511,509]', compareBits(wc.outs[0], rc.outs[0]));
  const [rf, wf] = both([], [out], (be, [y]) => be.fill(y, 'float32', n, 2.5));
  f.add(`fill n=${n}`, compareBits(wf.outs[0], rf.outs[0]));
  const [rk, wk] = both([x], [i32Out(n)], (be, [a, y]) => be.cast(a, 'float32', y, 'int32', n));
  f.add(`cast n=${n}`, compareBits(wk.outs[0], rk.outs[0]));
  const idx = rng.ints(4000, 0, 999);
  const table = rng.normals(1000 * 129);
  const [rg, wg] = both([table, idx], [f32Out(4000 * 129)], (be, [a, i, y]) => be.gather(a, i, y, 1, 1000, 129, 4000));
  f.add('gather [1,1000,129] nIdx=4000', compareBits(wg.outs[0], rg.outs[0]));
  const upd = rng.normals(4000 * 129);
  const [rsa, wsa] = both([upd, idx], [f32Out(1000 * 129, table)], (be, [u, i, y]) => be.scatterAdd(u, i, y, 1, 1000, 129, 4000));
  const scale = runOn(ref, [abs(upd), idx], [f32Out(1000 * 129, abs(table))], ([u, i, y]) => ref.scatterAdd(u, i, y, 1, 1000, 129, 4000)).outs[0];
  f.add('scatterAdd [1,1000,129] nIdx=4000', compareClose(wsa.outs[0], rsa.outs[0], scaledTol(scale, 1e-6 * Math.sqrt(4000), 1e-30)));
  t.diagnostic(f.summary());
  f.assertNone();
});
