// `npm run bench:profile`: where a training step of the reference CNN (or, with `--model lstm`, of an LSTM layer: batch
// 32, T 64, E 128, 256 units, MSE on its output sequence; with `--model char-lstm`, of bench:rnn's whole language model:
// Embedding(100, 128) → LSTM(256) → Dense(100) softmax, sparse cross-entropy; with `--model attention`, of one causal
// MultiHeadAttention layer: batch 32, T 64, dim 128, 4 heads of 32, MSE on its output; with `--model <text model>`, of
// that zoo language model at its defaults, e.g. `--model gpt`: 4 layers, 4 heads, dim 128) spends its time, kernel by kernel.
// Wraps every kernel method of the active backend with a timer (the backend's calls are synchronous:
// each returns when every thread is done), runs seeded training steps on random data at one batch size,
// and prints per-kernel milliseconds per step; "JavaScript and the tape" is the step's wall time minus the kernels'.
// The process CPU time per step is printed too: on a shared machine it moves less than the wall time (with one thread
// it is the figure to compare; with more it also counts the workers' spinning).
// `--implementation 1` runs the LSTM as small ops per step instead of the fused recurrence.
// Beside the means, the least time of any one step (per kernel, and for the step): on a machine other jobs share, the
// minimum is what the code costs and the mean what the moment cost.
import { performance } from 'node:perf_hooks';
import { Adam, createModel, createTextModel, getBackend, layers, type Model, sequential, setThreads, tensor, TEXT_MODEL_NAMES, tidy } from '../src/index.js';

interface Row { calls: number; ms: number; cpu: number; cur: number; min: number; per: number[] }

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

const modelAt = process.argv.indexOf('--model');
const modelArg = modelAt >= 0 ? process.argv[modelAt + 1] ?? '' : '';
const attention = modelArg === 'attention';
/** A zoo text model other than char-lstm (e.g. gpt), at its defaults. */
const zooLm = modelArg !== 'char-lstm' && (TEXT_MODEL_NAMES as readonly string[]).includes(modelArg) ? modelArg : undefined;
const lm = modelArg === 'char-lstm' || zooLm !== undefined;
// The sequence models share the LSTM's data shapes: [batch, T, E] inputs (ids for the LMs), [batch, T, U] targets.
const lstm = lm || attention || process.argv.includes('lstm');
const batch = arg('batch', 32);
const threads = arg('threads', 2);
const steps = arg('steps', lstm ? 20 : 200);
const implementation = arg('implementation', 2) === 1 ? 1 : 2;
// --vocab, --length, --embed and --hidden resize the language model (e.g. a word-level LM: --vocab 5000 --length 32).
const VOCAB = arg('vocab', 100);
const [T, E, U] = attention ? [64, 128, 128] : [arg('length', 64), arg('embed', 128), arg('hidden', 256)];
const warm = 20;
setThreads(threads);
const be = getBackend() as unknown as Record<string, unknown>;
const rows = new Map<string, Row>();
let on = false;
const proto = Object.getPrototypeOf(be) as Record<string, unknown>;
for (const name of Object.getOwnPropertyNames(proto)) {
  const d = Object.getOwnPropertyDescriptor(proto, name);
  const f = d?.value;
  if (typeof f !== 'function' || name === 'constructor' || ['alloc', 'free', 'alias', 'read', 'write', 'bytesInUse', 'dispose'].includes(name)) continue;
  be[name] = function (this: unknown, ...args: unknown[]) {
    if (!on) return (f as (...a: unknown[]) => unknown).apply(be, args);
    const conv = name.startsWith('conv2d') ? args.find((a) => a !== null && typeof a === 'object') as { c: number; f: number; kh: number; kw: number } : undefined;
    const gemm = name === 'gemm' ? args[3] as { m: number; n: number; k: number; transA: boolean; transB: boolean } : undefined;
    const key = conv ? `${name} ${conv.kh}×${conv.kw}×${conv.c}→${conv.f}` : gemm ? `gemm ${gemm.m}×${gemm.k}${gemm.transA ? 'ᵀ' : ''}·${gemm.k}×${gemm.n}${gemm.transB ? 'ᵀ' : ''}` : name === 'unary' || name === 'binary' || name === 'reduce' || name === 'biasAct' ? `${name}:${String(name === 'biasAct' ? args[5] : args[0])}` : name;
    const t = performance.now();
    const c = process.cpuUsage();
    const r = (f as (...a: unknown[]) => unknown).apply(be, args);
    const dc = process.cpuUsage(c);
    const row = rows.get(key) ?? { calls: 0, ms: 0, cpu: 0, cur: 0, min: Infinity, per: [] };
    const dt = performance.now() - t;
    row.calls++;
    row.ms += dt;
    row.cur += dt;
    row.cpu += (dc.user + dc.system) / 1000;
    rows.set(key, row);
    return r;
  };
}
const model: Model = zooLm
  ? createTextModel(zooLm, { vocab: VOCAB, length: T }).build(1)
  : lm
  ? createTextModel('char-lstm', { vocab: VOCAB, length: T, embed: E, hidden: U, layers: 1 }).build(1)
  : attention
  ? sequential([layers.multiHeadAttention({ numHeads: 4, keyDim: 32, useCausalMask: true, inputShape: [T, E] })]).build(1)
  : lstm
  ? sequential([layers.lstm({ units: U, returnSequences: true, implementation, inputShape: [T, E] })]).build(1)
  : createModel('seed-cnn').build(1);
