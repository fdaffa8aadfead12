// Vectorised float32 math (exp, log, tanh, sigmoid, erf, gelu) and partial-vector helpers shared by the kernels.
// Every function is lane-wise, so a value gives the same bits in any lane and in a partial (tail) vector.
// Polynomials were fitted for this file (weighted least squares, float32 Horner); max relative error ≲ 5e-7. GELU's
// polynomial (erfc by one exp) was fitted by iteratively reweighted least squares (scripts/fit-gelu.py).
import { BiasAct } from '../../backend/opcodes';

/** Loads the first `n` (1..3) 4-byte words at `p` into a vector whose other lanes are 0. */
// @ts-ignore: decorator
@inline export function loadTail(p: usize, n: i32): v128 {
  let v = v128.load32_zero(p);
  if (n > 1) v = i32x4.replace_lane(v, 1, load<i32>(p, 4));
  if (n > 2) v = i32x4.replace_lane(v, 2, load<i32>(p, 8));
  return v;
}

/** Stores the first `n` (1..3) 4-byte lanes of `v` at `p`. */
// @ts-ignore: decorator
@inline export function storeTail(p: usize, v: v128, n: i32): void {
  store<i32>(p, i32x4.extract_lane(v, 0));
  if (n > 1) store<i32>(p, i32x4.extract_lane(v, 1), 4);
  if (n > 2) store<i32>(p, i32x4.extract_lane(v, 2), 8);
}

/** acc + the four float32 lanes of v, as a float64 pair (lanes 0 and 2 into the first, 1 and 3 into the second). */
// @ts-ignore: decorator
@inline export function addPromoted(acc: v128, v: v128): v128 {
  return f64x2.add(f64x2.add(acc, f64x2.promote_low_f32x4(v)), f64x2.promote_low_f32x4(i32x4.shuffle(v, v, 2, 3, 0, 1)));
}

/** Lane mask: all ones in lanes < n (n in 0..4). */
// @ts-ignore: decorator
@inline export function laneMask(n: i32): v128 {
  return i32x4.lt_s(i32x4(0, 1, 2, 3), i32x4.splat(n));
}

// @ts-ignore: decorator
@inline function sp(c: f32): v128 {
  return f32x4.splat(c);
}

// @ts-ignore: decorator
@inline function madd(a: v128, b: v128, c: v128): v128 {
  return f32x4.add(f32x4.mul(a, b), c);
}

// Read-only splatted constants of vexp: V8 rematerialises v128 constants inside loops (~4 instructions each),
// while a load from this table is one instruction (about 25% faster exp).
const EXP_K = memory.data<f32>([
  -104.0, -104.0, -104.0, -104.0, 88.8, 88.8, 88.8, 88.8,
  1.44269504, 1.44269504, 1.44269504, 1.44269504, 12582912.0, 12582912.0, 12582912.0, 12582912.0,
  0.693359375, 0.693359375, 0.693359375, 0.693359375, -2.12194440e-4, -2.12194440e-4, -2.12194440e-4, -2.12194440e-4,
  0.0013901280, 0.0013901280, 0.0013901280, 0.0013901280, 0.0083631407, 0.0083631407, 0.0083631407, 0.0083631407,
  0.041666854, 0.041666854, 0.041666854, 0.041666854, 0.16666578, 0.16666578, 0.16666578, 0.16666578,
  0.5, 0.5, 0.5, 0.5, 1.0, 1.0, 1.0, 1.0,
], 16);

// @ts-ignore: decorator
@inline function ek(i: i32): v128 {
  return v128.load(EXP_K + (<usize>i << 4));
}

