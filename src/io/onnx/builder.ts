// An ONNX graph under construction: unique value names, initializers (raw little-endian bytes), nodes with typed attributes.
import { ATTRIBUTE_TYPE, DATA_TYPE, encodeModel, IR_VERSION } from './proto.js';

/** Element types of the tensors we write. */
export type OnnxDType = 'float32' | 'uint8' | 'uint16' | 'int32' | 'int64';

const TYPE_NAME: Record<OnnxDType, string> = { float32: 'FLOAT', uint8: 'UINT8', uint16: 'UINT16', int32: 'INT32', int64: 'INT64' };

/** The ONNX DataType number of an element type (from the schema). */
export function dataType(t: OnnxDType): number {
  return DATA_TYPE[TYPE_NAME[t]];
}

/** An attribute value: an integer or integers (INT, INTS), `{ float }` (FLOAT), a string (STRING), `{ strings }` (STRINGS). */
export type AttrValue = number | readonly number[] | { float: number } | string | { strings: readonly string[] };

type Data = Float32Array | Uint8Array | Uint16Array | Int32Array | BigInt64Array;

const LITTLE_ENDIAN_HOST = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

/** A graph being written: nodes in topological order, initializers, inputs and outputs; {@link toBytes} makes the ModelProto. */
export class OnnxGraph {
  private readonly used = new Set<string>();
  private readonly nodes: Record<string, unknown>[] = [];
  private readonly initializers: Record<string, unknown>[] = [];
  private readonly inputs: Record<string, unknown>[] = [];
  private readonly outputs: Record<string, unknown>[] = [];
  private readonly constants = new Map<number, string>();
  private temps = 0;

  constructor(readonly name: string) {}

  /** A fresh value name from `stem` ('dense/kernel', then 'dense/kernel_1', …). */
  fresh(stem: string): string {
    let name = stem;
    for (let k = 1; this.used.has(name); k++) name = `${stem}_${k}`;
    this.used.add(name);
    return name;
  }

  /** Adds a constant tensor (stored as raw little-endian bytes) and returns its value name. */
  initializer(stem: string, dtype: OnnxDType, dims: readonly number[], data: Data): string {
    if (!LITTLE_ENDIAN_HOST) throw new Error('onnx export needs a little-endian host (ONNX raw_data is little-endian)');
    const name = this.fresh(stem);
    const raw = new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
    this.initializers.push({ name, data_type: dataType(dtype), dims: [...dims], raw_data: raw });
    return name;
  }

  /** A 1-D int64 constant (shapes, axes). */
  int64s(stem: string, values: readonly number[]): string {
    return this.initializer(stem, 'int64', [values.length], BigInt64Array.from(values.map((v) => BigInt(v))));
  }

  /** An int32 scalar constant, written once per value ('int32_8'). */
  int32(value: number): string {
    let name = this.constants.get(value);
    if (name === undefined) {
      name = this.initializer(`int32_${value}`, 'int32', [], Int32Array.of(value));
      this.constants.set(value, name);
    }
    return name;
  }

  /** A float32 scalar constant. */
  scalar(stem: string, value: number): string {
    return this.initializer(stem, 'float32', [], Float32Array.of(value));
  }

  /** Adds a node `op(inputs)` with one output named from `stem`; returns the output's name. */
  node(op: string, inputs: readonly string[], stem: string, attrs: Record<string, AttrValue> = {}): string {
    return this.nodeOutputs(op, inputs, stem, [stem], attrs)[0];
  }

  /** Adds a node with several outputs, named from `stems` (an optional input is ''); returns the outputs' names. */
  nodeOutputs(op: string, inputs: readonly string[], stem: string, stems: readonly string[], attrs: Record<string, AttrValue> = {}): string[] {
    const outs = stems.map((s) => this.fresh(s));
    this.nodes.push({ op_type: op, name: this.fresh(`${stem}/${op}`), input: [...inputs], output: outs, attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)) });
    return outs;
  }

  /** Adds an unnamed node inside a weight's subgraph (output '_k', short: such subgraphs can have hundreds of nodes); returns the output's name. */
  temp(op: string, inputs: readonly string[], attrs: Record<string, AttrValue> = {}): string {
    const out = this.fresh(`_${this.temps++}`);
    this.nodes.push({ op_type: op, input: [...inputs], output: [out], attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)) });
    return out;
  }

  /** Declares a graph input [dims] ('N' for the batch axis) of an element type. */
  input(name: string, dtype: OnnxDType, dims: readonly (number | string)[]): string {
    this.used.add(name);
    this.inputs.push(valueInfo(name, dtype, dims));
    return name;
  }

  /** Declares `value` as a graph output named `name` (through an Identity node when the names differ). */
  output(value: string, name: string, dtype: OnnxDType, dims: readonly (number | string)[]): void {
    const out = value === name ? value : this.node('Identity', [value], name);
    this.outputs.push(valueInfo(out, dtype, dims));
  }

  /** The ModelProto's bytes (IR version 8, default domain at `opset`), with `metadata` as metadata_props. */
  toBytes(o: { opset: number; producer: string; version: string; docString?: string; metadata?: Record<string, string> }): Uint8Array {
    return encodeModel({
      ir_version: IR_VERSION, producer_name: o.producer, producer_version: o.version, doc_string: o.docString ?? '',
      opset_import: [{ domain: '', version: o.opset }],
      metadata_props: Object.entries(o.metadata ?? {}).map(([key, value]) => ({ key, value })),
      graph: { name: this.name, node: this.nodes, initializer: this.initializers, input: this.inputs, output: this.outputs },
    });
  }
}

function attribute(name: string, v: AttrValue): Record<string, unknown> {
  if (typeof v === 'string') return { name, type: ATTRIBUTE_TYPE.STRING, s: new TextEncoder().encode(v) };
  if (typeof v === 'number') return { name, type: ATTRIBUTE_TYPE.INT, i: v };
  if ('float' in v) return { name, type: ATTRIBUTE_TYPE.FLOAT, f: v.float };
  if ('strings' in v) return { name, type: ATTRIBUTE_TYPE.STRINGS, strings: v.strings.map((x) => new TextEncoder().encode(x)) };
  return { name, type: ATTRIBUTE_TYPE.INTS, ints: [...v] };
}

function valueInfo(name: string, dtype: OnnxDType, dims: readonly (number | string)[]): Record<string, unknown> {
  const dim = dims.map((d) => (typeof d === 'number' ? { dim_value: d } : { dim_param: d }));
  return { name, type: { tensor_type: { elem_type: dataType(dtype), shape: { dim } } } };
}
