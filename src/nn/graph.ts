// The layer graph of a functional model: tracing symbolic tensors back to the inputs, in topological order, and running it.
import { tidy } from '../core/engine.js';
import { ShapeError } from '../core/errors.js';
import { recording } from '../core/tape.js';
import type { Tensor } from '../core/tensor.js';
import { withWeightCache } from '../sharing/cache.js';
import { batchShape, type CallContext, type Layer, type MaskedOutputs, SymbolicTensor } from './layer.js';

/** One application of a layer in a model's graph. */
export interface GraphNode {
  layer: Layer;
  /** Which use of the layer this is within the graph (0 for the first; a reused layer has several nodes). */
  application: number;
  inputs: readonly SymbolicTensor[];
  outputs: readonly SymbolicTensor[];
  /** The first input (every layer has at least one). */
  input: SymbolicTensor;
  /** The first output. */
  output: SymbolicTensor;
}

/**
 * The applications between `inputs` and `outputs`, in creation order (a topological order: a node is created after
 * the tensors it takes). Throws, naming the model, the layer and the node, when an output needs a tensor that does not
 * come from the inputs, or an input reaches no output.
 */
export function traceGraph(modelName: string, inputs: readonly SymbolicTensor[], outputs: readonly SymbolicTensor[]): GraphNode[] {
  const where = `model '${modelName}'`;
  if (inputs.length === 0 || outputs.length === 0) throw new Error(`${where}: needs at least one input and one output`);
  for (const t of [...inputs, ...outputs]) {
    if (!(t instanceof SymbolicTensor)) throw new TypeError(`${where}: inputs and outputs must be symbolic tensors (from input() and layer.apply())`);
  }
  for (const t of inputs) if (t.node) throw new Error(`${where}: inputs must come from input(), but one is the output ${t.describe()}`);
  const names = new Set<string>();
  for (const t of inputs) {
    if (t.defaultName) continue;
    if (names.has(t.name)) throw new Error(`${where}: two inputs are named '${t.name}' (give each input a name)`);
    names.add(t.name);
  }
  for (const t of inputs) {
    if (!t.defaultName) continue;
    // An unnamed input takes 'input', or the first of input_1, input_2, … that no other input of the model has (Keras too numbers them).
    let name = t.name;
    for (let k = 1; names.has(name); k++) name = `input_${k}`;
    t.name = name;
    names.add(name);
  }
  const given = new Set(inputs);
  const reached = new Set<SymbolicTensor>();
  const seen = new Set<unknown>();
  const found: GraphNode[] = [];
  const stack: [SymbolicTensor, string][] = outputs.map((t) => [t, 'the outputs']);
  while (stack.length) {
    const [t, user] = stack.pop()!;
    if (!t.node) {
      if (!given.has(t)) throw new Error(`${where}: graph disconnected: ${user} need${user === 'the outputs' ? '' : 's'} input '${t.name}' ${batchShape(t.shape)}, which is not among the model's inputs (${inputs.map((i) => `'${i.name}'`).join(', ')})`);
      reached.add(t);
      continue;
    }
    if (seen.has(t.node)) continue;
    seen.add(t.node);
    const n = t.node;
    found.push({ layer: n.layer, application: 0, inputs: n.inputs, outputs: n.outputs, input: n.inputs[0], output: n.outputs[0] });
    for (const x of n.inputs) stack.push([x, `layer '${n.layer.name || n.layer.defaultName}' (node ${n.index})`]);
  }
  const unused = inputs.filter((t) => !reached.has(t));
  if (unused.length) throw new Error(`${where}: input${unused.length > 1 ? 's' : ''} ${unused.map((t) => `'${t.name}'`).join(', ')} reach${unused.length > 1 ? '' : 'es'} none of the outputs`);
  found.sort((a, b) => a.output.id - b.output.id);
  const uses = new Map<Layer, number>();
  for (const n of found) {
    n.application = uses.get(n.layer) ?? 0;
    uses.set(n.layer, n.application + 1);
  }
  return found;
}

/** The context path of a node: the layer's name at its first use, `name#k` at its k-th reuse. */
export function nodePath(n: GraphNode): string {
  return n.application === 0 ? n.layer.name : `${n.layer.name}#${n.application}`;
}

/** A node run together with the next one (see {@link Layer.fusedWith}). */
interface Fusion {
  next: GraphNode;
  run: (x: Tensor, ctx: CallContext) => Tensor;
}

const fusionCache = new WeakMap<readonly GraphNode[], { outputs: readonly SymbolicTensor[]; fusions: Map<GraphNode, Fusion> }>();

/**
 * The nodes that run fused with the node after them: that node takes their only output, which no other node uses and
 * the graph does not return, and their layer offers the fusion. Found once per node list (and outputs).
 */
function fusions(nodes: readonly GraphNode[], outputs: readonly SymbolicTensor[]): Map<GraphNode, Fusion> {
  const hit = fusionCache.get(nodes);
  if (hit && hit.outputs === outputs) return hit.fusions;
  const uses = new Map<SymbolicTensor, number>();
  for (const s of [...nodes.flatMap((n) => n.inputs), ...outputs]) uses.set(s, (uses.get(s) ?? 0) + 1);
  const found = new Map<GraphNode, Fusion>();
  for (let i = 0; i + 1 < nodes.length; i++) {
    const n = nodes[i], next = nodes[i + 1];
    if (n.outputs.length !== 1 || next.inputs.length !== 1 || next.outputs.length !== 1 || next.input !== n.output || uses.get(n.output) !== 1) continue;
    const run = n.layer.fusedWith(next.layer);
    if (run) found.set(n, { next, run });
  }
  fusionCache.set(nodes, { outputs, fusions: found });
  return found;
}

