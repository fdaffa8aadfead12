// Named text models: character- and word-level recurrent and transformer language models, recurrent text classifiers.
import { checkOptions, describeValue, quote } from '../core/errors.js';
import { input } from './layer.js';
import { layers } from './layers/index.js';
import { type Model, model } from './model.js';
import { checkDepth, type ShareLayers } from './transformer.js';
import { createGptModel, GPT_DEFAULTS } from './zoo-gpt.js';

/** Names accepted by {@link createTextModel} and `weightshare train --model`. */
export const TEXT_MODEL_NAMES = ['char-lstm', 'char-gru', 'word-lstm', 'word-gru', 'gpt', 'word-gpt', 'text-gru', 'text-lstm'] as const;
export type TextModelName = (typeof TEXT_MODEL_NAMES)[number];

/** What each text model is, for help texts. */
export const TEXT_MODEL_DESCRIPTIONS: Record<TextModelName, string> = {
  'char-lstm': 'character-level language model: embedding, LSTM × layers (sequences), dense softmax over the characters at every step',
  'char-gru': 'char-lstm with GRU cells',
  'word-lstm': 'word-level language model: embedding, LSTM × layers, dense softmax over the vocabulary at every step (--tied shares the table)',
  'word-gru': 'word-lstm with GRU cells',
  gpt: 'character-level transformer language model: token + position embeddings, pre-norm causal blocks × layers (--share-layers shares them across depth, ALBERT), dense softmax at every step',
  'word-gpt': 'gpt over words (--factorized-embedding E and --tied shrink the vocabulary-sized tables)',
  'text-gru': 'text classifier: embedding (id 0 masked as padding), GRU × layers, dense softmax over the classes',
  'text-lstm': 'text-gru with LSTM cells',
};

/** What a text model is made of, from its name. */
export interface TextModelKind {
  task: 'language-model' | 'classifier';
  /** The tokenizer level its data needs (classifiers: words). */
  level: 'char' | 'word';
  /** The recurrent cell, or 'transformer' for the gpt models. */
  cell: 'lstm' | 'gru' | 'transformer';
}

/** The kind of a text model name, or undefined for names that are not text models. */
export function textModelKind(name: string): TextModelKind | undefined {
  if (!(TEXT_MODEL_NAMES as readonly string[]).includes(name)) return undefined;
  if (name === 'gpt' || name === 'word-gpt') return { task: 'language-model', level: name === 'gpt' ? 'char' : 'word', cell: 'transformer' };
  const [level, cell] = name.split('-') as [string, 'lstm' | 'gru'];
  return level === 'text' ? { task: 'classifier', level: 'word', cell } : { task: 'language-model', level: level as 'char' | 'word', cell };
}

/** Sizes of a text model; defaults per model in {@link TEXT_MODEL_DEFAULTS}. */
export interface TextModelOptions {
  /** Vocabulary size V (token ids in [0, V)). */
  vocab: number;
  /** Tokens per sample T (the BPTT window of a language model, the padded length of a classifier's texts). */
  length: number;
  /** Classes of a classifier. */
  classes?: number;
  /** Embedding size E. */
  embed?: number;
  /** Recurrent units H. */
  hidden?: number;
  /** Stacked recurrent layers. */
  layers?: number;
  /** Dropout after the embedding and after each recurrent layer (0: none). */
  dropout?: number;
  /** Language models: the output projection's kernel is the embedding table transposed (needs E = H). */
  tied?: boolean;
  /** gpt models: the model width (default 128). */
  dim?: number;
  /** gpt models: attention heads (default 4; they must divide dim). */
  heads?: number;
  /** gpt models: sharing across depth (ALBERT): none, attention, ffn or all. */
  shareLayers?: ShareLayers;
  /** gpt models: ALBERT's factorised embedding size E (a table [V, E] and projections E ↔ dim). */
  factorizedEmbedding?: number;
}

/** Default embedding and hidden sizes and layers per model. */
export const TEXT_MODEL_DEFAULTS: Record<TextModelName, { embed: number; hidden: number; layers: number }> = {
  'char-lstm': { embed: 128, hidden: 256, layers: 1 },
  'char-gru': { embed: 128, hidden: 256, layers: 1 },
  'word-lstm': { embed: 256, hidden: 256, layers: 1 },
  'word-gru': { embed: 256, hidden: 256, layers: 1 },
  gpt: { embed: GPT_DEFAULTS.dim, hidden: GPT_DEFAULTS.dim, layers: GPT_DEFAULTS.layers },
  'word-gpt': { embed: GPT_DEFAULTS.dim, hidden: GPT_DEFAULTS.dim, layers: GPT_DEFAULTS.layers },
  'text-gru': { embed: 64, hidden: 64, layers: 1 },
  'text-lstm': { embed: 64, hidden: 64, layers: 1 },
};

