// Tokenizers for text models: characters or words ⇄ int32 ids, with a vocabulary built from training text only (browser-safe).
import { DataError } from './data-error.js';
import { checkOptions, describeValue, quote } from '../core/errors.js';

/** Id of `<pad>`: padding (an Embedding with maskZero masks it); never produced by `encode`, skipped by `decode`. */
export const PAD_ID = 0;
/** Id of `<unk>`: every character or word outside the vocabulary. */
export const UNK_ID = 1;
/** Id of `<eos>` (word level only): the end of a line, a paragraph or a document. */
export const EOS_ID = 2;
export const PAD = '<pad>';
export const UNK = '<unk>';
export const EOS = '<eos>';
/** The smallest vocabulary: `<pad>`, `<unk>` and two tokens a model can tell apart (`<eos>` counts at word level). */
const MIN_VOCAB = 4;

/** What one token is: a Unicode character (code point) or a word / punctuation mark. */
export type TokenizerLevel = 'char' | 'word';

/** A tokenizer as stored in a model file: the tokens in id order, the reserved ones first. */
export interface TokenizerConfig {
  kind: TokenizerLevel;
  /** tokens[id]: `<pad>`, `<unk>` (and `<eos>` at word level), then the vocabulary, most frequent first. */
  tokens: string[];
}

/** Options of `CharTokenizer.build` and `WordTokenizer.build`. */
export interface TokenizerOptions {
  /**
   * Largest vocabulary, reserved tokens included (Keras `max_tokens`): the most frequent tokens of the
   * training text are kept, ties broken by code-unit order of the token; the rest become `<unk>`. At least 4.
   * Default: every character (char level), 10,000 (word level).
   */
  maxVocab?: number;
  /** Names the training text in errors (a file, a corpus); default 'char tokenizer' / 'word tokenizer'. */
  source?: string;
}

const ALNUM = '[\\p{L}\\p{M}\\p{N}]';
/** A word: a run of letters, marks and digits, possibly joined by inner apostrophes (don't, nation's, o'clock). */
const WORD = `${ALNUM}+(?:['’]${ALNUM}+)*`;
/** Any single character that is neither white space nor part of a word: one punctuation token each. */
const MARK = '[^\\s\\p{L}\\p{M}\\p{N}]';
/**
 * Pieces of lower-cased text: a word, a line break with the white space after it (one `<eos>`), or a mark. The
 * definition; `forEachPiece` scans the same way, faster (the tests check the two agree).
 */
export const WORD_PIECES = new RegExp(`${WORD}|[\\r\\n]\\s*|${MARK}`, 'gu');
const ONE_PIECE = new RegExp(`^(?:${WORD}|${MARK})$`, 'u');

/** Marks written without a space before them when decoding words. */
const CLOSERS = new Set(['.', ',', ';', ':', '!', '?', ')', ']', '}', '%', '”', '’', "'", '…']);
/** Marks written without a space after them. */
const OPENERS = new Set(['(', '[', '{', '$', '#', '“', '‘']);
/** Marks written without a space on either side (fellow-citizens, 1790–1796, and/or). */
const JOINERS = new Set(['-', '‐', '‑', '–', '—', '/']);
/** A number: a `.` between two is written without spaces (3.14), and so is a `,` before three digits (1,000). */
const DIGITS = /^\p{Nd}+$/u, THOUSANDS = /^\p{Nd}{3}$/u;

/** The number of words in `text` as the word tokenizer sees them (punctuation and line breaks not counted). */
export function countWords(text: string): number {
  let n = 0;
  scanPieces(text, (_a, _b, kind) => { if (kind === WORD_PIECE || kind === QUOTED_WORD_PIECE) n++; });
  return n;
}

/** The number of Unicode characters (code points) in `text`: what the char tokenizer makes of it. */
export function countChars(text: string): number {
  let n = text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0xdc00 && c <= 0xdfff && i > 0 && (text.charCodeAt(i - 1) & 0xfc00) === 0xd800) n--;
  }
  return n;
}

/** Shared by both levels: the id ⇄ token table, decoding with range checks, unknown-token reports and JSON. */
abstract class VocabTokenizer {
  abstract readonly kind: TokenizerLevel;
  /** tokens[id], reserved tokens first. */
  readonly tokens: readonly string[];
  protected readonly ids: Map<string, number>;

