// ONNX import: a layer's weight as a sharing map, found by tracing its value back to the initializers it moves (codebook, hashed, low rank, tied).
import { tensor } from '../../core/ops/index.js';
import type { Shape } from '../../core/shape.js';
import { CodebookMap } from '../../sharing/codebook.js';
import { DenseMap } from '../../sharing/dense.js';
import { HashedMap } from '../../sharing/hashed.js';
import type { KMeansInit } from '../../sharing/kmeans.js';
import { LowRankMap } from '../../sharing/low-rank.js';
import { TiedMap } from '../../sharing/tied.js';
import type { WeightMap, WeightMapConfig } from '../../sharing/weight-map.js';
import { type Const, makeConst, size, transpose } from './import-eval.js';
import type { GraphView, OnnxNode } from './import-graph.js';

/** Ops that only move a weight's numbers (input 0, ScatterND's updates): a weight is traced through them to its initializer. */
const MOVES = new Set(['Identity', 'Reshape', 'Transpose', 'Unsqueeze', 'Squeeze', 'Flatten', 'Gather', 'Slice', 'Expand', 'ScatterND']);

/**
 * Where a weight's numbers come from: an initializer ('init'), U·V of two ('lowRank'), [θ, −θ] ('signed', a hashed
 * map's table) or a constant computed otherwise ('value'); `chain` moves them into the weight's value.
 */
interface Root {
  kind: 'init' | 'lowRank' | 'signed' | 'value';
  /** The value holding the numbers (the initializer, the MatMul or the Concat output). */
  name: string;
  /** θ's initializer names: [init], [U, V], [θ]. */
  params: string[];
  chain: { node: OnnxNode; input: number }[];
}

/** A map made for a root, to tie later readers of the same numbers to it. */
interface Made {
  map: WeightMap;
  path: string;
  /** For each element of W (ours), 1 + the root element it reads (0: a zero). */
  trace: Float64Array;
}

/** Turns weight values into maps; one per graph, so that a second reader of the same initializer gets a tied map. */
export class WeightImporter {
  private readonly made = new Map<string, Made[]>();
  /** Weights computed (not moved) from initializers, by those initializers and a caller's key: see {@link computed}. */
  private readonly computedMade = new Map<string, { map: WeightMap; path: string; data: Float64Array }[]>();

  constructor(private readonly g: GraphView, private readonly recipes: Record<string, WeightMapConfig>, private readonly note: (s: string) => void) {}

  /** W = convert(value) in our layout as a map, `path` ('dense/kernel') naming it in notes and ties; `convert` only moves numbers. */
  map(value: string, convert: (c: Const) => Const, path: string): WeightMap {
    const real = convert(this.g.constOf(value));
    const root = this.root(value);
    if (root.kind === 'value') return dense(real);
    const rootDims = root.kind === 'lowRank' ? [this.g.constOf(root.params[0]).dims[0], this.g.constOf(root.params[1]).dims[1]] : this.g.constOf(root.name).dims;
    let t: Const = { dims: rootDims, data: Float64Array.from({ length: size(rootDims) }, (_, i) => i + 1), type: 'int' };
    for (const { node, input } of root.chain) t = this.g.evaluate(node, node.inputs.map((n, i) => (i === input ? t : n ? this.g.constOf(n) : undefined)));
    const trace = convert(t).data;
    const shape = real.dims;
    const earlier = this.made.get(root.name) ?? [];
    for (const prev of earlier) {
      if (same(trace, prev.trace)) return new TiedMap(prev.map, prev.path, false);
      if (shape.length === 2 && prev.map.shape.length === 2 && same(trace, transpose({ dims: [...prev.map.shape], data: prev.trace, type: 'int' }, [1, 0]).data)) {
        return new TiedMap(prev.map, prev.path, true);
      }
    }
    // Another part of the same initializer (a bidirectional op's second direction) is a weight of its own.
    const overlap = earlier.find((prev) => overlaps(trace, prev.trace));
    if (overlap) {
      this.note(`${path}: reads numbers of '${overlap.path}' in an arrangement a tie (same or transposed) cannot express; imported as a copy`);
      return dense(real);
    }
    const map = this.fromRoot(root, real, trace, path);
    this.made.set(root.name, [...earlier, { map, path, trace }]);
    return map;
  }

