// Training benchmark (`npm run bench:train`): the Keras MNIST CNN trained with Adam, ours beside PyTorch and TF.js, each engine in its own process.
// Flags: --threads N (default: cores), --quick (few steps, BENCHMARKS.md untouched), --engines a,b (subset).
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { TrainRunner } from './train-ours.js';
import { machine, reason, repoRoot, writeSection } from './util.js';

const ENGINES = ['weightshare', 'pytorch', 'tfjs-cpu', 'tfjs-wasm'] as const;
type EngineName = (typeof ENGINES)[number];

const BATCH = 32;
const INFER_BATCH = 256;
const SEED = 1;
const PIXELS = 28 * 28;

/** How long one engine runs: warm-up steps, then timed steps until both minimums are met (or the maximum). */
interface Plan {
  warmupSteps: number;
  minSteps: number;
  minSeconds: number;
  maxSteps: number;
  minInferBatches: number;
  minInferSeconds: number;
  maxInferBatches: number;
}

/**
 * What every worker (node or python) reads: the folder of raw little-endian files train_x.f32
 * [trainBatches·BATCH,28,28,1], train_y.i32, test_x.f32 [testBatches·INFER_BATCH,28,28,1], test_y.i32.
 * Training step k uses train batch k mod trainBatches; inference batch j uses test batch j mod testBatches.
 */
interface WorkerConfig {
  dir: string;
  threads: number;
  seed: number;
  batch: number;
  trainBatches: number;
  inferBatch: number;
  testBatches: number;
  plans: Record<EngineName, Plan>;
}

/** The JSON line a worker prints. */
interface WorkerResult {
  engine: string;
  threads: number;
  note?: string;
  version?: string;
  skipped?: string;
  train?: { sps: number; steps: number; seconds: number; lossFirst: number; lossLast: number };
  trainError?: string;
  infer?: { sps: number; batches: number; seconds: number; accuracy: number; evaluated: number };
  inferError?: string;
  rssMB?: number;
}

function plans(quick: boolean): Record<EngineName, Plan> {
  const full: Plan = { warmupSteps: 5, minSteps: 250, minSeconds: 10, maxSteps: 2500, minInferBatches: 20, minInferSeconds: 5, maxInferBatches: 400 };
  const fast: Plan = { warmupSteps: 2, minSteps: 10, minSeconds: 0, maxSteps: 10, minInferBatches: 2, minInferSeconds: 0, maxInferBatches: 2 };
  // tfjs-cpu trains at a few samples/s: a handful of steps is all the time allows.
  const slow: Plan = quick
    ? { warmupSteps: 0, minSteps: 1, minSeconds: 0, maxSteps: 1, minInferBatches: 1, minInferSeconds: 0, maxInferBatches: 1 }
    : { warmupSteps: 1, minSteps: 3, minSeconds: 0, maxSteps: 3, minInferBatches: 2, minInferSeconds: 0, maxInferBatches: 2 };
  const p = quick ? fast : full;
  return { weightshare: p, pytorch: p, 'tfjs-cpu': slow, 'tfjs-wasm': p };
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

/** Runs one engine in this process and prints its WorkerResult as one JSON line. */
async function worker(engine: EngineName, cfgPath: string): Promise<void> {
  const cfg = JSON.parse(readFileSync(cfgPath, 'utf8')) as WorkerConfig;
  const plan = cfg.plans[engine];
  const out: WorkerResult = { engine, threads: cfg.threads };
  const xTrain = readF32(join(cfg.dir, 'train_x.f32'));
  const yTrain = readI32(join(cfg.dir, 'train_y.i32'));
  const xTest = readF32(join(cfg.dir, 'test_x.f32'));
  const yTest = readI32(join(cfg.dir, 'test_y.i32'));
  const runner = await makeRunner(engine, cfg.threads);
  const b = cfg.batch;
  const step = (k: number): number => {
    const i = k % cfg.trainBatches;
    return runner.trainStep(xTrain.subarray(i * b * PIXELS, (i + 1) * b * PIXELS), yTrain.subarray(i * b, (i + 1) * b));
  };
  try {
    let first = NaN, last = NaN;
    for (let k = 0; k < plan.warmupSteps; k++) {
      const loss = step(k);
      if (k === 0) first = loss;
    }
    let steps = 0;
    const t0 = performance.now();
    const elapsed = () => (performance.now() - t0) / 1000;
    while ((steps < plan.minSteps || elapsed() < plan.minSeconds) && steps < plan.maxSteps) {
      last = step(plan.warmupSteps + steps++);
      if (Number.isNaN(first)) first = last;
    }
    const seconds = elapsed();
    out.train = { sps: (steps * b) / seconds, steps, seconds, lossFirst: first, lossLast: last };
    console.error(`  ${engine}: ${steps} training steps in ${seconds.toFixed(1)} s, loss ${first.toFixed(3)} → ${last.toFixed(3)}`);
  } catch (e) {
    out.trainError = reason(e);
    console.error(`  ${engine}: cannot train: ${out.trainError}`);
  }
  try {
    const ib = cfg.inferBatch;
    const batchX = (j: number) => xTest.subarray((j % cfg.testBatches) * ib * PIXELS, ((j % cfg.testBatches) + 1) * ib * PIXELS);
    runner.predict(batchX(0), ib);
    let batches = 0, correct = 0, evaluated = 0;
    const t0 = performance.now();
    const elapsed = () => (performance.now() - t0) / 1000;
    while ((batches < plan.minInferBatches || elapsed() < plan.minInferSeconds) && batches < plan.maxInferBatches) {
      const logits = runner.predict(batchX(batches), ib);
      if (batches < cfg.testBatches) {
        for (let r = 0; r < ib; r++) {
          let best = 0;
          for (let c = 1; c < 10; c++) if (logits[r * 10 + c] > logits[r * 10 + best]) best = c;
          if (best === yTest[batches * ib + r]) correct++;
        }
        evaluated += ib;
      }
      batches++;
    }
    const seconds = elapsed();
    out.infer = { sps: (batches * ib) / seconds, batches, seconds, accuracy: correct / evaluated, evaluated };
    console.error(`  ${engine}: ${batches} inference batches in ${seconds.toFixed(1)} s`);
  } catch (e) {
    out.inferError = reason(e);
    console.error(`  ${engine}: cannot infer: ${out.inferError}`);
  }
  out.note = runner.describe();
  runner.dispose();
  out.rssMB = process.resourceUsage().maxRSS / 1024;
  console.log(JSON.stringify(out));
}

// ---------------------------------------------------------------------------------------------- parent

/** Runs a command, passing its stderr through; resolves with its stdout, or rejects with the reason it failed. */
function runChild(cmd: string, args: string[], timeoutS: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'], timeout: timeoutS * 1000 });
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (code === 0) resolve(stdout);
      else reject(new Error(signal ? `killed by ${signal}${signal === 'SIGTERM' ? ` (timeout ${timeoutS} s?)` : ''}` : `exit code ${code}`));
    });
  });
}