model.compile({ optimizer: new Adam({ learningRate: 1e-3 }), loss: lstm && !lm ? 'mse' : 'sparse_categorical_crossentropy' });
let s = 1;
const rnd = (): number => ((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32);
const ids = (): Int32Array => new Int32Array(batch * T).map(() => Math.floor(rnd() * VOCAB));
const x = lm ? ids() : new Float32Array(batch * (lstm ? T * E : 784)).map(rnd);
const y = lm ? ids() : lstm ? new Float32Array(batch * T * U).map(rnd) : new Int32Array(batch).map(() => Math.floor(rnd() * 10));
const step = (): number => tidy(() => model.trainOnBatch(
  tensor(x, lm ? [batch, T] : lstm ? [batch, T, E] : [batch, 28, 28, 1], lm ? 'int32' : 'float32'),
  tensor(y, lm ? [batch, T] : lstm ? [batch, T, U] : [batch], lstm && !lm ? 'float32' : 'int32'),
).loss);
for (let i = 0; i < (lstm ? 3 : warm); i++) step();
on = true;
let minWall = Infinity, minJs = Infinity;
const walls: number[] = [], jsPer: number[] = [];
/** The q-quantile (nearest rank) of per-step times. */
const quantile = (a: number[], q: number): number => [...a].sort((u, v) => u - v)[Math.min(a.length - 1, Math.floor(q * a.length))] ?? 0;
const t0 = performance.now();
const c0 = process.cpuUsage();
for (let i = 0; i < steps; i++) {
  const ts = performance.now();
  step();
  const dt = performance.now() - ts;
  let inKernels = 0;
  for (const r of rows.values()) {
    inKernels += r.cur;
    r.min = Math.min(r.min, r.cur);
    r.per.push(r.cur);
    r.cur = 0;
  }
  walls.push(dt);
  jsPer.push(dt - inKernels);
  minWall = Math.min(minWall, dt);
  minJs = Math.min(minJs, dt - inKernels);
}
const wall = (performance.now() - t0) / steps;
const c1 = process.cpuUsage(c0);
const cpuMs = (c1.user + c1.system) / 1000 / steps;
on = false;
let kernels = 0;
let kernelsCpu = 0;
const sorted = [...rows.entries()].sort((a, b) => b[1].ms - a[1].ms);
const what = zooLm ? `${zooLm} LM (vocabulary ${VOCAB}, T ${T}, zoo defaults), ` : lm ? `char-lstm LM (vocabulary ${VOCAB}, T ${T}, E ${E}, ${U} units), ` : attention ? `causal MultiHeadAttention (T ${T}, dim ${E}, 4 heads of 32), ` : lstm ? `LSTM (T ${T}, E ${E}, ${U} units, implementation ${implementation}), ` : '';
console.log(`${what}batch ${batch}, ${threads} thread(s), ${steps} steps: ${wall.toFixed(3)} ms per step (${(batch / wall * 1000).toFixed(0)} samples/s${lstm ? `, ${(batch * T / wall * 1000).toFixed(0)} tokens/s` : ''}), fastest step ${minWall.toFixed(3)} ms, median ${quantile(walls, 0.5).toFixed(3)} ms, 90th percentile ${quantile(walls, 0.9).toFixed(3)} ms, process CPU ${cpuMs.toFixed(1)} ms per step`);
console.log('| kernel | calls/step | ms/step | share | least ms in a step | median | 90th percentile | CPU ms/step |');
console.log('|---|---:|---:|---:|---:|---:|---:|---:|');
for (const [k, r] of sorted) {
  kernels += r.ms / steps;
  kernelsCpu += r.cpu / steps;
  console.log(`| ${k} | ${(r.calls / steps).toFixed(1)} | ${(r.ms / steps).toFixed(3)} | ${(r.ms / steps / wall * 100).toFixed(1)} % | ${r.min.toFixed(3)} | ${quantile(r.per, 0.5).toFixed(3)} | ${quantile(r.per, 0.9).toFixed(3)} | ${(r.cpu / steps).toFixed(1)} |`);
}
console.log(`| JavaScript and the tape (wall − kernels) | | ${(wall - kernels).toFixed(3)} | ${((wall - kernels) / wall * 100).toFixed(1)} % | ${minJs.toFixed(3)} | ${quantile(jsPer, 0.5).toFixed(3)} | ${quantile(jsPer, 0.9).toFixed(3)} | ${(cpuMs - kernelsCpu).toFixed(1)} |`);
