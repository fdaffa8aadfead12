// Checks the gemm, conv2d, pooling and softmax kernels of both backends against the PyTorch fixtures in test/fixtures/.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Backend, Buf, Conv2DParams, GemmParams, Pool2DParams } from '../../src/backend/backend.js';
import { RefBackend } from '../../src/backend/ref/ref.js';
import { createWasmBackend } from '../../src/backend/wasm/wasm.js';

/** Elementwise tolerance: |actual - expected| ≤ atol·max(1, rms(expected)) + rtol·|expected|. */
const TOL = { atol: 1e-4, rtol: 1e-4 };
/** Tolerance of the summary checks of the large generated cases, relative to Σ|expected| (their float32 sums are exact). */
const SUM_RTOL = 1e-6;

interface TensorSpec {
  shape: number[];
  data?: number[];
  generator?: { kind: 'hash16'; seed: number };
  checks?: {
    sum: number; sumAbs: number; sumSquares: number; weightSeed: number; weightedSum: number;
    samples: { index: number[]; value: number[] };
  };
}
interface FixtureCase<P> {
  name: string;
  params: P;
  inputs: Record<string, TensorSpec>;
  outputs: Record<string, TensorSpec>;
}
interface Fixture<P> {
  op: string;
  cases: FixtureCase<P>[];
}
type PoolCase = Pool2DParams & { mode: 'max' | 'avg' };

