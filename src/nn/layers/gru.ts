// GRU: Cho et al.'s gated recurrent unit, Keras' layer (gates z, r, h; reset gate after the matmul by default).
import type { RnnCell } from '../../backend/backend.js';
import { add, matmul, mul, reshape, slice, split, sub } from '../../core/ops/index.js';
import type { Random } from '../../core/random.js';
import type { Tensor } from '../../core/tensor.js';
import { boolOption, registerLayer } from '../layer.js';
import { type CellState, type CellWeights, GatedRecurrent, type GatedRecurrentOptions, type RecurrentProduct } from './recurrent.js';

/** Options of {@link GRU} (Keras names). */
export interface GRUOptions extends GatedRecurrentOptions {
  /** Apply the reset gate after the recurrent matmul (default true, cuDNN's and PyTorch's GRU); false: before it. */
  resetAfter?: boolean;
}

/**
 * Keras GRU. Gates z (update), r (reset), h (candidate) in that order along the last axis of every weight:
 * z, r = recurrentActivation(x·W_{z,r} + b_{z,r} + h·U_{z,r} (+ b'_{z,r})), and with resetAfter
 * n = activation(x·W_h + b_h + r·(h·U_h + b'_h)), else n = activation(x·W_h + b_h + (r·h)·U_h); h_t = z·h + (1 − z)·n.
 * Weights (Keras layout): kernel [F, 3U], recurrentKernel [U, 3U], bias [2, 3U] with resetAfter (row 0 the input bias b,
 * row 1 the recurrent bias b'), else [3U].
 * PyTorch's nn.GRU (reset after) keeps weight_ih [3U, F], weight_hh [3U, U], bias_ih, bias_hh [3U] in gate order r, z, n:
 * kernel = weight_ihᵀ with column blocks reordered (z, r, n) ← (r, z, n), likewise recurrentKernel from weight_hh, and
 * bias = [bias_ih; bias_hh] reordered the same way. Reset before the matmul has no PyTorch counterpart.
 */
export class GRU extends GatedRecurrent {
  readonly className = 'GRU';
  readonly defaultName = 'gru';
  protected readonly cell: RnnCell = 'gru';
  protected readonly stateNames = ['h'] as const;
  readonly resetAfter: boolean;

  constructor(o: GRUOptions) {
    super(o, 'gru');
    this.resetAfter = boolOption(o.name ?? 'gru', 'resetAfter', o.resetAfter, true);
  }

  protected override createBias(rng: Random): void {
    const gu = 3 * this.units;
    this.addWeight('bias', this.resetAfter ? [2, gu] : [gu], this.biasInitializer, rng, { role: 'bias' });
  }

  /** Row `row` of the [2, 3U] bias (resetAfter). */
  private biasRow(w: CellWeights, row: number): Tensor | undefined {
    return w.bias && reshape(slice(w.bias, [row, 0], [1, 3 * this.units]), [3 * this.units]);
  }

  protected override inputBias(w: CellWeights): Tensor | undefined {
    return this.resetAfter ? this.biasRow(w, 0) : w.bias;
  }

  protected override recurrentBias(w: CellWeights): Tensor | undefined {
    return this.resetAfter ? this.biasRow(w, 1) : undefined;
  }

  protected override fusable(): boolean {
    return this.resetAfter && super.fusable();
  }

  protected step(pt: Tensor, s: CellState, w: CellWeights, rec: RecurrentProduct): CellState {
    const [xz, xr, xh] = split(pt, 3, 1);
    let z: Tensor;
    let n: Tensor;
    if (this.resetAfter) {
      const b = this.recurrentBias(w);
      const [rz, rr, rh] = split(b ? add(rec.of(s.h), b) : rec.of(s.h), 3, 1);
      z = this.gate(add(xz, rz));
      n = this.act(add(xh, mul(this.gate(add(xr, rr)), rh)));
    } else {
      const [rz, rr] = split(rec.of(s.h, 2), 2, 1);
      z = this.gate(add(xz, rz));
      n = this.act(add(xh, matmul(mul(this.gate(add(xr, rr)), rec.input(s.h, 2)), rec.block(2))));
    }
    return { h: add(mul(z, s.h), mul(sub(1, z), n)) };
  }

  protected override config(): Record<string, unknown> {
    return { ...super.config(), resetAfter: this.resetAfter };
  }
}

registerLayer('GRU', (c) => new GRU(c as unknown as GRUOptions));
