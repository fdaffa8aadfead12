// Reductions along one axis of x viewed as [outer, size, inner]: reduce (sum/mean/max/min), argmax, softmax.
// Each kernel partitions outputs (never the reduced axis), so results are identical for any split.
// Sums (sum, mean, the softmax denominator) accumulate in float64.
// Op codes are the enum Reduce of src/backend/opcodes.ts (shared with TypeScript): sum, mean, max, min.
import { vexp, laneMask, loadTail, storeTail } from './lib/vecmath';
import { Reduce } from '../backend/opcodes';

/** Largest block of inner columns accumulated at once (floats). */
const BLOCK: i32 = 1024;

// @ts-ignore: decorator
@inline function sp(c: f32): v128 {
  return f32x4.splat(c);
}

// @ts-ignore: decorator
@inline function combine(op: i32, a: v128, b: v128): v128 {
  return op <= Reduce.mean ? f32x4.add(a, b) : op == Reduce.max ? f32x4.max(a, b) : f32x4.min(a, b); // max/min propagate NaN
}

// @ts-ignore: decorator
@inline function combine1(op: i32, a: f32, b: f32): f32 {
  return op <= Reduce.mean ? a + b : op == Reduce.max ? max<f32>(a, b) : min<f32>(a, b);
}

// @ts-ignore: decorator
@inline function identity(op: i32): f32 {
  return op <= Reduce.mean ? 0 : op == Reduce.max ? -Infinity : Infinity;
}

/** Σ of a contiguous row p[size] in float64 (two f64x2 accumulators per 4 floats, fixed order). */
// @ts-ignore: decorator
@inline function sumRow64(p: usize, size: i32): f64 {
  let lo = f64x2.splat(0), hi = lo;
  let k = 0;
  for (; k + 4 <= size; k += 4) {
    const v = v128.load(p + (<usize>k << 2));
    lo = f64x2.add(lo, f64x2.promote_low_f32x4(v));
    hi = f64x2.add(hi, f64x2.promote_low_f32x4(i32x4.shuffle(v, v, 2, 3, 0, 1)));
  }
  lo = f64x2.add(lo, hi);
  let r = f64x2.extract_lane(lo, 0) + f64x2.extract_lane(lo, 1);
  for (; k < size; k++) r += <f64>load<f32>(p + (<usize>k << 2));
  return r;
}

/** max (op 2) or min (op 3) of a contiguous row p[size]: two 4-lane accumulators, fixed-order combine, scalar tail. */
// @ts-ignore: decorator
@inline function extremeRow(op: i32, p: usize, size: i32): f32 {
  let a0 = sp(identity(op)), a1 = a0;
  let k = 0;
  for (; k + 8 <= size; k += 8) {
    a0 = combine(op, a0, v128.load(p + (<usize>k << 2)));
    a1 = combine(op, a1, v128.load(p + (<usize>k << 2), 16));
  }
  if (k + 4 <= size) {
    a0 = combine(op, a0, v128.load(p + (<usize>k << 2)));
    k += 4;
  }
  a0 = combine(op, a0, a1);
  let r = combine1(op,
    combine1(op, f32x4.extract_lane(a0, 0), f32x4.extract_lane(a0, 1)),
    combine1(op, f32x4.extract_lane(a0, 2), f32x4.extract_lane(a0, 3)));
  for (; k < size; k++) r = combine1(op, r, load<f32>(p + (<usize>k << 2)));
  return r;
}

// Sums and means accumulate in float64; max/min in float32 (exact). Scratch holds BLOCK f64 column sums.
// @ts-ignore: decorator
@inline function reduceOp(op: i32, x: usize, y: usize, size: i32, inner: i32, begin: i32, end: i32, scratch: usize): void {
  if (inner == 1) {
    for (let r = begin; r < end; r++) {
      const p = x + (<usize>r * <usize>size << 2);
      let v: f32;
      if (op <= Reduce.mean) {
        const s = sumRow64(p, size);
        v = <f32>(op == Reduce.mean ? s / <f64>size : s);
      } else {
        v = extremeRow(op, p, size);
      }
      store<f32>(y + (<usize>r << 2), v);
    }
    return;
  }
  // y[o, i0:i1] accumulates x[o, s, i0:i1] for s = 0..size-1 in order, BLOCK columns at a time.
  let pos = begin;
  while (pos < end) {
    const o = pos / inner;
    const i0 = pos - o * inner;
    const len = min(min(inner - i0, end - pos), BLOCK);
    const py = y + (<usize>pos << 2);
    const px = x + ((<usize>o * <usize>size * <usize>inner + <usize>i0) << 2);
    const rowBytes = <usize>inner << 2;
    if (op <= Reduce.mean) {
      memory.fill(scratch, 0, <usize>len << 3);
      for (let s = 0; s < size; s++) {
        const ps = px + <usize>s * rowBytes;
        let k = 0;
        for (; k + 4 <= len; k += 4) {
          const v = v128.load(ps + (<usize>k << 2));
          const a = scratch + (<usize>k << 3);
          v128.store(a, f64x2.add(v128.load(a), f64x2.promote_low_f32x4(v)));
          v128.store(a, f64x2.add(v128.load(a, 16), f64x2.promote_low_f32x4(i32x4.shuffle(v, v, 2, 3, 0, 1))), 16);
        }
        for (; k < len; k++) {
          const a = scratch + (<usize>k << 3);
          store<f64>(a, load<f64>(a) + <f64>load<f32>(ps + (<usize>k << 2)));
        }
      }
      const div = op == Reduce.mean ? <f64>size : 1.0;
      for (let k = 0; k < len; k++) store<f32>(py + (<usize>k << 2), <f32>(load<f64>(scratch + (<usize>k << 3)) / div));
    } else {
      const id = identity(op);
      for (let k = 0; k < len; k++) store<f32>(py + (<usize>k << 2), id);
      for (let s = 0; s < size; s++) {
        const ps = px + <usize>s * rowBytes;
        let k = 0;
        for (; k + 4 <= len; k += 4) {
          const o4 = <usize>k << 2;
          v128.store(py + o4, combine(op, v128.load(py + o4), v128.load(ps + o4)));
        }
        for (; k < len; k++) {
          const o1 = <usize>k << 2;
          store<f32>(py + o1, combine1(op, load<f32>(py + o1), load<f32>(ps + o1)));
        }
      }
    }
    pos += len;
  }
}

