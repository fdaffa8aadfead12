// `npm run bench:roofline`: how fast our training of the two language-model benchmarks could be on this machine at
// most, beside how fast it is and how fast PyTorch is, in the same run. The bound: a step's matrix arithmetic (the
// GEMMs, the fused attention's and the fused recurrence's products, counted by wrapping the backend for one training
// step) at the wasm SIMD multiply-add peak of this machine (bench/fma-peak.ts: twelve register-only f32x4 FMA chains
// per thread, every thread at once), as if nothing else took time. PyTorch's side: its step in a fresh process at its
// usual best setting (torch 1 intra-op thread, OpenBLAS on all cores) and its own products (torch.mm / bmm) at the
// very shapes of our step. The last column, PyTorch's step over our bound, is the most "ours / PyTorch" any wasm
// kernel could reach here: a speed target above it cannot be met by 128-bit wasm SIMD on this machine.
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { AttentionParams, GemmParams, RnnBackwardBufs, RnnParams } from '../src/backend/backend.js';
import { fmaPeak } from './fma-peak.js';
import { BATCH, BPTT, closeLmData, type LmBenchSpec, type LmData, type LmResult, type LmWorkerConfig, measureOurs, measureTorch, openLmData, type Plan } from './lm-bench.js';
import { GPT_SPEC, RNN_SPEC } from './lm-specs.js';
import { describePeer, findTorchPeer, type PeerSetting, runPeerWorker, settingLabel } from './torch-peer.js';
import { lastJsonLine, machine, stealMeter, writeSection } from './util.js';

/** One matrix product of a step as our backend ran it (for PyTorch's gemm worker). */
interface Product { batch: number; m: number; n: number; k: number; transA: boolean; transB: boolean }

/** What one training step multiplies: matrix flops by kernel, and the GEMMs' shapes. */
interface StepCount { flops: Map<string, number>; gemms: Product[]; uncounted: Set<string> }

const GATES: Record<RnnParams['cell'], number> = { simple: 1, lstm: 4, gru: 3 };

/** Live (query, key) pairs per sample and head: all Tq·Tv, or under the causal mask Σ_i min(i + 1, Tv). */
function livePairs(a: AttentionParams): number {
  if (!a.causal) return a.tq * a.tv;
  let s = 0;
  for (let i = 0; i < a.tq; i++) s += Math.min(i + 1, a.tv);
  return s;
}

/** Matrix flops (2 per multiply-add) of the kernels that multiply matrices; undefined for the others. */
function matrixFlops(name: string, args: unknown[]): number | undefined {
  switch (name) {
    case 'gemm': {
      const p = args[3] as GemmParams;
      return 2 * p.batch * p.m * p.n * p.k;
    }
    case 'attention': { // S = Q·Kᵀ and O = P·V over the live pairs
      const a = args[5] as AttentionParams;
      return 2 * a.n * a.heads * livePairs(a) * (a.dk + a.dv);
    }
    case 'attentionGrad': { // dP = dO·Vᵀ, dV = Pᵀ·dO, dQ = dS·K, dK = dSᵀ·Q
      const a = args[8] as AttentionParams;
      return 4 * a.n * a.heads * livePairs(a) * (a.dk + a.dv);
    }
    case 'rnnForward': { // h_{t-1}·U at every step
      const p = args[1] as RnnParams;
      return 2 * p.n * p.t * p.units * GATES[p.cell] * p.units;
    }
    case 'rnnBackward': { // dr·Uᵀ at every step, and dU = Σ hprevᵀ·dr when asked for
      const p = args[1] as RnnParams;
      const b = args[0] as RnnBackwardBufs;
      return 2 * p.n * p.t * p.units * GATES[p.cell] * p.units * (b.du ? 2 : 1);
    }
    default:
      return undefined;
  }
}

