#!/usr/bin/env node
// Writes a dataset exactly as weightshare loads it (loadDataset) to raw little-endian files, so that
// an outside framework (scripts/reference-accuracy.py) trains on the same data, in the same order.
//
// Usage (from the repository root, after `npm run build`):
//   node scripts/export-dataset.mjs <name> [outDir] [--data <idxDir>]
//     name:   mnist-sample | mnist | fashion-mnist, or sotu-char | sotu-word (the language-modelling windows of
//             `weightshare train --model char-lstm|word-lstm`, default bptt 64; --bptt N, --max-vocab N)
//     outDir: default /tmp/ws-data/<name>
// Files in outDir:
//   x_train.f32  float32 LE, N·28·28·1 pixels in [0, 1], NHWC (here C = 1, so also NCHW)
//   y_train.i32  int32 LE, N labels
//   x_test.f32, y_test.i32  the same for the test set
//   meta.json    {name, nTrain, nTest, shape, classes}
// For sotu-*: x_{train,valid,test}.i32 and y_{train,valid,test}.i32, int32 LE [M, bptt] token ids, and
//   meta.json {name, level, bptt, vocab, nTrain, nValid, nTest} (read by scripts/reference-lm.py).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadDataset } from '../dist/src/data/index.js';
import { loadTextDataset } from '../dist/src/data/corpora.js';

const args = process.argv.slice(2);
let dataDir;
let bptt = 64;
let maxVocab;
const pos = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--data') dataDir = args[++i];
  else if (args[i] === '--bptt') bptt = Number(args[++i]);
  else if (args[i] === '--max-vocab') maxVocab = Number(args[++i]);
  else pos.push(args[i]);
}
const name = pos[0];
if (!name) {
  console.error('usage: node scripts/export-dataset.mjs <mnist-sample|mnist|fashion-mnist> [outDir] [--data <idxDir>]');
  process.exit(2);
}
const outDir = pos[1] ?? join('/tmp/ws-data', name);
// Copies the exact bytes of a typed array view (it may be a view into a larger buffer).
const bytes = (a) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

if (name === 'sotu-char' || name === 'sotu-word') {
  const level = name.slice(5);
  const { dataset: t, tokenizer } = loadTextDataset('sotu', { level, bptt, ...(maxVocab ? { maxVocab } : {}) });
  mkdirSync(outDir, { recursive: true });
  for (const [split, x, y] of [['train', t.xTrain, t.yTrain], ['valid', t.xValid, t.yValid], ['test', t.xTest, t.yTest]]) {
    writeFileSync(join(outDir, `x_${split}.i32`), bytes(x));
    writeFileSync(join(outDir, `y_${split}.i32`), bytes(y));
  }
  const meta = { name, level, bptt, vocab: tokenizer.vocabSize, nTrain: t.xTrain.length / bptt, nValid: t.xValid.length / bptt, nTest: t.xTest.length / bptt };
  writeFileSync(join(outDir, 'meta.json'), JSON.stringify(meta) + '\n');
  console.log(`${outDir}: ${JSON.stringify(meta)}`);
  process.exit(0);
}

const ds = loadDataset(name, dataDir ? { dataDir } : {});
const pix = ds.shape[0] * ds.shape[1] * ds.shape[2];
const nTrain = ds.yTrain.length;
const nTest = ds.yTest.length;
if (ds.xTrain.length !== nTrain * pix || ds.xTest.length !== nTest * pix) {
  throw new Error(`unexpected sizes: xTrain ${ds.xTrain.length}, yTrain ${nTrain}, xTest ${ds.xTest.length}, yTest ${nTest}`);
}
if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) throw new Error('big-endian host: files would not be little-endian');

mkdirSync(outDir, { recursive: true });
writeFileSync(join(outDir, 'x_train.f32'), bytes(ds.xTrain));
writeFileSync(join(outDir, 'y_train.i32'), bytes(ds.yTrain));
writeFileSync(join(outDir, 'x_test.f32'), bytes(ds.xTest));
writeFileSync(join(outDir, 'y_test.i32'), bytes(ds.yTest));
const meta = { name: ds.name, nTrain, nTest, shape: ds.shape, classes: ds.classes };
writeFileSync(join(outDir, 'meta.json'), JSON.stringify(meta) + '\n');
console.log(`${outDir}: ${JSON.stringify(meta)}`);
