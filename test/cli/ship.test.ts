// Files for shipping from the command line: `compress --ship` writes a compressed header (format 3), and summary,
// predict, eval and export read it as they read format 2, reporting the file's true sizes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadDataset } from '../../src/data/datasets.js';
import { writeIdx } from '../../src/data/idx.js';
import { loadCheckpoint, saveModel } from '../../src/io/files.js';
import { Dense, Flatten, sequential } from '../../src/nn/index.js';
import { runCli } from '../helpers/cli.js';
import { readHeader } from '../helpers/model-bytes.js';

const dir = mkdtempSync(join(tmpdir(), 'ws-ship-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

/** The format version in a model file's prelude. */
const version = (file: string): number => readFileSync(file).readUInt32LE(4);

test('compress --ship writes format 3 (the header deflated, the tensors as without it); summary, predict, eval and export read it', async () => {
  const m = sequential([new Flatten({ inputShape: [28, 28, 1] }), new Dense({ units: 16, activation: 'relu' }), new Dense({ units: 10, activation: 'softmax' })], { name: 'small' }).build(1);
  m.compile({ optimizer: 'adam', loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'] });
  const file = join(dir, 'small.wsm');
  saveModel(file, m, { training: { epoch: 1, epochs: 1, batchSize: 32, seed: 0, dataset: 'mnist-sample', limit: 256, history: { epoch: [], history: {} } } });
  m.dispose();
  const common = ['--clusters', '4', '--prune', '0.5', '--finetune-epochs', '0', '--test-limit', '200', '--centroid-bits', '16', '--json'];
  const plain = join(dir, 'plain.wsm'), shipped = join(dir, 'shipped.wsm');
  const rp = await runCli('compress', file, ...common, '--out', plain);
  const rs = await runCli('compress', file, ...common, '--ship', '--out', shipped);
  assert.equal(rs.code, 0, rs.err);
  assert.deepEqual([version(file), version(plain), version(shipped)], [2, 2, 3], 'format 3 only for shipping');
  const [jp, js] = [rp, rs].map((r) => JSON.parse(r.out) as { fileBytes: number; fileRatio: number; bits: { float32: number }; finetuned: { accuracy: number } });
  assert.equal(js.fileBytes, statSync(shipped).size, 'compress reports the bytes written');
  assert.equal(js.fileRatio, js.bits.float32 / 8 / js.fileBytes);
  assert.match(rs.err, new RegExp(`\\nSaved .*shipped\\.wsm: ${(js.fileBytes / 1024).toFixed(1)} KiB on disk, ${js.fileRatio.toFixed(1)}× smaller`));
  assert.deepEqual(Object.keys(readHeader(readFileSync(shipped)).meta).sort(), ['initSeed', 'kind', 'model'], 'no training record or compile settings');
  // The same tensors, stored alike: only the header differs.
  const cp = loadCheckpoint(plain), cs = loadCheckpoint(shipped);
  assert.deepEqual(cs.stored!.tensorBytes, cp.stored!.tensorBytes);
  for (const [k, t] of cp.tensors) assert.deepEqual(new Uint8Array(cs.tensors.get(k)!.data.buffer), new Uint8Array(t.data.buffer), k);
  const tensorBytes = [...cs.stored!.tensorBytes.values()].reduce((a, b) => a + b, 0);
  const headerPlain = jp.fileBytes - tensorBytes, headerShipped = js.fileBytes - tensorBytes;
  assert.ok(headerShipped < headerPlain / 2, `header ${headerShipped} bytes shipped vs ${headerPlain}`);

  // summary: the file's size and what takes it; per-weight bytes as in the plain file.
  const [sp, ss] = await Promise.all([runCli('summary', plain, '--json'), runCli('summary', shipped, '--json')]);
  assert.equal(ss.code, 0, ss.err);
  const [jsp, jss] = [sp, ss].map((r) => JSON.parse(r.out) as { fileBytes: number; stored: unknown[] });
  assert.equal(jss.fileBytes, js.fileBytes);
  assert.deepEqual(jss.stored, jsp.stored);
  const text = await runCli('summary', shipped);
  assert.match(text.out, new RegExp(`\\nFile: ${(js.fileBytes / 1024).toFixed(1)} KiB \\(weights [^)]*, header ${headerShipped} B\\)\\n`));

  // eval (the shipped file names no dataset) and predict: the same numbers from both files.
  const [ep, es] = await Promise.all([plain, shipped].map((f) => runCli('eval', f, '--dataset', 'mnist-sample', '--test-limit', '200', '--json')));
  assert.equal(es.code, 0, es.err);
  assert.deepEqual({ ...JSON.parse(es.out), seconds: 0 }, { ...JSON.parse(ep.out), model: shipped, seconds: 0 });
  assert.equal(JSON.parse(es.out).accuracy, js.finetuned.accuracy);
  const ds = loadDataset('mnist-sample');
  const images = join(dir, 'three.idx');
  writeFileSync(images, writeIdx({ shape: [3, 28, 28], dtype: 'uint8', data: Uint8Array.from(ds.xTest.subarray(0, 3 * 784), (v) => Math.round(255 * v)) }));
  const [pp, ps] = await Promise.all([plain, shipped].map((f) => runCli('predict', f, images, '--json')));
  assert.equal(ps.code, 0, ps.err);
  assert.deepEqual(JSON.parse(ps.out).predictions, JSON.parse(pp.out).predictions);
  assert.equal(JSON.parse(ps.out).predictions.length, 3);

  // export: ONNX and TF.js from the shipped file, the same bytes as from the plain one; the .wsm size it quotes is the file's.
  for (const format of ['onnx', 'tfjs']) {
    const r = await Promise.all([plain, shipped].map((f, i) => runCli('export', f, '--format', format, '--out', join(dir, `${format}-${i}${format === 'onnx' ? '.onnx' : ''}`), '--json', ...(format === 'tfjs' ? ['--materialize'] : []))));
    assert.equal(r[1]!.code, 0, r[1]!.err);
    const [xp, xs] = r.map((x) => JSON.parse(x.out) as { bytes: number; modelBytes: number });
    assert.equal(xs.modelBytes, js.fileBytes, format);
    assert.equal(xs.bytes, xp.bytes, format);
  }
  const onnx = [0, 1].map((i) => readFileSync(join(dir, `onnx-${i}.onnx`)));
  assert.ok(onnx[0]!.equals(onnx[1]!), 'the same ONNX file');
});
