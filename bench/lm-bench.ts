// The harness of the language-model training benchmarks (bench:rnn, bench:transformer): tokens/s and peak RSS of ours beside PyTorch at its best.
// Both engines train on the same sotu character windows in the same order (batch k takes windows [k·B, (k+1)·B)), each in
// a fresh process per measurement; the grids find each engine's best thread setting, then the best settings run in turn.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import type { Model } from '../src/index.js';
import {
  bestIndex, describePeer, findTorchPeer, gridTable, type PeerSetting, runPeerWorker, settingLabel, settingMismatch, settingsGrid, type TorchPeer,
} from './torch-peer.js';
import { lastJsonLine, machine, runChild, stealMeter, writeSection } from './util.js';

export const BATCH = 32;
export const BPTT = 64;
const ROUNDS = 2;

/** How long a worker measures: warm-up steps, then at least `min` steps and `minSeconds`, at most `max` steps. */
export interface Plan { warmup: number; min: number; minSeconds: number; max: number }

/** What a worker (ours or the Python one) reads: the data, the plan, and the model's sizes (its fields at the top level). */
export interface LmWorkerConfig {
  dir: string;
  seed: number;
  batch: number;
  bptt: number;
  vocab: number;
  threads: number;
  plan: Plan;
  [model: string]: unknown;
}

/** One worker's JSON line. `cpuMsPerStep`: the process CPU time per step beside the wall time (it moves less on a shared machine). */
export interface LmResult {
  engine: string;
  skipped?: string;
  train?: { tokensPerSec: number; steps: number; seconds: number; lossFirst: number; lossLast: number; cpuMsPerStep?: number };
  settings?: { torchThreads: number; blasThreads: number | null; onednn: boolean };
  params?: number;
  note?: string;
  rssMB?: number;
}

/** A language-model benchmark: its BENCHMARKS.md section, its model, and the words that describe both sides. */
export interface LmBenchSpec {
  /** The BENCHMARKS.md section key, e.g. 'bench:rnn'. */
  key: string;
  /** The section's heading (without '## '). */
  title: string;
  /** The compiled bench file (`import.meta.url` of bench/<name>.ts): it runs our worker when given `--worker`. */
  self: string;
  /** The Python worker under bench/, e.g. 'rnn_torch.py'. */
  torchWorker: string;
  /** The model's sizes, handed to both workers at the top level of the config. */
  model: Record<string, number | string | boolean>;
  /** Our model for a worker config (the library imported in the worker process only). */
  build: (cfg: LmWorkerConfig, lib: typeof import('../src/index.js')) => Model;
  /** How our worker's note names the model, e.g. "createTextModel('char-lstm')". */
  ours: string;
  /** The workload line after 'Workload: ', given the vocabulary and the training characters. */
  workload: (vocab: number, trainChars: number) => string;
  /** What PyTorch runs, e.g. '`nn.LSTM` on the CPU (its fused ATen LSTM over OpenBLAS GEMMs)'. */
  peerModel: string;
}

/** Our worker: the spec's model + Adam lr 1e-3, trainOnBatch per step on the windows in order; prints one JSON line. */
async function ourWorker(spec: LmBenchSpec, cfgPath: string): Promise<void> {
  const cfg = JSON.parse(readFileSync(cfgPath, 'utf8')) as LmWorkerConfig;
  const lib = await import('../src/index.js');
  const { Adam, getBackend, setThreads, tensor, tidy } = lib;
  setThreads(cfg.threads);
  const x = new Int32Array(readFileSync(join(cfg.dir, 'x.i32')).buffer.slice(0));
  const y = new Int32Array(readFileSync(join(cfg.dir, 'y.i32')).buffer.slice(0));
  const m = spec.build(cfg, lib).build(cfg.seed);
  m.compile({ optimizer: new Adam({ learningRate: 1e-3 }), loss: 'sparse_categorical_crossentropy' });
  const per = cfg.batch * cfg.bptt;
  const nBatches = Math.floor(x.length / per);
  const losses: number[] = [];
  const step = (k: number): void => {
    const i = (k % nBatches) * per;
    losses.push(tidy(() => m.trainOnBatch(tensor(x.subarray(i, i + per), [cfg.batch, cfg.bptt], 'int32'), tensor(y.subarray(i, i + per), [cfg.batch, cfg.bptt], 'int32')).loss));
  };
  const p = cfg.plan;
  for (let k = 0; k < p.warmup; k++) step(k);
  let n = 0;
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  while ((n < p.min || performance.now() - t0 < p.minSeconds * 1000) && n < p.max) step(p.warmup + n++);
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(c0);
  const be = getBackend() as unknown as { threads?: number; relaxedSimd?: boolean };
  const out: LmResult = {
    engine: 'weightshare',
    train: {
      tokensPerSec: (n * per) / seconds, steps: n, seconds, lossFirst: losses[0], lossLast: losses[losses.length - 1],
      cpuMsPerStep: (cpu.user + cpu.system) / 1000 / n,
    },
    params: m.countParams(),
    note: `${spec.ours} + Adam, trainOnBatch; ${getBackend().name} backend, ${be.threads ?? 1} thread(s)${be.relaxedSimd === undefined ? '' : `, relaxed SIMD ${be.relaxedSimd ? 'yes' : 'no'}`}`,
    rssMB: process.resourceUsage().maxRSS / 1024,
  };
  console.log(JSON.stringify(out));
}

