// Transformer blocks made of layers: the pre-norm GPT block (causal self-attention, GELU feed-forward, residuals) and ALBERT's sharing across depth.
import { quote } from '../core/errors.js';
import type { MapSpec } from '../sharing/registry.js';
import { input, type SymbolicTensor } from './layer.js';
import type { Block } from './layers/block.js';
import { layers } from './layers/index.js';

/** What is shared across depth (ALBERT's ablation): nothing, the attention sub-block, the feed-forward sub-block, or the whole block. */
export const SHARE_LAYERS = ['none', 'attention', 'ffn', 'all'] as const;
/** One of {@link SHARE_LAYERS}. */
export type ShareLayers = (typeof SHARE_LAYERS)[number];

/** Sizes of a transformer block; its inputs are [T, dim] per sample. */
export interface TransformerBlockOptions {
  /** Attention heads H; each has keyDim = dim / H. */
  heads: number;
  /** Units of the feed-forward's hidden layer (default 4·dim). */
  ffDim?: number;
  /** Dropout after the attention and after the feed-forward, before each residual sum (default 0: no Dropout layer). */
  dropout?: number;
  /** LayerNormalization's epsilon (default 1e-5, GPT-2's and keras_hub's). */
  epsilon?: number;
  /** The block's name (defaults: 'self_attention', 'feed_forward', 'block'). */
  name?: string;
  /** Sharing maps of the block's weights by path below it, e.g. `{ 'attention/query/kernel': 'lowRank:8' }`. */
  maps?: Record<string, MapSpec>;
}

/** Options of {@link transformerStack}: a block's sizes, the depth and what is shared across it. */
export interface TransformerStackOptions extends Omit<TransformerBlockOptions, 'name' | 'maps'> {
  /** Depth N: blocks applied one after the other. */
  layers: number;
  /** What is shared across depth (default 'none'). */
  shareLayers?: ShareLayers;
  /** Sharing maps by the path from a block's name: `{ 'block_2/feed_forward/intermediate/kernel': 'hashed:1/8' }`. */
  maps?: Record<string, MapSpec>;
}

/** Checks a block's sizes for inputs of width `dim`; throws a one-line RangeError naming `where`, the option and its value. */
export function checkTransformerOptions(where: string, dim: number, o: TransformerBlockOptions): void {
  const int = (key: string, v: unknown): void => {
    if (!(typeof v === 'number' && Number.isInteger(v) && v >= 1)) throw new RangeError(`${where}: ${key} must be a positive integer, got ${quote(v)}`);
  };
  int('dim', dim);
  int('heads', o.heads);
  if (dim % o.heads !== 0) throw new RangeError(`${where}: heads ${o.heads} must divide dim ${dim} (each head gets dim / heads features)`);
  if (o.ffDim !== undefined) int('ffDim', o.ffDim);
  const rate = o.dropout ?? 0;
  if (!(typeof rate === 'number' && rate >= 0 && rate < 1)) throw new RangeError(`${where}: dropout must be in [0, 1), got ${quote(o.dropout)}`);
}

/**
 * Most layers a model of the zoo stacks (or applies, shared): far beyond any trained model's depth, and a bound that
 * turns a mistyped depth into an error at once instead of a graph of millions of layers exhausting the heap.
 */
export const MAX_LAYERS = 1000;

/** Checks a stack's depth: an integer in [1, MAX_LAYERS]. */
export function checkDepth(where: string, layers: unknown): void {
  if (!(typeof layers === 'number' && Number.isInteger(layers) && layers >= 1 && layers <= MAX_LAYERS)) {
    throw new RangeError(`${where}: layers must be an integer in [1, ${MAX_LAYERS}], got ${quote(layers)}`);
  }
}

/** The per-sample shape [T, dim] a block takes, checked. */
function blockShape(where: string, shape: readonly number[], o: TransformerBlockOptions): [number, number] {
  if (shape.length !== 2) throw new RangeError(`${where}: takes inputs [T, dim] per sample, got [${shape.join(', ')}]`);
  checkTransformerOptions(where, shape[1], o);
  return [shape[0], shape[1]];
}

/** x + Dropout(h), with the Dropout only when the rate is positive. */
function residual(x: SymbolicTensor, h: SymbolicTensor, rate: number): SymbolicTensor {
  const d = rate > 0 ? layers.dropout({ rate, name: 'dropout' }).apply(h) : h;
  return layers.add({ name: 'residual' }).apply([x, d]);
}

/**
 * The pre-norm attention sub-block x + Dropout(MHA(LN(x))) for inputs [T, dim], causal (step t attends to steps ≤ t), as
 * one Block: layers `norm` (LayerNormalization), `attention` (MultiHeadAttention, heads × dim/heads), `dropout`, `residual`.
 */