/** y[outer, inner] = Reduce op `op` over s of x[outer, size, inner]; partition over the outer·inner outputs. */
export function red_reduce(op: i32, x: usize, y: usize, outer: i32, size: i32, inner: i32, begin: i32, end: i32, scratch: usize): void {
  if (op == Reduce.sum) reduceOp(Reduce.sum, x, y, size, inner, begin, end, scratch);
  else if (op == Reduce.mean) reduceOp(Reduce.mean, x, y, size, inner, begin, end, scratch);
  else if (op == Reduce.max) reduceOp(Reduce.max, x, y, size, inner, begin, end, scratch);
  else reduceOp(Reduce.min, x, y, size, inner, begin, end, scratch);
}

/** True when v beats the current best b: greater, or the first NaN (NaN counts as maximal). */
// @ts-ignore: decorator
@inline function beats(v: f32, b: f32): bool {
  return v > b || (v != v && b == b);
}

/**
 * y[outer, inner] (int32) = first index of the maximum over s of x[outer, size, inner];
 * partition over outputs; best values of a column block are kept in the thread's scratch.
 */
export function red_argmax(x: usize, y: usize, outer: i32, size: i32, inner: i32, begin: i32, end: i32, scratch: usize): void {
  if (inner == 1) {
    for (let r = begin; r < end; r++) {
      const p = x + (<usize>r * <usize>size << 2);
      let best = load<f32>(p), bi = 0;
      for (let s = 1; s < size; s++) {
        const v = load<f32>(p + (<usize>s << 2));
        if (beats(v, best)) { best = v; bi = s; }
      }
      store<i32>(y + (<usize>r << 2), bi);
    }
    return;
  }
  let pos = begin;
  while (pos < end) {
    const o = pos / inner;
    const i0 = pos - o * inner;
    const len = min(min(inner - i0, end - pos), BLOCK);
    const py = y + (<usize>pos << 2);
    const px = x + ((<usize>o * <usize>size * <usize>inner + <usize>i0) << 2);
    for (let k = 0; k < len; k++) {
      store<f32>(scratch + (<usize>k << 2), load<f32>(px + (<usize>k << 2)));
      store<i32>(py + (<usize>k << 2), 0);
    }
    for (let s = 1; s < size; s++) {
      const ps = px + (<usize>s * <usize>inner << 2);
      for (let k = 0; k < len; k++) {
        const v = load<f32>(ps + (<usize>k << 2));
        if (beats(v, load<f32>(scratch + (<usize>k << 2)))) {
          store<f32>(scratch + (<usize>k << 2), v);
          store<i32>(py + (<usize>k << 2), s);
        }
      }
    }
    pos += len;
  }
}

/**
 * Σ_k e^{x[k] − m} over a row px[cols] in float64 (two f64x2 accumulators, fixed order), storing each e^{x − m} at py
 * when `store`: the denominator of red_softmax, and the log-sum of red_logsm_pick (the same bits for the same row).
 */
// @ts-ignore: decorator
@inline function expSumRow(px: usize, py: usize, cols: i32, m: f32, store: bool): f64 {
  const vecEnd = cols & ~3, rem = cols & 3;
  const vm = sp(m);
  let lo = f64x2.splat(0), hi = lo;
  let k = 0;
  for (; k < vecEnd; k += 4) {
    const e = vexp(f32x4.sub(v128.load(px + (<usize>k << 2)), vm));
    if (store) v128.store(py + (<usize>k << 2), e);
    lo = f64x2.add(lo, f64x2.promote_low_f32x4(e));
    hi = f64x2.add(hi, f64x2.promote_low_f32x4(i32x4.shuffle(e, e, 2, 3, 0, 1)));
  }
  if (rem) {
    const e = v128.and(vexp(f32x4.sub(loadTail(px + (<usize>k << 2), rem), vm)), laneMask(rem));
    if (store) storeTail(py + (<usize>k << 2), e, rem);
    lo = f64x2.add(lo, f64x2.promote_low_f32x4(e));
    hi = f64x2.add(hi, f64x2.promote_low_f32x4(i32x4.shuffle(e, e, 2, 3, 0, 1)));
  }
  lo = f64x2.add(lo, hi);
  return f64x2.extract_lane(lo, 0) + f64x2.extract_lane(lo, 1);
}