/** Counts the matrix flops of one training step of the spec's model (after two warm-up steps), in this process. */
async function countStep(spec: LmBenchSpec, vocab: number): Promise<StepCount> {
  const lib = await import('../src/index.js');
  const cfg: LmWorkerConfig = { ...spec.model, dir: '', seed: 1, batch: BATCH, bptt: BPTT, vocab, threads: 1, plan: { warmup: 0, min: 0, minSeconds: 0, max: 0 } };
  const model = spec.build(cfg, lib).build(1);
  model.compile({ optimizer: new lib.Adam({ learningRate: 1e-3 }), loss: 'sparse_categorical_crossentropy' });
  let s = 7;
  const ids = (): Int32Array => new Int32Array(BATCH * BPTT).map(() => (s = (s * 1103515245 + 12345) >>> 0) % vocab);
  const x = ids(), y = ids();
  const step = (): void => {
    lib.tidy(() => model.trainOnBatch(lib.tensor(x, [BATCH, BPTT], 'int32'), lib.tensor(y, [BATCH, BPTT], 'int32')));
  };
  step();
  step();
  const be = lib.getBackend() as unknown as Record<string, unknown>;
  const proto = Object.getPrototypeOf(be) as Record<string, unknown>;
  const count: StepCount = { flops: new Map(), gemms: [], uncounted: new Set() };
  const wrapped: string[] = [];
  for (const name of Object.getOwnPropertyNames(proto)) {
    const f = Object.getOwnPropertyDescriptor(proto, name)?.value as unknown; // not `proto[name]`: that runs getters
    if (typeof f !== 'function' || name === 'constructor') continue;
    wrapped.push(name);
    be[name] = (...args: unknown[]) => {
      const fl = matrixFlops(name, args);
      if (fl !== undefined) count.flops.set(name, (count.flops.get(name) ?? 0) + fl);
      else if (/gemm|conv|matmul/i.test(name)) count.uncounted.add(name);
      if (name === 'gemm') {
        const p = args[3] as GemmParams;
        count.gemms.push({ batch: p.batch, m: p.m, n: p.n, k: p.k, transA: p.transA, transB: p.transB });
      }
      return (f as (...a: unknown[]) => unknown).apply(be, args);
    };
  }
  try {
    step();
  } finally {
    for (const name of wrapped) delete be[name];
  }
  return count;
}

