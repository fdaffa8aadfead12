// Reference fused attention (Kernels.attention, attentionGrad): plain loops in float64 per (sample, head).
import type { AttentionOperand, AttentionParams } from '../backend.js';

/** Element index of (n, t, h, d) of an operand with head width `width`. */
const at = (l: AttentionOperand, width: number, n: number, t: number, h: number, d: number): number => l.offset + n * l.sample + t * l.step + h * width + d;

/** Live value steps of query step i: j < span(i). */
const span = (a: AttentionParams, i: number): number => (a.causal ? Math.min(i + 1, a.tv) : a.tv);

export function attention(q: Float32Array, k: Float32Array, v: Float32Array, o: Float32Array, p: Float32Array, a: AttentionParams): void {
  const { n: batch, heads, tq, tv, dk, dv, scale } = a;
  const [lq, lk, lv] = a.layout;
  const z = new Float64Array(tv);
  for (let n = 0; n < batch; n++) {
    for (let h = 0; h < heads; h++) {
      const pb = (n * heads + h) * tq * tv;
      for (let i = 0; i < tq; i++) {
        const live = span(a, i);
        let max = -Infinity;
        for (let j = 0; j < live; j++) {
          let s = 0;
          for (let d = 0; d < dk; d++) s += q[at(lq, dk, n, i, h, d)] * k[at(lk, dk, n, j, h, d)];
          z[j] = scale * Math.fround(s);
          max = Math.max(max, z[j]);
        }
        let sum = 0;
        for (let j = 0; j < live; j++) sum += Math.exp(z[j] - max);
        for (let j = 0; j < tv; j++) p[pb + i * tv + j] = j < live && max !== -Infinity ? Math.exp(z[j] - max) / sum : 0;
        for (let d = 0; d < dv; d++) {
          let s = 0;
          for (let j = 0; j < live; j++) s += p[pb + i * tv + j] * v[at(lv, dv, n, j, h, d)];
          o[((n * tq + i) * heads + h) * dv + d] = s;
        }
      }
    }
  }
}

export function attentionGrad(go: Float32Array, q: Float32Array, k: Float32Array, v: Float32Array, p: Float32Array,
  dq: Float32Array, dk: Float32Array, dv: Float32Array, a: AttentionParams): void {
  const { n: batch, heads, tq, tv, dk: kd, dv: vd, scale } = a;
  const [lq, lk, lv] = a.layout;
  const ds = new Float64Array(tq * tv);
  const gq = new Float64Array(tq * kd), gk = new Float64Array(tv * kd), gv = new Float64Array(tv * vd);
  for (let n = 0; n < batch; n++) {
    for (let h = 0; h < heads; h++) {
      const pb = (n * heads + h) * tq * tv;
      const gout = (i: number, d: number): number => go[((n * tq + i) * heads + h) * vd + d];
      ds.fill(0);
      gq.fill(0);
      gk.fill(0);
      gv.fill(0);
      for (let i = 0; i < tq; i++) {
        const live = span(a, i);
        const dp = new Float64Array(live);
        let c = 0;
        for (let j = 0; j < live; j++) {
          let s = 0;
          for (let d = 0; d < vd; d++) s += gout(i, d) * v[at(lv, vd, n, j, h, d)];
          dp[j] = Math.fround(s);
          c += dp[j] * p[pb + i * tv + j];
        }
        for (let j = 0; j < live; j++) ds[i * tv + j] = Math.fround(scale * p[pb + i * tv + j] * (dp[j] - c));
      }
      for (let i = 0; i < tq; i++) {
        for (let j = 0; j < tv; j++) {
          const s = ds[i * tv + j], pij = p[pb + i * tv + j];
          if (s !== 0) {
            for (let d = 0; d < kd; d++) {
              gq[i * kd + d] += s * k[at(lk, kd, n, j, h, d)];
              gk[j * kd + d] += s * q[at(lq, kd, n, i, h, d)];
            }
          }
          if (pij !== 0) for (let d = 0; d < vd; d++) gv[j * vd + d] += pij * gout(i, d);
        }
      }
      for (let i = 0; i < tq; i++) for (let d = 0; d < kd; d++) dq[at(lq, kd, n, i, h, d)] = gq[i * kd + d];
      for (let j = 0; j < tv; j++) {
        for (let d = 0; d < kd; d++) dk[at(lk, kd, n, j, h, d)] = gk[j * kd + d];
        for (let d = 0; d < vd; d++) dv[at(lv, vd, n, j, h, d)] = gv[j * vd + d];
      }
    }
  }
}
