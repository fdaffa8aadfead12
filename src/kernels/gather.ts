// Gather and scatter-add of rows along one axis: x viewed as [outer, axisLen, inner], indices idx[nIdx] (int32).
// gather_check validates indices first (single-threaded, SIMD); the kernels then assume valid indices.

/** Position of the first idx[j] outside [0, axisLen), or -1. Not a parallel kernel (call it directly). */
export function gather_check(idx: usize, nIdx: i32, axisLen: i32): i32 {
  const lim = i32x4.splat(axisLen);
  let j = 0;
  for (; j + 4 <= nIdx; j += 4) {
    // unsigned compare: negative indices look huge
    const bad = v128.not(i32x4.lt_u(v128.load(idx + (<usize>j << 2)), lim));
    if (v128.any_true(bad)) break;
  }
  for (; j < nIdx; j++) {
    if (<u32>load<i32>(idx + (<usize>j << 2)) >= <u32>axisLen) return j;
  }
  return -1;
}

/**
 * y[outer, nIdx, inner] = x[outer, idx[j], inner] (4-byte words); partition over the outer·nIdx output rows.
 */
export function gather_rows(x: usize, idx: usize, y: usize, outer: i32, axisLen: i32, inner: i32, nIdx: i32, begin: i32, end: i32, scratch: usize): void {
  if (inner == 1) {
    for (let r = begin; r < end; r++) {
      const o = r / nIdx, j = r - o * nIdx;
      const src = o * axisLen + load<i32>(idx + (<usize>j << 2));
      store<i32>(y + (<usize>r << 2), load<i32>(x + (<usize>src << 2)));
    }
    return;
  }
  const bytes = <usize>inner << 2;
  for (let r = begin; r < end; r++) {
    const o = r / nIdx, j = r - o * nIdx;
    const src = o * axisLen + load<i32>(idx + (<usize>j << 2));
    memory.copy(y + <usize>r * bytes, x + <usize>src * bytes, bytes);
  }
}

/**
 * y[outer, idx[j], inner] += upd[outer, j, inner] for j = 0..nIdx-1 in order (float32); y is not cleared.
 * Partition over the outer·inner columns, so duplicate indices accumulate in j order whatever the split.
 */
export function gather_scatter_add(upd: usize, idx: usize, y: usize, outer: i32, axisLen: i32, inner: i32, nIdx: i32, begin: i32, end: i32, scratch: usize): void {
  let pos = begin;
  while (pos < end) {
    const o = pos / inner;
    const i0 = pos - o * inner;
    const len = min(inner - i0, end - pos);
    const yBase = y + ((<usize>o * <usize>axisLen * <usize>inner + <usize>i0) << 2);
    const uBase = upd + ((<usize>o * <usize>nIdx * <usize>inner + <usize>i0) << 2);
    const rowBytes = <usize>inner << 2;
    for (let j = 0; j < nIdx; j++) {
      const py = yBase + <usize>load<i32>(idx + (<usize>j << 2)) * rowBytes;
      const pu = uBase + <usize>j * rowBytes;
      let k = 0;
      for (; k + 4 <= len; k += 4) {
        const o4 = <usize>k << 2;
        v128.store(py + o4, f32x4.add(v128.load(py + o4), v128.load(pu + o4)));
      }
      for (; k < len; k++) {
        const o1 = <usize>k << 2;
        store<f32>(py + o1, load<f32>(py + o1) + load<f32>(pu + o1));
      }
    }
    pos += len;
  }
}
