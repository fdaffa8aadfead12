// The ONNX protobuf messages through protobufjs/light (an optional peer dependency, loaded on first use) and the vendored
// schema: encode and decode a ModelProto, the schema's enums.
import { createRequire } from 'node:module';
import type * as protobuf from 'protobufjs/light.js';
import { ONNX_SCHEMA } from './schema.js';

/** The values of an enum of the schema by its path under `onnx` (read from the descriptor itself, without protobufjs). */
function schemaEnum(...path: string[]): Record<string, number> {
  let node = (ONNX_SCHEMA as { nested: Record<string, unknown> }).nested.onnx as { nested?: Record<string, unknown>; values?: Record<string, number> };
  for (const p of path) node = node.nested![p] as typeof node;
  return node.values!;
}

/** TensorProto.DataType values by name (FLOAT, UINT8, INT32, …), read from the schema. */
export const DATA_TYPE = schemaEnum('TensorProto', 'DataType');
/** AttributeProto.AttributeType values by name (FLOAT, INT, INTS, …), read from the schema. */
export const ATTRIBUTE_TYPE = schemaEnum('AttributeProto', 'AttributeType');
/** The IR version of files we write: 8, the one of opset 17 (ONNX 1.12). */
export const IR_VERSION = 8;

/** The command that installs the protobuf library ONNX files need (an optional peer dependency: the core install stays light). */
export const PROTOBUF_INSTALL = 'npm install protobufjs@^8';

let modelProto: protobuf.Type | undefined;

/** ModelProto from the schema, loading protobufjs the first time; a missing package is one line saying how to install it. */
function modelType(): protobuf.Type {
  if (modelProto) return modelProto;
  let lib: typeof protobuf;
  try {
    lib = createRequire(import.meta.url)('protobufjs/light.js') as typeof protobuf;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND') throw e;
    throw new Error(`reading and writing ONNX files needs the optional package protobufjs, which is not installed: run ${PROTOBUF_INSTALL}`);
  }
  modelProto = lib.Root.fromJSON(ONNX_SCHEMA as protobuf.INamespace).lookupType('onnx.ModelProto');
  return modelProto;
}

/** Loads protobufjs now (a no-op once loaded), so that a missing package is reported as such rather than as a decoding error. */
export function requireProtobuf(): void {
  modelType();
}

/** A ModelProto as a plain object (field names as in onnx.proto), checked against the schema and encoded. */
export function encodeModel(model: Record<string, unknown>): Uint8Array {
  const type = modelType();
  const bad = type.verify(model);
  if (bad) throw new Error(`onnx: internal error, the model does not fit the ONNX schema: ${bad}`);
  return type.encode(type.fromObject(model)).finish();
}

/** Decodes ONNX bytes into a plain ModelProto object (int64 fields as numbers, bytes as Uint8Array); throws on bytes that are not one. */
export function decodeModel(bytes: Uint8Array): Record<string, unknown> {
  const type = modelType();
  return type.toObject(type.decode(bytes), { longs: Number, defaults: false }) as Record<string, unknown>;
}
