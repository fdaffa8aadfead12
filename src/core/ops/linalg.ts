// Matrix multiplication, plain and batched, with transposed operands.
import { fmt, ShapeError } from '../errors.js';
import { record } from '../tape.js';
import { empty, type Tensor } from '../tensor.js';
import { backendOf, requireDType } from './util.js';

/**
 * op(a)·op(b) where op transposes the last two axes when asked. Ranks 2 or 3; a rank-2 operand is
 * broadcast over the other's batch, and a batch of 1 broadcasts too. a [..., M, K], b [..., K, N].
 */
export function matmul(a: Tensor, b: Tensor, transA = false, transB = false): Tensor {
  const be = backendOf('matmul', a, b);
  requireDType('matmul', 'float32', a, b);
  if (a.rank < 2 || a.rank > 3 || b.rank < 2 || b.rank > 3) {
    throw new ShapeError('matmul', `operands must have rank 2 or 3, got ${fmt(a.shape)} and ${fmt(b.shape)}`);
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
  const ba = a.rank === 3 ? a.shape[0] : 1;
  const bb = b.rank === 3 ? b.shape[0] : 1;
  if (ba !== bb && ba !== 1 && bb !== 1) throw new ShapeError('matmul', `batch sizes differ: ${fmt(a.shape)} and ${fmt(b.shape)}`);
  const batch = Math.max(ba, bb);
  const shape = a.rank === 3 || b.rank === 3 ? [batch, m, n] : [m, n];
  const y = empty(shape, 'float32', be);
  be.gemm(a.buf, b.buf, y.buf, {
    batch, m, n, k, transA, transB,
    strideA: ba === 1 ? 0 : m * k,
    strideB: bb === 1 ? 0 : k * n,
    strideC: m * n,
    accumulate: false,
  });
  return record('matmul', [a, b], y, { transA, transB });
}
