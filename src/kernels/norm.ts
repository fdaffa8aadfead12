// Layer normalisation over the last axis and its gradient, one row at a time.
// Legend: x[rows, cols], the row (C = cols) normalised: x̂ = (x − mean)·rstd, rstd = 1/√(var + ε), var biased;
// y = x̂·γ + β with γ, β [cols] (absent: 1, 0). Row sums accumulate in float64 (four lanes into two pairs). The forward
// partitions rows; the backward recomputes each row's mean and rstd as the forward does and partitions fixed blocks of
// rows (the γ and β partial sums), so any split gives the same bits.
import { addPromoted, laneMask, loadTail, storeTail } from './lib/vecmath';

// @ts-ignore: decorator
@inline function pairSum(acc: v128): f64 {
  return f64x2.extract_lane(acc, 0) + f64x2.extract_lane(acc, 1);
}

/** Mean of row px[cols] (float64 sum, rounded to float32). */
// @ts-ignore: decorator
@inline function rowMean(px: usize, cols: i32): f32 {
  let acc = f64x2.splat(0);
  let c = 0;
  for (; c + 4 <= cols; c += 4) acc = addPromoted(acc, v128.load(px + (<usize>c << 2)));
  if (c < cols) acc = addPromoted(acc, loadTail(px + (<usize>c << 2), cols - c));
  return <f32>(pairSum(acc) / <f64>cols);
}

/** 1/√(var + eps) of row px[cols] about its float32 mean m (squares in float32, summed in float64). */
// @ts-ignore: decorator
@inline function rowRstd(px: usize, cols: i32, m: f32, eps: f64): f32 {
  const vm = f32x4.splat(m);
  let acc = f64x2.splat(0);
  let c = 0;
  for (; c + 4 <= cols; c += 4) {
    const d = f32x4.sub(v128.load(px + (<usize>c << 2)), vm);
    acc = addPromoted(acc, f32x4.mul(d, d));
  }
  if (c < cols) {
    const d = v128.and(f32x4.sub(loadTail(px + (<usize>c << 2), cols - c), vm), laneMask(cols - c));
    acc = addPromoted(acc, f32x4.mul(d, d));
  }
  let sq = pairSum(acc);
  // A square past float32's range (|x − mean| > 1.8e19) made it infinite: square in float64 instead (rows of finite
  // values only; the common path keeps its bits).
  if (!isFinite<f64>(sq)) sq = wideSquares(px, cols, m);
  return <f32>(1.0 / Math.sqrt(sq / <f64>cols + eps));
}

/** Σ (x − m)² of row px[cols] with the squares in float64 (the differences are float32, as on the common path). */
function wideSquares(px: usize, cols: i32, m: f32): f64 {
  let sum: f64 = 0;
  for (let c = 0; c < cols; c++) {
    const d = <f64>(load<f32>(px + (<usize>c << 2)) - m);
    sum += d * d;
  }
  return sum;
}

/** x̂·γ + β on four lanes (γ, β pointers 0: 1, 0). */
// @ts-ignore: decorator
@inline function affine(v: v128, gamma: usize, beta: usize, o: usize, n: i32): v128 {
  if (gamma) v = f32x4.mul(v, n == 4 ? v128.load(gamma + o) : loadTail(gamma + o, n));
  if (beta) v = f32x4.add(v, n == 4 ? v128.load(beta + o) : loadTail(beta + o, n));
  return v;
}

/** y[rows, cols] = (x − mean)·rstd·γ + β per row; gamma, beta: [cols] or 0. Partition over rows. */
export function ln_forward(x: usize, gamma: usize, beta: usize, y: usize, cols: i32, eps: f64, begin: i32, end: i32, scratch: usize): void {
  for (let r = begin; r < end; r++) {
    const px = x + (<usize>r * <usize>cols << 2), py = y + (<usize>r * <usize>cols << 2);
    const m = rowMean(px, cols);
    const vm = f32x4.splat(m), vr = f32x4.splat(rowRstd(px, cols, m, eps));
    let c = 0;
    for (; c + 4 <= cols; c += 4) {
      const o = <usize>c << 2;
      v128.store(py + o, affine(f32x4.mul(f32x4.sub(v128.load(px + o), vm), vr), gamma, beta, o, 4));
    }
    if (c < cols) {
      const o = <usize>c << 2, n = cols - c;
      storeTail(py + o, affine(f32x4.mul(f32x4.sub(loadTail(px + o, n), vm), vr), gamma, beta, o, n), n);
    }
  }
}

