// The CLI on text: train a character LM on sotu, resume it exactly, evaluate, generate; a text classifier on spam-assassin; usage errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadModel } from '../../src/io/files.js';
import { main } from '../../src/cli/main.js';
import { assertResumeExact, runCli as run } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'ws-cli-text-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));
const tmp = (name: string): string => join(dir, name);


const SMALL = ['--embed', '16', '--hidden', '32', '--bptt', '16', '--limit', '64', '--test-limit', '32', '--batch-size', '16', '--threads', '2'];

test('train --model char-lstm on sotu: bits per character each epoch on the validation split, the tokenizer in the file; eval agrees', async () => {
  const out = tmp('char.wsm');
  const r = await run('train', '--model', 'char-lstm', '--epochs', '2', ...SMALL, '--out', out, '--json');
  assert.equal(r.code, 0, r.err);
  assert.match(r.err, /Training char-lstm \([\d,]+ parameters\) on sotu: 64 training samples/);
  assert.match(r.err, /Epoch 2\/2 .* - bits_per_char: [\d.]+ - val_bits_per_char: [\d.]+/);
  assert.match(r.err, /Weight sharing: lstm uses one set of [\d,]+ weights at all 16 time steps/);
  const j = JSON.parse(r.out);
  assert.ok(j.history.bits_per_char[1] < j.history.bits_per_char[0], 'bits per character fall over the two epochs');
  assert.ok(Math.abs(j.test.bits_per_char - j.test.loss / Math.LN2) < 1e-4);
  const { tokenizer, meta } = loadModel(out);
  assert.equal(tokenizer?.kind, 'char');
  assert.deepEqual(meta.training?.text, { task: 'language-model', level: 'char', bptt: 16 });
  const e = await run('eval', out, '--test-limit', '32', '--json');
  assert.equal(e.code, 0, e.err);
  assert.ok(Math.abs(JSON.parse(e.out).bits_per_char - j.test.bits_per_char) < 1e-6);
});

test('--early-stopping on a text dataset watches its own validation split (no --validation-split needed)', async () => {
  const out = tmp('char-es.wsm');
  const r = await run('train', '--model', 'char-lstm', '--epochs', '4', ...SMALL, '--early-stopping', '1', '--restore-best', '--out', out, '--json');
  assert.equal(r.code, 0, r.err);
  const j = JSON.parse(r.out) as { history: { val_loss: number[] }; earlyStopping: { bestEpoch: number; best: number } };
  assert.ok(j.history.val_loss.length >= 2 && j.history.val_loss.length <= 4);
  assert.equal(j.earlyStopping.best, Math.min(...j.history.val_loss));
  assert.equal(j.earlyStopping.bestEpoch, j.history.val_loss.indexOf(j.earlyStopping.best) + 1);
});

test('a text run interrupted after epoch 1 resumes to the same weights as one uninterrupted run', async () => {
  await assertResumeExact(['--model', 'char-gru', ...SMALL, '--dropout', '0.1'], tmp('whole.wsm'), tmp('part.wsm'));
});

test('generate: deterministic for a seed, different for another, the prompt kept, unknown characters warned about', async () => {
  const out = tmp('char.wsm');
  const a = await run('generate', out, '--prompt', 'The Congress', '--length', '40', '--seed', '1');
  const b = await run('generate', out, '--prompt', 'The Congress', '--length', '40', '--seed', '1');
  const c = await run('generate', out, '--prompt', 'The Congress', '--length', '40', '--seed', '2');
  assert.equal(a.code, 0, a.err);
  assert.equal(a.out, b.out);
  assert.notEqual(a.out, c.out);
  assert.ok(a.out.startsWith('The Congress'));
  assert.equal([...a.out.trimEnd()].length, 'The Congress'.length + 40);
  const u = await run('generate', out, '--prompt', 'Hello 🦄', '--length', '5');
  assert.equal(u.code, 0, u.err);
  assert.match(u.err, /warning: the prompt has 1 character outside the vocabulary, read as <unk>: "🦄"/);
  // Once the output's reader has gone (`generate … | head -c 20`: the stream is `errored`), generation stops quietly.
  let written = '', errText = '';
  const closing = { write: (s: string) => (written += s), get errored() { return written.length > 20 ? new Error('EPIPE') : null; } };
  const t0 = performance.now();
  const code = await main(['generate', out, '--prompt', 'The', '--length', '10000000'], { out: closing, err: { write: (s: string) => (errText += s) } });
  assert.equal(code, 0, errText);
  assert.ok(performance.now() - t0 < 20_000, 'stopped long before 10 million characters');
  assert.ok([...written].length < 100, `stopped at the first flush that failed: ${written.length} characters written`);
  assert.equal(errText, '', 'and says nothing (stderr may be gone too)');
});

