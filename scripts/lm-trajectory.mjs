#!/usr/bin/env node
// Issue 10's trajectory check: our char-lstm (built and compiled as `weightshare train --model char-lstm` does) and
// scripts/reference-lm.py's PyTorch model, started from the SAME initial weights (ours, copied into PyTorch) and trained
// for the same K updates on the same windows in the same order (the first K·batch training windows, no shuffling).
// Prints both per-update loss curves side by side, the max |Δloss|, the first update where they differ by more than
// --tol, and the largest differences of the weights after K updates.
//
// Usage (from the repository root, after `npm run build` and `node scripts/export-dataset.mjs sotu-char [dir]`):
//   WEIGHTSHARE_THREADS=1 nice -n 19 node scripts/lm-trajectory.mjs [--seed 0] [--steps 200] [--lr 0.001] [--clipnorm 1]
//     [--every 10] [--tol 1e-3] [--data /tmp/ws-data/sotu-char] [--work /tmp/lm-trajectory] [--freeze-bhh] [--out FILE.jsonl]
//   --clipnorm 0: no clipping on either side; --freeze-bhh: PyTorch's second LSTM bias b_hh stays 0 and untrained
//   (Keras and weightshare have one bias; reference-lm.py by default trains both b_ih and b_hh).
// PyTorch runs through /usr/bin/python3 with one thread (OPENBLAS_NUM_THREADS=1, torch threads 1).
import { spawnSync } from 'node:child_process';
import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadTextDataset } from '../dist/src/data/corpora.js';
import { createOptimizer, createTextModel, setThreads, tensor } from '../dist/src/index.js';

const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : fallback;
};
const seed = Number(opt('seed', 0));
const steps = Number(opt('steps', 200));
const lr = Number(opt('lr', 1e-3));
const clipnorm = Number(opt('clipnorm', 1));
const every = Number(opt('every', 10));
const tol = Number(opt('tol', 1e-3));
const dataDir = opt('data', '/tmp/ws-data/sotu-char');
const work = join(opt('work', '/tmp/lm-trajectory'), `seed${seed}-k${steps}-lr${lr}-clip${clipnorm}${args.includes('--freeze-bhh') ? '-freeze' : ''}`);
const outFile = opt('out');
const batch = 32;
setThreads(Number(process.env.WEIGHTSHARE_THREADS ?? 1));

// The CLI's data: sotu at char level, windows of 64 (loadTextForCli → loadTextDataset; --limit keeps the first N windows).
const { dataset: ds, tokenizer } = loadTextDataset('sotu', { level: 'char', bptt: 64 });
const T = ds.shape[0];
const n = steps * batch;
if (n > ds.xTrain.length / T) throw new Error(`${steps} updates of ${batch} need ${n} windows; the training split has ${ds.xTrain.length / T}`);
// PyTorch reads the exported files: check that they hold the same windows.
const meta = JSON.parse(readFileSync(join(dataDir, 'meta.json'), 'utf8'));
const ints = (name) => {
  const b = readFileSync(join(dataDir, name));
  return new Int32Array(b.buffer, b.byteOffset, b.byteLength / 4);
};
const [xExp, yExp] = [ints('x_train.i32'), ints('y_train.i32')];
if (meta.bptt !== T || meta.vocab !== tokenizer.vocabSize) throw new Error(`${dataDir}: bptt ${meta.bptt}, vocab ${meta.vocab}; ours ${T}, ${tokenizer.vocabSize}`);
for (let i = 0; i < n * T; i++) {
  if (xExp[i] !== ds.xTrain[i] || yExp[i] !== ds.yTrain[i]) throw new Error(`${dataDir}: window ${Math.floor(i / T)} differs from ours: re-export it`);
}

// The model and its compilation as src/cli/train.ts makes them for `--model char-lstm` at its defaults.
const m = createTextModel('char-lstm', { vocab: tokenizer.vocabSize, length: T }).build(seed);
m.compile({
  optimizer: createOptimizer({ name: 'adam', learningRate: lr, ...(clipnorm > 0 ? { globalClipnorm: clipnorm } : {}) }),
  loss: 'sparse_categorical_crossentropy', metrics: ['bits_per_char'],
});
const saveWeights = (dir, weights) => {
  mkdirSync(dir, { recursive: true });
  const shapes = {};
  const byName = new Map(m.namedParameters().map((p) => [p.name, p.param.value.shape]));
  for (const [name, v] of weights) {
    shapes[name] = byName.get(name);
    writeFileSync(join(dir, `${name.replaceAll('/', '__')}.f32`), Buffer.from(v.buffer, v.byteOffset, v.byteLength));
  }
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(shapes));
};
const readWeights = (dir) => {
  const shapes = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
  return new Map(Object.keys(shapes).map((name) => {
    const b = readFileSync(join(dir, `${name.replaceAll('/', '__')}.f32`));
    return [name, new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength))];
  }));
};
const init = m.getWeights();
saveWeights(join(work, 'init'), init);

