// Reference element-wise, reduction, softmax and indexing kernels as plain loops over typed arrays.
//
// Float results are computed in float64 and rounded to float32 once when stored. Word-level kernels
// (copy, gather, where) move raw 32-bit patterns, so they work for float32 and int32 alike.

import type { AdamHyper, BiasActivation, BinaryOp, OutputActivation, Broadcast, CopyParams, DType, MaskedSoftmaxParams, ReduceOp, UnaryOp } from '../backend.js';
import { biasActFn, binaryFn, geluSlope, unaryFn } from './math.js';

/**
 * Walks `shape` in row-major order, calling `visit(outIndex, offsets)` where offsets[i] = Σ index[d]·strides[i][d]
 * (+ bases[i]). A rank-0 shape has one element. `offsets` is reused between calls.
 */
export function forEachStrided(
  shape: readonly number[],
  strides: readonly (readonly number[])[],
  bases: readonly number[],
  visit: (outIndex: number, offsets: number[]) => void,
): void {
  const rank = shape.length;
  if (rank > 8) throw new Error(`broadcast rank ${rank} exceeds 8`);
  for (const s of strides) {
    if (s.length !== rank) throw new Error(`strides [${s}] do not match shape [${shape}]`);
  }
  const total = shape.reduce((a, b) => a * b, 1);
  const index = new Array<number>(rank).fill(0);
  const offsets = bases.slice();
  for (let o = 0; o < total; o++) {
    visit(o, offsets);
    for (let d = rank - 1; d >= 0; d--) {
      index[d]++;
      for (let i = 0; i < strides.length; i++) offsets[i] += strides[i][d];
      if (index[d] < shape[d]) break;
      for (let i = 0; i < strides.length; i++) offsets[i] -= strides[i][d] * shape[d];
      index[d] = 0;
    }
  }
}

/** y[n] = op(x[n]). */
export function unary(op: UnaryOp, x: Float32Array, y: Float32Array, n: number): void {
  const fn = unaryFn[op];
  for (let i = 0; i < n; i++) y[i] = fn(x[i]);
}

/** y[shape] = op(a, b) with broadcasting strides [aStrides, bStrides]. */
export function binary(op: BinaryOp, a: Float32Array, b: Float32Array, y: Float32Array, bc: Broadcast): void {
  const fn = binaryFn[op];
  forEachStrided(bc.shape, bc.strides, [0, 0], (o, [ia, ib]) => {
    y[o] = fn(a[ia], b[ib]);
  });
}

/** y[shape] = cond != 0 ? a : b, copying 32-bit words; `cond` is read in its own dtype. */
export function where(cond: Float32Array | Int32Array, a: Int32Array, b: Int32Array, y: Int32Array, bc: Broadcast): void {
  forEachStrided(bc.shape, bc.strides, [0, 0, 0], (o, [ic, ia, ib]) => {
    y[o] = cond[ic] !== 0 ? a[ia] : b[ib];
  });
}

/** y[outer, inner] = op over s of x[outer, size, inner]; sums in float64; max/min propagate NaN. */
export function reduce(op: ReduceOp, x: Float32Array, y: Float32Array, outer: number, size: number, inner: number): void {
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const base = o * size * inner + i;
      let acc = op === 'max' ? -Infinity : op === 'min' ? Infinity : 0;
      for (let s = 0; s < size; s++) {
        const v = x[base + s * inner];
        acc = op === 'max' ? Math.max(acc, v) : op === 'min' ? Math.min(acc, v) : acc + v;
      }
      y[o * inner + i] = op === 'mean' ? acc / size : acc;
    }
  }
}

/** y[outer, inner] = index of the first maximum over s of x[outer, size, inner]; the first NaN wins. */
export function argmax(x: Float32Array, y: Int32Array, outer: number, size: number, inner: number): void {
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const base = o * size * inner + i;
      let best = 0;
      for (let s = 1; s < size; s++) {
        const cur = x[base + best * inner];
        if (Number.isNaN(cur)) break;
        const v = x[base + s * inner];
        if (Number.isNaN(v) || v > cur) best = s;
      }
      y[o * inner + i] = best;
    }
  }
}

/** A row's max, Σ e^{x − max} and its log, in float64 (softmax, logSoftmaxPick). */
function rowExpSum(x: Float32Array, base: number, cols: number): { max: number; sum: number; logSum: number } {
  let max = -Infinity;
  for (let j = 0; j < cols; j++) max = Math.max(max, x[base + j]);
  let sum = 0;
  for (let j = 0; j < cols; j++) sum += Math.exp(x[base + j] - max);
  return { max, sum, logSum: Math.log(sum) };
}

