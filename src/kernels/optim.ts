// Fused optimizer updates: one pass over a parameter, its gradient and its slots, updated in place.
// Legend: n = number of elements; p = parameter, g = gradient, m / v = Adam's first / second moments.

/**
 * a·b + c on four float32 lanes through float64: the product is exact, the sum is rounded to float64 and then
 * to float32. This is a fused multiply-add except where that double rounding meets a tie (probability ~2⁻²⁹).
 */
// @ts-ignore: decorator
@inline function madd64(a: v128, b: v128, c: v128): v128 {
  const lo = f64x2.add(f64x2.mul(f64x2.promote_low_f32x4(a), f64x2.promote_low_f32x4(b)), f64x2.promote_low_f32x4(c));
  const ah = f32x4.shuffle(a, a, 2, 3, 0, 1), bh = f32x4.shuffle(b, b, 2, 3, 0, 1), ch = f32x4.shuffle(c, c, 2, 3, 0, 1);
  const hi = f64x2.add(f64x2.mul(f64x2.promote_low_f32x4(ah), f64x2.promote_low_f32x4(bh)), f64x2.promote_low_f32x4(ch));
  return f32x4.shuffle(f32x4.demote_f64x2_zero(lo), f32x4.demote_f64x2_zero(hi), 0, 1, 4, 5);
}

/**
 * Adam (and AdamW's decoupled decay) in place over [begin, end) of n elements, in the order of PyTorch's
 * CPU kernels (`mul_`, `add_(alpha)` and `addcmul_` as fused multiply-adds, `addcdiv_`), where ⊕ is {@link madd64}:
 *   m = g·c1 ⊕ (m·b1);  v = (c2·g)·g ⊕ (v·b2);  p = p·keep − (stepSize·m) / (√v / sqrtBc2 + eps).
 * c1 = 1−b1, c2 = 1−b2 and the bias corrections come in from float64 (the caller), rounded once to float32;
 * every other product and sum is rounded to float32 (the reference backend does the same).
 */
export function ew_adam(
  p: usize, g: usize, m: usize, v: usize,
  b1: f32, b2: f32, c1: f32, c2: f32, stepSize: f32, sqrtBc2: f32, eps: f32, keep: f32,
  n: i32, begin: i32, end: i32, scratch: usize,
): void {
  const vb1 = f32x4.splat(b1);
  const vc1 = f32x4.splat(c1);
  const vb2 = f32x4.splat(b2);
  const vc2 = f32x4.splat(c2);
  const vs = f32x4.splat(stepSize);
  const vq = f32x4.splat(sqrtBc2);
  const ve = f32x4.splat(eps);
  const vk = f32x4.splat(keep);
  let i = begin;
  for (; i + 4 <= end; i += 4) {
    const o = <usize>i << 2;
    const gi = v128.load(g + o);
    const mi = madd64(gi, vc1, f32x4.mul(v128.load(m + o), vb1));
    const vv = madd64(f32x4.mul(vc2, gi), gi, f32x4.mul(v128.load(v + o), vb2));
    v128.store(m + o, mi);
    v128.store(v + o, vv);
    const denom = f32x4.add(f32x4.div(f32x4.sqrt(vv), vq), ve);
    const pk = keep == 1 ? v128.load(p + o) : f32x4.mul(v128.load(p + o), vk);
    v128.store(p + o, f32x4.sub(pk, f32x4.div(f32x4.mul(vs, mi), denom)));
  }
  for (; i < end; i++) {
    const o = <usize>i << 2;
    const gi = load<f32>(g + o);
    const mi = <f32>(<f64>gi * <f64>c1 + <f64>(load<f32>(m + o) * b1));
    const vv = <f32>(<f64>(c2 * gi) * <f64>gi + <f64>(load<f32>(v + o) * b2));
    store<f32>(m + o, mi);
    store<f32>(v + o, vv);
    const denom = Mathf.sqrt(vv) / sqrtBc2 + eps;
    const pk = keep == 1 ? load<f32>(p + o) : load<f32>(p + o) * keep;
    store<f32>(p + o, pk - (stepSize * mi) / denom);
  }
}
