// Training benchmark (`npm run bench:train`): the Keras MNIST CNN trained with Adam, ours beside PyTorch at its best thread setting and TF.js, batch sizes 32/128/512, each engine run in its own process.
// Flags: --threads N (default: cores), --quick (few steps, BENCHMARKS.md untouched), --engines a,b (subset), --batches 32,128 (subset), --no-grid (PyTorch at one setting).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  bestIndex, describePeer, findTorchPeer, gridTable, runPeerWorker, settingLabel, settingMismatch, settingsGrid,
  type EffectiveSetting, type PeerSetting, type TorchPeer,
} from './torch-peer.js';
import type { TrainRunner } from './train-ours.js';
import { lastJsonLine, machine, reason, repoRoot, runChild, stealMeter, writeSection } from './util.js';

const ENGINES = ['weightshare', 'pytorch', 'tfjs-cpu', 'tfjs-wasm'] as const;
type EngineName = (typeof ENGINES)[number];

const BATCHES = [32, 128, 512];
/** The batch at which inference, batch-1 latency and the TF.js engines are measured too. */
const MAIN_BATCH = 32;
const INFER_BATCH = 256;
const SEED = 1;
const PIXELS = 28 * 28;

/** One timed phase: `warmup` untimed calls, then timed calls until both minimums are met (or `max`); max 0 skips it. */
interface Phase {
  warmup: number;
  min: number;
  minSeconds: number;
  max: number;
}

/** What one worker run measures: training steps, inference batches (INFER_BATCH), batch-1 predictions. */
interface Plan {
  train: Phase;
  infer: Phase;
  latency: Phase;
}

/**
 * What every worker (node or python) reads: the folder of raw little-endian files train_x.f32
 * [trainSamples,28,28,1], train_y.i32, test_x.f32 [testBatches·INFER_BATCH,28,28,1], test_y.i32.
 * Training step k uses samples [i·batch, (i+1)·batch) with i = k mod trainBatches; inference batch j
 * uses test batch j mod testBatches; latency call k predicts test image k mod (testBatches·inferBatch).
 */
interface WorkerConfig {
  dir: string;
  threads: number;
  seed: number;
  batch: number;
  trainBatches: number;
  inferBatch: number;
  testBatches: number;
  plan: Plan;
}

/** The JSON line a worker prints. */
interface WorkerResult {
  engine: string;
  threads: number;
  note?: string;
  version?: string;
  skipped?: string;
  settings?: EffectiveSetting;
  train?: { sps: number; steps: number; seconds: number; lossFirst: number; lossLast: number };
  trainError?: string;
  infer?: { sps: number; batches: number; seconds: number; accuracy: number; evaluated: number };
  inferError?: string;
  latency?: { ms: number; calls: number; seconds: number };
  latencyError?: string;
  rssMB?: number;
}

const SKIP: Phase = { warmup: 0, min: 0, minSeconds: 0, max: 0 };
const TRAIN_SAMPLES = 8000; // one pass over mnist-sample's training digits: the minimum of a full run (250 steps at batch 32)

/** The normal measuring window; inference and latency only when `full` (the main batch). */
function normalPlan(batch: number, quick: boolean, full: boolean): Plan {
  if (quick) {
    return {
      train: { warmup: 2, min: 5, minSeconds: 0, max: 5 },
      infer: full ? { warmup: 1, min: 2, minSeconds: 0, max: 2 } : SKIP,
      latency: full ? { warmup: 2, min: 5, minSeconds: 0, max: 5 } : SKIP,
    };
  }
  return {
    train: { warmup: 5, min: Math.ceil(TRAIN_SAMPLES / batch), minSeconds: 6, max: Math.ceil((10 * TRAIN_SAMPLES) / batch) },
    infer: full ? { warmup: 1, min: 20, minSeconds: 3, max: 400 } : SKIP,
    latency: full ? { warmup: 20, min: 100, minSeconds: 2, max: 5000 } : SKIP,
  };
}

/** The short window of one PyTorch grid point (≈ 3 s of training, ≈ 1.5 s each of inference and latency). */
function gridPlan(batch: number, quick: boolean, full: boolean): Plan {
  if (quick) return normalPlan(batch, true, full);
  return {
    train: { warmup: Math.max(3, Math.ceil(256 / batch)), min: 3, minSeconds: 3, max: Math.ceil((3 * TRAIN_SAMPLES) / batch) },
    infer: full ? { warmup: 1, min: 5, minSeconds: 1.5, max: 400 } : SKIP,
    latency: full ? { warmup: 20, min: 50, minSeconds: 1.5, max: 5000 } : SKIP,
  };
}

