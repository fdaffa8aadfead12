// Fused recurrence steps (SimpleRNN, LSTM, GRU with the reset gate after the matmul), one parallel call per time step.
//
// Legend: N batch rows, U units, G gates (Cell.simple 1; lstm 4: i, f, c, o; gru 3: z, r, h), GU = G·U, S saved values
// per unit (1, 6, 4). Pointers are byte addresses of row 0 of the step's slice; *Row arguments are element strides
// between rows (the tensors are [N, T, ·], so a step's rows are T·width apart). Work items are units [begin, end), begin
// a multiple of 12: a thread computes the GEMM columns of its units in every gate block, then the cell math of those
// units in every row, so no value depends on the split (each GEMM element sums over k in the same fixed blocks, see
// gemm_packed). The recurrent kernel is packed once per sequence (gemm_pack_b): per gate for h·u, whole for dr·uᵀ;
// `panels` = ceil(U/12) is the panel count of one packed [·, U] matrix.
import { Cell } from '../backend/opcodes';
import { gemm3_NR, gemm_packed } from './gemm';
import { actSlopeVec, actVec, loadTail, storeTail } from './lib/vecmath';

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

/** The save slot a gate's recurrent GEMM lands in: the gate's own, except GRU's h block (slot 3, r_h; slot 2 is n). */
// @ts-ignore: decorator
@inline function slotOf(cell: i32, g: i32): i32 {
  return cell == Cell.gru && g == 2 ? 3 : g;
}

/**
 * Forward step for units [begin, end): z = p + h·u (+ bRec) and the cell (see Kernels.rnnForward in backend.ts).
 * p [N, GU] (row pRow), upk u's G blocks [U, U] each packed (U·panels·12 floats apart), bRec [GU] (0: none), h [N, U]
 * the state before (row hRow), c [N, U] the LSTM cell before (row cRow), sv [N, S·U] the step's saved values (row
 * svRow), hn [N, U] where the state after goes (row hnRow), y / yp [N, U] this and the previous step's outputs (row
 * yRow; yp = 0 at the first step), mask [N] (row maskRow; 0: none). A masked row keeps its state (and cell), and
 * outputs yp's row (0 when zeroOut or at the first step).
 */
