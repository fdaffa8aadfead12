// GEMM, convolution and pooling on the wasm backend against RefBackend (seeded random, awkward shapes); 1- vs 2-thread bit identity.
import { test } from 'node:test';
import { OUTPUT_ACTIVATIONS, type Backend, type Buf, type Conv2DParams, type GemmParams, type Pool2DParams } from '../../src/backend/backend.js';
import { RefBackend } from '../../src/backend/ref/ref.js';
import { abs, f32Out, pairOn, runOn, type OutSpec, wasmBackends } from '../helpers/backends.js';
import { compareBits, compareClose, Failures, relTol, scaledTol, type Arr } from '../helpers/compare.js';
import { convLabel, convP, type Padding } from '../helpers/conv.js';
import { Rng } from '../helpers/random.js';

const ref = new RefBackend();
const [wasm, wasm1] = wasmBackends(2, 1);

const both = pairOn(ref, wasm);

/** Kernel errors scale like √(number of summed terms)·Σ|terms|: this is the relative factor per √term. */
const SUM_RTOL = 1e-6;

// ---------------------------------------------------------------- GEMM

interface GemmCase { m: number; n: number; k: number; batch?: number; bcast?: 'A' | 'B'; pad?: number }

function gemmCase(f: Failures, rng: Rng, c: GemmCase, transA: boolean, transB: boolean, accumulate: boolean): void {
  const { m, n, k, batch = 1, pad = 0 } = c;
  const strideA = c.bcast === 'A' ? 0 : m * k + pad;
  const strideB = c.bcast === 'B' ? 0 : k * n + pad;
  const strideC = m * n + pad;
  const p: GemmParams = { batch, m, n, k, transA, transB, strideA, strideB, strideC, accumulate };
  const A = rng.normals(strideA * (batch - 1) + m * k);
  const B = rng.normals(strideB * (batch - 1) + k * n);
  const C0 = rng.normals(strideC * (batch - 1) + m * n);
  const [r, w] = both([A, B], [f32Out(C0.length, C0)], (be, [a, b, y]) => be.gemm(a, b, y, p));
  const scale = runOn(ref, [abs(A), abs(B)], [f32Out(C0.length, abs(C0))], ([a, b, y]) => ref.gemm(a, b, y, p)).outs[0];
  const label = `M=${m} N=${n} K=${k} batch=${batch}${c.bcast ? ` bcast${c.bcast}` : ''} pad=${pad} tA=${transA} tB=${transB} acc=${accumulate}`;
  f.add(label, compareClose(w.outs[0], r.outs[0], scaledTol(scale, SUM_RTOL * Math.sqrt(Math.max(k, 1)), 1e-30)));
}

test('gemm: wasm matches ref (all transposes, accumulate, batches, broadcast, awkward sizes)', (t) => {
  const f = new Failures('gemm');
  const rng = new Rng(1);
  const cases: GemmCase[] = [
    { m: 1, n: 1, k: 1 }, { m: 1, n: 7, k: 1 }, { m: 5, n: 1, k: 3 }, { m: 1, n: 1, k: 33 }, { m: 2, n: 2, k: 3 },
    { m: 3, n: 5, k: 7 }, { m: 4, n: 4, k: 4 }, { m: 16, n: 16, k: 16 }, { m: 17, n: 15, k: 33 }, { m: 31, n: 9, k: 65 },
    { m: 3, n: 2, k: 0 }, { m: 13, n: 11, k: 7, batch: 3 }, { m: 6, n: 10, k: 5, batch: 4, bcast: 'A' },
    { m: 9, n: 5, k: 12, batch: 3, bcast: 'B' }, { m: 7, n: 9, k: 5, batch: 2, pad: 3 },
  ];
  for (let i = 0; i < 8; i++) cases.push({ m: rng.int(1, 70), n: rng.int(1, 70), k: rng.int(1, 70), batch: rng.int(1, 3) });
  for (const c of cases) {
    for (const tA of [false, true]) for (const tB of [false, true]) for (const acc of [false, true]) gemmCase(f, rng, c, tA, tB, acc);
  }
  for (const [tA, tB] of [[false, false], [true, false], [false, true], [true, true]]) {
    gemmCase(f, rng, { m: 300, n: 129, k: 257 }, tA, tB, tA && tB);
  }
  t.diagnostic(f.summary());
  f.assertNone();
});

// ---------------------------------------------------------------- convolution