/** tfjs-cpu trains at about one sample/s: two steps (no warm-up: its first step's setup is noise beside 25 s) are all the time allows. */
function slowPlan(quick: boolean): Plan {
  return quick
    ? { train: { warmup: 0, min: 1, minSeconds: 0, max: 1 }, infer: { warmup: 0, min: 1, minSeconds: 0, max: 1 }, latency: { warmup: 0, min: 1, minSeconds: 0, max: 1 } }
    : { train: { warmup: 0, min: 2, minSeconds: 0, max: 2 }, infer: { warmup: 0, min: 2, minSeconds: 0, max: 2 }, latency: { warmup: 1, min: 5, minSeconds: 0, max: 5 } };
}

// ---------------------------------------------------------------------------------------------- worker

/** A raw little-endian file as 4-byte elements, viewed in place when aligned (large reads are), else copied. */
function readRaw(path: string): ArrayBuffer {
  const b = readFileSync(path);
  return b.byteOffset % 4 === 0 && b.buffer instanceof ArrayBuffer && b.byteLength === b.buffer.byteLength
    ? b.buffer
    : b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
}
const readF32 = (path: string) => new Float32Array(readRaw(path));
const readI32 = (path: string) => new Int32Array(readRaw(path));

async function makeRunner(engine: EngineName, threads: number): Promise<TrainRunner> {
  if (engine === 'weightshare') return (await import('./train-ours.js')).makeOursRunner(threads, SEED);
  if (engine === 'tfjs-cpu') return (await import('./train-tfjs.js')).makeTfjsRunner('cpu', threads, SEED);
  if (engine === 'tfjs-wasm') return (await import('./train-tfjs.js')).makeTfjsRunner('wasm', threads, SEED);
  throw new Error(`no node runner for engine '${engine}'`);
}