  protected constructor(tokens: readonly string[], reserved: readonly string[], kind: TokenizerLevel) {
    const fail = (msg: string): never => { throw new DataError(`${kind} tokenizer`, msg); };
    if (!Array.isArray(tokens)) fail(`expected an array of tokens, found ${typeof tokens}`);
    reserved.forEach((r, i) => { if (tokens[i] !== r) fail(`token ${i} must be '${r}', found ${JSON.stringify(tokens[i])}`); });
    if (tokens.length < MIN_VOCAB) {
      fail(`vocabulary of ${tokens.length} tokens (${tokens.map((t) => JSON.stringify(t)).join(', ')}): a model needs at least 2 tokens besides ${PAD} and ${UNK}`);
    }
    this.ids = new Map();
    tokens.forEach((t, i) => {
      if (typeof t !== 'string') fail(`token ${i} is ${JSON.stringify(t)}, not a string`);
      if (i >= reserved.length && !this.isPiece(t)) fail(`token ${i} (${JSON.stringify(t)}) is not a ${kind === 'char' ? 'single character' : 'lower-case word or single punctuation mark'}`);
      if (this.ids.has(t)) fail(`token ${i} (${JSON.stringify(t)}) repeats token ${this.ids.get(t)}`);
      this.ids.set(t, i);
    });
    this.tokens = Object.freeze(tokens.slice());
  }

  /** Whether `t` is a token this level can produce (a character; a word or mark). */
  protected abstract isPiece(t: string): boolean;
  /** The tokens of `text`, before mapping to ids (`<eos>` for line breaks at word level). */
  abstract pieces(text: string): string[];
  /** Token ids of `text`; pieces outside the vocabulary become `<unk>` (1). */
  abstract encode(text: string): Int32Array;
  /** Text of the tokens, `<pad>` left out. */
  protected abstract join(tokens: string[]): string;

  /** Vocabulary size, reserved tokens included: the classes of a next-token model. */
  get vocabSize(): number {
    return this.tokens.length;
  }

  /** The id of one token, `<unk>`'s when it is not in the vocabulary. */
  idOf(token: string): number {
    return this.ids.get(token) ?? UNK_ID;
  }

  /**
   * The distinct pieces of `text` that `encode` maps to `<unk>`, in order of first appearance (lower-cased
   * at word level): what a command can warn about before generating from a prompt.
   */
  unknownTokens(text: string): string[] {
    const seen = new Set<string>();
    for (const p of this.pieces(text)) if (!this.ids.has(p)) seen.add(p);
    return [...seen];
  }

  /** Text of token ids; every id must be an integer in [0, vocabSize). Throws DataError naming the first bad id and its position. */
  decode(ids: ArrayLike<number>): string {
    if (ids === null || typeof ids !== 'object' || typeof ids.length !== 'number') {
      throw new DataError(`${this.kind} tokenizer`, `decode takes token ids (an array or Int32Array), got ${describeValue(ids)}`);
    }
    const out: string[] = [];
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      if (typeof id !== 'number') throw new DataError(`${this.kind} tokenizer`, `id ${quote(id)} at position ${i} is not a number`);
      if (!(Number.isInteger(id) && id >= 0 && id < this.tokens.length)) {
        throw new DataError(`${this.kind} tokenizer`, `id ${id} at position ${i} is outside the vocabulary [0, ${this.tokens.length})`);
      }
      if (id !== PAD_ID) out.push(this.tokens[id]);
    }
    return this.join(out);
  }

  /** The stored form: `tokenizerFromJSON(t.toJSON())` rebuilds an identical tokenizer. */
  toJSON(): TokenizerConfig {
    return { kind: this.kind, tokens: this.tokens.slice() };
  }
}

/** The texts a tokenizer is built on: one string, or an iterable of strings (each checked; a DataError names the first that is not). */
function* textsOf(texts: unknown, who: string): Generator<string> {
  if (typeof texts === 'string') {
    yield texts;
    return;
  }
  if (texts === null || typeof texts !== 'object' || typeof (texts as Iterable<unknown>)[Symbol.iterator] !== 'function') {
    throw new DataError(who, `takes a string or an iterable of strings, got ${describeValue(texts)}`);
  }
  let i = 0;
  for (const t of texts as Iterable<unknown>) {
    if (typeof t !== 'string') throw new DataError(who, `text ${i} is ${describeValue(t)}, not a string`);
    yield t;
    i++;
  }
}

/**
 * Character-level tokenizer: one token per Unicode character (code point, so a character outside the
 * Basic Multilingual Plane is one token). Ids: 0 `<pad>`, 1 `<unk>`, then the characters of the training text,
 * most frequent first (ties: lower code point first). No normalisation: case, white space and line breaks are
 * characters like any other. Decoding writes `<unk>` as U+FFFD (�).
 */
