// The narrow backend interface: raw buffers and the named kernels that run over them.
//
// Dimension legend used in every kernel comment below:
//   N batch, H/W input height/width, C input channels, F output channels (filters),
//   KH/KW kernel height/width, OH/OW output height/width, M/K/Nc GEMM dims;
//   recurrences: T time steps, U units, G gates per step (SimpleRNN 1, LSTM 4, GRU 3), S saved values per unit and step.
// All buffers are dense row-major; activations are NHWC and convolution kernels HWIO.
import { BiasAct, Binary, Cell, Reduce, Unary } from './opcodes.js';

/** Element types a buffer can hold. */
export type DType = 'float32' | 'int32';

/** Opaque handle to a buffer owned by a backend (a byte address for `wasm`, a slot id for `ref`). */
export type Buf = number;

/** Batched GEMM: for b < batch, C_b[M,N] (+)= op(A_b)[M,K] · op(B_b)[K,N]. */
export interface GemmParams {
  batch: number;
  m: number;
  n: number;
  k: number;
  /** A is stored as [K,M] when true, else [M,K]. */
  transA: boolean;
  /** B is stored as [N,K] when true, else [K,N]. */
  transB: boolean;
  /** Element offsets between consecutive batch matrices; 0 broadcasts one matrix to every batch. */
  strideA: number;
  strideB: number;
  strideC: number;
  /** Add into C instead of overwriting it. */
  accumulate: boolean;
}

/** 2-D convolution geometry; x [N,H,W,C], w [KH,KW,C,F], y [N,OH,OW,F]. Padding is explicit. */
export interface Conv2DParams {
  n: number;
  h: number;
  w: number;
  c: number;
  f: number;
  kh: number;
  kw: number;
  strideH: number;
  strideW: number;
  dilationH: number;
  dilationW: number;
  padTop: number;
  padLeft: number;
  oh: number;
  ow: number;
}

/** 2-D pooling geometry; x [N,H,W,C], y [N,OH,OW,C]. Padded cells never win a max and are not counted by avg (a window with no valid cell gives −Inf / NaN). */
export interface Pool2DParams {
  n: number;
  h: number;
  w: number;
  c: number;
  kh: number;
  kw: number;
  strideH: number;
  strideW: number;
  padTop: number;
  padLeft: number;
  oh: number;
  ow: number;
}

/** The member names of a numeric enum of opcodes.ts, in code order. */
function names<E extends Record<string, string | number>>(e: E): readonly Extract<keyof E, string>[] {
  return Object.keys(e).filter((k) => typeof e[k] === 'number') as Extract<keyof E, string>[];
}

/** Element-wise unary functions (float32 → float32), see {@link Unary}. */
export const UNARY_OPS = names(Unary);
export type UnaryOp = keyof typeof Unary;

/** Element-wise binary functions with broadcasting (float32 → float32; comparisons give 1 or 0; `pow` follows C's pow: pow(x, 0) = pow(1, y) = 1 even for NaN), see {@link Binary}. */
export const BINARY_OPS = names(Binary);
export type BinaryOp = keyof typeof Binary;

/** Reductions along one axis of a tensor viewed as [outer, size, inner], see {@link Reduce}. */
export const REDUCE_OPS = names(Reduce);
export type ReduceOp = keyof typeof Reduce;

/** Activations that can be fused with a bias add, see {@link BiasAct}. */
export const BIAS_ACTIVATIONS = names(BiasAct);
export type BiasActivation = keyof typeof BiasAct;
/** The bias activations whose derivative is a function of their output (all but GELU): the convolutions and recurrences fuse these. */
export const OUTPUT_ACTIVATIONS = BIAS_ACTIVATIONS.filter((a): a is OutputActivation => a !== 'gelu');
export type OutputActivation = Exclude<BiasActivation, 'gelu'>;

/** Cells of the fused recurrence kernels, see {@link Cell}. */
export const RNN_CELLS = names(Cell);
export type RnnCell = keyof typeof Cell;

