#!/usr/bin/env node
// Summarises the runs of scripts/text-experiments.sh (/tmp/ws-data/*.jsonl) as the Markdown tables of RESULTS.md:
// means ± sample standard deviations over seeds.
import { last, meanSd, readRuns } from './results-lib.mjs';

const dir = process.argv[2] ?? '/tmp/ws-data';
const read = (name) => readRuns(dir, name);
/** Whether a run's model file (its name, not its folder) is a tied one. */
const isTied = (r) => /tied/.test(r.out.split('/').pop());
const fmt = (xs, d = 3) => `${meanSd(xs, d)} (n ${xs.length})`;

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
    const rs = tied.filter((r) => isTied(r) === t);
    if (!rs.length) continue;
    console.log(`| ${t ? 'tied to the embedding (--tied)' : 'its own kernel'} | ${rs[0].parameters.toLocaleString('en-US')} | ${fmt(rs.map((r) => last(r.history, 'val_perplexity')), 1)} | ${fmt(rs.map((r) => r.test.perplexity), 1)} | ${fmt(rs.map((r) => r.seconds), 0)} |`);
  }
  console.log();
}

const tied10 = read('tied10.jsonl');
if (tied10.length) {
  const epochs = Math.max(...tied10.map((r) => r.history.val_perplexity.length));
  console.log(`| output projection | parameters | seeds | ${Array.from({ length: epochs }, (_, e) => `val ppl, epoch ${e + 1}`).join(' | ')} | test perplexity |`);
  console.log(`|---|---:|---|${'---:|'.repeat(epochs + 1)}`);
  for (const t of [false, true]) {
    const rs = tied10.filter((r) => isTied(r) === t);
    if (!rs.length) continue;
    const perEpoch = Array.from({ length: epochs }, (_, e) => meanSd(rs.map((r) => r.history.val_perplexity[e]), 1));
    console.log(`| ${t ? 'tied (--tied)' : 'its own kernel'} | ${rs[0].parameters.toLocaleString('en-US')} | ${rs.map((r) => r.seed).join(', ')} | ${perEpoch.join(' | ')} | ${fmt(rs.map((r) => r.test.perplexity), 1)} |`);
  }
  const pairs = [...new Set(tied10.map((r) => r.seed))].map((s) => {
    const u = tied10.find((r) => r.seed === s && !isTied(r)), t = tied10.find((r) => r.seed === s && isTied(r));
    return u && t ? `seed ${s}: ${u.test.perplexity.toFixed(1)} untied, ${t.test.perplexity.toFixed(1)} tied` : undefined;
  }).filter(Boolean);
  console.log(`\nTest perplexity per seed: ${pairs.join('; ')}.\n`);
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