function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error(`no package.json above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
  return dir;
}

function loadFixture<P>(name: string): Fixture<P> {
  return JSON.parse(readFileSync(join(repoRoot(), 'test', 'fixtures', `${name}.json`), 'utf8')) as Fixture<P>;
}

/** The fixtures' `hash16` generator (see scripts/make-fixtures.py): multiples of 1/16 in [-1, 1]. */
function hash16(seed: number, n: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let h = Math.imul((i + seed * 1048576) >>> 0, 2654435761 | 0) >>> 0;
    h = (h ^ (h >>> 15)) >>> 0;
    h = Math.imul(h, 2246822519 | 0) >>> 0;
    h = (h ^ (h >>> 13)) >>> 0;
    out[i] = ((h % 33) - 16) / 16;
  }
  return out;
}

const size = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

function values(spec: TensorSpec): Float32Array {
  if (spec.data) return Float32Array.from(spec.data);
  if (spec.generator) return hash16(spec.generator.seed, size(spec.shape));
  throw new Error('tensor spec without data or generator');
}

/** Compares a kernel's output with a fixture tensor: elementwise, or through the stored checks. */
function assertClose(actual: Float32Array, spec: TensorSpec, what: string): void {
  assert.equal(actual.length, size(spec.shape), `${what}: length`);
  if (spec.data) {
    const exp = spec.data;
    const rms = Math.sqrt(exp.reduce((s, v) => s + v * v, 0) / Math.max(1, exp.length));
    const atol = TOL.atol * Math.max(1, rms);
    let worst = -1;
    let worstExcess = 0;
    for (let i = 0; i < exp.length; i++) {
      const excess = Math.abs(actual[i] - exp[i]) - (atol + TOL.rtol * Math.abs(exp[i]));
      if (!(excess <= 0) && (worst < 0 || !(excess <= worstExcess))) {
        worst = i;
        worstExcess = excess;
      }
    }
    if (worst >= 0) assert.fail(`${what}: element ${worst} is ${actual[worst]}, expected ${exp[worst]} (shape [${spec.shape}])`);
    return;
  }
  const c = spec.checks!;
  const w = hash16(c.weightSeed, actual.length);
  let sum = 0, sumAbs = 0, sumSquares = 0, weighted = 0;
  for (let i = 0; i < actual.length; i++) {
    sum += actual[i];
    sumAbs += Math.abs(actual[i]);
    sumSquares += actual[i] * actual[i];
    weighted += actual[i] * w[i];
  }
  const tol = SUM_RTOL * c.sumAbs + 1e-4;
  const near = (got: number, exp: number, t: number, label: string): void =>
    assert.ok(Math.abs(got - exp) <= t, `${what}: ${label} is ${got}, expected ${exp} (±${t})`);
  near(sum, c.sum, tol, 'sum');
  near(sumAbs, c.sumAbs, tol, 'sum of |v|');
  near(weighted, c.weightedSum, tol, 'weighted sum');
  near(sumSquares, c.sumSquares, SUM_RTOL * c.sumSquares + 1e-4, 'sum of squares');
  c.samples.index.forEach((idx, j) => {
    const exp = c.samples.value[j];
    near(actual[idx], exp, TOL.atol + TOL.rtol * Math.abs(exp), `element ${idx}`);
  });
}

/** Buffers of one test case, freed together; outputs start as NaN so a kernel that does not overwrite them fails. */
class Scope {
  private readonly bufs: Buf[] = [];
  constructor(readonly be: Backend) {}
  input(data: Float32Array): Buf {
    const b = this.be.alloc(data.length, 'float32');
    this.bufs.push(b);
    this.be.write(b, data);
    return b;
  }
  output(n: number): Buf {
    return this.input(new Float32Array(n).fill(NaN));
  }
  read(b: Buf, n: number): Float32Array {
    return this.be.read(b, 'float32', n) as Float32Array;
  }
  free(): void {
    for (const b of this.bufs) this.be.free(b);
  }
}

async function eachCase<P>(t: TestContext, be: Backend, fixture: Fixture<P>, run: (s: Scope, c: FixtureCase<P>) => void): Promise<void> {
  for (const c of fixture.cases) {
    await t.test(c.name, () => {
      const s = new Scope(be);
      try {
        run(s, c);
      } finally {
        s.free();
      }
    });
  }
}

interface MatmulCase { batch: number; m: number; n: number; k: number; transA: boolean; transB: boolean }

function matmulCase(s: Scope, c: FixtureCase<MatmulCase>): void {
  const { batch, m, n, k, transA, transB } = c.params;
  const a = s.input(values(c.inputs.A));
  const b = s.input(values(c.inputs.B));
  const g = s.input(values(c.inputs.G));
  const gemm = (x: Buf, y: Buf, z: Buf, dims: [number, number, number], tA: boolean, tB: boolean,
    strides: [number, number, number], accumulate = false): void => {
    const p: GemmParams = {
      batch, m: dims[0], n: dims[1], k: dims[2], transA: tA, transB: tB,
      strideA: strides[0], strideB: strides[1], strideC: strides[2], accumulate,
    };
    s.be.gemm(x, y, z, p);
  };
  const [sa, sb, sc] = [m * k, k * n, m * n];
  const cBuf = s.output(batch * m * n);
  gemm(a, b, cBuf, [m, n, k], transA, transB, [sa, sb, sc]);
  assertClose(s.read(cBuf, batch * m * n), c.outputs.C, 'C');
  gemm(a, b, cBuf, [m, n, k], transA, transB, [sa, sb, sc], true);
  const twice = { ...c.outputs.C, data: c.outputs.C.data!.map((v) => 2 * v) };
  assertClose(s.read(cBuf, batch * m * n), twice, 'C accumulated twice');
  // dA = G·op(B)ᵀ, stored like A; dB = op(A)ᵀ·G, stored like B.
  const dA = s.output(batch * m * k);
  if (!transA) gemm(g, b, dA, [m, k, n], false, !transB, [sc, sb, sa]);
  else gemm(b, g, dA, [k, m, n], transB, true, [sb, sc, sa]);
  assertClose(s.read(dA, batch * m * k), c.outputs.dA, 'dA');
  const dB = s.output(batch * k * n);
  if (!transB) gemm(a, g, dB, [k, n, m], !transA, false, [sa, sc, sb]);
  else gemm(g, a, dB, [n, k, m], true, transA, [sc, sa, sb]);
  assertClose(s.read(dB, batch * k * n), c.outputs.dB, 'dB');
}

function conv2dCase(s: Scope, c: FixtureCase<Conv2DParams>): void {
  const p = c.params;
  const x = s.input(values(c.inputs.x));
  const w = s.input(values(c.inputs.w));
  const dy = s.input(values(c.inputs.dy));
  const [nx, nw, ny] = [p.n * p.h * p.w * p.c, p.kh * p.kw * p.c * p.f, p.n * p.oh * p.ow * p.f];
  const y = s.output(ny);
  s.be.conv2d(x, w, y, p);
  assertClose(s.read(y, ny), c.outputs.y, 'y');
  const dx = s.output(nx);
  s.be.conv2dGradInput(dy, w, dx, p);
  assertClose(s.read(dx, nx), c.outputs.dx, 'dx');
  const dw = s.output(nw);
  s.be.conv2dGradFilter(x, dy, dw, p);
  assertClose(s.read(dw, nw), c.outputs.dw, 'dw');
}

function poolCase(s: Scope, c: FixtureCase<PoolCase>): void {
  const p = c.params;
  const [nx, ny] = [p.n * p.h * p.w * p.c, p.n * p.oh * p.ow * p.c];
  const x = s.input(values(c.inputs.x));
  const dy = s.input(values(c.inputs.dy));
  const y = s.output(ny);
  const dx = s.output(nx);
  if (p.mode === 'max') {
    s.be.maxPool2d(x, y, p);
    s.be.maxPool2dGrad(x, dy, dx, p);
  } else {
    s.be.avgPool2d(x, y, p);
    s.be.avgPool2dGrad(dy, dx, p);
  }
  assertClose(s.read(y, ny), c.outputs.y, 'y');
  assertClose(s.read(dx, nx), c.outputs.dx, 'dx');
}

function softmaxCase(s: Scope, c: FixtureCase<{ rows: number; cols: number }>): void {
  const { rows, cols } = c.params;
  const x = s.input(values(c.inputs.logits));
  const ls = s.output(rows * cols);
  s.be.softmax(x, ls, rows, cols, true);
  const logSoftmax = s.read(ls, rows * cols);
  assertClose(logSoftmax, c.outputs.logSoftmax, 'logSoftmax');
  const sm = s.output(rows * cols);
  s.be.softmax(x, sm, rows, cols, false);
  assertClose(s.read(sm, rows * cols), c.outputs.softmax, 'softmax');
  // Cross-entropy from the log-softmax: loss = -mean log p[label], dLogits = (exp(logSoftmax) - onehot)/B.
  const labels = c.inputs.labels.data!;
  let loss = 0;
  const grad = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    loss -= logSoftmax[r * cols + labels[r]] / rows;
    for (let j = 0; j < cols; j++) grad[r * cols + j] = (Math.exp(logSoftmax[r * cols + j]) - (j === labels[r] ? 1 : 0)) / rows;
  }
  assertClose(Float32Array.of(loss), c.outputs.loss, 'loss');
  assertClose(grad, c.outputs.dLogits, 'dLogits');
}

const backends: { name: string; make: () => Backend & { dispose?: () => void } }[] = [
  { name: 'ref', make: () => new RefBackend() },
  { name: 'wasm (2 threads)', make: () => createWasmBackend({ threads: 2 }) },
];

for (const { name, make } of backends) {
  test(`${name} backend matches the PyTorch fixtures`, async (t) => {
    const be = make();
    try {
      const before = be.bytesInUse();
      await t.test('matmul', (tt) => eachCase(tt, be, loadFixture<MatmulCase>('matmul'), matmulCase));
      await t.test('conv2d', (tt) => eachCase(tt, be, loadFixture<Conv2DParams>('conv2d'), conv2dCase));
      await t.test('pool2d', (tt) => eachCase(tt, be, loadFixture<PoolCase>('pool2d'), poolCase));
      await t.test('softmax cross-entropy', (tt) =>
        eachCase(tt, be, loadFixture<{ rows: number; cols: number }>('softmax_cross_entropy'), softmaxCase));
      assert.equal(be.bytesInUse(), before, 'every buffer freed');
    } finally {
      be.dispose?.();
    }
  });
}
