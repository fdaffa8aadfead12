// The peak probe of bench:roofline (bench/fma-peak.ts): its hand-assembled module validates and computes what it claims,
// twelve chains a ← a·0.999 + 0.001 summed (checked bit for bit against the same float32 arithmetic in JavaScript). No timing here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hasRelaxedSimd, peakModule } from '../../bench/fma-peak.js';

/** The module's result emulated in float32: 12 chains from 1 + i/64, n steps a ← a·m + c (rounded once when fused, else twice), summed in order. */
function expected(n: number, fused: boolean): number {
  const f = Math.fround, m = f(0.999), c = f(0.001);
  let sum = 0;
  for (let i = 1; i <= 12; i++) {
    let a = f(1 + i / 64);
    for (let k = 0; k < n; k++) a = fused ? f(a * m + c) : f(f(a * m) + c);
    sum = i === 1 ? a : f(sum + a);
  }
  return sum;
}

test('peakModule: the plain-SIMD and (where the engine has it) relaxed-SIMD modules validate and compute twelve multiply-add chains', () => {
  const variants = hasRelaxedSimd() ? [false, true] : [false];
  for (const fused of variants) {
    const bytes = peakModule(fused);
    assert.ok(WebAssembly.validate(bytes), `fused=${fused}: module does not validate`);
    const peak = new WebAssembly.Instance(new WebAssembly.Module(bytes)).exports.peak as (n: number) => number;
    for (const n of [0, 1, 5, 1000]) {
      // relaxed_madd may round once or twice (the engine's choice): either emulation, bit for bit.
      const got = peak(n), want = fused ? [expected(n, true), expected(n, false)] : [expected(n, false)];
      assert.ok(want.includes(got), `fused=${fused} n=${n}: ${got}, expected ${want.join(' or ')}`);
    }
  }
});
