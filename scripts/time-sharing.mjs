#!/usr/bin/env node
// Sharing across time, measured: one recurrent net with its recurrent kernel shared over all steps, untied per step, or
// partly shared (W_k = W + A_k·B_k of rank r), on a length-generalisation task and on a character language model.
// Usage (after `npm run build`): node scripts/time-sharing.mjs [synthetic|lm|all] [--seeds 0,1,2] [--write] [--json FILE]
//   --write   replaces the generated part of RESULTS.md's section "Sharing across time" (between its markers)
//   --json    also writes every run's figures (per seed) to FILE
//   --quick   one seed, a few epochs: checks the script, not the science
// Deterministic: the same command gives the same numbers (WEIGHTSHARE_THREADS=1 is set; kernels are bit-identical
// across thread counts anyway).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

process.env.WEIGHTSHARE_THREADS ??= '1';
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const ws = await import(join(root, 'dist/src/index.js'));
const { loadTextDataset } = await import(join(root, 'dist/src/node.js'));
const { layers } = ws;

const args = process.argv.slice(2);
const flag = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const which = args[0] && !args[0].startsWith('--') ? args[0] : 'all';
const quick = args.includes('--quick');
const seeds = flag('seeds', quick ? '0' : '0,1,2').split(',').map(Number);

// The synthetic task: running sum mod K of a digit string, labelled at every position; trained on length L (so on every
// length 1..L: each prefix is an example), tested on fresh strings of lengths L, 2L, 4L.
const SYN = { modulus: 10, length: 10, units: 32, train: 4096, test: 1000, epochs: quick ? 3 : 25, batch: 32, lr: 3e-3 };
const SYN_VARIANTS = [
  ['shared', undefined], ['rank 1', { rank: 1 }], ['rank 2', { rank: 2 }], ['rank 4', { rank: 4 }], ['rank 8', { rank: 8 }],
  ['rank 32 (= U)', { rank: 32 }], ['untied', 'untied'],
];
// The character LM: sotu, windows of BPTT characters, one per-step kernel per window position.
const LM = { bptt: 32, embed: 16, units: 64, limit: 8000, testLimit: 500, epochs: quick ? 1 : 4, batch: 32, lr: 3e-3 };
const LM_VARIANTS = [['shared', undefined], ['rank 1', { rank: 1 }], ['rank 4', { rank: 4 }], ['rank 16', { rank: 16 }], ['untied', 'untied']];

/** GRU options for a variant: the plain layer, or `steps` per-step kernels shared as asked. */
const gruOptions = (ts, steps) => (ts === undefined ? {} : { steps, timeSharing: ts });

const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
const sd = (xs) => (xs.length < 2 ? 0 : Math.sqrt(xs.reduce((a, b) => a + (b - mean(xs)) ** 2, 0) / (xs.length - 1)));
const pm = (xs, digits, scale = 1) => `${(scale * mean(xs)).toFixed(digits)} ± ${(scale * sd(xs)).toFixed(digits)}`;
const thousands = (n) => Math.round(n).toLocaleString('en-US');

/** The synthetic model for strings of length n: [n, K] one-hot → GRU (sequences) → softmax over K at every position. */
function synModel(n, ts, seed) {
  const x = ws.input({ shape: [n, SYN.modulus] });
  const h = layers.gru({ units: SYN.units, returnSequences: true, name: 'gru', ...gruOptions(ts, SYN.length) }).apply(x);
  const y = layers.dense({ units: SYN.modulus, activation: 'softmax', name: 'out' }).apply(h);
  return ws.model({ inputs: x, outputs: y }).build(seed);
}

