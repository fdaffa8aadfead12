// Element-wise kernels: unary ops, broadcasting binary ops and where, fused bias + activation, fill, cast.
// Legend: n element count; rows × cols a matrix; rank/shape/strides a broadcast geometry (see strided.ts).
// Op codes are indices into UNARY_OPS / BINARY_OPS / BIAS_ACTIVATIONS of src/backend/backend.ts.
// Every kernel partitions output elements, and each element's value never depends on where a chunk starts.
import { loadTail, storeTail, vexp, vlog, vtanh, vsigmoid, verf, vgelu } from './vecmath';
import { walkStart, walkNextRow, walkOffset } from './strided';

// @ts-ignore: decorator
@inline function sp(c: f32): v128 {
  return f32x4.splat(c);
}

/** Applies a scalar Mathf function to each lane (for sin/cos, whose range reduction is not vectorised). */
// @ts-ignore: decorator
@inline function lanes(op: i32, v: v128): v128 {
  let a0 = f32x4.extract_lane(v, 0), a1 = f32x4.extract_lane(v, 1);
  let a2 = f32x4.extract_lane(v, 2), a3 = f32x4.extract_lane(v, 3);
  if (op == 15) {
    a0 = Mathf.sin(a0); a1 = Mathf.sin(a1); a2 = Mathf.sin(a2); a3 = Mathf.sin(a3);
  } else {
    a0 = Mathf.cos(a0); a1 = Mathf.cos(a1); a2 = Mathf.cos(a2); a3 = Mathf.cos(a3);
  }
  return f32x4(a0, a1, a2, a3);
}

