#!/usr/bin/env node
// The tables and plots of RESULTS.md's "The seed's FAQ" from the runs of scripts/faq-experiments.mjs
// (results/faq-<dataset>.jsonl): means ± sample sd over seeds, Markdown on stdout, plots of (b) in docs/plots/.
// Usage (after `npm run build:ts`): node scripts/faq-results.mjs [--dataset mnist-sample|fashion-mnist] [--write] [--no-plots]
//   --write puts the tables into RESULTS.md between <!-- results:faq:<dataset> --> markers (appended when missing).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { option, readRuns, replaceMarked, stats } from './results-lib.mjs';
import { CNN_DENSE_PARAMS, key, L2_GRID, MLP_PARAMETERS, plan } from './faq-plan.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const dataset = option(args, 'dataset', 'mnist-sample');
const runs = readRuns(join(root, 'results'), `faq-${dataset}.jsonl`);
const byKey = new Map(runs.map((r) => [key(r.spec), r]));
const rows = plan(dataset, runs);

/** A plan row's runs (those done), in seed order. */
const got = (row) => row.specs.map((s) => byKey.get(key(s))).filter(Boolean);
/** `mean ± sd` of percentages (fractions × 100) with 2 decimals. */
const pct = (xs) => {
  const s = stats(xs.map((x) => 100 * x));
  return `${s.m.toFixed(2)} ± ${s.sd.toFixed(2)}`;
};
const n = (v) => Math.round(v).toLocaleString('en-US');
const seedsOf = (rs) => (rs.length === 5 && rs.every((r, i) => r.spec.seed === i) ? '0–4' : rs.map((r) => r.spec.seed).join(', '));
const trainAcc = (r) => r.trainAccuracy;
const testErr = (r) => r.testError ?? 1 - r.testAccuracy;
const gap = (r) => r.gap;
/** Free parameters of a run: the maps' count (kept weights when pruned), or the model's. */
const freeOf = (r) => r.freeStored ?? r.freeParameters;

const out = [];
const say = (s = '') => out.push(s);

// (a) equal free-parameter budgets.
for (const [group, what, full] of [['a-mlp', 'LeNet-300-100 (784-300-100-10)', MLP_PARAMETERS], ['a-cnn', "the reference CNN's dense layer (1600→128)", CNN_DENSE_PARAMS]]) {
  const rs = rows.filter((r) => r.group === group);
  if (!rs.some((r) => got(r).length)) continue;
  say(`#### (a) ${what}: budgets of ${n(full / 8)} (1/8) and ${n(full / 64)} (1/64) free parameters${group === 'a-cnn' ? ' in the dense layer' : ''}`);
  say();
  say(`| budget | method | free parameters${group === 'a-cnn' ? ' (dense layer / whole model)' : ''} | test error % | train accuracy % (eval mode) | train − test gap (points) | seeds |`);
  say('|---|---|---:|---:|---:|---:|---|');
  for (const row of rs) {
    const g = got(row);
    if (!g.length) continue;
    const free = group === 'a-cnn' ? `${n(denseFree(row.base))} / ${n(g[0].freeParameters)}` : n(g[0].freeParameters);
    say(`| ${row.budget} | ${row.label} | ${free} | ${pct(g.map(testErr))} | ${pct(g.map(trainAcc))} | ${pct(g.map(gap))} | ${seedsOf(g)} |`);
  }
  say();
  const search = rows.filter((r) => r.group === `${group}-l2search`);
  if (search.length) {
    const models = [...new Set(search.map((r) => r.base.model))];
    say(`L2 factor chosen by validation accuracy (the last 10 % of the training set held out; test set not used), seeds ${search[0].specs.map((s) => s.seed).join(', ')}:`);
    say();
    say(`| model | ${L2_GRID.map((l) => `l2 ${l}`).join(' | ')} |`);
    say(`|---|${L2_GRID.map(() => '---:').join('|')}|`);
    for (const m of models) {
      const cells = L2_GRID.map((l2) => {
        const r = search.find((x) => x.base.model === m && x.base.l2 === l2);
        const g = r ? got(r) : [];
        return r && g.length === r.specs.length ? `${(100 * stats(g.map((x) => x.valAccuracy)).m).toFixed(2)} %` : '–';
      });
      say(`| ${m} | ${cells.join(' | ')} |`);
    }
    say();
  }
}

/** Free parameters of the reference CNN's dense layer in a run's setup (1600→U, hashed or not). */
function denseFree(base) {
  const u = /^seed-cnn:(\d+)$/.exec(base.model);
  if (u) return 1600 * Number(u[1]) + Number(u[1]);
  const h = /dense=hashed:1\/(\d+)/.exec(base.sharing ?? '');
  return h ? Math.ceil((1600 * 128) / Number(h[1])) + 128 : CNN_DENSE_PARAMS;
}

