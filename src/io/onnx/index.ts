// ONNX export and import: exportOnnx, importOnnx and their errors (the schema and protobuf plumbing stay inside).
export { exportOnnx, ONNX_OPSET, MAPS_METADATA } from './export.js';
export type { OnnxExportOptions } from './export.js';
export { EXPORTABLE_LAYERS, OnnxExportError } from './layers.js';
export { decodeModel as decodeOnnx } from './proto.js';
export { importOnnx, IMPORTABLE_OPS, ONNX_IMPORT_OPSETS } from './import.js';
export type { OnnxImport, OnnxImportOptions } from './import.js';
export { OnnxImportError } from './import-eval.js';
