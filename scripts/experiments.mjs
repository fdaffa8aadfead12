#!/usr/bin/env node
// Runs the weight-sharing experiments of RESULTS.md through the CLI and writes each one's table between its markers.
// Usage: node scripts/experiments.mjs <hashednets|convolution> [--dataset mnist-sample|fashion-mnist] [--epochs N] [--seed S] [--dry-run]
// Every run is `weightshare train … --json`; the table lists the exact command of each row.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { option, replaceMarked } from './results-lib.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const flag = (name, dflt) => option(args, name, dflt);
const which = args[0];
const dataset = flag('dataset', 'mnist-sample');
const epochs = Number(flag('epochs', '10'));
const seed = Number(flag('seed', '0'));
const dry = args.includes('--dry-run');
const tmp = mkdtempSync(join(tmpdir(), 'ws-exp-'));

/** Runs one `weightshare train` and returns its JSON summary. */
function train(extra) {
  const argv = ['train', '--dataset', dataset, '--epochs', String(epochs), '--seed', String(seed), ...extra, '--out', join(tmp, 'm.wsm'), '--json'];
  const cmd = `weightshare ${argv.filter((a, i, all) => a !== '--out' && all[i - 1] !== '--out').join(' ')}`;
  process.stderr.write(`\n$ ${cmd}\n`);
  if (dry) return { cmd, parameters: 0, test: { accuracy: NaN }, history: {} };
  const r = spawnSync(process.execPath, [join(root, 'dist/src/cli/main.js'), ...argv], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`${cmd} failed with exit code ${r.status}`);
  return { cmd, ...JSON.parse(r.stdout) };
}

const pct = (v) => `${(100 * v).toFixed(2)} %`;
const err = (v) => `${(100 * (1 - v)).toFixed(2)} %`;
const n = (v) => Math.round(v).toLocaleString('en-US');
const last = (h, k) => (h[k] ? h[k][h[k].length - 1] : NaN);

function writeSection(name, text) {
  const file = join(root, 'RESULTS.md');
  const doc = replaceMarked(existsSync(file) ? readFileSync(file, 'utf8') : '# Results\n', `${name}:${dataset}`, text);
  if (!dry) writeFileSync(file, doc);
  console.log(`<!-- results:${name}:${dataset} -->\n${text.trim()}\n<!-- /results:${name}:${dataset} -->`);
}

const stamp = () => `${new Date().toISOString().slice(0, 10)}, ${dataset}, ${epochs} epochs, batch 32, Adam lr 1e-3, seed ${seed}`;

if (which === 'hashednets') {
  // HashedNets (Chen et al. 2015), table 1: a 784-1000-10 MLP whose weights are compressed to 1/8 and 1/64.
  // Equal free-parameter budgets: hashed buckets, random edge removal, low rank r with r·(in+out) ≈ budget, and a
  // plain MLP 784-h-10 whose weights number about the same. Biases stay dense everywhere (1,010 virtual, h+10 plain).
  const rows = [];
  for (const c of [1 / 8, 1 / 64]) {
    const frac = c === 1 / 8 ? '1/8' : '1/64';
    const r1 = Math.max(1, Math.round((c * 784 * 1000) / (784 + 1000)));
    const r2 = Math.max(1, Math.round((c * 1000 * 10) / (1000 + 10)));
    const h = Math.round((c * (784 * 1000 + 1000 * 10)) / (784 + 10));
    const runs = [
      ['hashed', ['--model', 'mlp:1000', '--sharing', `hashed:${frac}`]],
      ['plain, equal size', ['--model', `mlp:${h}`]],
      ['low rank', ['--model', 'mlp:1000', '--sharing', `dense=lowRank:${r1},dense_1=lowRank:${r2}`]],
      ['random edge removal', ['--model', 'mlp:1000', '--sharing', `randomMask:${frac}`]],
    ];
    for (const [method, extra] of runs) {
      const r = train(extra);
      rows.push(`| ${frac} | ${method} | ${n(r.parameters)} | ${err(r.test.accuracy)} | ${pct(last(r.history, 'accuracy'))} | \`${r.cmd}\` |`);
    }
  }
  const full = train(['--model', 'mlp:1000']);
  rows.push(`| 1 | uncompressed 784-1000-10 | ${n(full.parameters)} | ${err(full.test.accuracy)} | ${pct(last(full.history, 'accuracy'))} | \`${full.cmd}\` |`);
  writeSection('hashednets', `
### (a) HashedNets' comparison on ${dataset} (${stamp()})

| compression | method | free parameters | test error | train accuracy (last epoch) | command |
|---|---|---:|---:|---:|---|
${rows.join('\n')}
`);
} else if (which === 'convolution') {
  // What convolution's sharing buys: the CNN, the same connectivity without sharing, and an MLP of similar size.
  const rows = [];
  for (const model of ['seed-cnn', 'seed-cnn-local', 'mlp']) {
    const r = train(['--model', model]);
    const tr = last(r.history, 'accuracy');
    rows.push(`| ${model} | ${n(r.parameters)} | ${pct(r.test.accuracy)} | ${pct(tr)} | ${(100 * (tr - r.test.accuracy)).toFixed(2)} pt | ${r.test.loss.toFixed(4)} | \`${r.cmd}\` |`);
  }
  writeSection('convolution', `
### (d) What convolution's sharing buys, on ${dataset} (${stamp()})

| model | parameters | test accuracy | train accuracy (last epoch) | train − test | test loss | command |
|---|---:|---:|---:|---:|---:|---|
${rows.join('\n')}
`);
} else {
  console.error('usage: node scripts/experiments.mjs <hashednets|convolution> [--dataset D] [--epochs N] [--seed S] [--dry-run]');
  process.exit(2);
}
