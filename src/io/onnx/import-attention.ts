// ONNX import: attention written out as MatMuls and a Softmax (our export's pattern) → MultiHeadAttention; a [T, D] table added to a sequence → a position layer.
import type { Layer } from '../../nn/layer.js';
import { layers } from '../../nn/layers/index.js';
import { sineEncoding } from '../../nn/layers/sine-position-encoding.js';
import { attr, type Const, reshape, size } from './import-eval.js';
import type { GraphView, OnnxNode } from './import-graph.js';
import type { Act, Translator } from './import-layers.js';

/** A projection x·W (+ b) split into heads: Transpose(Reshape(x·W + b, target)). */
interface Projection {
  /** The activation projected. */
  x: string;
  /** W's value [F, H·D], b's (absent without bias) and the head split's target [N, T, H, D]. */
  kernel: string;
  bias?: string;
  target: string;
  /** The product x·W. */
  product: OnnxNode;
}

/**
 * One attention found in a graph by its ops and their connections, translated when its last node (`end`) is reached;
 * the constants (head splits, scale, causal bias, kernel shapes) are read then, when the shapes they may be computed
 * from are known.
 */
export interface AttentionMatch {
  end: OnnxNode;
  /** Every node of the pattern, `end` included. */
  nodes: OnnxNode[];
  query: Projection;
  key: Projection;
  value: Projection;
  /** The output projection [H·Dv, out] (+ bias), and the heads' merge target [N, T, H·Dv]. */
  output: { kernel: string; bias?: string; target: string };
  /** Mul, Div and Add nodes with a constant between Q·Kᵀ and the Softmax: the scale and the causal bias. */
  scores: { op: string; value: string }[];
}

/** What {@link findAttention} returns: the matches by end node, their nodes, and why near misses did not match (by their Q·Kᵀ node). */
export interface AttentionPatterns {
  byEnd: Map<OnnxNode, AttentionMatch>;
  covered: Set<OnnxNode>;
  misses: Map<OnnxNode, string>;
}

/**
 * Finds attention written out as our export writes it (and as other exporters do, within the same ops): for q, k, v each
 * x·W (+ b) → Reshape [N, T, H, D] → Transpose [N, H, T, D]; Kᵀ by Transpose [0, 1, 3, 2] (or [0, 2, 3, 1] of the
 * split); scores = Q·Kᵀ times a scale (Mul or Div by a constant), optionally + a causal bias of −∞ (or ≤ −1e9) above the
 * diagonal; Softmax over the last axis; ·V → Transpose [0, 2, 1, 3] → Reshape [N, T, H·Dv] → ·W_o (+ b_o). Padding
 * masks (an Add of a mask-derived bias before the Softmax, a Mul by the live mask after it, as our export writes Keras'
 * masked softmax) are left to the masks our layers carry from an Embedding with maskZero. Every value inside must be
 * read only by the next node of the pattern.
 */
export function findAttention(g: GraphView): AttentionPatterns {
  const out: AttentionPatterns = { byEnd: new Map(), covered: new Set(), misses: new Map() };
  for (const sm of g.nodes) {
    if (sm.op !== 'Softmax' || g.kind(sm.outputs[0]) !== 'act') continue;
    const found = new Matcher(g).attention(sm);
    if (!found) continue;
    if (typeof found === 'string') {
      const qk = scoresProduct(g, sm);
      if (qk) out.misses.set(qk, found);
      continue;
    }
    out.byEnd.set(found.end, found);
    for (const n of found.nodes) out.covered.add(n);
  }
  return out;
}

/** The MatMul of two activations a Softmax's scores come from (through Mul/Div/Add with constants), if any. */
function scoresProduct(g: GraphView, sm: OnnxNode): OnnxNode | undefined {
  let p = g.producer.get(sm.inputs[0]);
  while (p && (p.op === 'Mul' || p.op === 'Div' || p.op === 'Add')) p = g.producer.get(p.inputs.find((i) => g.kind(i) === 'act') ?? '');
  return p?.op === 'MatMul' && g.kind(p.inputs[1]) === 'act' ? p : undefined;
}

/** Matches one attention from its Softmax by ops and connections; a string says why a product of activations is not one. */
class Matcher {
  private readonly nodes: OnnxNode[] = [];

  constructor(private readonly g: GraphView) {}

