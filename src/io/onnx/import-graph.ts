// ONNX import: a decoded graph's nodes in topological order, who makes and reads each value, which values are constant, and their values.
import { type Const, evaluate, OnnxImportError, readTensor } from './import-eval.js';

/** One NodeProto, its fields flattened. */
export interface OnnxNode {
  op: string;
  domain: string;
  name: string;
  /** Input value names ('' for an omitted optional input). */
  inputs: string[];
  outputs: string[];
  /** The decoded NodeProto (attributes). */
  raw: Record<string, any>;
  /** Position in the file's node list. */
  index: number;
}

/**
 * What a value is: 'const' (an initializer, or computed from constants and shapes alone: folded at import), 'act' (it
 * depends on the model's inputs: becomes layers) or 'mask' (computed from `Equal(ids, 0)`: the padding mask of an
 * Embedding with maskZero, which our layers carry themselves).
 */
export type ValueKind = 'const' | 'act' | 'mask';

/** A graph being imported: nodes, producers and consumers, kinds, and memoised constant values. */
export class GraphView {
  readonly nodes: OnnxNode[];
  readonly producer = new Map<string, OnnxNode>();
  readonly consumers = new Map<string, OnnxNode[]>();
  readonly kinds = new Map<string, ValueKind>();
  readonly initializers = new Map<string, Record<string, any>>();
  readonly outputs: string[];
  private readonly consts = new Map<string, Const>();
  /** ONNX dims of an activation (NaN for the batch axis), for Shape nodes; set by the layer translator. */
  actDims: (name: string) => number[] = () => [];

  constructor(readonly file: string, readonly opset: number, graph: Record<string, any>, inputs: readonly string[]) {
    for (const t of graph.initializer ?? []) this.initializers.set(t.name, t);
    const raw = ((graph.node ?? []) as Record<string, any>[]).map((n, index): OnnxNode => ({
      op: n.op_type ?? '', domain: n.domain ?? '', name: n.name ?? '', inputs: n.input ?? [], outputs: n.output ?? [], raw: n, index,
    }));
    for (const i of inputs) this.kinds.set(i, 'act');
    for (const name of this.initializers.keys()) if (!this.kinds.has(name)) this.kinds.set(name, 'const');
    this.nodes = this.sorted(raw);
    for (const n of this.nodes) {
      for (const o of n.outputs) if (o) this.producer.set(o, n);
      for (const i of new Set(n.inputs)) if (i) this.consumers.set(i, [...(this.consumers.get(i) ?? []), n]);
      this.kinds.set(n.outputs[0], this.kindOf(n));
      for (const o of n.outputs.slice(1)) this.kinds.set(o, this.kinds.get(n.outputs[0])!);
    }
    this.outputs = ((graph.output ?? []) as Record<string, any>[]).map((o) => o.name);
    for (const o of this.outputs) if (!this.kinds.has(o)) this.fail(`graph output '${o}' is made by no node`);
  }

  /** Throws an {@link OnnxImportError} '<file>: message'. */
  fail(message: string): never {
    throw new OnnxImportError(`${this.file}: ${message}`);
  }

  /** "node 'conv1/Conv' (Conv)", or "node #12 (Mul, output '_3')" for an unnamed one. */
  where(n: OnnxNode): string {
    return n.name ? `node '${n.name}' (${n.op})` : `node #${n.index} (${n.op}, output '${n.outputs[0]}')`;
  }

  /** How many nodes read the value, plus one if it is a graph output. */
  uses(name: string): number {
    return (this.consumers.get(name)?.length ?? 0) + (this.outputs.includes(name) ? 1 : 0);
  }

  /** The only node reading `name` when it is read once and is no graph output; else undefined. */
  soleConsumer(name: string): OnnxNode | undefined {
    return this.uses(name) === 1 ? this.consumers.get(name)?.[0] : undefined;
  }

  kind(name: string): ValueKind {
    return this.kinds.get(name)!;
  }