test('word-lstm --tied: one table for input and output (parameters counted once), in the summary', async () => {
  const out = tmp('word.wsm');
  const r = await run('train', '--model', 'word-lstm', '--tied', '--embed', '24', '--hidden', '24', '--max-vocab', '500', '--bptt', '12', '--limit', '48', '--test-limit', '16', '--epochs', '1', '--out', out, '--json');
  assert.equal(r.code, 0, r.err);
  const j = JSON.parse(r.out);
  // embedding 500·24, LSTM 4·(24·24 + 24·24 + 24), decoder bias 500 (its kernel is the table).
  assert.equal(j.parameters, 500 * 24 + 4 * (24 * 24 + 24 * 24 + 24) + 500);
  assert.ok(Number.isFinite(j.test.perplexity));
  const s = await run('summary', out);
  assert.match(s.out, /decoder\/kernel = embedding\/embeddings transposed/);
  // The text written as it comes is the whole continuation (word spacing and quotes included), as --json gives it.
  const streamed = await run('generate', out, '--prompt', 'the', '--length', '300', '--seed', '2');
  const whole = JSON.parse((await run('generate', out, '--prompt', 'the', '--length', '300', '--seed', '2', '--json')).out) as { continuation: string };
  assert.equal(streamed.code, 0, streamed.err);
  assert.equal(streamed.out.replace(/^the ?/, '').trimEnd(), whole.continuation.trimEnd());
  // A prompt ending in a space is not joined by a second one.
  const spaced = await run('generate', out, '--prompt', 'the ', '--length', '5', '--seed', '2');
  assert.ok(spaced.out.startsWith('the ') && !spaced.out.startsWith('the  '), JSON.stringify(spaced.out));
});

