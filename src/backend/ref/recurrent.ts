// Reference recurrences (SimpleRNN, LSTM, GRU) forward and backward through time as plain loops in float64.
//
// Legend: N batch, T time steps, U units, G gates (1, 4, 3), S saved values per unit and step (1, 6, 4); step s reads
// input time τ(s). Sums and cell math are float64; values are rounded to float32 where they are stored (states between
// steps, saved gates, outputs), so the backward pass reads exactly what the forward stored.

import { type OutputActivation, RNN_GATES, RNN_SAVED, type RnnParams, rnnTimeOf as timeOf } from '../backend.js';
import { biasActFn } from './math.js';

/** The recurrence buffers as float32 arrays (see RnnForwardBufs / RnnBackwardBufs in backend.ts). */
export interface RnnForwardArrays {
  p: Float32Array; u: Float32Array; h0: Float32Array; c0?: Float32Array; bRec?: Float32Array; mask?: Float32Array; ids?: Int32Array;
  y: Float32Array; h: Float32Array; c?: Float32Array; hprev: Float32Array; save: Float32Array;
}
export interface RnnBackwardArrays {
  u: Float32Array; bRec?: Float32Array; mask?: Float32Array; c0?: Float32Array; hprev: Float32Array; save: Float32Array;
  gy: Float32Array; gh: Float32Array; gc?: Float32Array; dp: Float32Array; dr?: Float32Array; dh0: Float32Array; dc0?: Float32Array;
  du?: Float32Array;
}

/** act'(x) from y = act(x): linear 1, relu [y > 0], sigmoid y(1 − y), tanh 1 − y². */
export const activationSlope: { readonly [K in OutputActivation]: (y: number) => number } = {
  linear: () => 1,
  relu: (y) => (y > 0 ? 1 : 0),
  sigmoid: (y) => y * (1 - y),
  tanh: (y) => 1 - y * y,
};

/** The dimension letters of the legend for a recurrence. */
function dims(q: RnnParams): { N: number; T: number; U: number; S: number; GU: number } {
  return { N: q.n, T: q.t, U: q.units, S: RNN_SAVED[q.cell], GU: RNN_GATES[q.cell] * q.units };
}

/** The whole forward recurrence (see Kernels.rnnForward). */
export function rnnForward(b: RnnForwardArrays, q: RnnParams): void {
  const { N, T, U, S, GU } = dims(q);
  const { cell } = q;
  const act = biasActFn[q.act];
  const ra = biasActFn[q.recAct];
  const h = b.h0.slice(0, N * U);
  const c = cell === 'lstm' ? b.c0!.slice(0, N * U) : undefined;
  const yPrev = new Float32Array(N * U);
  const r = new Float64Array(GU);
  const hn = new Float64Array(U);
  for (let s = 0; s < T; s++) {
    const tau = timeOf(q, s);
    for (let i = 0; i < N; i++) {
      const m = b.mask ? b.mask[i * T + tau] !== 0 : true;
      const row = i * T + tau;
      const hRow = h.subarray(i * U, (i + 1) * U);
      b.hprev.set(hRow, row * U);
      for (let k = 0; k < GU; k++) {
        let acc = b.bRec ? b.bRec[k] : 0;
        for (let j = 0; j < U; j++) acc += hRow[j] * b.u[j * GU + k];
        r[k] = acc;
      }
      const pRow = b.ids ? b.ids[row] : row;
      const p = b.p.subarray(pRow * GU, (pRow + 1) * GU);
      const sv = b.save.subarray(row * S * U, (row + 1) * S * U);
      for (let j = 0; j < U; j++) {
        if (cell === 'simple') {
          hn[j] = act(p[j] + r[j]);
          sv[j] = hn[j];
        } else if (cell === 'lstm') {
          const ig = ra(p[j] + r[j]);
          const fg = ra(p[U + j] + r[U + j]);
          const gg = act(p[2 * U + j] + r[2 * U + j]);
          const og = ra(p[3 * U + j] + r[3 * U + j]);
          const cn = fg * c![i * U + j] + ig * gg;
          const tc = act(cn);
          hn[j] = og * tc;
          sv[j] = ig;
          sv[U + j] = fg;
          sv[2 * U + j] = gg;
          sv[3 * U + j] = og;
          sv[4 * U + j] = m ? cn : c![i * U + j];
          sv[5 * U + j] = tc;
        } else {
          const zg = ra(p[j] + r[j]);
          const rg = ra(p[U + j] + r[U + j]);
          const ng = act(p[2 * U + j] + rg * r[2 * U + j]);
          hn[j] = zg * hRow[j] + (1 - zg) * ng;
          sv[j] = zg;
          sv[U + j] = rg;
          sv[2 * U + j] = ng;
          sv[3 * U + j] = r[2 * U + j];
        }
      }
      for (let j = 0; j < U; j++) {
        const o = (i * T + s) * U + j;
        b.y[o] = m ? hn[j] : q.zeroOutput ? 0 : yPrev[i * U + j];
        yPrev[i * U + j] = b.y[o];
        if (m) hRow[j] = hn[j];
        if (c && m) c[i * U + j] = sv[4 * U + j];
      }
    }
  }
  b.h.set(h);
  if (c) b.c!.set(c);
}

