// What a compressed header would give (issue 14, point 3): for each run of compression-targets.jsonl, the model file's
// JSON header (bytes 16 … 16+H of the container, see src/io/checkpoint.ts) deflated with zlib level 9, and the file
// ratio if the header were stored that way. A measurement only: no reader of such a file exists.
//
//   node scripts/header-deflate.mjs [results/compression-targets.jsonl] [--work /tmp/compression-targets]
import { existsSync, readFileSync } from 'node:fs';
import { deflateRawSync } from 'node:zlib';
import { readRuns, stats } from './results-lib.mjs';

const args = process.argv.slice(2);
const work = args.includes('--work') ? args[args.indexOf('--work') + 1] : '/tmp/compression-targets';
const file = args.find((a, i) => !a.startsWith('--') && args[i - 1] !== '--work') ?? 'results/compression-targets.jsonl';
const runs = readRuns(file.replace(/\/[^/]*$/, '') || '.', file.replace(/^.*\//, ''));
const groups = new Map();
for (const r of runs) {
  const path = `${work}/${r.recipe}-${r.dataset}-s${r.seed}.wsm`;
  if (!existsSync(path)) continue;
  const b = readFileSync(path);
  const h = b.readUInt32LE(8);
  const header = b.subarray(16, 16 + h);
  const deflated = deflateRawSync(Buffer.from(header.toString('utf8').trimEnd()), { level: 9 }).length;
  const line = { recipe: r.recipe, dataset: r.dataset, seed: r.seed, fileBytes: b.length, headerBytes: h, deflatedHeaderBytes: deflated,
    bytesWithDeflatedHeader: b.length - h + deflated, fileRatio: r.float32Bytes / b.length, ratioWithDeflatedHeader: r.float32Bytes / (b.length - h + deflated) };
  console.log(JSON.stringify(line));
  const k = `${r.dataset} ${r.recipe}`;
  if (!groups.has(k)) groups.set(k, []);
  groups.get(k).push(line);
}
console.log('\n| dataset, recipe | seeds | header (bytes) | deflated (bytes) | ratio (file) | ratio, header deflated |\n|---|---|---:|---:|---:|---:|');
for (const [k, ls] of groups) {
  const ms = (key, d) => { const s = stats(ls.map((l) => l[key])); return `${s.m.toFixed(d)} ± ${s.sd.toFixed(d)}`; };
  console.log(`| ${k} | ${ls.map((l) => l.seed).join(', ')} | ${ms('headerBytes', 0)} | ${ms('deflatedHeaderBytes', 0)} | ${ms('fileRatio', 1)}× | ${ms('ratioWithDeflatedHeader', 1)}× |`);
}