/** The benchmark data the workers read: sotu's training windows at character level (x.i32, y.i32) in a temporary folder. */
export interface LmData {
  dir: string;
  vocab: number;
  trainChars: number;
  /** Configs written so far (each worker gets a file of its own). */
  configs: number;
}

/** Writes sotu's character windows of BPTT to a fresh temporary folder ({@link closeLmData} removes it). */
export async function openLmData(key: string): Promise<LmData> {
  const { loadTextDataset } = await import('../src/data/corpora.js');
  const { dataset: ds, tokenizer, stats } = loadTextDataset('sotu', { level: 'char', bptt: BPTT });
  const dir = mkdtempSync(join(tmpdir(), `weightshare-${key.replace(/\W/g, '-')}-`));
  const nWin = Math.floor(ds.yTrain.length / BPTT);
  writeFileSync(join(dir, 'x.i32'), ds.xTrain.subarray(0, nWin * BPTT));
  writeFileSync(join(dir, 'y.i32'), ds.yTrain.subarray(0, nWin * BPTT));
  return { dir, vocab: tokenizer.vocabSize, trainChars: stats.train.tokens, configs: 0 };
}

export function closeLmData(data: LmData): void {
  rmSync(data.dir, { recursive: true, force: true });
}

function writeConfig(spec: LmBenchSpec, data: LmData, plan: Plan, threads: number): string {
  const path = join(data.dir, `config-${data.configs++}.json`);
  const c: LmWorkerConfig = { ...spec.model, dir: data.dir, seed: 1, batch: BATCH, bptt: BPTT, vocab: data.vocab, threads, plan };
  writeFileSync(path, JSON.stringify(c));
  return path;
}

/** One measurement of ours in a fresh process (the spec's compiled bench file with `--worker`). */
export async function measureOurs(spec: LmBenchSpec, data: LmData, plan: Plan, threads: number): Promise<LmResult> {
  console.error(`weightshare, ${threads} thread(s):`);
  return lastJsonLine<LmResult>(await runChild(process.execPath, [fileURLToPath(spec.self), '--worker', writeConfig(spec, data, plan, threads)], 900));
}

/** One measurement of PyTorch at a setting in a fresh process; a setting the worker did not get is added to `warnings`. */
export async function measureTorch(spec: LmBenchSpec, data: LmData, peer: TorchPeer, s: PeerSetting, plan: Plan, warnings: string[] = []): Promise<LmResult> {
  console.error(`pytorch, ${settingLabel(s)}:`);
  const script = fileURLToPath(new URL(`../../bench/${spec.torchWorker}`, import.meta.url));
  const r = lastJsonLine<LmResult>(await runPeerWorker(peer, script, [writeConfig(spec, data, plan, s.blasThreads ?? s.torchThreads)], s, 900));
  const bad = r.skipped ? undefined : settingMismatch(s, r.settings ?? undefined);
  if (bad) warnings.push(`PyTorch at ${settingLabel(s)} ran with ${bad}`);
  return r;
}

