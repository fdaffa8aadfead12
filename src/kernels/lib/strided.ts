// Walks a dense index range over a strided N-d shape (rank ≤ 8) for the element-wise and copy kernels.
// Layout: shape: i32[rank]; strides: i32[nOps·rank] (operand k's strides at k·rank), element units.
// Walker state lives in the caller's per-thread scratch: idx i32[8] at st, row offsets i32[nOps] at st+32.
// A "row" is the last dimension; kernels process one run of a row at a time.

/** Row offset (elements) of operand k for the current row. */
// @ts-ignore: decorator
@inline export function walkOffset(st: usize, k: i32): i32 {
  return load<i32>(st + 32 + (<usize>k << 2));
}

/** Positions the walker at flat position `pos` of `shape`; returns the column inside the last dimension. */
// @ts-ignore: decorator
@inline export function walkStart(rank: i32, shape: usize, strides: usize, nOps: i32, pos: i32, st: usize): i32 {
  const last = rank - 1;
  const cols = load<i32>(shape + (<usize>last << 2));
  let row = pos / cols;
  const col = pos - row * cols;
  for (let k = 0; k < nOps; k++) store<i32>(st + 32 + (<usize>k << 2), 0);
  for (let d = last - 1; d >= 0; d--) {
    const s = load<i32>(shape + (<usize>d << 2));
    const i = row % s;
    row /= s;
    store<i32>(st + (<usize>d << 2), i);
    for (let k = 0; k < nOps; k++) {
      const o = st + 32 + (<usize>k << 2);
      store<i32>(o, load<i32>(o) + i * load<i32>(strides + (<usize>(k * rank + d) << 2)));
    }
  }
  return col;
}

/** Advances the walker to the next row (odometer over dimensions 0..rank-2). */
// @ts-ignore: decorator
@inline export function walkNextRow(rank: i32, shape: usize, strides: usize, nOps: i32, st: usize): void {
  for (let d = rank - 2; d >= 0; d--) {
    const ip = st + (<usize>d << 2);
    const i = load<i32>(ip) + 1;
    const s = load<i32>(shape + (<usize>d << 2));
    if (i < s) {
      store<i32>(ip, i);
      for (let k = 0; k < nOps; k++) {
        const o = st + 32 + (<usize>k << 2);
        store<i32>(o, load<i32>(o) + load<i32>(strides + (<usize>(k * rank + d) << 2)));
      }
      return;
    }
    store<i32>(ip, 0);
    for (let k = 0; k < nOps; k++) {
      const o = st + 32 + (<usize>k << 2);
      store<i32>(o, load<i32>(o) - (s - 1) * load<i32>(strides + (<usize>(k * rank + d) << 2)));
    }
  }
}
