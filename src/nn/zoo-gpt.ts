// The GPT language model: token and position embeddings, pre-norm transformer blocks shared across depth as ALBERT, a factorised and tied embedding.
import { checkOptions, describeValue, quote } from '../core/errors.js';
import type { MapSpec } from '../sharing/registry.js';
import { input, type SymbolicTensor } from './layer.js';
import { Block } from './layers/block.js';
import { layers } from './layers/index.js';
import { type Model, model } from './model.js';
import { checkDepth, checkTransformerOptions, mapsUnder, SHARE_LAYERS, type ShareLayers, transformerStack } from './transformer.js';

/** Options of {@link createGptModel}; sizes default to {@link GPT_DEFAULTS}. */
export interface GptModelOptions {
  /** Vocabulary size V (token ids in [0, V)). */
  vocab: number;
  /** Context T: tokens per sample (the model maps ids [T] to next-token probabilities [T, V]). */
  context: number;
  /** Model width (default 128). */
  dim?: number;
  /** Attention heads; they must divide dim (default 4). */
  heads?: number;
  /** Depth N: transformer blocks (default 4). */
  layers?: number;
  /** Units of each feed-forward's hidden layer (default 4·dim). */
  ffDim?: number;
  /** Dropout after the embeddings, after each attention and after each feed-forward (default 0). */
  dropout?: number;
  /** Sharing across depth (ALBERT): 'none' (default), 'attention', 'ffn' or 'all'. */
  shareLayers?: ShareLayers;
  /**
   * ALBERT's factorised embedding: a table [V, E] followed by Dense(E → dim) without bias, and on the output side
   * Dense(dim → E) without bias before the projection E → V; E must be smaller than dim. Default: none (the table is [V, dim]).
   */
  factorizedEmbedding?: number;
  /** The output projection's kernel is the embedding table transposed (one θ, both uses' gradients summed). */
  tied?: boolean;
  /** Positions: a learned table (default, keras_hub's PositionEmbedding) or the fixed sine encoding. */
  position?: 'learned' | 'sine';
  /** Rows of the learned position table (default: context); the context may not exceed it. */
  positions?: number;
  /** Sharing maps of any weight by path: `{ 'block_1/feed_forward/intermediate/kernel': 'hashed:1/8' }`. */
  maps?: Record<string, MapSpec>;
  /** The model's name (default 'gpt'). */
  name?: string;
}

/** Default sizes: nanoGPT's small character model (4 layers, 4 heads, dim 128). */
export const GPT_DEFAULTS = { dim: 128, heads: 4, layers: 4 } as const;

/**
 * Builds a GPT-style language model (unbuilt): ids [T] int32 → `embedding` [V, E] (E = factorizedEmbedding, else dim)
 * [→ `embedding_projection` Dense(dim), no bias] + `position_embedding` (or `sine_position_encoding`) → [`embedding_dropout`]
 * → N pre-norm blocks ({@link transformerStack}: `block`, `block_1`, … or shared sub-blocks) → `final_norm` →
 * [`output_projection` Dense(E), no bias] → `decoder` Dense(V) softmax, tied to the table with `tied`. Trained with
 * sparse categorical cross-entropy at every position (the loss takes the logits). LayerNormalization epsilon 1e-5; Dense
 * and attention kernels glorot-uniform, biases zero; the token table Keras' uniform(±0.05).
 * Throws a one-line RangeError naming the option and its value for sizes that do not fit.
 */
