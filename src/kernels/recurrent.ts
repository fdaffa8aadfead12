// Fused recurrences (SimpleRNN, LSTM, GRU with the reset gate after the matmul): forward and backward through time, and
// the recurrent kernel's gradient.
//
// Legend: N batch, T steps, U units, G gates (Cell.simple 1; lstm 4: i, f, c, o; gru 3: z, r, h), GU = G·U, S saved values
// per unit (1, 6, 4), Up = U rounded up to 8 (the GEMM's panels). The [N, T, ·] tensors are batch-major: step s's slice
// starts τ(s) (or s) rows of its width in and has a row stride of T·width; τ(s) = s, or T−1−s when reversed.
// A call runs steps over a block of rows and units. flags: bit 0 reverse, bit 1 zeroOut, bit 2 split rows. With split
// rows, [begin, end) are batch rows (a multiple of 4 apart) and a call runs every step for them, rows being independent:
// no thread waits for another between steps. Otherwise [begin, end) are units (a multiple of 8 apart) and a call runs
// one step for every row (for a batch too small to split). Each step is one GEMM (lib/gemm-rows: the rows' states
// times the recurrent kernel packed once per sequence by rnn_pack) into a contiguous per-thread buffer, then the cell
// math; every value is computed the same way whichever rows and units a call holds, so any split gives the same bits.
// A thread's scratch holds the packed rows (rb·K floats, K = U forward, GU backward) and the forward's GEMM output
// (rb·G·Up floats); rb, a multiple of 4, is the most rows a block holds. Sigmoid and tanh are lib/gates' fast forms.
import { Cell } from '../backend/opcodes';
import { gemm_packA } from './gemm';
import { gemmRows, kBlock, packB8, packedB8Size, RT_MR, RT_NR } from './lib/gemm-rows';
import { gateAct } from './lib/gates';
import { actSlopeVec, loadTail, storeTail } from './lib/vecmath';

// @ts-ignore: decorator
@inline function sp(c: f32): v128 {
  return f32x4.splat(c);
}

/** r (1..4) lanes at p. */
// @ts-ignore: decorator
@inline function ld(p: usize, r: i32): v128 {
  return r >= 4 ? v128.load(p) : loadTail(p, r);
}

// @ts-ignore: decorator
@inline function st(p: usize, v: v128, r: i32): void {
  if (r >= 4) v128.store(p, v);
  else storeTail(p, v, r);
}

// @ts-ignore: decorator
@inline function gatesOf(cell: i32): i32 {
  return cell == Cell.lstm ? 4 : cell == Cell.gru ? 3 : 1;
}

/** Byte address of element i of the buffer at b. */
// @ts-ignore: decorator
@inline function at(b: usize, i: i32): usize {
  return b + (<usize>i << 2);
}

/**
 * Packs the recurrent kernel u [U, GU] once per sequence: forward (transpose = 0) each gate block [U, U] by packB8, G
 * blocks U·Up floats apart; backward (transpose = 1) uᵀ [GU, U] whole.
 */
export function rnn_pack(cell: i32, units: i32, transpose: i32, u: usize, upk: usize): void {
  const G = gatesOf(cell), GU = G * units;
  if (transpose != 0) {
    packB8(GU, units, u, 1, GU, upk);
    return;
  }
  const block = <usize>packedB8Size(units, units) << 2;
  for (let g = 0; g < G; g++) packB8(units, units, at(u, g * units), GU, 1, upk + <usize>g * block);
}

/**
 * Forward steps s0 … s1−1 for rows × units (see the legend for flags and [begin, end)), rb the rows of a block:
 * z = p + h·u (+ bRec) and the cell (see Kernels.rnnForward in backend.ts). p [N, T, GU], upk u packed by rnn_pack,
 * bRec [GU] (0: none), hprev [N, T, U] (the state before each step: read at τ(s), written at τ(s+1); the wrapper puts
 * h0 at τ(0)), c0 [N, U] (LSTM), save [N, T, S·U] (LSTM's cell state after step s in slot 4 at τ(s)), y [N, T, U]
 * (by step), hOut [N, U] (the state after the last step), mask [N, T] (0: none), ids [N, T] (int32; 0: none; else p
 * is a table [V, GU] and row i at time τ reads its row ids[i, τ]). A masked row keeps its state (and cell) and outputs
 * the previous step's output (0 when zeroOut or at the first step).
 */
