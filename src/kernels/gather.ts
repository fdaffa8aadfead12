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
  let o = begin / nIdx, j = begin - o * nIdx;
  const bytes = <usize>inner << 2;
  let dst = y + <usize>begin * bytes;
  let r = begin;
  while (r < end) {
    const src = x + <usize>o * <usize>axisLen * bytes; // x[o, 0, 0]
    const stop = min(nIdx, j + (end - r));
    r += stop - j;
    if (inner == 1) {
      for (; j < stop; j++) {
        store<i32>(dst, load<i32>(src + (<usize>load<i32>(idx + (<usize>j << 2)) << 2)));
        dst += 4;
      }
    } else {
      for (; j < stop; j++) {
        memory.copy(dst, src + <usize>load<i32>(idx + (<usize>j << 2)) * bytes, bytes);
        dst += bytes;
      }
    }
    j = 0; // the next output row starts the next o (or the chunk is done)
    o++;
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

/**
 * Same result as gather_scatter_add, partitioned over the outer·axisLen destination rows instead: every chunk
 * scans all j and adds only into its own rows. Used (whole range, one thread) when there are few columns,
 * e.g. flat hashed weights (outer = inner = 1).
 */
export function gather_scatter_add_rows(upd: usize, idx: usize, y: usize, outer: i32, axisLen: i32, inner: i32, nIdx: i32, begin: i32, end: i32, scratch: usize): void {
  const rowBytes = <usize>inner << 2;
  let o = begin / axisLen;
  let lo = begin - o * axisLen;
  while (o * axisLen + lo < end) {
    const hi = min(axisLen, end - o * axisLen);
    const span = <u32>(hi - lo);
    const yBase = y + <usize>o * <usize>axisLen * rowBytes;
    const uBase = upd + <usize>o * <usize>nIdx * rowBytes;
    if (inner == 1) {
      // Branchless (random indices defeat prediction): adds for rows outside [lo, hi) go to a dummy word in scratch.
      for (let j = 0; j < nIdx; j++) {
        const r = load<i32>(idx + (<usize>j << 2));
        const py = select<usize>(yBase + (<usize>r << 2), scratch, <u32>(r - lo) < span);
        store<f32>(py, load<f32>(py) + load<f32>(uBase + (<usize>j << 2)));
      }
    } else {
      for (let j = 0; j < nIdx; j++) {
        const r = load<i32>(idx + (<usize>j << 2));
        if (<u32>(r - lo) >= span) continue;
        const py = yBase + <usize>r * rowBytes;
        const pu = uBase + <usize>j * rowBytes;
        let k = 0;
        for (; k + 4 <= inner; k += 4) {
          const o4 = <usize>k << 2;
          v128.store(py + o4, f32x4.add(v128.load(py + o4), v128.load(pu + o4)));
        }
        for (; k < inner; k++) {
          const o1 = <usize>k << 2;
          store<f32>(py + o1, load<f32>(py + o1) + load<f32>(pu + o1));
        }
      }
    }
    o++;
    lo = 0;
  }
}
