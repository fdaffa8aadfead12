// ONNX import: constant tensors read from TensorProtos and a small evaluator for the constant subgraphs (weights, shapes).
import { DATA_TYPE } from './proto.js';

/**
 * A constant: float values are float32 numbers, integers exact up to 2^53, booleans 0/1, all held as doubles. A shape
 * read from an activation (Shape of a batch) holds NaN for the batch size; a ConstantOfShape of such a shape keeps only
 * its `fill` value (its dims hold NaN).
 */
export interface Const {
  dims: number[];
  data: Float64Array;
  type: 'float' | 'int' | 'bool';
  /** For a batch-sized ConstantOfShape: the one value it holds (data is empty). */
  fill?: number;
}

/** A one-line import error; the message names the file and the node, tensor or input at fault. */
export class OnnxImportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OnnxImportError';
  }
}

const TYPE_NAMES = Object.fromEntries(Object.entries(DATA_TYPE).map(([k, v]) => [v, k])) as Record<number, string>;
const INTS = new Set(['INT8', 'UINT8', 'INT16', 'UINT16', 'INT32', 'INT64', 'UINT32', 'UINT64']);

/** The element type name of an ONNX DataType number ('FLOAT', 'INT64', …). */
export function typeName(t: number | undefined): string {
  return TYPE_NAMES[t ?? 0] ?? `type ${t}`;
}

/** Our kind of an ONNX element type, or undefined for types import does not read (FLOAT16, STRING, …). */
export function kindOf(t: number | undefined): Const['type'] | undefined {
  const n = typeName(t);
  return n === 'FLOAT' || n === 'DOUBLE' ? 'float' : n === 'BOOL' ? 'bool' : INTS.has(n) ? 'int' : undefined;
}

export function size(dims: readonly number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}

export function makeConst(dims: readonly number[], data: ArrayLike<number>, type: Const['type'] = 'float'): Const {
  const d = Float64Array.from(data as ArrayLike<number>);
  if (type === 'float') for (let i = 0; i < d.length; i++) d[i] = Math.fround(d[i]);
  return { dims: [...dims], data: d, type };
}

/** Reads a TensorProto (raw_data or the typed fields); `where` names it in errors ("model.onnx: initializer 'w'"). */
export function readTensor(t: Record<string, any>, where: string): Const {
  const dims = ((t.dims ?? []) as number[]).map(Number);
  const type = kindOf(t.data_type);
  const name = typeName(t.data_type);
  if (t.data_location === 1 || (t.external_data ?? []).length) throw new OnnxImportError(`${where} is stored in an external data file, which import does not read (give a model saved with its weights inside)`);
  if (!type) throw new OnnxImportError(`${where} has element type ${name}, which import does not read (float, double, integer and bool tensors)`);
  const n = size(dims);
  if (dims.some((d) => !(d >= 0))) throw new OnnxImportError(`${where} has dims [${dims.join(', ')}]`);
  let values: ArrayLike<number>;
  const raw = t.raw_data as Uint8Array | undefined;
  if (raw && raw.length) {
    const width: Record<string, number> = { FLOAT: 4, DOUBLE: 8, BOOL: 1, INT8: 1, UINT8: 1, INT16: 2, UINT16: 2, INT32: 4, UINT32: 4, INT64: 8, UINT64: 8 };
    const w = width[name];
    if (raw.length !== n * w) throw new OnnxImportError(`${where} holds ${raw.length} bytes of ${name} for dims [${dims.join(', ')}] (${n * w} expected): the file is truncated or damaged`);
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const o = i * w;
      switch (name) {
        case 'FLOAT': out[i] = view.getFloat32(o, true); break;
        case 'DOUBLE': out[i] = view.getFloat64(o, true); break;
        case 'BOOL': case 'UINT8': out[i] = view.getUint8(o); break;
        case 'INT8': out[i] = view.getInt8(o); break;
        case 'INT16': out[i] = view.getInt16(o, true); break;
        case 'UINT16': out[i] = view.getUint16(o, true); break;
        case 'INT32': out[i] = view.getInt32(o, true); break;
        case 'UINT32': out[i] = view.getUint32(o, true); break;
        case 'INT64': out[i] = Number(view.getBigInt64(o, true)); break;
        default: out[i] = Number(view.getBigUint64(o, true));
      }
    }
    values = out;
  } else {
    values = (t.float_data?.length ? t.float_data : t.double_data?.length ? t.double_data : t.int64_data?.length ? t.int64_data
      : t.uint64_data?.length ? t.uint64_data : t.int32_data ?? []) as number[];
    if (values.length !== n) throw new OnnxImportError(`${where} holds ${values.length} values for dims [${dims.join(', ')}] (${n} expected): the file is truncated or damaged`);
  }
  return makeConst(dims, values, type);
}