test('a warm-up as long as the run is warned about (the rate would never reach --lr)', async () => {
  const r = await run('train', '--model', 'char-lstm', '--epochs', '1', ...SMALL, '--lr-schedule', 'cosine', '--warmup-steps', '100', '--out', tmp('warm.wsm'));
  assert.equal(r.code, 0, r.err);
  assert.match(r.err, /^warning: --warmup-steps 100 is not shorter than the run's 4 updates: the learning rate never reaches --lr/m);
});

test('a cosine run resumed with more --epochs decays over the new length (it trained at rate 0 after the old end); --lr sets the warm-up\'s target', async () => {
  const file = tmp('cosine.wsm');
  assert.equal((await run('train', '--model', 'char-lstm', '--epochs', '1', ...SMALL, '--lr-schedule', 'cosine', '--warmup-steps', '2', '--out', file)).code, 0);
  const before = loadModel(file).model.optimizer!.toJSON();
  assert.deepEqual(before.schedule, { name: 'cosine_decay', decaySteps: 2, alpha: 0, warmupSteps: 2, warmupTarget: 0.001 });
  const r = await run('train', '--resume', file, '--epochs', '3', '--lr', '0.01', '--json');
  assert.equal(r.code, 0, r.err);
  assert.match(r.err, /^note: --epochs 3: the cosine schedule now decays over 10 updates \(was 2\), so the learning rate at update 5 is 0\.00\d+ \(was 0\)$/m);
  assert.match(r.err, /adam lr 0\.01 \(linear warm-up over 2 updates, then cosine decay over 10\)/);
  const { model, meta } = loadModel(file);
  assert.deepEqual(model.optimizer!.toJSON().schedule, { name: 'cosine_decay', decaySteps: 10, alpha: 0, warmupSteps: 2, warmupTarget: 0.01 });
  const loss = (JSON.parse(r.out) as { history: { loss: number[] } }).history.loss;
  assert.equal(loss.length, 3);
  assert.ok(loss[2] < loss[1] && loss[1] < loss[0], `the resumed epochs train: ${loss.join(', ')}`);
  assert.equal(meta.training!.epoch, 3);
});

test('--tied with --sharing: a whole-model scheme leaves the tie; one naming the tied kernel is refused (it follows the table)', async () => {
  const tied = ['--model', 'char-lstm', '--tied', '--embed', '16', '--hidden', '16', '--bptt', '12', '--limit', '32', '--test-limit', '16', '--epochs', '1'];
  const whole = await run('train', ...tied, '--sharing', 'lowRank:2', '--out', tmp('tied-lr.wsm'));
  assert.equal(whole.code, 0, whole.err);
  assert.match((await run('summary', tmp('tied-lr.wsm'))).out, /decoder\/kernel = embedding\/embeddings transposed/);
  const named = await run('train', ...tied, '--sharing', 'decoder=lowRank:2', '--out', tmp('tied-bad.wsm'));
  assert.equal(named.code, 2);
  assert.match(named.err, /--sharing decoder=lowRank:2: decoder\/kernel is tied to embedding\/embeddings \(--tied\).*--sharing embedding=lowRank:2/);
  // A scheme's bad option is a usage mistake too (exit 2, naming --sharing; it exited 1 with the map's message alone).
  const rank = await run('train', ...tied, '--sharing', 'embedding=lowRank:99', '--out', tmp('tied-rank.wsm'));
  assert.equal(rank.code, 2, rank.err);
  assert.match(rank.err, /^weightshare train: --sharing embedding=lowRank:99: layer 'embedding' embeddings, scheme 'lowRank': rank must be an integer in \[1, 16\]/m);
});

test('text-gru on spam-assassin: a classifier with accuracy', async () => {
  const r = await run('train', '--model', 'text-gru', '--epochs', '1', '--max-len', '24', '--max-vocab', '300', '--limit', '64', '--test-limit', '32', '--out', tmp('spam.wsm'), '--json');
  assert.equal(r.code, 0, r.err);
  const j = JSON.parse(r.out);
  assert.equal(j.dataset, 'spam-assassin');
  assert.ok(j.test.accuracy >= 0 && j.test.accuracy <= 1);
  const wrong = await run('eval', tmp('spam.wsm'), '--dataset', 'sotu');
  assert.equal(wrong.code, 1);
  assert.match(wrong.err, /spam\.wsm: is a text classifier and 'sotu' is running text; evaluate it on labelled texts \(--dataset spam-assassin\)/);
  const confusion = await run('eval', tmp('spam.wsm'), '--confusion');
  assert.equal(confusion.code, 0, confusion.err);
  assert.match(confusion.out, /^0 ham +\d+ +\d+ .*\n1 spam +\d+ +\d+ /m, 'rows named by class');
});

test('a user’s own text file trains a language model (--dataset text --data FILE)', async () => {
  const file = tmp('book.txt');
  writeFileSync(file, Array.from({ length: 200 }, (_, i) => `Line ${i}: the quick brown fox jumps over the lazy dog.`).join('\n'));
  const r = await run('train', '--model', 'char-lstm', '--dataset', 'text', '--data', file, '--epochs', '1', ...SMALL, '--out', tmp('book.wsm'));
  assert.equal(r.code, 0, r.err);
  assert.match(r.err, /on .*book\.txt: 64 training samples/);
  // Shipped (no training record: the text settings come from the model's shapes and tokenizer), it is still scored on
  // the same data, and compress reads that data too; without --dataset it is scored on sotu, saying so.
  const shipped = tmp('book-ship.wsm');
  const c = await run('compress', tmp('book.wsm'), '--dataset', 'text', '--data', file, '--clusters', '8', '--finetune-epochs', '0', '--threads', '2', '--ship', '--out', shipped);
  assert.equal(c.code, 0, c.err);
  const [e1, e2] = [await run('eval', tmp('book.wsm'), '--json'), await run('eval', shipped, '--dataset', 'text', '--data', file, '--json')];
  assert.equal(e2.code, 0, e2.err);
  const [j1, j2] = [JSON.parse(e1.out), JSON.parse(e2.out)];
  assert.equal(j2.samples, j1.samples);
  assert.ok(Number.isFinite(j2.bits_per_char) && Math.abs(j2.bits_per_char - j1.bits_per_char) < 0.5, `${j2.bits_per_char} vs ${j1.bits_per_char}`);
  const e3 = await run('eval', shipped, '--test-limit', '20');
  assert.equal(e3.code, 0, e3.err);
  assert.match(e3.out, /^sotu test set \(20 samples of 16 tokens\): loss [\d.]+ - bits_per_char [\d.]+/);
  // On other text than its own, the share of it outside the vocabulary is noted; on its own data, nothing.
  assert.match(e3.err, /^note: [\d.]+ % of the test tokens are <unk> \(outside the model's \d+-token vocabulary, which was built on other text\)/m);
  assert.doesNotMatch(e1.err, /<unk>/);
  const confusion = await run('eval', tmp('book.wsm'), '--confusion');
  assert.equal(confusion.code, 2, 'a usage mistake');
  assert.match(confusion.err, /^weightshare eval: --confusion is for classifiers \(one label per sample\); .*book\.wsm predicts a label per position .*\nRun 'weightshare eval --help' for usage\.$/m);
  const again = await run('compress', shipped, '--method', 'soft-sharing', '--dataset', 'text', '--data', file, '--epochs', '1', '--components', '4', '--threads', '2', '--out', tmp('book-ship-2.wsm'));
  assert.notEqual(again.code, 0, 'a clustered model has no plain kernel left');
  assert.match(again.err, /no kernel to compress/, 'the data were read (was: not a text model trained by `weightshare train`)');
  // Compressed, then trained on: the file keeps its metric (compress compiled it with accuracy instead), the resumed
  // run reports it, and the summary's last epoch names the text file.
  assert.equal((await run('compress', tmp('book.wsm'), '--clusters', '8', '--finetune-epochs', '1', '--threads', '2', '--out', tmp('book-c.wsm'))).code, 0);
  assert.match((await run('summary', tmp('book-c.wsm'))).out, /^Compiled: adam \(lr 0\.0001\), loss sparse_categorical_crossentropy, metrics bits_per_char$/m);
  const resumed = await run('train', '--resume', tmp('book-c.wsm'), '--epochs', '2');
  assert.equal(resumed.code, 0, resumed.err);
  assert.match(resumed.err, /^Epoch 2\/2 .* - bits_per_char: [\d.]+ - val_bits_per_char: [\d.]+$/m);
  const trained = (await run('summary', tmp('book-c.wsm'))).out.split('\n').find((l) => l.startsWith('Trained:'))!;
  assert.match(trained, /^Trained: 2\/2 epochs on .*book\.txt, .*; last epoch: loss \d\.\d{4}, bits_per_char \d\.\d{4}$/);
  // Through ONNX the vocabulary is lost: import and eval say so (eval read mnist-sample and blamed its shape).
  assert.equal((await run('export', tmp('book.wsm'), '--out', tmp('book.onnx'))).code, 0);
  const imp = await run('import', tmp('book.onnx'), '--out', tmp('book-onnx.wsm'));
  assert.equal(imp.code, 0, imp.err);
  assert.match(imp.err, /no dataset \(token ids in: ONNX keeps no vocabulary/);
  // And through TF.js, named as such (it said ONNX).
  assert.equal((await run('export', tmp('book.wsm'), '--format', 'tfjs', '--out', tmp('book-tfjs'))).code, 0);
  const tf = await run('import', join(tmp('book-tfjs'), 'model.json'), '--out', tmp('book-tfjs.wsm'));
  assert.equal(tf.code, 0, tf.err);
  assert.match(tf.err, /no dataset \(token ids in: a TF\.js model keeps no vocabulary/);
  const ev = await run('eval', tmp('book-onnx.wsm'));
  assert.notEqual(ev.code, 0);
  assert.match(ev.err, /book-onnx\.wsm: takes token ids but holds no tokenizer \(imported from ONNX, or saved from code\), so it cannot be evaluated on a dataset/);
});

test('--data: a text model given a file trains on it; never ignored by a built-in dataset; never overwritten by --out; a moved file found again on --resume', async () => {
  const file = tmp('corpus.txt');
  const text = Array.from({ length: 200 }, (_, i) => `Entry ${i}: a brown fox and a lazy dog.`).join('\n');
  writeFileSync(file, text);
  const implicit = await run('train', '--model', 'char-lstm', '--data', file, '--epochs', '1', ...SMALL, '--out', tmp('implicit.wsm'));
  assert.equal(implicit.code, 0, implicit.err);
  assert.match(implicit.err, /on .*corpus\.txt: 64 training samples/);
  for (const argv of [['train', '--model', 'char-lstm', '--dataset', 'sotu', '--data', file], ['train', '--model', 'mlp', '--data', file], ['eval', tmp('implicit.wsm'), '--dataset', 'sotu', '--data', file]]) {
    const r = await run(...argv);
    assert.equal(r.code, 2, argv.join(' '));
    assert.match(r.err, /--data .*corpus\.txt: --dataset (sotu|mnist-sample) is built in and reads no --data/);
  }
  const over = await run('train', '--model', 'char-lstm', '--dataset', 'text', '--data', file, ...SMALL, '--out', file);
  assert.equal(over.code, 2);
  assert.match(over.err, /--out .*corpus\.txt is the --data file/);
  assert.equal(readFileSync(file, 'utf8'), text, 'the corpus is untouched');
  // The run records its data's absolute path; once the file moves, --resume says so and takes --data.
  const moved = tmp('corpus-moved.txt');
  renameSync(file, moved);
  const lost = await run('train', '--resume', tmp('implicit.wsm'), '--epochs', '2');
  assert.equal(lost.code, 1);
  assert.match(lost.err, /implicit\.wsm: the run's data .*corpus\.txt is not there .*give its place with --data/);
  const found = await run('train', '--resume', tmp('implicit.wsm'), '--epochs', '2', '--data', moved);
  assert.equal(found.code, 0, found.err);
  assert.match(found.err, /Epoch 2\/2/);
  assert.doesNotMatch(found.err, /warning/, 'moved, not changed: no warning');
});

test('data changed since training is warned about by --resume, eval and compress (the model file records its fingerprint)', async () => {
  const file = tmp('changing.txt');
  writeFileSync(file, Array.from({ length: 200 }, (_, i) => `Item ${i}: a brown fox and a lazy dog.`).join('\n'));
  const model = tmp('changing.wsm');
  assert.equal((await run('train', '--model', 'char-lstm', '--data', file, '--epochs', '1', ...SMALL, '--out', model)).code, 0);
  const same = await run('eval', model);
  assert.equal(same.code, 0, same.err);
  assert.doesNotMatch(same.err, /warning/);
  writeFileSync(file, Array.from({ length: 200 }, (_, i) => `Item ${i}: a brown cat and a lazy dog.`).join('\n'));
  const warned = /^warning: .*changing\.txt changed since the model was trained on it \(fingerprint [0-9a-f]{16}, now [0-9a-f]{16}\): /m;
  const scored = await run('eval', model);
  assert.equal(scored.code, 0, scored.err);
  assert.match(scored.err, warned);
  assert.match(scored.err, /the scores are not on the data/);
  const resumed = await run('train', '--resume', model, '--epochs', '2');
  assert.equal(resumed.code, 0, resumed.err);
  assert.match(resumed.err, /the resumed run will not continue the one it began/);
  // A file turned into a folder (or emptied) gets its own error, without the "changed" warning before it.
  rmSync(file);
  mkdirSync(file);
  const folder = await run('eval', model);
  assert.equal(folder.code, 1);
  assert.doesNotMatch(folder.err, /warning/);
  assert.match(folder.err, /changing\.txt: is a directory/);
  rmSync(file, { recursive: true });
  writeFileSync(file, Array.from({ length: 200 }, (_, i) => `Item ${i}: a brown cat and a lazy dog.`).join('\n'));
  const compressed = await run('compress', model, '--clusters', '8', '--finetune-epochs', '1', '--limit', '32', '--test-limit', '32', '--out', tmp('changing-c.wsm'));
  assert.equal(compressed.code, 0, compressed.err);
  assert.match(compressed.err, warned, compressed.err);
});

test('text usage errors are one line and name the problem', async () => {
  const cases: [string[], RegExp][] = [
    [['train', '--model', 'word-lstm', '--tied', '--embed', '16', '--hidden', '32', '--limit', '10'], /embed = hidden.*embed 16, hidden 32/],
    [['train', '--model', 'seed-cnn', '--dataset', 'sotu'], /--dataset sotu is text: train a text model/],
    [['train', '--model', 'mlp', '--bptt', '8'], /--bptt is for text models/],
    [['train', '--model', 'text-gru', '--dataset', 'sotu', '--limit', '10'], /classifier needs labelled texts/],
    [['train', '--model', 'char-lstm', '--dataset', 'spam-assassin', '--limit', '10'], /classification set/],
    [['train', '--model', 'char-lstm', '--dataset', 'text'], /give it with --data FILE/],
    [['train', '--model', 'text-gru', '--bptt', '8'], /--bptt is for language models/],
    [['train', '--lr', '0'], /^weightshare train: --lr must be greater than 0, got 0$/],
    [['train', '--model', 'char-lstm', '--clipnorm', '3.5e38'], /--clipnorm must be at most 3\.4e\+38, got 3\.5e\+38/],
  ];
  for (const [argv, re] of cases) {
    const r = await run(...argv);
    assert.notEqual(r.code, 0, argv.join(' '));
    const l = r.err.split('\n').filter((x) => x.trim());
    assert.match(l[0], re, argv.join(' '));
    assert.doesNotMatch(r.err, /^\s+at /m);
  }
  const img = await run('generate', tmp('char.wsm').replace('char', 'nonexistent'));
  assert.equal(img.code, 1);
});