/** PyTorch's seconds for each product (its gemm worker at `setting`), or undefined when it did not run. */
async function torchProducts(peer: Parameters<typeof runPeerWorker>[0], setting: PeerSetting, shapes: Product[]): Promise<number[] | undefined> {
  const dir = mkdtempSync(join(tmpdir(), 'weightshare-roofline-'));
  try {
    const path = join(dir, 'gemm.json');
    writeFileSync(path, JSON.stringify({ shapes }));
    const script = fileURLToPath(new URL('../../bench/gemm_torch.py', import.meta.url));
    const r = lastJsonLine<{ seconds?: number[]; skipped?: string }>(await runPeerWorker(peer, script, [path], setting, 600));
    return r.seconds;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const { values } = parseArgs({ options: { threads: { type: 'string' }, quick: { type: 'boolean', default: false } } });
const threads = values.threads ? Number(values.threads) : availableParallelism();
const quick = values.quick ?? false;
const started = performance.now();
const load = loadavg()[0];
const stolen = stealMeter();

// The peak first, before this process loads the library (whose worker threads would share the cores).
console.error(`wasm SIMD multiply-add peak, 1 and ${threads} thread(s):`);
const peak1 = await fmaPeak(1);
const peakN = threads === 1 ? peak1 : await fmaPeak(threads);

const found = findTorchPeer();
if (!found.ok) console.error(`PyTorch peer skipped (${found.missing} missing): ${found.message}; our engine runs alone`);
const peer = found.ok ? found.peer : undefined;
const setting: PeerSetting = { torchThreads: 1, blasThreads: threads };
const plan: Plan = quick ? { warmup: 2, min: 5, minSeconds: 3, max: 10_000 } : { warmup: 3, min: 20, minSeconds: 10, max: 10_000 };
const data: LmData = await openLmData('bench:roofline');
interface Row { spec: LmBenchSpec; count: StepCount; ours: LmResult; torch?: LmResult; torchGemmS?: number }
const rows: Row[] = [];
try {
  for (const spec of [RNN_SPEC, GPT_SPEC]) {
    const count = await countStep(spec, data.vocab);
    const ours = await measureOurs(spec, data, plan, threads);
    const torch = peer ? await measureTorch(spec, data, peer, setting, plan) : undefined;
    const secs = peer ? await torchProducts(peer, setting, count.gemms) : undefined;
    rows.push({ spec, count, ours, torch, torchGemmS: secs?.reduce((a, b) => a + b, 0) });
  }
} finally {
  closeLmData(data);
}

const msPerStep = (r?: LmResult): number | undefined => (r?.train ? (BATCH * BPTT) / r.train.tokensPerSec * 1000 : undefined);
const f = (v: number | undefined, d = 1): string => (v === undefined ? '–' : v.toFixed(d));
const table = rows.map(({ spec, count, ours, torch, torchGemmS }) => {
  const flops = [...count.flops.values()].reduce((a, b) => a + b, 0);
  const gemmFlops = count.flops.get('gemm') ?? 0;
  const bound = flops / (peakN.gflops * 1e9) * 1000;
  const ms = msPerStep(ours), tms = msPerStep(torch);
  const name = spec.key.replace('bench:', '');
  const parts = [...count.flops.entries()].map(([k, v]) => `${k} ${(v / 1e9).toFixed(2)}`).join(', ');
  return `| ${name} | ${(flops / 1e9).toFixed(2)} (${parts}) | ${f(bound)} | ${f(ms)} | ${ms ? `${(bound / ms * 100).toFixed(0)} %` : '–'} | ${f(tms)} | ` +
    `${torchGemmS === undefined ? '–' : `${f(torchGemmS * 1000)} (${(gemmFlops / torchGemmS / 1e9).toFixed(0)} GFLOP/s)`} | ${ms && tms ? `${(tms / ms).toFixed(2)}×` : '–'} | ${tms ? `**${(tms / bound).toFixed(2)}×**` : '–'} |`;
});
const uncounted = [...new Set(rows.flatMap((r) => [...r.count.uncounted]))];
const m = machine();
const body = [
  '## Ceiling: `npm run bench:roofline`',
  '',
  `- Command: \`node dist/bench/roofline.js${values.threads ? ` --threads ${threads}` : ''}${quick ? ' --quick' : ''}\`; date ${new Date().toISOString().replace(/\.\d+Z$/, 'Z')}; ` +
    `wall time ${((performance.now() - started) / 1000).toFixed(0)} s; 1-minute load average ${load.toFixed(1)} at the start${stolen()}`,
  `- Machine: nproc ${m.nproc}, ${m.cpu}, Node ${m.node}`,
  `- wasm SIMD peak (bench/fma-peak.ts: 12 independent f32x4 ${peakN.fused ? 'relaxed_madd (fused multiply-add)' : 'mul + add'} chains per thread on registers, all threads at once, best of 3): ` +
    `**${peak1.gflops.toFixed(1)} GFLOP/s on 1 thread, ${peakN.gflops.toFixed(1)} on ${threads}** (${peakN.perThread.map((g) => g.toFixed(1)).join(' + ')}). ` +
    'Our GEMMs use the same instruction; 128-bit vectors are all wasm has.',
  `- PyTorch peer: ${peer ? `${describePeer(peer)}; run at ${settingLabel(setting)}` : `not run: ${found.ok ? '' : found.message}`}`,
  `- Workloads: bench:rnn's and bench:transformer's (see their sections), batch ${BATCH} × ${BPTT} tokens; each engine one ${plan.minSeconds} s window in a fresh process. ` +
    'Matrix GFLOP per step: counted by wrapping our backend for one training step (2 flops per multiply-add; attention over the causal triangle\'s live pairs only; ' +
    'the fused recurrence\'s h·U products forward, dh·Uᵀ and dU backward). The bound: that arithmetic at the wasm peak, nothing else taking time.',
  ...(uncounted.length ? [`- Warning: matrix kernels not counted: ${uncounted.join(', ')}`] : []),
  '',
  '| workload | matrix GFLOP per step (by kernel) | bound: ms per step at the wasm peak | ours: ms per step | ours at % of the bound | PyTorch: ms per step | PyTorch\'s torch.mm at our step\'s GEMM shapes: ms (rate) | ours / PyTorch, now | most ours / PyTorch can be (PyTorch\'s step / bound) |',
  '|---|---|---:|---:|---:|---:|---:|---:|---:|',
  ...table,
].join('\n');
console.log(body);
if (quick) console.error('--quick: BENCHMARKS.md left unchanged');
else console.error(`written to ${writeSection('bench:roofline', body)}`);
