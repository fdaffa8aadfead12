// MultiHeadAttention and position encodings as ONNX compositions: projections as MatMul, scaled dot products, a causal bias, Softmax.
import type { MultiHeadAttention } from '../../nn/layers/multi-head-attention.js';
import { sineEncoding } from '../../nn/layers/sine-position-encoding.js';
import { dataType, type OnnxGraph } from './builder.js';

/** A projection sublayer's W and b as values (our layout: kernel [...in, ...units], bias [...units]). */
export type Weights = (sublayer: string, weight: 'kernel' | 'bias') => string;

/**
 * Attention on query [N, Tq, F] (value = key = query for self-attention, else given): Q, K, V by MatMul with kernels
 * reshaped to [F, H·D], heads by Reshape [N, T, H, D] → Transpose [N, H, T, D], Softmax(scale · Q·Kᵀ + causal bias of −∞
 * above the diagonal) · V, heads merged back [N, Tq, H·Dv] and projected. With Keras masks (BOOL [N, T] per input, as
 * the layer reads them: the query's, the value's — the query's for one input — and the key's) live = q[i]·v[j]·k[j] as
 * float [N, 1, Tq, Tv] adds (1 − live)·(−1e9) to the scores and multiplies the softmax by live, Keras' masked Softmax.
 * Returns the output and the probabilities [N, H, Tq, Tv] (the scores a layer with returnAttentionScores returns too).
 */
export function writeAttention(
  g: OnnxGraph, l: MultiHeadAttention, inputs: readonly string[], shapes: readonly (readonly number[])[], w: Weights, at: string, masks: readonly (string | undefined)[] = [],
): [string, string] {
  const [query, value = query, key = value] = inputs;
  const [qs, vs = qs, ks = vs] = shapes;
  const h = l.numHeads;
  const project = (x: string, features: number, sub: string, d: number): string => {
    let y = g.node('MatMul', [x, g.node('Reshape', [w(sub, 'kernel'), g.int64s(`${at}/${sub}/kernel_2d`, [features, h * d])], `${at}/${sub}/kernel_2d`)], `${at}/${sub}/matmul`);
    if (l.useBias) y = g.node('Add', [y, g.node('Reshape', [w(sub, 'bias'), g.int64s(`${at}/${sub}/bias_1d`, [h * d])], `${at}/${sub}/bias_1d`)], `${at}/${sub}/biased`);
    const split = g.node('Reshape', [y, g.int64s(`${at}/${sub}/heads_shape`, [0, 0, h, d])], `${at}/${sub}/heads`);
    return g.node('Transpose', [split], `${at}/${sub}/by_head`, { perm: [0, 2, 1, 3] });
  };
  const q = project(query, qs[1], 'query', l.keyDim);
  const k = project(key, ks[1], 'key', l.keyDim);
  const v = project(value, vs[1], 'value', l.valueDim);
  let scores = g.node('Mul', [g.node('MatMul', [q, g.node('Transpose', [k], `${at}/key_t`, { perm: [0, 1, 3, 2] })], `${at}/qk`), g.scalar(`${at}/scale`, 1 / Math.sqrt(l.keyDim))], `${at}/scores`);
  if (l.useCausalMask) {
    const [tq, tv] = [qs[0], vs[0]];
    const bias = new Float32Array(tq * tv);
    for (let i = 0; i < tq; i++) for (let j = i + 1; j < tv; j++) bias[i * tv + j] = -Infinity;
    scores = g.node('Add', [scores, g.initializer(`${at}/causal_bias`, 'float32', [tq, tv], bias)], `${at}/causal_scores`);
  }
  const qm = masks[0];
  const vm = inputs.length > 1 ? masks[1] : qm;
  const km = inputs.length > 2 ? masks[2] : undefined;
  const steps = (m: string, axes: number[], name: string): string => g.node('Unsqueeze', [g.node('Cast', [m], `${at}/${name}_mask_f`, { to: dataType('float32') }), g.int64s(`${at}/${name}_mask_axes`, axes)], `${at}/${name}_mask`);
  const parts = [qm && steps(qm, [1, 3], 'query'), vm && steps(vm, [1, 2], 'value'), km && steps(km, [1, 2], 'key')].filter((m): m is string => !!m);
  const live = parts.length ? parts.slice(1).reduce((a, b) => g.node('Mul', [a, b], `${at}/live`), parts[0]) : undefined;
  if (live) {
    const dead = g.node('Mul', [g.node('Sub', [g.scalar(`${at}/one`, 1), live], `${at}/dead`), g.scalar(`${at}/mask_value`, -1e9)], `${at}/mask_bias`);
    scores = g.node('Add', [scores, dead], `${at}/masked_scores`);
  }
  let p = g.node('Softmax', [scores], `${at}/weights`, { axis: -1 });
  if (live) p = g.node('Mul', [p, live], `${at}/masked_weights`);
  const o = g.node('Transpose', [g.node('MatMul', [p, v], `${at}/context`)], `${at}/context_by_step`, { perm: [0, 2, 1, 3] });
  const merged = g.node('Reshape', [o, g.int64s(`${at}/merged_shape`, [0, 0, h * l.valueDim])], `${at}/merged`);
  const outDim = l.outputDim ?? qs[1];
  let y = g.node('MatMul', [merged, g.node('Reshape', [w('attention_output', 'kernel'), g.int64s(`${at}/attention_output/kernel_2d`, [h * l.valueDim, outDim])], `${at}/attention_output/kernel_2d`)], `${at}/output_matmul`);
  if (l.useBias) y = g.node('Add', [y, w('attention_output', 'bias')], at);
  return [y, p];
}

/** A [T, D] table of positions (the first T rows of `table`) broadcast to x's shape, as the position layers return. */
export function writePositions(g: OnnxGraph, x: string, table: string, steps: number, at: string): string {
  const rows = g.node('Slice', [table, g.int64s(`${at}/start`, [0]), g.int64s(`${at}/end`, [steps]), g.int64s(`${at}/axis`, [0])], `${at}/rows`);
  return g.node('Expand', [rows, g.node('Shape', [x], `${at}/input_shape`)], at);
}

/** The fixed sinusoidal table [T, D] of SinePositionEncoding, broadcast to x's shape. */
export function writeSinePositions(g: OnnxGraph, x: string, steps: number, dim: number, maxWavelength: number, at: string): string {
  const table = g.initializer(`${at}/table`, 'float32', [steps, dim], sineEncoding(steps, dim, maxWavelength));
  return g.node('Expand', [table, g.node('Shape', [x], `${at}/input_shape`)], at);
}
