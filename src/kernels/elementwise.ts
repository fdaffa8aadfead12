// Element-wise kernels: unary ops, broadcasting binary ops and where, fused bias + activation, fill, cast.
// Legend: n element count; rows × cols a matrix; rank/shape/strides a broadcast geometry (see lib/strided.ts).
// Op codes are the enums Unary / Binary / BiasAct / CastMode of src/backend/opcodes.ts (shared with TypeScript).
// Every kernel partitions output elements, and each element's value never depends on where a chunk starts.
import { actGradVec, actVec, biasActVec, loadTail, reluVec, storeTail, vexp, vlog, vtanh, vsigmoid, verf, vgelu, vgeluAndSlope, vgeluSlope } from './lib/vecmath';
import { walkStart, walkNextRow, walkOffset } from './lib/strided';
import { BiasAct, Binary, CastMode, Unary } from '../backend/opcodes';

// @ts-ignore: decorator
@inline function sp(c: f32): v128 {
  return f32x4.splat(c);
}

/** Applies a scalar Mathf function to each lane (for sin/cos, whose range reduction is not vectorised). */
// @ts-ignore: decorator
@inline function lanes(op: i32, v: v128): v128 {
  let a0 = f32x4.extract_lane(v, 0), a1 = f32x4.extract_lane(v, 1);
  let a2 = f32x4.extract_lane(v, 2), a3 = f32x4.extract_lane(v, 3);
  if (op == Unary.sin) {
    a0 = Mathf.sin(a0); a1 = Mathf.sin(a1); a2 = Mathf.sin(a2); a3 = Mathf.sin(a3);
  } else {
    a0 = Mathf.cos(a0); a1 = Mathf.cos(a1); a2 = Mathf.cos(a2); a3 = Mathf.cos(a3);
  }
  return f32x4(a0, a1, a2, a3);
}

/** Unary op `op` on four lanes. */
// @ts-ignore: decorator
@inline function unaryVec(op: i32, v: v128): v128 {
  switch (op) {
    case Unary.neg: return f32x4.neg(v);
    case Unary.abs: return f32x4.abs(v);
    case Unary.sign: { // sign: keeps ±0 and NaN
      const s = v128.bitselect(sp(1), v, f32x4.gt(v, sp(0)));
      return v128.bitselect(sp(-1), s, f32x4.lt(v, sp(0)));
    }
    case Unary.exp: return vexp(v);
    case Unary.log: return vlog(v);
    case Unary.sqrt: return f32x4.sqrt(v);
    case Unary.rsqrt: return f32x4.div(sp(1), f32x4.sqrt(v));
    case Unary.square: return f32x4.mul(v, v);
    case Unary.reciprocal: return f32x4.div(sp(1), v);
    case Unary.relu: return reluVec(v); // NaN-propagating
    case Unary.step: return v128.and(f32x4.gt(v, sp(0)), sp(1));
    case Unary.sigmoid: return vsigmoid(v);
    case Unary.tanh: return vtanh(v);
    case Unary.erf: return verf(v);
    case Unary.gelu: return vgelu(v);
    default: return lanes(op, v);
  }
}

// y[begin:end] = op(x[begin:end]); the tail goes through the same vector code in a partial vector.
// @ts-ignore: decorator
@inline function unaryRange(op: i32, x: usize, y: usize, begin: i32, end: i32): void {
  let i = begin;
  for (; i + 4 <= end; i += 4) {
    const o = <usize>i << 2;
    v128.store(y + o, unaryVec(op, v128.load(x + o)));
  }
  const r = end - i;
  if (r > 0) {
    const o = <usize>i << 2;
    storeTail(y + o, unaryVec(op, loadTail(x + o, r)), r);
  }
}