export function rnn_forward(cell: i32, act: i32, recAct: i32, n: i32, t: i32, units: i32, flags: i32, s0: i32, s1: i32, rb: i32,
  p: usize, upk: usize, bRec: usize, hprev: usize, c0: usize, save: usize, y: usize, hOut: usize, mask: usize, ids: usize,
  begin: i32, end: i32, scratch: usize): void {
  const rows = (flags & 4) != 0;
  const r0 = rows ? begin : 0, r1 = rows ? end : n, u0 = rows ? 0 : begin, u1 = rows ? units : end;
  const G = gatesOf(cell), up = (units + RT_NR - 1) / RT_NR * RT_NR;
  const z = scratch + (<usize>(rb * units) << 2);
  for (let b0 = r0; b0 < r1; b0 += rb) {
    const b1 = min(r1, b0 + rb);
    for (let s = s0; s < s1; s++) {
      gemm_packA(b1 - b0, units, at(hprev, (b0 * t + timeAt(flags, t, s)) * units), t * units, 1, scratch);
      for (let g = 0; g < G; g++) {
        gemmRows((b1 - b0 + 3) & ~3, u0 / RT_NR, (u1 + RT_NR - 1) / RT_NR, units, scratch,
          upk + (<usize>(g * units * up) << 2), up / RT_NR, z + (<usize>(g * up) << 2), G * up, false);
      }
      forwardCell(cell, act, recAct, t, units, flags, s, b0, b1, u0, u1, z, G * up, up, p, bRec, hprev, c0, save, y, hOut, mask, ids);
    }
  }
}

/** Input time of step s. */
// @ts-ignore: decorator
@inline function timeAt(flags: i32, t: i32, s: i32): i32 {
  return (flags & 1) != 0 ? t - 1 - s : s;
}

