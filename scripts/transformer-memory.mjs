#!/usr/bin/env node
// The measurements behind `weightshare train`'s transformer memory check (transformerTrainingBytes in src/cli/train.ts):
// the peak bytes the wasm engine holds during one training epoch of a gpt (batch 32, 4 heads, one batch). Usage:
// node scripts/transformer-memory.mjs CONTEXT [LAYERS=4] [DIM=128] (after npm run build; a context past what fits ends
// in the engine's out-of-memory error, which is the point of the check). Session fifteen's
// fit: 4 layers, dim 16–256, context 256–1024, the estimate within 10 % of the peak (context 256, dim 128: 0.86 GiB
// measured, 0.93 estimated; context 768: 3.34 GiB measured).
import { createTextModel, getBackend, setThreads } from '../dist/src/index.js';

const T = Number(process.argv[2] ?? 256), L = Number(process.argv[3] ?? 4), D = Number(process.argv[4] ?? 128), B = 32, H = 4, V = 50;
setThreads(2);
const be = getBackend();
let peak = 0;
const alloc = be.alloc.bind(be);
be.alloc = (n, d) => {
  const r = alloc(n, d);
  peak = Math.max(peak, be.bytesInUse());
  return r;
};
const m = createTextModel('gpt', { vocab: V, length: T, dim: D, heads: H, layers: L }).build(0);
m.compile({ optimizer: 'adam', loss: 'sparse_categorical_crossentropy' });
const ids = new Int32Array(B * T).map((_, i) => (i * 7) % V);
const base = be.bytesInUse();
await m.fit({ data: ids, shape: [B, T] }, { data: ids, shape: [B, T] }, { epochs: 1, batchSize: B, verbose: 0 });
const probs = L * B * H * T * T * 4;
console.log(`context ${T}, ${L} layers, dim ${D}, batch ${B}, ${H} heads: peak ${((peak - base) / 2 ** 30).toFixed(3)} GiB above the weights; attention probabilities ${(probs / 2 ** 30).toFixed(3)} GiB`);
