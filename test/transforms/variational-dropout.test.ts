// sparseVariationalDropout from code: seeded (two runs give the same file), pruned codebooks at the end, options checked before any work.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadDataset } from '../../src/data/datasets.js';
import { encodeCheckpoint } from '../../src/io/checkpoint.js';
import { modelToCheckpoint } from '../../src/io/model-file.js';
import { Dense, Flatten, type Model, sequential } from '../../src/nn/index.js';
import { sparseVariationalDropout, variationalDropoutSettings } from '../../src/transforms/index.js';

const ds = loadDataset('mnist-sample');
const n = 256, nt = 100;
const data = {
  train: { x: { data: ds.xTrain.slice(0, n * 784), shape: [n, 28, 28, 1] }, y: { data: ds.yTrain.slice(0, n), shape: [n] } },
  test: { x: { data: ds.xTest.slice(0, nt * 784), shape: [nt, 28, 28, 1] }, y: { data: ds.yTest.slice(0, nt), shape: [nt] } },
};

function small(): Model {
  const m = sequential([new Flatten({ inputShape: [28, 28, 1] }), new Dense({ units: 12, activation: 'relu' }), new Dense({ units: 10, activation: 'softmax' })]).build(2);
  m.compile({ optimizer: 'adam', loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'] });
  return m;
}

test('sparseVariationalDropout: the KL term prunes, the survivors become pruned codebooks, and the same seed gives the same bytes', async () => {
  const files: Uint8Array[] = [];
  for (let run = 0; run < 2; run++) {
    const m = small();
    const kinds: string[] = [];
    const r = await sparseVariationalDropout(m, data, { epochs: 2, klWeight: 30, clusters: 4, finetuneEpochs: 1, batchSize: 32, seed: 5 }, { onProgress: (e) => void kinds.push(e.kind) });
    assert.deepEqual([...new Set(kinds)], ['original', 'trainBegin', 'epochEnd', 'sparsified', 'clustered', 'finetuned']);
    assert.ok(r.sparsity[0].pruned > 0, `pruned ${r.sparsity[0].pruned} of ${r.sparsity[0].weights}`);
    assert.deepEqual(m.weights().filter((w) => w.role === 'kernel').map((w) => w.map.kind), ['codebook', 'codebook']);
    assert.ok(r.ratio > 5, `${r.ratio}× smaller`);
    files.push(encodeCheckpoint(modelToCheckpoint(m)));
    m.dispose();
  }
  assert.deepEqual(files[0], files[1]);
});

test('sparseVariationalDropout: pruneFinetuneEpochs retrains the survivors with the masks fixed before clustering', async () => {
  const m = small();
  const kinds: string[] = [];
  const phases: string[] = [];
  const r = await sparseVariationalDropout(m, data, { epochs: 2, klWeight: 30, clusters: 4, pruneFinetuneEpochs: 1, pruneLr: 1e-3, finetuneEpochs: 0, batchSize: 32, seed: 5 }, {
    onProgress: (e) => {
      kinds.push(e.kind);
      if (e.kind === 'trainBegin') phases.push(`${e.phase} ${e.learningRate}`);
    },
  });
  assert.deepEqual([...new Set(kinds)], ['original', 'trainBegin', 'epochEnd', 'sparsified', 'masked', 'clustered']);
  assert.deepEqual(phases, ['retrain 0.0005', 'masked 0.001']); // lr's default is the CLI's --weight-lr
  assert.notDeepEqual(r.masked, r.sparsified);
  // The retraining kept the masks: every weight the KL term pruned is still a pruned code.
  assert.deepEqual(r.layers.map((l) => l.pruned), r.sparsity.map((w) => w.pruned));
  assert.deepEqual(m.weights().filter((w) => w.role === 'kernel').map((w) => w.map.kind), ['codebook', 'codebook']);
  m.dispose();
});

test('sparseVariationalDropout: layerKlWeight and layerThreshold override klWeight and threshold per layer; convClusters defaults to clusters', async () => {
  // The same seed: with layer dense_1's KL weight 0 instead of 30 it prunes fewer weights, while dense (still 30)
  // prunes; a threshold of 1e9 for dense keeps every weight of it.
  const run = async (o: Parameters<typeof sparseVariationalDropout>[2]) => {
    const m = small();
    const r = await sparseVariationalDropout(m, data, { epochs: 2, klWeight: 30, clusters: 4, finetuneEpochs: 0, batchSize: 32, seed: 5, ...o });
    m.dispose();
    return r.sparsity;
  };
  const [, shared1] = await run({});
  const [dense, dense1] = await run({ layerKlWeight: { dense_1: 0 } });
  assert.ok(dense.pruned > 0, `dense: pruned ${dense.pruned}`);
  assert.ok(dense1.pruned < shared1.pruned, `dense_1 pruned ${dense1.pruned} with KL weight 0, ${shared1.pruned} with 30`);
  const [denseT, dense1T] = await run({ layerThreshold: { dense: 1e9 } });
  assert.equal(denseT.pruned, 0, 'dense at threshold 1e9 keeps everything');
  assert.equal(dense1T.pruned, shared1.pruned, 'dense_1 at the shared threshold: as without the override');
  assert.equal(variationalDropoutSettings({ clusters: 8 }).convClusters, 8);
  await assert.rejects(sparseVariationalDropout(small(), data, { layerKlWeight: { nope: 1 } }), /^RangeError: sparseVariationalDropout: layerKlWeight names no layer of model '[^']*': 'nope'/);
});

test('variationalDropoutSettings: bad options are one-line RangeErrors naming the option', () => {
  assert.throws(() => variationalDropoutSettings({ layerKlWeight: { dense: -1 } }), /^RangeError: sparseVariationalDropout: layerKlWeight\['dense'\] must be a finite number ≥ 0, got -1$/);
  assert.throws(() => variationalDropoutSettings({ layerThreshold: { dense: NaN } }), /layerThreshold\['dense'\] must be a finite number, got NaN/);
  assert.throws(() => variationalDropoutSettings({ convClusters: 300 }), /convClusters must be an integer in \[2, 256\], got 300/);
  assert.throws(() => variationalDropoutSettings({ klWeight: -1 }), /^RangeError: sparseVariationalDropout: klWeight must be a finite number ≥ 0, got -1$/);
  assert.throws(() => variationalDropoutSettings({ threshold: NaN }), /threshold must be a finite number, got NaN/);
  assert.throws(() => variationalDropoutSettings({ clusters: 1 }), /clusters must be an integer in \[2, 256\], got 1/);
  assert.throws(() => variationalDropoutSettings({ klWarmup: 1.5 }), /klWarmup must be an integer ≥ 0, got 1.5/);
  assert.throws(() => variationalDropoutSettings({ pruneFinetuneEpochs: -1 }), /pruneFinetuneEpochs must be an integer ≥ 0, got -1/);
  assert.throws(() => variationalDropoutSettings({ pruneLr: 0 }), /pruneLr must be a finite number > 0, got 0/);
});