/** The conv shapes: the reference CNN at batch 4 plus awkward geometries. */
function convCases(rng: Rng): Conv2DParams[] {
  const cases = [
    convP([4, 28, 28, 1], [3, 3, 1, 32], [1, 1], [1, 1], 'same'), convP([4, 28, 28, 1], [3, 3, 1, 32]),
    convP([4, 13, 13, 32], [3, 3, 32, 64], [1, 1], [1, 1], 'same'), convP([4, 13, 13, 32], [3, 3, 32, 64]),
    convP([1, 1, 1, 1], [1, 1, 1, 1]), convP([1, 1, 1, 1], [3, 3, 1, 1], [1, 1], [1, 1], 'same'),
    convP([2, 9, 11, 3], [3, 3, 3, 5], [2, 2], [1, 1], 'same'), convP([2, 9, 11, 3], [3, 3, 3, 5], [2, 2]),
    convP([1, 8, 8, 4], [2, 2, 4, 4], [2, 2]), convP([2, 10, 9, 3], [3, 3, 3, 4], [1, 1], [2, 2], 'same'),
    convP([2, 10, 9, 3], [3, 3, 3, 4], [1, 1], [2, 2]), convP([3, 5, 7, 17], [1, 1, 17, 9]),
    convP([2, 7, 6, 5], [3, 2, 5, 3], [2, 1], [1, 2], [0, 2, 2, 1]), convP([1, 3, 3, 2], [5, 5, 2, 3], [1, 1], [1, 1], 'same'),
    convP([2, 12, 12, 6], [3, 3, 6, 7], [2, 2], [2, 2], 'same'),
  ];
  for (let i = 0; i < 6; i++) {
    const k = [rng.int(1, 4), rng.int(1, 4), rng.int(1, 9), rng.int(1, 19)];
    const s = [rng.int(1, 3), rng.int(1, 3)];
    const d = [rng.int(1, 2), rng.int(1, 2)];
    const x = [rng.int(1, 3), rng.int(k[0] * d[0], 15), rng.int(k[1] * d[1], 15), k[2]];
    cases.push(convP(x, k, s, d, rng.pick<Padding>(['same', 'valid', [rng.int(0, 2), rng.int(0, 2), rng.int(0, 2), rng.int(0, 2)]])));
  }
  return cases;
}

test('conv2d, conv2dGradInput, conv2dGradFilter: wasm matches ref', (t) => {
  const rng = new Rng(2);
  const fs = { fwd: new Failures('conv2d'), dx: new Failures('conv2dGradInput'), dw: new Failures('conv2dGradFilter') };
  for (const p of convCases(rng)) {
    const nx = p.n * p.h * p.w * p.c, nw = p.kh * p.kw * p.c * p.f, ny = p.n * p.oh * p.ow * p.f;
    const x = rng.normals(nx), w = rng.normals(nw), dy = rng.normals(ny);
    const label = convLabel(p);
    const run = (be: Backend, kernel: 'conv2d' | 'conv2dGradInput' | 'conv2dGradFilter', a: Float32Array, b: Float32Array, len: number) =>
      runOn(be, [a, b], [f32Out(len)], ([i0, i1, o]) => be[kernel](i0, i1, o, p)).outs[0];
    const check = (f: Failures, kernel: 'conv2d' | 'conv2dGradInput' | 'conv2dGradFilter', a: Float32Array, b: Float32Array, len: number, terms: number) => {
      const scale = run(ref, kernel, abs(a), abs(b), len);
      f.add(label, compareClose(run(wasm, kernel, a, b, len), run(ref, kernel, a, b, len), scaledTol(scale, SUM_RTOL * Math.sqrt(terms), 1e-30)));
    };
    check(fs.fwd, 'conv2d', x, w, ny, p.kh * p.kw * p.c);
    check(fs.dx, 'conv2dGradInput', dy, w, nx, p.kh * p.kw * p.f);
    check(fs.dw, 'conv2dGradFilter', x, dy, nw, p.n * p.oh * p.ow);
  }
  for (const f of Object.values(fs)) t.diagnostic(f.summary());
  for (const f of Object.values(fs)) f.assertNone();
});