// (b) the gap against the compression ratio.
const points = [];
const bRows = rows.filter((r) => r.group === 'b-mlp' || r.group === 'b-cnn');
if (bRows.some((r) => got(r).length)) {
  say('#### (b) Train − test gap against compression, every scheme');
  say();
  say('| model | scheme | target | stored ratio (float32 bits ÷ bits stored) | free parameters | test error % | train accuracy % (eval mode) | train − test gap (points) | seeds |');
  say('|---|---|---|---:|---:|---:|---:|---:|---|');
  const conv = bRows.find((r) => r.base.model === 'seed-cnn');
  const local = bRows.find((r) => r.base.model === 'seed-cnn-local');
  for (const row of bRows) {
    const g = got(row);
    if (!g.length) continue;
    let ratio = stats(g.map((r) => r.ratioBits)).m;
    let scheme = row.label;
    // Convolution as a compression of the locally connected network: the same connections, one kernel per position.
    if (row === conv && local && got(local).length) ratio = got(local)[0].freeParameters / g[0].freeParameters;
    if (row.group === 'b-mlp' && row.budget === '1') scheme = 'none (full model)';
    const model = row.group === 'b-mlp' ? 'LeNet-300-100' : 'reference CNN';
    say(`| ${model} | ${scheme} | ${row.budget} | ${ratio.toFixed(1)}× | ${n(freeOf(g[0]))} | ${pct(g.map(testErr))} | ${pct(g.map(trainAcc))} | ${pct(g.map(gap))} | ${seedsOf(g)} |`);
    const gs = stats(g.map((r) => 100 * gap(r))), es = stats(g.map((r) => 100 * testErr(r)));
    const series = row.group === 'b-cnn' ? 'convolution vs locally connected (CNN)' : row.label.replace(/ \(.*\)$/, '');
    points.push({ series, ratio, gap: gs.m, gapLo: gs.m - gs.sd, gapHi: gs.m + gs.sd, error: es.m, errorLo: es.m - es.sd, errorHi: es.m + es.sd, full: row.budget === '1' && row.group === 'b-mlp' });
  }
  say();
}

// The full MLP is every MLP scheme's point at ratio 1.
const fullPoint = points.find((p) => p.full);
const plotted = fullPoint
  ? [...points.filter((p) => !p.full), ...[...new Set(points.filter((p) => !p.full && !p.series.startsWith('convolution')).map((p) => p.series))].map((series) => ({ ...fullPoint, series }))]
  : points;

const text = out.join('\n').trim();
console.log(text);
if (args.includes('--write')) {
  const file = join(root, 'RESULTS.md');
  writeFileSync(file, replaceMarked(readFileSync(file, 'utf8'), `faq:${dataset}`, text));
}

if (!args.includes('--no-plots') && plotted.length) {
  const { renderSpec } = await import(join(root, 'dist/src/report/render.js'));
  const dirOut = join(root, 'docs', 'plots');
  if (!existsSync(dirOut)) mkdirSync(dirOut, { recursive: true });
  const series = [...new Set(plotted.map((p) => p.series))];
  for (const [id, field, title] of [['gap', 'gap', 'train − test gap (points, mean ± sd)'], ['error', 'error', 'test error % (mean ± sd)']]) {
    const x = { field: 'ratio', type: 'quantitative', title: 'compression (float32 bits ÷ bits stored, log scale)', scale: { type: 'log' } };
    const color = { field: 'series', type: 'nominal', title: 'scheme', sort: series, legend: { orient: 'bottom', columns: 3 } };
    const spec = {
      $schema: 'https://vega.github.io/schema/vega-lite/v6.json', background: 'white',
      config: { font: 'sans-serif', view: { stroke: null }, axis: { labelFontSize: 11, titleFontSize: 12 }, legend: { labelFontSize: 11, labelLimit: 320 }, title: { fontSize: 14, subtitleFontSize: 11, anchor: 'start' } },
      title: { text: `${id === 'gap' ? 'Train − test gap' : 'Test error'} vs compression, ${dataset}`, subtitle: `LeNet-300-100 (ratio 1: the full model) and the reference CNN vs its locally connected twin; seeds 0–4` },
      width: 520, height: 300, data: { values: plotted },
      layer: [
        { mark: { type: 'line', point: { filled: true, size: 60 } }, encoding: { x, y: { field, type: 'quantitative', title }, color } },
        { mark: { type: 'errorbar', ticks: true }, encoding: { x, y: { field: `${field}Lo`, type: 'quantitative', title }, y2: { field: `${field}Hi` }, color } },
      ],
    };
    const r = await renderSpec(spec, 1);
    if (r.warnings.length) console.error(`plot ${id}: ${r.warnings.join('; ')}`);
    const file = join(dirOut, `faq-${id}-vs-compression-${dataset}.svg`);
    writeFileSync(file, r.svg);
    console.error(`${file}: ${plotted.length} points (${(r.svg.length / 1024).toFixed(1)} KiB)`);
  }
}
