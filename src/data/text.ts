// Text as datasets (browser-safe): fixed train/valid/test splits of documents, token streams cut into next-token windows, padded classification sequences.
import { DataError } from './data-error.js';
import { checkDataset, type Dataset } from './dataset.js';
import { buildTokenizer, countChars, countWords, EOS_ID, PAD_ID, UNK_ID, type Tokenizer, type TokenizerLevel } from './tokenizer.js';

/** Split names of a text corpus, in order. */
export const TEXT_SPLITS = ['train', 'valid', 'test'] as const;
export type TextSplit = (typeof TEXT_SPLITS)[number];

/** Documents (addresses, paragraphs, a file's part) of each split, in a fixed order. */
export interface TextCorpus {
  name: string;
  train: string[];
  valid: string[];
  test: string[];
}

/** Texts and their class labels (int32 in [0, classNames.length)). */
export interface LabeledTexts {
  texts: string[];
  labels: Int32Array;
}

/** A classification corpus: labelled texts of each split, class i named classNames[i]. */
export interface LabeledTextCorpus {
  name: string;
  classNames: string[];
  train: LabeledTexts;
  valid: LabeledTexts;
  test: LabeledTexts;
}

/** What joins documents in a character stream (each document is followed by it); at word level `<eos>` does. */
export const CHAR_DOC_SEPARATOR = '\n\n';

/** The split of item k under the tenths rule: k % 10 = 8 → valid, 9 → test, else train (80 / 10 / 10). */
export function tenthsSplit(k: number): TextSplit {
  const r = k % 10;
  return r === 8 ? 'valid' : r === 9 ? 'test' : 'train';
}

/**
 * Splits items by position (item i goes to `tenthsSplit(i)`), keeping their order: with items sorted by date,
 * every era lands in every split.
 */
export function splitByPosition<T>(items: readonly T[]): Record<TextSplit, T[]> {
  const out: Record<TextSplit, T[]> = { train: [], valid: [], test: [] };
  items.forEach((it, i) => out[tenthsSplit(i)].push(it));
  return out;
}

/** 32-bit FNV-1a hash of a string's UTF-16 code units: a fixed, platform-independent key for hash splits. */
export function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** Splits items by a hash of a key (`tenthsSplit(fnv1a(key(item)))`), keeping their order: equal keys share a split. */
export function splitByHash<T>(items: readonly T[], key: (item: T) => string): Record<TextSplit, T[]> {
  const out: Record<TextSplit, T[]> = { train: [], valid: [], test: [] };
  for (const it of items) out[tenthsSplit(fnv1a(key(it)))].push(it);
  return out;
}

/**
 * Splits one text (a user's file) into three contiguous parts, train ≈ the first 80 % of its characters, valid the
 * next 10 %, test the last 10 % (as char-rnn and nanoGPT hold out the end of a file). Each cut moves forward from its
 * mark (80 % or 90 % of the length, in UTF-16 code units) to the first start of a line at or after it, if one comes
 * before the next mark; else to the first character after white space; else it stays at the mark. Each part is
 * trimmed and is one document. Throws DataError naming `name` when a part would hold no text.
 */
export function splitTextFile(name: string, text: string): TextCorpus {
  const n = text.length;
  const cut = (from: number, to: number): number => {
    const nl = text.indexOf('\n', from - 1);
    if (nl >= 0 && nl < to - 1) return nl + 1;
    for (let i = from - 1; i < to - 1; i++) if (i >= 0 && /\s/.test(text[i])) return i + 1;
    // No white space: cut at `from`, but never between the two halves of a character outside the BMP (an emoji).
    const low = text.charCodeAt(from);
    return low >= 0xdc00 && low <= 0xdfff && from > 0 && (text.charCodeAt(from - 1) & 0xfc00) === 0xd800 ? from + 1 : from;
  };
  const a = cut(Math.floor(0.8 * n), Math.floor(0.9 * n)), b = cut(Math.max(a, Math.floor(0.9 * n)), n);
  const parts = [text.slice(0, a), text.slice(a, b), text.slice(b)].map((p) => p.trim());
  parts.forEach((p, i) => {
    if (p.length === 0) throw new DataError(name, `too short to split into train / valid / test (${countChars(text)} characters; the ${TEXT_SPLITS[i]} part, ${['0–80', '80–90', '90–100'][i]} %, holds no text)`);
  });
  return { name, train: [parts[0]], valid: [parts[1]], test: [parts[2]] };
}

