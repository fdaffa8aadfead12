// The training state in model files is typed: loading checks each field, and a wrong type is one error naming the field and the file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli/main.js';
import { loadCheckpoint, saveCheckpoint } from '../../src/io/files.js';
import { modelFromCheckpoint, modelToCheckpoint, type TrainingState } from '../../src/io/model-file.js';
import { checkTrainingState } from '../../src/io/training-state.js';
import { Dense, Flatten, sequential } from '../../src/nn/index.js';

const dir = mkdtempSync(join(tmpdir(), 'ws-state-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

const good = (): TrainingState => ({
  epoch: 1, epochs: 3, batchSize: 32, seed: 5, step: 2, stepsPerEpoch: 7, model: 'mlp:4', dataset: 'mnist-sample', limit: 64,
  partial: { lossSum: 1.5, seen: 64, sums: [0.5], counts: [64] },
  history: { epoch: [0], history: { loss: [2.25], accuracy: [0.125] } },
  earlyStopping: { patience: 2, restoreBest: true, state: { best: null, bestEpoch: -1, wait: 0, stoppedEpoch: -1 } },
  compress: { clusters: 16, convClusters: 16, prune: 0.5, convPrune: 0.5, pruneFinetuneEpochs: 0, pruneLr: 1e-4, init: 'linear', finetuneEpochs: 2, lr: 1e-4, seed: 0, from: 'a.wsm' },
});

test('checkTrainingState accepts what the CLI writes and names the first bad field, nested ones by path', () => {
  assert.deepEqual(checkTrainingState(good()), good());
  assert.deepEqual(checkTrainingState({ epoch: 0, epochs: 1, batchSize: 1, seed: -3, history: { epoch: [], history: {} } }).seed, -3);
  const bad: [(s: Record<string, any>) => void, RegExp][] = [
    [(s) => (s.epoch = '1'), /^Error: training state: field 'epoch' must be an integer ≥ 0, got "1"$/],
    [(s) => delete s.batchSize, /field 'batchSize' must be present/],
    [(s) => (s.seed = 1.5), /field 'seed' must be an integer, got 1\.5/],
    [(s) => (s.dataset = 7), /field 'dataset' must be a string, got 7/],
    [(s) => (s.history.history.loss = [1, 'x']), /field 'history\.history\.loss\[1\]' must be a number, got "x"/],
    [(s) => (s.history.epoch = {}), /field 'history\.epoch' must be a list, got \{\}/],
    [(s) => (s.earlyStopping.state.wait = -1), /field 'earlyStopping\.state\.wait' must be an integer ≥ 0, got -1/],
    [(s) => (s.earlyStopping.restoreBest = 'yes'), /field 'earlyStopping\.restoreBest' must be true or false, got "yes"/],
    [(s) => (s.partial = [1]), /field 'partial' must be an object, got \[1\]/],
    [(s) => (s.compress.layers = 'dense'), /field 'compress\.layers' must be a list, got "dense"/],
    // Issue 15: a negative limit trained on 59,990 samples, a negative epoch counted from −2; unknown keys were ignored.
    [(s) => (s.limit = -10), /^Error: training state: field 'limit' must be an integer ≥ 1, got -10$/],
    [(s) => (s.epoch = -2), /field 'epoch' must be an integer ≥ 0, got -2/],
    [(s) => (s.epoch = 4), /^Error: training state: field 'epoch' \(4\) must be at most 'epochs' \(3\)$/],
    [(s) => (s.step = 8), /field 'step' \(8\) must be at most 'stepsPerEpoch' \(7\)/],
    [(s) => (s.validationSplit = 1.5), /field 'validationSplit' must be a number in \[0, 1\], got 1\.5/],
    [(s) => (s.epochz = 1), /^Error: training state: unknown field 'epochz' \(known: epoch, epochs, /],
    [(s) => (s.earlyStopping.state.bestEpok = 0), /unknown field 'earlyStopping\.state\.bestEpok'/],
    [(s) => (s.history.history.loss = [1, 2]), /field 'history\.history\.loss' has 2 values for 1 epochs/],
  ];
  for (const [change, re] of bad) {
    const s = good() as unknown as Record<string, any>;
    change(s);
    assert.throws(() => checkTrainingState(s), re, String(change));
  }
  assert.throws(() => checkTrainingState('x'), /field 'training' must be an object, got "x"/);
});

test('a model file whose training state has a wrong type fails to load, and `train --resume` says which field of which file', async () => {
  const m = sequential([new Flatten({ inputShape: [28, 28, 1] }), new Dense({ units: 10, activation: 'softmax' })]).build(0);
  m.compile({ optimizer: 'adam', loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'] });
  const file = join(dir, 'bad.wsm');
  const c = modelToCheckpoint(m, { training: { ...good(), earlyStopping: undefined, compress: undefined } });
  modelFromCheckpoint(c, file).model.dispose();
  (c.meta as { training: Record<string, unknown> }).training.epoch = '1';
  assert.throws(() => modelFromCheckpoint(c, file), new RegExp(`^CheckpointError: ${file.replace(/[/\\.]/g, '\\$&')}: training state: field 'epoch' must be an integer ≥ 0, got "1"$`));
  saveCheckpoint(file, c);
  assert.equal((loadCheckpoint(file).meta as { training: { epoch: unknown } }).training.epoch, '1');
  let err = '';
  const code = await main(['train', '--resume', file], { out: { write: () => true }, err: { write: (s: string) => (err += s) } });
  assert.equal(code, 1);
  assert.equal(err, `weightshare: error: ${file}: training state: field 'epoch' must be an integer ≥ 0, got "1"\n`);
  m.dispose();
});
