// Matrix multiplication, plain and batched over any number of leading axes, with transposed operands.
import { fmt, ShapeError } from '../errors.js';
import { sizeOf } from '../shape.js';
import { record } from '../tape.js';
import { empty, type Tensor } from '../tensor.js';
import { backendOf, requireDType } from './util.js';

/**
 * op(a)·op(b) where op transposes the last two axes when asked: a [..., M, K], b [..., K, N] → [..., M, N], any rank ≥ 2
 * (attention's [B, H, T, D] included). The leading (batch) axes of the two operands are equal, or one operand holds a
 * single matrix (rank 2, or leading axes all 1) that is broadcast over the other's batch; the output's leading axes are
 * NumPy's broadcast of both.
 */
export function matmul(a: Tensor, b: Tensor, transA = false, transB = false): Tensor {
  const be = backendOf('matmul', a, b);
  requireDType('matmul', 'float32', a, b);
  if (a.rank < 2 || b.rank < 2) {
    throw new ShapeError('matmul', `operands must have rank ≥ 2, got ${fmt(a.shape)} and ${fmt(b.shape)}`);
  }
  const [ar, ac] = a.shape.slice(-2);
  const [br, bc] = b.shape.slice(-2);
  const m = transA ? ac : ar;
  const k = transA ? ar : ac;
  const k2 = transB ? bc : br;
  const n = transB ? br : bc;
  if (k !== k2) {
    throw new ShapeError('matmul', `inner dimensions differ: ${fmt(a.shape)}${transA ? 'ᵀ' : ''} · ${fmt(b.shape)}${transB ? 'ᵀ' : ''} (${k} vs ${k2})`);
  }
  const leadA = a.shape.slice(0, -2);
  const leadB = b.shape.slice(0, -2);
  const ba = sizeOf(leadA);
  const bb = sizeOf(leadB);
  const lead = batchAxes(leadA, leadB);
  const batch = lead ? sizeOf(lead) : 0;
  if (!lead || (ba !== 1 && ba !== batch) || (bb !== 1 && bb !== batch)) {
    throw new ShapeError('matmul', `batch dimensions differ: ${fmt(a.shape)} and ${fmt(b.shape)} (the axes before the last two must be equal, or one operand must hold a single matrix)`);
  }
  const y = empty([...lead, m, n], 'float32', be);
  be.gemm(a.buf, b.buf, y.buf, {
    batch, m, n, k, transA, transB,
    strideA: ba === 1 ? 0 : m * k,
    strideB: bb === 1 ? 0 : k * n,
    strideC: m * n,
    accumulate: false,
  });
  return record('matmul', [a, b], y, { transA, transB });
}

/** NumPy's broadcast of two lists of leading axes, or undefined where they cannot be broadcast. */
function batchAxes(a: readonly number[], b: readonly number[]): number[] | undefined {
  const rank = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) return undefined;
    out.push(da === 1 ? db : da);
  }
  return out;
}