const ours = [];
let t0 = process.cpuUsage();
for (let s = 0; s < steps; s++) {
  const xb = tensor(ds.xTrain.slice(s * batch * T, (s + 1) * batch * T), [batch, T], 'int32');
  const yb = tensor(ds.yTrain.slice(s * batch * T, (s + 1) * batch * T), [batch, T], 'int32');
  ours.push(m.trainOnBatch(xb, yb).loss);
  xb.dispose();
  yb.dispose();
}
const oursCpu = (process.cpuUsage(t0).user + process.cpuUsage(t0).system) / 1e6;
saveWeights(join(work, 'ours-final'), m.getWeights());

const py = spawnSync('/usr/bin/python3', [
  'scripts/reference-lm.py', '--data', dataDir, '--seeds', String(seed), '--epochs', '1', '--limit', String(n), '--threads', '1',
  '--lr', String(lr), '--clipnorm', String(clipnorm > 0 ? clipnorm : 1e30), '--init-from', join(work, 'init'), '--no-shuffle',
  '--steps', String(steps), '--log-steps', join(work, 'torch-steps.json'), '--save-final', join(work, 'torch-final'),
  ...(args.includes('--freeze-bhh') ? ['--freeze-bhh'] : []),
], { env: { ...process.env, OPENBLAS_NUM_THREADS: '1', OMP_NUM_THREADS: '1' }, encoding: 'utf8' });
if (py.status !== 0) throw new Error(`reference-lm.py failed (${py.status}):\n${py.stdout}\n${py.stderr}`);
process.stdout.write(py.stdout);
const torchLog = JSON.parse(readFileSync(join(work, 'torch-steps.json'), 'utf8'));
const theirs = torchLog.losses;

console.log(`char-lstm seed ${seed}, ${steps} updates of ${batch} windows in order, Adam lr ${lr} eps 1e-7, clipnorm ${clipnorm || 'none'}${args.includes('--freeze-bhh') ? ', torch b_hh frozen at 0' : ''}`);
console.log('update  ours      torch     Δ (ours - torch)');
const diffs = ours.map((l, i) => l - theirs[i]);
for (let i = 0; i < steps; i++) {
  if (i === 0 || (i + 1) % every === 0 || i === steps - 1) console.log(`${String(i + 1).padStart(6)}  ${ours[i].toFixed(5)}  ${theirs[i].toFixed(5)}  ${diffs[i] >= 0 ? '+' : ''}${diffs[i].toExponential(2)}`);
}
const absd = diffs.map(Math.abs);
const maxAbs = Math.max(...absd);
const firstOver = absd.findIndex((d) => d > tol);
const mean = (a, from, to) => a.slice(from, to).reduce((s, x) => s + x, 0) / (to - from);
console.log(`max |Δloss| ${maxAbs.toExponential(3)} (at update ${absd.indexOf(maxAbs) + 1}); first |Δ| > ${tol}: ${firstOver < 0 ? 'none' : `update ${firstOver + 1}`}`);
console.log(`mean loss over the last ${Math.min(50, steps)} updates: ours ${mean(ours, Math.max(0, steps - 50), steps).toFixed(5)}, torch ${mean(theirs, Math.max(0, steps - 50), steps).toFixed(5)}`);

// Weights after K updates: the largest |Δ| per tensor (and relative to the tensor's own change from init).
const a = m.getWeights(), b = readWeights(join(work, 'torch-final'));
const weightDiffs = {};
for (const [name, v] of a) {
  const w = b.get(name), w0 = init.get(name);
  let d = 0, moved = 0;
  for (let i = 0; i < v.length; i++) {
    d = Math.max(d, Math.abs(v[i] - w[i]));
    moved = Math.max(moved, Math.abs(v[i] - w0[i]));
  }
  weightDiffs[name] = { maxAbsDiff: d, maxAbsMoved: moved };
  console.log(`${name.padEnd(22)} max |ours - torch| ${d.toExponential(2)}, max |ours - init| ${moved.toExponential(2)}`);
}
if (outFile) {
  appendFileSync(outFile, JSON.stringify({
    seed, steps, batch, lr, clipnorm, freezeBhh: args.includes('--freeze-bhh'), ours, torch: theirs, maxAbsDiff: maxAbs,
    firstOverTol: firstOver < 0 ? null : firstOver + 1, tol, weightDiffs, oursCpuSeconds: oursCpu, torchVersion: torchLog.torch,
    command: `node scripts/lm-trajectory.mjs ${args.join(' ')}`,
  }) + '\n');
}