  /**
   * A weight whose numbers are computed from `value` rather than moved (a recurrent bias sums B's two halves, so the
   * trace of {@link map} cannot follow it): tied to an earlier weight computed from the same float initializers, under
   * the same `key` (what the computation was), with the same numbers — a recurrent layer applied twice, e.g. to an
   * encoder's and a decoder's sequences; else a dense map of `real`.
   */
  computed(value: string, key: string, real: Const, path: string): WeightMap {
    const from = this.sources(value);
    if (!from) return dense(real);
    const k = `${from}\u0001${key}`, earlier = this.computedMade.get(k) ?? [];
    const prev = earlier.find((p) => same(p.data, Float64Array.from(real.data)));
    if (prev) return new TiedMap(prev.map, prev.path, false);
    const map = dense(real);
    this.computedMade.set(k, [...earlier, { map, path, data: Float64Array.from(real.data) }]);
    return map;
  }

  /** The float initializers a value is computed from (the weights, not index constants), sorted and joined ('' for none). */
  private sources(value: string): string {
    const found = new Set<string>(), seen = new Set<string>(), todo = [value];
    while (todo.length) {
      const v = todo.pop()!;
      if (seen.has(v)) continue;
      seen.add(v);
      if (!this.g.initializers.has(v)) todo.push(...(this.g.producer.get(v)?.inputs.filter((i) => i) ?? []));
      else if (this.g.constOf(v).type !== 'int') found.add(v);
    }
    return [...found].sort().join('\u0000');
  }

  /** Whether our export recorded `u` as the first factor of a low-rank map. */
  recordedLowRank(u: string): boolean {
    return this.recipes[u]?.kind === 'lowRank';
  }

  /** A Dense kernel written as two MatMuls x·U·V: a low-rank map of U [in, r] (rows moved by `rows`) and V [r, out]. */
  lowRank(u: string, v: string, rows: Int32Array | undefined, path: string): WeightMap {
    let uc = this.g.constOf(u);
    if (rows) uc = { ...uc, data: Float64Array.from({ length: uc.data.length }, (_, i) => uc.data[rows[Math.floor(i / uc.dims[1])] * uc.dims[1] + (i % uc.dims[1])]) };
    const vc = this.g.constOf(v);
    const m = new LowRankMap([uc.dims[0], vc.dims[1]], uc.dims[1], tensor(Float32Array.from(uc.data), uc.dims), tensor(Float32Array.from(vc.data), vc.dims));
    this.made.set(u, [{ map: m, path, trace: new Float64Array(0) }]);
    return m;
  }

  /** Follows a weight's value up through ops that only move numbers, to where its numbers are. */
  private root(value: string): Root {
    const chain: Root['chain'] = [];
    let v = value;
    for (;;) {
      if (this.g.initializers.has(v)) return { kind: 'init', name: v, params: [v], chain };
      const n = this.g.producer.get(v)!;
      const ins = n.inputs;
      const zeros = (name: string): boolean => this.g.constOf(name).data.every((x) => x === 0);
      const movable = MOVES.has(n.op) && (n.op !== 'ScatterND' || zeros(ins[0]));
      if (movable) {
        const input = n.op === 'ScatterND' ? 2 : 0;
        chain.unshift({ node: n, input });
        v = ins[input];
        continue;
      }
      const inits = ins.every((i) => this.g.initializers.has(i));
      if (n.op === 'MatMul' && inits && ins.every((i) => this.g.constOf(i).dims.length === 2)) return { kind: 'lowRank', name: v, params: [ins[0], ins[1]], chain };
      const neg = ins.length === 2 ? this.g.producer.get(ins[1]) : undefined;
      if (n.op === 'Concat' && neg?.op === 'Neg' && neg.inputs[0] === ins[0] && this.g.initializers.has(ins[0]) && this.g.constOf(ins[0]).dims.length === 1) {
        return { kind: 'signed', name: v, params: [ins[0]], chain };
      }
      return { kind: 'value', name: v, params: [], chain };
    }
  }