/** An attribute's value: number, numbers, string, strings or a tensor (undefined when absent). */
export function attr(node: Record<string, any>, name: string): any {
  const a = ((node.attribute ?? []) as Record<string, any>[]).find((x) => x.name === name);
  if (!a) return undefined;
  const dec = (s: Uint8Array): string => new TextDecoder().decode(s);
  switch (a.type) {
    case 1: return a.f ?? 0;
    case 2: return a.i ?? 0;
    case 3: return dec(a.s ?? new Uint8Array());
    case 4: return a.t;
    case 6: return (a.floats ?? []) as number[];
    case 7: return ((a.ints ?? []) as number[]).map(Number);
    case 8: return ((a.strings ?? []) as Uint8Array[]).map(dec);
    default: return a.f ?? a.i ?? (a.s ? dec(a.s) : undefined) ?? a.t ?? a.ints ?? a.floats ?? a.strings;
  }
}

function strides(dims: readonly number[]): number[] {
  const s = new Array<number>(dims.length);
  let k = 1;
  for (let i = dims.length - 1; i >= 0; i--) (s[i] = k), (k *= dims[i]);
  return s;
}

/** Numpy-style broadcast of binary `f`; float results rounded to float32. */
function binary(a: Const, b: Const, f: (x: number, y: number) => number, type: Const['type'] = a.type): Const {
  const rank = Math.max(a.dims.length, b.dims.length);
  const pa = [...new Array(rank - a.dims.length).fill(1), ...a.dims];
  const pb = [...new Array(rank - b.dims.length).fill(1), ...b.dims];
  const dims = pa.map((d, i) => {
    if (d !== pb[i] && d !== 1 && pb[i] !== 1) throw new RangeError(`shapes [${a.dims.join(',')}] and [${b.dims.join(',')}] do not broadcast`);
    return d === 1 ? pb[i] : d;
  });
  const sa = strides(pa).map((s, i) => (pa[i] === 1 ? 0 : s));
  const sb = strides(pb).map((s, i) => (pb[i] === 1 ? 0 : s));
  const so = strides(dims);
  const n = size(dims);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let ia = 0, ib = 0, r = i;
    for (let d = 0; d < rank; d++) {
      const c = Math.floor(r / so[d]);
      r -= c * so[d];
      ia += c * sa[d];
      ib += c * sb[d];
    }
    out[i] = f(a.data[ia], b.data[ib]);
  }
  return makeConst(dims, out, type);
}

/** x with its axes permuted: out axis i is x's axis perm[i]. */
export function transpose(x: Const, perm: readonly number[]): Const {
  const dims = perm.map((p) => x.dims[p]);
  const sx = strides(x.dims);
  const so = strides(dims);
  const n = size(dims);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let src = 0, r = i;
    for (let d = 0; d < dims.length; d++) {
      const c = Math.floor(r / so[d]);
      r -= c * so[d];
      src += c * sx[perm[d]];
    }
    out[i] = x.data[src];
  }
  return { dims, data: out, type: x.type };
}

