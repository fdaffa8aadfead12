#!/usr/bin/env node
// Prints the sizes of the text datasets (documents, characters, words, tokens, <unk>, samples per split, vocabulary)
// and how long loading and tokenizing each takes, as loadTextDataset builds them with default options.
//
// Usage (from the repository root, after `npm run build`): node scripts/text-stats.mjs [sotu|spam-assassin|FILE …]
import { loadTextDataset } from '../dist/src/node.js';

const sources = process.argv.slice(2);
const runs = sources.length ? sources.map((s) => [s, {}]) : [['sotu', { level: 'char' }], ['sotu', { level: 'word' }], ['spam-assassin', {}]];
const n = (v) => (v ?? '').toLocaleString('en-US');
console.log('| dataset | level | vocabulary | split | documents | characters | words | tokens | <unk> | samples | seconds |');
console.log('|---|---|---:|---|---:|---:|---:|---:|---:|---:|---:|');
for (const [source, opts] of runs) {
  const t0 = performance.now();
  const { stats } = loadTextDataset(source === 'sotu' || source === 'spam-assassin' ? source : { file: source }, opts);
  const seconds = ((performance.now() - t0) / 1000).toFixed(2);
  for (const split of ['train', 'valid', 'test']) {
    const s = stats[split];
    const first = split === 'train';
    console.log(`| ${first ? source : ''} | ${first ? stats.level : ''} | ${first ? n(stats.vocabSize) : ''} | ${split} | ${n(s.documents)} | ${n(s.characters)} | ${n(s.words)} | ${n(s.tokens)} | ${n(s.unknown)} | ${n(s.samples)}${s.perClass ? ` (${s.perClass.join(' / ')})` : ''} | ${first ? seconds : ''} |`);
  }
}