export class CharTokenizer extends VocabTokenizer {
  readonly kind = 'char' as const;
  /** Ids of BMP characters by code unit (UNK_ID when absent); other characters in `ids`. */
  private readonly bmp = new Int32Array(0x10000).fill(UNK_ID);

  /** A tokenizer with this exact vocabulary (`tokens[id]`, `<pad>` and `<unk>` first); see `build`. */
  constructor(tokens: readonly string[]) {
    super(tokens, [PAD, UNK], 'char');
    this.tokens.forEach((t, i) => { if (i >= 2 && t.length === 1) this.bmp[t.charCodeAt(0)] = i; });
  }

  /** Builds the vocabulary from the training text(s): every character seen, capped at `maxVocab` by frequency. */
  static build(texts: string | Iterable<string>, opts: TokenizerOptions = {}): CharTokenizer {
    const counts = new Float64Array(0x10000), wide = new Map<string, number>();
    for (const text of textsOf(texts, 'CharTokenizer.build')) {
      for (let i = 0; i < text.length; i++) {
        const c = text.charCodeAt(i);
        if ((c & 0xfc00) === 0xd800 && i + 1 < text.length && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
          const s = text.slice(i, i + 2);
          wide.set(s, (wide.get(s) ?? 0) + 1);
          i++;
        } else counts[c]++;
      }
    }
    for (let c = 0; c < counts.length; c++) if (counts[c] > 0) wide.set(String.fromCharCode(c), counts[c]);
    return new CharTokenizer(rankVocab(wide, [PAD, UNK], opts, 'char'));
  }

  protected isPiece(t: string): boolean {
    const cp = t.codePointAt(0);
    return cp !== undefined && t.length === (cp > 0xffff ? 2 : 1);
  }

  pieces(text: string): string[] {
    return Array.from(text);
  }

  encode(text: string): Int32Array {
    checkText('char', text);
    const out = new Int32Array(text.length);
    let n = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if ((c & 0xfc00) === 0xd800 && i + 1 < text.length && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
        out[n++] = this.ids.get(text.slice(i, i + 2)) ?? UNK_ID;
        i++;
      } else out[n++] = this.bmp[c];
    }
    return n === out.length ? out : out.slice(0, n);
  }

  protected join(tokens: string[]): string {
    return tokens.map((t) => (t === UNK ? '\ufffd' : t)).join('');
  }
}

/**
 * Word-level tokenizer. The text is lower-cased (`toLowerCase`, locale-independent), then cut into pieces, left
 * to right, each the first that matches:
 * - a word: a run of Unicode letters, marks and digits, with inner apostrophes (' or ’, stored as ') joining
 *   such runs — `don't`, `nation's` are one word, `1,000` is `1` `,` `000`, `fellow-citizens` is three tokens;
 * - a line break (\n or \r) with all white space after it: one `<eos>` (a blank line does not add a second);
 * - any other character that is not white space: a punctuation token of its own (`.`, `,`, `$`, `—`, `"` …).
 * White space separates pieces and is dropped. Ids: 0 `<pad>`, 1 `<unk>`, 2 `<eos>`, then the words and marks of
 * the training text, most frequent first (ties: code-unit order), capped at `maxVocab` (default 10,000).
 * Decoding joins tokens with spaces, writes `<eos>` as a line break, and re-attaches punctuation: no space before
 * `. , ; : ! ? ) ] } % ' ’ ” …`, none after `( [ { $ # “ ‘`, none around `- – — /` nor around a `.` between two
 * numbers (`3.14`) or a `,` between a number and three digits (`1,000`), and straight double quotes alternately open
 * and close; `<unk>` is written as `<unk>`. Decoding is lossy (case, spacing), but encoding the decoded text gives
 * back the ids when none of them is `<unk>` and no two `<eos>` follow each other.
 */
export class WordTokenizer extends VocabTokenizer {
  readonly kind = 'word' as const;

  /** A tokenizer with this exact vocabulary (`tokens[id]`, `<pad>`, `<unk>`, `<eos>` first); see `build`. */
  constructor(tokens: readonly string[]) {
    super(tokens, [PAD, UNK, EOS], 'word');
  }

