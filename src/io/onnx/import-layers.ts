// ONNX import: activation nodes become layers (Dense, Flatten, merges, activations; convolutions in import-conv.ts), tracking how ONNX axes map onto our NHWC ones.
import type { ActivationName } from '../../nn/activations.js';
import { input, type Layer, type LayerSpec, type SymbolicTensor } from '../../nn/layer.js';
import type { MergeMode } from '../../nn/layers/bidirectional.js';
import { layers } from '../../nn/layers/index.js';
import { Recurrent } from '../../nn/layers/recurrent.js';
import type { WeightMap } from '../../sharing/weight-map.js';
import { attr, type Const, reshape, size, transpose } from './import-eval.js';
import type { GraphView, OnnxNode } from './import-graph.js';
import { dense, permuteRows, type WeightImporter } from './import-weights.js';

/**
 * An activation: our symbolic tensor and how the ONNX value's axes map onto ours. ONNX axis i is our axis axes[i]
 * (0 the batch, 1… the per-sample axes), −1 an extra axis of size 1, −2 the direction axis of a bidirectional
 * recurrent output (split out of our last axis, forward first).
 */
export interface Act {
  t: SymbolicTensor;
  axes: number[];
  /** Features of a Flatten over a permuted layout: our feature j is ONNX feature rows[j]. */
  rows?: Int32Array;
  /** The time axis runs backwards against ours (a goBackwards layer's sequence, which ONNX gives in input order). */
  reversed?: boolean;
}

/** A weight to set once the model is built: `owner()` (the layer, or a sublayer) gets `map` as its weight `name`. */
export interface PendingWeight {
  owner: () => Layer;
  name: string;
  map: WeightMap;
}

const SIMPLE_ACTIVATIONS: Record<string, ActivationName> = { Relu: 'relu', Sigmoid: 'sigmoid', Tanh: 'tanh' };

/** Node-by-node translation state shared by the layer and recurrent translators. */
export class Translator {
  readonly acts = new Map<string, Act>();
  readonly absorbed = new Set<OnnxNode>();
  /** Nodes translated so far. */
  readonly done = new Set<OnnxNode>();
  readonly pending: PendingWeight[] = [];
  readonly inputs: SymbolicTensor[] = [];
  /** Symbolic tensors some layer reads already. */
  readonly consumed = new Set<SymbolicTensor>();
  private readonly names = new Set<string>();

  constructor(readonly g: GraphView, readonly w: WeightImporter, readonly note: (s: string) => void, private readonly ours = false) {
    g.actDims = (name) => this.dims(this.act(name));
  }

  /** The activation of a value (it must have been translated). */
  act(name: string): Act {
    const a = this.acts.get(name);
    if (!a) this.g.fail(`'${name}' is used before it is made (a node this import could not translate feeds it)`);
    return a;
  }

  /** ONNX dims of an activation (NaN for the batch). */
  dims(a: Act): number[] {
    const split = a.axes.includes(-2);
    const last = a.t.shape.length;
    return a.axes.map((x) => (x === -1 ? 1 : x === -2 ? 2 : x === 0 ? NaN : split && x === last ? a.t.shape[x - 1] / 2 : a.t.shape[x - 1]));
  }

