// Load/save speed of model files (`npm run bench:io`): the reference CNN's file (weights and Adam state) and a large codebook file, saved and loaded, beside a raw write/read of the same bytes.
// `--baseline DIR` (and `--baseline-name NAME` for its column) also times another build (DIR = its dist/src, e.g. the
// commit before issue 15's load checks) on the
// same models: each build in child processes of its own, the builds taking turns (3 rounds), so that a loaded machine
// slows both alike; the table gives the least and the median time of each. `--quick` runs 1 round and writes nothing.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { lastJsonLine, machine, runChild, writeSection } from './util.js';

const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const quick = process.argv.includes('--quick');
const REPEATS = 5;
const ROUNDS = quick ? 1 : 3;

/** Times, in ms, of one file's save and load through the library and of a raw write and read of its bytes. */
interface Row { file: string; bytes: number; save: number[]; load: number[]; rawWrite: number[]; rawRead: number[] }

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Times the library under `lib` (a dist/src folder) on the two models; prints one JSON line of rows. */
async function measure(lib: string): Promise<Row[]> {
  const load = (p: string): Promise<any> => import(pathToFileURL(join(lib, p)).href);
  const [index, files, zoo, train] = await Promise.all([load('index.js'), load('io/files.js'), load('nn/zoo.js'), load('cli/train.js')]);
  index.setThreads(1);
  // The reference CNN after one Adam step (so its file holds the optimizer state, as `train` writes it).
  const cnn = zoo.createModel('seed-cnn').build(1);
  cnn.compile({ optimizer: 'adam', loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'] });
  const x = index.tensor(Float32Array.from({ length: 32 * 784 }, (_, i) => (i % 255) / 255), [32, 28, 28, 1]);
  const y = index.tensor(Int32Array.from({ length: 32 }, (_, i) => i % 10), [32], 'int32');
  cnn.trainOnBatch(x, y);
  // A large codebook file: 784-2000-2000-10 with every kernel in 32 clusters (5.6 M codes, Huffman-coded in the file).
  const big = zoo.createModel('mlp:2000,2000');
  train.applySharing(big, 'codebook:32');
  big.build(1);
  const dir = mkdtempSync(join(tmpdir(), 'ws-bench-io-'));
  const rows: Row[] = [];
  try {
    for (const [name, model] of [['seed-cnn with Adam state', cnn], ['mlp 784-2000-2000-10, codebook:32', big]] as const) {
      const path = join(dir, 'model.wsm'), raw = join(dir, 'raw.bin');
      const t = { save: [] as number[], load: [] as number[], rawWrite: [] as number[], rawRead: [] as number[] };
      let bytes = 0;
      for (let r = 0; r < REPEATS + 1; r++) {
        let t0 = performance.now();
        bytes = files.saveModel(path, model);
        const save = performance.now() - t0;
        t0 = performance.now();
        files.loadModel(path).model.dispose();
        const loaded = performance.now() - t0;
        const data = readFileSync(path);
        t0 = performance.now();
        writeFileSync(raw, data);
        const rawWrite = performance.now() - t0;
        t0 = performance.now();
        readFileSync(raw);
        const rawRead = performance.now() - t0;
        if (r === 0) continue; // warm-up
        t.save.push(save);
        t.load.push(loaded);
        t.rawWrite.push(rawWrite);
        t.rawRead.push(rawRead);
      }
      rows.push({ file: name, bytes, ...t });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}

const libArg = arg('--lib');
if (libArg) {
  console.log(JSON.stringify({ rows: await measure(resolve(libArg)) }));
  process.exit(0);
}
const self = fileURLToPath(import.meta.url);
const ours = join(fileURLToPath(new URL('..', import.meta.url)), 'src');
const baseline = arg('--baseline');
const t0 = Date.now();
const builds: [string, string][] = [['this build', ours], ...(baseline ? [[`baseline ${arg('--baseline-name') ?? ''}`.trim(), resolve(baseline)] as [string, string]] : [])];
const runs = builds.map(([label]) => ({ label, rows: [] as Row[] }));
for (let round = 0; round < ROUNDS; round++) {
  for (const [i, [, lib]] of builds.entries()) {
    const rows = lastJsonLine<{ rows: Row[] }>(await runChild(process.execPath, [self, '--lib', lib], 900)).rows;
    const into = runs[i]!.rows;
    rows.forEach((r, k) => {
      if (!into[k]) into[k] = r;
      else for (const key of ['save', 'load', 'rawWrite', 'rawRead'] as const) into[k][key].push(...r[key]);
    });
  }
}
const mib = (b: number): string => `${(b / 2 ** 20).toFixed(2)} MiB`;
/** 'least / median' of a list of ms. */
const ms = (v: number[]): string => `${Math.min(...v).toFixed(1)} / ${median(v).toFixed(1)}`;
const head = ['file', 'size', ...runs.flatMap((r) => [`save ms (${r.label})`, `load ms (${r.label})`]), 'raw write ms', 'raw read ms'];
const lines = runs[0]!.rows.map((row, i) => `| ${row.file} | ${mib(row.bytes)} | ${runs.flatMap((r) => [ms(r.rows[i]!.save), ms(r.rows[i]!.load)]).join(' | ')} | ${ms(row.rawWrite)} | ${ms(row.rawRead)} |`);
const mc = machine();
const load1 = (() => { try { return readFileSync('/proc/loadavg', 'utf8').split(' ')[0]; } catch { return '?'; } })();
const text = `## Model files: \`npm run bench:io\`

- Command: \`node dist/bench/io.js${baseline ? ` --baseline ${baseline}${arg('--baseline-name') ? ` --baseline-name ${arg('--baseline-name')}` : ''}` : ''}${quick ? ' --quick' : ''}\`; ${new Date().toISOString().slice(0, 16)}Z; ${mc.cpu}, ${mc.nproc} cores, Node ${mc.node}; wall time ${Math.round((Date.now() - t0) / 1000)} s; 1-minute load average ${load1} at the end
- \`saveModel\` (encode, CRC-32, temp file, fsync, rename, folder fsync) and \`loadModel\` (read, every check of "Files and safety", decode, build)
  of each file, least / median ms of ${ROUNDS * REPEATS} (${ROUNDS} rounds of ${REPEATS} after one warm-up, in a child process per build and round, the builds
  taking turns), one engine thread; "raw" = \`writeFileSync\` / \`readFileSync\` of the same bytes (no fsync), the floor. Issue 15's
  target: no regression in load/save speed of normal files${baseline ? '; the baseline columns are the same script on the build named above' : ''}.

| ${head.join(' | ')} |
|${head.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|
${lines.join('\n')}
`;
console.log(text);
if (!quick) writeSection('bench:io', text);
