// The op codes shared by TypeScript and the AssemblyScript kernels: one table of names and numbers, valid in both languages.
// Plain numeric enums only (AssemblyScript compiles this file too, from src/kernels): a member's position is its code.
// backend.ts derives the op names and types from these; the kernels switch on `Unary.sin` etc.; wasm wrappers pass `Unary[op]`.

/** Element-wise unary functions (float32 → float32). `step` is 1 where x > 0, else 0; `gelu` is the exact (erf) form. */
export enum Unary {
  neg, abs, sign, exp, log, sqrt, rsqrt, square, reciprocal,
  relu, step, sigmoid, tanh, erf, gelu, sin, cos,
}

/** Element-wise binary functions with broadcasting; comparisons give 1 or 0; `reluGrad` is b > 0 ? a : 0. */
export enum Binary {
  add, sub, mul, div, pow, maximum, minimum,
  greater, greaterEqual, less, lessEqual, equal, notEqual, reluGrad,
}

/** Reductions along one axis. */
export enum Reduce {
  sum, mean, max, min,
}

/**
 * Activations that can be fused with a bias add. The gradients of all but `gelu` (exact, erf form) are functions of
 * the output, so the convolutions and recurrences fuse those only; GELU's gradient reads the pre-activation.
 */
export enum BiasAct {
  linear, relu, sigmoid, tanh, gelu,
}

/** Conversions of the cast kernel. */
export enum CastMode {
  floatToInt, intToFloat, copy,
}

/** Cells of the fused recurrence kernels: SimpleRNN (1 gate), LSTM (i, f, c, o), GRU with the reset gate after the matmul (z, r, h). */
export enum Cell {
  simple, lstm, gru,
}