  /** Builds the vocabulary from the training text(s): the `maxVocab` − 3 most frequent pieces. */
  static build(texts: string | Iterable<string>, opts: TokenizerOptions = {}): WordTokenizer {
    const slot = new Map<string, number>(), seen: number[] = [];
    for (const text of textsOf(texts, 'WordTokenizer.build')) {
      forEachPiece(text.toLowerCase(), (p) => {
        if (p === EOS) return;
        const k = slot.get(p);
        if (k === undefined) {
          slot.set(p, seen.length);
          seen.push(1);
        } else seen[k]++;
      });
    }
    const counts = new Map([...slot].map(([p, k]) => [p, seen[k]]));
    return new WordTokenizer(rankVocab(counts, [PAD, UNK, EOS], { ...opts, maxVocab: opts.maxVocab ?? 10_000 }, 'word'));
  }

  protected isPiece(t: string): boolean {
    return t === '’' || (ONE_PIECE.test(t) && !t.includes('’') && t === t.toLowerCase());
  }

  pieces(text: string): string[] {
    const out: string[] = [];
    forEachPiece(text.toLowerCase(), (p) => out.push(p));
    return out;
  }

  encode(text: string): Int32Array {
    checkText('word', text);
    const s = text.toLowerCase();
    const ids = new Int32Array(s.length);
    let n = 0;
    forEachPiece(s, (p) => { ids[n++] = this.ids.get(p) ?? UNK_ID; });
    return ids.slice(0, n);
  }

  protected join(tokens: string[]): string {
    let out = '', glue = true, quoteOpen = false;
    for (let i = 0; i < tokens.length; i++) {
      const t = tokens[i];
      if (t === EOS) {
        out += '\n';
        glue = true;
        quoteOpen = false;
        continue;
      }
      let before = !glue && !CLOSERS.has(t) && !JOINERS.has(t), after = !OPENERS.has(t) && !JOINERS.has(t);
      if (t === '"') {
        if (quoteOpen) before = false;
        else after = false;
        quoteOpen = !quoteOpen;
      } else if (i > 0 && i + 1 < tokens.length && DIGITS.test(tokens[i - 1])
        && ((t === '.' && DIGITS.test(tokens[i + 1])) || (t === ',' && THOUSANDS.test(tokens[i + 1])))) {
        after = false; // 3.14, 1,000
      }
      out += (before ? ' ' : '') + t;
      glue = !after;
    }
    return out;
  }
}

/** `charClass` of the ASCII characters: 1 letters and digits, 2 white space, 0 the rest. */
const ASCII_CLASS = Uint8Array.from({ length: 128 }, (_, c) => (/[a-zA-Z0-9]/.test(String.fromCharCode(c)) ? 1 : c === 32 || (c >= 9 && c <= 13) ? 2 : 0));
const WORD_CHAR = new RegExp(`^${ALNUM}$`, 'u');
const SPACE_CHAR = /^\s$/u;
/** Non-ASCII code points already classified: 1 word character, 2 white space, 0 other. */
const classOf = new Map<number, number>();

/** 1 when code point `cp` may be part of a word (letter, mark, digit), 2 when it is white space, 0 otherwise. */
function charClass(cp: number): number {
  if (cp < 128) return ASCII_CLASS[cp];
  let k = classOf.get(cp);
  if (k === undefined) {
    const ch = String.fromCodePoint(cp);
    k = WORD_CHAR.test(ch) ? 1 : SPACE_CHAR.test(ch) ? 2 : 0;
    classOf.set(cp, k);
  }
  return k;
}

/** Kinds of piece `scanPieces` reports. */
const MARK_PIECE = 0, WORD_PIECE = 1, EOS_PIECE = 2, QUOTED_WORD_PIECE = 3;

/**
 * Calls `fn(start, end, kind)` for each piece of the (lower-cased) string `s` as the word tokenizer defines them:
 * kind 1 a word (3: one holding ’, to be stored with '), 2 a line break and the white space after it (`<eos>`),
 * 0 a punctuation mark. A scanner equivalent to `WORD_PIECES` (the tests check they agree), several times faster.
 */
function scanPieces(s: string, fn: (start: number, end: number, kind: number) => void): void {
  const n = s.length;
  // Code point at i (a surrogate pair read as one) and its class, inlined for ASCII: the loop runs once per character.
  const at = (i: number): number => {
    const c = s.charCodeAt(i);
    return c < 0xd800 || c > 0xdbff ? c : s.codePointAt(i)!;
  };
  const cls = (cp: number): number => (cp < 128 ? ASCII_CLASS[cp] : charClass(cp));
  let i = 0;
  while (i < n) {
    let cp = at(i);
    const k = cls(cp);
    if (k === 2) {
      i += cp > 0xffff ? 2 : 1;
      if (cp === 10 || cp === 13) {
        const start = i - 1;
        while (i < n && cls((cp = at(i))) === 2) i += cp > 0xffff ? 2 : 1;
        fn(start, i, EOS_PIECE);
      }
    } else if (k === 0) {
      fn(i, (i += cp > 0xffff ? 2 : 1), MARK_PIECE);
    } else {
      const start = i;
      let kind = WORD_PIECE;
      i += cp > 0xffff ? 2 : 1;
      while (i < n) {
        cp = at(i);
        if (cls(cp) === 1) i += cp > 0xffff ? 2 : 1;
        else if ((cp === 39 || cp === 0x2019) && i + 1 < n && cls(at(i + 1)) === 1) {
          if (cp === 0x2019) kind = QUOTED_WORD_PIECE;
          i++;
        } else break;
      }
      fn(start, i, kind);
    }
  }
}