/** Gates per time step of each cell (G): the width G·U of its kernels and of the input projection. */
export const RNN_GATES: { readonly [K in RnnCell]: number } = { simple: 1, lstm: 4, gru: 3 };
/** Values per unit and step the forward pass saves for the backward one (S): see {@link Kernels.rnnForward}. */
export const RNN_SAVED: { readonly [K in RnnCell]: number } = { simple: 1, lstm: 6, gru: 4 };

/**
 * Geometry and options of the fused recurrence kernels. Step s (0 ≤ s < T) reads input time τ(s) = s, or T−1−s when
 * `reverse` (Keras go_backwards); outputs are stored by step s (the reversed sequence when `reverse`, as Keras).
 */
export interface RnnParams {
  cell: RnnCell;
  n: number;
  t: number;
  units: number;
  /** The cell's activation (Keras `activation`: SimpleRNN's, LSTM's candidate and output, GRU's candidate). */
  act: OutputActivation;
  /** The gates' activation (Keras `recurrent_activation`; unused by SimpleRNN). */
  recAct: OutputActivation;
  reverse: boolean;
  /** At a masked step the output is 0 (Keras zero_output_for_mask), else the previous step's output (0 at s = 0). */
  zeroOutput: boolean;
}

/** The input time step s reads: s, or T − 1 − s when `reverse`. */
export function rnnTimeOf(q: RnnParams, s: number): number {
  return q.reverse ? q.t - 1 - s : s;
}

/**
 * Buffers of {@link Kernels.rnnForward}: inputs p [N,T,G·U] (x_t·W + b), u [U,G·U] (recurrent kernel), h0 [N,U],
 * c0 [N,U] (LSTM), bRec [G·U] (GRU: the recurrent bias, added before the reset gate), mask [N,T] (1 = real step, 0 =
 * skipped: the state is carried over), ids [N,T] (int32: p is then a table [V,G·U] and row n at time τ reads its row
 * ids[n,τ], each in [0, V)); outputs y [N,T,U], h [N,U] and c [N,U] (final states), and what the backward
 * pass reads: hprev [N,T,U] (the state h before the step that reads time τ) and save [N,T,S·U].
 */
export interface RnnForwardBufs {
  p: Buf;
  u: Buf;
  h0: Buf;
  c0?: Buf;
  bRec?: Buf;
  mask?: Buf;
  ids?: Buf;
  y: Buf;
  h: Buf;
  c?: Buf;
  hprev: Buf;
  save: Buf;
}

/**
 * Buffers of {@link Kernels.rnnBackward}: the forward's u, bRec, mask, hprev, save and c0, the gradients gy [N,T,U],
 * gh [N,U], gc [N,U] (LSTM) of its outputs; outputs dp [N,T,G·U] (∂L/∂p), dr [N,T,G·U] (GRU: ∂L/∂ of the recurrent
 * pre-activation h·U + bRec, whose h block is scaled by the reset gate; the other cells leave it unwritten, it equals
 * dp), dh0 [N,U], dc0 [N,U] (LSTM) and, when given, du [U,G·U] = ∂L/∂u = Σ over all rows hprevᵀ·dr.
 */
export interface RnnBackwardBufs {
  u: Buf;
  bRec?: Buf;
  mask?: Buf;
  c0?: Buf;
  hprev: Buf;
  save: Buf;
  gy: Buf;
  gh: Buf;
  gc?: Buf;
  dp: Buf;
  dr?: Buf;
  dh0: Buf;
  dc0?: Buf;
  du?: Buf;
}

/**
 * Broadcast geometry for element-wise kernels: the output is dense with `shape`; input i is read at
 * Σ index[d]·strides[i][d] (stride 0 along a broadcast dimension). Rank ≤ 8.
 */
export interface Broadcast {
  shape: readonly number[];
  strides: readonly (readonly number[])[];
}

/**
 * Geometry of the attention softmax kernels: x, y, g, dx [outer, heads, tq, cols] seen as `rows` = outer·heads·tq rows of
 * `cols`; row r is query step i = r mod tq of sample o = ⌊r / (heads·tq)⌋. Column j of row r is live when j ≤ i (if
 * `causal`) and mask[o, i, j] ≠ 0 (if a mask [outer, tq, cols] is given).
 */