/** y[n] = Unary op `op` of x[n]; partition over elements. x may equal y. */
export function ew_unary(op: i32, x: usize, y: usize, n: i32, begin: i32, end: i32, scratch: usize): void {
  switch (op) { // constant op codes let each inlined loop specialise
    case Unary.neg: unaryRange(Unary.neg, x, y, begin, end); break;
    case Unary.abs: unaryRange(Unary.abs, x, y, begin, end); break;
    case Unary.sign: unaryRange(Unary.sign, x, y, begin, end); break;
    case Unary.exp: unaryRange(Unary.exp, x, y, begin, end); break;
    case Unary.log: unaryRange(Unary.log, x, y, begin, end); break;
    case Unary.sqrt: unaryRange(Unary.sqrt, x, y, begin, end); break;
    case Unary.rsqrt: unaryRange(Unary.rsqrt, x, y, begin, end); break;
    case Unary.square: unaryRange(Unary.square, x, y, begin, end); break;
    case Unary.reciprocal: unaryRange(Unary.reciprocal, x, y, begin, end); break;
    case Unary.relu: unaryRange(Unary.relu, x, y, begin, end); break;
    case Unary.step: unaryRange(Unary.step, x, y, begin, end); break;
    case Unary.sigmoid: unaryRange(Unary.sigmoid, x, y, begin, end); break;
    case Unary.tanh: unaryRange(Unary.tanh, x, y, begin, end); break;
    case Unary.erf: unaryRange(Unary.erf, x, y, begin, end); break;
    case Unary.gelu: unaryRange(Unary.gelu, x, y, begin, end); break;
    case Unary.sin: unaryRange(Unary.sin, x, y, begin, end); break;
    default: unaryRange(Unary.cos, x, y, begin, end); break;
  }
}

/** C / IEEE pow (pow(x, ±0) = 1, pow(1, y) = 1, pow(-1, ±inf) = 1) in float64, rounded to float32. */
// @ts-ignore: decorator
@inline function powC(a: f32, b: f32): f32 {
  if (b == 0 || a == 1 || (a == -1 && Mathf.abs(b) == Infinity)) return 1;
  return <f32>Math.pow(<f64>a, <f64>b);
}

/** Binary op `op` on four lanes; comparisons give 1 or 0. */
// @ts-ignore: decorator
@inline function binaryVec(op: i32, a: v128, b: v128): v128 {
  switch (op) {
    case Binary.add: return f32x4.add(a, b);
    case Binary.sub: return f32x4.sub(a, b);
    case Binary.mul: return f32x4.mul(a, b);
    case Binary.div: return f32x4.div(a, b);
    case Binary.pow: return f32x4(
      powC(f32x4.extract_lane(a, 0), f32x4.extract_lane(b, 0)),
      powC(f32x4.extract_lane(a, 1), f32x4.extract_lane(b, 1)),
      powC(f32x4.extract_lane(a, 2), f32x4.extract_lane(b, 2)),
      powC(f32x4.extract_lane(a, 3), f32x4.extract_lane(b, 3)));
    case Binary.maximum: return f32x4.max(a, b);
    case Binary.minimum: return f32x4.min(a, b);
    case Binary.greater: return v128.and(f32x4.gt(a, b), sp(1));
    case Binary.greaterEqual: return v128.and(f32x4.ge(a, b), sp(1));
    case Binary.less: return v128.and(f32x4.lt(a, b), sp(1));
    case Binary.lessEqual: return v128.and(f32x4.le(a, b), sp(1));
    case Binary.equal: return v128.and(f32x4.eq(a, b), sp(1));
    case Binary.notEqual: return v128.and(f32x4.ne(a, b), sp(1));
    default: return v128.and(a, f32x4.gt(b, sp(0))); // reluGrad: b > 0 ? a : 0
  }
}

/** One element through the vector code (bit-identical to the vector path). */
// @ts-ignore: decorator
@inline function binaryOne(op: i32, a: f32, b: f32): f32 {
  if (op == Binary.pow) return powC(a, b);
  return f32x4.extract_lane(binaryVec(op, f32x4.splat(a), f32x4.splat(b)), 0);
}

// y[len] = op(a[k·sa], b[k·sb]); SIMD when each stride is 0 or 1.
// @ts-ignore: decorator
@inline function binaryRun(op: i32, a: usize, sa: i32, b: usize, sb: i32, y: usize, len: i32): void {
  if ((sa | sb) & ~1) {
    for (let k = 0; k < len; k++) {
      store<f32>(y + (<usize>k << 2), binaryOne(op, load<f32>(a + (<usize>(k * sa) << 2)), load<f32>(b + (<usize>(k * sb) << 2))));
    }
    return;
  }
  const va = v128.load32_splat(a), vb = v128.load32_splat(b);
  const stepA = <usize>sa << 4, stepB = <usize>sb << 4;
  let k = 0;
  for (; k + 4 <= len; k += 4) {
    const x0 = sa ? v128.load(a) : va;
    const x1 = sb ? v128.load(b) : vb;
    v128.store(y, binaryVec(op, x0, x1));
    a += stepA; b += stepB; y += 16;
  }
  const r = len - k;
  if (r > 0) {
    const x0 = sa ? loadTail(a, r) : va;
    const x1 = sb ? loadTail(b, r) : vb;
    storeTail(y, binaryVec(op, x0, x1), r);
  }
}