/** y[rows, cols] = softmax (or log-softmax) along each row, shifted by the row max, in float64. */
export function softmax(x: Float32Array, y: Float32Array, rows: number, cols: number, log: boolean): void {
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    const { max, sum, logSum } = rowExpSum(x, base, cols);
    for (let j = 0; j < cols; j++) {
      const shifted = x[base + j] - max;
      y[base + j] = log ? shifted - logSum : Math.exp(shifted) / sum;
    }
  }
}

/** The log-softmax at each row's label (Kernels.logSoftmaxPick): max, Σ and log in float64, stats rounded to float32. */
export function logSoftmaxPick(x: Float32Array, labels: Int32Array, logp: Float32Array, stats: Float32Array, rows: number, cols: number): void {
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    const { max, logSum } = rowExpSum(x, base, cols);
    const l = labels[r];
    stats[2 * r] = max;
    stats[2 * r + 1] = logSum;
    logp[r] = l >= 0 && l < cols ? x[base + l] - max - logSum : NaN;
  }
}

/** The gradient of logSoftmaxPick (Kernels.logSoftmaxPickGrad) in float64 from the float32 stats. */
export function logSoftmaxPickGrad(g: Float32Array, x: Float32Array, labels: Int32Array, stats: Float32Array, dx: Float32Array, rows: number, cols: number): void {
  for (let r = 0; r < rows; r++) {
    const base = r * cols, gr = g[r], l = labels[r];
    for (let j = 0; j < cols; j++) dx[base + j] = (j === l ? gr : 0) - Math.exp(x[base + j] - stats[2 * r] - stats[2 * r + 1]) * gr;
  }
}

/** Columns [0, n) of row r that the causal mask leaves (all without it), and the row's query step i. */
function liveSpan(r: number, p: MaskedSoftmaxParams): { i: number; n: number } {
  const i = r % p.tq;
  return { i, n: p.causal ? Math.min(i + 1, p.cols) : p.cols };
}

/** Attention probabilities (Kernels.maskedSoftmax): softmax of scale·x over each row's live columns, 0 elsewhere, in float64. */
export function maskedSoftmax(x: Float32Array, mask: Float32Array | undefined, y: Float32Array, p: MaskedSoftmaxParams): void {
  const { rows, cols, tq, heads, scale } = p;
  for (let r = 0; r < rows; r++) {
    const { i, n } = liveSpan(r, p);
    const base = r * cols;
    const mrow = (Math.floor(r / (heads * tq)) * tq + i) * cols;
    const live = (j: number): boolean => j < n && (!mask || mask[mrow + j] !== 0);
    let max = -Infinity;
    for (let j = 0; j < cols; j++) if (live(j)) max = Math.max(max, scale * x[base + j]);
    let sum = 0;
    for (let j = 0; j < cols; j++) if (live(j)) sum += Math.exp(scale * x[base + j] - max);
    for (let j = 0; j < cols; j++) y[base + j] = live(j) && max !== -Infinity ? Math.exp(scale * x[base + j] - max) / sum : 0;
  }
}

/** dx = scale·y·(g − Σ g·y) over each row's causal span, 0 beyond it (Kernels.maskedSoftmaxGrad), in float64. */
export function maskedSoftmaxGrad(g: Float32Array, y: Float32Array, dx: Float32Array, p: MaskedSoftmaxParams): void {
  const { rows, cols, scale } = p;
  for (let r = 0; r < rows; r++) {
    const { n } = liveSpan(r, p);
    const base = r * cols;
    let c = 0;
    for (let j = 0; j < n; j++) c += g[base + j] * y[base + j];
    for (let j = 0; j < cols; j++) dx[base + j] = j < n ? scale * y[base + j] * (g[base + j] - c) : 0;
  }
}

/** Position of the first index outside [0, axisLen), or -1. */
function firstBadIndex(idx: Int32Array, axisLen: number, nIdx: number): number {
  for (let j = 0; j < nIdx; j++) {
    if (idx[j] < 0 || idx[j] >= axisLen) return j;
  }
  return -1;
}

