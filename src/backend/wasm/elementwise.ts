// Wasm wrappers of the element-wise kernels: unary, binary and where with broadcasting, bias + activation, fill, cast.
import type { AdamHyper, BiasActivation, BinaryOp, Broadcast, Buf, DType, UnaryOp } from '../backend.js';
import { BiasAct, Binary, CastMode, Unary } from '../opcodes.js';
import type { WasmContext } from './context.js';
import { simplifyStrides, sizeOf } from './copy.js';
import { wasmReduce } from './reduce.js';

/** Elements per thread below which a kernel stays on the calling thread, by cost class of the op. */
const CHEAP = 1 << 16;
const POLY = 1 << 14;
const SCALAR = 1 << 12;

const unaryCost: { readonly [K in UnaryOp]: number } = {
  neg: CHEAP, abs: CHEAP, sign: CHEAP, exp: POLY, log: POLY, sqrt: CHEAP, rsqrt: CHEAP, square: CHEAP,
  reciprocal: CHEAP, relu: CHEAP, step: CHEAP, sigmoid: POLY, tanh: POLY, erf: POLY / 2, gelu: POLY / 4,
  sin: SCALAR, cos: SCALAR,
};

const f32Bits = new Float32Array(1);
const i32Bits = new Int32Array(f32Bits.buffer);

/** y[n] = op(x[n]) (x may equal y). */
export function wasmUnary(ctx: WasmContext, op: UnaryOp, x: Buf, y: Buf, n: number): void {
  ctx.parallel('ew_unary', [Unary[op], x, y, n], n, 16, unaryCost[op]);
}

/** y[shape] = op(a, b) with broadcasting; bc.strides = [aStrides, bStrides]. */
export function wasmBinary(ctx: WasmContext, op: BinaryOp, a: Buf, b: Buf, y: Buf, bc: Broadcast): void {
  const total = sizeOf(bc.shape);
  if (total === 0) return;
  const g = simplifyStrides(bc.shape, [bc.strides[0], bc.strides[1]]);
  const shape = ctx.params(g.shape);
  const strides = ctx.params([...g.strides[0], ...g.strides[1]]);
  const cost = op === 'pow' ? SCALAR : CHEAP;
  ctx.parallel('ew_binary', [Binary[op], a, b, y, g.shape.length, shape, strides], total, 16, cost);
}

/**
 * y[shape] = cond != 0 ? a : b with broadcasting (4-byte words); bc.strides = [condStrides, aStrides, bStrides].
 * cond is tested as float32 (an int32 cond works too, except that the word 0x80000000 reads as -0, i.e. false).
 */
export function wasmWhere(ctx: WasmContext, cond: Buf, a: Buf, b: Buf, y: Buf, bc: Broadcast): void {
  const total = sizeOf(bc.shape);
  if (total === 0) return;
  const g = simplifyStrides(bc.shape, [bc.strides[0], bc.strides[1], bc.strides[2]]);
  const shape = ctx.params(g.shape);
  const strides = ctx.params([...g.strides[0], ...g.strides[1], ...g.strides[2]]);
  ctx.parallel('ew_where', [cond, a, b, y, g.shape.length, shape, strides], total, 16, CHEAP);
}

/** y[rows, cols] = act(x[rows, cols] + bias[cols]) (x may equal y). */
export function wasmBiasAct(ctx: WasmContext, x: Buf, bias: Buf, y: Buf, rows: number, cols: number, act: BiasActivation, slope?: Buf): void {
  const total = rows * cols;
  if (total === 0) return;
  if (slope !== undefined && act === 'gelu') {
    ctx.parallel('ew_bias_gelu_slope', [x, bias, y, slope, cols], total, 16, POLY);
    return;
  }
  const cost = act === 'linear' || act === 'relu' ? CHEAP : POLY;
  ctx.parallel('ew_bias_act', [BiasAct[act], x, bias, y, rows, cols], total, 16, cost);
}

/** Rows per partial bias-gradient sum of ew_bias_act_grad: a constant, so the order of summation never depends on the split. */
const BIAS_GRAD_ROWS = 64;

/**
 * dz = g·act'(z) from y = act(z) (for gelu from y = the input x and the bias), db = Σ_rows dz: dz and the column sums of
 * fixed blocks of rows in one pass (split over the blocks), then the blocks' sums added in order (red_reduce), so the
 * split never changes a bit.
 */
export function wasmBiasActGrad(ctx: WasmContext, g: Buf, y: Buf, dz: Buf, db: Buf, rows: number, cols: number, act: BiasActivation,
  bias: Buf = 0): void {
  if (cols === 0) return;
  const blockRows = BIAS_GRAD_ROWS, blocks = Math.ceil(rows / blockRows);
  if (blocks === 0) {
    wasmFill(ctx, db, 'float32', cols, 0);
    return;
  }
  const part = ctx.allocTemp(blocks * cols * 4);
  try {
    const cost = act === 'linear' || act === 'relu' || (act === 'gelu' && !bias) ? CHEAP : POLY;
    ctx.parallel('ew_bias_act_grad', [BiasAct[act], g, y, bias, dz, part, rows, cols, blockRows], blocks, 1, Math.ceil(cost / (blockRows * cols)));
    wasmReduce(ctx, 'sum', part, db, 1, blocks, cols);
  } finally {
    ctx.freeTemp(part);
  }
}

/** Fused Adam step in place over n elements (see Kernels.adam). */
export function wasmAdam(ctx: WasmContext, p: Buf, g: Buf, m: Buf, v: Buf, n: number, h: AdamHyper): void {
  if (n === 0) return;
  ctx.parallel('ew_adam', [p, g, m, v, h.beta1, h.beta2, h.c1, h.c2, h.stepSize, h.sqrtBc2, h.epsilon, h.keep, n], n, 16, 1 << 15);
}

/** y[n] = value stored as dtype (int32 truncates toward zero like `value | 0`). */
export function wasmFill(ctx: WasmContext, y: Buf, dtype: DType, n: number, value: number): void {
  let bits: number;
  if (dtype === 'int32') {
    bits = value | 0;
  } else {
    f32Bits[0] = value;
    bits = i32Bits[0];
  }
  ctx.parallel('ew_fill', [y, bits, n], n, 16, 1 << 18);
}

/** y[n] = x[n] converted (float → int truncates toward zero, saturating, NaN → 0; int → float rounds to nearest). */
export function wasmCast(ctx: WasmContext, x: Buf, from: DType, y: Buf, to: DType, n: number): void {
  const mode = from === to ? CastMode.copy : from === 'float32' ? CastMode.floatToInt : CastMode.intToFloat;
  ctx.parallel('ew_cast', [x, y, mode, n], n, 16, 1 << 17);
}