/** call(k) for the phase's warm-up calls, then timed calls until its minimums are met (or its max); the twin of train_torch.py's run_phase. */
function runPhase(phase: Phase, call: (k: number) => void): { calls: number; seconds: number; times: number[] } {
  for (let k = 0; k < phase.warmup; k++) call(k);
  const times: number[] = [];
  const t0 = performance.now();
  const elapsed = () => (performance.now() - t0) / 1000;
  while ((times.length < phase.min || elapsed() < phase.minSeconds) && times.length < phase.max) {
    const t = performance.now();
    call(phase.warmup + times.length);
    times.push((performance.now() - t) / 1000);
  }
  return { calls: times.length, seconds: elapsed(), times };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Runs one engine in this process and prints its WorkerResult as one JSON line. */
async function worker(engine: EngineName, cfgPath: string): Promise<void> {
  const cfg = JSON.parse(readFileSync(cfgPath, 'utf8')) as WorkerConfig;
  const { plan, batch: b, inferBatch: ib } = cfg;
  const out: WorkerResult = { engine, threads: cfg.threads };
  const xTrain = readF32(join(cfg.dir, 'train_x.f32'));
  const yTrain = readI32(join(cfg.dir, 'train_y.i32'));
  const xTest = readF32(join(cfg.dir, 'test_x.f32'));
  const yTest = readI32(join(cfg.dir, 'test_y.i32'));
  const runner = await makeRunner(engine, cfg.threads);
  if (plan.train.max > 0) {
    try {
      const losses: number[] = [];
      const r = runPhase(plan.train, (k) => {
        const i = k % cfg.trainBatches;
        losses.push(runner.trainStep(xTrain.subarray(i * b * PIXELS, (i + 1) * b * PIXELS), yTrain.subarray(i * b, (i + 1) * b)));
      });
      out.train = { sps: (r.calls * b) / r.seconds, steps: r.calls, seconds: r.seconds, lossFirst: losses[0], lossLast: losses[losses.length - 1] };
      console.error(`  ${engine} batch ${b}: ${r.calls} training steps in ${r.seconds.toFixed(1)} s, loss ${losses[0].toFixed(3)} → ${losses[losses.length - 1].toFixed(3)}`);
    } catch (e) {
      out.trainError = reason(e);
      console.error(`  ${engine}: cannot train: ${out.trainError}`);
    }
  }
  if (plan.infer.max > 0) {
    try {
      let correct = 0, evaluated = 0;
      const r = runPhase(plan.infer, (k) => {
        const j = k % cfg.testBatches;
        const logits = runner.predict(xTest.subarray(j * ib * PIXELS, (j + 1) * ib * PIXELS), ib);
        if (k < cfg.testBatches && evaluated < cfg.testBatches * ib) {
          for (let row = 0; row < ib; row++) {
            let best = 0;
            for (let c = 1; c < 10; c++) if (logits[row * 10 + c] > logits[row * 10 + best]) best = c;
            if (best === yTest[j * ib + row]) correct++;
          }
          evaluated += ib;
        }
      });
      out.infer = { sps: (r.calls * ib) / r.seconds, batches: r.calls, seconds: r.seconds, accuracy: correct / Math.max(1, evaluated), evaluated };
      console.error(`  ${engine}: ${r.calls} inference batches in ${r.seconds.toFixed(1)} s`);
    } catch (e) {
      out.inferError = reason(e);
      console.error(`  ${engine}: cannot infer: ${out.inferError}`);
    }
  }
  if (plan.latency.max > 0) {
    try {
      const images = cfg.testBatches * ib;
      const r = runPhase(plan.latency, (k) => void runner.predict(xTest.subarray((k % images) * PIXELS, ((k % images) + 1) * PIXELS), 1));
      out.latency = { ms: 1000 * median(r.times), calls: r.calls, seconds: r.seconds };
    } catch (e) {
      out.latencyError = reason(e);
      console.error(`  ${engine}: cannot predict one image: ${out.latencyError}`);
    }
  }
  out.note = runner.describe();
  runner.dispose();
  out.rssMB = process.resourceUsage().maxRSS / 1024;
  console.log(JSON.stringify(out));
}

// ---------------------------------------------------------------------------------------------- parent

/** Writes the shuffled training set and the test batches as raw files; returns the config every run starts from. */
async function prepareData(dir: string, threads: number): Promise<Omit<WorkerConfig, 'batch' | 'trainBatches' | 'plan'> & { trainSamples: number }> {
  const { loadDataset, shuffledIndices } = await import('../src/data/index.js');
  const ds = loadDataset('mnist-sample');
  const n = ds.yTrain.length;
  const order = shuffledIndices(n, SEED);
  const x = new Float32Array(n * PIXELS);
  const y = new Int32Array(n);
  for (let k = 0; k < n; k++) {
    x.set(ds.xTrain.subarray(order[k] * PIXELS, (order[k] + 1) * PIXELS), k * PIXELS);
    y[k] = ds.yTrain[order[k]];
  }
  const testBatches = Math.floor(ds.yTest.length / INFER_BATCH);
  const raw = (a: Float32Array | Int32Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength); // little-endian on every platform Node runs on
  writeFileSync(join(dir, 'train_x.f32'), raw(x));
  writeFileSync(join(dir, 'train_y.i32'), raw(y));
  writeFileSync(join(dir, 'test_x.f32'), raw(ds.xTest.subarray(0, testBatches * INFER_BATCH * PIXELS)));
  writeFileSync(join(dir, 'test_y.i32'), raw(ds.yTest.subarray(0, testBatches * INFER_BATCH)));
  return { dir, threads, seed: SEED, inferBatch: INFER_BATCH, testBatches, trainSamples: n };
}

/** Runs one worker (a node engine, or the PyTorch peer under a setting); failures come back as `skipped`. */
async function runWorker(engine: EngineName, cfgPath: string, peer?: { peer: TorchPeer; setting: PeerSetting }): Promise<WorkerResult> {
  try {
    const stdout = peer
      ? await runPeerWorker(peer.peer, join(repoRoot(), 'bench', 'train_torch.py'), [cfgPath], peer.setting, 900)
      : await runChild(process.execPath, [fileURLToPath(import.meta.url), '--worker', engine, '--config', cfgPath], 900);
    const r = lastJsonLine<WorkerResult>(stdout);
    if (r.skipped) console.error(`  ${engine} skipped: ${r.skipped}`);
    return r;
  } catch (e) {
    console.error(`  ${engine} failed: ${reason(e)}`);
    return { engine, threads: 0, skipped: reason(e) };
  }
}

/** How many normal-window runs each engine gets per batch (in turn with the other engine); each figure is the best of them. */
const ROUNDS = 2;

/** Runs `fn` n times, one after the other. */
async function repeat<T>(n: number, fn: () => Promise<T>): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < n; i++) out.push(await fn());
  return out;
}