export function selfAttentionBlock(shape: readonly number[], o: TransformerBlockOptions): Block {
  const name = o.name ?? 'self_attention';
  const [t, dim] = blockShape(`block '${name}'`, shape, o);
  const x = input({ shape: [t, dim], name: 'x' });
  const h = layers.layerNormalization({ epsilon: o.epsilon ?? 1e-5, name: 'norm' }).apply(x);
  const a = layers.multiHeadAttention({ numHeads: o.heads, keyDim: dim / o.heads, useCausalMask: true, name: 'attention' }).apply(h);
  return layers.block({ inputs: x, outputs: residual(x, a, o.dropout ?? 0), name, ...(o.maps ? { maps: o.maps } : {}) });
}

/**
 * The pre-norm feed-forward sub-block x + Dropout(Dense(dim)(Dense(ffDim, gelu)(LN(x)))) for inputs [T, dim], as one
 * Block: layers `norm`, `intermediate` (ffDim units, exact GELU), `output` (dim units), `dropout`, `residual`.
 */
export function feedForwardBlock(shape: readonly number[], o: TransformerBlockOptions): Block {
  const name = o.name ?? 'feed_forward';
  const [t, dim] = blockShape(`block '${name}'`, shape, o);
  const x = input({ shape: [t, dim], name: 'x' });
  const h = layers.layerNormalization({ epsilon: o.epsilon ?? 1e-5, name: 'norm' }).apply(x);
  const f = layers.dense({ units: o.ffDim ?? 4 * dim, activation: 'gelu', name: 'intermediate' }).apply(h);
  const y = layers.dense({ units: dim, name: 'output' }).apply(f);
  return layers.block({ inputs: x, outputs: residual(x, y, o.dropout ?? 0), name, ...(o.maps ? { maps: o.maps } : {}) });
}

/**
 * The pre-norm GPT block for inputs [T, dim]: {@link selfAttentionBlock} then {@link feedForwardBlock}, as one Block with
 * those two sub-blocks (`self_attention`, `feed_forward`); apply it N times for one θ at every depth.
 */
export function transformerBlock(shape: readonly number[], o: TransformerBlockOptions): Block {
  const name = o.name ?? 'block';
  const [t, dim] = blockShape(`block '${name}'`, shape, o);
  const x = input({ shape: [t, dim], name: 'x' });
  const sub = { ...o, maps: undefined };
  const y = feedForwardBlock([t, dim], { ...sub, name: 'feed_forward' }).apply(selfAttentionBlock([t, dim], { ...sub, name: 'self_attention' }).apply(x));
  return layers.block({ inputs: x, outputs: y, name, ...(o.maps ? { maps: o.maps } : {}) });
}

/** Keras' default name for the k-th of a kind: 'block', 'block_1', … */
const nth = (stem: string, k: number): string => (k === 0 ? stem : `${stem}_${k}`);

/** The maps whose path starts with `name/`, by the rest of the path (undefined when none). */
export function mapsUnder(maps: Record<string, MapSpec> | undefined, name: string): Record<string, MapSpec> | undefined {
  const prefix = `${name}/`;
  const picked = Object.entries(maps ?? {}).filter(([k]) => k.startsWith(prefix)).map(([k, v]) => [k.slice(prefix.length), v]);
  return picked.length ? Object.fromEntries(picked) : undefined;
}

/**
 * N pre-norm blocks applied to `x` [T, dim], sharing across depth as `shareLayers` says (ALBERT): 'none' makes N blocks
 * `block`, `block_1`, …; 'all' one `block` applied N times; 'attention' one `self_attention` sub-block at every depth with
 * N `feed_forward`, `feed_forward_1`, … sub-blocks; 'ffn' the converse. At each depth the attention comes first. A shared
 * (sub-)block keeps one θ whose gradient is the sum over its uses; Dropout inside draws its own mask at every use.
 */
export function transformerStack(x: SymbolicTensor, o: TransformerStackOptions): SymbolicTensor {
  const share = o.shareLayers ?? 'none';
  if (!(SHARE_LAYERS as readonly string[]).includes(share)) throw new RangeError(`transformer: shareLayers must be one of ${SHARE_LAYERS.join(', ')}, got ${quote(o.shareLayers)}`);
  checkDepth('transformer', o.layers);
  const sizes: TransformerBlockOptions = { heads: o.heads, ffDim: o.ffDim, dropout: o.dropout, epsilon: o.epsilon };
  const make = (f: typeof transformerBlock, name: string): Block => f(x.shape, { ...sizes, name, maps: mapsUnder(o.maps, name) });
  let h = x;
  if (share === 'none' || share === 'all') {
    const shared = share === 'all' ? make(transformerBlock, 'block') : undefined;
    for (let i = 0; i < o.layers; i++) h = (shared ?? make(transformerBlock, nth('block', i))).apply(h);
    return h;
  }
  const attention = share === 'attention' ? make(selfAttentionBlock, 'self_attention') : undefined;
  const ffn = share === 'ffn' ? make(feedForwardBlock, 'feed_forward') : undefined;
  for (let i = 0; i < o.layers; i++) {
    h = (attention ?? make(selfAttentionBlock, nth('self_attention', i))).apply(h);
    h = (ffn ?? make(feedForwardBlock, nth('feed_forward', i))).apply(h);
  }
  return h;
}