/** The backward pass through time of {@link rnnForward} (see Kernels.rnnBackward). */
export function rnnBackward(b: RnnBackwardArrays, q: RnnParams): void {
  const { N, T, U, S, GU } = dims(q);
  const { cell } = q;
  const dAct = activationSlope[q.act];
  const dRa = activationSlope[q.recAct];
  const dh = Float64Array.from(b.gh.subarray(0, N * U));
  const dc = cell === 'lstm' ? Float64Array.from(b.gc!.subarray(0, N * U)) : undefined;
  const carry = new Float64Array(N * U);
  const dhT = new Float64Array(U);
  const dRow = new Float64Array(GU);
  const direct = new Float64Array(U);
  for (let s = T - 1; s >= 0; s--) {
    const tau = timeOf(q, s);
    for (let i = 0; i < N; i++) {
      const m = b.mask ? b.mask[i * T + tau] !== 0 : true;
      const row = i * T + tau;
      for (let j = 0; j < U; j++) {
        const g = b.gy[(i * T + s) * U + j] + carry[i * U + j];
        dhT[j] = dh[i * U + j] + (m ? g : 0);
        carry[i * U + j] = m || q.zeroOutput ? 0 : g;
      }
      const dp = b.dp.subarray(row * GU, (row + 1) * GU);
      const dr = cell === 'gru' ? b.dr!.subarray(row * GU, (row + 1) * GU) : dp;
      if (!m) {
        dp.fill(0);
        dr.fill(0);
        continue; // dh and dc pass through unchanged
      }
      const sv = b.save.subarray(row * S * U, (row + 1) * S * U);
      for (let j = 0; j < U; j++) {
        if (cell === 'simple') {
          dRow[j] = dhT[j] * dAct(sv[j]);
          direct[j] = 0;
        } else if (cell === 'lstm') {
          const [ig, fg, gg, og, tc] = [sv[j], sv[U + j], sv[2 * U + j], sv[3 * U + j], sv[5 * U + j]];
          const cPrev = s === 0 ? b.c0![i * U + j] : b.save[(i * T + timeOf(q, s - 1)) * S * U + 4 * U + j];
          const dct = dc![i * U + j] + dhT[j] * og * dAct(tc);
          dRow[j] = dct * gg * dRa(ig);
          dRow[U + j] = dct * cPrev * dRa(fg);
          dRow[2 * U + j] = dct * ig * dAct(gg);
          dRow[3 * U + j] = dhT[j] * tc * dRa(og);
          dc![i * U + j] = dct * fg;
          direct[j] = 0;
        } else {
          const [zg, rg, ng, rh] = [sv[j], sv[U + j], sv[2 * U + j], sv[3 * U + j]];
          const hp = b.hprev[row * U + j];
          const dn = dhT[j] * (1 - zg) * dAct(ng);
          dRow[j] = dhT[j] * (hp - ng) * dRa(zg);
          dRow[U + j] = dn * rh * dRa(rg);
          dRow[2 * U + j] = dn;
          dr[j] = dRow[j];
          dr[U + j] = dRow[U + j];
          dr[2 * U + j] = dn * rg;
          direct[j] = dhT[j] * zg;
        }
      }
      dp.set(dRow);
      for (let j = 0; j < U; j++) {
        let acc = direct[j];
        for (let k = 0; k < GU; k++) acc += dr[k] * b.u[j * GU + k];
        dh[i * U + j] = acc;
      }
    }
  }
  b.dh0.set(dh);
  if (dc) b.dc0!.set(dc);
  if (b.du) kernelGrad(b.du, b.hprev, cell === 'gru' ? b.dr! : b.dp, N * T, U, GU);
}

/** du [U, GU] = Σ over the R rows hprevᵀ·dr (hprev [R, U], dr [R, GU]). */
function kernelGrad(du: Float32Array, hprev: Float32Array, dr: Float32Array, R: number, U: number, GU: number): void {
  const acc = new Float64Array(U * GU);
  for (let r = 0; r < R; r++) {
    for (let j = 0; j < U; j++) {
      const h = hprev[r * U + j];
      for (let k = 0; k < GU; k++) acc[j * GU + k] += h * dr[r * GU + k];
    }
  }
  du.set(acc);
}