  isConst(name: string): boolean {
    return this.kinds.get(name) === 'const';
  }

  /** The value of a constant (an initializer, or its producer evaluated on its inputs' values), computed once. */
  constOf(name: string): Const {
    let c = this.consts.get(name);
    if (c) return c;
    const init = this.initializers.get(name);
    if (init) c = readTensor(init, `${this.file}: initializer '${name}'`);
    else {
      const n = this.producer.get(name);
      if (!n || this.kinds.get(name) !== 'const') this.fail(`'${name}' is not a constant`);
      if (n.op === 'Size' && this.kind(n.inputs[0]) === 'act') c = { dims: [], data: Float64Array.of(NaN), type: 'int' };
      else if (n.op === 'Shape' && this.kind(n.inputs[0]) === 'act') c = this.evaluate(n, [{ dims: [this.actDims(n.inputs[0]).length], data: Float64Array.from(this.actDims(n.inputs[0])), type: 'int' }], true);
      else c = this.evaluate(n, n.inputs.map((i) => (i ? this.constOf(i) : undefined)));
      if (n.outputs.length > 1 && n.outputs[0] !== name) this.fail(`${this.where(n)}: output '${name}' is not computed at import (only the first output of a constant node)`);
    }
    this.consts.set(name, c);
    return c;
  }

  /** Evaluates `n` on the given input values (`shapeOf`: the input is already the Shape's result). */
  evaluate(n: OnnxNode, xs: (Const | undefined)[], shapeOf = false): Const {
    try {
      if (shapeOf) {
        const start = n.raw.attribute?.find((a: any) => a.name === 'start')?.i ?? 0;
        const end = n.raw.attribute?.find((a: any) => a.name === 'end')?.i;
        const d = Array.from(xs[0]!.data);
        const r = d.length;
        const s = start < 0 ? start + r : start, e = end === undefined ? r : end < 0 ? end + r : end;
        return { dims: [e - s], data: Float64Array.from(d.slice(s, e)), type: 'int' };
      }
      if (xs.some((x) => x?.fill !== undefined) && !(n.op === 'Squeeze' || n.op === 'Unsqueeze' || n.op === 'Identity')) {
        throw new RangeError(`a batch-sized constant is read by ${n.op}`);
      }
      return evaluate(n.op, n.raw, xs, this.opset);
    } catch (e) {
      if (e instanceof OnnxImportError) throw e;
      this.fail(`${this.where(n)}: ${(e as Error).message}`);
    }
  }

  /** Kahn's topological order (files should already be sorted; the order among ready nodes is kept). */
  private sorted(nodes: OnnxNode[]): OnnxNode[] {
    const made = new Set<string>(this.kinds.keys());
    const out: OnnxNode[] = [];
    let left = nodes;
    while (left.length) {
      const next: OnnxNode[] = [];
      for (const n of left) {
        if (n.inputs.every((i) => !i || made.has(i))) {
          out.push(n);
          for (const o of n.outputs) made.add(o);
        } else next.push(n);
      }
      if (next.length === left.length) {
        const n = next[0];
        const missing = n.inputs.find((i) => i && !made.has(i) && !nodes.some((m) => m.outputs.includes(i)));
        if (missing) this.fail(`${this.where(n)} reads '${missing}', which is no graph input, initializer or node output (a missing initializer?)`);
        this.fail(`${this.where(n)} is on a cycle of nodes`);
      }
      left = next;
    }
    return out;
  }

  private kindOf(n: OnnxNode): ValueKind {
    if (n.op === 'Constant') return 'const';
    const ins = n.inputs.filter((i) => i).map((i) => this.kinds.get(i)!);
    if ((n.op === 'Shape' || n.op === 'Size') && ins[0] === 'act') return 'const';
    if (ins.includes('act')) return n.op === 'Equal' ? 'mask' : 'act';
    return ins.includes('mask') ? 'mask' : 'const';
  }
}