/** The last line of stdout that parses as a WorkerResult. */
function lastJson(stdout: string): WorkerResult {
  const line = stdout.trim().split('\n').reverse().find((l) => l.startsWith('{'));
  if (!line) throw new Error(`no JSON result line in the worker's output: ${stdout.slice(-200)}`);
  return JSON.parse(line) as WorkerResult;
}

/** Writes the shuffled training set and the test batches as raw files; returns the worker config. */
async function prepareData(dir: string, threads: number, quick: boolean): Promise<WorkerConfig> {
  const { loadDataset, shuffledIndices } = await import('../src/data/index.js');
  const ds = loadDataset('mnist-sample');
  const trainBatches = Math.floor(ds.yTrain.length / BATCH);
  const order = shuffledIndices(ds.yTrain.length, SEED);
  const x = new Float32Array(trainBatches * BATCH * PIXELS);
  const y = new Int32Array(trainBatches * BATCH);
  for (let k = 0; k < y.length; k++) {
    x.set(ds.xTrain.subarray(order[k] * PIXELS, (order[k] + 1) * PIXELS), k * PIXELS);
    y[k] = ds.yTrain[order[k]];
  }
  const testBatches = Math.floor(ds.yTest.length / INFER_BATCH);
  const raw = (a: Float32Array | Int32Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength); // little-endian on every platform Node runs on
  writeFileSync(join(dir, 'train_x.f32'), raw(x));
  writeFileSync(join(dir, 'train_y.i32'), raw(y));
  writeFileSync(join(dir, 'test_x.f32'), raw(ds.xTest.subarray(0, testBatches * INFER_BATCH * PIXELS)));
  writeFileSync(join(dir, 'test_y.i32'), raw(ds.yTest.subarray(0, testBatches * INFER_BATCH)));
  return { dir, threads, seed: SEED, batch: BATCH, trainBatches, inferBatch: INFER_BATCH, testBatches, plans: plans(quick) };
}

/** The Python to run the torch peer with: $PYTHON, else the first of python3 / Debian's /usr/bin/python3 that imports torch. */
function python(): string {
  if (process.env.PYTHON) return process.env.PYTHON;
  const candidates = ['python3', '/usr/bin/python3'];
  return candidates.find((p) => spawnSync(p, ['-c', 'import torch'], { stdio: 'ignore', timeout: 60_000 }).status === 0) ?? candidates[0];
}

async function runEngine(engine: EngineName, cfgPath: string): Promise<WorkerResult> {
  console.error(`${engine}:`);
  try {
    const stdout = engine === 'pytorch'
      ? await runChild(python(), [join(repoRoot(), 'bench', 'train_torch.py'), cfgPath], 900)
      : await runChild(process.execPath, [fileURLToPath(import.meta.url), '--worker', engine, '--config', cfgPath], 900);
    const r = lastJson(stdout);
    if (r.skipped) console.error(`  ${engine} skipped: ${r.skipped}`);
    return r;
  } catch (e) {
    console.error(`  ${engine} failed: ${reason(e)}`);
    return { engine, threads: 0, skipped: `${engine === 'pytorch' ? 'python3 failed: ' : ''}${reason(e)}` };
  }
}