/**
 * The best of repeated runs of one engine: the run with the most training samples/s, carrying the best
 * inference samples/s and the lowest latency of all of them, and the highest peak RSS.
 */
function bestOf(runs: WorkerResult[]): WorkerResult {
  const ok = runs.filter((r) => !r.skipped);
  if (!ok.length) return runs[0];
  const by = (v: (r: WorkerResult) => number | undefined, lower = false) => ok[Math.max(0, bestIndex(ok.map(v), lower))];
  const best = { ...by((r) => r.train?.sps) };
  best.infer = by((r) => r.infer?.sps).infer ?? best.infer;
  best.latency = by((r) => r.latency?.ms, true).latency ?? best.latency;
  best.rssMB = Math.max(...ok.map((r) => r.rssMB ?? 0));
  return best;
}

/** PyTorch at one batch: every grid point in a short window, then the best setting(s) in the normal window, ROUNDS times. */
interface TorchAtBatch {
  settings: PeerSetting[];
  grid: WorkerResult[];
  /** The best training setting re-measured (with inference and latency at the main batch). */
  train: { setting: PeerSetting; result: WorkerResult };
  /** Inference and latency re-measured at their own best settings, when those differ from training's. */
  infer?: { setting: PeerSetting; result: WorkerResult };
  latency?: { setting: PeerSetting; result: WorkerResult };
}

const num = (v: number | undefined, digits = 0): string => (v === undefined ? '–' : v.toFixed(digits));
/** Speed ratio ours / theirs as "1.23×" (for latencies pass them swapped: theirs ms / ours ms). */
const ratio = (v: number | undefined, ref: number | undefined): string =>
  v !== undefined && ref ? `${v / ref < 0.1 ? (v / ref).toPrecision(2) : (v / ref).toFixed(2)}×` : '–';
const cell = (s: string) => s.replace(/\|/g, '\\|');

function sweepTable(batches: number[], ours: Map<number, WorkerResult>, torch: Map<number, TorchAtBatch>): string[] {
  const lines = [
    '| batch | weightshare samples/s | PyTorch best samples/s | PyTorch setting | weightshare / PyTorch | PyTorch grid (short windows) | weightshare / PyTorch\'s best anywhere | peak RSS weightshare MB | peak RSS PyTorch MB | loss first → last (weightshare; PyTorch) |',
    '|---:|---:|---:|---|---:|---|---:|---:|---:|---|',
  ];
  for (const b of batches) {
    const o = ours.get(b), t = torch.get(b);
    const tr = t?.train.result;
    const gridSps = t?.grid.map((g) => g.train?.sps).filter((v): v is number => v !== undefined) ?? [];
    const range = gridSps.length ? `${Math.min(...gridSps).toFixed(0)}–${Math.max(...gridSps).toFixed(0)}` : '–';
    const loss = (r?: WorkerResult) => (r?.train ? `${r.train.lossFirst.toFixed(3)} → ${r.train.lossLast.toFixed(3)}` : '–');
    // The conservative ratio, as bench:rnn and bench:transformer print it: against the most PyTorch reached anywhere in
    // the run, its short grid windows included (they can read above its re-measured rounds).
    const anywhere = Math.max(tr?.train?.sps ?? 0, ...gridSps);
    lines.push(`| ${b} | ${o?.train ? num(o.train.sps) : o?.skipped ? 'skipped' : '–'} | ${num(tr?.train?.sps)} | ${t ? settingLabel(t.train.setting) : '–'} | ` +
      `${ratio(o?.train?.sps, tr?.train?.sps)} | ${range} | ${ratio(o?.train?.sps, anywhere || undefined)} | ${num(o?.rssMB)} | ${num(tr?.rssMB)} | ${loss(o)}; ${loss(tr)} |`);
  }
  return lines;
}

