// SimpleRNN, LSTM and GRU as ONNX's RNN, LSTM and GRU ops (opset 14 semantics): Keras gate order and weight layout converted in the graph.
import type { ActivationName } from '../../nn/activations.js';
import { GRU } from '../../nn/layers/gru.js';
import { LSTM } from '../../nn/layers/lstm.js';
import type { Recurrent } from '../../nn/layers/recurrent.js';
import { GatedRecurrent } from '../../nn/layers/recurrent.js';
import { dataType, type OnnxGraph } from './builder.js';

const ONNX_ACTIVATION: Partial<Record<ActivationName, string>> = { sigmoid: 'Sigmoid', tanh: 'Tanh', relu: 'Relu' };

/** Why a recurrent layer cannot be written as an ONNX op here (undefined: it can). */
export function recurrentProblem(l: Recurrent, inputs: number, mask: string | undefined): string | undefined {
  const acts = [l.activation, ...(l instanceof GatedRecurrent ? [l.recurrentActivation] : [])];
  const bad = acts.find((a) => !ONNX_ACTIVATION[a]);
  if (bad) return `activation '${bad}' has no ONNX recurrent form (sigmoid, tanh, relu)`;
  if (l.steps !== undefined) return 'per-step recurrent kernels (steps) are not exported yet';
  if (inputs > 1) return 'initial-state inputs are not exported yet';
  if (mask === '') return 'its input mask (after a concatenation along time) is not exported yet';
  if (mask !== undefined && l.returnSequences && l.goBackwards) return 'a masked input (an Embedding with maskZero before it) with returnSequences and goBackwards is not exported yet';
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
 * it is reversed back into Keras' (processing) order. With `mask` (BOOL [N, T], Keras' input mask) masked steps are
 * skipped as our layers skip them (see {@link compact} and {@link spread}).
 */
export function writeRecurrent(
  g: OnnxGraph, l: Recurrent, x: string, steps: number, kernel: string, recurrent: string, bias: string | undefined, at: string, mask?: string,
): string[] {
  const u = l.units;
  const gates = l instanceof LSTM ? 4 : l instanceof GRU ? 3 : 1;
  // Keras LSTM blocks are i, f, c, o; ONNX wants i, o, f, c. GRU (z, r, h) and SimpleRNN already agree.
  const order = l instanceof LSTM ? [0, 3, 1, 2] : undefined;
  const perm = order && g.initializer(`${at}/gate_order`, 'int32', [gates * u], Int32Array.from(order.flatMap((b) => Array.from({ length: u }, (_, i) => b * u + i))));
  const first = g.int64s(`${at}/axis0`, [0]);
  const reorder = (v: string, axis: number): string => (perm ? g.node('Gather', [v, perm], `${v}/onnx_gates`, { axis }) : v);
  const asOnnx = (v: string, name: string): string => g.node('Unsqueeze', [g.node('Transpose', [reorder(v, 1)], `${at}/${name}_t`, { perm: [1, 0] }), first], `${at}/${name}`);
  const masked = mask === undefined ? undefined : compact(g, x, mask, steps, at);
  const inputs = [g.node('Transpose', [masked ? masked.x : x], `${at}/time_major`, { perm: [1, 0, 2] }), asOnnx(kernel, 'W'), asOnnx(recurrent, 'R')];
  if (bias !== undefined) {
    const gru2 = l instanceof GRU && l.resetAfter;
    const flat = gru2 ? g.node('Reshape', [bias, g.int64s(`${at}/B_shape`, [1, 2 * gates * u])], `${at}/B`)
      : g.node('Unsqueeze', [g.node('Concat', [reorder(bias, 0), g.node('ConstantOfShape', [g.int64s(`${at}/gu`, [gates * u])], `${at}/zero_bias`)], `${at}/B_flat`, { axis: 0 }), first], `${at}/B`);
    inputs.push(flat);
  }
  if (masked) inputs.push(...(bias === undefined ? [''] : []), masked.lengths);
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
  // A row with no real step keeps the zero state (ONNX runs it for one step, as sequence lengths must be ≥ 1).
  const final = (v: string, name: string): string => (masked ? g.node('Mul', [squeeze(v, 0, `${name}/unmasked`), masked.any], name) : squeeze(v, 0, name));
  const y = !l.returnSequences ? final(outs[1], at) : masked ? spread(g, l, outs[0], mask!, at) : g.node('Transpose', [tnu()], at, { perm: [1, 0, 2] });
  return l.returnState ? [y, ...outs.slice(1).map((s, k) => final(s, `${at}/state_${k}`))] : [y];
}