/** Four lanes of dy (·γ when given) at byte offset o of the row, n (1..4) of them live (the others 0). */
// @ts-ignore: decorator
@inline function scaledGrad(pdy: usize, gamma: usize, o: usize, n: i32): v128 {
  const g = n == 4 ? v128.load(pdy + o) : loadTail(pdy + o, n);
  return gamma ? f32x4.mul(g, n == 4 ? v128.load(gamma + o) : loadTail(gamma + o, n)) : g;
}

/** Adds v's first n lanes into part at byte offset o (stores them for the block's first row). */
// @ts-ignore: decorator
@inline function accumulate(part: usize, o: usize, v: v128, n: i32, first: bool): void {
  if (n == 4) v128.store(part + o, first ? v : f32x4.add(v128.load(part + o), v));
  else storeTail(part + o, first ? v : f32x4.add(loadTail(part + o, n), v), n);
}

/**
 * The gradients of ln_forward from dy[rows, cols]: dx = rstd·(ĝ − mean(ĝ) − x̂·mean(ĝ·x̂)) with ĝ = dy·γ, and the column
 * sums over each block of blockRows rows of dy·x̂ (partG) and dy (partB), [⌈rows/blockRows⌉, cols] each (summed in block
 * order afterwards: dγ and dβ). gamma: [cols] or 0. Partition over the blocks.
 */
export function ln_backward(dy: usize, x: usize, gamma: usize, dx: usize, partG: usize, partB: usize, rows: i32, cols: i32,
  eps: f64, blockRows: i32, begin: i32, end: i32, scratch: usize): void {
  const inv = 1.0 / <f64>cols;
  for (let b = begin; b < end; b++) {
    const r0 = b * blockRows, r1 = min(rows, r0 + blockRows);
    const pg = partG + (<usize>b * <usize>cols << 2), pb = partB + (<usize>b * <usize>cols << 2);
    for (let r = r0; r < r1; r++) {
      const row = <usize>r * <usize>cols << 2;
      const px = x + row, pdy = dy + row, pdx = dx + row;
      const m = rowMean(px, cols);
      const vm = f32x4.splat(m), vr = f32x4.splat(rowRstd(px, cols, m, eps));
      let sg = f64x2.splat(0), sgx = f64x2.splat(0);
      for (let c = 0; c < cols; c += 4) {
        const o = <usize>c << 2, n = min(4, cols - c);
        const xh = f32x4.mul(f32x4.sub(n == 4 ? v128.load(px + o) : loadTail(px + o, n), vm), vr);
        const d = n == 4 ? v128.load(pdy + o) : loadTail(pdy + o, n);
        const g = scaledGrad(pdy, gamma, o, n);
        sg = addPromoted(sg, g);
        sgx = addPromoted(sgx, f32x4.mul(g, xh));
        accumulate(pg, o, f32x4.mul(d, xh), n, r == r0);
        accumulate(pb, o, d, n, r == r0);
      }
      const ka = f32x4.splat(<f32>(pairSum(sg) * inv)), kb = f32x4.splat(<f32>(pairSum(sgx) * inv));
      for (let c = 0; c < cols; c += 4) {
        const o = <usize>c << 2, n = min(4, cols - c);
        const xh = f32x4.mul(f32x4.sub(n == 4 ? v128.load(px + o) : loadTail(px + o, n), vm), vr);
        const v = f32x4.mul(f32x4.sub(f32x4.sub(scaledGrad(pdy, gamma, o, n), ka), f32x4.mul(xh, kb)), vr);
        if (n == 4) v128.store(pdx + o, v);
        else storeTail(pdx + o, v, n);
      }
    }
  }
}