// @ts-ignore: decorator
@inline function binaryStrided(op: i32, a: usize, b: usize, y: usize, rank: i32, shape: usize, strides: usize, begin: i32, end: i32, st: usize): void {
  const last = rank - 1;
  const cols = load<i32>(shape + (<usize>last << 2));
  const sa = load<i32>(strides + (<usize>last << 2));
  const sb = load<i32>(strides + (<usize>(rank + last) << 2));
  let col = walkStart(rank, shape, strides, 2, begin, st);
  let pos = begin;
  while (pos < end) {
    const len = min(cols - col, end - pos);
    const pa = a + (<usize>(walkOffset(st, 0) + col * sa) << 2);
    const pb = b + (<usize>(walkOffset(st, 1) + col * sb) << 2);
    binaryRun(op, pa, sa, pb, sb, y + (<usize>pos << 2), len);
    pos += len;
    col = 0;
    if (pos < end) walkNextRow(rank, shape, strides, 2, st);
  }
}

/** y[shape] = Binary op `op` of (a, b); strides = [aStrides(rank), bStrides(rank)]; partition over output elements. */
export function ew_binary(op: i32, a: usize, b: usize, y: usize, rank: i32, shape: usize, strides: usize, begin: i32, end: i32, scratch: usize): void {
  switch (op) {
    case Binary.add: binaryStrided(Binary.add, a, b, y, rank, shape, strides, begin, end, scratch); break;
    case Binary.sub: binaryStrided(Binary.sub, a, b, y, rank, shape, strides, begin, end, scratch); break;
    case Binary.mul: binaryStrided(Binary.mul, a, b, y, rank, shape, strides, begin, end, scratch); break;
    case Binary.div: binaryStrided(Binary.div, a, b, y, rank, shape, strides, begin, end, scratch); break;
    case Binary.pow: binaryStrided(Binary.pow, a, b, y, rank, shape, strides, begin, end, scratch); break;
    case Binary.maximum: binaryStrided(Binary.maximum, a, b, y, rank, shape, strides, begin, end, scratch); break;
    case Binary.minimum: binaryStrided(Binary.minimum, a, b, y, rank, shape, strides, begin, end, scratch); break;
    case Binary.greater: binaryStrided(Binary.greater, a, b, y, rank, shape, strides, begin, end, scratch); break;
    case Binary.greaterEqual: binaryStrided(Binary.greaterEqual, a, b, y, rank, shape, strides, begin, end, scratch); break;
    case Binary.less: binaryStrided(Binary.less, a, b, y, rank, shape, strides, begin, end, scratch); break;
    case Binary.lessEqual: binaryStrided(Binary.lessEqual, a, b, y, rank, shape, strides, begin, end, scratch); break;
    case Binary.equal: binaryStrided(Binary.equal, a, b, y, rank, shape, strides, begin, end, scratch); break;
    case Binary.notEqual: binaryStrided(Binary.notEqual, a, b, y, rank, shape, strides, begin, end, scratch); break;
    default: binaryStrided(Binary.reluGrad, a, b, y, rank, shape, strides, begin, end, scratch); break;
  }
}

/** y[shape] = cond != 0 ? a : b (4-byte words); strides = [cond, a, b] strides; partition over output elements. */
export function ew_where(cond: usize, a: usize, b: usize, y: usize, rank: i32, shape: usize, strides: usize, begin: i32, end: i32, scratch: usize): void {
  const last = rank - 1;
  const cols = load<i32>(shape + (<usize>last << 2));
  const sc = load<i32>(strides + (<usize>last << 2));
  const sa = load<i32>(strides + (<usize>(rank + last) << 2));
  const sb = load<i32>(strides + (<usize>(2 * rank + last) << 2));
  const vec = ((sc | sa | sb) & ~1) == 0;
  let col = walkStart(rank, shape, strides, 3, begin, scratch);
  let pos = begin;
  while (pos < end) {
    const len = min(cols - col, end - pos);
    let pc = cond + (<usize>(walkOffset(scratch, 0) + col * sc) << 2);
    let pa = a + (<usize>(walkOffset(scratch, 1) + col * sa) << 2);
    let pb = b + (<usize>(walkOffset(scratch, 2) + col * sb) << 2);
    let py = y + (<usize>pos << 2);
    let k = 0;
    if (vec) {
      for (; k + 4 <= len; k += 4) {
        const m = f32x4.ne(sc ? v128.load(pc) : v128.load32_splat(pc), sp(0));
        const va = sa ? v128.load(pa) : v128.load32_splat(pa);
        const vb = sb ? v128.load(pb) : v128.load32_splat(pb);
        v128.store(py, v128.bitselect(va, vb, m));
        pc += <usize>sc << 4; pa += <usize>sa << 4; pb += <usize>sb << 4; py += 16;
      }
    }
    for (; k < len; k++) { // same selection, word by word
      store<i32>(py, load<f32>(pc) != 0 ? load<i32>(pa) : load<i32>(pb));
      pc += <usize>sc << 2; pa += <usize>sa << 2; pb += <usize>sb << 2; py += 4;
    }
    pos += len;
    col = 0;
    if (pos < end) walkNextRow(rank, shape, strides, 3, scratch);
  }
}

