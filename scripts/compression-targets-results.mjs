// Issue 14's targets as markdown tables: mean ± sample sd over seeds per model × dataset × recipe, from the JSON
// lines scripts/compression-targets.mjs writes, with the target and the published figures beside.
//
//   node scripts/compression-targets-results.mjs [results/compression-targets.jsonl] [--recipes a,b] [--per-seed]
import { resolve } from 'node:path';
import { readRuns, stats } from './results-lib.mjs';

const args = process.argv.slice(2);
const file = resolve(args.find((a) => !a.startsWith('--') && args[args.indexOf(a) - 1] !== '--recipes') ?? 'results/compression-targets.jsonl');
const only = args.includes('--recipes') ? args[args.indexOf('--recipes') + 1].split(',') : undefined;
const runs = readRuns(file.replace(/\/[^/]*$/, ''), file.replace(/^.*\//, '')).filter((r) => !only || only.includes(r.recipe));

/** The targets: file ratio at most `points` below the uncompressed model, and the moonshot ratio. */
const TARGETS = {
  'lenet-300-100': { ratio: 64, points: 0.5, moonshot: 100 },
  lenet5: { ratio: 160, points: 0.5, moonshot: 400 },
  'seed-cnn': { ratio: 100, points: 0.3, moonshot: 200 },
};
/** Published figures on full MNIST: Han 2016 / Ullrich 2017 / Molchanov 2017 (|W| / |W≠0|, marked †) / Oktay 2020
 * (none of them reports Fashion-MNIST, so its rows show the MNIST figures marked as such). */
const PUBLISHED = {
  'lenet-300-100': '40× / 64× / 68×† / 124×',
  lenet5: '39× / 162× / 280×† / 606×',
  'seed-cnn': '–',
};
const NAMES = { 'lenet-300-100': 'LeNet-300-100', lenet5: 'LeNet-5', 'seed-cnn': 'reference CNN' };

const f = (xs, d, scale = 1, sign = false) => {
  const s = stats(xs.map((x) => x * scale));
  return `${sign && s.m >= 0 ? '+' : ''}${s.m.toFixed(d)} ± ${s.sd.toFixed(d)}`.replace('-', '−');
};
const groups = new Map();
for (const r of runs) {
  const k = `${r.dataset}\t${r.model}\t${r.recipe}`;
  if (!groups.has(k)) groups.set(k, []);
  groups.get(k).push(r);
}
const order = Object.keys(TARGETS);
const keys = [...groups.keys()].sort((a, b) => {
  const [da, ma] = a.split('\t'), [db, mb] = b.split('\t');
  const dsOrder = (d) => (d === 'mnist-sample' ? '' : d); // mnist-sample (the targets) first
  return dsOrder(da).localeCompare(dsOrder(db)) || order.indexOf(ma) - order.indexOf(mb) || a.localeCompare(b);
});
let dataset;
for (const k of keys) {
  const rs = groups.get(k).sort((a, b) => a.seed - b.seed);
  const [ds, model, recipe] = k.split('\t');
  if (ds !== dataset) {
    dataset = ds;
    console.log(`\n${ds}:\n`);
    console.log('| model | recipe | seeds | uncompressed | compressed | change (pt) | file (bytes) | **ratio (file)** | ratio (\\|W\\| / \\|W≠0\\|) | target (mean over seeds) | published: Han / Ullrich / Molchanov† / Oktay |');
    console.log('|---|---|---|---:|---:|---:|---:|---:|---:|---|---|');
  }
  const t = TARGETS[model];
  const ratio = stats(rs.map((r) => r.fileRatio)).m, delta = stats(rs.map((r) => 100 * r.delta)).m;
  const verdict = ratio >= t.moonshot && delta >= -t.points ? 'moonshot met' : ratio >= t.ratio && delta >= -t.points ? 'met' : `missed (${ratio < t.ratio ? 'ratio' : ''}${ratio < t.ratio && delta < -t.points ? ', ' : ''}${delta < -t.points ? 'accuracy' : ''})`;
  const partial = rs.length < 3 ? ` (${rs.length} seed${rs.length > 1 ? 's' : ''} only: indicative)` : '';
  const within = rs.filter((r) => 100 * r.delta >= -t.points - 1e-9).length;
  console.log(`| ${NAMES[model]} | ${recipe} | ${rs.map((r) => r.seed).join(', ')} | ${f(rs.map((r) => r.before), 2, 100)} % | ${f(rs.map((r) => r.after), 2, 100)} % | ${f(rs.map((r) => r.delta), 2, 100, true)} | ` +
    `${f(rs.map((r) => r.fileBytes), 0)} | **${f(rs.map((r) => r.fileRatio), 1)}×** | ${f(rs.map((r) => r.nonzeroRatio), 1)}× | ≥ ${t.ratio}× at ≥ −${t.points} pt: **${verdict}**${partial}; ${within} of ${rs.length} seeds within −${t.points} pt | ${ds !== 'mnist-sample' && PUBLISHED[model] !== '–' ? 'MNIST: ' : ''}${PUBLISHED[model]} |`);
}
if (args.includes('--per-seed')) {
  console.log('\nPer seed:\n\n| dataset | recipe | seed | uncompressed → compressed | file (bytes) | ratio (file) | \\|W≠0\\| | ratio (\\|W\\| / \\|W≠0\\|) |\n|---|---|---:|---|---:|---:|---:|---:|');
  for (const k of keys) {
    for (const r of groups.get(k).sort((a, b) => a.seed - b.seed)) {
      console.log(`| ${r.dataset} | ${r.recipe} | ${r.seed} | ${(100 * r.before).toFixed(2)} → ${(100 * r.after).toFixed(2)} % | ${r.fileBytes} | ${r.fileRatio.toFixed(1)}× | ${r.nonzero} | ${r.nonzeroRatio.toFixed(1)}× |`);
    }
  }
}
console.log('\nRecipes (`weightshare compress BASE … --seed S --ship --json`):\n');
const seen = new Set();
for (const k of keys) {
  const r = groups.get(k)[0];
  if (seen.has(r.recipe)) continue;
  seen.add(r.recipe);
  console.log(`- ${r.recipe}: \`${r.args.join(' ')}\``);
}
