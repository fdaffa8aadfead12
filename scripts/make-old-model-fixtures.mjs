#!/usr/bin/env node
// Writes small model files with a build of weightshare from before graphs (commit d4fa528: chain configs, Adam in
// float32) so that tests prove such files still load and predict the same. Usage, from a checkout of that commit after
// `npm run build`: node /path/to/scripts/make-old-model-fixtures.mjs <that checkout> <output folder>
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const [from, out] = process.argv.slice(2).map((p) => resolve(p));
const ws = await import(join(from, 'dist/src/index.js'));
const { saveModel } = await import(join(from, 'dist/src/node.js'));
const { layers } = ws;
const x = ws.tensor(Float32Array.from({ length: 4 * 6 }, (_, i) => Math.sin(i)), [4, 6]);
const y = ws.tensor(Int32Array.from([0, 1, 2, 1]), [4], 'int32');
const expected = {};

// A Sequential with a hashed kernel, dropout, compiled and trained two steps (optimizer state in the file).
const seq = ws.sequential([
  layers.dense({ units: 8, activation: 'relu', inputShape: [6], maps: { kernel: 'hashed:1/4' } }),
  layers.dropout({ rate: 0.2 }),
  layers.dense({ units: 3, activation: 'softmax' }),
], { name: 'old-sequential' }).build(3);
seq.compile({ optimizer: 'adam', loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'] });
seq.trainOnBatch(x, y);
seq.trainOnBatch(x, y);
saveModel(join(out, 'old-sequential.wsm'), seq);
expected['old-sequential'] = Array.from(seq.predict(x).f32());

// A functional chain reusing one layer twice (tied by reuse), and a tied transpose kernel.
const inp = ws.input({ shape: [6] });
const shared = layers.dense({ units: 6, activation: 'tanh', name: 'shared' });
const enc = layers.dense({ units: 4, name: 'enc' });
const dec = layers.dense({ units: 6, name: 'dec', maps: { kernel: 'tied:enc/kernel:T' } });
const fun = ws.model({ inputs: inp, outputs: dec.apply(enc.apply(shared.apply(shared.apply(inp)))), name: 'old-functional' }).build(5);
saveModel(join(out, 'old-functional.wsm'), fun);
expected['old-functional'] = Array.from(fun.predict(x).f32());

writeFileSync(join(out, 'old-models.json'), JSON.stringify({ commit: 'd4fa528', input: Array.from(x.f32()), expected }, null, 1) + '\n');
console.log('wrote', Object.keys(expected).join(', '));