/** Gather along `axis` with indices (negative counted from the end); the result's dims are x's with `axis` replaced by the indices' dims. */
export function gather(x: Const, idx: Const, axis: number): Const {
  const a = axis < 0 ? axis + x.dims.length : axis;
  const outer = size(x.dims.slice(0, a)), inner = size(x.dims.slice(a + 1)), len = x.dims[a];
  const m = idx.data.length;
  const out = new Float64Array(outer * m * inner);
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < m; j++) {
      let k = idx.data[j];
      if (k < 0) k += len;
      if (!(k >= 0 && k < len)) throw new RangeError(`index ${idx.data[j]} out of range [0, ${len})`);
      out.set(x.data.subarray((o * len + k) * inner, (o * len + k + 1) * inner), (o * m + j) * inner);
    }
  }
  return { dims: [...x.dims.slice(0, a), ...idx.dims, ...x.dims.slice(a + 1)], data: out, type: x.type };
}

/** x with dims `dims` (same size). */
export function reshape(x: Const, dims: readonly number[]): Const {
  return { dims: [...dims], data: x.data, type: x.type };
}

/** Rows [begin, end) of axis `axis`. */
export function sliceAxis(x: Const, axis: number, begin: number, end: number): Const {
  return gather(x, makeConst([end - begin], Array.from({ length: end - begin }, (_, i) => begin + i), 'int'), axis);
}

/** The target dims of a Reshape (0 copies, −1 inferred) for an input of dims `from` (NaN = the batch size). */
export function reshapeDims(from: readonly number[], to: readonly number[], allowZero = false): number[] {
  const dims = to.map((d, i) => (d === 0 && !allowZero ? from[i] : d));
  const known = dims.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
  return dims.map((d) => (d === -1 ? size(from) / known : d));
}

function ints(c: Const | undefined): number[] {
  return c ? Array.from(c.data) : [];
}

function normAxis(a: number, rank: number): number {
  return a < 0 ? a + rank : a;
}

/** The ops {@link evaluate} computes on constants. */
export const EVAL_OPS = new Set([
  'Identity', 'Cast', 'Reshape', 'Transpose', 'Unsqueeze', 'Squeeze', 'Flatten', 'Concat', 'Gather', 'Slice', 'Shape', 'ConstantOfShape',
  'Constant', 'Range', 'Add', 'Sub', 'Mul', 'Div', 'Mod', 'Neg', 'CumSum', 'ScatterND', 'MatMul', 'Expand', 'EyeLike', 'Sqrt', 'Reciprocal',
  'Max', 'Min', 'Equal', 'Not', 'Dropout', 'Size',
]);

/**
 * Computes a node of constants (inputs in order, undefined for an omitted optional one); `opset` decides where Squeeze,
 * Unsqueeze and Slice take their axes. Throws a RangeError describing the problem (the caller names the node).
 */
