#!/usr/bin/env node
// The tables and plots of RESULTS.md's "The seed's FAQ" from the runs of scripts/faq-experiments.mjs
// (results/faq-<dataset>.jsonl): means ± sample sd over seeds, Markdown on stdout, plots of (b) in docs/plots/.
// Usage (after `npm run build:ts`): node scripts/faq-results.mjs [--dataset mnist-sample|fashion-mnist] [--write | --check]
//   --write puts the tables into RESULTS.md between <!-- results:faq:<dataset> --> markers (appended when missing) and
//   draws docs/plots/faq-{gap,error}-vs-compression-<dataset>.svg;
//   --check writes nothing and fails when RESULTS.md's tables or the plots differ from what the runs give now.
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
/** `mean ± sd` of percentages (fractions × 100) with 2 decimals; one seed has no sd, so only its value. */
const pct = (xs) => {
  const s = stats(xs.map((x) => 100 * x));
  return s.n > 1 ? `${s.m.toFixed(2)} ± ${s.sd.toFixed(2)}` : s.m.toFixed(2);
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
    const seeds = search[0].specs.map((s) => s.seed);
    say(`L2 factor chosen by validation accuracy (the last 10 % of the training set held out; test set not used), mean over seed${seeds.length > 1 ? 's' : ''} ${seeds.join(', ')}:`);
    say();
    say(`| model | no L2 (reference) | ${L2_GRID.map((l) => `l2 ${l}`).join(' | ')} | chosen |`);
    say(`|---|---:|${L2_GRID.map(() => '---:').join('|')}|---:|`);
    for (const m of models) {
      const chosen = rs.find((r) => r.base.model === m && r.base.l2 !== undefined)?.base.l2 ?? '–';
      const cells = [0, ...L2_GRID].map((l2) => {
        const r = search.find((x) => x.base.model === m && x.base.l2 === l2);
        const g = r ? got(r) : [];
        return r && g.length === r.specs.length ? `${(100 * stats(g.map((x) => x.valAccuracy)).m).toFixed(2)} %` : '–';
      });
      say(`| ${m} | ${cells.join(' | ')} | ${chosen} |`);
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
// By scheme, then by compression (the plan runs 1/8 and 1/32 before 1/2).
const ratioOf = (row) => (row.budget === '1' ? 1 : row.budget.startsWith('1/') ? Number(row.budget.slice(2)) : Infinity);
const bPlan = rows.filter((r) => r.group === 'b-mlp' || r.group === 'b-cnn');
const schemeOrder = [...new Set(bPlan.map((r) => `${r.group} ${r.label}`))];
const bRows = bPlan.sort((a, b) => schemeOrder.indexOf(`${a.group} ${a.label}`) - schemeOrder.indexOf(`${b.group} ${b.label}`) || ratioOf(a) - ratioOf(b));
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
    if (row === conv) ratio = local && got(local).length ? got(local)[0].freeParameters / g[0].freeParameters : NaN;
    if (row.group === 'b-mlp' && row.budget === '1') scheme = 'none (full model)';
    const model = row.group === 'b-mlp' ? 'LeNet-300-100' : 'reference CNN';
    say(`| ${model} | ${scheme} | ${row.budget} | ${Number.isNaN(ratio) ? '–' : `${ratio.toFixed(1)}×`} | ${n(freeOf(g[0]))} | ${pct(g.map(testErr))} | ${pct(g.map(trainAcc))} | ${pct(g.map(gap))} | ${seedsOf(g)} |`);
    const gs = stats(g.map((r) => 100 * gap(r))), es = stats(g.map((r) => 100 * testErr(r)));
    const series = row.group === 'b-cnn' ? 'convolution vs locally connected (CNN)' : row.label.replace(/ \(.*\)$/, '');
    if (!Number.isNaN(ratio)) points.push({ series, ratio, gap: gs.m, gapLo: gs.m - gs.sd, gapHi: gs.m + gs.sd, error: es.m, errorLo: es.m - es.sd, errorHi: es.m + es.sd, full: row.budget === '1' && row.group === 'b-mlp' });
  }
  say();
}

