// `npm run bench:rnn`: LSTM language-model training tokens/s and peak RSS, ours beside PyTorch at its best thread setting, same data.
// Workload (issue 10): the sotu corpus at character level, windows of 64, embedding 128, LSTM 256, dense softmax, batch 32, Adam.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import {
  bestIndex, describePeer, findTorchPeer, gridTable, type PeerSetting, runPeerWorker, settingLabel, settingMismatch, settingsGrid, type TorchPeer,
} from './torch-peer.js';
import { lastJsonLine, machine, runChild, writeSection } from './util.js';

const BATCH = 32;
const BPTT = 64;
const EMBED = 128;
const HIDDEN = 256;
const ROUNDS = 2;

interface Plan { warmup: number; min: number; minSeconds: number; max: number }
interface RnnWorkerConfig { dir: string; seed: number; batch: number; bptt: number; vocab: number; embed: number; hidden: number; layers: number; threads: number; plan: Plan }
/** The process CPU time per training step, beside the wall time (on a shared machine the CPU time moves less). */
interface CpuNote { cpuMsPerStep?: number }
interface RnnResult {
  engine: string;
  skipped?: string;
  train?: { tokensPerSec: number; steps: number; seconds: number; lossFirst: number; lossLast: number } & CpuNote;
  settings?: { torchThreads: number; blasThreads: number | null; onednn: boolean };
  note?: string;
  rssMB?: number;
}