/** UNARY_OPS[op] on four lanes. */
// @ts-ignore: decorator
@inline function unaryVec(op: i32, v: v128): v128 {
  switch (op) {
    case 0: return f32x4.neg(v);
    case 1: return f32x4.abs(v);
    case 2: { // sign: keeps ±0 and NaN
      const s = v128.bitselect(sp(1), v, f32x4.gt(v, sp(0)));
      return v128.bitselect(sp(-1), s, f32x4.lt(v, sp(0)));
    }
    case 3: return vexp(v);
    case 4: return vlog(v);
    case 5: return f32x4.sqrt(v);
    case 6: return f32x4.div(sp(1), f32x4.sqrt(v));
    case 7: return f32x4.mul(v, v);
    case 8: return f32x4.div(sp(1), v);
    case 9: return f32x4.max(v, sp(0)); // NaN-propagating
    case 10: return v128.and(f32x4.gt(v, sp(0)), sp(1));
    case 11: return vsigmoid(v);
    case 12: return vtanh(v);
    case 13: return verf(v);
    case 14: return vgelu(v);
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

/** y[n] = UNARY_OPS[op](x[n]); partition over elements. x may equal y. */
export function ew_unary(op: i32, x: usize, y: usize, n: i32, begin: i32, end: i32, scratch: usize): void {
  switch (op) { // constant op codes let each inlined loop specialise
    case 0: unaryRange(0, x, y, begin, end); break;
    case 1: unaryRange(1, x, y, begin, end); break;
    case 2: unaryRange(2, x, y, begin, end); break;
    case 3: unaryRange(3, x, y, begin, end); break;
    case 4: unaryRange(4, x, y, begin, end); break;
    case 5: unaryRange(5, x, y, begin, end); break;
    case 6: unaryRange(6, x, y, begin, end); break;
    case 7: unaryRange(7, x, y, begin, end); break;
    case 8: unaryRange(8, x, y, begin, end); break;
    case 9: unaryRange(9, x, y, begin, end); break;
    case 10: unaryRange(10, x, y, begin, end); break;
    case 11: unaryRange(11, x, y, begin, end); break;
    case 12: unaryRange(12, x, y, begin, end); break;
    case 13: unaryRange(13, x, y, begin, end); break;
    case 14: unaryRange(14, x, y, begin, end); break;
    case 15: unaryRange(15, x, y, begin, end); break;
    default: unaryRange(16, x, y, begin, end); break;
  }
}

/** C / IEEE pow (pow(x, ±0) = 1, pow(1, y) = 1, pow(-1, ±inf) = 1) in float64, rounded to float32. */
// @ts-ignore: decorator
@inline function powC(a: f32, b: f32): f32 {
  if (b == 0 || a == 1 || (a == -1 && Mathf.abs(b) == Infinity)) return 1;
  return <f32>Math.pow(<f64>a, <f64>b);
}

/** BINARY_OPS[op] on four lanes; comparisons give 1 or 0. */
// @ts-ignore: decorator
@inline function binaryVec(op: i32, a: v128, b: v128): v128 {
  switch (op) {
    case 0: return f32x4.add(a, b);
    case 1: return f32x4.sub(a, b);
    case 2: return f32x4.mul(a, b);
    case 3: return f32x4.div(a, b);
    case 4: return f32x4(
      powC(f32x4.extract_lane(a, 0), f32x4.extract_lane(b, 0)),
      powC(f32x4.extract_lane(a, 1), f32x4.extract_lane(b, 1)),
      powC(f32x4.extract_lane(a, 2), f32x4.extract_lane(b, 2)),
      powC(f32x4.extract_lane(a, 3), f32x4.extract_lane(b, 3)));
    case 5: return f32x4.max(a, b);
    case 6: return f32x4.min(a, b);
    case 7: return v128.and(f32x4.gt(a, b), sp(1));
    case 8: return v128.and(f32x4.ge(a, b), sp(1));
    case 9: return v128.and(f32x4.lt(a, b), sp(1));
    case 10: return v128.and(f32x4.le(a, b), sp(1));
    case 11: return v128.and(f32x4.eq(a, b), sp(1));
    case 12: return v128.and(f32x4.ne(a, b), sp(1));
    default: return v128.and(a, f32x4.gt(b, sp(0))); // reluGrad: b > 0 ? a : 0
  }
}

/** One element through the vector code (bit-identical to the vector path). */
// @ts-ignore: decorator
@inline function binaryOne(op: i32, a: f32, b: f32): f32 {
  if (op == 4) return powC(a, b);
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

/** y[shape] = BINARY_OPS[op](a, b); strides = [aStrides(rank), bStrides(rank)]; partition over output elements. */
export function ew_binary(op: i32, a: usize, b: usize, y: usize, rank: i32, shape: usize, strides: usize, begin: i32, end: i32, scratch: usize): void {
  switch (op) {
    case 0: binaryStrided(0, a, b, y, rank, shape, strides, begin, end, scratch); break;
    case 1: binaryStrided(1, a, b, y, rank, shape, strides, begin, end, scratch); break;
    case 2: binaryStrided(2, a, b, y, rank, shape, strides, begin, end, scratch); break;
    case 3: binaryStrided(3, a, b, y, rank, shape, strides, begin, end, scratch); break;
    case 4: binaryStrided(4, a, b, y, rank, shape, strides, begin, end, scratch); break;
    case 5: binaryStrided(5, a, b, y, rank, shape, strides, begin, end, scratch); break;
    case 6: binaryStrided(6, a, b, y, rank, shape, strides, begin, end, scratch); break;
    case 7: binaryStrided(7, a, b, y, rank, shape, strides, begin, end, scratch); break;
    case 8: binaryStrided(8, a, b, y, rank, shape, strides, begin, end, scratch); break;
    case 9: binaryStrided(9, a, b, y, rank, shape, strides, begin, end, scratch); break;
    case 10: binaryStrided(10, a, b, y, rank, shape, strides, begin, end, scratch); break;
    case 11: binaryStrided(11, a, b, y, rank, shape, strides, begin, end, scratch); break;
    case 12: binaryStrided(12, a, b, y, rank, shape, strides, begin, end, scratch); break;
    default: binaryStrided(13, a, b, y, rank, shape, strides, begin, end, scratch); break;
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

/** BIAS_ACTIVATIONS[act] on four lanes. */
// @ts-ignore: decorator
@inline function actVec(act: i32, v: v128): v128 {
  if (act == 0) return v;
  if (act == 1) return f32x4.max(v, sp(0));
  if (act == 2) return vsigmoid(v);
  return vtanh(v);
}

// y[pos] = act(x[pos] + bias[pos % cols]) over flat positions [begin, end).
// @ts-ignore: decorator
@inline function biasRange(act: i32, x: usize, bias: usize, y: usize, cols: i32, begin: i32, end: i32): void {
  let c = begin % cols;
  let pos = begin;
  while (pos < end) {
    const len = min(cols - c, end - pos);
    const px = x + (<usize>pos << 2), py = y + (<usize>pos << 2), pb = bias + (<usize>c << 2);
    let k = 0;
    for (; k + 4 <= len; k += 4) {
      const o = <usize>k << 2;
      v128.store(py + o, actVec(act, f32x4.add(v128.load(px + o), v128.load(pb + o))));
    }
    const r = len - k;
    if (r > 0) {
      const o = <usize>k << 2;
      storeTail(py + o, actVec(act, f32x4.add(loadTail(px + o, r), loadTail(pb + o, r))), r);
    }
    pos += len;
    c = 0;
  }
}

/** y[rows, cols] = act(x[rows, cols] + bias[cols]); partition over the rows·cols elements. x may equal y. */
export function ew_bias_act(act: i32, x: usize, bias: usize, y: usize, rows: i32, cols: i32, begin: i32, end: i32, scratch: usize): void {
  if (act == 0) biasRange(0, x, bias, y, cols, begin, end);
  else if (act == 1) biasRange(1, x, bias, y, cols, begin, end);
  else if (act == 2) biasRange(2, x, bias, y, cols, begin, end);
  else biasRange(3, x, bias, y, cols, begin, end);
}

/** y[n] = the 4-byte word `bits`; partition over elements. */
export function ew_fill(y: usize, bits: i32, n: i32, begin: i32, end: i32, scratch: usize): void {
  const v = i32x4.splat(bits);
  let i = begin;
  for (; i + 4 <= end; i += 4) v128.store(y + (<usize>i << 2), v);
  for (; i < end; i++) store<i32>(y + (<usize>i << 2), bits);
}

/** y[n] = convert(x[n]): mode 0 float32 → int32 (truncate, saturating, NaN → 0), 1 int32 → float32, 2 copy. */
export function ew_cast(x: usize, y: usize, mode: i32, n: i32, begin: i32, end: i32, scratch: usize): void {
  let i = begin;
  for (; i + 4 <= end; i += 4) {
    const o = <usize>i << 2;
    const v = v128.load(x + o);
    v128.store(y + o, mode == 0 ? i32x4.trunc_sat_f32x4_s(v) : mode == 1 ? f32x4.convert_i32x4_s(v) : v);
  }
  const r = end - i;
  if (r > 0) {
    const o = <usize>i << 2;
    const v = loadTail(x + o, r);
    storeTail(y + o, mode == 0 ? i32x4.trunc_sat_f32x4_s(v) : mode == 1 ? f32x4.convert_i32x4_s(v) : v, r);
  }
}