/** y[outer, nIdx, inner] = x[outer, idx[j], inner] (32-bit words); returns -1 or the first bad index position. */
export function gather(
  x: Int32Array, idx: Int32Array, y: Int32Array, outer: number, axisLen: number, inner: number, nIdx: number,
): number {
  const bad = firstBadIndex(idx, axisLen, nIdx);
  if (bad >= 0) return bad;
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < nIdx; j++) {
      const src = (o * axisLen + idx[j]) * inner;
      y.set(x.subarray(src, src + inner), (o * nIdx + j) * inner);
    }
  }
  return -1;
}

/** y[outer, idx[j], inner] += upd[outer, j, inner] in float32, j ascending; returns -1 or the first bad index position. */
export function scatterAdd(
  upd: Float32Array, idx: Int32Array, y: Float32Array, outer: number, axisLen: number, inner: number, nIdx: number,
): number {
  const bad = firstBadIndex(idx, axisLen, nIdx);
  if (bad >= 0) return bad;
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < nIdx; j++) {
      const dst = (o * axisLen + idx[j]) * inner;
      const src = (o * nIdx + j) * inner;
      for (let i = 0; i < inner; i++) y[dst + i] += upd[src + i];
    }
  }
  return -1;
}

/** Row r's mean (float64, rounded to float32 as the kernels keep it) and rstd = 1/√(var + ε) about that mean (rounded too). */
function rowStats(x: Float32Array, base: number, cols: number, epsilon: number): [number, number] {
  let s = 0;
  for (let j = 0; j < cols; j++) s += x[base + j];
  const m = Math.fround(s / cols);
  let v = 0;
  for (let j = 0; j < cols; j++) v += (x[base + j] - m) ** 2;
  return [m, Math.fround(1 / Math.sqrt(v / cols + epsilon))];
}

/** Layer normalisation over the last axis (Kernels.layerNorm), in float64 from the row statistics. */
export function layerNorm(x: Float32Array, gamma: Float32Array | undefined, beta: Float32Array | undefined, y: Float32Array, rows: number, cols: number,
  epsilon: number): void {
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    const [m, rs] = rowStats(x, base, cols, epsilon);
    for (let j = 0; j < cols; j++) y[base + j] = (x[base + j] - m) * rs * (gamma ? gamma[j] : 1) + (beta ? beta[j] : 0);
  }
}

/** The gradients of layerNorm (Kernels.layerNormGrad), in float64; dgamma and dbeta summed over rows in float64. */
export function layerNormGrad(dy: Float32Array, x: Float32Array, gamma: Float32Array | undefined, dx: Float32Array, dgamma: Float32Array, dbeta: Float32Array,
  rows: number, cols: number, epsilon: number): void {
  const dg = new Float64Array(cols), db = new Float64Array(cols);
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    const [m, rs] = rowStats(x, base, cols, epsilon);
    let sg = 0, sgx = 0;
    for (let j = 0; j < cols; j++) {
      const xh = (x[base + j] - m) * rs, d = dy[base + j], g = d * (gamma ? gamma[j] : 1);
      sg += g;
      sgx += g * xh;
      dg[j] += d * xh;
      db[j] += d;
    }
    for (let j = 0; j < cols; j++) {
      const xh = (x[base + j] - m) * rs, g = dy[base + j] * (gamma ? gamma[j] : 1);
      dx[base + j] = rs * (g - sg / cols - (xh * sgx) / cols);
    }
  }
  dgamma.set(dg);
  dbeta.set(db);
}

/** y[rows, cols] = act(x + bias[cols]); the add is rounded to float32 before the activation. */
export function biasAct(x: Float32Array, bias: Float32Array, y: Float32Array, rows: number, cols: number, act: BiasActivation): void {
  const fn = biasActFn[act];
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < cols; j++) y[r * cols + j] = fn(Math.fround(x[r * cols + j] + bias[j]));
  }
}

/** slope[rows, cols] = gelu'(x + bias[cols]) rounded to float32 (biasGeluGrad's slope), kept by a forward pass for its backward one. */
export function biasGeluSlope(x: Float32Array, bias: Float32Array, slope: Float32Array, rows: number, cols: number): void {
  for (let i = 0; i < rows * cols; i++) slope[i] = geluSlope(Math.fround(x[i] + bias[i % cols]));
}

