// Fast Walsh–Hadamard transform along the last axis: x [rows, n] → y [rows, n], n a power of 2.
// Unnormalised (entries of H are ±1, H·H = n·I); in-place butterflies on y, partitioned over rows.

/** y[r, :] = H_n · x[r, :] for r in [begin, end); x may equal y. Stages h = 1, 2 scalar, h ≥ 4 in 4-lane SIMD. */
export function fwht_rows(x: usize, y: usize, n: i32, begin: i32, end: i32, scratch: usize): void {
  const bytes = <usize>n << 2;
  for (let r = begin; r < end; r++) {
    const p = y + <usize>r * bytes;
    const src = x + <usize>r * bytes;
    if (p != src) memory.copy(p, src, bytes);
    let h = 1;
    for (; h < n && h < 4; h <<= 1) {
      for (let i = 0; i < n; i += h << 1) {
        for (let j = i; j < i + h; j++) {
          const pa = p + (<usize>j << 2);
          const pb = p + (<usize>(j + h) << 2);
          const a = load<f32>(pa), b = load<f32>(pb);
          store<f32>(pa, a + b);
          store<f32>(pb, a - b);
        }
      }
    }
    for (; h < n; h <<= 1) {
      for (let i = 0; i < n; i += h << 1) {
        for (let j = i; j < i + h; j += 4) {
          const pa = p + (<usize>j << 2);
          const pb = p + (<usize>(j + h) << 2);
          const a = v128.load(pa), b = v128.load(pb);
          v128.store(pa, f32x4.add(a, b));
          v128.store(pb, f32x4.sub(a, b));
        }
      }
    }
  }
}
