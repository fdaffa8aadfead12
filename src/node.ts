// weightshare/node: the Node-only parts — datasets and files (IDX, PNG, text corpora), model files on disk, the CLI entry.
export * from './data/index.js';
export { writeFileAtomic, lockOutput, WriteError, saveCheckpoint, loadCheckpoint, saveModel, loadModel, modelCheckpoint } from './io/files.js';
export type { WriteOptions, OutputLock } from './io/files.js';
export { main as runCli } from './cli/main.js';
// ONNX export (needs the protobufjs package, a bare import that only Node or a bundler resolves: not in the main entry, which browsers load as is).
export { exportOnnx, ONNX_OPSET, EXPORTABLE_LAYERS, OnnxExportError, decodeOnnx } from './io/onnx/index.js';
export type { OnnxExportOptions } from './io/onnx/index.js';