/** The cell math of forward step s for rows [b0, b1) × units [u0, u1), given z, the rows' h·u (row zRow, gate g at g·up). */
function forwardCell(cell: i32, act: i32, recAct: i32, t: i32, units: i32, flags: i32, s: i32, b0: i32, b1: i32, u0: i32, u1: i32,
  z: usize, zRow: i32, up: i32, p: usize, bRec: usize, hprev: usize, c0: usize, save: usize, y: usize, hOut: usize, mask: usize,
  ids: usize): void {
  const G = gatesOf(cell), GU = G * units, S = cell == Cell.lstm ? 6 : cell == Cell.gru ? 4 : 1, SU = S * units;
  const tau = timeAt(flags, t, s), last = s == t - 1, zeroOut = (flags & 2) != 0;
  const U4 = <usize>units << 2, Z4 = <usize>up << 2;
  for (let i = b0; i < b1; i++) {
    const row = i * t;
    const pr = at(p, (ids == 0 ? row + tau : load<i32>(at(ids, row + tau))) * GU), sr = at(save, (row + tau) * SU), zr = z + (<usize>((i - b0) * zRow) << 2);
    const hr = at(hprev, (row + tau) * units);
    const hnr = last ? at(hOut, i * units) : at(hprev, (row + timeAt(flags, t, s + 1)) * units);
    const cr: usize = cell != Cell.lstm ? 0 : s == 0 ? at(c0, i * units) : at(save, (row + timeAt(flags, t, s - 1)) * SU + 4 * units);
    const yr = at(y, (row + s) * units), ypr: usize = s == 0 ? 0 : at(y, (row + s - 1) * units);
    const real = mask == 0 || load<f32>(at(mask, row + tau)) != 0;
    for (let j = u0; j < u1; j += 4) {
      const r = min(4, u1 - j), o = <usize>j << 2;
      if (!real) {
        st(hnr + o, ld(hr + o, r), r);
        st(yr + o, ypr == 0 || zeroOut ? sp(0) : ld(ypr + o, r), r);
        if (cell == Cell.lstm) st(sr + 4 * U4 + o, ld(cr + o, r), r);
        continue;
      }
      let hv: v128;
      if (cell == Cell.simple) {
        hv = gateAct(act, f32x4.add(ld(pr + o, r), ld(zr + o, r)));
        st(sr + o, hv, r);
      } else if (cell == Cell.lstm) {
        const ig = gateAct(recAct, f32x4.add(ld(pr + o, r), ld(zr + o, r)));
        const fg = gateAct(recAct, f32x4.add(ld(pr + U4 + o, r), ld(zr + Z4 + o, r)));
        const gg = gateAct(act, f32x4.add(ld(pr + 2 * U4 + o, r), ld(zr + 2 * Z4 + o, r)));
        const og = gateAct(recAct, f32x4.add(ld(pr + 3 * U4 + o, r), ld(zr + 3 * Z4 + o, r)));
        const cn = f32x4.add(f32x4.mul(fg, ld(cr + o, r)), f32x4.mul(ig, gg));
        const tc = gateAct(act, cn);
        hv = f32x4.mul(og, tc);
        st(sr + o, ig, r); st(sr + U4 + o, fg, r); st(sr + 2 * U4 + o, gg, r); st(sr + 3 * U4 + o, og, r);
        st(sr + 4 * U4 + o, cn, r); st(sr + 5 * U4 + o, tc, r);
      } else {
        let rz = ld(zr + o, r), rr = ld(zr + Z4 + o, r), rh = ld(zr + 2 * Z4 + o, r);
        if (bRec != 0) {
          rz = f32x4.add(rz, ld(bRec + o, r));
          rr = f32x4.add(rr, ld(bRec + U4 + o, r));
          rh = f32x4.add(rh, ld(bRec + 2 * U4 + o, r));
        }
        const zg = gateAct(recAct, f32x4.add(ld(pr + o, r), rz));
        const rg = gateAct(recAct, f32x4.add(ld(pr + U4 + o, r), rr));
        const ng = gateAct(act, f32x4.add(ld(pr + 2 * U4 + o, r), f32x4.mul(rg, rh)));
        hv = f32x4.add(f32x4.mul(zg, ld(hr + o, r)), f32x4.mul(f32x4.sub(sp(1), zg), ng));
        st(sr + o, zg, r); st(sr + U4 + o, rg, r); st(sr + 2 * U4 + o, ng, r); st(sr + 3 * U4 + o, rh, r);
      }
      st(hnr + o, hv, r);
      st(yr + o, hv, r);
    }
  }
}

/**
 * Backward steps s1−1 down to s0 (s0 ≥ −1) for rows × units (flags, [begin, end), rb as in rnn_forward). Step s first
 * adds dr_{s+1}·uᵀ to dh (dr_{s+1} the recurrent pre-activation gradient of step s+1, read from dr, or dp for SimpleRNN
 * and LSTM; none at s = T−1; utpk = uᵀ packed by rnn_pack); step −1 does only that, leaving ∂L/∂h0 in dh. Then the
 * cell's backward: g = gy + carry (gy [N, T, U] by step); a real row takes dhT = dh + g and writes dp [N, T, GU] and dr
 * (GRU, same layout) at τ(s), dh ← the part of ∂L/∂h_prev that bypasses the GEMM (GRU z·dhT, else 0) and dc ← f·dcT
 * (LSTM); a masked row writes zeros to dp / dr, keeps dh and dc, and passes g on in carry (unless zeroOut). save, hprev
 * and c0 are the forward's. dh is [ceil4(N), Up] (row Up), dc and carry [N, U].
 */