/**
 * Runs the graph on one batch per input; returns one batch per output and the outputs' Keras masks. Weights are
 * materialised once for the whole pass. Masks travel from node to node: each layer gets its inputs' masks in
 * `ctx.masks` and says its outputs' through `callWithMasks` (see `Layer.computeMask`); `ctx.masks` are the graph
 * inputs' masks (a Block hands on its own). `logitsNode` (the node making the single output, when the loss wants logits)
 * gets `ctx.logits`; `prefix` is the context path of a graph inside a layer (a Block), prepended to each node's path.
 *
 * Without a recording tape (inference, evaluation) memory stays that of the widest point of the graph, not the sum of
 * all its layers: each node runs in a tidy scope of its own (its temporaries freed when it returns), and a value is
 * freed once the last node that reads it has run, unless the graph returns it, it is one of `xs`, or it is kept (a
 * weight). With a tape every value lives until the pass's caller frees it: the backward pass reads them.
 */
export function runGraph(
  nodes: readonly GraphNode[], inputs: readonly SymbolicTensor[], outputs: readonly SymbolicTensor[], xs: readonly Tensor[],
  ctx: CallContext, logitsNode?: GraphNode, prefix?: string,
): MaskedOutputs {
  return withWeightCache(() => {
    const values = new Map<SymbolicTensor, Tensor>();
    const masks = new Map<SymbolicTensor, Tensor>();
    inputs.forEach((s, i) => {
      values.set(s, xs[i]);
      const m = ctx.masks?.[i];
      if (m) masks.set(s, m);
    });
    const fused = fusions(nodes, outputs);
    const free = recording() ? undefined : new Freer(nodes, outputs, xs, ctx.masks);
    for (let i = 0; i < nodes.length; i++) {
      const n = nodes[i];
      const c: CallContext = { training: ctx.training, seed: ctx.seed, logits: n === logitsNode ? ctx.logits : false, path: prefix ? `${prefix}/${nodePath(n)}` : nodePath(n) };
      const f = fused.get(n);
      if (f && !masks.has(n.input)) { // fused layers (convolution + pooling) keep no mask
        const x = values.get(n.input)!;
        values.set(f.next.output, free ? tidy(() => f.run(x, c)) : f.run(x, c));
        free?.release(n.input, values);
        i++;
        continue;
      }
      const args = n.inputs.map((s) => values.get(s)!);
      const call = (): MaskedOutputs => n.layer.callWithMasks(args, n.inputs.map((s) => masks.get(s)), c);
      const r = free ? tidy(() => { const o = call(); return { outputs: o.outputs, masks: o.masks?.map((m) => m ?? null) }; }) : call();
      if (r.outputs.length !== n.outputs.length) {
        throw new ShapeError(`layer '${n.layer.name}' (${n.layer.className})`, `made ${r.outputs.length} outputs at node ${n.application}, expected ${n.outputs.length}`);
      }
      n.outputs.forEach((s, i) => {
        values.set(s, r.outputs[i]);
        const m = r.masks?.[i];
        if (m) masks.set(s, m);
      });
      for (const s of n.inputs) free?.release(s, values);
    }
    return { outputs: outputs.map((s) => values.get(s)!), masks: outputs.map((s) => masks.get(s)) };
  });
}

/**
 * Frees a graph's intermediate values after their last reader (see {@link runGraph}): counts the reads still to come
 * of each symbolic tensor, and frees its tensor when none are left and no other live value is the same tensor (a layer
 * may hand back its input). Masks are never freed (layers pass them on unchanged, and they are small).
 */
class Freer {
  /** Reads still to come, per symbolic tensor. */
  private readonly reads = new Map<SymbolicTensor, number>();
  private readonly pinned = new Set<Tensor>();
  private readonly returned: ReadonlySet<SymbolicTensor>;

  constructor(nodes: readonly GraphNode[], outputs: readonly SymbolicTensor[], xs: readonly Tensor[], masks: readonly (Tensor | undefined)[] | undefined) {
    for (const n of nodes) for (const s of n.inputs) this.reads.set(s, (this.reads.get(s) ?? 0) + 1);
    this.returned = new Set(outputs);
    for (const t of xs) this.pinned.add(t);
    for (const m of masks ?? []) if (m) this.pinned.add(m);
  }

  /** One read of `s` done (a node has run on it): frees its tensor when nothing will read or return it any more. */
  release(s: SymbolicTensor, values: Map<SymbolicTensor, Tensor>): void {
    const t = values.get(s);
    if (t === undefined) return;
    const left = (this.reads.get(s) ?? 1) - 1;
    this.reads.set(s, left);
    if (left > 0 || this.returned.has(s)) return;
    values.delete(s);
    if (this.pinned.has(t) || t.kept || t.isDisposed) return;
    for (const other of values.values()) if (other === t) return;
    t.dispose();
  }
}