export function rnn_step_forward(cell: i32, act: i32, recAct: i32, n: i32, units: i32, zeroOut: i32,
  p: usize, pRow: i32, upk: usize, panels: i32, bRec: usize, h: usize, hRow: i32, c: usize, cRow: i32, sv: usize, svRow: i32,
  hn: usize, hnRow: i32, y: usize, yp: usize, yRow: i32, mask: usize, maskRow: i32,
  begin: i32, end: i32, scratch: usize): void {
  const G = gatesOf(cell), nu = end - begin, block = <usize>(units * panels * gemm3_NR) << 2;
  for (let g = 0; g < G; g++) {
    gemm_packed(n, nu, units, h, hRow, 1, upk + <usize>g * block, panels, begin / gemm3_NR,
      sv + (<usize>(slotOf(cell, g) * units + begin) << 2), svRow, 1, false, scratch);
  }
  const U4 = <usize>units << 2;
  for (let i = 0; i < n; i++) {
    const pr = p + (<usize>(i * pRow) << 2), sr = sv + (<usize>(i * svRow) << 2);
    const hr = h + (<usize>(i * hRow) << 2), hnr = hn + (<usize>(i * hnRow) << 2);
    const cr = c + (<usize>(i * cRow) << 2), yr = y + (<usize>(i * yRow) << 2);
    const real = mask == 0 || load<f32>(mask + (<usize>(i * maskRow) << 2)) != 0;
    for (let j = begin; j < end; j += 4) {
      const r = min(4, end - j), o = <usize>j << 2;
      if (!real) {
        st(hnr + o, ld(hr + o, r), r);
        st(yr + o, yp == 0 || zeroOut != 0 ? sp(0) : ld(yp + (<usize>(i * yRow) << 2) + o, r), r);
        if (cell == Cell.lstm) st(sr + 4 * U4 + o, ld(cr + o, r), r);
        continue;
      }
      let hv: v128;
      if (cell == Cell.simple) {
        hv = actVec(act, f32x4.add(ld(pr + o, r), ld(sr + o, r)));
        st(sr + o, hv, r);
      } else if (cell == Cell.lstm) {
        const ig = actVec(recAct, f32x4.add(ld(pr + o, r), ld(sr + o, r)));
        const fg = actVec(recAct, f32x4.add(ld(pr + U4 + o, r), ld(sr + U4 + o, r)));
        const gg = actVec(act, f32x4.add(ld(pr + 2 * U4 + o, r), ld(sr + 2 * U4 + o, r)));
        const og = actVec(recAct, f32x4.add(ld(pr + 3 * U4 + o, r), ld(sr + 3 * U4 + o, r)));
        const cn = f32x4.add(f32x4.mul(fg, ld(cr + o, r)), f32x4.mul(ig, gg));
        const tc = actVec(act, cn);
        hv = f32x4.mul(og, tc);
        st(sr + o, ig, r); st(sr + U4 + o, fg, r); st(sr + 2 * U4 + o, gg, r); st(sr + 3 * U4 + o, og, r);
        st(sr + 4 * U4 + o, cn, r); st(sr + 5 * U4 + o, tc, r);
      } else {
        let rz = ld(sr + o, r), rr = ld(sr + U4 + o, r), rh = ld(sr + 3 * U4 + o, r);
        if (bRec != 0) {
          rz = f32x4.add(rz, ld(bRec + o, r));
          rr = f32x4.add(rr, ld(bRec + U4 + o, r));
          rh = f32x4.add(rh, ld(bRec + 2 * U4 + o, r));
        }
        const zg = actVec(recAct, f32x4.add(ld(pr + o, r), rz));
        const rg = actVec(recAct, f32x4.add(ld(pr + U4 + o, r), rr));
        const ng = actVec(act, f32x4.add(ld(pr + 2 * U4 + o, r), f32x4.mul(rg, rh)));
        hv = f32x4.add(f32x4.mul(zg, ld(hr + o, r)), f32x4.mul(f32x4.sub(sp(1), zg), ng));
        st(sr + o, zg, r); st(sr + U4 + o, rg, r); st(sr + 2 * U4 + o, ng, r); st(sr + 3 * U4 + o, rh, r);
      }
      st(hnr + o, hv, r);
      st(yr + o, hv, r);
    }
  }
}

/**
 * Backward step for units [begin, end), run for steps s = T−1 … 0 and once more with cellPart = 0. First
 * dh[:, units] += drNext·uᵀ (drNext [N, GU] the recurrent pre-activation gradient of step s+1, row pRow; 0 at s = T−1;
 * utpk = uᵀ [GU, U] packed); then, with cellPart, the cell's backward: g = gy + carry (gy [N, U], row yRow); a real row takes
 * dhT = dh + g and writes dp [N, GU] (row pRow), dr (GRU, same layout), dh ← the part of ∂L/∂h_prev that bypasses
 * the GEMM (GRU z·dhT, else 0) and dc ← f·dcT (LSTM, dc [N, U]); a masked row writes zeros to dp / dr, keeps dh and dc,
 * and passes g on in carry (unless zeroOut). sv, hp (hprev, row hpRow) and cb (the LSTM cell before, row cbRow) are the
 * step's saved values. dh, dc and carry are [N, U] (row U).
 */
