#!/usr/bin/env node
// Runs the FAQ experiments of RESULTS.md ("The seed's FAQ", issue 14 point 5), one process at a time, resumably: each
// finished run is appended as one JSON line to results/faq-<dataset>.jsonl, and runs already there are skipped.
// Usage (after `npm run build`): node scripts/faq-experiments.mjs [--dataset mnist-sample|fashion-mnist]
//   [--groups a-mlp,a-cnn,b-mlp,b-cnn] [--dry-run] [--help]
// Every run is `nice -n 19` with WEIGHTSHARE_THREADS=1 and waits while /work/PAUSE exists (a shared machine's rule).
// The runs are listed by scripts/faq-plan.mjs; scripts/faq-results.mjs prints the tables.
import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { option, readRuns } from './results-lib.mjs';
import { key, plan } from './faq-plan.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const USAGE = `Usage: node scripts/faq-experiments.mjs [--dataset mnist-sample|fashion-mnist] [--groups a-mlp,a-cnn,b-mlp,b-cnn] [--dry-run]
Runs the FAQ experiments still missing from results/faq-<dataset>.jsonl (niced, one thread, one at a time), appending one
JSON line per run. --dry-run lists the missing runs and starts none. --help prints this.`;
if (args.includes('--help') || args.includes('-h')) {
  console.log(USAGE);
  process.exit(0);
}
// An unknown option (a typo) would otherwise start the default runs.
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--dataset' || args[i] === '--groups') i++;
  else if (args[i] !== '--dry-run') {
    console.error(`unknown argument '${args[i]}'\n${USAGE}`);
    process.exit(2);
  }
}
const dataset = option(args, 'dataset', 'mnist-sample');
const groups = option(args, 'groups', 'a-mlp,a-cnn,b-mlp,b-cnn').split(',');
const dry = args.includes('--dry-run');
const dir = join(root, 'results');
const file = `faq-${dataset}.jsonl`;
const PAUSE = '/work/PAUSE';
mkdirSync(dir, { recursive: true });

/** The command of one spec: faq-run.mjs, or feature-selection.mjs for `fs` specs. */
function argvOf(spec) {
  if (!spec.fs) return [join(root, 'scripts/faq-run.mjs'), JSON.stringify(spec)];
  const a = [join(root, 'scripts/feature-selection.mjs'), '--k', String(spec.k), '--criterion', spec.criterion, '--hidden', String(spec.hidden),
    '--seed', String(spec.seed), '--dataset', spec.dataset];
  if (spec.limit) a.push('--limit', String(spec.limit));
  return a;
}

const sleep = (s) => spawnSync('sleep', [String(s)]);
for (;;) {
  const runs = readRuns(dir, file);
  const have = new Set(runs.map((r) => key(r.spec)));
  const todo = plan(dataset, runs, groups).flatMap((r) => r.specs).filter((s) => !have.has(key(s)));
  // A spec can be listed twice (the full model is in (a) and (b)): run it once.
  const next = todo[0];
  if (!next) {
    if (dry) console.log('0 runs to do');
    break;
  }
  if (dry) {
    const seen = new Set();
    for (const s of todo) if (!seen.has(key(s))) seen.add(key(s)) && console.log(argvOf(s).slice(1).join(' '));
    console.log(`${seen.size} runs to do (more once the L2 searches are done)`);
    break;
  }
  while (existsSync(PAUSE)) sleep(15);
  process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${todo.length} left: ${key(next)}\n`);
  const r = spawnSync('nice', ['-n', '19', process.execPath, ...argvOf(next)], {
    encoding: 'utf8', env: { ...process.env, WEIGHTSHARE_THREADS: '1' }, stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 26,
  });
  if (r.status !== 0) throw new Error(`run failed (exit ${r.status}): ${key(next)}`);
  const out = JSON.parse(r.stdout.trim().split('\n').pop());
  delete out.pixels; // feature selection's chosen pixels: not needed for the tables
  appendFileSync(join(dir, file), JSON.stringify({ spec: next, ...out }) + '\n');
}
