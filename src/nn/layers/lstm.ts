// LSTM: Hochreiter & Schmidhuber's long short-term memory, Keras' layer (gates i, f, c, o; unit forget bias).
import type { RnnCell } from '../../backend/backend.js';
import { add, mul, split, tensor } from '../../core/ops/index.js';
import type { Random } from '../../core/random.js';
import type { Shape } from '../../core/shape.js';
import type { Tensor } from '../../core/tensor.js';
import { initialize } from '../initializers.js';
import { boolOption, registerLayer } from '../layer.js';
import { type CellState, type CellWeights, GatedRecurrent, type GatedRecurrentOptions, type RecurrentProduct } from './recurrent.js';

/** Options of {@link LSTM} (Keras names). */
export interface LSTMOptions extends GatedRecurrentOptions {
  /** Start the forget gate's bias at 1 (default true; Jozefowicz et al. 2015). */
  unitForgetBias?: boolean;
}

/**
 * Keras LSTM. Per step z = x_t·W + h·U + b split into gates i, f, c, o (in that order along the last axis of every
 * weight): i, f, o = recurrentActivation(z_i, z_f, z_o), c_t = f·c + i·activation(z_c), h_t = o·activation(c_t).
 * Weights (Keras layout): kernel [F, 4U], recurrentKernel [U, 4U], bias [4U].
 * PyTorch's nn.LSTM keeps weight_ih [4U, F], weight_hh [4U, U], bias_ih + bias_hh [4U] in gate order i, f, g, o — the
 * same order: kernel = weight_ihᵀ, recurrentKernel = weight_hhᵀ, bias = bias_ih + bias_hh.
 * Inputs [N, T, F] and optionally initial states h0, c0 [N, U]; outputs [N, U] or [N, T, U], then h, c (returnState).
 */
export class LSTM extends GatedRecurrent {
  readonly className = 'LSTM';
  readonly defaultName = 'lstm';
  protected readonly cell: RnnCell = 'lstm';
  protected readonly stateNames = ['h', 'c'] as const;
  readonly unitForgetBias: boolean;

  constructor(o: LSTMOptions) {
    super(o, 'lstm');
    this.unitForgetBias = boolOption(o.name ?? 'lstm', 'unitForgetBias', o.unitForgetBias, true);
  }

  protected override createBias(rng: Random): void {
    const u = this.units;
    const init = this.biasInitializer;
    // Keras: the bias initialiser for i, c, o and ones for f; a θ of another shape (a sharing map's) just gets the initialiser.
    const unitForget = (shape: Shape, seed: number): Tensor => {
      const t = initialize(init, shape, seed);
      if (shape.length !== 1 || shape[0] !== 4 * u) return t;
      const v = t.f32().fill(1, u, 2 * u);
      t.dispose();
      return tensor(v, [4 * u]);
    };
    this.addWeight('bias', [4 * u], init, rng, { role: 'bias', init: this.unitForgetBias ? unitForget : undefined });
  }

  protected step(pt: Tensor, s: CellState, _w: CellWeights, rec: RecurrentProduct): CellState {
    const [zi, zf, zc, zo] = split(add(pt, rec.of(s.h)), 4, 1);
    const c = add(mul(this.gate(zf), s.c!), mul(this.gate(zi), this.act(zc)));
    return { h: mul(this.gate(zo), this.act(c)), c };
  }

  protected override config(): Record<string, unknown> {
    return { ...super.config(), unitForgetBias: this.unitForgetBias };
  }
}

registerLayer('LSTM', (c) => new LSTM(c as unknown as LSTMOptions));