/** Our side: the zoo's char-lstm (as `weightshare train --model char-lstm` builds it) without clipping, Adam lr 1e-3, trainOnBatch per step. */
async function ourWorker(cfgPath: string): Promise<void> {
  const { readFileSync } = await import('node:fs');
  const cfg = JSON.parse(readFileSync(cfgPath, 'utf8')) as RnnWorkerConfig;
  const { Adam, createTextModel, getBackend, setThreads, tensor, tidy } = await import('../src/index.js');
  setThreads(cfg.threads);
  const x = new Int32Array(readFileSync(join(cfg.dir, 'x.i32')).buffer.slice(0));
  const y = new Int32Array(readFileSync(join(cfg.dir, 'y.i32')).buffer.slice(0));
  const m = createTextModel('char-lstm', { vocab: cfg.vocab, length: cfg.bptt, embed: cfg.embed, hidden: cfg.hidden, layers: cfg.layers }).build(cfg.seed);
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
  const out: RnnResult = {
    engine: 'weightshare',
    train: {
      tokensPerSec: (n * per) / seconds, steps: n, seconds, lossFirst: losses[0], lossLast: losses[losses.length - 1],
      cpuMsPerStep: (cpu.user + cpu.system) / 1000 / n,
    },
    note: `createTextModel('char-lstm') + Adam, trainOnBatch; ${getBackend().name} backend, ${be.threads ?? 1} thread(s)${be.relaxedSimd === undefined ? '' : `, relaxed SIMD ${be.relaxedSimd ? 'yes' : 'no'}`}`,
    rssMB: process.resourceUsage().maxRSS / 1024,
  };
  console.log(JSON.stringify(out));
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { threads: { type: 'string' }, quick: { type: 'boolean', default: false }, 'no-grid': { type: 'boolean', default: false }, worker: { type: 'string' } } });
  if (values.worker) return ourWorker(values.worker);
  const threads = values.threads ? Number(values.threads) : availableParallelism();
  // Like PyTorch, our engine runs at its best thread count unless --threads fixes it: on a machine shared with other
  // work (Linux autogroups share the CPU per session, not per thread) one thread can beat two.
  const ourThreads = values.threads || values['no-grid'] || threads === 1 ? [threads] : [1, threads];
  const quick = values.quick ?? false;
  const started = performance.now();
  const load = loadavg()[0];
  const { loadTextDataset } = await import('../src/data/corpora.js');
  const { dataset: ds, tokenizer, stats } = loadTextDataset('sotu', { level: 'char', bptt: BPTT });
  const found = findTorchPeer();
  if (!found.ok) console.error(`PyTorch peer skipped (${found.missing} missing): ${found.message}; our engine runs alone`);
  const peer: TorchPeer | undefined = found.ok ? found.peer : undefined;
  const settings: PeerSetting[] = !peer ? [] : values['no-grid'] ? [{ torchThreads: 1, blasThreads: threads }] : settingsGrid(threads, peer.blas.kind, false);
  const dir = mkdtempSync(join(tmpdir(), 'weightshare-rnn-'));
  const normal: Plan = quick ? { warmup: 2, min: 5, minSeconds: 3, max: 10_000 } : { warmup: 3, min: 20, minSeconds: 10, max: 10_000 };
  const short: Plan = { warmup: 2, min: 5, minSeconds: 3, max: 10_000 };
  const warnings: string[] = [];
  const nWin = Math.floor(ds.yTrain.length / BPTT);
  writeFileSync(join(dir, 'x.i32'), ds.xTrain.subarray(0, nWin * BPTT));
  writeFileSync(join(dir, 'y.i32'), ds.yTrain.subarray(0, nWin * BPTT));
  let runs = 0;
  const config = (plan: Plan, th = threads): string => {
    const path = join(dir, `config-${runs++}.json`);
    const c: RnnWorkerConfig = { dir, seed: 1, batch: BATCH, bptt: BPTT, vocab: tokenizer.vocabSize, embed: EMBED, hidden: HIDDEN, layers: 1, threads: th, plan };
    writeFileSync(path, JSON.stringify(c));
    return path;
  };
  const runOurs = async (plan: Plan, th: number): Promise<RnnResult> => {
    console.error(`weightshare, ${th} thread(s):`);
    return lastJsonLine<RnnResult>(await runChild(process.execPath, [fileURLToPath(import.meta.url), '--worker', config(plan, th)], 900));
  };
  const runTorch = async (s: PeerSetting, plan: Plan): Promise<RnnResult> => {
    console.error(`pytorch, ${settingLabel(s)}:`);
    const r = lastJsonLine<RnnResult>(await runPeerWorker(peer!, fileURLToPath(new URL('../../bench/rnn_torch.py', import.meta.url)), [config(plan)], s, 900));
    const bad = r.skipped ? undefined : settingMismatch(s, r.settings ?? undefined);
    if (bad) warnings.push(`PyTorch at ${settingLabel(s)} ran with ${bad}`);
    return r;
  };
  const best = (rs: RnnResult[]): RnnResult => rs[Math.max(0, bestIndex(rs.map((r) => r.train?.tokensPerSec)))];
  let ours: RnnResult, torch: RnnResult | undefined, torchSetting: PeerSetting | undefined;
  const grid: RnnResult[] = [], ourGrid: RnnResult[] = [];
  let oursAt = threads;
  try {
    if (peer && settings.length > 1) for (const s of settings) grid.push(await runTorch(s, short));
    torchSetting = settings[Math.max(0, bestIndex(grid.map((r) => r.train?.tokensPerSec)))];
    if (ourThreads.length > 1) {
      for (const th of ourThreads) ourGrid.push(await runOurs(short, th));
      oursAt = ourThreads[Math.max(0, bestIndex(ourGrid.map((r) => r.train?.tokensPerSec)))];
    }
    const oursRuns: RnnResult[] = [], torchRuns: RnnResult[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      oursRuns.push(await runOurs(normal, oursAt));
      if (peer && torchSetting) torchRuns.push(await runTorch(torchSetting, normal));
    }
    ours = best(oursRuns);
    torch = torchRuns.length ? best(torchRuns) : undefined;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const m = machine();
  const tps = (r?: RnnResult): string => (r?.train ? Math.round(r.train.tokensPerSec).toLocaleString('en-US') : '–');
  const ratio = ours.train && torch?.train ? `${(ours.train.tokensPerSec / torch.train.tokensPerSec).toFixed(2)}×` : '–';
  const cpuMs = (r?: RnnResult): string => r?.train?.cpuMsPerStep?.toFixed(0) ?? '–';
  const row = (name: string, setting: string, r: RnnResult | undefined, rel: string): string =>
    `| ${name} | ${setting} | ${tps(r)} | ${rel} | ${cpuMs(r)} | ${r?.rssMB?.toFixed(0) ?? '–'} | ${r?.train ? `${r.train.lossFirst.toFixed(3)} → ${r.train.lossLast.toFixed(3)} (${r.train.steps} steps)` : r?.skipped ?? '–'} | ${r?.note ?? ''} |`;
  const body = [
    '## Recurrent language model: `npm run bench:rnn`',
    '',
    `- Command: \`node dist/bench/rnn.js${values.threads ? ` --threads ${threads}` : ''}${quick ? ' --quick' : ''}${values['no-grid'] ? ' --no-grid' : ''}\`; date ${new Date().toISOString().replace(/\.\d+Z$/, 'Z')}; ` +
      `wall time ${((performance.now() - started) / 1000).toFixed(0)} s; 1-minute load average ${load.toFixed(1)} at the start`,
    `- Machine: nproc ${m.nproc}, ${m.cpu}, Node ${m.node}`,
    `- PyTorch peer: ${peer ? describePeer(peer) : found.ok ? '' : `not run: ${found.message}`}`,
    `- Workload: a character-level LSTM language model on \`sotu\` (vocabulary ${tokenizer.vocabSize}, ${stats.train.tokens.toLocaleString('en-US')} training characters): ` +
      `Embedding(${tokenizer.vocabSize}, ${EMBED}) → LSTM(${HIDDEN}, all steps) → Dense(${tokenizer.vocabSize}) softmax, cross-entropy at every position, Adam lr 1e-3, ` +
      `batch ${BATCH} windows of ${BPTT} characters (the same windows in the same order for both engines), no clipping. Tokens/s = steps × ${BATCH} × ${BPTT} / seconds, ` +
      'each step forward + loss + backward + update with the loss read back, after warm-up steps.',
    `- Each engine at its best: the grids below (≈ 3 s each, a fresh process per setting; ours at 1 and ${threads} threads unless --threads fixes it), then ours and ` +
      `PyTorch at their best settings in turn, ${ROUNDS} times each (${normal.minSeconds} s windows), each engine's best run reported. PyTorch: \`nn.LSTM\` on the CPU ` +
      '(its fused ATen LSTM over OpenBLAS GEMMs). CPU ms/step: the process CPU time (all its threads) per training step.',
    ...warnings.map((w) => `- Warning: ${w}`),
    '',
    '| engine | threads | train tokens/s | vs PyTorch | CPU ms/step | peak RSS MB | loss first → last | notes |',
    '|---|---|---:|---:|---:|---:|---|---|',
    row('weightshare', String(oursAt), ours, ratio),
    ...(peer ? [row('pytorch', torchSetting ? settingLabel(torchSetting) : '?', torch, '1.00×')] : []),
    ...(grid.length ? ['', '### PyTorch thread-setting grid (short windows; best in bold)', '', ...gridTable(settings, [{ title: 'train tokens/s', values: grid.map((r) => r.train?.tokensPerSec) }])] : []),
    ...(ourGrid.length ? ['', '### weightshare thread counts (short windows)', '', '| threads | train tokens/s | CPU ms/step |', '|---:|---:|---:|',
      ...ourGrid.map((r, i) => `| ${ourThreads[i]} | ${tps(r)} | ${cpuMs(r)} |`)] : []),
  ].join('\n');
  console.log(body);
  if (quick || values['no-grid']) console.error('--quick / --no-grid: BENCHMARKS.md left unchanged');
  else console.error(`written to ${writeSection('bench:rnn', body)}`);
}

await main();