/**
 * Runs a benchmark from the command line (`--threads N`, `--quick`, `--no-grid`; `--worker CONFIG` in the children):
 * the grids, the rounds, the table; writes its BENCHMARKS.md section unless quick or without the grid.
 */
export async function runLmBench(spec: LmBenchSpec): Promise<void> {
  const { values } = parseArgs({ options: { threads: { type: 'string' }, quick: { type: 'boolean', default: false }, 'no-grid': { type: 'boolean', default: false }, worker: { type: 'string' } } });
  if (values.worker) return ourWorker(spec, values.worker);
  const threads = values.threads ? Number(values.threads) : availableParallelism();
  // Like PyTorch, our engine runs at its best thread count unless --threads fixes it: on a machine shared with other
  // work (Linux autogroups share the CPU per session, not per thread) one thread can beat two.
  const ourThreads = values.threads || values['no-grid'] || threads === 1 ? [threads] : [1, threads];
  const quick = values.quick ?? false;
  const started = performance.now();
  const load = loadavg()[0];
  const stolen = stealMeter();
  const found = findTorchPeer();
  if (!found.ok) console.error(`PyTorch peer skipped (${found.missing} missing): ${found.message}; our engine runs alone`);
  const peer: TorchPeer | undefined = found.ok ? found.peer : undefined;
  const settings: PeerSetting[] = !peer ? [] : values['no-grid'] ? [{ torchThreads: 1, blasThreads: threads }] : settingsGrid(threads, peer.blas.kind, false);
  const data = await openLmData(spec.key);
  const normal: Plan = quick ? { warmup: 2, min: 5, minSeconds: 3, max: 10_000 } : { warmup: 3, min: 20, minSeconds: 10, max: 10_000 };
  const short: Plan = { warmup: 2, min: 5, minSeconds: 3, max: 10_000 };
  const warnings: string[] = [];
  const runOurs = (plan: Plan, th: number): Promise<LmResult> => measureOurs(spec, data, plan, th);
  const runTorch = (s: PeerSetting, plan: Plan): Promise<LmResult> => measureTorch(spec, data, peer!, s, plan, warnings);
  const best = (rs: LmResult[]): LmResult => rs[Math.max(0, bestIndex(rs.map((r) => r.train?.tokensPerSec)))];
  let ours: LmResult, torch: LmResult | undefined, torchSetting: PeerSetting | undefined;
  const oursRuns: LmResult[] = [], torchRuns: LmResult[] = [];
  const grid: LmResult[] = [], ourGrid: LmResult[] = [];
  let oursAt = threads;
  try {
    if (peer && settings.length > 1) for (const s of settings) grid.push(await runTorch(s, short));
    torchSetting = settings[Math.max(0, bestIndex(grid.map((r) => r.train?.tokensPerSec)))];
    if (ourThreads.length > 1) {
      for (const th of ourThreads) ourGrid.push(await runOurs(short, th));
      oursAt = ourThreads[Math.max(0, bestIndex(ourGrid.map((r) => r.train?.tokensPerSec)))];
    }
    for (let round = 0; round < ROUNDS; round++) {
      oursRuns.push(await runOurs(normal, oursAt));
      if (peer && torchSetting) torchRuns.push(await runTorch(torchSetting, normal));
    }
    ours = best(oursRuns);
    torch = torchRuns.length ? best(torchRuns) : undefined;
  } finally {
    closeLmData(data);
  }
  const m = machine();
  const tps = (r?: LmResult): string => (r?.train ? Math.round(r.train.tokensPerSec).toLocaleString('en-US') : '–');
  // The ratio is against the best PyTorch reached anywhere in the run, a grid window included (its short windows have
  // read up to 1.5× its 10 s rounds at the same setting): the conservative figure, as bench:train reports it.
  const torchAll = [...torchRuns, ...grid].filter((r) => r.train);
  const torchTop = torchAll.length ? torchAll.reduce((a, r) => (r.train!.tokensPerSec > a.train!.tokensPerSec ? r : a)) : undefined;
  const ratio = ours.train && torchTop?.train ? `${(ours.train.tokensPerSec / torchTop.train.tokensPerSec).toFixed(2)}×` : '–';
  const list = (rs: LmResult[]): string => rs.map((r) => tps(r)).join(', ');
  const cpuMs = (r?: LmResult): string => r?.train?.cpuMsPerStep?.toFixed(0) ?? '–';
  const row = (name: string, setting: string, r: LmResult | undefined, rel: string): string =>
    `| ${name} | ${setting} | ${tps(r)} | ${rel} | ${cpuMs(r)} | ${r?.rssMB?.toFixed(0) ?? '–'} | ${r?.params?.toLocaleString('en-US') ?? '–'} | ${r?.train ? `${r.train.lossFirst.toFixed(3)} → ${r.train.lossLast.toFixed(3)} (${r.train.steps} steps)` : r?.skipped ?? '–'} | ${r?.note ?? ''} |`;
  const name = spec.key.replace(/^bench:/, '');
  const body = [
    `## ${spec.title}`,
    '',
    `- Command: \`node dist/bench/${name}.js${values.threads ? ` --threads ${threads}` : ''}${quick ? ' --quick' : ''}${values['no-grid'] ? ' --no-grid' : ''}\`; date ${new Date().toISOString().replace(/\.\d+Z$/, 'Z')}; ` +
      `wall time ${((performance.now() - started) / 1000).toFixed(0)} s; 1-minute load average ${load.toFixed(1)} at the start${stolen()}`,
    `- Machine: nproc ${m.nproc}, ${m.cpu}, Node ${m.node}`,
    `- PyTorch peer: ${peer ? describePeer(peer) : found.ok ? '' : `not run: ${found.message}`}`,
    `- Workload: ${spec.workload(data.vocab, data.trainChars)}; Adam lr 1e-3, batch ${BATCH} windows of ${BPTT} characters (the same windows in the same order for ` +
      `both engines), no clipping. Tokens/s = steps × ${BATCH} × ${BPTT} / seconds, each step forward + loss + backward + update with the loss read back, after warm-up steps.`,
    `- Each engine at its best: the grids below (≈ 3 s each, a fresh process per setting; ours at 1 and ${threads} threads unless --threads fixes it), then ours and ` +
      `PyTorch at their best settings in turn, ${ROUNDS} times each (${normal.minSeconds} s windows), each engine's best run reported. PyTorch: ${spec.peerModel}. ` +
      'CPU ms/step: the process CPU time (all its threads) per training step; parameters as each engine counts them.',
    ...warnings.map((w) => `- Warning: ${w}`),
    '',
    '| engine | threads | train tokens/s | vs PyTorch | CPU ms/step | peak RSS MB | parameters | loss first → last | notes |',
    '|---|---|---:|---:|---:|---:|---:|---|---|',
    row('weightshare', String(oursAt), ours, ratio),
    ...(peer ? [row('pytorch', torchSetting ? settingLabel(torchSetting) : '?', torch, torch?.train && torchTop?.train ? `${(torch.train.tokensPerSec / torchTop.train.tokensPerSec).toFixed(2)}×` : '–')] : []),
    ...(peer && torchTop?.train ? ['', `"vs PyTorch" divides by the most tokens/s PyTorch reached anywhere in this run: ${tps(torchTop)} (${torchTop === torch ? 'its best round' : 'a grid window'}). ` +
      `Rounds (${normal.minSeconds} s windows), tokens/s: weightshare ${list(oursRuns)}; PyTorch ${list(torchRuns)}` +
      (ours.train && torch?.train ? `; ours / PyTorch's best round ${(ours.train.tokensPerSec / torch.train.tokensPerSec).toFixed(2)}×.` : '.')] : []),
    ...(grid.length ? ['', '### PyTorch thread-setting grid (short windows; best in bold)', '', ...gridTable(settings, [{ title: 'train tokens/s', values: grid.map((r) => r.train?.tokensPerSec) }])] : []),
    ...(ourGrid.length ? ['', '### weightshare thread counts (short windows)', '', '| threads | train tokens/s | CPU ms/step |', '|---:|---:|---:|',
      ...ourGrid.map((r, i) => `| ${ourThreads[i]} | ${tps(r)} | ${cpuMs(r)} |`)] : []),
  ].join('\n');
  console.log(body);
  if (quick || values['no-grid']) console.error('--quick / --no-grid: BENCHMARKS.md left unchanged');
  else console.error(`written to ${writeSection(spec.key, body)}`);
}