/** Refuses text that is not a string (123 encoded as nothing, null failed reading its length). */
function checkText(kind: TokenizerLevel, text: unknown): void {
  if (typeof text !== 'string') throw new DataError(`${kind} tokenizer`, `encode takes a string, got ${describeValue(text)}`);
}

/** Calls `fn` with each piece of the lower-cased text `s` (`<eos>` for a line break, ’ inside words stored as '). */
function forEachPiece(s: string, fn: (piece: string) => void): void {
  scanPieces(s, (a, b, kind) => fn(kind === EOS_PIECE ? EOS : kind === QUOTED_WORD_PIECE ? s.slice(a, b).replace(/’/g, "'") : s.slice(a, b)));
}

/** Reserved tokens, then the counted ones by falling count (ties: code-unit order), at most `maxVocab` in all. */
function rankVocab(counts: Map<string, number>, reserved: string[], opts: TokenizerOptions, kind: TokenizerLevel): string[] {
  checkOptions(`${kind === 'char' ? 'CharTokenizer' : 'WordTokenizer'}.build`, opts, ['maxVocab', 'source'], { maxTokens: 'the vocabulary cap is maxVocab', max_tokens: 'the vocabulary cap is maxVocab' });
  const source = opts.source ?? `${kind} tokenizer`;
  if (opts.maxVocab !== undefined && !Number.isSafeInteger(opts.maxVocab)) {
    throw new DataError(source, `maxVocab must be a whole number (leave it out for no cap), got ${quote(opts.maxVocab)}`);
  }
  if (opts.maxVocab !== undefined && opts.maxVocab < MIN_VOCAB) {
    throw new DataError(source, `maxVocab ${opts.maxVocab} is too small: the vocabulary needs ${PAD}, ${UNK} and at least 2 tokens (maxVocab ≥ ${MIN_VOCAB})`);
  }
  const ranked = [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).map(([t]) => t);
  const tokens = [...reserved, ...ranked.slice(0, (opts.maxVocab ?? Infinity) - reserved.length)];
  if (tokens.length < MIN_VOCAB) {
    const what = kind === 'char' ? 'distinct characters' : 'distinct words or marks';
    throw new DataError(source, `the training text has ${ranked.length} ${what}${ranked.length ? ` (${ranked.map((t) => JSON.stringify(t)).join(', ')})` : ''}` +
      `, so the vocabulary is ${tokens.join(' ')}: a model needs at least 2 tokens besides ${PAD} and ${UNK}`);
  }
  return tokens;
}

/** Either tokenizer. */
export type Tokenizer = CharTokenizer | WordTokenizer;

/** Builds a tokenizer of the given level from the training text(s). */
export function buildTokenizer(level: TokenizerLevel, texts: string | Iterable<string>, opts: TokenizerOptions = {}): Tokenizer {
  if (level === 'char') return CharTokenizer.build(texts, opts);
  if (level === 'word') return WordTokenizer.build(texts, opts);
  throw new DataError(opts.source ?? 'tokenizer', `unknown level ${JSON.stringify(level)}: expected 'char' or 'word'`);
}

/** Rebuilds a tokenizer from its `toJSON()` form, checking it (DataError naming the bad field or token). */
export function tokenizerFromJSON(json: unknown): Tokenizer {
  const c = json as Partial<TokenizerConfig> | null;
  if (c === null || typeof c !== 'object') throw new DataError('tokenizer', `expected an object { kind, tokens }, found ${json === null ? 'null' : typeof json}`);
  if (c.kind === 'char') return new CharTokenizer(c.tokens as string[]);
  if (c.kind === 'word') return new WordTokenizer(c.tokens as string[]);
  throw new DataError('tokenizer', `unknown kind ${JSON.stringify(c.kind)}: expected 'char' or 'word'`);
}
