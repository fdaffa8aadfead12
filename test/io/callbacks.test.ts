// ModelCheckpoint and CSVLogger (Keras callbacks that write files) through fit on mnist-sample digits.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { loadDataset } from '../../src/data/index.js';
import { CSVLogger, formatFilepath, ModelCheckpoint } from '../../src/io/callbacks.js';
import { loadModel } from '../../src/io/files.js';
import { createModel, type Model } from '../../src/nn/index.js';

const dir = mkdtempSync(join(tmpdir(), 'ws-callbacks-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const ds = loadDataset('mnist-sample');
const px = 28 * 28;
/** 256 training digits (the last 25 % held out by validationSplit) for an MLP. */
const x = { data: ds.xTrain.subarray(0, 256 * px), shape: [256, 784] };
const y = { data: ds.yTrain.subarray(0, 256), shape: [256] };

function mlp(): Model {
  const m = createModel('mlp', { inputShape: [784] }).build(1);
  m.compile({ optimizer: 'adam', loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'] });
  return m;
}

test('formatFilepath fills {epoch} (1-based) and logs with Python format specs', () => {
  const logs = { loss: 0.123456, val_loss: 1.5, accuracy: 0.9 };
  assert.equal(formatFilepath('m-{epoch:02d}-{val_loss:.4f}.wsm', 2, logs), 'm-03-1.5000.wsm');
  assert.equal(formatFilepath('{epoch}-{loss}-{accuracy:.1f}-{loss:.2e}-{epoch:3d}', 0, logs), '1-0.123456-0.9-1.23e-01-  1');
  assert.throws(() => formatFilepath('m-{val_acc}.wsm', 0, logs), /ModelCheckpoint: filepath 'm-\{val_acc\}\.wsm' names '\{val_acc\}', which the epoch logs do not have/);
  assert.throws(() => formatFilepath('m-{loss:x}.wsm', 0, logs), /format 'x' of '\{loss\}'/);
});

test('ModelCheckpoint saves every epoch, or with saveBestOnly only the epochs that improve val_loss; the files load', async () => {
  const every = new ModelCheckpoint(join(dir, 'every-{epoch:02d}.wsm'));
  const best = new ModelCheckpoint(join(dir, 'best.wsm'), { saveBestOnly: true, saveWeightsOnly: true });
  const vals: number[] = [];
  const m = mlp();
  const h = await m.fit(x, y, { epochs: 4, batchSize: 32, seed: 0, validationSplit: 0.25, callbacks: [every, best, { onEpochEnd: (_, l) => { vals.push(l.val_loss); } }] });
  assert.deepEqual(every.saved, [1, 2, 3, 4].map((e) => join(dir, `every-0${e}.wsm`)));
  let running = Infinity;
  const improving = vals.filter((v) => (v < running ? ((running = v), true) : false)).length;
  assert.equal(best.saved.length, improving, `val_loss ${vals.join(', ')}`);
  assert.equal(best.best, Math.min(...vals));
  // The last epoch's file holds the final weights and Adam's state; the weights-only one has no optimizer state.
  const last = loadModel(join(dir, 'every-04.wsm'));
  for (const [k, v] of m.getWeights()) assert.deepEqual(last.model.getWeights().get(k), v, k);
  assert.ok(last.meta.optimizer, 'optimizer state kept');
  assert.equal(loadModel(join(dir, 'best.wsm')).meta.optimizer, undefined);
  assert.equal(h.history.val_loss.length, 4);
  m.dispose();
});

test('ModelCheckpoint with saveBestOnly and a monitor the logs lack stops fit with a message naming it', async () => {
  const m = mlp();
  const cb = new ModelCheckpoint(join(dir, 'x.wsm'), { saveBestOnly: true });
  await assert.rejects(m.fit(x, y, { epochs: 1, batchSize: 64, callbacks: [cb] }), /ModelCheckpoint: the epoch logs have no 'val_loss' .*validationSplit or validationData/);
  assert.throws(() => new ModelCheckpoint(join(dir, 'x.wsm'), { mode: 'up' as 'min' }), /ModelCheckpoint: mode must be 'auto', 'min' or 'max', got "up"/);
  assert.equal(new ModelCheckpoint('a.wsm', { monitor: 'val_accuracy' }).mode, 'max');
  m.dispose();
});

test('CSVLogger writes a header and one row per epoch (0-based, sorted keys), and appends under an existing header', async () => {
  const file = join(dir, 'log.csv');
  const m = mlp();
  const h = await m.fit(x, y, { epochs: 2, batchSize: 64, seed: 1, validationSplit: 0.25, callbacks: [new CSVLogger(file)] });
  const rows = readFileSync(file, 'utf8').trimEnd().split('\n').map((l) => l.split(','));
  assert.deepEqual(rows[0], ['epoch', 'accuracy', 'loss', 'val_accuracy', 'val_loss']);
  assert.equal(rows.length, 3);
  rows.slice(1).forEach((r, e) => {
    assert.equal(r[0], String(e));
    assert.equal(Number(r[2]), h.history.loss[e]);
    assert.equal(Number(r[4]), h.history.val_loss[e]);
  });
  await m.fit(x, y, { epochs: 1, batchSize: 64, seed: 2, validationSplit: 0.25, callbacks: [new CSVLogger(file, { append: true })] });
  assert.equal(readFileSync(file, 'utf8').trimEnd().split('\n').length, 4);
  await m.fit(x, y, { epochs: 1, batchSize: 64, callbacks: [new CSVLogger(file, { separator: ';' })] });
  assert.deepEqual(readFileSync(file, 'utf8').split('\n')[0], 'epoch;accuracy;loss');
  writeFileSync(join(dir, 'other.csv'), 'a,b\n1,2\n');
  await assert.rejects(m.fit(x, y, { epochs: 1, batchSize: 64, callbacks: [new CSVLogger(join(dir, 'other.csv'), { append: true })] }), /other\.csv does not start with an 'epoch' header column/);
  assert.ok(existsSync(file));
  m.dispose();
});
