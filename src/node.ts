// weightshare/node: the Node-only parts — datasets and files (IDX, PNG, text corpora), model files on disk, the CLI entry.
export * from './data/index.js';
export { writeFileAtomic, lockOutput, WriteError, saveCheckpoint, loadCheckpoint, saveModel, loadModel, modelCheckpoint, saveTfjs, loadTfjs } from './io/files.js';
export type { WriteOptions, OutputLock, SaveModelOptions } from './io/files.js';
export { readRegularFile, ReadError } from './io/read-file.js';
export type { ReadOptions } from './io/read-file.js';
export { ModelCheckpoint, CSVLogger, formatFilepath } from './io/callbacks.js';
export type { ModelCheckpointOptions, CSVLoggerOptions } from './io/callbacks.js';
export { main as runCli } from './cli/main.js';
// The synchronous wasm backend (Node compiles the kernels from disk; browsers use initWasmBackend or createWasmBackendAsync).
export { createWasmBackend } from './backend/wasm/wasm.js';
// ONNX export and import (they need the protobufjs package, a bare import that only Node or a bundler resolves: not in the main entry, which browsers load as is).
export { exportOnnx, ONNX_OPSET, EXPORTABLE_LAYERS, OnnxExportError, decodeOnnx, importOnnx, IMPORTABLE_OPS, ONNX_IMPORT_OPSETS, OnnxImportError } from './io/onnx/index.js';
export type { OnnxExportOptions, OnnxImport, OnnxImportOptions } from './io/onnx/index.js';
// Reports: run JSONs → plots (SVG, PNG) and an HTML page (vega, vega-lite and @resvg/resvg-js are optional peers, loaded on first use).
export { buildReport, writeReport, layerSizesOf, readRun, parseRun, runKind, RunFileError, PlottingUnavailableError, PLOTTING_INSTALL, PLOTTING_PACKAGES } from './report/index.js';
export type { Report, ReportPlot, ReportOptions, Run, TrainRun, CompressRun, IntrinsicDimRun, CompressedLayer, LayerSize } from './report/index.js';
export { storedSizes } from './io/stored-file.js';
export { storedPerWeight } from './io/stored.js';
export type { StoredWeight } from './io/stored.js';