test('conv2dBiasAct: the bits of conv2d then biasAct on every path (Winograd, direct, im2col) and activation, and ref agrees', (t) => {
  const rng = new Rng(5);
  const f = new Failures('conv2dBiasAct');
  const cases = [
    ...convCases(rng), convP([3, 28, 28, 1], [3, 3, 1, 32]), convP([2, 9, 8, 1], [2, 3, 1, 16], [1, 2]),
    convP([7, 7, 6, 6], [3, 3, 6, 5], [1, 1], [1, 1], 'same'), convP([4, 11, 11, 9], [3, 3, 9, 13]),
  ];
  for (const p of cases) {
    const nx = p.n * p.h * p.w * p.c, nw = p.kh * p.kw * p.c * p.f, ny = p.n * p.oh * p.ow * p.f, rows = p.n * p.oh * p.ow;
    const x = rng.normals(nx), w = rng.normals(nw), b = rng.normals(p.f);
    for (const act of OUTPUT_ACTIVATIONS) {
      const label = `${act} ${convLabel(p)}`;
      const fused = (be: Backend) => runOn(be, [x, w, b], [f32Out(ny)], ([a, k, c, y]) => be.conv2dBiasAct(a, k, c, y, p, act)).outs[0];
      const apart = runOn(wasm, [x, w, b], [f32Out(ny)], ([a, k, c, y]) => {
        wasm.conv2d(a, k, y, p);
        wasm.biasAct(y, c, y, rows, p.f, act);
      }).outs[0];
      f.add(`${label} fused vs apart`, compareBits(fused(wasm), apart));
      const scale = runOn(ref, [abs(x), abs(w), abs(b)], [f32Out(ny)], ([a, k, c, y]) => ref.conv2dBiasAct(a, k, c, y, p, 'linear')).outs[0];
      f.add(`${label} vs ref`, compareClose(fused(wasm), fused(ref), scaledTol(scale, SUM_RTOL * Math.sqrt(p.kh * p.kw * p.c + 1), 1e-30)));
    }
  }
  t.diagnostic(f.summary());
  f.assertNone();
});