/**
 * Decodes a text file's bytes as UTF-8 (a byte-order mark is dropped) and normalises line breaks (\r\n, \r → \n).
 * Throws DataError naming `file` when it is empty or only white space, holds a NUL byte (a binary file) or is not
 * valid UTF-8 (naming the byte offset).
 */
export function decodeTextFile(bytes: Uint8Array, file: string): string {
  if (bytes.length === 0) throw new DataError(file, 'is empty: expected UTF-8 text');
  const nul = bytes.indexOf(0);
  if (nul >= 0) throw new DataError(file, `is not text: NUL byte at offset ${nul} (a binary file?); expected UTF-8 text`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    const at = firstInvalidUtf8(bytes);
    throw new DataError(file, `is not UTF-8 text: invalid byte 0x${bytes[at].toString(16).padStart(2, '0')} at offset ${at}`);
  }
  text = normalizeLineBreaks(text);
  if (text.trim().length === 0) throw new DataError(file, `holds no text (${bytes.length} bytes of white space)`);
  return text;
}

/** \r\n and lone \r become \n. */
export function normalizeLineBreaks(text: string): string {
  return text.includes('\r') ? text.replace(/\r\n?/g, '\n') : text;
}

/** Offset of the first byte that does not start a valid UTF-8 sequence (bytes.length when all are valid). */
export function firstInvalidUtf8(bytes: Uint8Array): number {
  for (let i = 0; i < bytes.length; ) {
    const b = bytes[i];
    const len = b < 0x80 ? 1 : b >= 0xc2 && b <= 0xdf ? 2 : b >= 0xe0 && b <= 0xef ? 3 : b >= 0xf0 && b <= 0xf4 ? 4 : 0;
    if (len === 0 || i + len > bytes.length) return i;
    // Second-byte ranges that exclude overlong forms, surrogates and code points above U+10FFFF.
    const lo = b === 0xe0 ? 0xa0 : b === 0xf0 ? 0x90 : 0x80, hi = b === 0xed ? 0x9f : b === 0xf4 ? 0x8f : 0xbf;
    for (let k = 1; k < len; k++) {
      const c = bytes[i + k];
      if (k === 1 ? c < lo || c > hi : (c & 0xc0) !== 0x80) return i;
    }
    i += len;
  }
  return bytes.length;
}

/**
 * An e-mail's body: its text after the header, which ends at the first blank line (RFC 5322), trimmed; empty when
 * there is no blank line. MIME parts, quoted-printable, base64 and HTML are left as they are. Expects \n line breaks.
 */
export function mailBody(mail: string): string {
  const end = mail.indexOf('\n\n');
  return end < 0 ? '' : mail.slice(end + 2).trim();
}

/** Counts of one split of a text dataset. */
export interface TextSplitStats {
  /** Documents (addresses, e-mails, file parts). */
  documents: number;
  /** Unicode characters of the documents (separators not counted). */
  characters: number;
  /** Words of the documents as the word tokenizer sees them (`countWords`: punctuation not counted). */
  words: number;
  /** Tokens at the dataset's level: the stream's length (separators included), or all of the texts' tokens before `maxLen` cuts them. */
  tokens: number;
  /** How many of those tokens are `<unk>`. */
  unknown: number;
  /** Samples: windows of `bptt` tokens, or texts. */
  samples: number;
  /** Samples per class (classification only). */
  perClass?: number[];
}

/** What `textDataset` and `classificationDataset` report beside the dataset. */
export interface TextStats {
  level: TokenizerLevel;
  vocabSize: number;
  train: TextSplitStats;
  valid: TextSplitStats;
  test: TextSplitStats;
}

/** Options shared by both kinds of text dataset. */
export interface TextTokenOptions {
  /** Token level; default 'char' for language modelling, 'word' for classification. Ignored when `tokenizer` is given. */
  level?: TokenizerLevel;
  /** Vocabulary cap, reserved tokens included (see `TokenizerOptions.maxVocab`). */
  maxVocab?: number;
  /** Use this tokenizer (e.g. the one stored in a model file) instead of building one from the training split. */
  tokenizer?: Tokenizer;
}

/** Options of `languageModelDataset`. */
export interface LanguageModelOptions extends TextTokenOptions {
  /** Tokens per window (backpropagation through time); default 64. */
  bptt?: number;
}