/**
 * Masked steps are skipped (the state stays): the same as running on each row's real steps alone, moved to the front in
 * their order (a stable sort by TopK on (1 − mask)·T + t, then GatherElements) with sequence_lens = their count (at
 * least 1). `any` [N, 1] is 1 for rows with a real step, 0 for the others.
 */
function compact(g: OnnxGraph, x: string, mask: string, steps: number, at: string): { x: string; lengths: string; any: string } {
  const m = g.node('Cast', [mask], `${at}/mask_f`, { to: dataType('float32') });
  const key = g.node('Add', [g.node('Mul', [g.node('Sub', [g.scalar(`${at}/one`, 1), m], `${at}/padding`), g.scalar(`${at}/steps`, steps)], `${at}/padding_last`),
    g.initializer(`${at}/positions`, 'float32', [steps], Float32Array.from({ length: steps }, (_, t) => t))], `${at}/order_key`);
  const [, order] = g.nodeOutputs('TopK', [key, g.int64s(`${at}/k`, [steps])], `${at}/order`, [`${at}/order_keys`, `${at}/order`], { axis: 1, largest: 0, sorted: 1 });
  const index = g.node('Expand', [g.node('Unsqueeze', [order, g.int64s(`${at}/axis2`, [2])], `${at}/order_3d`), g.node('Shape', [x], `${at}/x_shape`)], `${at}/gather_index`);
  const compacted = g.node('GatherElements', [x, index], `${at}/real_steps_first`, { axis: 1 });
  const count = g.node('ReduceSum', [m, g.int64s(`${at}/axis1`, [1])], `${at}/real_steps`, { keepdims: 1 });
  const lengths = g.node('Cast', [g.node('Squeeze', [g.node('Max', [count, g.scalar(`${at}/at_least_one`, 1)], `${at}/lengths_f`), g.int64s(`${at}/axis1b`, [1])], `${at}/lengths_1d`)], `${at}/sequence_lens`, { to: dataType('int32') });
  return { x: compacted, lengths, any: g.node('Min', [count, g.scalar(`${at}/one_max`, 1)], `${at}/has_steps`) };
}

/**
 * The sequence output of a masked run put back at the original steps: step t shows the output after the real steps up to
 * t (the k-th compacted output, k = their count), as the state stays over masked steps; 0 before the first real step, or
 * at every masked step with zeroOutputForMask.
 */
function spread(g: OnnxGraph, l: Recurrent, y: string, mask: string, at: string): string {
  const ynt = g.node('Transpose', [g.node('Squeeze', [y, g.int64s(`${at}/axis_dir`, [1])], `${at}/Y_compact_tnu`)], `${at}/Y_compact`, { perm: [1, 0, 2] });
  const rank = g.node('CumSum', [g.node('Cast', [mask], `${at}/mask_i`, { to: dataType('int32') }), g.int32(1)], `${at}/real_so_far`);
  const from = g.node('Max', [g.node('Sub', [rank, g.int32(1)], `${at}/last_real`), g.int32(0)], `${at}/source_step`);
  const index = g.node('Expand', [g.node('Unsqueeze', [from, g.int64s(`${at}/axis_u`, [2])], `${at}/source_3d`), g.node('Shape', [ynt], `${at}/y_shape`)], `${at}/source_index`);
  const keep = l.zeroOutputForMask ? mask : g.node('Greater', [rank, g.int32(0)], `${at}/started`);
  const keep3 = g.node('Unsqueeze', [g.node('Cast', [keep], `${at}/keep_f`, { to: dataType('float32') }), g.int64s(`${at}/axis_k`, [2])], `${at}/keep`);
  return g.node('Mul', [g.node('GatherElements', [ynt, index], `${at}/spread`, { axis: 1 }), keep3], at);
}