export function evaluate(op: string, node: Record<string, any>, xs: (Const | undefined)[], opset: number): Const {
  const [x, y] = xs as Const[];
  const f32 = (v: number): number => Math.fround(v);
  const float = (c: Const): boolean => c.type === 'float';
  switch (op) {
    case 'Identity': case 'Dropout': return x;
    case 'Constant': {
      const t = attr(node, 'value');
      if (t) return readTensor(t, 'a Constant');
      for (const [k, type] of [['value_float', 'float'], ['value_int', 'int'], ['value_floats', 'float'], ['value_ints', 'int']] as const) {
        const v = attr(node, k);
        if (v !== undefined) return makeConst(Array.isArray(v) ? [v.length] : [], Array.isArray(v) ? v : [v], type);
      }
      throw new RangeError('a Constant without a tensor, float or int value');
    }
    case 'Cast': {
      const to = kindOf(attr(node, 'to'));
      if (!to) throw new RangeError(`Cast to ${typeName(attr(node, 'to'))}`);
      const d = Float64Array.from(x.data, (v) => (to === 'int' ? Math.trunc(v) : to === 'bool' ? (v !== 0 ? 1 : 0) : v));
      return makeConst(x.dims, d, to);
    }
    case 'Reshape': {
      const to = ints(y);
      if (to.some((d) => Number.isNaN(d))) throw new RangeError('a constant reshaped to a batch-sized shape');
      return reshape(x, reshapeDims(x.dims, to, attr(node, 'allowzero') === 1));
    }
    case 'Flatten': {
      const a = normAxis(attr(node, 'axis') ?? 1, x.dims.length);
      return reshape(x, [size(x.dims.slice(0, a)), size(x.dims.slice(a))]);
    }
    case 'Transpose': return transpose(x, attr(node, 'perm') ?? x.dims.map((_, i) => x.dims.length - 1 - i));
    case 'Unsqueeze': case 'Squeeze': {
      const axesGiven = opset >= 13 ? (xs[1] ? ints(xs[1]) : undefined) : attr(node, 'axes');
      if (op === 'Unsqueeze') {
        const rank = x.dims.length + axesGiven!.length;
        const axes = axesGiven!.map((a: number) => normAxis(a, rank));
        const dims: number[] = [];
        for (let i = 0, j = 0; i < rank; i++) dims.push(axes.includes(i) ? 1 : x.dims[j++]);
        return reshape(x, dims);
      }
      const axes = axesGiven ? axesGiven.map((a: number) => normAxis(a, x.dims.length)) : x.dims.flatMap((d, i) => (d === 1 ? [i] : []));
      return { ...reshape(x, x.dims.filter((_, i) => !axes.includes(i))), fill: x.fill };
    }
    case 'Concat': {
      const parts = xs.filter((c): c is Const => c !== undefined);
      const a = normAxis(attr(node, 'axis'), parts[0].dims.length);
      const outer = size(parts[0].dims.slice(0, a));
      const dims = [...parts[0].dims];
      dims[a] = parts.reduce((s, p) => s + p.dims[a], 0);
      const out = new Float64Array(size(dims));
      let at = 0;
      for (let o = 0; o < outer; o++) {
        for (const p of parts) {
          const w = size(p.dims.slice(a));
          out.set(p.data.subarray(o * w, (o + 1) * w), at);
          at += w;
        }
      }
      return { dims, data: out, type: parts[0].type };
    }
    case 'Gather': return gather(x, y, attr(node, 'axis') ?? 0);
    case 'Slice': {
      const rank = x.dims.length;
      const starts = opset >= 10 ? ints(xs[1]) : attr(node, 'starts');
      const ends = opset >= 10 ? ints(xs[2]) : attr(node, 'ends');
      const axes = (opset >= 10 ? (xs[3] ? ints(xs[3]) : undefined) : attr(node, 'axes')) ?? starts.map((_: number, i: number) => i);
      const steps = opset >= 10 && xs[4] ? ints(xs[4]) : starts.map(() => 1);
      let out = x;
      axes.forEach((ax: number, k: number) => {
        const a = normAxis(ax, rank);
        const len = out.dims[a];
        const clamp = (v: number, lo: number, hi: number): number => Math.min(Math.max(v < 0 ? v + len : v, lo), hi);
        const step = steps[k];
        const idx: number[] = [];
        if (step > 0) for (let i = clamp(starts[k], 0, len); i < clamp(ends[k], 0, len); i += step) idx.push(i);
        else for (let i = clamp(starts[k], -1, len - 1); i > clamp(ends[k], -1, len - 1); i += step) idx.push(i);
        out = gather(out, makeConst([idx.length], idx, 'int'), a);
      });
      return out;
    }
    case 'Shape': {
      const rank = x.dims.length;
      const start = normAxis(attr(node, 'start') ?? 0, rank), end = normAxis(attr(node, 'end') ?? rank, rank);
      return makeConst([end - start], x.dims.slice(start, end), 'int');
    }
    case 'Size': return makeConst([], [size(x.dims)], 'int');
    case 'ConstantOfShape': {
      const t = attr(node, 'value');
      const v = t ? readTensor(t, 'a ConstantOfShape value') : makeConst([1], [0]);
      const dims = ints(x);
      if (dims.some((d) => Number.isNaN(d))) return { dims, data: new Float64Array(0), type: v.type, fill: v.data[0] };
      return makeConst(dims, new Float64Array(size(dims)).fill(v.data[0]), v.type);
    }
    case 'EyeLike': {
      const [r, c] = x.dims;
      const k = attr(node, 'k') ?? 0;
      const out = new Float64Array(r * c);
      for (let i = 0; i < r; i++) if (i + k >= 0 && i + k < c) out[i * c + i + k] = 1;
      return makeConst(x.dims, out, attr(node, 'dtype') !== undefined ? kindOf(attr(node, 'dtype')) : x.type);
    }
    case 'Range': {
      const [s, l, d] = [x.data[0], y.data[0], xs[2]!.data[0]];
      const n = Math.max(Math.ceil((l - s) / d), 0);
      return makeConst([n], Array.from({ length: n }, (_, i) => s + i * d), x.type);
    }
    case 'Add': return binary(x, y, (a, b) => a + b);
    case 'Sub': return binary(x, y, (a, b) => a - b);
    case 'Mul': return binary(x, y, (a, b) => a * b);
    case 'Div': return binary(x, y, float(x) ? (a, b) => f32(a / b) : (a, b) => Math.trunc(a / b));
    case 'Mod': {
      const fmod = attr(node, 'fmod') === 1;
      return binary(x, y, (a, b) => (fmod ? a % b : ((a % b) + b) % b));
    }
    case 'Max': return xs.slice(1).reduce<Const>((m, c) => binary(m, c!, Math.max), x);
    case 'Min': return xs.slice(1).reduce<Const>((m, c) => binary(m, c!, Math.min), x);
    case 'Equal': return binary(x, y, (a, b) => (a === b ? 1 : 0), 'bool');
    case 'Not': return makeConst(x.dims, Float64Array.from(x.data, (v) => (v ? 0 : 1)), 'bool');
    case 'Neg': return makeConst(x.dims, Float64Array.from(x.data, (v) => -v), x.type);
    case 'Sqrt': return makeConst(x.dims, Float64Array.from(x.data, Math.sqrt), x.type);
    case 'Reciprocal': return makeConst(x.dims, Float64Array.from(x.data, (v) => 1 / v), x.type);
    case 'CumSum': {
      if (attr(node, 'exclusive') || attr(node, 'reverse')) throw new RangeError('CumSum with exclusive or reverse');
      const a = normAxis(y.data[0], x.dims.length);
      const inner = size(x.dims.slice(a + 1)), len = x.dims[a], outer = size(x.dims.slice(0, a));
      const out = Float64Array.from(x.data);
      for (let o = 0; o < outer; o++) for (let k = 1; k < len; k++) for (let i = 0; i < inner; i++) out[(o * len + k) * inner + i] += out[(o * len + k - 1) * inner + i];
      return makeConst(x.dims, out, x.type);
    }
    case 'ScatterND': {
      if ((attr(node, 'reduction') ?? 'none') !== 'none') throw new RangeError(`ScatterND with reduction '${attr(node, 'reduction')}'`);
      const upd = xs[2]!;
      const k = y.dims[y.dims.length - 1];
      const inner = size(x.dims.slice(k));
      const st = strides(x.dims.slice(0, k)).map((s) => s * inner);
      const out = Float64Array.from(x.data);
      const m = size(y.dims.slice(0, -1));
      for (let j = 0; j < m; j++) {
        let at = 0;
        for (let d = 0; d < k; d++) at += normAxis(y.data[j * k + d], x.dims[d]) * st[d];
        out.set(upd.data.subarray(j * inner, (j + 1) * inner), at);
      }
      return { dims: [...x.dims], data: out, type: x.type };
    }
    case 'MatMul': {
      if (x.dims.length !== 2 || y.dims.length !== 2) throw new RangeError('MatMul of constants that are not matrices');
      const [r, k] = x.dims, c = y.dims[1];
      const out = new Float64Array(r * c);
      for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) {
        let s = 0;
        for (let t = 0; t < k; t++) s += x.data[i * k + t] * y.data[t * c + j];
        out[i * c + j] = s;
      }
      return makeConst([r, c], out, x.type);
    }
    case 'Expand': {
      const to = ints(y);
      if (to.some((d) => Number.isNaN(d))) throw new RangeError('a constant expanded to a batch-sized shape');
      return binary(x, makeConst(to, new Float64Array(size(to))), (a) => a);
    }
    default:
      throw new RangeError(`${op} is not computed on constants`);
  }
}
