// The running-sum task: labels are running sums mod K of one-hot digits, seeded, uniform digits, a valid Dataset, errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkDataset } from '../../src/data/dataset.js';
import { runningSum, runningSumDataset } from '../../src/data/sequences.js';
import { failsWithDataError as fails } from '../helpers/data-error.js';

test('runningSum: one-hot digits, labels = sum so far mod K at every position, shapes', () => {
  for (const k of [2, 3, 10]) {
    const { x, y, digits, shape, targetShape } = runningSum({ count: 50, length: 7, modulus: k, seed: 3 });
    assert.deepEqual([shape, targetShape, x.length, y.length, digits.length], [[7, k], [7], 50 * 7 * k, 350, 350]);
    for (let n = 0; n < 50; n++) {
      let sum = 0;
      for (let t = 0; t < 7; t++) {
        const d = digits[n * 7 + t];
        assert.ok(Number.isInteger(d) && d >= 0 && d < k, `digit ${d}`);
        const row = x.subarray((n * 7 + t) * k, (n * 7 + t + 1) * k);
        assert.deepEqual([...row], Array.from({ length: k }, (_, j) => (j === d ? 1 : 0)), `one-hot of ${d}`);
        sum += d;
        assert.equal(y[n * 7 + t], sum % k, `string ${n} position ${t}`);
      }
    }
  }
});

test('runningSum: the same seed gives the same strings, another seed others; digits are uniform', () => {
  const a = runningSum({ count: 400, length: 25, seed: 1 });
  assert.deepEqual(runningSum({ count: 400, length: 25, seed: 1 }).digits, a.digits);
  const b = runningSum({ count: 400, length: 25, seed: 2 });
  assert.ok(b.digits.some((d, i) => d !== a.digits[i]));
  // 10,000 digits: each of the 10 values has count 1,000 ± 30 (sd); allow 5 sd.
  const counts = new Array<number>(10).fill(0);
  for (const d of a.digits) counts[d]++;
  for (const c of counts) assert.ok(Math.abs(c - 1000) < 150, `digit counts ${counts}`);
  assert.deepEqual(runningSum({ count: 2, length: 3 }).digits, runningSum({ count: 2, length: 3, seed: 0, modulus: 10 }).digits, 'defaults: seed 0, modulus 10');
});

test('runningSumDataset: a valid Dataset with per-position targets; test strings differ from the training strings', () => {
  const ds = checkDataset(runningSumDataset({ length: 6, train: 30, test: 10, modulus: 5, seed: 4 }));
  assert.deepEqual([ds.name, ds.shape, ds.targetShape, ds.classes, ds.yTrain.length, ds.yTest.length], ['running-sum-mod-5', [6, 5], [6], 5, 180, 60]);
  assert.deepEqual(ds.xTrain, runningSum({ count: 30, length: 6, modulus: 5, seed: 4 }).x);
  assert.ok(ds.xTest.some((v, i) => v !== ds.xTrain[i]));
});

test('runningSum: bad sizes fail with one line naming the option and the value', () => {
  fails(() => runningSum({ count: 0, length: 3 }), /runningSum\(count 0, length 3, modulus 10\): count must be an integer ≥ 1, got 0/);
  fails(() => runningSum({ count: 2, length: 1.5 }), /length must be an integer ≥ 1, got 1.5/);
  fails(() => runningSum({ count: 2, length: 3, modulus: 1 }), /modulus must be an integer ≥ 2, got 1/);
});