  attention(sm: OnnxNode): AttentionMatch | string | undefined {
    const g = this.g;
    this.nodes.push(sm);
    // Back from the softmax: the causal bias and the scale, in either order, down to Q·Kᵀ.
    const scores: AttentionMatch['scores'] = [];
    let cur = sm.inputs[0];
    let p = this.only(cur);
    for (; p && (p.op === 'Mul' || p.op === 'Div' || p.op === 'Add'); p = this.only(cur)) {
      const actIn = p.inputs.findIndex((i) => g.kind(i) === 'act');
      const c = p.inputs[1 - actIn];
      // An Add of a value computed from the inputs' padding masks: the masks our layers carry themselves.
      const masked = p.op === 'Add' && !!c && g.kind(c) === 'mask';
      if (actIn < 0 || !c || (!g.isConst(c) && !masked) || (p.op === 'Div' && actIn !== 0)) return undefined;
      if (!masked) scores.push({ op: p.op, value: c });
      this.nodes.push(p);
      cur = p.inputs[actIn];
    }
    if (p?.op !== 'MatMul' || g.kind(p.inputs[0]) !== 'act' || g.kind(p.inputs[1]) !== 'act') return undefined;
    this.nodes.push(p);
    const axis = attr(sm.raw, 'axis') ?? (g.opset >= 13 ? -1 : 1);
    if (axis !== -1 && axis !== 3) return `its Softmax runs over axis ${axis}, not the last`;
    const query = this.heads(p.inputs[0], [0, 2, 1, 3]);
    if (typeof query === 'string') return `the query ${query}`;
    const key = this.keyHeads(p.inputs[1]);
    if (typeof key === 'string') return `the key ${key}`;
    // Forward from the softmax (times the live mask when masked): ·V, heads merged, the output projection.
    let weights = sm.outputs[0];
    const live = this.g.soleConsumer(weights);
    if (live?.op === 'Mul' && live.inputs.some((i) => g.kind(i) === 'mask')) {
      this.nodes.push(live);
      weights = live.outputs[0];
    }
    const pv = this.g.soleConsumer(weights);
    if (!pv) return 'has its weights (the Softmax) read besides by the product with the values, e.g. returned as attention scores, which import does not read back';
    if (pv.op !== 'MatMul' || pv.inputs[0] !== weights) return 'does not multiply its weights (the Softmax) by the values next';
    this.nodes.push(pv);
    const value = this.heads(pv.inputs[1], [0, 2, 1, 3]);
    if (typeof value === 'string') return `the value ${value}`;
    const t = this.next(pv.outputs[0], 'Transpose');
    if (!t || String(attr(t.raw, 'perm')) !== '0,2,1,3') return 'the context is not transposed back to [N, T, H, D]';
    const merged = this.next(t.outputs[0], 'Reshape');
    if (!merged || !g.isConst(merged.inputs[1])) return 'the heads are not merged back by a Reshape';
    const om = this.next(merged.outputs[0], 'MatMul');
    if (!om || om.inputs[0] !== merged.outputs[0] || !g.isConst(om.inputs[1])) return 'the merged heads are not projected by a constant kernel';
    const ob = this.bias(om.outputs[0]);
    const biased = [query.bias, key.bias, value.bias, ob?.bias].filter((b) => b !== undefined).length;
    if (biased !== 0 && biased !== 4) return 'some of its projections have a bias and others none (one useBias for all is imported)';
    const end = ob ? ob.node : om;
    return { end, nodes: [...this.nodes, end], query, key, value, output: { kernel: om.inputs[1], bias: ob?.bias, target: merged.inputs[1] }, scores };
  }

  /** K's heads read as Kᵀ: Transpose [0, 1, 3, 2] of the [N, H, T, D] split, or Transpose [0, 2, 3, 1] of the [N, T, H, D] reshape. */
  private keyHeads(kt: string): Projection | string {
    const t = this.only(kt);
    if (t?.op !== 'Transpose') return 'is not transposed for Q·Kᵀ';
    const perm = String(attr(t.raw, 'perm'));
    if (perm === '0,1,3,2') {
      this.nodes.push(t);
      return this.heads(t.inputs[0], [0, 2, 1, 3]);
    }
    return perm === '0,2,3,1' ? this.heads(kt, [0, 2, 3, 1]) : `is transposed by [${perm}] for Q·Kᵀ`;
  }

