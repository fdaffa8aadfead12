// 1-D k-means: each initialisation on known data, convergence to the Lloyd fixed point, determinism, errors.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { kmeans1d, KMEANS_INITS } from '../../src/sharing/kmeans.js';
import { Rng } from '../helpers/random.js';

const f32 = (a: number[]): Float32Array => Float32Array.from(a);
const close = (a: ArrayLike<number>, b: number[], tol = 1e-5): void => {
  assert.equal(a.length, b.length);
  for (let i = 0; i < b.length; i++) assert.ok(Math.abs(a[i] - b[i]) <= tol, `[${i}] ${a[i]} vs ${b[i]}`);
};

describe('kmeans1d initialisations (0 iterations: the starting centroids)', () => {
  const v = f32([10, 0, 2, 4, 6, 8, 1, 3]);
  test('linear: evenly spaced between min and max', () => {
    close(kmeans1d(v, 3, { init: 'linear', iterations: 0 }).centroids, [0, 5, 10]);
  });
  test('density: the (j + ½)/k quantiles of the CDF', () => {
    // sorted: 0 1 2 3 4 6 8 10; quantile positions (j+0.5)/2·7 = 1.75, 5.25 → 1.75, 6.5
    close(kmeans1d(v, 2, { init: 'density', iterations: 0 }).centroids, [1.75, 6.5]);
  });
  test('random: k values at distinct positions, the same for the same seed', () => {
    const dup = f32([5, 5, 5, 1, 2]);
    for (let seed = 0; seed < 20; seed++) {
      const c = Array.from(kmeans1d(dup, 4, { init: 'random', seed, iterations: 0 }).centroids);
      // 4 distinct positions of 5 values: at most 3 fives, and every centroid is one of the values.
      assert.ok(c.every((x) => [5, 1, 2].includes(x)));
      assert.ok(c.filter((x) => x === 5).length <= 3 && c.filter((x) => x !== 5).length >= 1);
      assert.deepEqual(c, Array.from(kmeans1d(dup, 4, { init: 'random', seed, iterations: 0 }).centroids));
    }
  });
  test('kmeans++: seeded, centroids are data values, spread over far-apart groups', () => {
    const g = f32([0, 0.1, 0.2, 100, 100.1, 100.2, 200, 200.1]);
    for (let seed = 0; seed < 10; seed++) {
      const c = kmeans1d(g, 3, { init: 'kmeans++', seed, iterations: 0 }).centroids;
      assert.ok(Array.from(c).every((x) => Array.from(g).includes(x)));
      assert.deepEqual([...c].map((x) => Math.floor(x / 100)), [0, 1, 2], `seed ${seed}: ${c}`);
      assert.deepEqual(c, kmeans1d(g, 3, { init: 'kmeans++', seed, iterations: 0 }).centroids);
    }
  });
});

describe('kmeans1d Lloyd iterations', () => {
  test('linear, density and kmeans++ find three separated groups and converge (random may stop in a local optimum)', () => {
    const v = f32([1, 5, 10, 1.1, 5.1, 10.2, 0.9, 4.9, 9.8]);
    for (const init of ['linear', 'density', 'kmeans++'] as const) {
      const r = kmeans1d(v, 3, { init, seed: 3 });
      assert.ok(r.converged, init);
      close(r.centroids, [1, 5, 10], 1e-5);
      assert.deepEqual(Array.from(r.assign), [0, 1, 2, 0, 1, 2, 0, 1, 2], init);
      assert.ok(Math.abs(r.inertia - 0.12) < 1e-4, `${init} inertia ${r.inertia}`);
    }
  });

  test('converged result is a Lloyd fixed point: each centroid is the mean of its values, each value nearest its centroid', () => {
    const rng = new Rng(11);
    const v = Float32Array.from({ length: 5000 }, () => rng.normal() * 0.05);
    for (const init of KMEANS_INITS) {
      const r = kmeans1d(v, 16, { init, seed: 1 });
      assert.ok(r.converged, `${init} after ${r.iterations}`);
      const sum = new Float64Array(16), cnt = new Float64Array(16);
      v.forEach((x, i) => {
        sum[r.assign[i]] += x;
        cnt[r.assign[i]]++;
        let best = Infinity;
        for (const c of r.centroids) best = Math.min(best, Math.abs(x - c));
        assert.ok(Math.abs(x - r.centroids[r.assign[i]]) <= best + 1e-6, `${init}: value ${i} not at its nearest centroid`);
      });
      for (let j = 0; j < 16; j++) if (cnt[j]) assert.ok(Math.abs(sum[j] / cnt[j] - r.centroids[j]) < 1e-6, `${init} centroid ${j}`);
      for (let j = 1; j < 16; j++) assert.ok(r.centroids[j] >= r.centroids[j - 1], 'ascending');
    }
  });

  test('deterministic given the seed (every initialisation)', () => {
    const rng = new Rng(2);
    const v = Float32Array.from({ length: 2000 }, () => rng.normal());
    for (const init of KMEANS_INITS) {
      const a = kmeans1d(v, 8, { init, seed: 9 }), b = kmeans1d(v, 8, { init, seed: 9 });
      assert.deepEqual(a.centroids, b.centroids);
      assert.deepEqual(a.assign, b.assign);
    }
  });

  test('k = n gives every value its own centroid; fewer distinct values than k leaves empty clusters in place', () => {
    const v = f32([3, 1, 2]);
    const r = kmeans1d(v, 3);
    close(r.centroids, [1, 2, 3]);
    assert.deepEqual(Array.from(r.assign), [2, 0, 1]);
    const same = kmeans1d(f32([1, 1, 1, 1]), 2);
    assert.deepEqual(Array.from(same.centroids), [1, 1]);
  });
});

test('kmeans1d errors', () => {
  assert.throws(() => kmeans1d(f32([1, 2]), 0), /k must be an integer in \[1, 2\]/);
  assert.throws(() => kmeans1d(f32([1, 2]), 3), /k must be an integer in \[1, 2\]/);
  assert.throws(() => kmeans1d(f32([1, NaN]), 1), /value 1 is NaN/);
  assert.throws(() => kmeans1d(f32([1, 2]), 1, { init: 'bogus' as never }), /init must be one of linear, density, random, kmeans\+\+/);
});
