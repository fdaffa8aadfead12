// Feature selection: mutual information against hand counts, first-layer magnitudes, top-k choice, the script on mnist-sample.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { Dense, sequential } from '../../src/nn/index.js';
import { firstLayerMagnitude, mutualInformation, selectFeatures, takeFeatures } from '../../src/transforms/index.js';

test('mutualInformation: a copy of a balanced binary label scores ln 2, a constant or independent feature 0, a noisy copy in between (exact to 1e-12)', () => {
  // 4 samples, 3 features: [label, constant, independent of the label]; labels 0, 1, 0, 1.
  const y = Int32Array.of(0, 1, 0, 1);
  const x = Float32Array.of(0, 5, 0, 1, 5, 0, 0, 5, 1, 1, 5, 1);
  const mi = mutualInformation(x, y, 3);
  assert.ok(Math.abs(mi[0] - Math.LN2) < 1e-12 && mi[1] === 0 && Math.abs(mi[2]) < 1e-12, `${[...mi]}`);
  // 8 samples, the feature equal to the label but for one: counts (x,y) = (0,0)×4, (1,1)×3, (0,1)×1.
  const noisy = mutualInformation(Float32Array.of(0, 0, 0, 0, 1, 1, 1, 0), Int32Array.of(0, 0, 0, 0, 1, 1, 1, 1), 1)[0];
  const p = (j: number, a: number, b: number): number => (j / 8) * Math.log(j / 8 / ((a / 8) * (b / 8)));
  assert.ok(Math.abs(noisy - (p(4, 5, 4) + p(3, 3, 4) + p(1, 5, 4))) < 1e-12, `${noisy}`);
  assert.throws(() => mutualInformation(x, y, 3, { bins: 1 }), /^RangeError: mutualInformation: bins must be an integer ≥ 2, got 1$/);
});

test('firstLayerMagnitude, selectFeatures, takeFeatures: row L1 norms of the first Dense kernel, top k by score (ties: lower index), columns kept', () => {
  const m = sequential([new Dense({ units: 2, inputShape: [3], name: 'd' })]).build(0);
  m.setWeights({ 'd/kernel': Float32Array.of(1, -2, 0.5, 0.5, -3, 0) });
  assert.deepEqual([...firstLayerMagnitude(m)], [3, 1, 3]);
  assert.deepEqual([...selectFeatures([3, 1, 3], 2)], [0, 2]);
  assert.deepEqual([...selectFeatures([0.1, 0.9, 0.5, 0.9], 3)], [1, 2, 3]);
  assert.throws(() => selectFeatures([1, 2], 3), /^RangeError: selectFeatures: k must be an integer in \[1, 2\], got 3$/);
  assert.deepEqual([...takeFeatures(Float32Array.of(1, 2, 3, 4, 5, 6), 3, Int32Array.of(0, 2))], [1, 3, 4, 6]);
  m.dispose();
});

test('scripts/feature-selection.mjs: 50 pixels by mutual information, an MLP retrained on them (1 epoch): one JSON line with its figures', () => {
  const r = spawnSync(process.execPath, ['scripts/feature-selection.mjs', '--k', '50', '--hidden', '16', '--epochs', '1'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout) as { k: number; freeParameters: number; testError: number; trainAccuracy: number; gap: number; pixels: number[] };
  assert.deepEqual([j.k, j.freeParameters, j.pixels.length], [50, 50 * 16 + 16 + 16 * 10 + 10, 50]);
  assert.ok(j.testError < 0.6, `50 informative pixels beat chance: error ${j.testError}`);
  assert.ok(Math.abs(j.gap - (j.trainAccuracy - (1 - j.testError))) < 1e-12);
});