function mainTable(results: WorkerResult[], torch: TorchAtBatch | undefined): string[] {
  const tTrain = torch?.train.result;
  const tInfer = torch?.infer?.result ?? tTrain;
  const tLat = torch?.latency?.result ?? tTrain;
  const lines = [
    `| engine | threads | train samples/s (batch ${MAIN_BATCH}) | vs PyTorch | inference samples/s (batch ${INFER_BATCH}) | vs PyTorch | batch-1 latency ms | vs PyTorch | peak RSS MB | notes |`,
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---|',
  ];
  for (const r of results) {
    if (r.skipped) {
      lines.push(`| ${r.engine} | – | – | – | – | – | – | – | – | skipped: ${cell(r.skipped)} |`);
      continue;
    }
    const isTorch = r.engine === 'pytorch';
    const infer = isTorch ? tInfer : r;
    const lat = isTorch ? tLat : r;
    const notes: string[] = [];
    if (r.note) notes.push(r.note);
    if (r.train) notes.push(`${r.train.steps} timed steps after warm-up, loss ${r.train.lossFirst.toFixed(3)} → ${r.train.lossLast.toFixed(3)}`);
    if (r.trainError) notes.push(`cannot train: ${r.trainError}`);
    if (infer?.infer) notes.push(`${infer.infer.batches} inference batches; test accuracy ${(100 * infer.infer.accuracy).toFixed(1)} % on ${infer.infer.evaluated} digits ${infer.train ? `after its ${infer.train.steps} training steps` : '(untrained weights)'}`);
    if (infer?.inferError) notes.push(`cannot infer: ${infer.inferError}`);
    if (lat?.latencyError) notes.push(`cannot predict one image: ${lat.latencyError}`);
    if (isTorch && torch?.infer) notes.push(`inference measured at its own best setting, ${settingLabel(torch.infer.setting)}`);
    if (isTorch && torch?.latency) notes.push(`latency measured at its own best setting, ${settingLabel(torch.latency.setting)}`);
    const threads = isTorch && torch ? settingLabel(torch.train.setting)
      : r.engine === 'tfjs-cpu' || (r.engine === 'tfjs-wasm' && /1 thread/.test(r.note ?? '')) ? `1 (asked ${r.threads})` : String(r.threads);
    const sps = (v?: number) => (v === undefined ? 'n/a' : num(v, v < 10 ? 2 : 0));
    lines.push(`| ${r.engine} | ${threads} | ${sps(r.train?.sps)} | ${ratio(r.train?.sps, tTrain?.train?.sps)} | ` +
      `${sps(infer?.infer?.sps)} | ${ratio(infer?.infer?.sps, tInfer?.infer?.sps)} | ` +
      `${lat?.latency ? num(lat.latency.ms, 2) : 'n/a'} | ${ratio(tLat?.latency?.ms, lat?.latency?.ms)} | ${num(r.rssMB)} | ${cell(notes.join('; '))} |`);
  }
  return lines;
}

