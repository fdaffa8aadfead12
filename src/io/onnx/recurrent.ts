// SimpleRNN, LSTM and GRU as ONNX's RNN, LSTM and GRU ops (opset 14 semantics): Keras gate order and weight layout converted in the graph.
import type { ActivationName } from '../../nn/activations.js';
import { GRU } from '../../nn/layers/gru.js';
import { LSTM } from '../../nn/layers/lstm.js';
import type { Recurrent } from '../../nn/layers/recurrent.js';
import { GatedRecurrent } from '../../nn/layers/recurrent.js';
import type { OnnxGraph } from './builder.js';

const ONNX_ACTIVATION: Partial<Record<ActivationName, string>> = { sigmoid: 'Sigmoid', tanh: 'Tanh', relu: 'Relu' };

/** Why a recurrent layer cannot be written as an ONNX op here (undefined: it can). */
export function recurrentProblem(l: Recurrent, inputs: number, masked: boolean): string | undefined {
  const acts = [l.activation, ...(l instanceof GatedRecurrent ? [l.recurrentActivation] : [])];
  const bad = acts.find((a) => !ONNX_ACTIVATION[a]);
  if (bad) return `activation '${bad}' has no ONNX recurrent form (sigmoid, tanh, relu)`;
  if (l.steps !== undefined) return 'per-step recurrent kernels (steps) are not exported yet';
  if (inputs > 1) return 'initial-state inputs are not exported yet';
  if (masked) return 'a masked input (an Embedding with maskZero before it) is not exported yet';
  return undefined;
}

/** v with its axis `axis` of `steps` entries reversed (a Gather of T−1, …, 0). */
export function reverseSteps(g: OnnxGraph, v: string, steps: number, axis: number, at: string): string {
  const order = g.initializer(`${at}/reversed_steps`, 'int32', [steps], Int32Array.from({ length: steps }, (_, i) => steps - 1 - i));
  return g.node('Gather', [v, order], `${at}/reversed`, { axis });
}

/**
 * Writes the layer on x [N, T, F] (ONNX wants [T, N, F]); `kernel`, `recurrent`, `bias` are the values of W in our
 * layout ([F, G·U], [U, G·U], [G·U] or GRU's [2, 3U]). Returns the layer's outputs: [N, T, U] or [N, U], then the
 * final states with returnState. goBackwards runs ONNX's 'reverse' direction, whose sequence output is in input order:
 * it is reversed back into Keras' (processing) order.
 */
export function writeRecurrent(g: OnnxGraph, l: Recurrent, x: string, steps: number, kernel: string, recurrent: string, bias: string | undefined, at: string): string[] {
  const u = l.units;
  const gates = l instanceof LSTM ? 4 : l instanceof GRU ? 3 : 1;
  // Keras LSTM blocks are i, f, c, o; ONNX wants i, o, f, c. GRU (z, r, h) and SimpleRNN already agree.
  const order = l instanceof LSTM ? [0, 3, 1, 2] : undefined;
  const perm = order && g.initializer(`${at}/gate_order`, 'int32', [gates * u], Int32Array.from(order.flatMap((b) => Array.from({ length: u }, (_, i) => b * u + i))));
  const first = g.int64s(`${at}/axis0`, [0]);
  const reorder = (v: string, axis: number): string => (perm ? g.node('Gather', [v, perm], `${v}/onnx_gates`, { axis }) : v);
  const asOnnx = (v: string, name: string): string => g.node('Unsqueeze', [g.node('Transpose', [reorder(v, 1)], `${at}/${name}_t`, { perm: [1, 0] }), first], `${at}/${name}`);
  const inputs = [g.node('Transpose', [x], `${at}/time_major`, { perm: [1, 0, 2] }), asOnnx(kernel, 'W'), asOnnx(recurrent, 'R')];
  if (bias !== undefined) {
    const gru2 = l instanceof GRU && l.resetAfter;
    const flat = gru2 ? g.node('Reshape', [bias, g.int64s(`${at}/B_shape`, [1, 2 * gates * u])], `${at}/B`)
      : g.node('Unsqueeze', [g.node('Concat', [reorder(bias, 0), g.node('ConstantOfShape', [g.int64s(`${at}/gu`, [gates * u])], `${at}/zero_bias`)], `${at}/B_flat`, { axis: 0 }), first], `${at}/B`);
    inputs.push(flat);
  }
  const acts = l instanceof GatedRecurrent
    ? [l.recurrentActivation, l.activation, ...(l instanceof LSTM ? [l.activation] : [])] : [l.activation];
  const attrs = { hidden_size: u, direction: l.goBackwards ? 'reverse' : 'forward', activations: { strings: acts.map((a) => ONNX_ACTIVATION[a]!) }, ...(l instanceof GRU ? { linear_before_reset: l.resetAfter ? 1 : 0 } : {}) };
  const op = l instanceof LSTM ? 'LSTM' : l instanceof GRU ? 'GRU' : 'RNN';
  const outs = g.nodeOutputs(op, inputs, at, [`${at}/Y`, `${at}/Y_h`, ...(l instanceof LSTM ? [`${at}/Y_c`] : [])], attrs);
  const squeeze = (v: string, axis: number, name: string): string => g.node('Squeeze', [v, g.int64s(`${at}/axis${axis}`, [axis])], name);
  const tnu = (): string => {
    const y = squeeze(outs[0], 1, `${at}/Y_tnu`);
    return l.goBackwards ? reverseSteps(g, y, steps, 0, at) : y;
  };
  const y = l.returnSequences ? g.node('Transpose', [tnu()], at, { perm: [1, 0, 2] }) : squeeze(outs[1], 0, at);
  return l.returnState ? [y, ...outs.slice(1).map((s, k) => squeeze(s, 0, `${at}/state_${k}`))] : [y];
}