/** e^x; exp(-inf) = 0, exp(+inf) = inf, NaN stays NaN; subnormal results are kept. */
// @ts-ignore: decorator
@inline export function vexp(x: v128): v128 {
  // pmax/pmin keep x when the comparison is false, so NaN propagates (and they are single instructions).
  x = f32x4.pmin(f32x4.pmax(x, ek(0)), ek(1)); // [-104, 88.8]
  // n = round(x·log2 e) by adding 1.5·2^23: the integer n then sits in the low mantissa bits of t.
  const t = f32x4.add(f32x4.mul(x, ek(2)), ek(3));
  const n = f32x4.sub(t, ek(3));
  let r = f32x4.sub(x, f32x4.mul(n, ek(4))); // exact: n·C1 has ≤ 17 bits
  r = f32x4.sub(r, f32x4.mul(n, ek(5)));
  return expScaled(r, t);
}

/** e^r·2^n for r in [-ln2/2, ln2/2] and t = n + 1.5·2^23 (n in its low mantissa bits): the end of vexp and vexpSum. */
// @ts-ignore: decorator
@inline function expScaled(r: v128, t: v128): v128 {
  let p = madd(ek(6), r, ek(7)); // e^r = 1 + r + r²·P(r) on [-ln2/2, ln2/2]
  p = madd(p, r, ek(8));
  p = madd(p, r, ek(9));
  p = madd(p, r, ek(10));
  const one = ek(11);
  p = f32x4.add(one, f32x4.add(r, f32x4.mul(f32x4.mul(r, r), p)));
  const ni = i32x4.sub(t, ek(3)); // n in [-150, 128]; scale by 2^n1 · 2^n2 so both factors stay normal
  const n1 = i32x4.shr_s(ni, 1);
  const n2 = i32x4.sub(ni, n1);
  const bias = i32x4.shr_u(one, 23); // 127
  const s1 = i32x4.shl(i32x4.add(n1, bias), 23);
  const s2 = i32x4.shl(i32x4.add(n2, bias), 23);
  return f32x4.mul(f32x4.mul(p, s1), s2);
}

/**
 * e^{hi + lo} with hi's range reduction exact (hi − n·C1 exact when hi is a multiple of 2^-23, e.g. the square of a
 * 12-bit value) and the small lo added to the reduced argument: float32 accuracy for a sum float32 cannot hold
 * (erfc's e^{-u²}) in one exp. hi is clamped as vexp clamps x.
 */
// @ts-ignore: decorator
@inline function vexpSum(hi: v128, lo: v128): v128 {
  const h = f32x4.pmin(f32x4.pmax(hi, ek(0)), ek(1));
  const t = f32x4.add(f32x4.mul(f32x4.add(h, lo), ek(2)), ek(3));
  const n = f32x4.sub(t, ek(3));
  let r = f32x4.sub(h, f32x4.mul(n, ek(4)));
  r = f32x4.add(f32x4.sub(r, f32x4.mul(n, ek(5))), lo);
  return expScaled(r, t);
}

/** Natural log; log(0) = -inf, log(x<0) = NaN, log(inf) = inf, subnormals handled. */
// @ts-ignore: decorator
@inline export function vlog(x: v128): v128 {
  const tiny = f32x4.lt(x, sp(1.17549435e-38));
  const xs = v128.bitselect(f32x4.mul(x, sp(8388608.0)), x, tiny); // scale subnormals by 2^23
  const bits = xs;
  let e = i32x4.sub(i32x4.shr_u(bits, 23), i32x4.splat(127));
  e = i32x4.sub(e, v128.and(tiny, i32x4.splat(23)));
  let m = v128.or(v128.and(bits, i32x4.splat(0x007fffff)), i32x4.splat(0x3f800000)); // [1, 2)
  const big = f32x4.gt(m, sp(1.41421356));
  m = v128.bitselect(f32x4.mul(m, sp(0.5)), m, big);
  e = i32x4.sub(e, big); // mask is -1 where big
  const ef = f32x4.convert_i32x4_s(e);
  const f = f32x4.sub(m, sp(1.0));
  const z = f32x4.mul(f, f);
  let p = madd(sp(0.10604540), f, sp(-0.013425732));
  p = madd(p, f, sp(0.054329567));
  p = madd(p, f, sp(-0.13563535));
  p = madd(p, f, sp(0.15052205));
  p = madd(p, f, sp(-0.16638027));
  p = madd(p, f, sp(0.19973584));
  p = madd(p, f, sp(-0.25000101));
  p = madd(p, f, sp(0.33333468));
  let y = f32x4.mul(f32x4.mul(z, f), p);
  y = madd(ef, sp(-2.12194440e-4), y);
  y = f32x4.sub(y, f32x4.mul(z, sp(0.5)));
  let r = f32x4.add(f, y);
  r = madd(ef, sp(0.693359375), r);
  r = v128.bitselect(sp(-Infinity), r, f32x4.eq(x, sp(0)));
  r = v128.bitselect(sp(Infinity), r, f32x4.eq(x, sp(Infinity)));
  r = v128.bitselect(sp(NaN), r, f32x4.lt(x, sp(0)));
  return v128.bitselect(x, r, f32x4.ne(x, x));
}

