#!/usr/bin/env node
// The plots of RESULTS.md (docs/plots/*.svg): run JSONs rebuilt from RESULTS.md's own tables (only numbers it states), rendered by
// `weightshare report`'s library. `npm run build:ts && node scripts/results-plots.mjs` writes them; `--check` only compares.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { buildReport, parseRun } = await import(join(root, 'dist/src/report/index.js'));
const md = readFileSync(join(root, 'RESULTS.md'), 'utf8');
const OUT = join(root, 'docs', 'plots');
const check = process.argv.includes('--check');

/** The text of RESULTS.md from the first occurrence of `marker` on; throws when it is not there (the tables moved). */
function from(marker) {
  const i = md.indexOf(marker);
  if (i < 0) throw new Error(`RESULTS.md no longer contains ${JSON.stringify(marker)}: update scripts/results-plots.mjs`);
  return md.slice(i);
}

/** The first Markdown table after `marker`: rows of cells (header and separator dropped), Markdown emphasis removed. */
function tableAfter(marker) {
  const lines = from(marker).split('\n');
  const start = lines.findIndex((l) => l.startsWith('|'));
  const rows = [];
  for (const l of lines.slice(start)) {
    if (!l.startsWith('|')) break;
    rows.push(l.slice(1, -1).split('|').map((c) => c.trim().replace(/\*+/g, '')));
  }
  return { header: rows[0], rows: rows.slice(2) };
}

/** The numbers in a cell, in order: '94.45 → 59.85 → **93.75 %**' → [94.45, 59.85, 93.75]; '1,416,584' → [1416584]. */
const numbers = (cell) => [...cell.replace(/(?<=\d),(?=\d{3}\b)/g, '').matchAll(/-?\d+(?:\.\d+)?/g)].map((m) => Number(m[0]));
/** The one number of a cell, or a thrown error naming it. */
function number(cell) {
  const n = numbers(cell);
  if (n.length !== 1) throw new Error(`expected one number in ${JSON.stringify(cell)}`);
  return n[0];
}
/** A size cell in KiB ('29.9 KiB', 'file 106.7 KiB') as bytes: RESULTS.md states sizes to 0.1 KiB. */
const kibBytes = (cell) => Math.round(1024 * Number(/([\d.]+) KiB/.exec(cell)[1]));

/** An intrinsic-dim run from the transposed tables of (c): row 'dim' and row 'test accuracy %', the full model from the line above. */
function intrinsicFromTable(marker, label, model, epochs) {
  const full = number(/full model ([\d.]+) %/.exec(from(marker))[1]) / 100;
  const { header, rows } = tableAfter(marker);
  if (header[0] !== 'dim') throw new Error(`the table after ${marker} no longer starts with 'dim'`);
  const acc = rows.find((r) => r[0] === 'test accuracy %');
  const rowsOut = header.slice(1).map((d, i) => ({ dim: number(d), accuracy: number(acc[i + 1]) / 100 }));
  return { label, json: { model, dataset: 'mnist-sample', epochs, baseline: { accuracy: full }, rows: rowsOut } };
}

const dint90 = /d_int90: MLP (\d+), LeNet-5 (\d+)/.exec(from('**d_int90: MLP'));
const mlp = intrinsicFromTable('MLP 784-200-200-10 (D = 199,210; full model', 'MLP 784-200-200-10', 'mlp', 5);
const lenet = intrinsicFromTable('LeNet-5 (D = 431,080; full model', 'LeNet-5', 'lenet5', 5);
mlp.json.dint90 = Number(dint90[1]);
lenet.json.dint90 = Number(dint90[2]);

// (c) on Fashion-MNIST: one row per model, columns 'dim N'; '–' where a dim was not run.
const fashionDims = (() => {
  const { header, rows } = tableAfter('| model (epochs) | full model | dim 100 |');
  return rows.map((r) => {
    const dims = header.map((h, i) => [/^dim (\d+)$/.exec(h), r[i]]).filter(([m, cell]) => m && cell !== '–');
    const name = r[0].replace(/ \((\d+)\)$/, '');
    const epochs = number(/\((\d+)\)$/.exec(r[0])[1]);
    return {
      label: `${name}, ${epochs} epoch${epochs > 1 ? 's' : ''}`,
      json: {
        model: name, dataset: 'fashion-mnist', epochs, baseline: { accuracy: numbers(r[1])[0] / 100 }, dint90: number(r[r.length - 1]),
        rows: dims.map(([m, cell]) => ({ dim: Number(m[1]), accuracy: numbers(cell)[0] / 100 })),
      },
    };
  });
})();

