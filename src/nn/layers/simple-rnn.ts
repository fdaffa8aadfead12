// SimpleRNN: h_t = act(x_t·W + h_{t−1}·U + b), Keras' fully connected recurrent layer.
import type { RnnCell } from '../../backend/backend.js';
import { add } from '../../core/ops/index.js';
import type { Tensor } from '../../core/tensor.js';
import { registerLayer } from '../layer.js';
import { type CellState, type CellWeights, Recurrent, type RecurrentOptions, type RecurrentProduct } from './recurrent.js';

/** Options of {@link SimpleRNN} (Keras names; see {@link RecurrentOptions}). */
export type SimpleRNNOptions = RecurrentOptions;

/**
 * Keras SimpleRNN: kernel [F, U], recurrentKernel [U, U], bias [U] (Keras layout; PyTorch's nn.RNN keeps
 * weight_ih [U, F] = kernelᵀ, weight_hh [U, U] = recurrentKernelᵀ and two biases whose sum is bias). Inputs [N, T, F],
 * optionally with an initial state h0 [N, U]; outputs [N, U] or [N, T, U], then h with returnState.
 */
export class SimpleRNN extends Recurrent {
  readonly className = 'SimpleRNN';
  readonly defaultName = 'simple_rnn';
  protected readonly cell: RnnCell = 'simple';
  protected readonly stateNames = ['h'] as const;

  constructor(o: SimpleRNNOptions) {
    super(o, 'simple_rnn');
  }

  protected step(pt: Tensor, s: CellState, _w: CellWeights, rec: RecurrentProduct): CellState {
    return { h: this.act(add(pt, rec.of(s.h))) };
  }
}

registerLayer('SimpleRNN', (c) => new SimpleRNN(c as unknown as SimpleRNNOptions));