// The full MLP is every MLP scheme's point at ratio 1.
const fullPoint = points.find((p) => p.full);
const plotted = fullPoint
  ? [...points.filter((p) => !p.full), ...[...new Set(points.filter((p) => !p.full && !p.series.startsWith('convolution')).map((p) => p.series))].map((series) => ({ ...fullPoint, series }))]
  : points;

const text = out.join('\n').trim();
const check = args.includes('--check');
const stale = [];
if (!check) console.log(text);
const resultsFile = join(root, 'RESULTS.md');
const doc = readFileSync(resultsFile, 'utf8');
if (check && replaceMarked(doc, `faq:${dataset}`, text) !== doc) stale.push(`RESULTS.md (its faq:${dataset} tables)`);
if (args.includes('--write')) writeFileSync(resultsFile, replaceMarked(doc, `faq:${dataset}`, text));

if ((check || args.includes('--write')) && plotted.length) {
  const { renderSpec } = await import(join(root, 'dist/src/report/render.js'));
  const dirOut = join(root, 'docs', 'plots');
  if (!check && !existsSync(dirOut)) mkdirSync(dirOut, { recursive: true });
  const series = [...new Set(plotted.map((p) => p.series))];
  for (const [id, field, title] of [['gap', 'gap', 'train − test gap (points, mean ± sd)'], ['error', 'error', 'test error % (mean ± sd)']]) {
    const x = { field: 'ratio', type: 'quantitative', title: 'compression (float32 bits ÷ bits stored, log scale)', scale: { type: 'log' } };
    const color = { field: 'series', type: 'nominal', title: 'scheme', sort: series, legend: { orient: 'bottom', columns: 3 } };
    const spec = {
      $schema: 'https://vega.github.io/schema/vega-lite/v6.json', background: 'white',
      config: { font: 'sans-serif', view: { stroke: null }, axis: { labelFontSize: 11, titleFontSize: 12 }, legend: { labelFontSize: 11, labelLimit: 320 }, title: { fontSize: 14, subtitleFontSize: 11, anchor: 'start' } },
      title: { text: `${id === 'gap' ? 'Train − test gap' : 'Test error'} vs compression, ${dataset}`, subtitle: `LeNet-300-100 (ratio 1: the full model)${series.some((x) => x.startsWith('convolution')) ? ' and the reference CNN vs its locally connected twin' : ''}; mean ± sd over the seeds of the table` },
      width: 520, height: 300, data: { values: plotted },
      layer: [
        { mark: { type: 'line', point: { filled: true, size: 60 } }, encoding: { x, y: { field, type: 'quantitative', title }, color } },
        { mark: { type: 'errorbar', ticks: true }, encoding: { x, y: { field: `${field}Lo`, type: 'quantitative', title }, y2: { field: `${field}Hi` }, color } },
      ],
    };
    const r = await renderSpec(spec, 1);
    if (r.warnings.length) console.error(`plot ${id}: ${r.warnings.join('; ')}`);
    const file = join(dirOut, `faq-${id}-vs-compression-${dataset}.svg`);
    if (check) {
      if (!existsSync(file) || readFileSync(file, 'utf8') !== r.svg) stale.push(file);
    } else {
      writeFileSync(file, r.svg);
      console.error(`${file}: ${plotted.length} points (${(r.svg.length / 1024).toFixed(1)} KiB)`);
    }
  }
}
if (check) {
  for (const s of stale) console.error(`${s}: differs from what results/faq-${dataset}.jsonl gives (run node scripts/faq-results.mjs --dataset ${dataset} --write)`);
  if (!stale.length) console.log(`the FAQ tables and plots of ${dataset} are up to date`);
  process.exitCode = stale.length ? 1 : 0;
}