const num = (v: number | undefined, digits = 0): string => (v === undefined ? '–' : v.toFixed(digits));
const ratio = (v: number | undefined, ref: number | undefined): string =>
  v !== undefined && ref ? `${v / ref < 0.1 ? (v / ref).toPrecision(2) : (v / ref).toFixed(2)}×` : '–';

function table(results: WorkerResult[]): string[] {
  const torch = results.find((r) => r.engine === 'pytorch');
  const lines = [
    '| engine | threads | train samples/s | vs PyTorch | inference samples/s (batch 256) | vs PyTorch | peak RSS MB | notes |',
    '|---|---:|---:|---:|---:|---:|---:|---|',
  ];
  for (const r of results) {
    if (r.skipped) {
      lines.push(`| ${r.engine} | – | – | – | – | – | – | skipped: ${r.skipped} |`);
      continue;
    }
    const notes: string[] = [];
    if (r.note) notes.push(r.note);
    if (r.train) notes.push(`${r.train.steps} timed steps after warm-up, loss ${r.train.lossFirst.toFixed(3)} → ${r.train.lossLast.toFixed(3)}`);
    if (r.trainError) notes.push(`cannot train: ${r.trainError}`);
    if (r.infer) notes.push(`${r.infer.batches} inference batches; test accuracy ${(100 * r.infer.accuracy).toFixed(1)} % on ${r.infer.evaluated} digits ${r.train ? 'after training' : '(untrained weights)'}`);
    if (r.inferError) notes.push(`cannot infer: ${r.inferError}`);
    const threads = r.engine === 'tfjs-cpu' || (r.engine === 'tfjs-wasm' && /1 thread/.test(r.note ?? '')) ? `1 (asked ${r.threads})` : String(r.threads);
    lines.push(`| ${r.engine} | ${threads} | ${r.train ? num(r.train.sps, r.train.sps < 10 ? 2 : 0) : 'n/a'} | ${ratio(r.train?.sps, torch?.train?.sps)} | ` +
      `${r.infer ? num(r.infer.sps, r.infer.sps < 10 ? 2 : 0) : 'n/a'} | ${ratio(r.infer?.sps, torch?.infer?.sps)} | ${num(r.rssMB)} | ${notes.join('; ').replace(/\|/g, '\\|')} |`);
  }
  return lines;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      threads: { type: 'string' },
      quick: { type: 'boolean', default: false },
      engines: { type: 'string' },
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
  const quick = values.quick ?? false;

  const started = performance.now();
  const dir = mkdtempSync(join(tmpdir(), 'weightshare-train-'));
  const results: WorkerResult[] = [];
  let dataMB = '?';
  try {
    const cfg = await prepareData(dir, threads, quick);
    dataMB = (((cfg.trainBatches * cfg.batch + cfg.testBatches * cfg.inferBatch) * (PIXELS + 1) * 4) / 2 ** 20).toFixed(0);
    const cfgPath = join(dir, 'config.json');
    writeFileSync(cfgPath, JSON.stringify(cfg));
    for (const e of engines) results.push(await runEngine(e, cfgPath));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  const m = machine();
  const torch = results.find((r) => r.engine === 'pytorch');
  const date = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const body = [
    '## Training: `npm run bench:train`',
    '',
    `- Command: \`node dist/bench/train.js --threads ${threads}${quick ? ' --quick' : ''}\`; date ${date}; wall time ${((performance.now() - started) / 1000).toFixed(0)} s`,
    `- Machine: nproc ${m.nproc}, ${m.cpu}, Node ${m.node}, torch ${torch?.version ?? `not run (${torch?.skipped ?? 'not selected'})`}`,
    '- Workload: the Keras MNIST CNN (conv 32 3×3 relu → max-pool 2 → conv 64 3×3 relu → max-pool 2 → dense 128 relu → dense 10, softmax cross-entropy), ' +
      'glorot-uniform init, Adam lr 1e-3, on the 8,000 real digits of `mnist-sample` in one seeded shuffle, the same batches in the same order for every engine.',
    `- Train: samples/s at batch ${BATCH}, each step forward + loss + backward + Adam update with the loss read back; after warm-up steps, at least 250 steps and 10 s ` +
      '(tfjs-cpu: 3 steps after 1). Inference: samples/s of forward passes at batch 256 over the first 1,792 test digits after training.',
    `- Each engine runs alone in its own child process; peak RSS is that process's maxrss (MB = 2²⁰ bytes), including the ${dataMB} MB of raw data it loads. ` +
      'Ratios divide by PyTorch. Figures are indicative: the machine is shared.',
    '',
    ...table(results),
  ].join('\n');
  console.log(body);
  if (quick) console.error('--quick: BENCHMARKS.md left unchanged');
  else console.error(`written to ${writeSection('bench:train', body)}`);
}

await main();
