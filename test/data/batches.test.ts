// Tests of seeded shuffling, batch iteration, row gathering and the Keras-style validation split.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mixSeed } from '../../src/core/random.js';
import { epochOrder } from '../../src/nn/training.js';
import { DataError } from '../../src/data/idx.js';
import {
  batchIndices, batchRanges, gatherRows, shuffleInPlace, shuffledIndices, validationSplit, validationSplitIndex,
} from '../../src/data/batches.js';

test('shuffledIndices: a permutation, the same for the same seed, different for another seed', () => {
  const a = shuffledIndices(1000, 42);
  const b = shuffledIndices(1000, 42);
  const c = shuffledIndices(1000, 43);
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
  assert.deepEqual(Array.from(a).sort((x, y) => x - y), Array.from({ length: 1000 }, (_, i) => i));
  assert.notDeepEqual(Array.from(a), Array.from({ length: 1000 }, (_, i) => i));
});

test('one shuffle: fit\'s epoch order is shuffledIndices under the mixed seed, and its order is pinned', () => {
  for (const [seed, epoch] of [[0, 0], [7, 3], [123, 9]]) {
    assert.deepEqual(epochOrder(257, true, seed, epoch), shuffledIndices(257, mixSeed(seed, `epoch:${epoch}`)));
  }
  // pinned values (recorded before the shuffle moved to core/random.ts): fit's order must not change silently
  assert.deepEqual(Array.from(epochOrder(10, true, 0, 0)), [9, 3, 7, 4, 1, 8, 6, 0, 2, 5]);
  assert.deepEqual(Array.from(epochOrder(10, true, 7, 3)), [8, 0, 7, 2, 9, 3, 4, 5, 6, 1]);
  assert.deepEqual(Array.from(epochOrder(4, false, 7, 3)), [0, 1, 2, 3]);
});

test('shuffleInPlace is Fisher–Yates: uniform over permutations of 3 over many seeds (χ² sanity)', () => {
  const counts = new Map<string, number>();
  const trials = 6000;
  for (let t = 0; t < trials; t++) {
    const k = shuffleInPlace([0, 1, 2], mixSeed(7, `trial:${t}`)).join('');
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  assert.equal(counts.size, 6);
  for (const v of counts.values()) assert.ok(Math.abs(v - trials / 6) < 150, `count ${v}`);
});

test('batchRanges covers 0…n−1, last batch shorter unless dropRemainder', () => {
  assert.deepEqual([...batchRanges(10, 4)], [{ start: 0, end: 4 }, { start: 4, end: 8 }, { start: 8, end: 10 }]);
  assert.deepEqual([...batchRanges(10, 4, { dropRemainder: true })], [{ start: 0, end: 4 }, { start: 4, end: 8 }]);
  assert.deepEqual([...batchRanges(0, 4)], []);
  assert.throws(() => [...batchRanges(10, 0)], DataError);
});

test('batchIndices: ordered, or shuffled deterministically with a seed', () => {
  assert.deepEqual([...batchIndices(5, 2)].map((b) => Array.from(b)), [[0, 1], [2, 3], [4]]);
  const epoch = (seed: number): number[][] => [...batchIndices(100, 32, { shuffle: true, seed })].map((b) => Array.from(b));
  const e1 = epoch(3);
  assert.deepEqual(e1, epoch(3));
  assert.notDeepEqual(e1, epoch(4));
  assert.deepEqual(e1.map((b) => b.length), [32, 32, 32, 4]);
  assert.deepEqual(e1.flat().sort((a, b) => a - b), Array.from({ length: 100 }, (_, i) => i));
  assert.deepEqual(e1.flat(), Array.from(epochOrder(100, true, 3, 0)));
  assert.deepEqual([...batchIndices(100, 32, { shuffle: true, seed: 3, epoch: 2 })].flatMap((b) => Array.from(b)), Array.from(epochOrder(100, true, 3, 2)));
  assert.throws(() => [...batchIndices(10, 2, { shuffle: true })], /explicit seed/);
});

test('gatherRows copies the chosen rows in order and checks indices', () => {
  const x = Float32Array.from([0, 0.5, 1, 1.5, 2, 2.5]);
  assert.deepEqual(Array.from(gatherRows(x, 2, [2, 0])), [2, 2.5, 0, 0.5]);
  const y = Int32Array.from([7, 8, 9]);
  const out = gatherRows(y, 1, Int32Array.from([1, 1, 2]));
  assert.ok(out instanceof Int32Array);
  assert.deepEqual(Array.from(out), [8, 8, 9]);
  assert.throws(() => gatherRows(y, 1, [3]), /index out of range at position 0: expected 0–2, found 3/);
});

test('validationSplit: Keras semantics, the LAST fraction before shuffling', () => {
  assert.equal(validationSplitIndex(10, 0.2), 8);
  assert.equal(validationSplitIndex(8000, 0.1), 7200);
  assert.equal(validationSplitIndex(7, 0.5), 3); // floor(7 · 0.5)
  assert.equal(validationSplitIndex(10, 0), 10);
  assert.throws(() => validationSplitIndex(10, 1), DataError);
  const x = Float32Array.from({ length: 20 }, (_, i) => i);
  const y = Int32Array.from({ length: 10 }, (_, i) => i);
  const s = validationSplit(x, y, 0.3);
  assert.deepEqual(Array.from(s.yTrain), [0, 1, 2, 3, 4, 5, 6]);
  assert.deepEqual(Array.from(s.yVal), [7, 8, 9]);
  assert.deepEqual(Array.from(s.xVal), [14, 15, 16, 17, 18, 19]);
  assert.equal(s.xTrain.length, 14);
  assert.throws(() => validationSplit(Float32Array.from([1, 2, 3]), Int32Array.from([0, 1]), 0.5), DataError);
});