export function rnn_backward(cell: i32, act: i32, recAct: i32, n: i32, t: i32, units: i32, flags: i32, s0: i32, s1: i32, rb: i32,
  utpk: usize, dh: usize, dc: usize, carry: usize, gy: usize, mask: usize, save: usize, hprev: usize, c0: usize, dp: usize, dr: usize,
  begin: i32, end: i32, scratch: usize): void {
  const rows = (flags & 4) != 0;
  const r0 = rows ? begin : 0, r1 = rows ? end : n, u0 = rows ? 0 : begin, u1 = rows ? units : end;
  const GU = gatesOf(cell) * units, up = (units + RT_NR - 1) / RT_NR * RT_NR;
  const drs = dr != 0 ? dr : dp;
  for (let b0 = r0; b0 < r1; b0 += rb) {
    const b1 = min(r1, b0 + rb);
    for (let s = s1 - 1; s >= s0; s--) {
      if (s < t - 1) {
        gemm_packA(b1 - b0, GU, at(drs, (b0 * t + timeAt(flags, t, s + 1)) * GU), t * GU, 1, scratch);
        gemmRows((b1 - b0 + 3) & ~3, u0 / RT_NR, (u1 + RT_NR - 1) / RT_NR, GU, scratch, utpk, up / RT_NR, at(dh, b0 * up), up, true);
      }
      if (s >= 0) backwardCell(cell, act, recAct, t, units, flags, s, b0, b1, u0, u1, up, dh, dc, carry, gy, mask, save, hprev, c0, dp, dr);
    }
  }
}

/** The cell's backward at step s for rows [b0, b1) × units [u0, u1) (see rnn_backward). */
function backwardCell(cell: i32, act: i32, recAct: i32, t: i32, units: i32, flags: i32, s: i32, b0: i32, b1: i32, u0: i32, u1: i32,
  up: i32, dh: usize, dc: usize, carry: usize, gy: usize, mask: usize, save: usize, hprev: usize, c0: usize, dp: usize, dr: usize): void {
  const G = gatesOf(cell), GU = G * units, S = cell == Cell.lstm ? 6 : cell == Cell.gru ? 4 : 1, SU = S * units;
  const tau = timeAt(flags, t, s), zeroOut = (flags & 2) != 0;
  const U4 = <usize>units << 2;
  for (let i = b0; i < b1; i++) {
    const row = i * t;
    const ur = <usize>(i * units) << 2, hr = dh + (<usize>(i * up) << 2);
    const sr = at(save, (row + tau) * SU), pr = at(dp, (row + tau) * GU), rr: usize = dr == 0 ? 0 : at(dr, (row + tau) * GU);
    const gyr = at(gy, (row + s) * units);
    const cb: usize = cell != Cell.lstm ? 0 : s == 0 ? at(c0, i * units) : at(save, (row + timeAt(flags, t, s - 1)) * SU + 4 * units);
    const real = mask == 0 || load<f32>(at(mask, row + tau)) != 0;
    for (let j = u0; j < u1; j += 4) {
      const r = min(4, u1 - j), o = <usize>j << 2;
      const g = f32x4.add(ld(gyr + o, r), ld(carry + ur + o, r));
      if (!real) {
        st(carry + ur + o, zeroOut ? sp(0) : g, r);
        for (let k = 0; k < G; k++) {
          st(pr + <usize>k * U4 + o, sp(0), r);
          if (rr != 0) st(rr + <usize>k * U4 + o, sp(0), r);
        }
        continue;
      }
      st(carry + ur + o, sp(0), r);
      const dht = f32x4.add(ld(hr + o, r), g);
      if (cell == Cell.simple) {
        st(pr + o, f32x4.mul(dht, actSlopeVec(act, ld(sr + o, r))), r);
        st(hr + o, sp(0), r);
      } else if (cell == Cell.lstm) {
        const ig = ld(sr + o, r), fg = ld(sr + U4 + o, r), gg = ld(sr + 2 * U4 + o, r), og = ld(sr + 3 * U4 + o, r);
        const tc = ld(sr + 5 * U4 + o, r);
        const dct = f32x4.add(ld(dc + ur + o, r), f32x4.mul(f32x4.mul(dht, og), actSlopeVec(act, tc)));
        st(pr + o, f32x4.mul(f32x4.mul(dct, gg), actSlopeVec(recAct, ig)), r);
        st(pr + U4 + o, f32x4.mul(f32x4.mul(dct, ld(cb + o, r)), actSlopeVec(recAct, fg)), r);
        st(pr + 2 * U4 + o, f32x4.mul(f32x4.mul(dct, ig), actSlopeVec(act, gg)), r);
        st(pr + 3 * U4 + o, f32x4.mul(f32x4.mul(dht, tc), actSlopeVec(recAct, og)), r);
        st(dc + ur + o, f32x4.mul(dct, fg), r);
        st(hr + o, sp(0), r);
      } else {
        const zg = ld(sr + o, r), rg = ld(sr + U4 + o, r), ng = ld(sr + 2 * U4 + o, r), rh = ld(sr + 3 * U4 + o, r);
        const hv = ld(at(hprev, (row + tau) * units) + o, r);
        const dn = f32x4.mul(f32x4.mul(dht, f32x4.sub(sp(1), zg)), actSlopeVec(act, ng));
        const dz = f32x4.mul(f32x4.mul(dht, f32x4.sub(hv, ng)), actSlopeVec(recAct, zg));
        const drg = f32x4.mul(f32x4.mul(dn, rh), actSlopeVec(recAct, rg));
        st(pr + o, dz, r); st(pr + U4 + o, drg, r); st(pr + 2 * U4 + o, dn, r);
        st(rr + o, dz, r); st(rr + U4 + o, drg, r); st(rr + 2 * U4 + o, f32x4.mul(dn, rg), r);
        st(hr + o, f32x4.mul(dht, zg), r);
      }
    }
  }
}