export interface MaskedSoftmaxParams {
  rows: number;
  cols: number;
  tq: number;
  heads: number;
  /** Multiplies x before the softmax (attention's 1/√keyDim). */
  scale: number;
  causal: boolean;
}

/** Where one attention operand sits in its buffer: element (n, t, h, d) at offset + n·sample + t·step + h·D + d. */
export interface AttentionOperand {
  offset: number;
  step: number;
  sample: number;
}

/**
 * Geometry of the fused attention kernels (Kernels.attention): per sample n < `n` and head h < `heads`, queries Q [tq, dk],
 * keys K [tv, dk] and values V [tv, dv] read from q, k and v as `layout` places them (the projections' [N, T, H, D]
 * layout, or three slices of one packed [N, T, 3, H, D] buffer); scores scaled by `scale`; query step i attends to
 * value steps j ≤ i when `causal`, to all otherwise.
 */
export interface AttentionParams {
  n: number;
  heads: number;
  tq: number;
  tv: number;
  dk: number;
  dv: number;
  scale: number;
  causal: boolean;
  /** q's, k's and v's placement (their gradients are written with the same). */
  layout: readonly [AttentionOperand, AttentionOperand, AttentionOperand];
}

/** Strided copy of 4-byte words: y[dstOffset + Σ i_d·dstStrides[d]] = x[srcOffset + Σ i_d·srcStrides[d]] over `shape`. Rank ≤ 8. */
export interface CopyParams {
  shape: readonly number[];
  srcStrides: readonly number[];
  srcOffset: number;
  dstStrides: readonly number[];
  dstOffset: number;
}

