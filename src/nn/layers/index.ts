// The layer classes and the `layers` factory namespace (TF.js style: layers.dense({ units: 10 })).
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

/** Layer factories with Keras names in camelCase. */
export const layers = {
  dense: (o: DenseOptions): Dense => new Dense(o),
  conv2d: (o: Conv2DLayerOptions): Conv2D => new Conv2D(o),
  locallyConnected2d: (o: LocallyConnected2DOptions): LocallyConnected2D => new LocallyConnected2D(o),
  maxPooling2d: (o: Pooling2DOptions = {}): MaxPooling2D => new MaxPooling2D(o),
  averagePooling2d: (o: Pooling2DOptions = {}): AveragePooling2D => new AveragePooling2D(o),
  flatten: (o: LayerOptions = {}): Flatten => new Flatten(o),
  dropout: (o: DropoutOptions): Dropout => new Dropout(o),
  activation: (o: ActivationOptions): Activation => new Activation(o),
  embedding: (o: EmbeddingOptions): Embedding => new Embedding(o),
  layerNormalization: (o: LayerNormalizationOptions = {}): LayerNormalization => new LayerNormalization(o),
  add: (o: LayerOptions = {}): Add => new Add(o),
  subtract: (o: LayerOptions = {}): Subtract => new Subtract(o),
  multiply: (o: LayerOptions = {}): Multiply => new Multiply(o),
  average: (o: LayerOptions = {}): Average => new Average(o),
  concatenate: (o: ConcatenateOptions = {}): Concatenate => new Concatenate(o),
  block: (o: BlockOptions): Block => new Block(o),
  simpleRNN: (o: SimpleRNNOptions): SimpleRNN => new SimpleRNN(o),
  lstm: (o: LSTMOptions): LSTM => new LSTM(o),
  gru: (o: GRUOptions): GRU => new GRU(o),
  bidirectional: (o: BidirectionalOptions): Bidirectional => new Bidirectional(o),
  multiHeadAttention: (o: MultiHeadAttentionOptions): MultiHeadAttention => new MultiHeadAttention(o),
  positionEmbedding: (o: PositionEmbeddingOptions): PositionEmbedding => new PositionEmbedding(o),
  sinePositionEncoding: (o: SinePositionEncodingOptions = {}): SinePositionEncoding => new SinePositionEncoding(o),
};
