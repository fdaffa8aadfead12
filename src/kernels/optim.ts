// Fused optimizer updates: one pass over a parameter, its gradient and its slots, updated in place.
// Legend: n = number of elements; p = parameter, g = gradient, m / v = Adam's first / second moments.

/**
 * Adam (and AdamW's decoupled decay) in place over [begin, end) of n elements:
 * m = b1·m + (1−b1)·g;  v = b2·v + (1−b2)·g²;  p = p·keep − (m / (√v·invSqrtBc2 + eps))·stepSize.
 * Each product and sum is rounded to float32 in this order (the reference backend does the same).
 */
export function ew_adam(
  p: usize, g: usize, m: usize, v: usize,
  b1: f32, b2: f32, stepSize: f32, invSqrtBc2: f32, eps: f32, keep: f32,
  n: i32, begin: i32, end: i32, scratch: usize,
): void {
  const vb1 = f32x4.splat(b1);
  const vc1 = f32x4.splat(<f32>1 - b1);
  const vb2 = f32x4.splat(b2);
  const vc2 = f32x4.splat(<f32>1 - b2);
  const vs = f32x4.splat(stepSize);
  const vi = f32x4.splat(invSqrtBc2);
  const ve = f32x4.splat(eps);
  const vk = f32x4.splat(keep);
  let i = begin;
  for (; i + 4 <= end; i += 4) {
    const o = <usize>i << 2;
    const gi = v128.load(g + o);
    const mi = f32x4.add(f32x4.mul(v128.load(m + o), vb1), f32x4.mul(gi, vc1));
    const vv = f32x4.add(f32x4.mul(v128.load(v + o), vb2), f32x4.mul(f32x4.mul(gi, gi), vc2));
    v128.store(m + o, mi);
    v128.store(v + o, vv);
    const denom = f32x4.add(f32x4.mul(f32x4.sqrt(vv), vi), ve);
    const pk = keep == 1 ? v128.load(p + o) : f32x4.mul(v128.load(p + o), vk);
    v128.store(p + o, f32x4.sub(pk, f32x4.mul(f32x4.div(mi, denom), vs)));
  }
  for (; i < end; i++) {
    const o = <usize>i << 2;
    const gi = load<f32>(g + o);
    const mi = load<f32>(m + o) * b1 + gi * (<f32>1 - b1);
    const vv = load<f32>(v + o) * b2 + (gi * gi) * (<f32>1 - b2);
    store<f32>(m + o, mi);
    store<f32>(v + o, vv);
    const denom = Mathf.sqrt(vv) * invSqrtBc2 + eps;
    const pk = keep == 1 ? load<f32>(p + o) : load<f32>(p + o) * keep;
    store<f32>(p + o, pk - (mi / denom) * stepSize);
  }
}
