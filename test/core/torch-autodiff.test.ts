// The core ops and their autodiff gradients against PyTorch fixtures (test/fixtures, made by scripts/make-fixtures.py).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as T from '../../src/core/ops/index.js';
import { setBackend, tidy } from '../../src/core/engine.js';
import { valueAndGrads } from '../../src/core/tape.js';
import type { Tensor } from '../../src/core/tensor.js';

interface Arr {
  shape: number[];
  data: number[];
}
interface Case {
  name: string;
  params: Record<string, number | string | boolean>;
  inputs: Record<string, Arr>;
  outputs: Record<string, Arr>;
}

function fixture(name: string): Case[] {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) dir = dirname(dir);
  const cases = (JSON.parse(readFileSync(join(dir, 'test', 'fixtures', `${name}.json`), 'utf8')) as { cases: Case[] }).cases;
  // Cases stored as generator recipes and summary checks (the large ones) are covered by test/backend/fixtures.test.ts.
  const dense = (r: Record<string, Partial<Arr>>): boolean => Object.values(r).every((a) => Array.isArray(a.data));
  const picked = cases.filter((c) => dense(c.inputs) && dense(c.outputs));
  assert.ok(picked.length >= 4, `${name}: too few dense fixture cases`);
  return picked;
}

const t = (a: Arr): Tensor => T.tensor(Float32Array.from(a.data), a.shape);

/** |got − want| ≤ atol + rtol·|want| everywhere. */
function near(what: string, got: Tensor, want: Arr, atol = 1e-4, rtol = 1e-4): void {
  assert.deepEqual(got.shape, want.shape, `${what}: shape`);
  const g = got.data();
  want.data.forEach((w, i) => assert.ok(Math.abs(g[i] - w) <= atol + rtol * Math.abs(w), `${what}[${i}]: ${g[i]} vs torch ${w}`));
}

for (const backend of ['ref', 'wasm'] as const) {
  test(`conv2d forward and autodiff gradients match PyTorch (${backend})`, () => {
    setBackend(backend);
    for (const c of fixture('conv2d')) {
      tidy(() => {
        const p = c.params as Record<string, number> & { padding: 'same' | 'valid' };
        const [x, w, dy] = [t(c.inputs.x), t(c.inputs.w), t(c.inputs.dy)];
        const opts = { strides: [p.strideH, p.strideW] as [number, number], dilations: [p.dilationH, p.dilationW] as [number, number], padding: p.padding };
        const { value, grads } = valueAndGrads(() => T.sum(T.mul(T.conv2d(x, w, opts), dy)), [x, w]);
        assert.ok(Number.isFinite(value.item()));
        near(`${c.name} y`, T.conv2d(x, w, opts), c.outputs.y, 1e-4, 1e-4);
        near(`${c.name} dx`, grads[0], c.outputs.dx, 1e-4, 1e-4);
        near(`${c.name} dw`, grads[1], c.outputs.dw, 2e-4, 1e-4);
      });
    }
  });

  test(`matmul forward and autodiff gradients match PyTorch (${backend})`, () => {
    setBackend(backend);
    for (const c of fixture('matmul')) {
      tidy(() => {
        const { transA, transB } = c.params as { transA: boolean; transB: boolean };
        const [a, b, g] = [t(c.inputs.A), t(c.inputs.B), t(c.inputs.G)];
        const { grads } = valueAndGrads(() => T.sum(T.mul(T.matmul(a, b, transA, transB), g)), [a, b]);
        near(`${c.name} C`, T.matmul(a, b, transA, transB), c.outputs.C);
        near(`${c.name} dA`, grads[0], c.outputs.dA);
        near(`${c.name} dB`, grads[1], c.outputs.dB);
      });
    }
  });

  test(`pooling forward and autodiff gradients match PyTorch (${backend})`, () => {
    setBackend(backend);
    for (const c of fixture('pool2d')) {
      tidy(() => {
        const p = c.params as Record<string, number> & { mode: string; padding: 'same' | 'valid' };
        const opts = { poolSize: [p.kh, p.kw] as [number, number], strides: [p.strideH, p.strideW] as [number, number], padding: p.padding };
        const pool = (x: Tensor): Tensor => (p.mode === 'max' ? T.maxPool2d(x, opts) : T.avgPool2d(x, opts));
        const [x, dy] = [t(c.inputs.x), t(c.inputs.dy)];
        const { grads } = valueAndGrads(() => T.sum(T.mul(pool(x), dy)), [x]);
        near(`${c.name} y`, pool(x), c.outputs.y, 1e-6, 1e-6);
        near(`${c.name} dx`, grads[0], c.outputs.dx, 1e-6, 1e-5);
      });
    }
  });

  test(`log-softmax cross-entropy and its gradient match PyTorch (${backend})`, () => {
    setBackend(backend);
    for (const c of fixture('softmax_cross_entropy')) {
      tidy(() => {
        const logits = t(c.inputs.logits);
        const labels = T.tensor(Int32Array.from(c.inputs.labels.data), c.inputs.labels.shape, 'int32');
        const { value, grads } = valueAndGrads(() => T.softmaxCrossEntropy(logits, labels), [logits]);
        near(`${c.name} logSoftmax`, T.logSoftmax(logits), c.outputs.logSoftmax, 1e-5, 1e-6);
        near(`${c.name} softmax`, T.softmax(logits), c.outputs.softmax, 1e-6, 1e-5);
        near(`${c.name} loss`, T.reshape(value, []), c.outputs.loss, 1e-5, 1e-6);
        near(`${c.name} dLogits`, grads[0], c.outputs.dLogits, 1e-6, 1e-5);
      });
    }
  });
}