/** tanh: odd polynomial below 0.625, else 1 - 2/(e^{2|x|} + 1) with the sign of x. */
// @ts-ignore: decorator
@inline export function vtanh(x: v128): v128 {
  const a = f32x4.abs(x);
  const z = f32x4.mul(x, x);
  let p = madd(sp(-0.0061037433), z, sp(0.021003356));
  p = madd(p, z, sp(-0.053852718));
  p = madd(p, z, sp(0.13332789));
  p = madd(p, z, sp(-0.33333328));
  const small = madd(f32x4.mul(z, x), p, x);
  const e = vexp(f32x4.add(a, a));
  const t = f32x4.sub(sp(1.0), f32x4.div(sp(2.0), f32x4.add(e, sp(1.0))));
  const large = v128.or(t, v128.and(x, i32x4.splat(0x80000000)));
  return v128.bitselect(small, large, f32x4.lt(a, sp(0.625)));
}

/** Logistic sigmoid 1/(1+e^{-x}), computed as e^x/(1+e^x) for x < 0 so tiny results keep precision. */
// @ts-ignore: decorator
@inline export function vsigmoid(x: v128): v128 {
  const e = vexp(f32x4.neg(f32x4.abs(x)));
  const s = f32x4.div(sp(1.0), f32x4.add(sp(1.0), e));
  return v128.bitselect(f32x4.mul(e, s), s, f32x4.lt(x, sp(0)));
}

// Splatted coefficients of erfcTail (0–9) and erfSmall (10–15), loaded from memory like EXP_K.
const ERF_K = memory.data<f32>([
  2.0, 2.0, 2.0, 2.0, -0.17889996, -0.17889996, -0.17889996, -0.17889996,
  0.44644305, 0.44644305, 0.44644305, 0.44644305, -0.18087040, -0.18087040, -0.18087040, -0.18087040,
  -0.26729777, -0.26729777, -0.26729777, -0.26729777, 0.017384801, 0.017384801, 0.017384801, 0.017384801,
  0.046969935, 0.046969935, 0.046969935, 0.046969935, 0.38182834, 0.38182834, 0.38182834, 0.38182834,
  0.99933356, 0.99933356, 0.99933356, 0.99933356, -1.2654856, -1.2654856, -1.2654856, -1.2654856,
  -0.00056314189, -0.00056314189, -0.00056314189, -0.00056314189, 0.0049175508, 0.0049175508, 0.0049175508, 0.0049175508,
  -0.026711311, -0.026711311, -0.026711311, -0.026711311, 0.1128018, 0.1128018, 0.1128018, 0.1128018,
  -0.37612325, -0.37612325, -0.37612325, -0.37612325, 1.1283791, 1.1283791, 1.1283791, 1.1283791,
], 16);

// @ts-ignore: decorator
@inline function rk(i: i32): v128 {
  return v128.load(ERF_K + (<usize>i << 4));
}

