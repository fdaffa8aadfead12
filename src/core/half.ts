// IEEE half precision (binary16): rounding a float to its nearest half, the value of half bits, and whether an array is
// exactly representable in halves (so 16-bit storage of it is lossless).

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** The IEEE half-precision bits nearest to v (round to nearest even; |v| ≤ 65504). */
export function toHalf(v: number): number {
  f32[0] = v;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    // Subnormal half: shift the 24-bit significand (with its implicit 1) right, rounding to nearest even.
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let h = mant >>> shift;
    const rest = mant & ((1 << shift) - 1), half = 1 << (shift - 1);
    if (rest > half || (rest === half && (h & 1))) h++;
    return sign | h;
  }
  let h = (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && (h & 1))) h++; // a carry into the exponent is the right rounding
  return sign | h;
}

/** The value of IEEE half-precision bits. */
export function fromHalf(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

/** Whether every value of `data` is a half-precision value (finite or ±∞; NaN is not), so that halves store it exactly. */
export function halfExact(data: Float32Array): boolean {
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (Number.isNaN(v) || fromHalf(toHalf(v)) !== v || (v === 0 && 1 / v !== 1 / fromHalf(toHalf(v)))) return false;
  }
  return true;
}
