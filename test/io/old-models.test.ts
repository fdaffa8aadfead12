// Model files written before graphs (commit d4fa528, by scripts/make-old-model-fixtures.mjs) load, predict bit for bit
// as they did, keep their optimizer state, and are saved again as node graphs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tensor } from '../../src/core/ops/index.js';
import { loadCheckpoint, loadModel, saveModel } from '../../src/io/files.js';
import { compareBits } from '../helpers/compare.js';

const dir = fileURLToPath(new URL('../../../test/fixtures/models/', import.meta.url));
const fixture = JSON.parse(readFileSync(join(dir, 'old-models.json'), 'utf8')) as { input: number[]; expected: Record<string, number[]> };
const tmp = mkdtempSync(join(tmpdir(), 'ws-old-'));
test.after(() => rmSync(tmp, { recursive: true, force: true }));

for (const name of Object.keys(fixture.expected)) {
  test(`${name}.wsm (a chain config from before graphs) loads and predicts as it did; saved again as a node graph`, () => {
    const file = join(dir, `${name}.wsm`);
    const old = loadCheckpoint(file).meta as { model: { graph: unknown[] } };
    assert.ok(old.model.graph.every((n) => typeof n === 'string'), 'the fixture holds the old chain format');
    const { model } = loadModel(file);
    const x = tensor(Float32Array.from(fixture.input), [4, 6]);
    const y = model.predict(x);
    assert.equal(compareBits(y.f32(), Float32Array.from(fixture.expected[name])).message, undefined);
    const again = join(tmp, `${name}.wsm`);
    saveModel(again, model);
    const meta = loadCheckpoint(again).meta as { model: { graph: unknown[] } };
    assert.ok(meta.model.graph.every((n) => typeof n === 'object'), 'saved as nodes');
    const { model: back } = loadModel(again);
    const y2 = back.predict(x);
    assert.equal(compareBits(y2.f32(), y.f32()).message, undefined);
    if (model.optimizer) {
      assert.equal(model.optimizer.iterations, 2, 'the optimizer state came with the file');
      const logs = model.trainOnBatch(x, tensor(Int32Array.from([0, 1, 2, 1]), [4], 'int32'));
      assert.ok(Number.isFinite(logs.loss));
    }
    for (const t of [x, y, y2]) t.dispose();
    model.dispose();
    back.dispose();
  });
}