  /**
   * Declares a graph input: float [N, …] (rank 4 read as NCHW unless it only feeds Transposes to NCHW) or integer ids; a
   * float vector [N, F] becomes `inputShape` (F values) through a Flatten when that is given.
   */
  addInput(vi: Record<string, any>, inputShape?: readonly number[]): void {
    const name = vi.name as string;
    const tt = vi.type?.tensor_type;
    const dims = ((tt?.shape?.dim ?? []) as Record<string, any>[]);
    const type = tt?.elem_type;
    if (!tt || !tt.shape) this.g.fail(`input '${name}' has no tensor shape`);
    if (dims.length < 2) this.g.fail(`input '${name}' has rank ${dims.length}: import takes inputs [N, …] with a batch axis and at least one more`);
    const fixed = dims.slice(1).map((d, i) => {
      if (d.dim_value === undefined || Number(d.dim_value) < 1) this.g.fail(`input '${name}' has a symbolic dimension '${d.dim_param ?? '?'}' at axis ${i + 1}: only the batch axis (0) may vary`);
      return Number(d.dim_value);
    });
    const ints = type === 6 || type === 7;
    if (!ints && type !== 1) this.g.fail(`input '${name}' has element type ${type}: import takes float32 inputs or int32/int64 ids`);
    if (type === 7) this.note(`input '${name}': int64 ids in the file, int32 here`);
    // Our export's inputs are NHWC; other files' images are NCHW unless the graph only transposes them to NCHW.
    const toNchw = (this.g.consumers.get(name) ?? []).every((n) => n.op === 'Transpose' && String(attr(n.raw, 'perm')) === '0,3,1,2');
    if (fixed.length === 3 && !ints && !toNchw && !this.ours) {
      const [c, h, w] = fixed;
      this.note(`input '${name}': NCHW [N, ${c}, ${h}, ${w}] in the file, NHWC [N, ${h}, ${w}, ${c}] here: feed images channels-last`);
      const t = input({ shape: [h, w, c], name: this.unique(name), dtype: 'float32' });
      this.inputs.push(t);
      this.acts.set(name, { t, axes: [0, 3, 1, 2] });
      return;
    }
    if (inputShape && !ints && fixed.length === 1 && inputShape.length > 1 && size(inputShape) === fixed[0]) {
      const t = input({ shape: [...inputShape], name: this.unique(name), dtype: 'float32' });
      this.inputs.push(t);
      this.acts.set(name, { t: layers.flatten({ name: this.unique('flatten') }).apply(t), axes: [0, 1] });
      return;
    }
    const t = input({ shape: fixed, name: this.unique(name), dtype: ints ? 'int32' : 'float32' });
    this.inputs.push(t);
    this.acts.set(name, { t, axes: Array.from({ length: fixed.length + 1 }, (_, i) => i) });
  }

  /** A unique layer name from a stem ('fc1.weight' → 'fc1', '/conv1/Conv' → 'conv1'); '' for none. */
  unique(stem: string): string {
    let s = stem.replace(/[^A-Za-z0-9_-]+/g, '_').replace(/^_+|_+$/g, '');
    if (!s) return '';
    if (/^[0-9]/.test(s)) s = `l_${s}`;
    let name = s;
    for (let k = 1; this.names.has(name); k++) name = `${s}_${k}`;
    this.names.add(name);
    return name;
  }

