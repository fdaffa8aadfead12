// Gate activations of the fused recurrences: tanh as one rational function (no exp), sigmoid through it, ~2× faster.
//
// The recurrent cells apply 3 to 5 activations per unit and step, on the critical path of the sequence. These trade the
// last ulps of vecmath's vtanh / vsigmoid for speed: tanh(x) = x·P(x²)/Q(x²) with |x| clamped to 9 (P, Q of degree 4,
// fitted by scripts/fit-gate-activations.py), within 6 ulp of tanh; sigmoid(x) = (1 + tanh(x/2))/2, within 2e-7 of it,
// and vsigmoid below −5, where that form loses the small values' relative precision. Results stay in [−1, 1] and
// [0, 1]. Lane-wise and without fused multiply-adds, so a value gives the same bits in any lane and on every machine.
import { BiasAct } from '../../backend/opcodes';
import { vsigmoid } from './vecmath';

// Splatted constants read from memory (V8 rebuilds v128 constants inside loops): ±9, P's and Q's coefficients from
// the highest power down, ±1, 0.5, −5.
const K = memory.data<f32>([
  -9.0, -9.0, -9.0, -9.0, 9.0, 9.0, 9.0, 9.0,
  1.33566491e-08, 1.33566491e-08, 1.33566491e-08, 1.33566491e-08,
  2.06105942e-05, 2.06105942e-05, 2.06105942e-05, 2.06105942e-05,
  0.00349568343, 0.00349568343, 0.00349568343, 0.00349568343,
  0.133811072, 0.133811072, 0.133811072, 0.133811072,
  7.77739501e-07, 7.77739501e-07, 7.77739501e-07, 7.77739501e-07,
  0.000328578841, 0.000328578841, 0.000328578841, 0.000328578841,
  0.0258773491, 0.0258773491, 0.0258773491, 0.0258773491,
  0.467144221, 0.467144221, 0.467144221, 0.467144221,
  1.0, 1.0, 1.0, 1.0, -1.0, -1.0, -1.0, -1.0, 0.5, 0.5, 0.5, 0.5,
  -5.0, -5.0, -5.0, -5.0,
], 16);

// @ts-ignore: decorator
@inline function k(i: i32): v128 {
  return v128.load(K + (<usize>i << 4));
}

// @ts-ignore: decorator
@inline function madd(a: v128, b: v128, c: v128): v128 {
  return f32x4.add(f32x4.mul(a, b), c);
}

/** tanh on four lanes (rational, see the header); NaN stays NaN. */
// @ts-ignore: decorator
@inline export function gateTanh(x: v128): v128 {
  x = f32x4.pmin(f32x4.pmax(x, k(0)), k(1));
  const z = f32x4.mul(x, x);
  const one = k(10);
  let p = madd(k(2), z, k(3));
  let q = madd(k(6), z, k(7));
  p = madd(p, z, k(4));
  q = madd(q, z, k(8));
  p = madd(p, z, k(5));
  q = madd(q, z, k(9));
  p = madd(p, z, one);
  q = madd(q, z, one);
  return f32x4.pmin(f32x4.pmax(f32x4.div(f32x4.mul(x, p), q), k(11)), one);
}

/**
 * Logistic sigmoid on four lanes: (1 + tanh(x/2))/2; below −5, where that sum cancels (5e-5 relative error at −8,
 * 1.5e-3 at −10, 0 from −17), vecmath's e^x/(1 + e^x), accurate to a few ulp. The slow form runs only for vectors
 * holding such a lane, and each lane's value depends on that lane alone.
 */
// @ts-ignore: decorator
@inline export function gateSigmoid(x: v128): v128 {
  const half = k(12);
  const fast = madd(gateTanh(f32x4.mul(x, half)), half, half);
  const low = f32x4.lt(x, k(13));
  if (!v128.any_true(low)) return fast;
  return v128.bitselect(vsigmoid(x), fast, low);
}

/** Activation `act` (BiasAct) on four lanes, with the gate forms of sigmoid and tanh. */
// @ts-ignore: decorator
@inline export function gateAct(act: i32, v: v128): v128 {
  if (act == BiasAct.linear) return v;
  if (act == BiasAct.relu) return f32x4.max(v, f32x4.splat(0));
  if (act == BiasAct.sigmoid) return gateSigmoid(v);
  return gateTanh(v);
}