  /** Transpose(perm) of Reshape(x·W (+ b), target). */
  private heads(v: string, perm: number[]): Projection | string {
    const g = this.g;
    const t = this.only(v);
    if (t?.op !== 'Transpose' || String(attr(t.raw, 'perm')) !== String(perm)) return `is not split into heads by a Transpose [${perm.join(', ')}]`;
    const r = this.only(t.inputs[0]);
    if (r?.op !== 'Reshape' || !g.isConst(r.inputs[1])) return 'is not split into heads by a Reshape';
    this.nodes.push(t, r);
    let x = r.inputs[0];
    let bias: string | undefined;
    const add = this.only(x);
    if (add?.op === 'Add') {
      const ci = add.inputs.findIndex((i) => g.isConst(i));
      if (ci < 0) return 'is a sum of two activations, not a projection';
      bias = add.inputs[ci];
      x = add.inputs[1 - ci];
      this.nodes.push(add);
    }
    const mm = this.only(x);
    if (mm?.op !== 'MatMul' || g.kind(mm.inputs[0]) !== 'act' || !g.isConst(mm.inputs[1])) return 'is not a product of an activation and a constant kernel';
    this.nodes.push(mm);
    return { x: mm.inputs[0], kernel: mm.inputs[1], bias, target: r.inputs[1], product: mm };
  }

  /** A bias Add of a constant reading `v` alone, if there is one. */
  private bias(v: string): { node: OnnxNode; bias: string } | undefined {
    const add = this.g.soleConsumer(v);
    const c = add?.op === 'Add' ? add.inputs.find((i) => i !== v) : undefined;
    return add && c && this.g.isConst(c) ? { node: add, bias: c } : undefined;
  }

  /** The producer of `v` when `v` is read only by the pattern's next node. */
  private only(v: string): OnnxNode | undefined {
    return this.g.uses(v) === 1 ? this.g.producer.get(v) : undefined;
  }

  /** The one node reading `v` when it is of type `op`. */
  private next(v: string, op: string): OnnxNode | undefined {
    const n = this.g.soleConsumer(v);
    if (n?.op !== op) return undefined;
    this.nodes.push(n);
    return n;
  }
}

/** [Tq, Tv] when `c` (leading size-1 axes allowed) is 0 on and below the diagonal and −∞ (or ≤ −1e9) above it. */
function causalOf(c: Const): [number, number] | undefined {
  const dims = c.dims.slice();
  while (dims.length > 2 && dims[0] === 1) dims.shift();
  if (dims.length !== 2) return undefined;
  const [tq, tv] = dims;
  for (let i = 0; i < tq; i++) {
    for (let j = 0; j < tv; j++) {
      const x = c.data[i * tv + j];
      if (j <= i ? x !== 0 : !(x <= -1e9)) return undefined;
    }
  }
  return [tq, tv];
}

/**
 * Builds the MultiHeadAttention of a match (at its end node): heads and depths from the head splits, the scale checked
 * against 1/√key depth, the causal bias against the steps; weights traced to the initializers like any layer's.
 */
