#!/usr/bin/env node
// Issue 11's accuracy target: our GPT and scripts/reference-gpt.py's PyTorch twin, each trained for the same wall-clock
// budget on the same windows in the same order, then scored on the same validation windows (nats per character).
//
// Usage (from the repository root, after `npm run build` and `node scripts/export-dataset.mjs sotu-char`):
//   node scripts/gpt-vs-torch.mjs [--seconds 180] [--seeds 0,1] [--eval-windows 2000] [--threads 2] [--data /tmp/ws-data/sotu-char]
//     [--torch-threads 2] [--blas-threads 1]
// Runs ours, then PyTorch (by default 2 intra-op threads, OpenBLAS 1; take its best setting in bench:transformer's grid), one engine
// at a time, per seed (reference-gpt.py keeps freed memory in glibc's malloc itself, as the benchmarks run PyTorch: scripts/torch_malloc.py); prints each run and appends one JSON line per run to /tmp/ws-data/gpt-vs-torch.jsonl.
// Recipe (both): 4 layers, 4 heads, dim 128, context 64, batch 32, Adam lr 1e-3 (eps 1e-7), no clipping, no dropout.
import { spawnSync } from 'node:child_process';
import { appendFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Adam, createGptModel, setThreads } from '../dist/src/index.js';

const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : fallback;
};
const seconds = Number(opt('seconds', 180));
const seeds = opt('seeds', '0').split(',').map(Number);
const evalWindows = Number(opt('eval-windows', 2000));
const threads = Number(opt('threads', 2));
const dir = opt('data', '/tmp/ws-data/sotu-char');
const torchThreads = opt('torch-threads', String(threads)), blasThreads = opt('blas-threads', '1');
const log = '/tmp/ws-data/gpt-vs-torch.jsonl';

const meta = JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8'));
const ints = (name) => {
  const b = readFileSync(join(dir, name));
  return new Int32Array(b.buffer, b.byteOffset, b.byteLength / 4);
};
const T = meta.bptt;
const [xTrain, yTrain] = [ints('x_train.i32'), ints('y_train.i32')];
const [xValid, yValid] = [ints('x_valid.i32').subarray(0, evalWindows * T), ints('y_valid.i32').subarray(0, evalWindows * T)];
const nTrain = xTrain.length / T, nValid = xValid.length / T;
setThreads(threads);

for (const seed of seeds) {
  const m = createGptModel({ vocab: meta.vocab, context: T }).build(seed);
  m.compile({ optimizer: new Adam({ learningRate: 1e-3 }), loss: 'sparse_categorical_crossentropy' });
  let start = 0, steps = 0, trained = 0;
  await m.fit({ data: xTrain, shape: [nTrain, T] }, { data: yTrain, shape: [nTrain, T] }, {
    epochs: 1, batchSize: 32, seed, shuffle: true,
    callbacks: [{
      onEpochBegin: () => { start = performance.now(); },
      onBatchEnd: () => {
        steps++;
        trained = (performance.now() - start) / 1000;
        if (trained >= seconds) m.stopTraining = true;
      },
    }],
  });
  const t0 = performance.now();
  const val = m.evaluate({ data: xValid, shape: [nValid, T] }, { data: yValid, shape: [nValid, T] }, { batchSize: 256 }).loss;
  const rec = {
    engine: 'weightshare', seed, steps, seconds: trained, tokensPerSec: (steps * 32 * T) / trained, valLoss: val, bitsPerChar: val / Math.LN2,
    evalWindows: nValid, evalSeconds: (performance.now() - t0) / 1000, parameters: m.countParams(), threads,
  };
  m.dispose();
  console.log(JSON.stringify(rec));
  appendFileSync(log, JSON.stringify(rec) + '\n');
  const py = spawnSync(process.env.PYTHON ?? '/usr/bin/python3', [
    'scripts/reference-gpt.py', '--data', dir, '--seconds', String(seconds), '--seed', String(seed), '--threads', torchThreads,
    '--eval-windows', String(evalWindows), '--log', log,
  ], { stdio: 'inherit', env: { ...process.env, OPENBLAS_NUM_THREADS: blasThreads } });
  if (py.status !== 0) process.exit(py.status ?? 1);
}