/** erfc(u) for 0.7 ≤ u ≤ 12 given u² = sqHi + sqLo (sqHi exact): t·e^{Q(t) − u²}, t = 2/(2+u), in one exp. */
// @ts-ignore: decorator
@inline function erfcTail(u: v128, sqHi: v128, sqLo: v128): v128 {
  const t = f32x4.div(rk(0), f32x4.add(rk(0), u));
  let q = madd(rk(1), t, rk(2));
  q = madd(q, t, rk(3));
  q = madd(q, t, rk(4));
  q = madd(q, t, rk(5));
  q = madd(q, t, rk(6));
  q = madd(q, t, rk(7));
  q = madd(q, t, rk(8));
  q = madd(q, t, rk(9));
  return f32x4.mul(t, vexpSum(f32x4.neg(sqHi), f32x4.sub(q, sqLo)));
}

/** erf(x) for |x| < 1: x·P(x²). */
// @ts-ignore: decorator
@inline function erfSmall(x: v128): v128 {
  const z = f32x4.mul(x, x);
  let p = madd(rk(10), z, rk(11));
  p = madd(p, z, rk(12));
  p = madd(p, z, rk(13));
  p = madd(p, z, rk(14));
  p = madd(p, z, rk(15));
  return f32x4.mul(x, p);
}

/** Keeps the top 12 significant bits of a positive float, so hi·hi is exact. */
// @ts-ignore: decorator
@inline function hiPart(a: v128): v128 {
  return v128.and(a, i32x4.splat(0xfffff000));
}

/** Error function; erf(±inf) = ±1, NaN stays NaN. */
// @ts-ignore: decorator
@inline export function verf(x: v128): v128 {
  const a = f32x4.min(f32x4.abs(x), sp(12.0));
  const hi = hiPart(a);
  const tail = erfcTail(a, f32x4.mul(hi, hi), f32x4.mul(f32x4.sub(a, hi), f32x4.add(a, hi)));
  const big = v128.or(f32x4.sub(sp(1.0), tail), v128.and(x, i32x4.splat(0x80000000)));
  return v128.bitselect(erfSmall(x), big, f32x4.lt(a, sp(1.0)));
}

/** u² = x²/2 as hi + lo (hi exact, from the top 12 bits of b = |x| clamped to 17): lane-exact tails of vgelu and vgeluSlope. */
// @ts-ignore: decorator
@inline function halfSquareHi(b: v128): v128 {
  const hi = hiPart(b);
  return f32x4.mul(f32x4.mul(hi, hi), sp(0.5));
}

// @ts-ignore: decorator
@inline function halfSquareLo(b: v128): v128 {
  const hi = hiPart(b);
  return f32x4.mul(f32x4.mul(f32x4.sub(b, hi), f32x4.add(b, hi)), sp(0.5));
}

// Splatted constants of GELU, loaded from memory like EXP_K: erfc(u) = t·R(t)·e^{−u²} for u = b/√2 ≥ 0, t = 2√2/(2√2 + b)
// (Numerical Recipes' erfcc form, t = 2/(2 + u)), with R a degree-8 polynomial in t fitted for this file on b in [0, 17]
// (coefficients highest first at 0–8; relative error 4.5e-8 in float64, 2.5e-7 evaluated in float32: scripts/fit-gelu.py),
// then 9: 2√2, 10: 0.5, 11: 1, 12: 1/√(2π), 13: −17, 14: 17, 15: 0.
const GELU_K = memory.data<f32>([
  -0.05937214940786362, -0.05937214940786362, -0.05937214940786362, -0.05937214940786362,
  0.2860502600669861, 0.2860502600669861, 0.2860502600669861, 0.2860502600669861,
  -0.4902459383010864, -0.4902459383010864, -0.4902459383010864, -0.4902459383010864,
  0.28154125809669495, 0.28154125809669495, 0.28154125809669495, 0.28154125809669495,
  -0.029010843485593796, -0.029010843485593796, -0.029010843485593796, -0.029010843485593796,
  0.2036922425031662, 0.2036922425031662, 0.2036922425031662, 0.2036922425031662,
  0.24285076558589935, 0.24285076558589935, 0.24285076558589935, 0.24285076558589935,
  0.2824099063873291, 0.2824099063873291, 0.2824099063873291, 0.2824099063873291,
  0.28208446502685547, 0.28208446502685547, 0.28208446502685547, 0.28208446502685547,
  2.8284271247461903, 2.8284271247461903, 2.8284271247461903, 2.8284271247461903,
  0.5, 0.5, 0.5, 0.5,
  1.0, 1.0, 1.0, 1.0,
  0.3989422804014327, 0.3989422804014327, 0.3989422804014327, 0.3989422804014327,
  -17.0, -17.0, -17.0, -17.0,
  17.0, 17.0, 17.0, 17.0,
  0.0, 0.0, 0.0, 0.0,
], 16);