// y[pos] = act(x[pos] + bias[pos % cols]) over flat positions [begin, end); for GELU with slope != 0 also
// slope[pos] = gelu'(x + bias) (vgeluAndSlope: the same bits as y's and as ew_bias_act_grad's slope), its tail through
// scratch. act and a zero slope are constants at every call, so the other paths keep their plain loop.
// @ts-ignore: decorator
@inline function biasRange(act: i32, x: usize, bias: usize, y: usize, cols: i32, begin: i32, end: i32, slope: usize, scratch: usize): void {
  const keep = act == BiasAct.gelu && slope != 0;
  let c = begin % cols;
  let pos = begin;
  while (pos < end) {
    const len = min(cols - c, end - pos);
    const px = x + (<usize>pos << 2), py = y + (<usize>pos << 2), ps = slope + (<usize>pos << 2), pb = bias + (<usize>c << 2);
    let k = 0;
    for (; k + 4 <= len; k += 4) {
      const o = <usize>k << 2;
      const z = f32x4.add(v128.load(px + o), v128.load(pb + o));
      if (keep) v128.store(ps + o, vgeluAndSlope(z, py + o));
      else v128.store(py + o, biasActVec(act, z));
    }
    const r = len - k;
    if (r > 0) {
      const o = <usize>k << 2;
      const z = f32x4.add(loadTail(px + o, r), loadTail(pb + o, r));
      if (keep) {
        storeTail(ps + o, vgeluAndSlope(z, scratch), r);
        storeTail(py + o, v128.load(scratch), r);
      } else {
        storeTail(py + o, biasActVec(act, z), r);
      }
    }
    pos += len;
    c = 0;
  }
}

/** y[rows, cols] = act(x[rows, cols] + bias[cols]); partition over the rows·cols elements. x may equal y. */
export function ew_bias_act(act: i32, x: usize, bias: usize, y: usize, rows: i32, cols: i32, begin: i32, end: i32, scratch: usize): void {
  if (act == BiasAct.linear) biasRange(BiasAct.linear, x, bias, y, cols, begin, end, 0, scratch);
  else if (act == BiasAct.relu) biasRange(BiasAct.relu, x, bias, y, cols, begin, end, 0, scratch);
  else if (act == BiasAct.sigmoid) biasRange(BiasAct.sigmoid, x, bias, y, cols, begin, end, 0, scratch);
  else if (act == BiasAct.tanh) biasRange(BiasAct.tanh, x, bias, y, cols, begin, end, 0, scratch);
  else biasRange(BiasAct.gelu, x, bias, y, cols, begin, end, 0, scratch);
}

/** ew_bias_act for GELU that also writes s = gelu'(x + bias): a forward pass that keeps its slope for the backward one. */
export function ew_bias_gelu_slope(x: usize, bias: usize, y: usize, s: usize, cols: i32, begin: i32, end: i32, scratch: usize): void {
  biasRange(BiasAct.gelu, x, bias, y, cols, begin, end, s, scratch);
}

// Rows [r0, r1) of ew_bias_act_grad for one activation; part = the block's column sums.
// @ts-ignore: decorator
@inline function biasGradRows(act: i32, g: usize, y: usize, dz: usize, part: usize, cols: i32, r0: i32, r1: i32): void {
  for (let r = r0; r < r1; r++) {
    const o = <usize>r * <usize>cols << 2;
    let c = 0;
    for (; c + 4 <= cols; c += 4) {
      const k = o + (<usize>c << 2), pc = part + (<usize>c << 2);
      const d = actGradVec(act, v128.load(g + k), v128.load(y + k));
      v128.store(dz + k, d);
      v128.store(pc, r == r0 ? d : f32x4.add(v128.load(pc), d));
    }
    const n = cols - c;
    if (n > 0) {
      const k = o + (<usize>c << 2), pc = part + (<usize>c << 2);
      const d = actGradVec(act, loadTail(g + k, n), loadTail(y + k, n));
      storeTail(dz + k, d, n);
      storeTail(pc, r == r0 ? d : f32x4.add(loadTail(pc, n), d), n);
    }
  }
}

