// weightshare/data: datasets, the IDX reader, text corpora and tokenizers, seeded batching (Node only: reads files with node:fs).
export * from './data-error.js';
export * from './dataset.js';
export * from './idx.js';
export * from './datasets.js';
export * from './mnist-sample.js';
export * from './batches.js';
export * from './png.js';
export * from './tokenizer.js';
export * from './text.js';
export * from './corpora.js';
export * from './sequences.js';