// @ts-ignore: decorator
@inline function gk(i: i32): v128 {
  return v128.load(GELU_K + (<usize>i << 4));
}

/**
 * Φ(x) for x clamped to ±17, given b = |x| and e = e^{−x²/2}: h = erfc(b/√2)/2 = t·R(t)·e/2 is Φ(−b), so Φ(x) is h below
 * 0 and 1 − h from 0 up. One division and one polynomial, no branch; the same e gives GELU's slope its density.
 */
// @ts-ignore: decorator
@inline function normalCdf(x: v128, b: v128, e: v128): v128 {
  const t = f32x4.div(gk(9), f32x4.add(gk(9), b));
  let r = madd(gk(0), t, gk(1));
  r = madd(r, t, gk(2));
  r = madd(r, t, gk(3));
  r = madd(r, t, gk(4));
  r = madd(r, t, gk(5));
  r = madd(r, t, gk(6));
  r = madd(r, t, gk(7));
  r = madd(r, t, gk(8));
  const h = f32x4.mul(f32x4.mul(t, r), f32x4.mul(e, gk(10)));
  return v128.bitselect(h, f32x4.sub(gk(11), h), f32x4.lt(x, gk(15)));
}

/** e^{−b²/2} for 0 ≤ b ≤ 17, its square split so the exponent is exact (hi) plus a small correction (lo). */
// @ts-ignore: decorator
@inline function gaussian(b: v128): v128 {
  return vexpSum(f32x4.neg(halfSquareHi(b)), f32x4.neg(halfSquareLo(b)));
}

/** Exact GELU x·Φ(x) (not the tanh approximation), relative error ≲ 5e-7; gelu(−∞) = −0, NaN stays NaN. */
// @ts-ignore: decorator
@inline export function vgelu(x: v128): v128 {
  // |x| clamped to 17 (pmin keeps NaN); x below −17 gives −0 as x·Φ(x) rounds it (and −∞ no NaN); pmax keeps NaN.
  const b = f32x4.pmin(f32x4.abs(x), gk(14));
  return f32x4.mul(f32x4.pmax(x, gk(13)), normalCdf(x, b, gaussian(b)));
}

/** GELU's slope Φ(x) + x·φ(x), φ(x) = e^{−x²/2}/√(2π): the fused bias + GELU gradient, on the same e^{−x²/2} as Φ. */
// @ts-ignore: decorator
@inline export function vgeluSlope(x: v128): v128 {
  const xc = f32x4.pmin(f32x4.pmax(x, gk(13)), gk(14)); // x·φ(x) is 0 beyond (±∞ gives 0 and 1, NaN stays NaN)
  const b = f32x4.abs(xc);
  const e = gaussian(b);
  return madd(xc, f32x4.mul(e, gk(12)), normalCdf(xc, b, e));
}

/** GELU and its slope of the same x at once (bits equal to vgelu and vgeluSlope): the slope, y at `py`. */
// @ts-ignore: decorator
@inline export function vgeluAndSlope(x: v128, py: usize): v128 {
  const xc = f32x4.pmin(f32x4.pmax(x, gk(13)), gk(14));
  const b = f32x4.abs(xc); // = vgelu's b: |x| clamped to 17, NaN kept
  const e = gaussian(b);
  const cdf = normalCdf(xc, b, e); // the sign of xc is x's
  v128.store(py, f32x4.mul(f32x4.pmax(x, gk(13)), cdf));
  return madd(xc, f32x4.mul(e, gk(12)), cdf);
}