const compileOf = (m, lr) => m.compile({ optimizer: new ws.Adam({ learningRate: lr }), loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'] });

/** Strings of length n as tensors, with a per-position weight selecting the last position. */
function synData(count, n, seed) {
  const d = ws.runningSum({ count, length: n, modulus: SYN.modulus, seed });
  const last = new Float32Array(count * n);
  for (let i = 0; i < count; i++) last[i * n + n - 1] = 1;
  return { x: ws.tensor(d.x, [count, n, SYN.modulus]), y: ws.tensor(d.y, [count, n], 'int32'), last: ws.tensor(last, [count, n]) };
}

async function synthetic() {
  const L = SYN.length;
  const lengths = [L, 2 * L, 4 * L];
  const tests = lengths.map((n) => synData(SYN.test, n, 7000 + n));
  const rows = [];
  for (const [label, ts] of SYN_VARIANTS) {
    const runs = [];
    for (const seed of seeds) {
      const t0 = Date.now();
      const train = synData(SYN.train, L, 100 + seed);
      const m = synModel(L, ts, seed);
      compileOf(m, SYN.lr);
      await m.fit(train.x, train.y, { epochs: SYN.epochs, batchSize: SYN.batch, seed });
      const run = { seed, params: m.countParams(), trainLoss: m.evaluate(train.x, train.y, { batchSize: 512 }).loss, loss: [], acc: [], lastAcc: [] };
      const weights = m.getWeights();
      lengths.forEach((n, k) => {
        const e = n === L ? m : synModel(n, ts, seed);
        if (e !== m) {
          e.setWeights(weights);
          compileOf(e, SYN.lr);
        }
        const all = e.evaluate(tests[k].x, tests[k].y, { batchSize: 500 });
        run.loss.push(all.loss);
        run.acc.push(all.accuracy);
        run.lastAcc.push(e.evaluate(tests[k].x, tests[k].y, { batchSize: 500, sampleWeight: tests[k].last }).accuracy);
        if (e !== m) e.dispose();
      });
      run.seconds = (Date.now() - t0) / 1000;
      m.dispose();
      for (const t of Object.values(train)) t.dispose();
      console.error(`synthetic ${label} seed ${seed}: ${run.params} params, train loss ${run.trainLoss.toFixed(4)}, test loss ${run.loss.map((v) => v.toFixed(3)).join(' / ')}, last-position accuracy ${run.lastAcc.map((v) => v.toFixed(3)).join(' / ')} (${run.seconds.toFixed(1)} s)`);
      runs.push(run);
    }
    rows.push({ label, runs });
  }
  for (const t of tests) for (const v of Object.values(t)) v.dispose();
  return rows;
}

/** The LM: ids [BPTT] → Embedding → GRU (sequences) → softmax over the characters at every position. */
function lmModel(vocab, ts, seed) {
  const ids = ws.input({ shape: [LM.bptt], dtype: 'int32' });
  let h = layers.embedding({ inputDim: vocab, outputDim: LM.embed, name: 'embedding' }).apply(ids);
  h = layers.gru({ units: LM.units, returnSequences: true, name: 'gru', ...gruOptions(ts, LM.bptt) }).apply(h);
  return ws.model({ inputs: ids, outputs: layers.dense({ units: vocab, activation: 'softmax', name: 'decoder' }).apply(h) }).build(seed);
}

async function languageModel() {
  const { dataset: ds, stats } = loadTextDataset('sotu', { level: 'char', bptt: LM.bptt, limit: LM.limit, testLimit: LM.testLimit });
  const shape = (a) => [a.length / LM.bptt, LM.bptt];
  const data = {
    x: ws.tensor(ds.xTrain, shape(ds.xTrain), 'int32'), y: ws.tensor(ds.yTrain, shape(ds.yTrain), 'int32'),
    xv: ws.tensor(ds.xValid, shape(ds.xValid), 'int32'), yv: ws.tensor(ds.yValid, shape(ds.yValid), 'int32'),
  };
  const rows = [];
  for (const [label, ts] of LM_VARIANTS) {
    const runs = [];
    for (const seed of seeds) {
      const t0 = Date.now();
      const m = lmModel(stats.vocabSize, ts, seed);
      compileOf(m, LM.lr);
      await m.fit(data.x, data.y, { epochs: LM.epochs, batchSize: LM.batch, seed });
      const train = m.evaluate(data.x, data.y, { batchSize: 250 });
      const valid = m.evaluate(data.xv, data.yv, { batchSize: 250 });
      const run = { seed, params: m.countParams(), trainBpc: train.loss / Math.LN2, validBpc: valid.loss / Math.LN2, validAcc: valid.accuracy, seconds: (Date.now() - t0) / 1000 };
      m.dispose();
      console.error(`lm ${label} seed ${seed}: ${run.params} params, train ${run.trainBpc.toFixed(3)} bpc, valid ${run.validBpc.toFixed(3)} bpc (${run.seconds.toFixed(1)} s)`);
      runs.push(run);
    }
    rows.push({ label, runs });
  }
  for (const t of Object.values(data)) t.dispose();
  return { rows, vocab: stats.vocabSize, windows: [ds.yTrain.length / LM.bptt, ds.yValid.length / LM.bptt] };
}

/**
 * Paired differences from the shared variant (rows[0]): every variant starts from the same function and sees the same
 * batches for a given seed, so metric(variant, seed) − metric(shared, seed) removes most of the seed-to-seed spread.
 */
const paired = (rows, r, f, digits, scale = 1) => {
  const d = r.runs.map((x, k) => f(x) - f(rows[0].runs[k]));
  return r === rows[0] ? '—' : `${mean(d) >= 0 ? '+' : ''}${pm(d, digits, scale)}`;
};

function syntheticTables(rows) {
  const L = SYN.length;
  const head = `| variant | free params | train loss | test loss L=${L} | 2L=${2 * L} | 4L=${4 * L} | last-position acc. L | 2L | 4L | Δ 4L vs shared (paired) | all-position acc. 2L | 4L | s/run |`;
  const lines = [head, `|${'---|'.repeat(1)}${'---:|'.repeat(12)}`];
  for (const r of rows) {
    const c = (f) => r.runs.map(f);
    lines.push(`| ${r.label} | ${thousands(r.runs[0].params)} | ${pm(c((x) => x.trainLoss), 4)} | ${[0, 1, 2].map((k) => pm(c((x) => x.loss[k]), 3)).join(' | ')} | `
      + `${[0, 1, 2].map((k) => pm(c((x) => x.lastAcc[k]), 1, 100)).join(' | ')} | ${paired(rows, r, (x) => x.lastAcc[2], 1, 100)} | `
      + `${[1, 2].map((k) => pm(c((x) => x.acc[k]), 1, 100)).join(' | ')} | ${mean(c((x) => x.seconds)).toFixed(0)} |`);
  }
  const csv = ['variant,params,train_loss,train_loss_sd,loss_L,loss_L_sd,loss_2L,loss_2L_sd,loss_4L,loss_4L_sd,last_acc_L,last_acc_L_sd,last_acc_2L,last_acc_2L_sd,last_acc_4L,last_acc_4L_sd'];
  for (const r of rows) {
    const c = (f) => r.runs.map(f);
    const cells = [c((x) => x.trainLoss), ...[0, 1, 2].map((k) => c((x) => x.loss[k])), ...[0, 1, 2].map((k) => c((x) => x.lastAcc[k]))];
    csv.push([r.label, r.runs[0].params, ...cells.flatMap((xs) => [mean(xs).toFixed(5), sd(xs).toFixed(5)])].join(','));
  }
  return { table: lines.join('\n'), csv: csv.join('\n') };
}

function lmTables(rows) {
  const lines = ['| variant | free params | train bpc | valid bpc | Δ valid vs shared (paired) | valid acc. | s/run |', '|---|---:|---:|---:|---:|---:|---:|'];
  const csv = ['variant,params,train_bpc,train_bpc_sd,valid_bpc,valid_bpc_sd'];
  for (const r of rows) {
    const c = (f) => r.runs.map(f);
    lines.push(`| ${r.label} | ${thousands(r.runs[0].params)} | ${pm(c((x) => x.trainBpc), 3)} | ${pm(c((x) => x.validBpc), 3)} | ${paired(rows, r, (x) => x.validBpc, 3)} | `
      + `${pm(c((x) => x.validAcc), 1, 100)} | ${mean(c((x) => x.seconds)).toFixed(0)} |`);
    csv.push([r.label, r.runs[0].params, ...[c((x) => x.trainBpc), c((x) => x.validBpc)].flatMap((xs) => [mean(xs).toFixed(4), sd(xs).toFixed(4)])].join(','));
  }
  return { table: lines.join('\n'), csv: csv.join('\n') };
}

/** Replaces the text between `<!-- results:time-sharing:<part> -->` and its closing marker in RESULTS.md. */
function writeSection(part, text) {
  const file = join(root, 'RESULTS.md');
  const begin = `<!-- results:time-sharing:${part} -->`;
  const end = `<!-- /results:time-sharing:${part} -->`;
  let doc = existsSync(file) ? readFileSync(file, 'utf8') : '# Results\n';
  const block = `${begin}\n${text.trim()}\n${end}`;
  if (doc.includes(begin)) doc = doc.slice(0, doc.indexOf(begin)) + block + doc.slice(doc.indexOf(end) + end.length);
  else doc = `${doc.trimEnd()}\n\n${block}\n`;
  writeFileSync(file, doc);
}

const started = Date.now();
const stamp = new Date().toISOString().slice(0, 10);
const out = [];
const raw = {};
if (which === 'synthetic' || which === 'all') {
  const t0 = Date.now();
  raw.synthetic = { settings: SYN, rows: await synthetic() };
  const { table, csv } = syntheticTables(raw.synthetic.rows);
  const wall = ((Date.now() - t0) / 60000).toFixed(1);
  out.push(['synthetic', `Running sum mod ${SYN.modulus} (${stamp}; \`node scripts/time-sharing.mjs synthetic\`, seeds ${seeds.join(', ')}, ${wall} min wall on 1 thread). `
    + `GRU ${SYN.units} units, S = L = ${SYN.length} per-step kernels, ${SYN.train} training strings of length ${SYN.length} (one set per seed), `
    + `${SYN.epochs} epochs, batch ${SYN.batch}, Adam lr ${SYN.lr}; ${SYN.test} fixed test strings per length. Losses in nats per position `
    + `(all positions of the string); "last-position acc." is the label after the whole string (the task at that length).\n\n${table}\n\n`
    + `Plot-ready (means and sample sd over the seeds):\n\n\`\`\`csv\n${csv}\n\`\`\``]);
}
if (which === 'lm' || which === 'all') {
  const t0 = Date.now();
  const { rows, vocab, windows } = await languageModel();
  raw.lm = { settings: LM, vocab, windows, rows };
  const { table, csv } = lmTables(rows);
  const wall = ((Date.now() - t0) / 60000).toFixed(1);
  out.push(['lm', `Character LM on sotu (${stamp}; \`node scripts/time-sharing.mjs lm\`, seeds ${seeds.join(', ')}, ${wall} min wall on 1 thread, corpus loading included). `
    + `Embedding ${LM.embed} → GRU ${LM.units} → softmax over ${vocab} characters; windows of ${LM.bptt} characters, S = ${LM.bptt} per-step kernels (one per window position); `
    + `the first ${windows[0]} training windows and ${windows[1]} validation windows (\`limit\`, \`testLimit\`), ${LM.epochs} epochs, batch ${LM.batch}, Adam lr ${LM.lr}. `
    + `Bits per character = cross-entropy / ln 2, on the same windows after training.\n\n${table}\n\n`
    + `Plot-ready:\n\n\`\`\`csv\n${csv}\n\`\`\``]);
}
for (const [part, text] of out) {
  console.log(`\n${text}\n`);
  if (args.includes('--write') && !quick) writeSection(part, text);
}
if (flag('json')) writeFileSync(flag('json'), JSON.stringify({ date: stamp, seeds, ...raw }, null, 1));
console.error(`total ${((Date.now() - started) / 60000).toFixed(1)} min`);
