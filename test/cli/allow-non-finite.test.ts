// --allow-non-finite (issue 15): every command that reads a model refuses NaN/±Infinity weights by name unless given the flag (or WEIGHTSHARE_ALLOW_NON_FINITE=1).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildTokenizer } from '../../src/data/tokenizer.js';
import { writeIdx } from '../../src/data/idx.js';
import { saveModel } from '../../src/io/files.js';
import { createModel } from '../../src/nn/zoo.js';
import { createTextModel } from '../../src/nn/zoo-text.js';
import { compressSpec } from '../../src/cli/compress.js';
import { exportSpec } from '../../src/cli/export.js';
import { generateSpec } from '../../src/cli/generate.js';
import { importSpec } from '../../src/cli/import.js';
import { evalSpec, predictSpec, summarySpec } from '../../src/cli/inspect.js';
import { trainSpec } from '../../src/cli/train.js';
import { assertCliError, runCli } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'ws-nonfinite-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));
const tmp = (name: string): string => join(dir, name);
const REFUSED = /holds NaN at position 3 \(allowNonFinite: true in code, --allow-non-finite or WEIGHTSHARE_ALLOW_NON_FINITE=1 on the command line, accepts it\)$/;

/** An MLP whose last bias holds a NaN, saved with the training record of a 1-epoch run on 64 mnist-sample digits. */
function nanModel(path: string): string {
  const m = createModel('mlp').build(0);
  m.compile({ optimizer: 'adam', loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'] });
  const bias = m.getWeights().get('dense_2/bias')!;
  bias[3] = Number.NaN;
  m.setWeights({ 'dense_2/bias': bias });
  saveModel(path, m, { training: { epoch: 1, epochs: 1, batchSize: 32, seed: 0, dataset: 'mnist-sample', limit: 64, testLimit: 32, model: 'mlp', history: { epoch: [0], history: {} } } });
  return path;
}

/** A tiny char-lstm with its tokenizer, an embedding row holding NaN. */
function nanTextModel(path: string): string {
  const tokenizer = buildTokenizer('char', 'The quick brown fox jumps over the lazy dog');
  const m = createTextModel('char-lstm', { vocab: tokenizer.vocabSize, length: 8, embed: 4, hidden: 4 }).build(0);
  const e = m.getWeights().get('embedding/embeddings')!;
  e[3] = Number.NaN;
  m.setWeights({ 'embedding/embeddings': e });
  saveModel(path, m, { tokenizer });
  return path;
}

test('--allow-non-finite is in the --help of every command that reads a model', async () => {
  for (const spec of [evalSpec, predictSpec, summarySpec, compressSpec, exportSpec, generateSpec, importSpec, trainSpec]) {
    assert.ok('allow-non-finite' in spec.flags, spec.name);
    const r = await runCli(spec.name, '--help');
    assert.match(r.out, /--\[no-\]allow-non-finite\s+Accept weights holding NaN or ±Infinity/, spec.name);
  }
});

test('each command refuses a model file with a NaN weight by name, and reads it with --allow-non-finite or WEIGHTSHARE_ALLOW_NON_FINITE=1', async () => {
  const file = nanModel(tmp('nan.wsm'));
  const text = nanTextModel(tmp('nan-lm.wsm'));
  const images = tmp('images-idx3-ubyte');
  writeFileSync(images, writeIdx({ shape: [2, 28, 28], dtype: 'uint8', data: new Uint8Array(2 * 784) }));
  const commands: [string, string[], string][] = [
    ['eval', ['eval', file, '--test-limit', '32'], 'dense_2/bias'],
    ['predict', ['predict', file, images], 'dense_2/bias'],
    ['summary', ['summary', file], 'dense_2/bias'],
    ['export', ['export', file, '--out', tmp('nan.onnx')], 'dense_2/bias'],
    ['compress', ['compress', file, '--finetune-epochs', '0', '--out', tmp('nan-c.wsm')], 'dense_2/bias'],
    ['generate', ['generate', text, '--length', '3'], 'embedding/embeddings'],
  ];
  for (const [name, argv, weight] of commands) {
    assertCliError(await runCli(...argv), new RegExp(`nan(-lm)?\\.wsm: weight '${weight}' ${REFUSED.source}`));
    const r = await runCli(...argv, '--allow-non-finite');
    assert.equal(r.code, 0, `${name} --allow-non-finite: ${r.err}`);
  }
  assert.match((await runCli('predict', file, images, '--allow-non-finite', '--json')).out, /"probability": null/, 'the NaN shows in the output');
  const before = process.env.WEIGHTSHARE_ALLOW_NON_FINITE;
  process.env.WEIGHTSHARE_ALLOW_NON_FINITE = '1';
  try {
    for (const [name, argv] of commands) assert.equal((await runCli(...argv)).code, 0, `${name} with WEIGHTSHARE_ALLOW_NON_FINITE=1`);
  } finally {
    if (before === undefined) delete process.env.WEIGHTSHARE_ALLOW_NON_FINITE;
    else process.env.WEIGHTSHARE_ALLOW_NON_FINITE = before;
  }
});

test('train --resume: refused by name; with --allow-non-finite it resumes and stops at the NaN loss (exit 3)', async () => {
  const file = nanModel(tmp('resume.wsm'));
  assertCliError(await runCli('train', '--resume', file, '--epochs', '2'), new RegExp(`resume\\.wsm: weight 'dense_2/bias' ${REFUSED.source}`));
  const r = await runCli('train', '--resume', file, '--epochs', '2', '--allow-non-finite');
  assert.equal(r.code, 3, r.err);
  assert.match(r.err, /^Resuming mlp .* from epoch 2\n/);
  assert.match(r.err, /training stopped: loss became NaN at epoch 2/);
});

test('import: an ONNX file or TF.js model with a NaN weight is refused unless --allow-non-finite, and nothing is written', async () => {
  const file = nanModel(tmp('src.wsm'));
  assert.equal((await runCli('export', file, '--out', tmp('src.onnx'), '--allow-non-finite')).code, 0);
  assert.equal((await runCli('export', file, '--format', 'tfjs', '--out', tmp('src-tfjs'), '--allow-non-finite')).code, 0);
  for (const input of [tmp('src.onnx'), join(tmp('src-tfjs'), 'model.json')]) {
    const out = tmp('imported.wsm');
    assertCliError(await runCli('import', input, '--out', out), new RegExp(`${input.replace(/[.]/g, '\\.')}: weight 'dense_2/bias' ${REFUSED.source}`));
    assert.ok(!existsSync(out) && !existsSync(`${out}.lock`), 'nothing written');
    const r = await runCli('import', input, '--out', out, '--allow-non-finite');
    assert.equal(r.code, 0, r.err);
    assert.equal((await runCli('eval', out, '--test-limit', '16', '--allow-non-finite', '--json')).code, 0, 'the imported file keeps its NaN');
    rmSync(out);
  }
});
