#!/usr/bin/env node
// Summarises the runs of scripts/text-experiments.sh (/tmp/ws-data/*.jsonl) as the Markdown tables of RESULTS.md:
// means ± sample standard deviations over seeds.
import { existsSync, readFileSync } from 'node:fs';

const dir = process.argv[2] ?? '/tmp/ws-data';
const read = (name) => (existsSync(`${dir}/${name}`) ? readFileSync(`${dir}/${name}`, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l)) : []);
const stats = (xs) => {
  const m = xs.reduce((a, b) => a + b, 0) / xs.length;
  const sd = xs.length > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1)) : 0;
  return { m, sd, n: xs.length };
};
const fmt = (xs, d = 3) => {
  const s = stats(xs);
  return `${s.m.toFixed(d)} ± ${s.sd.toFixed(d)} (n ${s.n})`;
};
const last = (h, k) => h[k][h[k].length - 1];

const ours = read('charlm-ours.jsonl'), torch = read('charlm-torch.jsonl');
if (ours.length || torch.length) {
  console.log('| engine | runs (seeds) | val bits/char | test bits/char | seconds (train + validation) |');
  console.log('|---|---|---:|---:|---:|');
  if (ours.length) console.log(`| weightshare | ${ours.map((r) => r.seed).join(', ')} | ${fmt(ours.map((r) => last(r.history, 'val_bits_per_char')))} | ${fmt(ours.map((r) => r.test.bits_per_char))} | ${fmt(ours.map((r) => r.seconds), 0)} |`);
  if (torch.length) console.log(`| PyTorch ${torch[0].torch} | ${torch.map((r) => r.seed).join(', ')} | ${fmt(torch.map((r) => r.history.at(-1).val_loss / Math.LN2))} | ${fmt(torch.map((r) => r.test_metric))} | ${fmt(torch.map((r) => r.seconds), 0)} |`);
  console.log();
}

const tied = read('tied.jsonl');
if (tied.length) {
  console.log('| output projection | parameters | val perplexity | test perplexity | seconds |');
  console.log('|---|---:|---:|---:|---:|');
  for (const t of [false, true]) {
    const rs = tied.filter((r) => /tied/.test(r.out) === t);
    if (!rs.length) continue;
    console.log(`| ${t ? 'tied to the embedding (--tied)' : 'its own kernel'} | ${rs[0].parameters.toLocaleString('en-US')} | ${fmt(rs.map((r) => last(r.history, 'val_perplexity')), 1)} | ${fmt(rs.map((r) => r.test.perplexity), 1)} | ${fmt(rs.map((r) => r.seconds), 0)} |`);
  }
  console.log();
}

const emb = read('embeddings.jsonl');
if (emb.length) {
  console.log('| embedding table | parameters | val perplexity | test perplexity |');
  console.log('|---|---:|---:|---:|');
  const specs = [...new Set(emb.map((r) => r.out.replace(/^.*word-lstm-emb-(.*)-\d+\.wsm$/, '$1')))];
  for (const s of specs) {
    const rs = emb.filter((r) => r.out.includes(`-emb-${s}-`));
    console.log(`| ${s} | ${rs[0].parameters.toLocaleString('en-US')} | ${fmt(rs.map((r) => last(r.history, 'val_perplexity')), 1)} | ${fmt(rs.map((r) => r.test.perplexity), 1)} |`);
  }
}