/** Compress runs from a (b)-style table: the final accuracy is the last of the chain, the one before compressing the first. */
function compressFromTable(marker, dataset, firstClauseOnly = true) {
  const { header, rows } = tableAfter(marker);
  const chain = header.findIndex((h) => h.startsWith('test accuracy: trained →'));
  const file = header.indexOf('file');
  const pipe = header.indexOf('pipeline');
  return rows.map((r) => {
    // The accuracies of the chain, without a parenthesised change after it ('(−1.43 pt)').
    const acc = numbers(r[chain].replace(/\([^)]*\)/g, ''));
    const what = pipe >= 0 ? (firstClauseOnly ? r[pipe].split(/, (?![^(]*\))/)[0] : r[pipe]) : '';
    return {
      label: what ? `${r[0]}, ${what}` : r[0],
      json: { model: r[0], dataset, settings: { method: 'deep-compression' }, fileBytes: kibBytes(r[file]), before: { accuracy: acc[0] / 100 }, finetuned: { accuracy: acc[acc.length - 1] / 100 } },
    };
  });
}

const dc = compressFromTable('| model | pipeline | test accuracy: trained → pruned → retrained → clustered → fine-tuned | bits |', 'mnist-sample');
// The reference CNN clustered to 16 per layer: its mnist-sample row (trained, clustered, fine-tuned, …, file).
const c16 = (() => {
  const { rows } = tableAfter('| dataset | trained | after clustering (16 per layer, 4-bit) |');
  const r = rows.find((x) => x[0] === 'mnist-sample');
  return {
    label: 'seed-cnn, 16 clusters per layer',
    json: { model: 'seed-cnn', dataset: 'mnist-sample', settings: { method: 'deep-compression' }, fileBytes: kibBytes(r[5]), before: { accuracy: number(r[1]) / 100 }, finetuned: { accuracy: number(r[3]) / 100 } },
  };
})();
const dcFashion = compressFromTable('| model | test accuracy: trained → pruned → retrained → clustered → fine-tuned | ratio (bits) | file |', 'fashion-mnist');

// The word-level LSTM pilot: validation perplexity after each of 3 epochs, tied vs untied output projection.
const pilot = (() => {
  const { header, rows } = tableAfter('| output projection | parameters | val perplexity after epochs 1 / 2 / 3 |');
  return rows.map((r) => ({
    label: r[0],
    json: { model: 'word-lstm', dataset: 'sotu', parameters: number(r[1]), history: { val_perplexity: numbers(r[2]) }, test: { perplexity: number(r[header.indexOf('test perplexity')]) } },
  }));
})();

/** The plots to make: file name → the runs and which plot of their report it is. */
const plots = {
  'intrinsic-dim-mnist-sample': { runs: [mlp, lenet], id: 'intrinsic-dim' },
  'intrinsic-dim-fashion-mnist': { runs: fashionDims, id: 'intrinsic-dim' },
  'deep-compression-mnist-sample': { runs: [...dc, c16], id: 'accuracy-vs-size' },
  'deep-compression-fashion-mnist': { runs: dcFashion, id: 'accuracy-vs-size' },
  'word-lstm-tied-perplexity': { runs: pilot, id: 'training-perplexity' },
};

if (!check) mkdirSync(OUT, { recursive: true });
let stale = 0;
for (const [name, { runs, id }] of Object.entries(plots)) {
  const parsed = runs.map((r) => ({ ...parseRun(r.json, 'RESULTS.md', r.label), ...(r.json.settings ? { scheme: '' } : {}) }));
  const report = await buildReport(parsed);
  const plot = report.plots.find((p) => p.id === id);
  if (!plot) throw new Error(`${name}: the report of these runs has no plot '${id}'`);
  if (plot.warnings.length) throw new Error(`${name}: ${plot.warnings.join('; ')}`);
  const file = join(OUT, `${name}.svg`);
  if (check) {
    let old = '';
    try { old = readFileSync(file, 'utf8'); } catch { /* missing: stale */ }
    if (old !== plot.svg) {
      stale++;
      console.error(`${file}: differs from what RESULTS.md gives now (run node scripts/results-plots.mjs)`);
    }
  } else {
    writeFileSync(file, plot.svg);
    console.log(`${file}: ${plot.title}, ${runs.length} runs (${(plot.svg.length / 1024).toFixed(1)} KiB)`);
  }
}
if (check && !stale) console.log(`${Object.keys(plots).length} plots of RESULTS.md are up to date`);
process.exitCode = stale ? 1 : 0;