/** The named kernels. Every backend implements all of them with identical semantics. */
export interface Kernels {
  /** Batched GEMM, see {@link GemmParams}. */
  gemm(a: Buf, b: Buf, c: Buf, p: GemmParams): void;
  /** y[N,OH,OW,F] = conv(x[N,H,W,C], w[KH,KW,C,F]). */
  conv2d(x: Buf, w: Buf, y: Buf, p: Conv2DParams): void;
  /** y[N,OH,OW,F] = act(conv(x[N,H,W,C], w[KH,KW,C,F]) + bias[F]): conv2d then biasAct, to the bit, in one pass where the kernel can. */
  conv2dBiasAct(x: Buf, w: Buf, bias: Buf, y: Buf, p: Conv2DParams, act: OutputActivation): void;
  /**
   * p = maxPool2d(act(conv(x, w) + bias)) ([N,POH,POW,F], pooling geometry pp over [N,OH,OW,F]) and, unless y is null,
   * y[N,OH,OW,F] = act(conv + bias): conv2dBiasAct then maxPool2d, to the bit, in one pass where the kernels can.
   */
  conv2dBiasActPool(x: Buf, w: Buf, bias: Buf, y: Buf | null, p: Buf, cp: Conv2DParams, pp: Pool2DParams, act: OutputActivation): void;
  /** dx[N,H,W,C] = ∂L/∂x given dy[N,OH,OW,F] and w[KH,KW,C,F] (overwrites dx). */
  conv2dGradInput(dy: Buf, w: Buf, dx: Buf, p: Conv2DParams): void;
  /** dw[KH,KW,C,F] = ∂L/∂w given x[N,H,W,C] and dy[N,OH,OW,F] (overwrites dw). */
  conv2dGradFilter(x: Buf, dy: Buf, dw: Buf, p: Conv2DParams): void;
  /** y[N,OH,OW,C] = max over each window of x[N,H,W,C]. */
  maxPool2d(x: Buf, y: Buf, p: Pool2DParams): void;
  /** dx[N,H,W,C] = routes dy[N,OH,OW,C] to the first maximum of each window of x (overwrites dx). */
  maxPool2dGrad(x: Buf, dy: Buf, dx: Buf, p: Pool2DParams): void;
  /**
   * The gradients of max pooling over y = act(z + bias): dz[N,H,W,C] = act'·maxPool2dGrad(y, dy) (biasActGrad's dz, to
   * the bit) and db[C] = Σ dz, in one pass where the kernel can.
   */
  maxPool2dBiasActGrad(y: Buf, dy: Buf, dz: Buf, db: Buf, p: Pool2DParams, act: OutputActivation): void;
  /** y[N,OH,OW,C] = mean over the valid cells of each window of x[N,H,W,C]. */
  avgPool2d(x: Buf, y: Buf, p: Pool2DParams): void;
  /** dx[N,H,W,C] = spreads dy[N,OH,OW,C] evenly over each window's valid cells (overwrites dx). */
  avgPool2dGrad(dy: Buf, dx: Buf, p: Pool2DParams): void;
  /** y[n] = op(x[n]). */
  unary(op: UnaryOp, x: Buf, y: Buf, n: number): void;
  /** y[shape] = op(a, b) with broadcasting; bc.strides = [aStrides, bStrides]. */
  binary(op: BinaryOp, a: Buf, b: Buf, y: Buf, bc: Broadcast): void;
  /** y[shape] = cond != 0 ? a : b with broadcasting (cond is float32); bc.strides = [condStrides, aStrides, bStrides]. */
  where(cond: Buf, a: Buf, b: Buf, y: Buf, bc: Broadcast): void;
  /** y[outer, inner] = op over s of x[outer, size, inner]. */
  reduce(op: ReduceOp, x: Buf, y: Buf, outer: number, size: number, inner: number): void;
  /** y[outer, inner] (int32) = index of the first maximum over s of x[outer, size, inner]; NaN counts as maximal. */
  argmax(x: Buf, y: Buf, outer: number, size: number, inner: number): void;
  /** y[rows, cols] = softmax (or log-softmax when `log`) of x along its last axis. */
  softmax(x: Buf, y: Buf, rows: number, cols: number, log: boolean): void;
  /**
   * The log-softmax of each row of x[rows, cols] at its label only (sparse cross-entropy without the [rows, cols]
   * intermediates): logp[r] = (x[r, l] − max_r) − log Σ_k e^{x[r, k] − max_r}, l = labels[r] (int32), NaN for a label
   * outside [0, cols); stats[r] = (max_r, log Σ_r) as float32 [rows, 2], for {@link logSoftmaxPickGrad}.
   */
  logSoftmaxPick(x: Buf, labels: Buf, logp: Buf, stats: Buf, rows: number, cols: number): void;
  /**
   * The gradient of {@link logSoftmaxPick} from g[rows]: dx[r, k] = g_r·[k = labels[r]] − e^{y_rk}·g_r, where
   * y_rk = (x[r, k] − max_r) − log Σ_r is the row's log-softmax, rebuilt from stats (overwrites dx[rows, cols]).
   */
  logSoftmaxPickGrad(g: Buf, x: Buf, labels: Buf, stats: Buf, dx: Buf, rows: number, cols: number): void;
  /**
   * Attention probabilities (see {@link MaskedSoftmaxParams}): y[r, j] = e^{z_j − max} / Σ e^{z − max} with z = scale·x[r]
   * over the live columns of row r, 0 at the others; a row without live columns is all 0. `mask` is null or float32
   * [outer, tq, cols].
   */
  maskedSoftmax(x: Buf, mask: Buf | null, y: Buf, p: MaskedSoftmaxParams): void;
  /**
   * The gradient of {@link maskedSoftmax} from g = ∂L/∂y and its output y: dx[r, j] = scale·y[r, j]·(g[r, j] − Σ_k g[r, k]·y[r, k]),
   * the sum over k < n and dx[r, j] = 0 for j ≥ n, where n = i + 1 when causal, else cols (the mask is not needed: y is 0 there).
   */
  maskedSoftmaxGrad(g: Buf, y: Buf, dx: Buf, p: MaskedSoftmaxParams): void;
  /**
   * Whether {@link attention} and {@link attentionGrad} run for this geometry (a backend may lack the working memory for
   * long sequences; the caller then composes the attention from matmul and maskedSoftmax).
   */
  fusedAttention(a: AttentionParams): boolean;
  /**
   * Scaled dot-product attention per sample and head (see {@link AttentionParams}): p[n, h, i, j] = the
   * {@link maskedSoftmax} of scale·Q·Kᵀ without a mask (0 at dead columns), float32 [n, heads, tq, tv]; o[n, i, h, :] =
   * Σ_j p[n, h, i, j]·V[j, :], float32 [n, tq, heads, dv].
   */
  attention(q: Buf, k: Buf, v: Buf, o: Buf, p: Buf, a: AttentionParams): void;
  /**
   * The gradient of {@link attention} from go = ∂L/∂o [n, tq, heads, dv] and its saved p: dS = the
   * {@link maskedSoftmaxGrad} of dP = dO·Vᵀ, then dq = dS·K, dk = dSᵀ·Q, dv = Pᵀ·dO, written where `layout` places q, k
   * and v (dq, dk, dv may be one packed buffer; every element of the three is written).
   */
  attentionGrad(go: Buf, q: Buf, k: Buf, v: Buf, p: Buf, dq: Buf, dk: Buf, dv: Buf, a: AttentionParams): void;
  /**
   * y[outer, nIdx, inner] = x[outer, idx[j], inner] for j < nIdx (4-byte words: any dtype).
   * Returns -1, or the position j of the first index outside [0, axisLen) (y is then unspecified).
   */
  gather(x: Buf, idx: Buf, y: Buf, outer: number, axisLen: number, inner: number, nIdx: number): number;
  /**
   * y[outer, idx[j], inner] += upd[outer, j, inner] for j < nIdx (float32; y is not cleared).
   * Returns -1, or the position j of the first index outside [0, axisLen) (y is then unspecified).
   */
  scatterAdd(upd: Buf, idx: Buf, y: Buf, outer: number, axisLen: number, inner: number, nIdx: number): number;
  /**
   * Layer normalisation over the last axis: y[r, j] = (x[r, j] − mean_r)·rstd_r·gamma[j] + beta[j], mean_r and the biased
   * variance var_r over row r of x[rows, cols], rstd_r = 1/√(var_r + epsilon); gamma, beta [cols] or null (1, 0).
   */
  layerNorm(x: Buf, gamma: Buf | null, beta: Buf | null, y: Buf, rows: number, cols: number, epsilon: number): void;
  /**
   * The gradients of {@link layerNorm} from dy[rows, cols] (each row's mean and rstd recomputed from x as layerNorm
   * computes them; x̂ = (x − mean)·rstd, ĝ = dy·gamma): dx = rstd·(ĝ − mean_row(ĝ) − x̂·mean_row(ĝ·x̂)),
   * dgamma[cols] = Σ_rows dy·x̂, dbeta[cols] = Σ_rows dy (in an order that does not depend on the thread count).
   */
  layerNormGrad(dy: Buf, x: Buf, gamma: Buf | null, dx: Buf, dgamma: Buf, dbeta: Buf, rows: number, cols: number, epsilon: number): void;
  /**
   * y[rows, cols] = act(x[rows, cols] + bias[cols]); for gelu with `slope` also slope[rows, cols] = gelu'(z) (the values
   * biasActGrad computes from x and the bias), which biasActGrad then reads in place of them.
   */
  biasAct(x: Buf, bias: Buf, y: Buf, rows: number, cols: number, act: BiasActivation, slope?: Buf): void;
  /**
   * The gradients of biasAct from g = ∂L/∂y and its output y, in one pass: dz[rows, cols] = g·act'(z) written in terms
   * of y (relu: y > 0 ? g : 0; sigmoid: g·(y·(1 − y)); tanh: g·(1 − y·y); linear: g, each product rounded to float32),
   * and db[cols] = Σ_rows dz. For gelu, `y` is the input x and `bias` the bias: dz = g·(Φ(z) + z·φ(z)), z = x + bias
   * rounded to float32 (biasAct's z), or without `bias`, `y` is the slope biasAct wrote (dz = g·y, the same bits);
   * `bias` is unused by the other activations.
   */
  biasActGrad(g: Buf, y: Buf, dz: Buf, db: Buf, rows: number, cols: number, act: BiasActivation, bias?: Buf): void;
  /**
   * Adam step in place over n float32 elements (p, m, v updated; g read), in the order of PyTorch's CPU kernels:
   * m = g·c1 ⊕ (m·b1); v = (c2·g)·g ⊕ (v·b2); p = p·keep − (stepSize·m) / (√v / sqrtBc2 + eps), each product,
   * sum and quotient rounded to float32, and a ⊕ b a multiply-add in float64 (exact product) rounded to float32.
   */
  adam(p: Buf, g: Buf, m: Buf, v: Buf, n: number, h: AdamHyper): void;
  /** y[rows, n] = H_n · x[rows, n] row by row: the unnormalised fast Walsh–Hadamard transform (n a power of 2, entries of H ±1). */
  fwht(x: Buf, y: Buf, rows: number, n: number): void;
  /** Strided copy of 4-byte words (transpose, slice, concat, broadcast), see {@link CopyParams}. */
  copy(x: Buf, y: Buf, p: CopyParams): void;
  /** y[n] = value, stored as `dtype`. */
  fill(y: Buf, dtype: DType, n: number, value: number): void;
  /** y[n] = x[n] converted between float32 and int32 (float → int truncates toward zero, saturates, NaN → 0). */
  cast(x: Buf, from: DType, y: Buf, to: DType, n: number): void;
  /**
   * A whole recurrence forward (see {@link RnnForwardBufs}); per step z = p[:,τ] + h·u (+ bRec), then the cell:
   * simple h' = act(z); LSTM i, f, o = recAct(z_i, z_f, z_o), g = act(z_c), c' = f·c + i·g, h' = o·act(c');
   * GRU z, r = recAct(p_z + r_z, p_r + r_r) with r_· = (h·u + bRec)_·, n = act(p_h + r·r_h), h' = z·h + (1−z)·n.
   * Where mask[:,τ] = 0 the state is kept and y[:,s] is the previous output (or 0, `zeroOutput`). save[:,τ] holds
   * per unit: simple [h'], LSTM [i, f, g, o, c after the step, act(c')], GRU [z, r, n, r_h].
   */
  rnnForward(b: RnnForwardBufs, p: RnnParams): void;
  /** The backward pass through time of {@link rnnForward} (see {@link RnnBackwardBufs}); dh0/dc0 overwritten. */
  rnnBackward(b: RnnBackwardBufs, p: RnnParams): void;
}

