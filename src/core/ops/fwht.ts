// The fast Walsh–Hadamard transform op (for Fastfood projections): H_n along the last axis, n a power of 2.
import { fmt, ShapeError } from '../errors.js';
import { record } from '../tape.js';
import { empty, type Tensor } from '../tensor.js';
import { backendOf, requireDType } from './util.js';

/**
 * y[..., n] = H_n · x[..., n] along the last axis (n a power of 2), with H_n the unnormalised
 * Walsh–Hadamard matrix (entries ±1, Sylvester order, H·H = n·I). O(n log n) per row. H is symmetric,
 * so the op is its own vector-Jacobian product.
 */
export function fwht(x: Tensor): Tensor {
  const b = backendOf('fwht', x);
  requireDType('fwht', 'float32', x);
  const n = x.rank ? x.shape[x.rank - 1] : 0;
  if (x.rank === 0 || n < 1 || (n & (n - 1)) !== 0) {
    throw new ShapeError('fwht', `the last axis must have a power-of-2 length (1, 2, 4, …), got ${fmt(x.shape)}`);
  }
  const y = empty(x.shape, 'float32', b);
  b.fwht(x.buf, y.buf, x.size / n, n);
  return record('fwht', [x], y, {});
}
