#!/usr/bin/env node
// Writes a dataset exactly as weightshare loads it (loadDataset) to raw little-endian files, so that
// an outside framework (scripts/reference-accuracy.py) trains on the same data, in the same order.
//
// Usage (from the repository root, after `npm run build`):
//   node scripts/export-dataset.mjs <name> [outDir] [--data <idxDir>]
//     name:   mnist-sample | mnist | fashion-mnist
//     outDir: default /tmp/ws-data/<name>
// Files in outDir:
//   x_train.f32  float32 LE, N·28·28·1 pixels in [0, 1], NHWC (here C = 1, so also NCHW)
//   y_train.i32  int32 LE, N labels
//   x_test.f32, y_test.i32  the same for the test set
//   meta.json    {name, nTrain, nTest, shape, classes}
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadDataset } from '../dist/src/data/index.js';

const args = process.argv.slice(2);
let dataDir;
const pos = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--data') dataDir = args[++i];
  else pos.push(args[i]);
}
const name = pos[0];
if (!name) {
  console.error('usage: node scripts/export-dataset.mjs <mnist-sample|mnist|fashion-mnist> [outDir] [--data <idxDir>]');
  process.exit(2);
}
const outDir = pos[1] ?? join('/tmp/ws-data', name);

const ds = loadDataset(name, dataDir ? { dataDir } : {});
const pix = ds.shape[0] * ds.shape[1] * ds.shape[2];
const nTrain = ds.yTrain.length;
const nTest = ds.yTest.length;
if (ds.xTrain.length !== nTrain * pix || ds.xTest.length !== nTest * pix) {
  throw new Error(`unexpected sizes: xTrain ${ds.xTrain.length}, yTrain ${nTrain}, xTest ${ds.xTest.length}, yTest ${nTest}`);
}
if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) throw new Error('big-endian host: files would not be little-endian');

// Copies the exact bytes of a typed array view (it may be a view into a larger buffer).
const bytes = (a) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

mkdirSync(outDir, { recursive: true });
writeFileSync(join(outDir, 'x_train.f32'), bytes(ds.xTrain));
writeFileSync(join(outDir, 'y_train.i32'), bytes(ds.yTrain));
writeFileSync(join(outDir, 'x_test.f32'), bytes(ds.xTest));
writeFileSync(join(outDir, 'y_test.i32'), bytes(ds.yTest));
const meta = { name: ds.name, nTrain, nTest, shape: ds.shape, classes: ds.classes };
writeFileSync(join(outDir, 'meta.json'), JSON.stringify(meta) + '\n');
console.log(`${outDir}: ${JSON.stringify(meta)}`);
