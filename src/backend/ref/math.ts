// Scalar float64 functions of the reference backend: erf/erfc, the unary ops, the binary ops, the bias activations.

import type { BiasActivation, BinaryOp, UnaryOp } from '../backend.js';

const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);

/** erf for |x| < 3 by the all-positive series erf x = 2/√π·e^(−x²)·Σ 2ⁿx^(2n+1)/(1·3·…·(2n+1)) (no cancellation). */
function erfSeries(x: number): number {
  const x2 = x * x;
  let term = x;
  let sum = x;
  for (let n = 1; n < 200; n++) {
    term *= (2 * x2) / (2 * n + 1);
    sum += term;
    if (Math.abs(term) <= 1e-17 * Math.abs(sum)) break;
  }
  return TWO_OVER_SQRT_PI * Math.exp(-x2) * sum;
}

/**
 * erfc for x ≥ 3 by its continued fraction
 * erfc x = e^(−x²)/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + …)))), evaluated bottom-up with 80 terms.
 */
function erfcContinuedFraction(x: number): number {
  let tail = x;
  for (let n = 80; n >= 1; n--) tail = x + n / 2 / tail;
  return Math.exp(-x * x) / Math.sqrt(Math.PI) / tail;
}

/** Complementary error function in float64 (relative error ≲ 1e-14 over the float32 range). */
export function erfc(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x < 0) return 2 - erfc(-x);
  return x < 3 ? 1 - erfSeries(x) : erfcContinuedFraction(x);
}

/** Error function in float64 (relative error ≲ 1e-15). */
export function erf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x < 0) return -erf(-x);
  return x < 3 ? erfSeries(x) : 1 - erfcContinuedFraction(x);
}

/** Exact GELU, 0.5·x·(1 + erf(x/√2)) = 0.5·x·erfc(−x/√2), accurate for large negative x; gelu(−∞) = −0. */
export function gelu(x: number): number {
  if (x === -Infinity) return -0;
  return 0.5 * x * erfc(-x / Math.SQRT2);
}

/** Logistic sigmoid 1/(1 + e^(−x)). */
export function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

/** The unary ops in float64 (the caller rounds to float32). relu(NaN) = NaN; step(NaN) = 0. */
export const unaryFn: { readonly [K in UnaryOp]: (x: number) => number } = {
  neg: (x) => -x,
  abs: (x) => Math.abs(x),
  sign: (x) => Math.sign(x),
  exp: (x) => Math.exp(x),
  log: (x) => Math.log(x),
  sqrt: (x) => Math.sqrt(x),
  rsqrt: (x) => 1 / Math.sqrt(x),
  square: (x) => x * x,
  reciprocal: (x) => 1 / x,
  relu: (x) => Math.max(0, x),
  step: (x) => (x > 0 ? 1 : 0),
  sigmoid,
  tanh: (x) => Math.tanh(x),
  erf,
  gelu,
  sin: (x) => Math.sin(x),
  cos: (x) => Math.cos(x),
};

/** pow with C / IEEE 754 special cases (JS differs): pow(x, ±0) = 1, pow(1, y) = 1, pow(−1, ±∞) = 1, even for NaN. */
export function pow(a: number, b: number): number {
  if (b === 0 || a === 1) return 1;
  if (a === -1 && !Number.isFinite(b) && !Number.isNaN(b)) return 1;
  return Math.pow(a, b);
}

/** The binary ops in float64 (the caller rounds). maximum/minimum propagate NaN; comparisons with NaN are false except notEqual. */
export const binaryFn: { readonly [K in BinaryOp]: (a: number, b: number) => number } = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
  pow,
  maximum: (a, b) => Math.max(a, b),
  minimum: (a, b) => Math.min(a, b),
  greater: (a, b) => (a > b ? 1 : 0),
  greaterEqual: (a, b) => (a >= b ? 1 : 0),
  less: (a, b) => (a < b ? 1 : 0),
  lessEqual: (a, b) => (a <= b ? 1 : 0),
  equal: (a, b) => (a === b ? 1 : 0),
  notEqual: (a, b) => (a !== b ? 1 : 0),
  reluGrad: (a, b) => (b > 0 ? a : 0),
};

/** The activations fused with a bias add, in float64 (linear is the identity, relu(NaN) = NaN). */
export const biasActFn: { readonly [K in BiasActivation]: (x: number) => number } = {
  linear: (x) => x,
  relu: (x) => Math.max(0, x),
  sigmoid,
  tanh: (x) => Math.tanh(x),
  gelu,
};

/** GELU's slope Φ(x) + x·φ(x) = erfc(−x/√2)/2 + x·e^(−x²/2)/√(2π); 0 at −∞, 1 at +∞. */
export function geluSlope(x: number): number {
  if (!Number.isFinite(x)) return Number.isNaN(x) ? x : x > 0 ? 1 : 0;
  return 0.5 * erfc(-x / Math.SQRT2) + x * Math.exp(-0.5 * x * x) / Math.sqrt(2 * Math.PI);
}