/**
 * max(v, 0) as f32x4.max gives it for every non-NaN lane (+0 for ±0; NaN stays NaN), in two instructions: pmax
 * (v < 0 ? 0 : v) is one SSE maxps where max is a sequence of about eight, and adding +0 turns −0 into +0.
 */
// @ts-ignore: decorator
@inline export function reluVec(v: v128): v128 {
  return f32x4.add(f32x4.pmax(v, f32x4.splat(0)), f32x4.splat(0));
}

/** act(v) for a BiasAct code (linear, relu, sigmoid, tanh, gelu): the activation of ew_bias_act and the convolutions' fused epilogues. */
// @ts-ignore: decorator
@inline export function biasActVec(act: i32, v: v128): v128 {
  if (act == BiasAct.linear) return v;
  if (act == BiasAct.relu) return reluVec(v);
  if (act == BiasAct.sigmoid) return vsigmoid(v);
  if (act == BiasAct.tanh) return vtanh(v);
  return vgelu(v);
}

/** g·act'(z) from the activation's output y = act(z) (BiasAct code): biasAct's dz, in the composed ops' order and roundings. */
// @ts-ignore: decorator
@inline export function actGradVec(act: i32, g: v128, y: v128): v128 {
  if (act == BiasAct.relu) return v128.and(g, f32x4.gt(y, f32x4.splat(0)));
  if (act == BiasAct.sigmoid) return f32x4.mul(g, f32x4.mul(y, f32x4.sub(f32x4.splat(1), y)));
  if (act == BiasAct.tanh) return f32x4.mul(g, f32x4.sub(f32x4.splat(1), f32x4.mul(y, y)));
  if (act == BiasAct.gelu) return f32x4.mul(g, y); // y holds GELU's slope (ew_bias_gelu_slope wrote it)
  return g;
}

/** Stores the 4×4 transpose of rows r0..r3: column i of them (lane i of each) at p + i·step. */
// @ts-ignore: decorator
@inline export function storeTransposed4(p: usize, r0: v128, r1: v128, r2: v128, r3: v128, step: usize): void {
  const t0 = f32x4.shuffle(r0, r1, 0, 4, 1, 5), t1 = f32x4.shuffle(r0, r1, 2, 6, 3, 7);
  const t2 = f32x4.shuffle(r2, r3, 0, 4, 1, 5), t3 = f32x4.shuffle(r2, r3, 2, 6, 3, 7);
  v128.store(p, f32x4.shuffle(t0, t2, 0, 1, 4, 5));
  v128.store(p + step, f32x4.shuffle(t0, t2, 2, 3, 6, 7));
  v128.store(p + 2 * step, f32x4.shuffle(t1, t3, 0, 1, 4, 5));
  v128.store(p + 3 * step, f32x4.shuffle(t1, t3, 2, 3, 6, 7));
}

/** Activation `act` (BiasAct) on four lanes (the recurrent kernels' gate activations). */
// @ts-ignore: decorator
@inline export function actVec(act: i32, v: v128): v128 {
  return biasActVec(act, v);
}

/** act'(x) on four lanes from y = act(x): linear 1, relu [y > 0], sigmoid y(1 − y), tanh 1 − y². */
// @ts-ignore: decorator
@inline export function actSlopeVec(act: i32, y: v128): v128 {
  if (act == BiasAct.linear) return sp(1);
  if (act == BiasAct.relu) return v128.and(f32x4.gt(y, sp(0)), sp(1));
  if (act == BiasAct.sigmoid) return f32x4.mul(y, f32x4.sub(sp(1), y));
  return f32x4.sub(sp(1), f32x4.mul(y, y));
}