export function createGptModel(o: GptModelOptions): Model {
  if (o === null || typeof o !== 'object') throw new TypeError(`createGptModel: takes options such as { vocab, context }, got ${describeValue(o)}`);
  checkOptions('createGptModel', o, ['vocab', 'context', 'dim', 'heads', 'layers', 'ffDim', 'dropout', 'shareLayers', 'factorizedEmbedding', 'tied', 'position', 'positions', 'maps', 'name']);
  if (o.name !== undefined && typeof o.name !== 'string') throw new RangeError(`createGptModel: name must be a string, got ${describeValue(o.name)}`);
  const name = o.name ?? 'gpt';
  const where = `model '${name}'`;
  if (o.maps !== undefined && (o.maps === null || typeof o.maps !== 'object' || Array.isArray(o.maps))) {
    throw new RangeError(`${where}: maps must be an object of map specs by 'layer/weight', got ${describeValue(o.maps)}`);
  }
  const dim = o.dim ?? GPT_DEFAULTS.dim, heads = o.heads ?? GPT_DEFAULTS.heads, depth = o.layers ?? GPT_DEFAULTS.layers;
  const int = (key: string, v: unknown, min = 1): void => {
    if (!(typeof v === 'number' && Number.isInteger(v) && v >= min)) throw new RangeError(`${where}: ${key} must be ${min === 1 ? 'a positive integer' : `an integer ≥ ${min}`}, got ${quote(v)}`);
  };
  int('vocab', o.vocab, 2);
  int('context', o.context);
  checkDepth(where, depth);
  checkTransformerOptions(where, dim, { heads, ffDim: o.ffDim, dropout: o.dropout });
  const share = o.shareLayers ?? 'none';
  if (!(SHARE_LAYERS as readonly string[]).includes(share)) throw new RangeError(`${where}: shareLayers must be one of ${SHARE_LAYERS.join(', ')}, got ${quote(o.shareLayers)}`);
  if (o.factorizedEmbedding !== undefined) {
    int('factorizedEmbedding', o.factorizedEmbedding);
    // ALBERT's factorisation (E ≪ H) can save parameters only below the width; at or above it, it only adds two projections.
    if (o.factorizedEmbedding >= dim) throw new RangeError(`${where}: factorizedEmbedding ${o.factorizedEmbedding} must be smaller than dim ${dim} (at E ≥ dim the table [V, E] and its projections E ↔ dim only add parameters; leave it out for a table [V, dim])`);
  }
  const position = o.position ?? 'learned';
  if (position !== 'learned' && position !== 'sine') throw new RangeError(`${where}: position must be 'learned' or 'sine', got ${quote(o.position)}`);
  const positions = o.positions ?? o.context;
  int('positions', positions);
  if (position === 'learned' && o.context > positions) throw new RangeError(`${where}: context ${o.context} is longer than the position table (positions ${positions})`);
  if (o.tied !== undefined && typeof o.tied !== 'boolean') throw new RangeError(`${where}: tied must be true or false, got ${quote(o.tied)}`);
  if (o.tied && o.maps?.['decoder/kernel'] !== undefined) throw new RangeError(`${where}: maps['decoder/kernel'] and tied both say how the decoder's kernel is shared; give one`);
  const dropout = o.dropout ?? 0;
  const e = o.factorizedEmbedding ?? dim;

  /** Names of the layers that take maps; a layer's own maps are those of `maps` under its name. */
  const takers = new Set<string>();
  const own = (n: string): { name: string; maps?: Record<string, MapSpec> } => {
    takers.add(n);
    const m = mapsUnder(o.maps, n);
    return m ? { name: n, maps: m } : { name: n };
  };
  const ids = input({ shape: [o.context], dtype: 'int32', name: 'ids' });
  let h: SymbolicTensor = (layers.embedding({ inputDim: o.vocab, outputDim: e, ...own('embedding') })).apply(ids);
  if (o.factorizedEmbedding !== undefined) h = (layers.dense({ units: dim, useBias: false, ...own('embedding_projection') })).apply(h);
  const pos = position === 'learned'
    ? (layers.positionEmbedding({ sequenceLength: positions, ...own('position_embedding') }))
    : (layers.sinePositionEncoding({ name: 'sine_position_encoding' }));
  h = layers.add({ name: 'embedding_sum' }).apply([h, pos.apply(h)]);
  if (dropout > 0) h = layers.dropout({ rate: dropout, name: 'embedding_dropout' }).apply(h);
  h = transformerStack(h, { layers: depth, heads, ffDim: o.ffDim, dropout, shareLayers: share, maps: o.maps });
  h = (layers.layerNormalization({ epsilon: 1e-5, ...own('final_norm') })).apply(h);
  if (o.factorizedEmbedding !== undefined) h = (layers.dense({ units: e, useBias: false, ...own('output_projection') })).apply(h);
  const decoder = own('decoder');
  if (o.tied) decoder.maps = { ...decoder.maps, kernel: 'tied:embedding/embeddings:T' };
  h = (layers.dense({ units: o.vocab, activation: 'softmax', ...decoder })).apply(h);
  const m = model({ inputs: ids, outputs: h, name });
  for (const l of m.layers) if (l instanceof Block) takers.add(l.name);
  const unknown = Object.keys(o.maps ?? {}).filter((k) => !takers.has(k.split('/')[0]) || !k.includes('/'));
  if (unknown.length) {
    throw new RangeError(`${where}: maps name ${unknown.map((k) => `'${k}'`).join(', ')}, but its layers with weights are ${m.layers.filter((l) => takers.has(l.name)).map((l) => l.name).join(', ')} (give 'layer/…/weight')`);
  }
  return m;
}
