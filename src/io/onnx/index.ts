// ONNX export: exportOnnx and its errors (the schema and protobuf plumbing stay inside).
export { exportOnnx, ONNX_OPSET } from './export.js';
export type { OnnxExportOptions } from './export.js';
export { EXPORTABLE_LAYERS, OnnxExportError } from './layers.js';
export { decodeModel as decodeOnnx } from './proto.js';