/**
 * y[rows, cols] = softmax of each row of x[rows, cols] (log-softmax when log != 0): e^{x-max}/Σ, or x - max - log Σ.
 * Partition over rows. x may equal y.
 */
export function red_softmax(x: usize, y: usize, rows: i32, cols: i32, log: i32, begin: i32, end: i32, scratch: usize): void {
  const vecEnd = cols & ~3;
  for (let r = begin; r < end; r++) {
    const px = x + (<usize>r * <usize>cols << 2);
    const py = y + (<usize>r * <usize>cols << 2);
    const m = extremeRow(2, px, cols);
    const vm = sp(m);
    const sum64 = expSumRow(px, py, cols, m, !log);
    const sum = <f32>sum64;
    let k = 0;
    if (log) {
      const ls = <f32>Math.log(sum64);
      const vs = sp(ls);
      for (; k < vecEnd; k += 4) {
        const o = <usize>k << 2;
        v128.store(py + o, f32x4.sub(f32x4.sub(v128.load(px + o), vm), vs));
      }
      for (; k < cols; k++) store<f32>(py + (<usize>k << 2), (load<f32>(px + (<usize>k << 2)) - m) - ls);
    } else {
      const vs = sp(sum);
      for (; k < vecEnd; k += 4) {
        const o = <usize>k << 2;
        v128.store(py + o, f32x4.div(v128.load(py + o), vs));
      }
      for (; k < cols; k++) store<f32>(py + (<usize>k << 2), load<f32>(py + (<usize>k << 2)) / sum);
    }
  }
}

/**
 * The log-softmax of each row of x[rows, cols] at its label only: logp[r] = (x[r, l] − max) − log Σ e^{x[r] − max},
 * l = labels[r], with the row's max and log-sum kept in stats[r] = (max, log Σ) for red_logsm_pick_grad — the bits
 * red_softmax's log path gives at that column. A label outside [0, cols) gives NaN. Partition over rows.
 */
export function red_logsm_pick(x: usize, labels: usize, logp: usize, stats: usize, rows: i32, cols: i32, begin: i32, end: i32, scratch: usize): void {
  for (let r = begin; r < end; r++) {
    const px = x + (<usize>r * <usize>cols << 2);
    const m = extremeRow(2, px, cols);
    const ls = <f32>Math.log(expSumRow(px, 0, cols, m, false));
    const l = load<i32>(labels + (<usize>r << 2));
    store<f32>(stats + (<usize>r << 3), m);
    store<f32>(stats + (<usize>r << 3), ls, 4);
    store<f32>(logp + (<usize>r << 2), l >= 0 && l < cols ? (load<f32>(px + (<usize>l << 2)) - m) - ls : NaN);
  }
}

/**
 * The gradient of red_logsm_pick from g[rows]: dx[r, k] = g_r·[k = l] − e^{y_k}·g_r with y_k = (x[r, k] − max) − log Σ
 * from stats — log-softmax's gradient g − e^y·Σg for a g that is g_r at the label and 0 elsewhere, in the same
 * float32 operations as that composition. Partition over rows.
 */
export function red_logsm_pick_grad(g: usize, x: usize, labels: usize, stats: usize, dx: usize, rows: i32, cols: i32, begin: i32, end: i32, scratch: usize): void {
  const vecEnd = cols & ~3, rem = cols & 3;
  const zero = f32x4.splat(0);
  for (let r = begin; r < end; r++) {
    const px = x + (<usize>r * <usize>cols << 2), pd = dx + (<usize>r * <usize>cols << 2);
    const m = load<f32>(stats + (<usize>r << 3)), ls = load<f32>(stats + (<usize>r << 3), 4);
    const gr = load<f32>(g + (<usize>r << 2));
    const vm = sp(m), vs = sp(ls), vg = sp(gr);
    let k = 0;
    for (; k < vecEnd; k += 4) {
      const o = <usize>k << 2;
      const y = f32x4.sub(f32x4.sub(v128.load(px + o), vm), vs);
      v128.store(pd + o, f32x4.sub(zero, f32x4.mul(vexp(y), vg)));
    }
    if (rem) {
      const o = <usize>k << 2;
      const y = f32x4.sub(f32x4.sub(loadTail(px + o, rem), vm), vs);
      storeTail(pd + o, f32x4.sub(zero, f32x4.mul(vexp(y), vg)), rem);
    }
    const l = load<i32>(labels + (<usize>r << 2));
    if (l >= 0 && l < cols) {
      const e = f32x4.extract_lane(vexp(sp((load<f32>(px + (<usize>l << 2)) - m) - ls)), 0);
      store<f32>(pd + (<usize>l << 2), gr - e * gr);
    }
  }
}
