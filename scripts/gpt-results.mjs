#!/usr/bin/env node
// Summarises scripts/gpt-experiments.sh (/tmp/ws-data/gpt-*.jsonl) and scripts/gpt-vs-torch.mjs (gpt-vs-torch.jsonl)
// as the Markdown tables of RESULTS.md: means ± sample standard deviations over seeds, and a plot-ready table.
import { last, meanSd as fmt, readRuns, stats } from './results-lib.mjs';

const dir = process.argv[2] ?? '/tmp/ws-data';
const read = (name) => readRuns(dir, name);
const n = (x) => x.toLocaleString('en-US');

const sharing = read('gpt-sharing.jsonl');
if (sharing.length) {
  const modes = ['none', 'attention', 'ffn', 'all'].filter((s) => sharing.some((r) => r.out.includes(`gpt-${s}-`)));
  const base = stats(sharing.filter((r) => r.out.includes('gpt-none-')).map((r) => last(r.history, 'val_bits_per_char'))).m;
  console.log('| shared across depth | parameters | seeds | val bits/char | test bits/char | vs none (val) | train bits/char (epoch mean) | seconds (1 thread, loaded machine) |');
  console.log('|---|---:|---|---:|---:|---:|---:|---:|');
  const plot = [];
  for (const s of modes) {
    const rs = sharing.filter((r) => r.out.includes(`gpt-${s}-`));
    const val = stats(rs.map((r) => last(r.history, 'val_bits_per_char'))).m;
    console.log(`| ${s} | ${n(rs[0].parameters)} | ${rs.map((r) => r.seed).join(', ')} | ${fmt(rs.map((r) => last(r.history, 'val_bits_per_char')))} | ${fmt(rs.map((r) => r.test.bits_per_char))} | ${s === 'none' ? '–' : `${val - base >= 0 ? '+' : ''}${(val - base).toFixed(3)}`} | ${fmt(rs.map((r) => last(r.history, 'bits_per_char')))} | ${fmt(rs.map((r) => r.seconds), 0)} |`);
    plot.push(`${s}\t${rs[0].parameters}\t${val.toFixed(4)}\t${stats(rs.map((r) => last(r.history, 'val_bits_per_char'))).sd.toFixed(4)}`);
  }
  console.log('\nPlot-ready (tab-separated: mode, parameters, val bits/char mean, sd):\n```\nmode\tparameters\tval_bpc\tsd');
  console.log(plot.join('\n') + '\n```\n');
}

const fact = read('gpt-factorized.jsonl');
if (fact.length) {
  console.log('| embedding | parameters | seeds | val perplexity | test perplexity | seconds (1 thread, loaded machine) |');
  console.log('|---|---:|---|---:|---:|---:|');
  for (const e of ['e128', 'e32']) {
    const rs = fact.filter((r) => r.out.includes(`word-gpt-${e}-`));
    if (!rs.length) continue;
    console.log(`| ${e === 'e128' ? 'table [V, 128] (tied)' : 'factorised: table [V, 32] + projections (tied)'} | ${n(rs[0].parameters)} | ${rs.map((r) => r.seed).join(', ')} | ${fmt(rs.map((r) => last(r.history, 'val_perplexity')), 1)} | ${fmt(rs.map((r) => r.test.perplexity), 1)} | ${fmt(rs.map((r) => r.seconds), 0)} |`);
  }
  console.log();
}

const vs = read('gpt-vs-torch.jsonl');
if (vs.length) {
  const ours = vs.filter((r) => r.engine === 'weightshare'), torch = vs.filter((r) => r.torch);
  console.log('| engine | seeds | steps in the budget | tokens/s | val loss (nats/char) | val bits/char |');
  console.log('|---|---|---:|---:|---:|---:|');
  if (ours.length) console.log(`| weightshare | ${ours.map((r) => r.seed).join(', ')} | ${fmt(ours.map((r) => r.steps), 0)} | ${fmt(ours.map((r) => r.tokensPerSec), 0)} | ${fmt(ours.map((r) => r.valLoss))} | ${fmt(ours.map((r) => r.bitsPerChar))} |`);
  if (torch.length) console.log(`| PyTorch ${torch[0].torch} | ${torch.map((r) => r.args.seed).join(', ')} | ${fmt(torch.map((r) => r.steps), 0)} | ${fmt(torch.map((r) => r.tokensPerSec), 0)} | ${fmt(torch.map((r) => r.valLoss))} | ${fmt(torch.map((r) => r.valMetric))} |`);
}