  private fromRoot(root: Root, real: Const, trace: Float64Array, path: string): WeightMap {
    const shape = real.dims;
    const n = trace.length;
    const recipe = this.recipes[root.params[0]];
    if (root.kind === 'lowRank') {
      const [u, v] = root.params.map((p) => this.g.constOf(p));
      const r = u.dims[1];
      const f32 = (c: Const): Float32Array => Float32Array.from(c.data);
      if (same(trace, iota(n))) return new LowRankMap(shape, r, tensor(f32(u), u.dims), tensor(f32(v), v.dims));
      if (shape.length === 2 && same(trace, transpose({ dims: [u.dims[0], v.dims[1]], data: iota(n), type: 'int' }, [1, 0]).data)) {
        return new LowRankMap(shape, r, tensor(f32(transpose(v, [1, 0])), [v.dims[1], r]), tensor(f32(transpose(u, [1, 0])), [r, u.dims[0]]));
      }
      this.note(`${path}: a low-rank product U·V rearranged beyond a transpose; imported as its dense W`);
      return dense(real);
    }
    if (root.kind === 'signed') {
      const theta = this.g.constOf(root.params[0]);
      const k = theta.data.length;
      if (recipe?.kind === 'hashed' && typeof recipe.seed === 'number' && recipe.signs !== false) {
        const h = new HashedMap(shape, k, recipe.seed, true, tensor(Float32Array.from(theta.data), [k]));
        const { index, sign } = h.tables();
        if (index.every((b, i) => trace[i] === 1 + b + (sign![i] < 0 ? k : 0))) return h;
        h.dispose();
      }
      this.note(`${path}: a hashed weight (a Gather from [θ, −θ]) whose hash ${recipe ? 'does not match its recorded seed' : 'seed the file does not record'}; imported as its dense W`);
      return dense(real);
    }
    const table = this.g.constOf(root.name);
    // A codebook reads a 1-D table smaller than W (or leaves zeros); anything else read from a constant is a plain copy.
    const zeros = trace.some((t) => t === 0);
    if ((table.data.length === n && isPermutation(trace)) || table.dims.length !== 1 || (table.data.length >= n && !zeros)) return dense(real);
    if (recipe?.kind === 'hashed' && recipe.signs === false && typeof recipe.seed === 'number') {
      const h = new HashedMap(shape, table.data.length, recipe.seed, false, tensor(Float32Array.from(table.data), [table.data.length]));
      if (h.tables().index.every((b, i) => trace[i] === b + 1)) return h;
      h.dispose();
    }
    return this.codebook(table, trace, shape, recipe);
  }

  /** W[i] = table[trace[i] − 1] (0: a pruned zero) as a codebook; a last table entry of 0 read as the pruned code when the recipe says so. */
  private codebook(table: Const, trace: Float64Array, shape: Shape, recipe: WeightMapConfig | undefined): WeightMap {
    const n = trace.length;
    let k = table.data.length;
    const lastZero = table.data[k - 1] === 0 && trace.some((t) => t === k);
    const pruned = trace.some((t) => t === 0) || (lastZero && (recipe ? recipe.prune !== undefined : true));
    // The pruned code's zero ends our export's table even when no gap filler reads it.
    if (pruned && table.data[k - 1] === 0) k -= 1;
    const assign = new Int32Array(n);
    const mask = pruned ? new Float32Array(n) : undefined;
    let cut = 0;
    for (let i = 0; i < n; i++) {
      const c = trace[i] - 1;
      if (c < 0 || c >= k) cut++;
      else {
        assign[i] = c;
        if (mask) mask[i] = 1;
      }
    }
    const centroids = Float32Array.from(table.data.subarray(0, k));
    const init = (recipe?.kind === 'codebook' && typeof recipe.init === 'string' ? recipe.init : 'linear') as KMeansInit;
    const prune = typeof recipe?.prune === 'number' ? recipe.prune : cut / n;
    return new CodebookMap(shape, centroids, assign, mask, { init, seed: typeof recipe?.seed === 'number' ? recipe.seed : 0, prune });
  }
}

/** A dense map holding these values. */
export function dense(c: Const): DenseMap {
  return new DenseMap(tensor(Float32Array.from(c.data), c.dims));
}

/** A constant moved by a permutation of its rows (axis 0): out row j = in row rows[j]. */
export function permuteRows(c: Const, rows: Int32Array): Const {
  const w = size(c.dims.slice(1));
  const out = new Float64Array(c.data.length);
  rows.forEach((r, j) => out.set(c.data.subarray(r * w, (r + 1) * w), j * w));
  return makeConst(c.dims, out, c.type);
}

function iota(n: number): Float64Array {
  return Float64Array.from({ length: n }, (_, i) => i + 1);
}

function same(a: Float64Array, b: Float64Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** Whether two traces read a common root element. */
function overlaps(a: Float64Array, b: Float64Array): boolean {
  const seen = new Set(b);
  return a.some((x) => x > 0 && seen.has(x));
}

function isPermutation(t: Float64Array): boolean {
  const seen = new Uint8Array(t.length + 1);
  for (const x of t) {
    if (x < 1 || x > t.length || seen[x]) return false;
    seen[x] = 1;
  }
  return true;
}
