// weightshare's neural-network layer: layers, models, losses, metrics, initialisers and the model zoo.
export * from './layers/index.js';
export { Layer, SymbolicTensor, input, registerLayer, layerFromSpec } from './layer.js';
export type { CallContext, LayerOptions, LayerSpec, NamedWeight } from './layer.js';
export { Model, Sequential, sequential, model, modelFromConfig } from './model.js';
export type { CompileOptions, CompileConfig, ModelConfig, GraphNode } from './model.js';
export { NonFiniteLossError, epochOrder } from './training.js';
export type { Callback, Data, EpochPartial, FitOptions, History, Logs } from './training.js';
export { getLoss, LOSSES } from './losses.js';
export type { Loss, LossName } from './losses.js';
export { getMetric, METRICS } from './metrics.js';
export type { Metric, MetricName } from './metrics.js';
export { initialize, initializerName, fansOf, INITIALIZERS } from './initializers.js';
export type { InitializerName, Fans } from './initializers.js';
export { ACTIVATIONS } from './activations.js';
export type { ActivationName } from './activations.js';
export { formatSummary, thousands } from './summary.js';
export { createModel, MODEL_NAMES } from './zoo.js';
export type { ModelName } from './zoo.js';
