// Test helpers for the optimizers: a plain-JS float64 implementation of each documented update rule, and the PyTorch fixture.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { OptimizerConfig } from '../../src/optim/index.js';

/** A float64 optimizer over plain arrays: `step(p, g)` returns the new p. */
export type RefOptimizer = (p: number[], g: number[]) => number[];

/** The documented update rules (sgd: PyTorch momentum/Nesterov; adam/adamw: PyTorch ε placement), in float64. */
export function refOptimizer(c: OptimizerConfig): RefOptimizer {
  const lr = c.learningRate as number;
  let t = 0;
  let b: number[] | undefined;
  let m: number[] | undefined;
  let v: number[] | undefined;
  if (c.name === 'sgd') {
    const mu = (c.momentum as number | undefined) ?? 0;
    const nesterov = (c.nesterov as boolean | undefined) ?? false;
    return (p, g) => {
      if (mu === 0) return p.map((x, i) => x - lr * g[i]);
      b = g.map((gi, i) => mu * (b ? b[i] : 0) + gi);
      const d = nesterov ? g.map((gi, i) => gi + mu * b![i]) : b;
      return p.map((x, i) => x - lr * d[i]);
    };
  }
  const b1 = (c.beta1 as number | undefined) ?? 0.9;
  const b2 = (c.beta2 as number | undefined) ?? 0.999;
  const eps = (c.epsilon as number | undefined) ?? 1e-7;
  const wd = c.name === 'adamw' ? ((c.weightDecay as number | undefined) ?? 0.01) : 0;
  return (p, g) => {
    t++;
    m = g.map((gi, i) => b1 * (m ? m[i] : 0) + (1 - b1) * gi);
    v = g.map((gi, i) => b2 * (v ? v[i] : 0) + (1 - b2) * gi * gi);
    const bc1 = 1 - b1 ** t;
    const bc2 = 1 - b2 ** t;
    return p.map((x, i) => x * (1 - lr * wd) - (lr * (m![i] / bc1)) / (Math.sqrt(v![i] / bc2) + eps));
  };
}

/** Asserts |a−b| ≤ rtol·|b| + atol element-wise. */
export function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string, rtol = 1e-6, atol = 1e-7): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    const e = expected[i];
    assert.ok(Math.abs(a - e) <= rtol * Math.abs(e) + atol, `${what}[${i}]: got ${a}, expected ${e} (diff ${Math.abs(a - e)})`);
  }
}

/** One PyTorch fixture case: an optimizer config and the parameter after each step. */
export interface OptimCase {
  optimizer: string;
  config: Record<string, number | boolean>;
  trajectory: number[][];
}

/** test/fixtures/optim.json, made by scripts/make-optim-fixtures.py. */
export interface OptimFixture {
  torch: string;
  shape: number[];
  param: number[];
  grads: number[][];
  cases: OptimCase[];
  /** Adam and AdamW run by PyTorch in float32 (values are float32), compared bit for bit. */
  float32: { param: number[]; grads: number[][]; cases: OptimCase[] };
}

/** Loads test/fixtures/optim.json. */
export function optimFixture(): OptimFixture {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) dir = dirname(dir);
  return JSON.parse(readFileSync(join(dir, 'test', 'fixtures', 'optim.json'), 'utf8')) as OptimFixture;
}

/** Distance between two float32 values in units in the last place (steps between them on the float32 line). */
export function ulps(a: number, b: number): number {
  const ord = (x: number): number => {
    const i = new Int32Array(Float32Array.of(x).buffer)[0];
    return i < 0 ? -(i & 0x7fffffff) : i;
  };
  return Math.abs(ord(a) - ord(b));
}

/** The quadratic f(p) = ½ Σ aᵢ (pᵢ − cᵢ)² used for trajectories: its start, curvature and centre. */
export const QUAD = {
  shape: [2, 3],
  p0: [1.5, -0.75, 2.25, -1.25, 0.5, 3],
  a: [1, 2, 0.5, 4, 1.5, 3],
  c: [0.25, 0.5, -1, 1, -0.5, 0],
};

/** ∇f at p, in float64. */
export function quadGrad(p: readonly number[]): number[] {
  return p.map((x, i) => QUAD.a[i] * (x - QUAD.c[i]));
}
