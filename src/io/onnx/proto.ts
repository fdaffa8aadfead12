// The ONNX protobuf messages through protobufjs/light and the vendored schema: encode and decode a ModelProto, the schema's enums.
import protobuf from 'protobufjs/light.js';
import { ONNX_SCHEMA } from './schema.js';

const root = protobuf.Root.fromJSON(ONNX_SCHEMA as protobuf.INamespace);
const ModelProto = root.lookupType('onnx.ModelProto');

/** TensorProto.DataType values by name (FLOAT, UINT8, INT32, …), read from the schema. */
export const DATA_TYPE = root.lookupEnum('onnx.TensorProto.DataType').values;
/** AttributeProto.AttributeType values by name (FLOAT, INT, INTS, …), read from the schema. */
export const ATTRIBUTE_TYPE = root.lookupEnum('onnx.AttributeProto.AttributeType').values;
/** The IR version of files we write: 8, the one of opset 17 (ONNX 1.12). */
export const IR_VERSION = 8;

/** A ModelProto as a plain object (field names as in onnx.proto), checked against the schema and encoded. */
export function encodeModel(model: Record<string, unknown>): Uint8Array {
  const bad = ModelProto.verify(model);
  if (bad) throw new Error(`onnx: internal error, the model does not fit the ONNX schema: ${bad}`);
  return ModelProto.encode(ModelProto.fromObject(model)).finish();
}

/** Decodes ONNX bytes into a plain ModelProto object (int64 fields as numbers, bytes as Uint8Array); throws on bytes that are not one. */
export function decodeModel(bytes: Uint8Array): Record<string, unknown> {
  return ModelProto.toObject(ModelProto.decode(bytes), { longs: Number, defaults: false }) as Record<string, unknown>;
}