/** act'(z) in terms of y = act(z) (for gelu, y is the slope gelu'(z) itself), float32 products as the composed ops round them. */
const actDerivative: { readonly [K in OutputActivation | 'gelu']: (g: number, y: number) => number } = {
  linear: (g) => g,
  gelu: (g, s) => Math.fround(g * s),
  relu: (g, y) => (y > 0 ? g : 0),
  sigmoid: (g, y) => Math.fround(g * Math.fround(y * Math.fround(1 - y))),
  tanh: (g, y) => Math.fround(g * Math.fround(1 - Math.fround(y * y))),
};

/** dz[rows, cols] = g·act'(z) from y = act(z); db[cols] = Σ_rows dz (summed in float64, rounded once). */
export function biasActGrad(g: Float32Array, y: Float32Array, dz: Float32Array, db: Float32Array, rows: number, cols: number, act: OutputActivation | 'gelu'): void {
  const fn = actDerivative[act];
  const acc = new Float64Array(cols);
  for (let i = 0; i < rows * cols; i++) {
    dz[i] = fn(g[i], y[i]);
    acc[i % cols] += dz[i];
  }
  db.set(acc);
}

/** dz[rows, cols] = g·gelu'(z), z = x + bias[cols] and gelu'(z) rounded to float32; db[cols] = Σ_rows dz (float64, rounded once). */
export function biasGeluGrad(g: Float32Array, x: Float32Array, bias: Float32Array, dz: Float32Array, db: Float32Array, rows: number, cols: number): void {
  const acc = new Float64Array(cols);
  for (let i = 0; i < rows * cols; i++) {
    dz[i] = g[i] * Math.fround(geluSlope(Math.fround(x[i] + bias[i % cols]))); // the slope in float32, as the kernel has it
    acc[i % cols] += dz[i];
  }
  db.set(acc);
}

/** Fused Adam step in place, in the kernel's (PyTorch's) order: float32 roundings, two multiply-adds through float64. */
export function adam(p: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, n: number, h: AdamHyper): void {
  const f = Math.fround;
  const [b1, b2, c1, c2, s, sq, eps, keep] = [h.beta1, h.beta2, h.c1, h.c2, h.stepSize, h.sqrtBc2, h.epsilon, h.keep].map(f);
  for (let i = 0; i < n; i++) {
    const gi = g[i];
    const mi = f(gi * c1 + f(m[i] * b1)); // the product of two float32 is exact in float64
    const vi = f(f(c2 * gi) * gi + f(v[i] * b2));
    m[i] = mi;
    v[i] = vi;
    const denom = f(f(f(Math.sqrt(vi)) / sq) + eps);
    const pk = keep === 1 ? p[i] : f(p[i] * keep);
    p[i] = f(pk - f(f(s * mi) / denom));
  }
}

/** y[rows, n] = H_n · x[rows, n] (fast Walsh–Hadamard, n a power of 2), butterflies in float64, rounded once. */
export function fwht(x: Float32Array, y: Float32Array, rows: number, n: number): void {
  const t = new Float64Array(n);
  for (let r = 0; r < rows; r++) {
    for (let i = 0; i < n; i++) t[i] = x[r * n + i];
    for (let h = 1; h < n; h <<= 1) {
      for (let i = 0; i < n; i += h << 1) {
        for (let j = i; j < i + h; j++) {
          const a = t[j];
          const b = t[j + h];
          t[j] = a + b;
          t[j + h] = a - b;
        }
      }
    }
    for (let i = 0; i < n; i++) y[r * n + i] = t[i];
  }
}

/** Strided copy of 32-bit words, see CopyParams. */
export function copy(x: Int32Array, y: Int32Array, p: CopyParams): void {
  forEachStrided(p.shape, [p.srcStrides, p.dstStrides], [p.srcOffset, p.dstOffset], (_o, [src, dst]) => {
    y[dst] = x[src];
  });
}

/** float32 → int32 by truncation toward zero, saturating at the int32 range, NaN → 0 (like i32.trunc_sat_f32_s). */
export function floatToInt(v: number): number {
  if (Number.isNaN(v)) return 0;
  if (v >= 2147483647) return 2147483647;
  if (v <= -2147483648) return -2147483648;
  return Math.trunc(v);
}

/** y[n] = x[n] converted between dtypes (int → float rounds to nearest even). */
export function cast(x: Float32Array | Int32Array, from: DType, y: Float32Array | Int32Array, to: DType, n: number): void {
  for (let i = 0; i < n; i++) y[i] = from === 'float32' && to === 'int32' ? floatToInt(x[i]) : x[i];
}