test('conv2dBiasActPool and maxPool2dBiasActGrad: the bits of the composed kernels on every path, ref agrees, 1 and 2 threads agree', (t) => {
  const rng = new Rng(6);
  const f = new Failures('conv2dBiasActPool');
  const fg = new Failures('maxPool2dBiasActGrad');
  const pool = (c: Conv2DParams, k: number[], s: number[], pad: Padding = 'valid'): Pool2DParams => poolP([c.n, c.oh, c.ow, c.f], k, s, pad === 'valid' ? 'valid' : 'same');
  const cases: [Conv2DParams, Pool2DParams][] = [];
  for (const c of [
    convP([3, 13, 13, 32], [3, 3, 32, 64]), convP([3, 9, 11, 6], [3, 3, 6, 9], [1, 1], [1, 1], 'same'), convP([16, 6, 6, 4], [3, 3, 4, 4]), // Winograd
    convP([3, 28, 28, 1], [3, 3, 1, 32]), convP([2, 12, 11, 2], [2, 3, 2, 16]), // direct
    convP([2, 9, 8, 3], [3, 3, 3, 5], [2, 1]), // im2col
  ]) {
    for (const [k, st] of [[[2, 2], [2, 2]], [[3, 3], [3, 3]], [[3, 2], [2, 1]]]) if (c.oh >= k[0] && c.ow >= k[1]) cases.push([c, pool(c, k, st)]);
  }
  for (const [c, p] of cases) {
    const nx = c.n * c.h * c.w * c.c, nw = c.kh * c.kw * c.c * c.f, ny = c.n * c.oh * c.ow * c.f, np = p.n * p.oh * p.ow * p.c;
    const x = rng.normals(nx), w = rng.normals(nw), b = rng.normals(c.f), gp = rng.normals(np);
    for (const act of OUTPUT_ACTIVATIONS) {
      const label = `${act} ${convLabel(c)} pool ${p.kh}x${p.kw} s${p.strideH},${p.strideW}`;
      const fused = (be: Backend, keepY: boolean) => runOn(be, [x, w, b], [f32Out(ny), f32Out(np)], ([a, k, bb, y, o]) => be.conv2dBiasActPool(a, k, bb, keepY ? y : null, o, c, p, act)).outs;
      const apart = runOn(wasm, [x, w, b], [f32Out(ny), f32Out(np)], ([a, k, bb, y, o]) => {
        wasm.conv2dBiasAct(a, k, bb, y, c, act);
        wasm.maxPool2d(y, o, p);
      }).outs;
      const [wy, wp] = fused(wasm, true), [, wpNoY] = fused(wasm, false), [, onep] = fused(wasm1, false);
      f.add(`${label} y`, compareBits(wy, apart[0]));
      f.add(`${label} pooled`, compareBits(wp, apart[1]));
      f.add(`${label} pooled without y`, compareBits(wpNoY, apart[1]));
      f.add(`${label} 1 vs 2 threads`, compareBits(onep, wp));
      const scale = runOn(ref, [abs(x), abs(w), abs(b)], [f32Out(np)], ([a, k, bb, o]) => ref.conv2dBiasActPool(a, k, bb, null, o, c, p, 'linear')).outs[0];
      f.add(`${label} vs ref`, compareClose(wp, fused(ref, false)[1], scaledTol(scale, SUM_RTOL * Math.sqrt(c.kh * c.kw * c.c + 1), 1e-30)));
      // The backward over y (ties and NaN included: a grid of values with a few NaN).
      const y = rng.sprinkle(rng.grid(ny, 3), 0.01, [NaN]);
      const grad = (be: Backend) => runOn(be, [y, gp], [f32Out(ny), f32Out(c.f)], ([yy, g, dz, db]) => be.maxPool2dBiasActGrad(yy, g, dz, db, p, act)).outs;
      const composed = runOn(wasm, [y, gp], [f32Out(ny), f32Out(c.f)], ([yy, g, dz, db]) => {
        wasm.maxPool2dGrad(yy, g, dz, p);
        wasm.biasActGrad(dz, yy, dz, db, c.n * c.oh * c.ow, c.f, act);
      }).outs;
      const [dz, db] = grad(wasm), [dz1, db1] = grad(wasm1), [rdz, rdb] = grad(ref);
      fg.add(`${label} dz`, compareBits(dz, composed[0]));
      // Overlapping windows add several dy into one cell: float32 sums here, float64 in ref.
      const dzScale = runOn(ref, [y, abs(gp)], [f32Out(ny), f32Out(c.f)], ([yy, g, o, s]) => ref.maxPool2dBiasActGrad(yy, g, o, s, p, 'linear')).outs[0];
      fg.add(`${label} dz vs ref`, compareClose(dz, rdz, scaledTol(dzScale, 4 * SUM_RTOL, 1e-30)));
      const dbScale = runOn(ref, [abs(rdz as Float32Array), new Float32Array(ny)], [f32Out(ny), f32Out(c.f)], ([a, z, o, s]) => ref.biasActGrad(a, z, o, s, c.n * c.oh * c.ow, c.f, 'linear')).outs[1];
      fg.add(`${label} db vs ref`, compareClose(db, rdb, scaledTol(dbScale, SUM_RTOL * Math.sqrt(ny / c.f + 1), 1e-30)));
      fg.add(`${label} 1 vs 2 threads`, compareBits(dz1, dz));
      fg.add(`${label} db 1 vs 2 threads`, compareBits(db1, db));
    }
  }
  for (const x of [f, fg]) t.diagnostic(x.summary());
  for (const x of [f, fg]) x.assertNone();
});

// ---------------------------------------------------------------- pooling

function poolP(x: number[], k: number[], stride: number[], pad: 'same' | 'valid'): Pool2DParams {
  const cp = convP(x, [k[0], k[1], x[3], x[3]], stride, [1, 1], pad);
  return { n: cp.n, h: cp.h, w: cp.w, c: cp.c, kh: cp.kh, kw: cp.kw, strideH: cp.strideH, strideW: cp.strideW, padTop: cp.padTop, padLeft: cp.padLeft, oh: cp.oh, ow: cp.ow };
}