/** Rows of u (units) and 8-column panels of GU that rnn_kernel_grad packs at a time (256 KiB of A, 1 MiB of B per k block). */
const KG_ROWS: i32 = 256;
const KG_PANELS: i32 = 128;

/**
 * The recurrent kernel's gradient du [U, GU] = hprevᵀ·dr summed over all R = N·T rows (hprev [R, U], dr [R, GU]), for
 * GU's 8-column panels [begin, end): packed operands and lib/gemm-rows' tile, k (the rows) in kBlock(R) blocks. du is
 * written in whole tiles: row stride ldc ≥ ceil8(GU) elements, ceil4(U) rows. Scratch: 1.25 MiB.
 */
export function rnn_kernel_grad(units: i32, gu: i32, rows: i32, hprev: usize, dr: usize, du: usize, ldc: i32,
  begin: i32, end: i32, scratch: usize): void {
  const kb = kBlock(rows);
  const ap = scratch, bp = scratch + (<usize>(KG_ROWS * kb) << 2);
  for (let m0 = 0; m0 < units; m0 += KG_ROWS) {
    const mb = min(KG_ROWS, units - m0), mp = (mb + RT_MR - 1) & ~(RT_MR - 1);
    for (let j0 = begin; j0 < end; j0 += KG_PANELS) {
      const np = min(KG_PANELS, end - j0), cols = min(np * RT_NR, gu - j0 * RT_NR);
      for (let k0 = 0; k0 < rows; k0 += kb) {
        const kc = min(kb, rows - k0);
        // A = hprevᵀ rows m0… (hprev's columns): element (i, k) at hprev[(k0 + k)·U + m0 + i].
        gemm_packA(mb, kc, at(hprev, k0 * units + m0), 1, units, ap);
        packB8(kc, cols, at(dr, k0 * gu + j0 * RT_NR), gu, 1, bp);
        gemmRows(mp, 0, np, kc, ap, bp, np, at(du, m0 * ldc + j0 * RT_NR), ldc, k0 > 0);
      }
    }
  }
}
