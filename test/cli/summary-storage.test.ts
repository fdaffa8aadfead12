// `weightshare summary`: each weight's stored bytes and bits per weight, from the file's own tensor sizes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadCheckpoint, saveModel } from '../../src/io/files.js';
import { Dense, Flatten, sequential } from '../../src/nn/index.js';
import { clusterWeights } from '../../src/transforms/index.js';
import { runCli } from '../helpers/cli.js';

test('summary: a row per weight with its bytes in the file (θ and map state) and bits per element; they add up to the tensors\' bytes (exact)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ws-summary-'));
  try {
    const m = sequential([new Flatten({ inputShape: [8, 8, 1] }), new Dense({ units: 32, activation: 'relu', name: 'h' }), new Dense({ units: 4, activation: 'softmax', name: 'out' })]).build(3);
    clusterWeights(m, { clusters: 4, prune: 0.75, layers: ['h'] });
    const file = join(dir, 'm.wsm');
    saveModel(file, m, { withOptimizer: false });
    const stored = loadCheckpoint(file).stored!;
    const r = await runCli('summary', file, '--json');
    assert.equal(r.code, 0, r.err);
    const j = JSON.parse(r.out) as { fileBytes: number; stored: { path: string; elements: number; bytes: number; bitsPerWeight: number }[] };
    assert.deepEqual(j.stored.map((s) => [s.path, s.elements]), [['h/kernel', 2048], ['h/bias', 32], ['out/kernel', 128], ['out/bias', 4]]);
    const kernel = j.stored[0];
    assert.equal(kernel.bytes, stored.tensorBytes.get('weights/h/kernel/centroids')! + stored.tensorBytes.get('maps/h/kernel/codes')!);
    assert.equal(kernel.bitsPerWeight, (8 * kernel.bytes) / 2048);
    assert.ok(kernel.bitsPerWeight < 2, `a 4-centroid codebook, 75 % pruned: ${kernel.bitsPerWeight} bits per weight`);
    // The zero biases are exact halves: stored as float16 (lossless); the random kernel at 32 bits.
    assert.deepEqual(j.stored.slice(1).map((s) => s.bitsPerWeight), [16, 32, 16]);
    assert.equal(j.stored.reduce((s, w) => s + w.bytes, 0), [...stored.tensorBytes.values()].reduce((a, b) => a + b, 0));
    const text = await runCli('summary', file);
    assert.match(text.out, /Stored weights \(bytes in the file, bits per element of W\):\n {2}h\/kernel +2,048 elements +\d+ B +\d\.\d\d bits\/weight\n/);
    assert.match(text.out, /\n {2}total +2,212 elements +\d+(\.\d)? K?i?B +\d+\.\d\d bits\/weight\n/);
    m.dispose();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