test('maxPool2d, avgPool2d and their grads: wasm matches ref (padding, ties, NaN)', (t) => {
  const rng = new Rng(3);
  const fs = { max: new Failures('maxPool2d'), maxG: new Failures('maxPool2dGrad'), avg: new Failures('avgPool2d'), avgG: new Failures('avgPool2dGrad') };
  const cases = [
    poolP([4, 26, 26, 32], [2, 2], [2, 2], 'valid'), poolP([4, 28, 28, 32], [2, 2], [2, 2], 'valid'),
    poolP([4, 11, 11, 64], [2, 2], [2, 2], 'valid'), poolP([4, 11, 11, 64], [2, 2], [2, 2], 'same'),
    poolP([2, 9, 7, 3], [3, 3], [2, 2], 'same'), poolP([2, 9, 7, 5], [3, 3], [1, 1], 'same'),
    poolP([1, 1, 1, 1], [1, 1], [1, 1], 'valid'), poolP([1, 2, 3, 1], [3, 3], [1, 1], 'same'),
    poolP([3, 10, 13, 17], [3, 2], [3, 1], 'same'), poolP([1, 6, 6, 4], [4, 4], [1, 1], 'same'), poolP([2, 10, 9, 8], [3, 3], [3, 3], 'valid'),
  ];
  for (const p of cases) {
    const nx = p.n * p.h * p.w * p.c, ny = p.n * p.oh * p.ow * p.c;
    for (const kind of ['normal', 'ties', 'nan'] as const) {
      const x = kind === 'ties' ? rng.grid(nx, 2) : rng.normals(nx);
      if (kind === 'nan') rng.sprinkle(x, 0.03, [NaN, Infinity, -Infinity]);
      const dy = rng.normals(ny);
      const label = `${kind} x[${p.n},${p.h},${p.w},${p.c}] k${p.kh}x${p.kw} s${p.strideH},${p.strideW} pad${p.padTop},${p.padLeft} out${p.oh}x${p.ow}`;
      const [rm, wm] = both([x], [f32Out(ny)], (be, [a, y]) => be.maxPool2d(a, y, p));
      fs.max.add(label, compareClose(wm.outs[0], rm.outs[0], relTol(0)));
      const [rg, wg] = both([x, dy], [f32Out(nx)], (be, [a, g, y]) => be.maxPool2dGrad(a, g, y, p));
      const gScale = runOn(ref, [x, abs(dy)], [f32Out(nx)], ([a, g, y]) => ref.maxPool2dGrad(a, g, y, p)).outs[0];
      fs.maxG.add(label, compareClose(wg.outs[0], rg.outs[0], scaledTol(gScale, 4 * SUM_RTOL, 1e-30)));
      if (kind === 'ties') continue;
      const [ra, wa] = both([x], [f32Out(ny)], (be, [a, y]) => be.avgPool2d(a, y, p));
      const aScale = runOn(ref, [abs(x)], [f32Out(ny)], ([a, y]) => ref.avgPool2d(a, y, p)).outs[0];
      fs.avg.add(label, compareClose(wa.outs[0], ra.outs[0], scaledTol(aScale, 4 * SUM_RTOL, 1e-30)));
      const [rag, wag] = both([dy], [f32Out(nx)], (be, [g, y]) => be.avgPool2dGrad(g, y, p));
      const agScale = runOn(ref, [abs(dy)], [f32Out(nx)], ([g, y]) => ref.avgPool2dGrad(g, y, p)).outs[0];
      fs.avgG.add(label, compareClose(wag.outs[0], rag.outs[0], scaledTol(agScale, 4 * SUM_RTOL, 1e-30)));
    }
  }
  for (const f of Object.values(fs)) t.diagnostic(f.summary());
  for (const f of Object.values(fs)) f.assertNone();
});

test('gemm: a packed A (row-major or transposed, whole 4-panel groups and edges) gives the bits of A read in place', (t) => {
  // N > 32 packs A, N ≤ 32 reads it in place (gemm_sub's directA); both reduce over K in the same blocks and order, so
  // a column slice computed alone must have the very bits of the same columns of the full product.
  const rng = new Rng(31);
  const f = new Failures('gemm packing');
  for (const [m, k] of [[130, 9], [77, 400], [12, 1], [25, 5], [3, 17], [24, 2]] as const) {
    for (const transA of [false, true]) {
      const n = 96, slice = 24, a = rng.normals(m * k), b = rng.normals(k * n);
      const gemm = (bm: Float32Array, cols: number) => runOn(wasm1, [a, bm], [f32Out(m * cols)], ([x, y, c]) =>
        wasm1.gemm(x, y, c, { batch: 1, m, n: cols, k, transA, transB: false, strideA: 0, strideB: 0, strideC: 0, accumulate: false })).outs[0];
      const full = gemm(b, n);
      for (let j0 = 0; j0 < n; j0 += slice) {
        const bs = new Float32Array(k * slice), want = new Float32Array(m * slice);
        for (let p = 0; p < k; p++) bs.set(b.subarray(p * n + j0, p * n + j0 + slice), p * slice);
        for (let i = 0; i < m; i++) want.set(full.subarray(i * n + j0, i * n + j0 + slice), i * slice);
        f.add(`M=${m} K=${k} tA=${transA} columns ${j0}..${j0 + slice}`, compareBits(gemm(bs, slice), want));
      }
    }
  }
  t.diagnostic(f.summary());
  f.assertNone();
});