/**
 * Builds a named text model (unbuilt). Language models map ids [T] to next-token probabilities [T, V]; classifiers
 * map ids [T] (0 = padding, masked) to class probabilities. Layer names are fixed (`embedding`, `lstm`, `lstm_1`, …,
 * `decoder` or `classifier`), so `--sharing embedding=hashed:1/8` and the tie `tied:embedding/embeddings:T` find them.
 */
export function createTextModel(name: string, o: TextModelOptions): Model {
  const kind = textModelKind(name);
  if (!kind) throw new RangeError(`unknown text model '${name}' (expected one of ${TEXT_MODEL_NAMES.join(', ')})`);
  if (o === null || typeof o !== 'object') throw new TypeError(`createTextModel('${name}'): takes options such as { vocab, length }, got ${describeValue(o)}`);
  checkOptions(`createTextModel('${name}')`, o, ['vocab', 'length', 'classes', 'embed', 'hidden', 'layers', 'dropout', 'tied', 'dim', 'heads', 'shareLayers', 'factorizedEmbedding']);
  if (o.tied !== undefined && typeof o.tied !== 'boolean') throw new RangeError(`model '${name}': tied must be true or false, got ${quote(o.tied)}`);
  if (o.classes !== undefined && kind.task !== 'classifier') {
    throw new RangeError(`model '${name}': classes is for the text classifiers (${TEXT_MODEL_NAMES.filter((n) => textModelKind(n)?.task === 'classifier').join(', ')}); a language model predicts the next token`);
  }
  if (kind.cell === 'transformer') {
    // The transformer's width is dim (its embedding is dim wide, or E with a factorised embedding): embed and hidden are the recurrent models' sizes.
    if (o.embed !== undefined || o.hidden !== undefined) throw new RangeError(`model '${name}': give its width as dim (and a factorised embedding size as factorizedEmbedding), not ${o.embed !== undefined ? 'embed' : 'hidden'}`);
    return createGptModel({
      vocab: o.vocab, context: o.length, dim: o.dim, heads: o.heads, layers: o.layers, dropout: o.dropout, tied: o.tied,
      shareLayers: o.shareLayers, factorizedEmbedding: o.factorizedEmbedding, name,
    });
  }
  for (const k of ['dim', 'heads', 'shareLayers', 'factorizedEmbedding'] as const) {
    if (o[k] !== undefined) throw new RangeError(`model '${name}': ${k} is for the transformer models (gpt, word-gpt)`);
  }
  const d = TEXT_MODEL_DEFAULTS[name as TextModelName];
  const embed = o.embed ?? d.embed, hidden = o.hidden ?? d.hidden, depth = o.layers ?? d.layers, dropout = o.dropout ?? 0;
  const int = (key: string, v: number, min: number): void => {
    if (!(Number.isInteger(v) && v >= min)) throw new RangeError(`model '${name}': ${key} must be an integer ≥ ${min}, got ${quote(v)}`);
  };
  int('vocabulary size', o.vocab, 2);
  int('sequence length', o.length, 1);
  int('embed', embed, 1);
  int('hidden', hidden, 1);
  checkDepth(`model '${name}'`, depth);
  if (!(typeof dropout === 'number' && dropout >= 0 && dropout < 1)) throw new RangeError(`model '${name}': dropout must be in [0, 1), got ${quote(dropout)}`);
  if (o.tied && kind.task !== 'language-model') throw new RangeError(`model '${name}': --tied ties a language model's output projection to its embedding; a classifier has no such projection`);
  if (o.tied && embed !== hidden) {
    throw new RangeError(`model '${name}': tying the output projection to the embedding table needs embed = hidden (the decoder's kernel [${hidden}, ${o.vocab}] is the table [${o.vocab}, ${embed}] transposed); got embed ${embed}, hidden ${hidden}`);
  }
  const ids = input({ shape: [o.length], dtype: 'int32', name: 'ids' });
  let h = layers.embedding({ inputDim: o.vocab, outputDim: embed, maskZero: kind.task === 'classifier', name: 'embedding' }).apply(ids);
  const drop = (k: number): void => {
    if (dropout > 0) h = layers.dropout({ rate: dropout, name: k === 0 ? 'dropout' : `dropout_${k}` }).apply(h);
  };
  drop(0);
  for (let i = 0; i < depth; i++) {
    const returnSequences = kind.task === 'language-model' || i < depth - 1;
    const o2 = { units: hidden, returnSequences, name: i === 0 ? kind.cell : `${kind.cell}_${i}` };
    h = (kind.cell === 'lstm' ? layers.lstm(o2) : layers.gru(o2)).apply(h);
    drop(i + 1);
  }
  if (kind.task === 'language-model') {
    h = layers.dense({ units: o.vocab, activation: 'softmax', name: 'decoder', ...(o.tied ? { maps: { kernel: 'tied:embedding/embeddings:T' } } : {}) }).apply(h);
  } else {
    int('classes', o.classes ?? 0, 2);
    h = layers.dense({ units: o.classes!, activation: 'softmax', name: 'classifier' }).apply(h);
  }
  return model({ inputs: ids, outputs: h, name });
}
