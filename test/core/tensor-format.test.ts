// Tensor.toString / print against TF.js' own formatting (tfjs-core, a devDependency), on ranks 0–3, long axes and negatives.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { tensor } from '../../src/index.js';

const range = (n: number, f: (i: number) => number): number[] => Array.from({ length: n }, (_, i) => f(i));

test('toString and toString(verbose) print exactly what TF.js prints for the same values', async () => {
  await tf.setBackend('cpu');
  const cases: [number[], number[]][] = [
    [[7], []], [[1, 2.5, 3, 4], [2, 2]], [range(8, (i) => i / 3), [2, 2, 2]], [range(50, (i) => i * 1.5), [2, 25]],
    [range(30, (i) => -i), [30]], [range(84, (i) => i), [2, 21, 2]], [range(24, (i) => Math.fround(Math.sin(i)) * 1e-3), [2, 3, 4]],
  ];
  for (const [values, shape] of cases) {
    for (const verbose of [false, true]) {
      const t = tensor(values, shape);
      assert.equal(t.toString(verbose), tf.tensor(values, shape).toString(verbose), `shape [${shape}] verbose ${verbose}`);
      t.dispose();
    }
  }
});

test('a disposed tensor prints its shape and dtype instead of throwing; print writes toString to the console', (t) => {
  const x = tensor([1, 2], [2]);
  const logged: string[] = [];
  t.mock.method(console, 'log', (s: string) => { logged.push(s); });
  x.print();
  assert.deepEqual(logged, ['Tensor\n    [1, 2]']);
  x.dispose();
  assert.equal(x.toString(), 'Tensor([2], float32, disposed)');
});