// Rows [r0, r1) of ew_bias_act_grad for GELU: dz = g·gelu'(x + bias); part as in biasGradRows.
function geluGradRows(g: usize, x: usize, bias: usize, dz: usize, part: usize, cols: i32, r0: i32, r1: i32): void {
  for (let r = r0; r < r1; r++) {
    const o = <usize>r * <usize>cols << 2;
    let c = 0;
    for (; c + 4 <= cols; c += 4) {
      const k = o + (<usize>c << 2), pc = part + (<usize>c << 2);
      const d = f32x4.mul(v128.load(g + k), vgeluSlope(f32x4.add(v128.load(x + k), v128.load(bias + (<usize>c << 2)))));
      v128.store(dz + k, d);
      v128.store(pc, r == r0 ? d : f32x4.add(v128.load(pc), d));
    }
    const n = cols - c;
    if (n > 0) {
      const k = o + (<usize>c << 2), pc = part + (<usize>c << 2);
      const d = f32x4.mul(loadTail(g + k, n), vgeluSlope(f32x4.add(loadTail(x + k, n), loadTail(bias + (<usize>c << 2), n))));
      storeTail(dz + k, d, n);
      storeTail(pc, r == r0 ? d : f32x4.add(loadTail(pc, n), d), n);
    }
  }
}

/**
 * dz[rows, cols] = g · act'(z) given y = act(z) (act a BiasAct code; as reluGrad / the composed ops compute it), or for
 * GELU given y = the input x and bias[cols] (z = x + bias, rounded to float32 as biasAct rounds it) or, with bias = 0
 * (no bias), y = the slope ew_bias_gelu_slope wrote (dz = g·y); and
 * part[⌈rows/blockRows⌉, cols] = dz's column sums over each block of blockRows rows (summed in block order afterwards:
 * the bias gradient; blockRows is fixed by the caller, never by the split); partition over the blocks.
 */
export function ew_bias_act_grad(act: i32, g: usize, y: usize, bias: usize, dz: usize, part: usize, rows: i32, cols: i32, blockRows: i32,
  begin: i32, end: i32, scratch: usize): void {
  for (let b = begin; b < end; b++) {
    const r0 = b * blockRows, r1 = min(rows, r0 + blockRows), pb = part + (<usize>b * <usize>cols << 2);
    if (act == BiasAct.relu) biasGradRows(BiasAct.relu, g, y, dz, pb, cols, r0, r1);
    else if (act == BiasAct.sigmoid) biasGradRows(BiasAct.sigmoid, g, y, dz, pb, cols, r0, r1);
    else if (act == BiasAct.tanh) biasGradRows(BiasAct.tanh, g, y, dz, pb, cols, r0, r1);
    else if (act == BiasAct.gelu && bias == 0) biasGradRows(BiasAct.gelu, g, y, dz, pb, cols, r0, r1); // y: the slope
    else if (act == BiasAct.gelu) geluGradRows(g, y, bias, dz, pb, cols, r0, r1);
    else biasGradRows(BiasAct.linear, g, y, dz, pb, cols, r0, r1);
  }
}

/** y[n] = the 4-byte word `bits`; partition over elements. */
export function ew_fill(y: usize, bits: i32, n: i32, begin: i32, end: i32, scratch: usize): void {
  const v = i32x4.splat(bits);
  let i = begin;
  for (; i + 4 <= end; i += 4) v128.store(y + (<usize>i << 2), v);
  for (; i < end; i++) store<i32>(y + (<usize>i << 2), bits);
}

/** y[n] = convert(x[n]) by CastMode: float32 → int32 (truncate, saturating, NaN → 0), int32 → float32, or copy. */
export function ew_cast(x: usize, y: usize, mode: i32, n: i32, begin: i32, end: i32, scratch: usize): void {
  let i = begin;
  for (; i + 4 <= end; i += 4) {
    const o = <usize>i << 2;
    const v = v128.load(x + o);
    v128.store(y + o, mode == CastMode.floatToInt ? i32x4.trunc_sat_f32x4_s(v) : mode == CastMode.intToFloat ? f32x4.convert_i32x4_s(v) : v);
  }
  const r = end - i;
  if (r > 0) {
    const o = <usize>i << 2;
    const v = loadTail(x + o, r);
    storeTail(y + o, mode == CastMode.floatToInt ? i32x4.trunc_sat_f32x4_s(v) : mode == CastMode.intToFloat ? f32x4.convert_i32x4_s(v) : v, r);
  }
}