export function attentionLayer(tr: Translator, m: AttentionMatch): void {
  const g = tr.g;
  const fail = (why: string): never => g.fail(`${g.where(m.end)}: an attention that ${why}`);
  const [q, v, k] = [m.query, m.value, m.key].map((p) => tr.act(p.x));
  for (const a of [q, v, k]) {
    if (String(a.axes) !== '0,1,2' || a.rows || a.reversed) fail(`reads a value that is not a sequence [N, T, F] here ([${tr.dims(a).join(', ')}])`);
  }
  const [tq, tv] = [q.t.shape[0], v.t.shape[0]];
  if (k.t.shape[0] !== tv) fail(`reads keys of ${k.t.shape[0]} steps and values of ${tv}`);
  const ints = (name: string): number[] => Array.from(g.constOf(name).data);
  const split = (what: string, p: Projection, a: Act): { h: number; d: number } => {
    const w = g.constOf(p.kernel).dims;
    const to = ints(p.target);
    const [n, t, h, d] = to;
    const steps = a.t.shape[0];
    if (to.length !== 4 || !(n === 0 || n === -1 || Number.isNaN(n)) || !(t === 0 || t === steps || (t === -1 && n === 0)) || !(h > 0 && d > 0)) {
      fail(`splits its ${what} into heads by a Reshape to [${to.join(', ')}], not [N, ${steps}, H, D]`);
    }
    if (w.length !== 2 || w[0] !== a.t.shape[1] || w[1] !== h * d) fail(`has a ${what} kernel '${p.kernel}' [${w.join(', ')}] for ${a.t.shape[1]} features and ${h} heads of ${d}`);
    if (p.bias !== undefined && size(g.constOf(p.bias).dims) !== h * d) fail(`adds a ${what} bias '${p.bias}' of ${size(g.constOf(p.bias).dims)} numbers for ${h} heads of ${d}`);
    return { h, d };
  };
  const [sq, sk, sv] = [split('query', m.query, q), split('key', m.key, k), split('value', m.value, v)];
  if (sq.h !== sk.h || sq.h !== sv.h) fail(`splits query, key and value into ${sq.h}, ${sk.h} and ${sv.h} heads`);
  if (sq.d !== sk.d) fail(`has query and key heads of ${sq.d} and ${sk.d} features`);
  const h = sq.h;
  const merged = ints(m.output.target);
  if (merged.length !== 3 || !(merged[2] === -1 || merged[2] === h * sv.d)) fail(`merges its heads by a Reshape to [${merged.join(', ')}], not [N, ${tq}, ${h * sv.d}]`);
  const wo = g.constOf(m.output.kernel).dims;
  if (wo.length !== 2 || wo[0] !== h * sv.d) fail(`has an output kernel '${m.output.kernel}' [${wo.join(', ')}] for ${h} heads of ${sv.d}`);
  const units = wo[1];
  if (m.output.bias !== undefined && size(g.constOf(m.output.bias).dims) !== units) fail(`adds an output bias of ${size(g.constOf(m.output.bias).dims)} numbers to ${units} units`);
  let scale = 1;
  let causal = false;
  for (const s of m.scores) {
    const c = g.constOf(s.value);
    if (s.op === 'Add') {
      const mask = causalOf(c);
      if (causal || !mask) fail(`adds a constant [${c.dims.join(', ')}] to its scores that is not a causal mask (−∞ above the diagonal, 0 elsewhere; padding masks are not imported)`);
      if (mask![0] !== tq || mask![1] !== tv) fail(`has a causal mask [${mask!.join(', ')}] for ${tq} query and ${tv} value steps`);
      causal = true;
    } else {
      if (size(c.dims) !== 1) fail(`scales its scores by a constant [${c.dims.join(', ')}], not one number`);
      scale *= s.op === 'Mul' ? c.data[0] : 1 / c.data[0];
    }
  }
  if (Math.abs(scale * Math.sqrt(sq.d) - 1) > 1e-5) fail(`scales its scores by ${scale}, not 1/√${sq.d} (1/√key depth is imported)`);
  // Our export's names: '<layer path>/query/kernel' for the kernel, '<layer path>/query/matmul/MatMul' for its product.
  const stem = /^(.+)\/query\/kernel$/.exec(rootName(g, m.query.kernel))?.[1] ?? /^\/?(.+)\/query\/matmul\//.exec(m.query.product.name)?.[1];
  const name = tr.unique(stem ?? '') || tr.unique('multi_head_attention');
  const useBias = m.query.bias !== undefined;
  const layer = layers.multiHeadAttention({
    numHeads: h, keyDim: sq.d, valueDim: sv.d, useBias, useCausalMask: causal, outputShape: units === q.t.shape[1] ? null : units, name,
  });
  const set = (sub: string, weight: 'kernel' | 'bias', value: string, dims: number[]): void => {
    tr.setWeight(() => layer.sublayers().find((s) => s.name === sub)!, weight, tr.w.map(value, (c) => reshape(c, dims), `${name}/${sub}/${weight}`));
  };
  for (const [sub, p, a, d] of [['query', m.query, q, sq.d], ['key', m.key, k, sk.d], ['value', m.value, v, sv.d]] as const) {
    set(sub, 'kernel', p.kernel, [a.t.shape[1], h, d]);
    if (useBias) set(sub, 'bias', p.bias!, [h, d]);
  }
  set('attention_output', 'kernel', m.output.kernel, [h, sv.d, units]);
  if (useBias) set('attention_output', 'bias', m.output.bias!, [units]);
  const [xq, xv, xk] = [m.query.x, m.value.x, m.key.x];
  const xs = xq === xv && xv === xk ? [q] : xv === xk ? [q, v] : [q, v, k];
  tr.apply(layer, xs, m.end.outputs[0], q.axes);
}

/** The initializer a constant's numbers come from (through ops that only move them), else the value itself. */
function rootName(g: GraphView, v: string): string {
  let cur = v;
  while (!g.initializers.has(cur) && g.producer.get(cur)) {
    const n = g.producer.get(cur)!;
    const next = n.inputs.find((i) => i && g.isConst(i));
    if (!next || !['Identity', 'Reshape', 'Transpose', 'Cast'].includes(n.op)) break;
    cur = next;
  }
  return cur;
}

