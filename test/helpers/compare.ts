// Comparing typed arrays in tests: per-element tolerances, NaN/Inf rules, bit equality, and failure collection.

import assert from 'node:assert/strict';

/** A typed array a backend reads back. */
export type Arr = Float32Array | Int32Array;

/** Tolerance of element i given the expected value: |actual − expected| must not exceed it. */
export type TolFn = (i: number, expected: number) => number;

/** rtol·|expected| + atol. */
export function relTol(rtol: number, atol = 0): TolFn {
  return (_i, e) => rtol * Math.abs(e) + atol;
}

/** rtol·scale[i] + atol, for sums whose error grows with Σ|terms| (scale[i] = that sum of magnitudes). */
export function scaledTol(scale: ArrayLike<number>, rtol: number, atol = 0): TolFn {
  return (i) => rtol * Math.abs(scale[i]) + atol;
}

/** Summary of a comparison: how many elements failed, the first one, and the worst error/tolerance ratio. */
export interface Comparison {
  bad: number;
  worstRatio: number;
  message: string | undefined;
}

/**
 * Compares element-wise. NaN must meet NaN, an infinity the same infinity; finite values must be within tol.
 * `message` is undefined when everything matches, else it names the first and the worst bad index.
 */
export function compareClose(actual: Arr, expected: Arr, tol: TolFn): Comparison {
  if (actual.length !== expected.length) {
    return { bad: 1, worstRatio: Infinity, message: `length ${actual.length} vs ${expected.length}` };
  }
  let bad = 0;
  let first = -1;
  let worst = -1;
  let worstRatio = 0;
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    const e = expected[i];
    let ratio: number;
    if (Number.isNaN(e) || !Number.isFinite(e)) ratio = Object.is(a, e) || a === e ? 0 : Infinity;
    else if (!Number.isFinite(a)) ratio = Infinity;
    else {
      const t = tol(i, e);
      const d = Math.abs(a - e);
      ratio = d === 0 ? 0 : t > 0 ? d / t : Infinity;
    }
    if (ratio > worstRatio) {
      worstRatio = ratio;
      worst = i;
    }
    if (ratio > 1) {
      bad++;
      if (first < 0) first = i;
    }
  }
  if (bad === 0) return { bad, worstRatio, message: undefined };
  const at = (i: number) => `[${i}] got ${actual[i]} want ${expected[i]} (tol ${tol(i, expected[i]).toExponential(2)})`;
  return { bad, worstRatio, message: `${bad}/${expected.length} bad; first ${at(first)}; worst ${at(worst)}` };
}

/** Compares the raw 32-bit patterns; message undefined when identical. */
export function compareBits(actual: Arr, expected: Arr): Comparison {
  const a = new Uint32Array(actual.buffer, actual.byteOffset, actual.length);
  const e = new Uint32Array(expected.buffer, expected.byteOffset, expected.length);
  if (a.length !== e.length) return { bad: 1, worstRatio: Infinity, message: `length ${a.length} vs ${e.length}` };
  let bad = 0;
  let first = -1;
  for (let i = 0; i < e.length; i++) {
    if (a[i] !== e[i]) {
      bad++;
      if (first < 0) first = i;
    }
  }
  if (bad === 0) return { bad, worstRatio: 0, message: undefined };
  return {
    bad, worstRatio: Infinity,
    message: `${bad}/${e.length} words differ; first [${first}] got ${actual[first]} (0x${a[first].toString(16)}) want ${expected[first]} (0x${e[first].toString(16)})`,
  };
}

/** Collects the failures of many cases of one kernel so that a single run reports all of them. */
export class Failures {
  private readonly lines: string[] = [];
  private cases = 0;
  /** Largest error/tolerance ratio seen over all finite comparisons (for diagnostics). */
  worstRatio = 0;

  constructor(readonly kernel: string) {}

  /** Records the comparison of one case, labelled by its shape/parameters. */
  add(label: string, c: Comparison): void {
    this.cases++;
    if (Number.isFinite(c.worstRatio)) this.worstRatio = Math.max(this.worstRatio, c.worstRatio);
    if (c.message !== undefined) this.lines.push(`${this.kernel} ${label}: ${c.message}`);
  }

  /** Records a scalar that must be equal on both sides (a kernel's return value). */
  equal(label: string, actual: unknown, expected: unknown): void {
    this.cases++;
    if (actual !== expected) this.lines.push(`${this.kernel} ${label}: returned ${String(actual)}, want ${String(expected)}`);
  }

  /** One-line summary: cases run and worst ratio. */
  summary(): string {
    return `${this.kernel}: ${this.cases} comparisons, ${this.lines.length} failed, worst err/tol ${this.worstRatio.toFixed(3)}`;
  }

  /** Fails with every recorded line (at most 40) when any case failed. */
  assertNone(): void {
    if (this.lines.length === 0) return;
    const shown = this.lines.slice(0, 40).join('\n');
    const more = this.lines.length > 40 ? `\n… and ${this.lines.length - 40} more` : '';
    assert.fail(`${this.lines.length} failing case(s)\n${shown}${more}`);
  }
}