/** A text dataset, its tokenizer and its counts. */
export interface TextDataset {
  dataset: Dataset<Int32Array, Int32Array> & { classes: number };
  tokenizer: Tokenizer;
  stats: TextStats;
}

/**
 * The token stream of documents: each document's tokens followed by a separator — the characters
 * `CHAR_DOC_SEPARATOR` (\n\n) at char level, `<eos>` at word level (where every line break inside a document is
 * an `<eos>` too).
 */
export function tokenStream(docs: readonly string[], tokenizer: Tokenizer): Int32Array {
  if (tokenizer.kind === 'char') return tokenizer.encode(docs.map((d) => d + CHAR_DOC_SEPARATOR).join(''));
  const parts = docs.map((d) => tokenizer.encode(d));
  const out = new Int32Array(parts.reduce((n, p) => n + p.length + 1, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
    out[at++] = EOS_ID;
  }
  return out;
}

/**
 * Next-token windows of a stream: M = ⌊(L − 1) / bptt⌋ non-overlapping windows, inputs x[i] = stream[i·bptt, i·bptt
 * + bptt) and targets y[i] = stream[i·bptt + 1, i·bptt + bptt + 1) (int32 [M, bptt] each, row-major). Both are views of
 * `stream` (no copies); the last L − 1 − M·bptt tokens are dropped. Throws DataError naming `what` when bptt is not
 * a positive integer or the stream is too short for one window.
 */
export function nextTokenWindows(stream: Int32Array, bptt: number, what = 'stream'): { x: Int32Array; y: Int32Array } {
  if (!(Number.isInteger(bptt) && bptt >= 1)) throw new DataError(what, `bptt must be a positive integer, found ${bptt}`);
  const m = Math.floor((stream.length - 1) / bptt);
  if (m < 1) throw new DataError(what, `a window of ${bptt} tokens is too long: the stream has ${stream.length} tokens, and one window needs ${bptt} + 1 = ${bptt + 1} (its tokens and the next)`);
  return { x: stream.subarray(0, m * bptt), y: stream.subarray(1, m * bptt + 1) };
}

/**
 * Pads or truncates sequences to `maxLen` ids each (int32 [N, maxLen], row-major), as Keras `pad_sequences` does:
 * `padding` 'pre' (default) puts the `<pad>` zeros before the ids, 'post' after; `truncating` 'pre' (default) drops
 * the first ids of a longer sequence, 'post' the last.
 */
export function padSequences(seqs: readonly Int32Array[], maxLen: number, o: { padding?: 'pre' | 'post'; truncating?: 'pre' | 'post' } = {}): Int32Array {
  if (!(Number.isInteger(maxLen) && maxLen >= 1)) throw new DataError('padSequences', `maxLen must be a positive integer, found ${maxLen}`);
  for (const k of ['padding', 'truncating'] as const) {
    const v = o[k];
    if (v !== undefined && v !== 'pre' && v !== 'post') throw new DataError('padSequences', `${k} must be 'pre' or 'post', found ${JSON.stringify(v)}`);
  }
  const out = new Int32Array(seqs.length * maxLen).fill(PAD_ID);
  seqs.forEach((s, i) => {
    const kept = s.length <= maxLen ? s : o.truncating === 'post' ? s.subarray(0, maxLen) : s.subarray(s.length - maxLen);
    out.set(kept, i * maxLen + (o.padding === 'post' ? 0 : maxLen - kept.length));
  });
  return out;
}

function unknownCount(ids: Int32Array): number {
  let n = 0;
  for (let i = 0; i < ids.length; i++) if (ids[i] === UNK_ID) n++;
  return n;
}

/** Documents, characters and words of texts. */
function textCounts(texts: readonly string[]): Pick<TextSplitStats, 'documents' | 'characters' | 'words'> {
  return { documents: texts.length, characters: texts.reduce((n, t) => n + countChars(t), 0), words: texts.reduce((n, t) => n + countWords(t), 0) };
}

/** The tokenizer given, or one built on the training texts (char level: with the separator, so it is known). */
function tokenizerFor(name: string, train: readonly string[], o: TextTokenOptions, defaultLevel: TokenizerLevel): Tokenizer {
  if (o.tokenizer) return o.tokenizer;
  const level = o.level ?? defaultLevel;
  return buildTokenizer(level, level === 'char' ? train.map((d) => d + CHAR_DOC_SEPARATOR) : train, { maxVocab: o.maxVocab, source: name });
}

/**
 * A language-modelling dataset from a corpus: each split's `tokenStream` cut into `nextTokenWindows` of `bptt`
 * tokens (inputs and targets int32 [M, bptt], `targetShape` [bptt], `classes` = the vocabulary size), so `fit` with
 * sparse categorical cross-entropy trains a next-token model. The tokenizer is built on the training split only.
 * Windows are independent samples (fit shuffles them; no hidden state is carried from one to the next).
 */
export function languageModelDataset(corpus: TextCorpus, o: LanguageModelOptions = {}): TextDataset {
  const bptt = o.bptt ?? 64;
  if (!(Number.isInteger(bptt) && bptt >= 1)) throw new DataError(corpus.name, `bptt must be a positive integer, found ${bptt}`);
  const tokenizer = tokenizerFor(corpus.name, corpus.train, o, 'char');
  const windows = {} as Record<TextSplit, { x: Int32Array; y: Int32Array }>;
  const stats = { level: tokenizer.kind, vocabSize: tokenizer.vocabSize } as TextStats;
  for (const split of TEXT_SPLITS) {
    const docs = corpus[split];
    const stream = tokenStream(docs, tokenizer);
    windows[split] = nextTokenWindows(stream, bptt, `${corpus.name} (${split} split)`);
    stats[split] = { ...textCounts(docs), tokens: stream.length, unknown: unknownCount(stream), samples: windows[split].y.length / bptt };
  }
  const dataset = checkDataset({
    name: corpus.name, shape: [bptt], targetShape: [bptt], classes: tokenizer.vocabSize,
    xTrain: windows.train.x, yTrain: windows.train.y, xValid: windows.valid.x, yValid: windows.valid.y, xTest: windows.test.x, yTest: windows.test.y,
  });
  return { dataset, tokenizer, stats };
}

/** Options of `classificationDataset`. */
export interface ClassificationOptions extends TextTokenOptions {
  /** Tokens per text after padding or truncation; default 200. */
  maxLen?: number;
  /** Where `<pad>` zeros go in a shorter text: 'pre' (default, Keras) or 'post'. */
  padding?: 'pre' | 'post';
  /** Which end of a longer text is cut: 'pre' (default, Keras: the first tokens are dropped) or 'post'. */
  truncating?: 'pre' | 'post';
}

/**
 * A classification dataset from labelled texts: each text's token ids padded or truncated to `maxLen`
 * (`padSequences`; inputs int32 [N, maxLen]) and its label (int32 [N]), `classes` and `classNames` from the
 * corpus. The tokenizer is built on the training texts only.
 */
export function classificationDataset(corpus: LabeledTextCorpus, o: ClassificationOptions = {}): TextDataset {
  const maxLen = o.maxLen ?? 200;
  if (!(Number.isInteger(maxLen) && maxLen >= 1)) throw new DataError(corpus.name, `maxLen must be a positive integer, found ${maxLen}`);
  const tokenizer = tokenizerFor(corpus.name, corpus.train.texts, o, 'word');
  const classes = corpus.classNames.length;
  const arrays = {} as Record<TextSplit, Int32Array>;
  const stats = { level: tokenizer.kind, vocabSize: tokenizer.vocabSize } as TextStats;
  for (const split of TEXT_SPLITS) {
    const { texts, labels } = corpus[split];
    if (texts.length === 0) throw new DataError(corpus.name, `the ${split} split holds no texts`);
    const seqs = texts.map((t) => tokenizer.encode(t));
    arrays[split] = padSequences(seqs, maxLen, o);
    const perClass = new Array<number>(classes).fill(0);
    for (const l of labels) perClass[l]++;
    stats[split] = {
      ...textCounts(texts), tokens: seqs.reduce((n, s) => n + s.length, 0), unknown: seqs.reduce((n, s) => n + unknownCount(s), 0), samples: texts.length, perClass,
    };
  }
  const dataset = checkDataset({
    name: corpus.name, shape: [maxLen], classes, classNames: corpus.classNames.slice(),
    xTrain: arrays.train, yTrain: corpus.train.labels, xValid: arrays.valid, yValid: corpus.valid.labels, xTest: arrays.test, yTest: corpus.test.labels,
  });
  return { dataset, tokenizer, stats };
}