export function rnn_step_backward(cell: i32, act: i32, recAct: i32, n: i32, units: i32, zeroOut: i32, cellPart: i32,
  drNext: usize, pRow: i32, utpk: usize, panels: i32, dh: usize, dc: usize, carry: usize, gy: usize, yRow: i32, mask: usize, maskRow: i32,
  sv: usize, svRow: i32, hp: usize, hpRow: i32, cb: usize, cbRow: i32, dp: usize, dr: usize,
  begin: i32, end: i32, scratch: usize): void {
  const G = gatesOf(cell), nu = end - begin;
  if (drNext != 0) gemm_packed(n, nu, G * units, drNext, pRow, 1, utpk, panels, begin / gemm3_NR, dh + (<usize>begin << 2), units, 1, true, scratch);
  if (cellPart == 0) return;
  const U4 = <usize>units << 2;
  for (let i = 0; i < n; i++) {
    const ur = <usize>(i * units) << 2;
    const sr = sv + (<usize>(i * svRow) << 2), pr = dp + (<usize>(i * pRow) << 2), rr = dr + (<usize>(i * pRow) << 2);
    const gyr = gy + (<usize>(i * yRow) << 2);
    const real = mask == 0 || load<f32>(mask + (<usize>(i * maskRow) << 2)) != 0;
    for (let j = begin; j < end; j += 4) {
      const r = min(4, end - j), o = <usize>j << 2;
      const g = f32x4.add(ld(gyr + o, r), ld(carry + ur + o, r));
      if (!real) {
        st(carry + ur + o, zeroOut != 0 ? sp(0) : g, r);
        for (let k = 0; k < G; k++) {
          st(pr + <usize>k * U4 + o, sp(0), r);
          if (dr != 0) st(rr + <usize>k * U4 + o, sp(0), r);
        }
        continue;
      }
      st(carry + ur + o, sp(0), r);
      const dht = f32x4.add(ld(dh + ur + o, r), g);
      if (cell == Cell.simple) {
        st(pr + o, f32x4.mul(dht, actSlopeVec(act, ld(sr + o, r))), r);
        st(dh + ur + o, sp(0), r);
      } else if (cell == Cell.lstm) {
        const ig = ld(sr + o, r), fg = ld(sr + U4 + o, r), gg = ld(sr + 2 * U4 + o, r), og = ld(sr + 3 * U4 + o, r);
        const tc = ld(sr + 5 * U4 + o, r);
        const dct = f32x4.add(ld(dc + ur + o, r), f32x4.mul(f32x4.mul(dht, og), actSlopeVec(act, tc)));
        st(pr + o, f32x4.mul(f32x4.mul(dct, gg), actSlopeVec(recAct, ig)), r);
        st(pr + U4 + o, f32x4.mul(f32x4.mul(dct, ld(cb + (<usize>(i * cbRow) << 2) + o, r)), actSlopeVec(recAct, fg)), r);
        st(pr + 2 * U4 + o, f32x4.mul(f32x4.mul(dct, ig), actSlopeVec(act, gg)), r);
        st(pr + 3 * U4 + o, f32x4.mul(f32x4.mul(dht, tc), actSlopeVec(recAct, og)), r);
        st(dc + ur + o, f32x4.mul(dct, fg), r);
        st(dh + ur + o, sp(0), r);
      } else {
        const zg = ld(sr + o, r), rg = ld(sr + U4 + o, r), ng = ld(sr + 2 * U4 + o, r), rh = ld(sr + 3 * U4 + o, r);
        const hv = ld(hp + (<usize>(i * hpRow) << 2) + o, r);
        const dn = f32x4.mul(f32x4.mul(dht, f32x4.sub(sp(1), zg)), actSlopeVec(act, ng));
        const dz = f32x4.mul(f32x4.mul(dht, f32x4.sub(hv, ng)), actSlopeVec(recAct, zg));
        const drg = f32x4.mul(f32x4.mul(dn, rh), actSlopeVec(recAct, rg));
        st(pr + o, dz, r); st(pr + U4 + o, drg, r); st(pr + 2 * U4 + o, dn, r);
        st(rr + o, dz, r); st(rr + U4 + o, drg, r); st(rr + 2 * U4 + o, f32x4.mul(dn, rg), r);
        st(dh + ur + o, f32x4.mul(dht, zg), r);
      }
    }
  }
}