/**
 * Constants of one fused Adam step (see {@link Kernels.adam}), each computed in float64 by the caller and
 * rounded once to float32 by the kernel, as PyTorch does with its Python-float scalars.
 */
export interface AdamHyper {
  beta1: number;
  beta2: number;
  /** 1 − β₁. */
  c1: number;
  /** 1 − β₂. */
  c2: number;
  /** learningRate / (1 − β₁ᵗ). */
  stepSize: number;
  /** √(1 − β₂ᵗ). */
  sqrtBc2: number;
  epsilon: number;
  /** Multiplier of p before the step: 1 − learningRate·weightDecay (AdamW), 1 for Adam. */
  keep: number;
}

/** A backend: memory management plus the kernels. Autodiff and layers never touch its memory directly. */
export interface Backend extends Kernels {
  readonly name: string;
  /** Allocates room for `length` elements of `dtype`; contents are unspecified. */
  alloc(length: number, dtype: DType): Buf;
  /** Returns a buffer to the backend (one `alloc` returned; never an alias). */
  free(buf: Buf): void;
  /**
   * A handle to the elements of `buf` from element `offset` on (0 ≤ offset ≤ its length), sharing its memory, so
   * kernels can start at an offset. Valid until the buffer it aliases is freed; never freed on its own. Calling it
   * again with the same arguments may return the same handle; an alias of an alias adds the offsets.
   */
  alias(buf: Buf, offset: number): Buf;
  /** Copies `length` elements out of a buffer. */
  read(buf: Buf, dtype: DType, length: number): Float32Array | Int32Array;
  /** Copies `data` into the start of a buffer. */
  write(buf: Buf, data: Float32Array | Int32Array): void;
  /** Bytes currently allocated and not freed (for leak tests and benchmarks). */
  bytesInUse(): number;
}