// ---------------------------------------------------------------- thread-count determinism

test('wasm: 1 thread and 2 threads give bit-identical results', (t) => {
  const rng = new Rng(9);
  const f = new Failures('threads');
  const same = (label: string, inputs: Arr[], outs: OutSpec[], call: (be: Backend, b: Buf[]) => void) => {
    const one = runOn(wasm1, inputs, outs, (b) => call(wasm1, b)).outs;
    const two = runOn(wasm, inputs, outs, (b) => call(wasm, b)).outs;
    one.forEach((o, i) => f.add(label, compareBits(two[i], o)));
  };
  for (const [m, n, k, tA, tB] of [[300, 129, 257, false, false], [257, 300, 129, true, true], [512, 384, 256, false, true]] as const) {
    const p: GemmParams = { batch: 1, m, n, k, transA: tA, transB: tB, strideA: 0, strideB: 0, strideC: 0, accumulate: false };
    same(`gemm ${m}x${n}x${k} tA=${tA} tB=${tB}`, [rng.normals(m * k), rng.normals(k * n)], [f32Out(m * n)], (be, [a, b, c]) => be.gemm(a, b, c, p));
  }
  const gb: GemmParams = { batch: 8, m: 64, n: 96, k: 80, transA: false, transB: false, strideA: 64 * 80, strideB: 0, strideC: 64 * 96, accumulate: true };
  same('gemm batch 8 accumulate', [rng.normals(8 * 64 * 80), rng.normals(80 * 96)], [f32Out(8 * 64 * 96, rng.normals(8 * 64 * 96))], (be, [a, b, c]) => be.gemm(a, b, c, gb));
  for (const p of [convP([4, 28, 28, 1], [3, 3, 1, 32], [1, 1], [1, 1], 'same'), convP([4, 13, 13, 32], [3, 3, 32, 64], [1, 1], [1, 1], 'same'), convP([4, 13, 13, 32], [3, 3, 32, 64], [2, 2])]) {
    const nx = p.n * p.h * p.w * p.c, nw = p.kh * p.kw * p.c * p.f, ny = p.n * p.oh * p.ow * p.f;
    const x = rng.normals(nx), w = rng.normals(nw), dy = rng.normals(ny);
    same(`conv2d ${convLabel(p)}`, [x, w], [f32Out(ny)], (be, [a, b, y]) => be.conv2d(a, b, y, p));
    same(`conv2dGradInput ${convLabel(p)}`, [dy, w], [f32Out(nx)], (be, [a, b, y]) => be.conv2dGradInput(a, b, y, p));
    same(`conv2dGradFilter ${convLabel(p)}`, [x, dy], [f32Out(nw)], (be, [a, b, y]) => be.conv2dGradFilter(a, b, y, p));
  }
  const pp = poolP([4, 26, 26, 32], [2, 2], [2, 2], 'valid');
  const px = rng.grid(4 * 26 * 26 * 32, 3), pdy = rng.normals(4 * 13 * 13 * 32);
  same('maxPool2dGrad', [px, pdy], [f32Out(px.length)], (be, [a, g, y]) => be.maxPool2dGrad(a, g, y, pp));
  same('avgPool2dGrad', [pdy], [f32Out(px.length)], (be, [g, y]) => be.avgPool2dGrad(g, y, pp));
  const rx = rng.normals(1 << 18);
  for (const [outer, size, inner] of [[1, 1 << 18, 1], [256, 1024, 1], [1, 1024, 256], [64, 64, 64]]) {
    for (const op of ['sum', 'mean', 'max'] as const) {
      same(`reduce ${op} [${outer},${size},${inner}]`, [rx], [f32Out(outer * inner)], (be, [a, y]) => be.reduce(op, a, y, outer, size, inner));
    }
  }
  same('softmax 512x512', [rng.normals(512 * 512, 3)], [f32Out(512 * 512)], (be, [a, y]) => be.softmax(a, y, 512, 512, false));
  const idx = rng.ints(5000, 0, 99);
  same('scatterAdd dup indices', [rng.normals(5000 * 64), idx], [f32Out(100 * 64, rng.normals(100 * 64))], (be, [u, i, y]) => {
    be.scatterAdd(u, i, y, 1, 100, 64, 5000);
  });
  t.diagnostic(f.summary());
  f.assertNone();
});
