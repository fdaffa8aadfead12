// Issue 14's target runs as files for shipping are written since the format-3 change (`compress --ship` deflates the
// JSON header): each run's file re-encoded with a deflated header by the library (decode, then encode with
// compressHeader: true — what `compress --ship` writes now; a format-3 file gives its own size back), its bytes and file
// ratio, one JSON line per run, and a table per (dataset, recipe) with the accuracy change of the runs.
//
//   node scripts/compression-targets-format3.mjs [--runs A.jsonl,B.jsonl] [--work DIR,DIR] [--out results/compression-targets-format3.jsonl]
//
// A run's file is `<work>/<recipe>-<dataset>-s<seed>.wsm` in the first --work folder that holds it; a format-2 file
// whose size is not the run's recorded fileBytes is skipped (a later run overwrote it).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { decodeCheckpoint, encodeCheckpoint } from '../dist/src/index.js';
import { option, stats } from './results-lib.mjs';

const args = process.argv.slice(2);
const runFiles = option(args, 'runs', 'results/compression-targets.jsonl,results/compression-targets-tuning.jsonl').split(',');
const works = option(args, 'work', '/tmp/compression-targets').split(',');
const out = option(args, 'out', 'results/compression-targets-format3.jsonl');
const lines = [];
for (const rf of runFiles) {
  for (const r of readFileSync(rf, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l))) {
    const name = `${r.recipe}-${r.dataset}-s${r.seed}.wsm`;
    const path = works.map((w) => `${w}/${name}`).find((p) => existsSync(p));
    if (!path) continue;
    const b = new Uint8Array(readFileSync(path));
    const version = new DataView(b.buffer).getUint32(4, true);
    if (version !== 3 && b.length !== r.fileBytes) {
      console.error(`${path}: ${b.length} bytes, the run recorded ${r.fileBytes}: skipped`);
      continue;
    }
    const v3 = encodeCheckpoint(decodeCheckpoint(b, path), path, { compressHeader: true }).length;
    if (lines.some((l) => l.recipe === r.recipe && l.dataset === r.dataset && l.seed === r.seed)) continue;
    lines.push({ recipe: r.recipe, model: r.model, dataset: r.dataset, seed: r.seed, delta: r.delta, format2Bytes: version === 3 ? null : b.length, format3Bytes: v3,
      float32Bytes: r.float32Bytes, ratio: r.float32Bytes / v3, nonzeroRatio: r.nonzeroRatio });
  }
}
writeFileSync(out, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
const groups = new Map();
for (const l of lines) {
  const k = `${l.dataset}|${l.model}|${l.recipe}`;
  if (!groups.has(k)) groups.set(k, []);
  groups.get(k).push(l);
}
const ms = (xs, d) => { const s = stats(xs); return `${s.m.toFixed(d)} ± ${s.sd.toFixed(d)}`; };
console.log('| dataset | model | recipe | seeds | change (pt) | file, format 3 (bytes) | **ratio (file, format 3)** | ratio (\\|W\\| / \\|W≠0\\|) |\n|---|---|---|---|---:|---:|---:|---:|');
for (const [k, ls] of [...groups].sort()) {
  ls.sort((a, b) => a.seed - b.seed);
  const [dataset, model, recipe] = k.split('|');
  console.log(`| ${dataset} | ${model} | ${recipe} | ${ls.map((l) => l.seed).join(', ')} | ${ms(ls.map((l) => 100 * l.delta), 2)} | ${ms(ls.map((l) => l.format3Bytes), 0)} | **${ms(ls.map((l) => l.ratio), 1)}×** | ${ms(ls.map((l) => l.nonzeroRatio), 1)}× |`);
}
