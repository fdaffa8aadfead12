// `compress --method soft-sharing | prune-schedule` and `--ship` from the command line, on a small model and mnist-sample.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { halfExact } from '../../src/core/half.js';
import { loadModel, saveModel } from '../../src/io/files.js';
import { Dense, Flatten, sequential } from '../../src/nn/index.js';
import { runCli } from '../helpers/cli.js';
import { readHeader } from '../helpers/model-bytes.js';

/** A small MLP saved untrained-but-compiled, with a training record naming mnist-sample's first 256 samples. */
function saved(dir: string): string {
  const m = sequential([new Flatten({ inputShape: [28, 28, 1] }), new Dense({ units: 16, activation: 'relu' }), new Dense({ units: 10, activation: 'softmax' })], { name: 'small' }).build(1);
  m.compile({ optimizer: 'adam', loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'] });
  const file = join(dir, 'small.wsm');
  saveModel(file, m, { training: { epoch: 1, epochs: 1, batchSize: 32, seed: 0, dataset: 'mnist-sample', limit: 256, history: { epoch: [], history: {} } } });
  m.dispose();
  return file;
}

test('compress --method soft-sharing --ship: pruned codebooks, a header without training record or compile settings; bad options are one-line errors', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ws-methods-'));
  try {
    const file = saved(dir), out = join(dir, 'sws.wsm');
    const r = await runCli('compress', file, '--method', 'soft-sharing', '--components', '6', '--epochs', '1', '--tau', '0.01', '--test-limit', '200', '--ship', '--out', out, '--json');
    assert.equal(r.code, 0, r.err);
    assert.match(r.err, /mixture prior over 12,704 kernel weights: 6 components \(zero component π₀ 0\.99\), τ 0\.01, one prior for the model\n/);
    assert.match(r.err, /after quantising to the component means: accuracy \d+\.\d\d %/);
    const j = JSON.parse(r.out) as { settings: { method: string; softSharing: { components: number } }; layers: { clusters: number }[]; fileBytes: number };
    assert.deepEqual([j.settings.method, j.settings.softSharing.components], ['soft-sharing', 6]);
    for (const l of j.layers) assert.ok(l.clusters >= 2 && l.clusters <= 5, `${l.clusters} centroids`);
    assert.equal(readFileSync(out).readUInt32LE(4), 3, 'the header compressed (format 3)');
    const header = readHeader(readFileSync(out));
    assert.deepEqual(Object.keys(header.meta).sort(), ['initSeed', 'kind', 'model']);
    assert.equal(readFileSync(out).length, j.fileBytes);
    const { model } = loadModel(out);
    assert.equal(model.getLayer('dense').weight('kernel').kind, 'codebook');
    model.dispose();
    const bad = await runCli('compress', file, '--method', 'soft-sharing', '--pi0', '1.5', '--out', out);
    assert.notEqual(bad.code, 0);
    assert.match(bad.err, /softWeightSharing: pi0 must be in \(0, 1\), got 1\.5/);
    const noEpochs = await runCli('compress', file, '--method', 'prune-schedule', '--prune', '0.5', '--out', out);
    assert.notEqual(noEpochs.code, 0);
    assert.match(noEpochs.err, /--method prune-schedule prunes while retraining: give --prune-finetune-epochs N/);
    const sparsity = await runCli('compress', file, '--method', 'prune-schedule', '--prune', '0.5', '--prune-finetune-epochs', '1', '--initial-sparsity', '1', '--out', out);
    assert.match(sparsity.err, /--initial-sparsity must be a fraction in \[0, 1\), got 1/);
    for (const [flag, v] of [['--prune', '1.2'], ['--conv-prune', '1']]) {
      const r = await runCli('compress', file, flag, v, '--out', out);
      assert.notEqual(r.code, 0);
      assert.match(r.err, new RegExp(`^weightshare compress: ${flag} must be a fraction in \\[0, 1\\), got ${v.replace('.', '\\.')}$`, 'm'));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('compress --method prune-schedule: gradual pruning while retraining, then clustering; the record names the method and schedule', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ws-methods-'));
  try {
    const file = saved(dir), out = join(dir, 'ps.wsm');
    const r = await runCli('compress', file, '--method', 'prune-schedule', '--prune', '0.8', '--prune-finetune-epochs', '2', '--prune-frequency', '2', '--clusters', '4',
      '--finetune-epochs', '0', '--test-limit', '200', '--out', out, '--json');
    assert.equal(r.code, 0, r.err);
    assert.match(r.err, /gradual pruning reached:\ndense\/kernel: 12,544 weights, 80\.0 % pruned/);
    // The masks tighten during the retraining: one result after it, named so (it was printed twice, as 'after pruning' and 'after retraining').
    assert.match(r.err, /^retraining while pruning gradually \(the masks tighten on a schedule\): 2 epochs/m);
    assert.match(r.err, /^after pruning while retraining: accuracy /m);
    assert.doesNotMatch(r.err, /masks fixed|after retraining/);
    const j = JSON.parse(r.out) as { settings: { method: string; pruneSchedule: { frequency: number } } };
    assert.deepEqual([j.settings.method, j.settings.pruneSchedule.frequency], ['prune-schedule', 2]);
    const { model, meta } = loadModel(out);
    assert.equal(meta.training?.compress?.method, 'prune-schedule');
    assert.equal(model.getLayer('dense').weight('kernel').stats().free, 4);
    model.dispose();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('compress --centroid-bits 16: centroids rounded to half precision at the end (accuracy printed after it), stored at 2 bytes, recorded; a file that loads and predicts as rounded', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ws-half-'));
  try {
    const file = saved(dir);
    const common = ['--clusters', '8', '--prune', '0.5', '--finetune-epochs', '1', '--test-limit', '200', '--json'];
    const r32 = await runCli('compress', file, ...common, '--out', join(dir, 'c32.wsm'));
    const r16 = await runCli('compress', file, ...common, '--centroid-bits', '16', '--out', join(dir, 'c16.wsm'));
    assert.equal(r16.code, 0, r16.err);
    assert.match(r16.err, /\ncentroids rounded to 16 bits \(2 codebooks, largest change \d\.\d\de-\d+\): accuracy \d+\.\d\d %, loss \d+\.\d{4}\n/);
    const [j32, j16] = [r32, r16].map((r) => JSON.parse(r.out) as { bits: { after: number }; fileBytes: number; settings: { centroidBits?: number } });
    assert.equal(j32.bits.after - j16.bits.after, 2 * 8 * 16, '16 bits fewer per centroid');
    assert.ok(j16.fileBytes < j32.fileBytes, `${j16.fileBytes} < ${j32.fileBytes} bytes`);
    assert.deepEqual([j32.settings.centroidBits, j16.settings.centroidBits], [undefined, 16]);
    const { model } = loadModel(join(dir, 'c16.wsm'));
    const centroids = model.namedParameters().filter((q) => q.name.endsWith('/centroids'));
    assert.equal(centroids.length, 2);
    for (const p of centroids) assert.ok(halfExact(p.param.value.f32()), `${p.name}: every centroid an exact half`);
    model.dispose();
    // --bias-bits 16: the plain biases rounded too, stored at 2 bytes each.
    const rb = await runCli('compress', file, ...common, '--centroid-bits', '16', '--bias-bits', '16', '--out', join(dir, 'b16.wsm'));
    assert.equal(rb.code, 0, rb.err);
    assert.match(rb.err, /\nbiases rounded to 16 bits \(2 biases, largest change \d\.\d\de-\d+\): accuracy \d+\.\d\d %, loss \d+\.\d{4}\n/);
    const jb = JSON.parse(rb.out) as { fileBytes: number; settings: { biasBits?: number } };
    assert.equal(jb.settings.biasBits, 16);
    assert.ok(jb.fileBytes < j16.fileBytes, `${jb.fileBytes} < ${j16.fileBytes} bytes`);
    const b16 = loadModel(join(dir, 'b16.wsm')).model;
    const biases = b16.namedParameters().filter((q) => q.name.endsWith('/bias'));
    assert.equal(biases.length, 2);
    for (const p of biases) assert.ok(halfExact(p.param.value.f32()), `${p.name}: every bias an exact half`);
    b16.dispose();
    const bad = await runCli('compress', file, '--centroid-bits', '8', '--out', join(dir, 'c8.wsm'));
    assert.equal(bad.code, 2);
    assert.match(bad.err, /--centroid-bits/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('compress --method variational-dropout: learned noise prunes (log α above the threshold), survivors clustered into pruned codebooks, recorded; bad options are one-line errors', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ws-svd-'));
  try {
    const file = saved(dir), out = join(dir, 'svd.wsm');
    const r = await runCli('compress', file, '--method', 'variational-dropout', '--epochs', '2', '--kl-weight', '20', '--clusters', '8', '--finetune-epochs', '1', '--test-limit', '200', '--out', out, '--json');
    assert.equal(r.code, 0, r.err);
    assert.match(r.err, /variational dropout over 12,704 kernel weights: KL weight 20, pruned where log α > 3\n/);
    const pruned = [...r.err.matchAll(/^(dense(?:_1)?\/kernel): [\d,]+ weights, (\d+\.\d) % pruned \(mean log α -?\d+\.\d\d\)$/gm)];
    assert.deepEqual(pruned.map((m) => m[1]), ['dense/kernel', 'dense_1/kernel'], r.err);
    assert.ok(Number(pruned[0][2]) > 5, `the KL term prunes: ${pruned[0][2]} % of the first kernel`);
    assert.match(r.err, /after pruning at log α > 3: accuracy \d+\.\d\d %/);
    assert.match(r.err, /after clustering: accuracy \d+\.\d\d %/);
    const j = JSON.parse(r.out) as { settings: { method: string; variationalDropout: { klWeight: number } }; sparsity: { pruned: number }[] };
    assert.deepEqual([j.settings.method, j.settings.variationalDropout.klWeight], ['variational-dropout', 20]);
    const { model } = loadModel(out);
    assert.deepEqual(model.weights().filter((w) => w.role === 'kernel').map((w) => [w.map.kind, Number(w.map.toJSON().prune) > 0]), [['codebook', true], ['codebook', true]]);
    model.dispose();
    // --prune-finetune-epochs: the survivors retrained with the masks fixed before clustering, recorded in the file.
    const rt = await runCli('compress', file, '--method', 'variational-dropout', '--epochs', '1', '--kl-weight', '20', '--prune-finetune-epochs', '1', '--prune-lr', '0.001',
      '--clusters', '8', '--finetune-epochs', '0', '--test-limit', '200', '--out', join(dir, 'svd-rt.wsm'), '--json');
    assert.equal(rt.code, 0, rt.err);
    assert.match(rt.err, /after pruning at log α > 3: [^\n]*\nretraining the surviving weights \(masks fixed\): 1 epochs on [\d,]+ samples, Adam lr 0\.001, batch \d+\n/);
    assert.match(rt.err, /after retraining: accuracy \d+\.\d\d %[^\n]*\n(?:dense[^\n]*\n)+after clustering/);
    const jt = JSON.parse(rt.out) as { settings: { pruneFinetuneEpochs: number; pruneLr: number }; masked: { accuracy: number } };
    assert.deepEqual([jt.settings.pruneFinetuneEpochs, jt.settings.pruneLr, typeof jt.masked.accuracy], [1, 0.001, 'number']);
    loadModel(join(dir, 'svd-rt.wsm')).model.dispose();
    const bad = await runCli('compress', file, '--method', 'variational-dropout', '--kl-weight', '-1', '--out', join(dir, 'x.wsm'));
    assert.equal(bad.code, 2);
    assert.match(bad.err, /--kl-weight/);
    // --layer-kl-weight / --layer-threshold: per-layer overrides, printed and recorded; unknown layers and bad values refused.
    const pl = await runCli('compress', file, '--method', 'variational-dropout', '--epochs', '1', '--kl-weight', '20', '--layer-kl-weight', 'dense_1=0',
      '--layer-threshold', 'dense=1000', '--clusters', '8', '--finetune-epochs', '0', '--test-limit', '200', '--out', join(dir, 'svd-pl.wsm'), '--json');
    assert.equal(pl.code, 0, pl.err);
    assert.match(pl.err, /KL weight 20 \(dense_1 0\), pruned where log α > 3 \(dense 1000\)\n/);
    assert.match(pl.err, /^dense\/kernel: [\d,]+ weights, 0\.0 % pruned/m);
    const jp = JSON.parse(pl.out) as { settings: { variationalDropout: { layerKlWeight: Record<string, number>; layerThreshold: Record<string, number> } } };
    assert.deepEqual([jp.settings.variationalDropout.layerKlWeight, jp.settings.variationalDropout.layerThreshold], [{ dense_1: 0 }, { dense: 1000 }]);
    loadModel(join(dir, 'svd-pl.wsm')).model.dispose();
    for (const [flag, value, want] of [['--layer-kl-weight', 'nope=1', /--layer-kl-weight: unknown layer 'nope'/], ['--layer-kl-weight', 'dense=-1', /--layer-kl-weight: expected layer=weight/], ['--layer-threshold', 'dense=', /--layer-threshold: expected layer=threshold/]] as const) {
      const e = await runCli('compress', file, '--method', 'variational-dropout', flag, value, '--out', join(dir, 'x.wsm'));
      assert.equal(e.code, 2, e.err);
      assert.match(e.err, want);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