/** The grid: one row per setting, training samples/s per batch, inference and latency at the main batch. */
function torchGridTable(batches: number[], torch: Map<number, TorchAtBatch>): string[] {
  const first = torch.values().next().value as TorchAtBatch | undefined;
  if (!first || first.settings.length < 2) return [];
  const main = torch.get(MAIN_BATCH);
  return gridTable(first.settings, [
    ...batches.map((b) => ({ title: `train samples/s, batch ${b}`, values: torch.get(b)?.grid.map((g) => g.train?.sps) ?? [] })),
    ...(main ? [
      { title: `inference samples/s, batch ${INFER_BATCH}`, values: main.grid.map((g) => g.infer?.sps) },
      { title: 'batch-1 latency ms', values: main.grid.map((g) => g.latency?.ms), lowerIsBetter: true, digits: 2 },
    ] : []),
  ]);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      threads: { type: 'string' },
      quick: { type: 'boolean', default: false },
      engines: { type: 'string' },
      batches: { type: 'string' },
      'no-grid': { type: 'boolean', default: false },
      worker: { type: 'string' },
      config: { type: 'string' },
    },
  });
  if (values.worker) {
    if (!(ENGINES as readonly string[]).includes(values.worker) || !values.config) throw new Error(`usage: --worker <${ENGINES.join('|')}> --config <file>`);
    return worker(values.worker as EngineName, values.config);
  }
  const threads = values.threads ? Number(values.threads) : availableParallelism();
  if (!Number.isInteger(threads) || threads < 1) throw new Error(`--threads must be a positive integer, got ${values.threads}`);
  const engines = (values.engines ? values.engines.split(',') : [...ENGINES]) as EngineName[];
  for (const e of engines) if (!ENGINES.includes(e)) throw new Error(`unknown engine '${e}' (expected ${ENGINES.join(', ')})`);
  const batches = values.batches ? values.batches.split(',').map(Number) : BATCHES;
  for (const b of batches) if (!Number.isInteger(b) || b < 1) throw new Error(`--batches takes positive integers, got ${values.batches}`);
  const quick = values.quick ?? false;
  const useGrid = !values['no-grid'];

  const started = performance.now();
  const load = loadavg()[0];
  const stolen = stealMeter();
  const found = engines.includes('pytorch') ? findTorchPeer() : undefined;
  if (found && !found.ok) console.error(`PyTorch peer skipped (${found.missing} missing): ${found.message}; our engine runs alone`);
  const peer = found?.ok ? found.peer : undefined;
  if (peer) console.error(`PyTorch peer: ${describePeer(peer)}`);
  const settings: PeerSetting[] = !peer ? []
    : useGrid ? settingsGrid(threads, peer.blas.kind, peer.probe.onednn === true)
    : [{ torchThreads: threads, blasThreads: peer.blas.kind === 'openblas' ? 1 : undefined }];

  const dir = mkdtempSync(join(tmpdir(), 'weightshare-train-'));
  const ours = new Map<number, WorkerResult>();
  const torch = new Map<number, TorchAtBatch>();
  const others: WorkerResult[] = [];
  const warnings: string[] = [];
  let dataMB = '?';
  try {
    const base = await prepareData(dir, threads);
    dataMB = (((base.trainSamples + base.testBatches * INFER_BATCH) * (PIXELS + 1) * 4) / 2 ** 20).toFixed(0);
    let runs = 0;
    const config = (batch: number, plan: Plan): string => {
      const path = join(dir, `config-${runs++}.json`);
      writeFileSync(path, JSON.stringify({ ...base, batch, trainBatches: Math.floor(base.trainSamples / batch), plan } satisfies WorkerConfig));
      return path;
    };
    const runTorch = async (setting: PeerSetting, batch: number, plan: Plan): Promise<WorkerResult> => {
      console.error(`pytorch batch ${batch}, ${settingLabel(setting)}:`);
      const r = await runWorker('pytorch', config(batch, plan), { peer: peer!, setting });
      const bad = r.skipped ? undefined : settingMismatch(setting, r.settings);
      if (bad) warnings.push(`PyTorch at ${settingLabel(setting)} ran with ${bad}`);
      return r;
    };
    for (const b of batches) {
      const full = b === MAIN_BATCH;
      const grid: WorkerResult[] = [];
      if (peer && settings.length > 1) for (const s of settings) grid.push(await runTorch(s, b, gridPlan(b, quick, full)));
      const pick = (v: (r: WorkerResult) => number | undefined, lower = false) => settings[Math.max(0, bestIndex(grid.map(v), lower))];
      const trainSetting = pick((r) => r.train?.sps);
      // Ours and PyTorch's best in turn, ROUNDS times each, so that both see the same drift of the machine.
      const oursRuns: WorkerResult[] = [], torchRuns: WorkerResult[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        if (engines.includes('weightshare')) {
          console.error(`weightshare batch ${b} (round ${round + 1} of ${ROUNDS}):`);
          oursRuns.push(await runWorker('weightshare', config(b, normalPlan(b, quick, full))));
        }
        if (peer) torchRuns.push(await runTorch(trainSetting, b, normalPlan(b, quick, full)));
      }
      if (oursRuns.length) ours.set(b, bestOf(oursRuns));
      if (!peer) continue;
      const at: TorchAtBatch = { settings, grid, train: { setting: trainSetting, result: bestOf(torchRuns) } };
      if (full && grid.length) {
        const normal = normalPlan(b, quick, true);
        const alone = async (setting: PeerSetting, plan: Plan) => ({ setting, result: bestOf(await repeat(ROUNDS, () => runTorch(setting, b, plan))) });
        const inferSetting = pick((r) => r.infer?.sps);
        const latSetting = pick((r) => r.latency?.ms, true);
        if (inferSetting !== trainSetting) at.infer = await alone(inferSetting, { ...normal, train: SKIP, latency: SKIP });
        if (latSetting !== trainSetting) at.latency = await alone(latSetting, { ...normal, train: SKIP, infer: SKIP });
      }
      torch.set(b, at);
    }
    for (const e of engines.filter((e) => e.startsWith('tfjs'))) {
      console.error(`${e} batch ${MAIN_BATCH}:`);
      others.push(await runWorker(e, config(MAIN_BATCH, e === 'tfjs-cpu' ? slowPlan(quick) : normalPlan(MAIN_BATCH, quick, true))));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  const m = machine();
  const date = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const skippedTorch = found && !found.ok ? `not run: ${found.message}; our engine ran alone` : undefined;
  const mainResults: WorkerResult[] = [
    ...(ours.get(MAIN_BATCH) ? [ours.get(MAIN_BATCH)!] : []),
    ...(torch.get(MAIN_BATCH) ? [torch.get(MAIN_BATCH)!.train.result] : skippedTorch ? [{ engine: 'pytorch', threads: 0, skipped: skippedTorch }] : []),
    ...others,
  ];
  const gridLines = torchGridTable(batches, torch);
  const body = [
    '## Training: `npm run bench:train`',
    '',
    `- Command: \`node dist/bench/train.js --threads ${threads}${quick ? ' --quick' : ''}${values.batches ? ` --batches ${batches.join(',')}` : ''}${useGrid ? '' : ' --no-grid'}\`; ` +
      `date ${date}; wall time ${((performance.now() - started) / 1000).toFixed(0)} s; 1-minute load average ${load.toFixed(1)} at the start${stolen()}`,
    `- Machine: nproc ${m.nproc}, ${m.cpu}, Node ${m.node}`,
    `- PyTorch peer: ${peer ? describePeer(peer) : skippedTorch ?? 'not selected'}`,
    '- Workload: the Keras MNIST CNN (conv 32 3×3 relu → max-pool 2 → conv 64 3×3 relu → max-pool 2 → dense 128 relu → dense 10, softmax cross-entropy), ' +
      'glorot-uniform init, Adam lr 1e-3, on the 8,000 real digits of `mnist-sample` in one seeded shuffle, the same batches in the same order for every engine.',
    `- Train: samples/s, each step forward + loss + backward + Adam update with the loss read back; after warm-up steps, at least one pass over the 8,000 digits and 6 s ` +
      `(tfjs-cpu: 2 steps, no warm-up). At batch ${MAIN_BATCH} the same process then measures inference (samples/s of forward passes at batch ${INFER_BATCH}, ` +
      'accuracy over the first 1,792 test digits) and batch-1 latency (median ms of single-image forward passes, at least 100 and 2 s); TF.js runs at that batch only.',
    `- PyTorch at its best: each batch first runs PyTorch once per thread setting of the grid below (a fresh process each, ≈ 3 s of training${batches.includes(MAIN_BATCH) ? `, plus ≈ 1.5 s each of inference and latency at batch ${MAIN_BATCH}` : ''}), ` +
      `then ours and PyTorch at the setting with the most training samples/s run in turn, ${ROUNDS} times each, in the normal window, and each engine's figures are the best of its runs ` +
      '(PyTorch\'s inference and latency at their own best settings, as often). Settings: intra-op threads by ' +
      '`torch.set_num_threads`, OpenBLAS threads by `OPENBLAS_NUM_THREADS` (torch does not govern them: torch 2 + OpenBLAS 2 oversubscribe two cores), oneDNN by ' +
      '`torch.backends.mkldnn.enabled`; each worker reads the settings in effect back from torch and OpenBLAS.',
    `- Each run is a child process of its own, one at a time; peak RSS is that process's maxrss (MB = 2²⁰ bytes), including the ${dataMB} MB of raw data it loads ` +
      `(at batch ${MAIN_BATCH} also the inference runs; the highest of an engine's runs). Ratios are speed ratios against PyTorch's best (> 1: faster; for latency PyTorch's ms / ours).`,
    ...warnings.map((w) => `- Warning: ${w}`),
    '',
    `### Batch sweep: training samples/s and peak RSS`,
    '',
    ...sweepTable(batches, ours, torch),
    '',
    `### Batch ${MAIN_BATCH}: every engine, training, inference and batch-1 latency`,
    '',
    ...mainTable(mainResults, torch.get(MAIN_BATCH)),
    ...(gridLines.length ? ['', '### PyTorch thread-setting grid (short windows; best of each column in bold)', '', ...gridLines] : []),
  ].join('\n');
  console.log(body);
  if (quick || values.batches || !useGrid) console.error('--quick / --batches / --no-grid: BENCHMARKS.md left unchanged');
  else console.error(`written to ${writeSection('bench:train', body)}`);
}

await main();
