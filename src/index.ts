// weightshare: the public API.
export * from './core/ops/index.js';
export { Tensor, assign } from './core/tensor.js';
export { tidy, keep, memory, getBackend, setBackend, setThreads } from './core/engine.js';
export { valueAndGrads, grad } from './core/tape.js';
export { Random, shuffledIndices, shuffleInPlace } from './core/random.js';
export { ShapeError, DTypeError, IndexError, DisposedError, NotDifferentiableError, ArgumentError, StateError } from './core/errors.js';
export { WasmOutOfMemoryError } from './backend/wasm/allocator.js';
export { initWasmBackend, createWasmBackendAsync } from './backend/wasm/wasm.js';
export type { WasmBackend, WasmOptions } from './backend/wasm/wasm.js';
export type { Backend, DType } from './backend/backend.js';
export type { Shape, Padding, Conv2DOptions, Pool2DOptions } from './core/shape.js';
export { Optimizer, SGD, Adam, AdamW, createOptimizer } from './optim/index.js';
export type { OptimizerConfig, OptimizerState, ParamState, SGDOptions, AdamOptions, AdamWOptions } from './optim/index.js';
export * from './nn/index.js';
export * from './sharing/index.js';
export * from './io/index.js';
// TF.js layers models (model.json + weight shards): plain JSON and bytes, so the main entry carries them.
export * from './io/tfjs/index.js';
export type { WeightOptions } from './nn/layer.js';
export { SHAREABLE_ROLES, isShareable } from './nn/weight-role.js';
export type { WeightRole } from './nn/weight-role.js';
export * from './transforms/index.js';
// Browser-safe data pieces: tokenizers (stored in model files), text datasets built from strings, synthetic sequences.
export { DataError } from './data/data-error.js';
export * from './data/tokenizer.js';
export * from './data/text.js';
export * from './data/sequences.js';
export { fetchMnistSample, mnistSampleFromIdx, mnistSampleOrder, MNIST_SAMPLE_FILES, MNIST_SAMPLE_PIXELS, gunzipBytes } from './data/mnist-sample.js';
export type { MnistSampleFiles } from './data/mnist-sample.js';
export type { Dataset, ImageDataset } from './data/dataset.js';
export { decodeIdx } from './data/idx-decode.js';
export type { IdxArray, IdxData, IdxDType } from './data/idx-decode.js';
