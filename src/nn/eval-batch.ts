// How many samples to evaluate or predict at once: as many as asked, unless the largest thing one layer holds would not fit.
import type { Layer } from './layer.js';
import { Block } from './layers/block.js';
import { MultiHeadAttention } from './layers/multi-head-attention.js';
import { Recurrent } from './layers/recurrent.js';
import type { Model } from './model.js';

/** Bytes the largest per-layer item of an evaluation batch may take (inference frees each layer's values after it). */
const LAYER_BYTES = 2 ** 30;
/** Copies of a layer's output an evaluation holds at once (the output, its softmax or logits, the loss's per-position terms). */
const OUTPUT_COPIES = 4;
/** Floats per unit and step a recurrent layer holds in a forward pass, at most: LSTM's 4 gate inputs, 6 saved values, 1 output. */
const RECURRENT_FLOATS = 11;

/**
 * The batch size to evaluate and predict `model` with: `wanted`, or less when one layer's share of a batch would pass
 * 1 GiB of the wasm engine's 4 — the copies of its output an evaluation holds (a word model's scores over a 10,000-word
 * vocabulary at 256 steps take 10 MB per sample), an attention layer's scores (heads × query length × key length), a
 * recurrent layer's per-step values. Inference frees each layer's values once the next has read them, so one layer's
 * is what must fit: a GPT trained at context 1024 with batch 32 is evaluated in batches of 64, not 256.
 */
export function evaluationBatchSize(model: Model, wanted: number): number {
  let perSample = 0;
  const elements = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);
  const visit = (l: Layer): void => {
    const shapes = l.inputShapes;
    if (l instanceof MultiHeadAttention && shapes) {
      const [q, v] = shapes;
      const t = q.length > 1 ? q[0] : 1, s = v !== undefined && v.length > 1 ? v[0] : t;
      perSample = Math.max(perSample, l.numHeads * t * s * 4);
    }
    if (l instanceof Recurrent && shapes) perSample = Math.max(perSample, (shapes[0].length > 1 ? shapes[0][0] : 1) * RECURRENT_FLOATS * l.units * 4);
    if (l instanceof Block) for (const n of l.innerModel.graph) for (const o of n.outputs) perSample = Math.max(perSample, elements(o.shape) * 4 * OUTPUT_COPIES);
    for (const c of l.sublayers()) visit(c);
  };
  for (const n of model.graph) for (const o of n.outputs) perSample = Math.max(perSample, elements(o.shape) * 4 * OUTPUT_COPIES);
  for (const l of model.layers) visit(l);
  return perSample === 0 ? wanted : Math.max(1, Math.min(wanted, Math.floor(LAYER_BYTES / perSample)));
}
