// The layer classes and the `layers` factory namespace (TF.js style: layers.dense({ units: 10 })).
import { describeValue } from '../../core/errors.js';
import { Activation, type ActivationOptions } from './activation.js';
import { Bidirectional, type BidirectionalOptions, type MergeMode } from './bidirectional.js';
import { Block, type BlockOptions } from './block.js';
import { Conv2D, type Conv2DLayerOptions } from './conv2d.js';
import { Dense, type DenseOptions } from './dense.js';
import { Dropout, type DropoutOptions } from './dropout.js';
import { Embedding, type EmbeddingOptions } from './embedding.js';
import { Flatten } from './flatten.js';
import { LayerNormalization, type LayerNormalizationOptions } from './layer-normalization.js';
import { GRU, type GRUOptions } from './gru.js';
import { LocallyConnected2D, type LocallyConnected2DOptions } from './locally-connected2d.js';
import { LSTM, type LSTMOptions } from './lstm.js';
import { Add, Average, Concatenate, type ConcatenateOptions, Multiply, Subtract } from './merge.js';
import { MultiHeadAttention, type MultiHeadAttentionOptions } from './multi-head-attention.js';
import { AveragePooling2D, MaxPooling2D, type Pooling2DOptions } from './pooling.js';
import { PositionEmbedding, type PositionEmbeddingOptions } from './position-embedding.js';
import { GatedRecurrent, type GatedRecurrentOptions, Recurrent, type RecurrentOptions, type TimeSharing } from './recurrent.js';
import { SimpleRNN, type SimpleRNNOptions } from './simple-rnn.js';
import { SinePositionEncoding, type SinePositionEncodingOptions } from './sine-position-encoding.js';
import type { LayerOptions } from '../layer.js';

export {
  Activation, Block, Conv2D, Dense, Dropout, Embedding, Flatten, LayerNormalization, LocallyConnected2D, AveragePooling2D, MaxPooling2D, Add, Subtract,
  Multiply, Average, Concatenate, Recurrent, GatedRecurrent, SimpleRNN, LSTM, GRU, Bidirectional, MultiHeadAttention, PositionEmbedding, SinePositionEncoding,
};
export type {
  ActivationOptions, BlockOptions, ConcatenateOptions, Conv2DLayerOptions, DenseOptions, DropoutOptions, EmbeddingOptions, LayerNormalizationOptions,
  LocallyConnected2DOptions, Pooling2DOptions, RecurrentOptions, GatedRecurrentOptions, TimeSharing, SimpleRNNOptions, LSTMOptions, GRUOptions, BidirectionalOptions, MergeMode,
  MultiHeadAttentionOptions, PositionEmbeddingOptions, SinePositionEncodingOptions,
};

/** A factory's options, or a TypeError naming the factory and what it takes (e.g. `layers.lstm()` without `{ units }`). */
function options<T>(factory: string, o: T, example: string): T {
  if (o === null || typeof o !== 'object' || Array.isArray(o)) throw new TypeError(`layers.${factory}: takes an options object such as ${example}, got ${describeValue(o)}`);
  return o;
}

/** Layer factories with Keras names in camelCase. */
export const layers = {
  dense: (o: DenseOptions): Dense => new Dense(options('dense', o, '{ units }')),
  conv2d: (o: Conv2DLayerOptions): Conv2D => new Conv2D(options('conv2d', o, '{ filters, kernelSize }')),
  locallyConnected2d: (o: LocallyConnected2DOptions): LocallyConnected2D => new LocallyConnected2D(options('locallyConnected2d', o, '{ filters, kernelSize }')),
  maxPooling2d: (o: Pooling2DOptions = {}): MaxPooling2D => new MaxPooling2D(options('maxPooling2d', o, '{}')),
  averagePooling2d: (o: Pooling2DOptions = {}): AveragePooling2D => new AveragePooling2D(options('averagePooling2d', o, '{}')),
  flatten: (o: LayerOptions = {}): Flatten => new Flatten(options('flatten', o, '{}')),
  dropout: (o: DropoutOptions): Dropout => new Dropout(options('dropout', o, '{ rate }')),
  activation: (o: ActivationOptions): Activation => new Activation(options('activation', o, "{ activation: 'relu' }")),
  embedding: (o: EmbeddingOptions): Embedding => new Embedding(options('embedding', o, '{ inputDim, outputDim }')),
  layerNormalization: (o: LayerNormalizationOptions = {}): LayerNormalization => new LayerNormalization(options('layerNormalization', o, '{}')),
  add: (o: LayerOptions = {}): Add => new Add(options('add', o, '{}')),
  subtract: (o: LayerOptions = {}): Subtract => new Subtract(options('subtract', o, '{}')),
  multiply: (o: LayerOptions = {}): Multiply => new Multiply(options('multiply', o, '{}')),
  average: (o: LayerOptions = {}): Average => new Average(options('average', o, '{}')),
  concatenate: (o: ConcatenateOptions = {}): Concatenate => new Concatenate(options('concatenate', o, '{}')),
  block: (o: BlockOptions): Block => new Block(options('block', o, '{ inputs, outputs }')),
  simpleRNN: (o: SimpleRNNOptions): SimpleRNN => new SimpleRNN(options('simpleRNN', o, '{ units }')),
  lstm: (o: LSTMOptions): LSTM => new LSTM(options('lstm', o, '{ units }')),
  gru: (o: GRUOptions): GRU => new GRU(options('gru', o, '{ units }')),
  bidirectional: (o: BidirectionalOptions): Bidirectional => new Bidirectional(options('bidirectional', o, '{ layer: layers.lstm({ units }) }')),
  multiHeadAttention: (o: MultiHeadAttentionOptions): MultiHeadAttention => new MultiHeadAttention(options('multiHeadAttention', o, '{ numHeads, keyDim }')),
  positionEmbedding: (o: PositionEmbeddingOptions): PositionEmbedding => new PositionEmbedding(options('positionEmbedding', o, '{ sequenceLength }')),
  sinePositionEncoding: (o: SinePositionEncodingOptions = {}): SinePositionEncoding => new SinePositionEncoding(options('sinePositionEncoding', o, '{}')),
};
