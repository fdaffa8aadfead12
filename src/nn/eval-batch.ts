// How many samples to evaluate or predict at once: as many as asked, unless one attention layer's scores would not fit.
import type { Layer } from './layer.js';
import { MultiHeadAttention } from './layers/multi-head-attention.js';
import type { Model } from './model.js';

/** Bytes one attention layer's scores may take in an evaluation batch (inference frees each layer's values after it). */
const ATTENTION_BYTES = 2 ** 30;

/**
 * The batch size to evaluate and predict `model` with: `wanted`, or less for a model with attention over long sequences,
 * so that one attention layer's scores (batch × heads × query length × key length floats) stay within 1 GiB of the wasm
 * engine's 4. Inference frees each layer's values once the next has read them, so one layer's is what must fit: a GPT
 * trained at context 1024 with batch 32 (2 GiB of attention probabilities over its 4 layers) would need 4 GiB per
 * layer at a batch of 256, and gets 64.
 */
export function evaluationBatchSize(model: Model, wanted: number): number {
  let perSample = 0;
  const visit = (l: Layer): void => {
    if (l instanceof MultiHeadAttention && l.inputShapes) {
      const [q, v] = l.inputShapes;
      const t = q.length > 1 ? q[0] : 1, s = v !== undefined && v.length > 1 ? v[0] : t;
      perSample = Math.max(perSample, l.numHeads * t * s * 4);
    }
    for (const c of l.sublayers()) visit(c);
  };
  for (const l of model.layers) visit(l);
  return perSample === 0 ? wanted : Math.max(1, Math.min(wanted, Math.floor(ATTENTION_BYTES / perSample)));
}