/**
 * `x + table` with a constant [T, D] table (optionally Expand-ed to x's Shape, optionally a Slice of rows [0, T) of a
 * longer table) on a sequence x [N, T, D]: a SinePositionEncoding when the table is the sinusoidal one (its maxWavelength
 * found from the table), else a PositionEmbedding holding the table; then an Add layer. False when `n` is no such Add.
 */
export function positions(tr: Translator, n: OnnxNode): boolean {
  const g = tr.g;
  const ai = n.inputs.findIndex((i) => g.kind(i) === 'act');
  const table = n.inputs[1 - ai];
  if (n.op !== 'Add' || n.inputs.length !== 2 || ai < 0 || !g.isConst(table)) return false;
  const x = tr.act(n.inputs[ai]);
  if (String(x.axes) !== '0,1,2' || x.rows || x.reversed) return false;
  const [steps, dim] = x.t.shape;
  let data = table;
  let source = x;
  const expand = g.producer.get(table);
  const shapeOf = expand?.op === 'Expand' ? g.producer.get(expand.inputs[1]) : undefined;
  if (shapeOf?.op === 'Shape' && g.kind(shapeOf.inputs[0]) === 'act' && attr(shapeOf.raw, 'start') === undefined && attr(shapeOf.raw, 'end') === undefined) {
    data = expand!.inputs[0];
    source = tr.act(shapeOf.inputs[0]);
    if (String(source.axes) !== '0,1,2' || String(source.t.shape) !== String(x.t.shape)) return false;
  }
  const c = g.constOf(data);
  const dims = c.dims.slice();
  while (dims.length > 2 && dims[0] === 1) dims.shift();
  if (String(dims) !== `${steps},${dim}`) return false;
  const name = tr.layerName(n, data) || undefined;
  const wavelength = g.initializers.has(data) ? sineWavelength(c.data, steps, dim) : undefined;
  let layer: Layer;
  if (wavelength !== undefined) {
    layer = layers.sinePositionEncoding({ maxWavelength: wavelength, name });
  } else {
    // A Slice of rows [0, T) of a longer table: the table is the weight (the layer slices it per call, as ours does).
    const slice = g.producer.get(data);
    const rows = slice?.op === 'Slice' ? sliceOfFirstRows(g, slice, steps) : undefined;
    const weight = rows ? slice!.inputs[0] : data;
    const length = rows ?? steps;
    const learned = layers.positionEmbedding({ sequenceLength: length, name });
    layer = learned;
    tr.setWeight(() => learned, 'embeddings', tr.w.map(weight, (t) => reshape(t, [length, dim]), `${name ?? 'position_embedding'}/embeddings`));
  }
  tr.apply(layer, [source], table);
  tr.merge(n);
  return true;
}

/** The rows of a Slice's 2-D input when it takes rows [0, T) of axis 0 (step 1) and all columns; else undefined. */
function sliceOfFirstRows(g: GraphView, s: OnnxNode, steps: number): number | undefined {
  const input = s.inputs[0];
  if (!g.isConst(input)) return undefined;
  const dims = g.constOf(input).dims;
  const opt = (i: number, name: string): number[] | undefined => (g.opset >= 10 ? (s.inputs[i] ? Array.from(g.constOf(s.inputs[i]).data) : undefined) : attr(s.raw, name));
  const [starts, ends, axes = [0], stepsBy = [1]] = [opt(1, 'starts'), opt(2, 'ends'), opt(3, 'axes'), opt(4, 'steps')];
  if (dims.length !== 2 || String(starts) !== '0' || String(axes) !== '0' || String(stepsBy) !== '1' || !ends || Math.min(ends[0], dims[0]) !== steps) return undefined;
  return dims[0];
}

/** The maxWavelength w whose sinusoidal table [T, D] (SinePositionEncoding's) `data` is (to 1e-6), if it is one. */
function sineWavelength(data: Float64Array, steps: number, dim: number): number | undefined {
  if (steps < 2 || dim < 4) return undefined;
  // Row 1, column 2 is sin(w^(−2/D)): w from it, rounded, then the whole table compared.
  const guess = Math.round(Math.pow(Math.asin(Math.min(1, Math.max(-1, data[dim + 2]))), -dim / 2));
  for (const w of new Set([guess, 10000])) {
    if (!(w > 0 && Number.isFinite(w))) continue;
    const want = sineEncoding(steps, dim, w);
    if (want.every((y, i) => Math.abs(y - data[i]) <= 1e-6)) return w;
  }
  return undefined;
}