  /** A layer's name from its weight's initializer ('dense/kernel', 'fc1.weight') or else its node's name. */
  layerName(n: OnnxNode, weight?: string): string {
    let root = weight;
    while (root && !this.g.initializers.has(root) && this.g.producer.get(root)) root = this.g.producer.get(root)!.inputs.find((i) => i && this.g.isConst(i));
    const fromWeight = root && /^(.+?)(?:\/(?:kernel|embeddings|recurrentKernel|gamma|beta|bias)\b.*|\.(?:weight|bias|weight_ih_l0|weight_hh_l0))$/.exec(root);
    const stem = fromWeight && !fromWeight[1].startsWith('onnx::') ? fromWeight[1].replace(/[^A-Za-z0-9_-]+/g, '_') : '';
    if (stem && !this.names.has(stem)) return this.unique(stem);
    // Our export names nodes '<layer>/…/<Op>'; PyTorch '/<module path>/<Op>' (the module is the last part).
    const parts = n.name.replace(/^\//, '').split('/').filter((p) => p && p !== n.op);
    return this.unique(parts.length ? parts[this.ours ? 0 : parts.length - 1] : stem);
  }

  /** Sets `map` as weight `name` of `owner()` once the model is built. */
  setWeight(owner: () => Layer, name: string, map: WeightMap): void {
    this.pending.push({ owner, name, map });
  }

  /** Applies `layer` to `xs`, the output's ONNX value `out` taking the given axes (default: those of the first input). */
  apply(layer: Layer, xs: Act[], out: string, axes = xs[0].axes, extra: Partial<Act> = {}): Act {
    const t = layer.apply(xs.length === 1 ? xs[0].t : xs.map((x) => x.t));
    for (const x of xs) this.consumed.add(x.t);
    const a: Act = { t, axes, ...extra };
    this.acts.set(out, a);
    return a;
  }

  /**
   * After a Dense or Conv node's output `out`: the bias Add (a constant of `units` numbers) and the activation that read
   * it alone, absorbed into the layer. Returns the value the layer's output stands for.
   */
  tail(out: string, units: number, withBias: boolean, layout: Act, anyShape = false): { out: string; bias?: string; activation: ActivationName } {
    let cur = out;
    let bias: string | undefined;
    const c = this.g.soleConsumer(cur);
    if (withBias && c?.op === 'Add') {
      const other = c.inputs[0] === cur ? c.inputs[1] : c.inputs[0];
      if (this.g.isConst(other) && size(this.g.constOf(other).dims) === units && (anyShape || this.g.constOf(other).dims.every((d, i, a) => d === 1 || i === a.length - 1))) {
        bias = other;
        this.absorbed.add(c);
        cur = c.outputs[0];
      }
    }
    const act = this.activationAfter(cur, layout);
    if (!act) return { out: cur, bias, activation: 'linear' };
    for (const n of act.nodes) this.absorbed.add(n);
    return { out: act.out, bias, activation: act.activation };
  }

  /** The activation function applied to `x` alone next (Relu, Sigmoid, Tanh, Softmax over our last axis, GELU as an op or as Erf), if any. */
  activationAfter(x: string, layout: Act): { activation: ActivationName; out: string; nodes: OnnxNode[] } | undefined {
    const c = this.g.soleConsumer(x);
    if (c && SIMPLE_ACTIVATIONS[c.op]) return { activation: SIMPLE_ACTIVATIONS[c.op], out: c.outputs[0], nodes: [c] };
    if (c?.op === 'HardSigmoid' && this.hardSigmoid(c)) return { activation: 'hard_sigmoid', out: c.outputs[0], nodes: [c] };
    if (c?.op === 'Softmax' && this.softmaxOverLast(c, layout)) return { activation: 'softmax', out: c.outputs[0], nodes: [c] };
    if (c?.op === 'Gelu' && (attr(c.raw, 'approximate') ?? 'none') === 'none') return { activation: 'gelu', out: c.outputs[0], nodes: [c] };
    const gelu = this.gelu(x);
    return gelu && { activation: 'gelu', ...gelu };
  }

  /** Whether a HardSigmoid node is Keras 3's and PyTorch's (alpha 1/6, beta 1/2), the one we have. */
  hardSigmoid(n: OnnxNode): boolean {
    return Math.abs((attr(n.raw, 'alpha') ?? 0.2) - 1 / 6) < 1e-6 && Math.abs((attr(n.raw, 'beta') ?? 0.5) - 0.5) < 1e-6;
  }

  /** Whether a Softmax node normalises over our last axis (opset < 13: its 2-D coercion must amount to that). */
  softmaxOverLast(n: OnnxNode, a: Act): boolean {
    const rank = a.axes.length;
    let axis = attr(n.raw, 'axis') ?? (this.g.opset >= 13 ? -1 : 1);
    if (axis < 0) axis += rank;
    if (this.g.opset < 13 && axis !== rank - 1) return false;
    return a.axes[axis] === a.t.shape.length && !a.axes.includes(-2);
  }

  /** GELU written out: 0.5·x·(1 + erf(x/√2)) in either association (PyTorch's and ours); returns its output and nodes. */
  gelu(x: string): { out: string; nodes: OnnxNode[] } | undefined {
    const cons = this.g.consumers.get(x) ?? [];
    if (cons.length !== 2 || this.g.outputs.includes(x)) return undefined;
    const scalar = (n: OnnxNode, v: number): boolean => {
      const other = n.inputs[0] === x || this.g.kind(n.inputs[0]) === 'act' ? n.inputs[1] : n.inputs[0];
      return this.g.isConst(other) && size(this.g.constOf(other).dims) === 1 && Math.abs(this.g.constOf(other).data[0] - v) < 1e-6;
    };
    const s = cons.find((n) => (n.op === 'Div' && n.inputs[0] === x && scalar(n, Math.SQRT2)) || (n.op === 'Mul' && scalar(n, Math.SQRT1_2)));
    const e = s && this.g.soleConsumer(s.outputs[0]);
    const a = e?.op === 'Erf' ? this.g.soleConsumer(e.outputs[0]) : undefined;
    if (!s || !e || a?.op !== 'Add' || !scalar(a, 1)) return undefined;
    const m = this.g.soleConsumer(a.outputs[0]);
    if (m?.op !== 'Mul') return undefined;
    const other = m.inputs[0] === a.outputs[0] ? m.inputs[1] : m.inputs[0];
    if (other === x) {
      const h = this.g.soleConsumer(m.outputs[0]);
      return h?.op === 'Mul' && scalar(h, 0.5) && cons.includes(m) ? { out: h.outputs[0], nodes: [s, e, a, m, h] } : undefined;
    }
    const h = this.g.producer.get(other);
    return h && cons.includes(h) && h.op === 'Mul' && scalar(h, 0.5) && this.g.soleConsumer(other) === m ? { out: m.outputs[0], nodes: [s, e, a, h, m] } : undefined;
  }

  /** Gemm or MatMul with a constant right side: Dense (a low-rank kernel when x·U·V with r < min(in, out)); bias and activation absorbed. */
  dense(n: OnnxNode): void {
    const g = this.g;
    const x = this.act(n.inputs[0]);
    const weight = n.inputs[1];
    if (!g.isConst(weight)) g.fail(`${this.where(n)}: a product of two activations (attention) is not imported`);
    const gemm = n.op === 'Gemm';
    if (gemm && (attr(n.raw, 'transA') || (attr(n.raw, 'alpha') ?? 1) !== 1 || (attr(n.raw, 'beta') ?? 1) !== 1)) g.fail(`${this.where(n)}: transA, alpha or beta other than 0, 1, 1 are not imported`);
    const last = x.axes[x.axes.length - 1];
    if (last !== x.t.shape.length || x.axes.includes(-2) || x.reversed || x.axes.includes(-1)) g.fail(`${this.where(n)}: multiplies over an axis that is not the features (last) axis here`);
    const wc = g.constOf(weight);
    if (wc.dims.length !== 2) g.fail(`${this.where(n)}: weight '${weight}' has rank ${wc.dims.length}, a Dense kernel rank 2`);
    const trans = gemm && attr(n.raw, 'transB') === 1;
    const [fin, units] = trans ? [wc.dims[1], wc.dims[0]] : wc.dims;
    const features = x.t.shape[x.t.shape.length - 1];
    if (fin !== features) g.fail(`${this.where(n)}: weight '${weight}' is [${wc.dims.join(', ')}] but its input has ${features} features`);
    const name = this.layerName(n, weight);
    // x·U·V with nothing between and r < min(in, out) (or recorded so by our export): one Dense with a low-rank kernel.
    const next = !gemm ? g.soleConsumer(n.outputs[0]) : undefined;
    const v = next?.op === 'MatMul' && next.inputs[0] === n.outputs[0] && g.isConst(next.inputs[1]) ? g.constOf(next.inputs[1]) : undefined;
    // Unrecorded, both factors must be initializers read only here: a factor read elsewhere too (a tied table) is a layer of its own.
    const own = (name: string): boolean => g.initializers.has(name) && g.uses(name) === 1;
    const lowRank = v && v.dims.length === 2 && ((units < Math.min(fin, v.dims[1]) && own(weight) && own(next!.inputs[1])) || this.w.recordedLowRank(weight));
    let kernel: WeightMap;
    let outUnits = units;
    let out = n.outputs[0];
    if (lowRank) {
      this.absorbed.add(next!);
      out = next!.outputs[0];
      outUnits = v.dims[1];
      kernel = this.w.lowRank(weight, next!.inputs[1], x.rows, `${name}/kernel`);
    } else {
      const convert = (c: Const): Const => {
        const k = trans ? transpose(c, [1, 0]) : c;
        return x.rows ? permuteRows(k, x.rows) : k;
      };
      kernel = this.w.map(weight, convert, `${name}/kernel`);
    }
    let bias = gemm && n.inputs[2] ? n.inputs[2] : undefined;
    if (bias && size(g.constOf(bias).dims) !== outUnits) g.fail(`${this.where(n)}: bias '${bias}' has ${size(g.constOf(bias).dims)} numbers for ${outUnits} units (broadcast biases are not imported)`);
    const tail = this.tail(out, outUnits, !bias, x);
    bias ??= tail.bias;
    const layer = layers.dense({ units: outUnits, activation: tail.activation, useBias: bias !== undefined, name });
    this.setWeight(() => layer, 'kernel', kernel);
    if (bias) this.setWeight(() => layer, 'bias', this.w.map(bias, (c) => reshape(c, [outUnits]), `${name}/bias`));
    this.apply(layer, [x], tail.out, x.axes, { rows: undefined });
  }

  /** Flatten (axis 1) or a Reshape to [N, −1]: our Flatten; a Flatten over a permuted layout keeps the feature order in `rows`. */
  flatten(n: OnnxNode, x: Act): void {
    const g = this.g;
    if (x.axes[0] !== 0 || x.axes.includes(-2) || x.reversed) g.fail(`${this.where(n)}: flattens a value whose first axis is not the batch here`);
    const ours = x.t.shape;
    if (ours.length === 1) {
      this.acts.set(n.outputs[0], { t: x.t, axes: [0, 1], rows: x.rows });
      return;
    }
    // Our feature j (row-major over our axes) is ONNX feature rows[j] (row-major over the ONNX axes).
    const onnxAxes = x.axes.slice(1).filter((a) => a > 0);
    let rows: Int32Array | undefined;
    if (onnxAxes.some((a, i) => a !== i + 1)) {
      const n2 = size(ours);
      rows = new Int32Array(n2);
      const coord = new Array<number>(ours.length);
      for (let j = 0; j < n2; j++) {
        let r = j;
        for (let a = ours.length - 1; a >= 0; a--) (coord[a] = r % ours[a]), (r = Math.floor(r / ours[a]));
        let f = 0;
        for (const a of onnxAxes) f = f * ours[a - 1] + coord[a - 1];
        rows[j] = f;
      }
    }
    this.apply(layers.flatten({ name: this.layerName(n) }), [x], n.outputs[0], [0, 1], { rows });
  }

  /** A Reshape of an activation: a flatten to [N, −1], merging a bidirectional output's direction axis, adding or dropping size-1 axes, or none. */
  reshape(n: OnnxNode): void {
    const g = this.g;
    const x = this.act(n.inputs[0]);
    const from = this.dims(x);
    const target = Array.from(g.constOf(n.inputs[1]).data);
    const per = size(from.filter((d) => !Number.isNaN(d)));
    let to = target.map((d, i) => (d === 0 && attr(n.raw, 'allowzero') !== 1 ? from[i] : d));
    const show = (d: number[]): string => `[${d.map((v) => (Number.isNaN(v) ? 'N' : v)).join(', ')}]`;
    if (to.includes(-1)) {
      // −1 is per-sample when the batch is named elsewhere, else it must be the batch (the other sizes make one sample).
      const known = size(to.filter((d) => d !== -1 && !Number.isNaN(d)));
      const inferred = to.some((d) => Number.isNaN(d)) ? per / known : known === per ? NaN : -1;
      if (inferred === -1) g.fail(`${this.where(n)}: reshapes ${show(from)} to ${show(target)}, which mixes the batch into other axes`);
      to = to.map((d) => (d === -1 ? inferred : d));
    }
    const same = (a: number[], b: number[]): boolean => a.length === b.length && a.every((v, i) => v === b[i] || (Number.isNaN(v) && Number.isNaN(b[i])));
    if (same(from, to)) return void this.acts.set(n.outputs[0], x);
    if (to.length === 2 && Number.isNaN(to[0]) && to[1] === per) return this.flatten(n, x);
    const dir = x.axes.indexOf(-2);
    if (dir >= 0 && x.axes[dir + 1] === x.t.shape.length && same(to, [...from.slice(0, dir), 2 * from[dir + 1], ...from.slice(dir + 2)])) {
      return void this.acts.set(n.outputs[0], { ...x, axes: x.axes.filter((a) => a !== -2) });
    }
    // Size-1 axes added or dropped (ours of size 1 would be ambiguous).
    const realAxes = x.axes.filter((a) => a !== -1);
    const realDims = from.filter((_, i) => x.axes[i] !== -1);
    if (!realDims.includes(1) && !realAxes.includes(-2) && same(realDims, to.filter((d) => d !== 1))) {
      let k = 0;
      return void this.acts.set(n.outputs[0], { ...x, axes: to.map((d) => (d === 1 ? -1 : realAxes[k++])) });
    }
    g.fail(`${this.where(n)}: reshapes ${show(from)} to ${show(to)}: only a flatten to [N, −1] and size-1 axes are imported`);
  }

  /** Add / Sub / Mul of activations (a chain of Adds, then × 1/n: Average; a forward and a backward recurrent layer: Bidirectional); Concat along one of our axes. */
  merge(n: OnnxNode): void {
    const g = this.g;
    const op = n.op;
    const ins = n.inputs.filter((i) => i);
    const xs = [...ins.map((i) => this.act(i))];
    let out = n.outputs[0];
    // A chain of Adds (of values made already) followed by × 1/n is an Average of n.
    let average: OnnxNode | undefined;
    if (op === 'Add') {
      const chain: OnnxNode[] = [];
      const more: Act[] = [];
      let cur = out;
      for (let c = g.soleConsumer(cur); c?.op === 'Add'; c = g.soleConsumer(cur)) {
        const other = c.inputs[0] === cur ? c.inputs[1] : c.inputs[0];
        if (g.kind(other) !== 'act' || !this.acts.has(other)) break;
        chain.push(c);
        more.push(this.act(other));
        cur = c.outputs[0];
      }
      const m = g.soleConsumer(cur);
      const scale = m?.op === 'Mul' ? m.inputs.find((i) => i !== cur) : undefined;
      if (m && scale && g.isConst(scale) && size(g.constOf(scale).dims) === 1 && g.constOf(scale).data[0] === Math.fround(1 / (xs.length + more.length))) {
        for (const c of [...chain, m]) this.absorbed.add(c);
        xs.push(...more);
        average = m;
        out = m.outputs[0];
      }
    }
    const first = xs[0];
    const lastAxis = (): boolean => {
      const axis = attr(n.raw, 'axis');
      return first.axes[axis < 0 ? axis + first.axes.length : axis] === first.t.shape.length;
    };
    const mode = op === 'Concat' ? (lastAxis() ? 'concat' : undefined) : op === 'Add' ? (average ? 'ave' : 'sum') : op === 'Mul' ? 'mul' : undefined;
    if (xs.length === 2 && mode && this.bidirectional(n, xs, mode, out)) return;
    for (const x of xs) {
      if (String(x.axes) !== String(first.axes) || String(x.rows) !== String(first.rows) || !!x.reversed !== !!first.reversed || (op !== 'Concat' && String(x.t.shape) !== String(first.t.shape))) {
        g.fail(`${this.where(n)}: its inputs differ in shape or layout here ([${this.dims(first).join(', ')}] and [${this.dims(x).join(', ')}]; broadcasting is not imported)`);
      }
    }
    const name = this.layerName(n);
    if (op === 'Concat') {
      const rank = first.axes.length;
      let axis = attr(n.raw, 'axis');
      if (axis < 0) axis += rank;
      const ours = first.axes[axis];
      if (!(ours > 0) || first.rows) g.fail(`${this.where(n)}: concatenates along an axis (${axis}) that is not one of ours here`);
      this.apply(layers.concatenate({ axis: ours, name }), xs, out);
      return;
    }
    const layer = average ? layers.average({ name }) : op === 'Add' ? layers.add({ name }) : op === 'Sub' ? layers.subtract({ name }) : layers.multiply({ name });
    this.apply(layer, xs, out, first.axes, { rows: first.rows, reversed: first.reversed });
  }

  /**
   * Our export's Bidirectional: a forward and a goBackwards recurrent layer of one config on the same input, merged (the
   * backward sequence reversed back to input order). Replaces the two by one Bidirectional; false when they do not fit.
   */
  private bidirectional(n: OnnxNode, xs: Act[], mode: MergeMode, out: string): boolean {
    const [a, b] = xs;
    const [fl, bl] = [a.t.node?.layer, b.t.node?.layer];
    if (!(fl instanceof Recurrent) || !(bl instanceof Recurrent) || fl.goBackwards || !bl.goBackwards || fl.returnSequences !== bl.returnSequences) return false;
    if (!!a.reversed || !!b.reversed !== fl.returnSequences || a.t.node!.inputs[0] !== b.t.node!.inputs[0] || a.t.index !== 0 || b.t.index !== 0) return false;
    const spec = (l: Recurrent, patch: Record<string, unknown>): LayerSpec => ({ className: l.className, config: { ...l.toJSON().config, ...patch } });
    const config = (l: Recurrent): string => JSON.stringify(spec(l, { name: '', goBackwards: false }));
    const [fo, bo] = [a.t.node!.outputs, b.t.node!.outputs];
    if (config(fl) !== config(bl) || [...fo, ...bo].some((t) => this.consumed.has(t))) return false;
    // Other readers of the two layers (their final states) read the Bidirectional's states: it returns them then.
    const mine = new Set<SymbolicTensor>([...fo, ...bo]);
    const others = [...this.acts.values()].filter((v) => mine.has(v.t) && v !== a && v !== b);
    const live = (name: string): boolean => this.g.outputs.includes(name) || (this.g.consumers.get(name) ?? []).some((c) => c !== n && !this.done.has(c) && !this.absorbed.has(c));
    if (fl.returnSequences && [...this.acts].some(([name, v]) => (v.t === fo[0] || v.t === bo[0]) && v !== a && v !== b && live(name))) return false;
    const cell = fl.name.replace(/^.*_forward_/, '');
    const returnState = others.length > 0;
    const bi = layers.bidirectional({
      layer: spec(fl, { name: cell, returnState }), backwardLayer: spec(bl, { name: cell, returnState }), mergeMode: mode,
      name: this.unique(fl.name.replace(/_?forward.*$/, '') || 'bidirectional'),
    });
    const input = a.t.node!.inputs[0];
    const outs = bi.applyAll(input);
    this.consumed.add(input);
    for (const p of this.pending) {
      const owner = p.owner();
      if (owner === fl) p.owner = () => bi.forwardLayer;
      if (owner === bl) p.owner = () => bi.backwardLayer;
    }
    // Outputs: merged, the forward states (h, LSTM's c), the backward ones; a layer's last output without sequences is its h.
    const ns = (outs.length - 1) / 2;
    const state = (t: SymbolicTensor): SymbolicTensor | undefined => {
      for (const [k, o] of [fo, bo].entries()) {
        const i = o.indexOf(t);
        if (i >= 0) return outs[1 + k * ns + Math.max(0, i - 1)];
      }
      return undefined;
    };
    for (const v of others) v.t = state(v.t) ?? v.t;
    this.acts.set(out, { t: outs[0], axes: a.axes });
    return true;
  }

  /** An activation on its own: Activation (after an op that could not take it: a merge, a pooling, …). */
  activation(n: OnnxNode): void {
    const x = this.act(n.inputs[0]);
    if (n.op === 'HardSigmoid' && !this.hardSigmoid(n)) {
      this.g.fail(`${this.where(n)}: HardSigmoid with alpha ${attr(n.raw, 'alpha') ?? 0.2} and beta ${attr(n.raw, 'beta') ?? 0.5} is not imported (ours is clip(x/6 + 1/2, 0, 1): alpha 1/6, beta 1/2)`);
    }
    const act = n.op === 'Softmax' ? (this.softmaxOverLast(n, x) ? 'softmax' : undefined) : n.op === 'Gelu' ? 'gelu' : n.op === 'HardSigmoid' ? 'hard_sigmoid' : SIMPLE_ACTIVATIONS[n.op];
    if (!act) this.g.fail(`${this.where(n)}: a softmax over an axis that is not our last (axis ${attr(n.raw, 'axis')} of [${this.dims(x).join(', ')}]) is not imported`);
    this.apply(layers.activation({ activation: act, name: this.layerName(n) }), [x], n.outputs[0], x.axes, { rows: x.rows, reversed: x.reversed });
  }

  /** `node 'name' (Op)`. */
  where(n: OnnxNode): string {
    return this.g.where(n);
  }
}

export { dense };
