// importOnnx: an ONNX file (ours, PyTorch's, …) as a weightshare model, node by node, with compact weight maps restored.
import { describeValue } from '../../core/errors.js';
import { type Model, model as makeModel } from '../../nn/model.js';
import { layers } from '../../nn/layers/index.js';
import type { SymbolicTensor } from '../../nn/layer.js';
import type { WeightMapConfig } from '../../sharing/weight-map.js';
import { MAPS_METADATA } from './export.js';
import { attentionLayer, findAttention, positions, type AttentionPatterns } from './import-attention.js';
import { windowed } from './import-conv.js';
import { attr, EVAL_OPS, OnnxImportError, reshape, size } from './import-eval.js';
import { GraphView, type OnnxNode } from './import-graph.js';
import { type Act, Translator } from './import-layers.js';
import { embedding, gatherAct, recurrent } from './import-recurrent.js';
import { WeightImporter } from './import-weights.js';
import { decodeModel, requireProtobuf } from './proto.js';
import { ACCEPT_NON_FINITE, allowNonFinite, nonFiniteWeight } from '../limits.js';

/** The opsets of the default domain import reads (ONNX 1.4 to 1.16). */
export const ONNX_IMPORT_OPSETS = { min: 9, max: 21 } as const;

/** Ops on activations import translates (some only inside a pattern: Erf in GELU, ReduceMean/Sqrt/Reciprocal/Pow in a layer norm). */
export const IMPORTABLE_OPS = [
  'Conv', 'MaxPool', 'AveragePool', 'GlobalAveragePool', 'GlobalMaxPool', 'Gemm', 'MatMul', 'Flatten', 'Reshape', 'Add', 'Sub', 'Mul', 'Div', 'Concat',
  'Relu', 'Sigmoid', 'Tanh', 'Softmax', 'Gelu', 'HardSigmoid', 'Erf', 'Identity', 'Dropout', 'Cast', 'Transpose', 'Squeeze', 'Unsqueeze', 'LayerNormalization',
  'ReduceMean', 'Sqrt', 'Reciprocal', 'Pow', 'Gather', 'GatherElements', 'LSTM', 'GRU', 'RNN',
] as const;
const ACT_OPS = new Set<string>(IMPORTABLE_OPS);

/** Options of {@link importOnnx}. */
export interface OnnxImportOptions {
  /** The file's name, for messages (default 'model.onnx'). */
  file?: string;
  /** Receives each note as it is made (also returned in `notes`). */
  onNote?: (message: string) => void;
  /** For a model with one float input [N, F]: per-sample shape of F values ([28, 28, 1] for 784) to feed instead, through a Flatten put in front. */
  inputShape?: readonly number[];
  /** Accept NaN and ±Infinity in the weights (default false, or `WEIGHTSHARE_ALLOW_NON_FINITE=1`), as model-file loads do. */
  allowNonFinite?: boolean;
}

/** What {@link importOnnx} returns: a built model and one-line notes (layout changes, weights imported densely, …). */
export interface OnnxImport {
  model: Model;
  notes: string[];
}

/**
 * Reads ONNX bytes into a built model whose predictions are the file's: Gemm/MatMul (+ bias) → Dense, Conv → Conv2D, pools,
 * Flatten / Reshape [N, −1] → Flatten, activations (GELU written out too), Add/Sub/Mul/Concat of activations → merges,
 * LayerNormalization (also written out), Gather from a table → Embedding, LSTM/GRU/RNN → our layers (Bidirectional),
 * attention written out as MatMuls and a Softmax → MultiHeadAttention, a [T, D] table added to a sequence → a position layer.
 * Rank-4 inputs are read as NCHW and become NHWC inputs (a note says so); a Flatten after them permutes the next Dense's
 * kernel rows, so predictions do not change. Weights traced to their initializers come back as maps: Gather(centroids,
 * codes) → codebook (pruned with ScatterND or a zero code), Gather([θ, −θ], index) → hashed when the recorded seed
 * rebuilds the index, MatMul(U, V) → lowRank, one initializer read by two layers → tied. Throws an
 * {@link OnnxImportError} (one line naming the file and the node or tensor) for every unsupported op at once, for bytes
 * that are no ONNX model, opsets outside {@link ONNX_IMPORT_OPSETS}, symbolic non-batch dims, missing initializers,
 * shapes that do not fit and (unless `o.allowNonFinite`) weights holding NaN or ±Infinity; nothing is left allocated then.
 */
export function importOnnx(bytes: Uint8Array, o: OnnxImportOptions = {}): OnnxImport {
  const file = o.file ?? 'model.onnx';
  const fail = (message: string): never => {
    throw new OnnxImportError(`${file}: ${message}`);
  };
  if (!(bytes instanceof Uint8Array)) fail(`importOnnx takes the file's bytes (a Uint8Array, e.g. readFileSync's Buffer), got ${describeValue(bytes)}`);
  if (bytes.length === 0) fail('the file is empty, not an ONNX model');
  try {
    requireProtobuf();
  } catch (e) {
    fail((e as Error).message);
  }
  let m: Record<string, any> = {};
  try {
    m = decodeModel(bytes);
  } catch (e) {
    fail(`not an ONNX model, or truncated (the protobuf does not decode: ${(e as Error).message})`);
  }
  const graph = m.graph as Record<string, any> | undefined;
  const opsets = (m.opset_import ?? []) as { domain?: string; version?: number }[];
  if (!graph || !opsets.length || !(graph.node ?? []).length) fail('not an ONNX model (no graph, nodes or opset_import)');
  const opset = Number(opsets.find((s) => !s.domain || s.domain === 'ai.onnx')?.version ?? NaN);
  if (!(opset >= ONNX_IMPORT_OPSETS.min && opset <= ONNX_IMPORT_OPSETS.max)) {
    fail(`opset ${Number.isNaN(opset) ? '(none for the default domain)' : opset} is outside the opsets import reads (${ONNX_IMPORT_OPSETS.min}–${ONNX_IMPORT_OPSETS.max})`);
  }
  const initNames = new Set(((graph!.initializer ?? []) as { name: string }[]).map((t) => t.name));
  const inputs = ((graph!.input ?? []) as Record<string, any>[]).filter((i) => !initNames.has(i.name));
  if (!inputs.length) fail('the graph has no inputs');
  const g = new GraphView(file, opset, graph!, inputs.map((i) => i.name));
  const constant = ((graph!.output ?? []) as { name: string }[]).map((o) => o.name).filter((name) => g.kind(name) === 'const');
  if (constant.length) {
    const one = constant.length === 1;
    fail(`output${one ? '' : 's'} ${constant.map((n) => `'${n}'`).join(', ')} ${one ? 'does' : 'do'} not depend on the values of the graph's inputs (computed from weights and shapes alone: a constant); import builds layers from the inputs to the outputs, so it reads models whose outputs depend on their inputs`);
  }
  const attention = findAttention(g);
  const unsupported = g.nodes.flatMap((n) => {
    const at = n.name ? `node '${n.name}'` : `node #${n.index}`;
    const kind = g.kind(n.outputs[0]);
    if (n.domain && n.domain !== 'ai.onnx') return [`${n.domain}.${n.op} (${at})`];
    if ((kind === 'const' && !EVAL_OPS.has(n.op)) || (kind === 'act' && !ACT_OPS.has(n.op))) return [`${n.op} (${at})`];
    if (kind === 'act' && (n.op === 'MatMul' || n.op === 'Gemm') && g.kind(n.inputs[1]) === 'act' && !attention.covered.has(n)) {
      const why = attention.misses.get(n);
      return [`${n.op} of two activations${why ? `: an attention that ${why}` : ' outside the attention pattern import reads'} (${at})`];
    }
    return [];
  });
  if (unsupported.length) fail(`unsupported ops: ${unsupported.join(', ')}`);
  const notes: string[] = [];
  const note = (s: string): void => {
    notes.push(s);
    o.onNote?.(s);
  };
  const tr = new Translator(g, new WeightImporter(g, recipes(m, note), note), note, m.producer_name === 'weightshare');
  for (const n of attention.covered) if (!attention.byEnd.has(n)) tr.absorbed.add(n);
  let built: Model | undefined;
  try {
    for (const vi of inputs) tr.addInput(vi, inputs.length === 1 ? o.inputShape : undefined);
    for (const n of g.nodes) {
      if (tr.absorbed.has(n) || g.kind(n.outputs[0]) !== 'act') continue;
      try {
        translate(tr, n, attention);
        tr.done.add(n);
      } catch (e) {
        if (e instanceof OnnxImportError) throw e;
        g.fail(`${g.where(n)}: ${(e as Error).message}`);
      }
    }
    const outputs = g.outputs.map((name) => output(tr, name, note));
    built = makeModel({ inputs: tr.inputs, outputs, name: tr.unique(graph!.name ?? '') || 'onnx' }).build(0);
    for (const p of tr.pending) {
      const l = p.owner();
      const old = l.weight(p.name);
      l.replaceWeight(p.name, p.map);
      old.dispose();
    }
    const set = new Set(tr.pending.map((p) => p.map));
    const unset = built.weights().find((w) => !set.has(w.map));
    if (unset) g.fail(`internal error: weight '${unset.path}' is not read from the file`);
    const bad = allowNonFinite(o) ? undefined : nonFiniteWeight(built);
    if (bad) g.fail(`${bad} (${ACCEPT_NON_FINITE})`);
  } catch (e) {
    const owned = new Set(built ? built.weights().map((w) => w.map) : []);
    for (const p of tr.pending) if (!owned.has(p.map)) p.map.dispose();
    built?.dispose();
    if (e instanceof OnnxImportError) throw e;
    fail((e as Error).message);
  }
  return { model: built!, notes };
}

/** Map recipes recorded by our export (metadata 'weightshare.maps'), by θ initializer name. */
function recipes(m: Record<string, any>, note: (s: string) => void): Record<string, WeightMapConfig> {
  const entry = ((m.metadata_props ?? []) as { key?: string; value?: string }[]).find((p) => p.key === MAPS_METADATA);
  if (!entry?.value) return {};
  try {
    return JSON.parse(entry.value) as Record<string, WeightMapConfig>;
  } catch {
    note(`metadata '${MAPS_METADATA}' is not JSON; maps are restored from the graph alone`);
    return {};
  }
}

/** A graph output: our tensor, with a note when its layout differs from the file's. */
function output(tr: Translator, name: string, note: (s: string) => void): SymbolicTensor {
  if (tr.g.kind(name) !== 'act') tr.g.fail(`graph output '${name}' does not depend on the inputs (a constant), which a model cannot output`);
  const a = tr.act(name);
  if (!a.t.node) tr.g.fail(`graph output '${name}' is an input passed through: there are no layers to import`);
  const shape = `[N, ${a.t.shape.join(', ')}]`;
  if (String(a.axes) === '0,3,1,2') note(`output '${name}': NCHW in the file, NHWC ${shape} here`);
  else if (a.axes.some((x, i) => x !== i) || a.axes.length !== a.t.shape.length + 1) note(`output '${name}': [${tr.dims(a).map((d) => (Number.isNaN(d) ? 'N' : d)).join(', ')}] in the file is ${shape} here (axes rearranged or size-1 axes dropped)`);
  if (a.rows) note(`output '${name}': its features are in our flatten order (H, W, C), not the file's (C, H, W)`);
  if (a.reversed) note(`output '${name}': its steps are in processing order (last step first), as Keras gives a goBackwards sequence`);
  return a.t;
}

/** Translates one node whose output depends on the inputs. */
function translate(tr: Translator, n: OnnxNode, attention: AttentionPatterns): void {
  const g = tr.g;
  const att = attention.byEnd.get(n);
  if (att) return attentionLayer(tr, att);
  const fail = (why: string): never => g.fail(`${g.where(n)}: ${why}`);
  const x = (): Act => tr.act(n.inputs[0]);
  const pass = (a: Act): void => void tr.acts.set(n.outputs[0], a);
  const kinds = n.inputs.filter((i) => i).map((i) => g.kind(i));
  switch (n.op) {
    case 'Conv': case 'MaxPool': case 'AveragePool': case 'GlobalAveragePool': case 'GlobalMaxPool': return windowed(tr, n);
    case 'Gemm': case 'MatMul':
      if (g.kind(n.inputs[0]) !== 'act') fail('a constant on the left of a product is not imported');
      return tr.dense(n);
    case 'Flatten':
      if ((attr(n.raw, 'axis') ?? 1) !== 1) fail(`Flatten at axis ${attr(n.raw, 'axis')} is not imported (axis 1 only)`);
      return tr.flatten(n, x());
    case 'Reshape': return tr.reshape(n);
    case 'Concat': return tr.merge(n);
    case 'Add': case 'Sub': case 'Mul': case 'Div': {
      if (kinds.includes('mask') && n.op === 'Mul') return pass(tr.act(n.inputs[g.kind(n.inputs[0]) === 'act' ? 0 : 1]));
      if (kinds.every((k) => k === 'act') && n.op !== 'Div') return tr.merge(n);
      if (n.op === 'Add' && positions(tr, n)) return;
      const act = n.inputs.find((i) => g.kind(i) === 'act')!;
      const gelu = (n.op === 'Mul' || n.op === 'Div') && tr.gelu(act);
      if (!gelu) return fail(`${n.op} of an activation and a constant is imported only as a layer's bias or inside GELU`);
      for (const m of gelu.nodes) tr.absorbed.add(m);
      tr.apply(layers.activation({ activation: 'gelu', name: tr.layerName(n) }), [tr.act(act)], gelu.out);
      return;
    }
    case 'Relu': case 'Sigmoid': case 'Tanh': case 'Softmax': case 'Gelu': case 'HardSigmoid': return tr.activation(n);
    case 'Identity': case 'Dropout': return pass(x());
    case 'Cast': {
      const to = attr(n.raw, 'to');
      const float = x().t.dtype === 'float32';
      if (float ? to !== 1 : ![6, 7].includes(to)) fail(`a Cast of ${float ? 'float' : 'integer'} activations to type ${to} is not imported`);
      return pass(x());
    }
    case 'Transpose': {
      const a = x();
      const perm = (attr(n.raw, 'perm') as number[] | undefined) ?? a.axes.map((_, i) => a.axes.length - 1 - i);
      if (a.rows && perm.some((p, i) => p !== i)) fail('transposes flattened features');
      return pass({ ...a, axes: perm.map((p) => a.axes[p]) });
    }
    case 'Squeeze': case 'Unsqueeze': return pass(squeeze(tr, n, x()));
    case 'LayerNormalization': return layerNorm(tr, n, x(), attr(n.raw, 'axis') ?? -1, attr(n.raw, 'epsilon') ?? 1e-5, n.inputs[1], n.inputs[2] || undefined, n.outputs[0]);
    case 'ReduceMean': return writtenLayerNorm(tr, n);
    case 'Gather': return g.isConst(n.inputs[0]) ? embedding(tr, n) : gatherAct(tr, n, x());
    case 'GatherElements':
      if (g.kind(n.inputs[1]) === 'mask') return pass(x());
      return fail('GatherElements is imported only as the step reordering of our masked recurrent export');
    case 'LSTM': case 'GRU': case 'RNN': return recurrent(tr, n);
    default: fail(`${n.op} on activations is imported only inside a pattern (GELU, layer normalization)`);
  }
}

/** Squeeze / Unsqueeze: size-1 axes dropped or added (ours of size 1 cannot be dropped). */
function squeeze(tr: Translator, n: OnnxNode, a: Act): Act {
  const g = tr.g;
  const given = g.opset >= 13 ? (n.inputs[1] ? Array.from(g.constOf(n.inputs[1]).data) : undefined) : attr(n.raw, 'axes');
  if (n.op === 'Unsqueeze') {
    const rank = a.axes.length + given.length;
    const at = given.map((v: number) => (v < 0 ? v + rank : v));
    const axes: number[] = [];
    for (let i = 0, j = 0; i < rank; i++) axes.push(at.includes(i) ? -1 : a.axes[j++]);
    return { ...a, axes };
  }
  const rank = a.axes.length;
  const at = given ? given.map((v: number) => (v < 0 ? v + rank : v)) : a.axes.flatMap((x, i) => (x === -1 ? [i] : []));
  if (at.some((i: number) => a.axes[i] !== -1)) g.fail(`${g.where(n)}: squeezes an axis that is not of size 1 here (our per-sample axes cannot be dropped)`);
  return { ...a, axes: a.axes.filter((_, i) => !at.includes(i)) };
}

/** LayerNormalization over ONNX axes [axis, rank) that are ours in order (γ, β in our layout then). */
function layerNorm(tr: Translator, n: OnnxNode, x: Act, axis: number, epsilon: number, scale: string | undefined, bias: string | undefined, out: string): void {
  const g = tr.g;
  const rank = x.axes.length;
  const from = axis < 0 ? axis + rank : axis;
  const ours = x.axes.slice(from);
  if (x.rows || ours.some((a, i) => a <= 0 || (i > 0 && a <= ours[i - 1])) || x.axes.includes(-2)) g.fail(`${g.where(n)}: normalises over axes that are not ours in order here`);
  const shape = ours.map((a) => x.t.shape[a - 1]);
  const name = tr.layerName(n, scale);
  const layer = layers.layerNormalization({ axis: ours.length === 1 ? ours[0] : ours, epsilon, center: bias !== undefined, scale: scale !== undefined, name });
  const fits = (v: string): void => {
    if (size(g.constOf(v).dims) !== size(shape)) g.fail(`${g.where(n)}: '${v}' has ${size(g.constOf(v).dims)} numbers for the normalised shape [${shape.join(', ')}]`);
  };
  if (scale) fits(scale), tr.setWeight(() => layer, 'gamma', tr.w.map(scale, (c) => reshape(c, shape), `${name}/gamma`));
  if (bias) fits(bias), tr.setWeight(() => layer, 'beta', tr.w.map(bias, (c) => reshape(c, shape), `${name}/beta`));
  tr.apply(layer, [x], out, x.axes, { reversed: x.reversed });
}

/**
 * A layer normalization written out (ours, older PyTorch): mean = ReduceMean(x); xc = x − mean; var = ReduceMean(xc·xc or
 * xc^2); y = xc · Reciprocal(Sqrt(var + ε)) or xc / Sqrt(var + ε); then · γ, + β when there.
 */
function writtenLayerNorm(tr: Translator, n: OnnxNode): void {
  const g = tr.g;
  const fail = (): never => g.fail(`${g.where(n)}: ReduceMean is imported only inside a layer normalization`);
  const xName = n.inputs[0];
  const axesOf = (m: OnnxNode): string => String(g.opset >= 18 ? Array.from(g.constOf(m.inputs[1]).data) : attr(m.raw, 'axes'));
  const keep = (m: OnnxNode): boolean => (attr(m.raw, 'keepdims') ?? 1) === 1;
  const constOther = (m: OnnxNode | undefined, v: string): string | undefined => {
    const o = m && (m.inputs[0] === v ? m.inputs[1] : m.inputs[0]);
    return o && g.isConst(o) ? o : undefined;
  };
  if (!keep(n)) fail();
  const sub = (g.consumers.get(n.outputs[0]) ?? []).find((c) => c.op === 'Sub' && c.inputs[0] === xName && c.inputs[1] === n.outputs[0]);
  if (!sub || g.uses(n.outputs[0]) !== 1) return fail();
  const xc = sub.outputs[0];
  const cons = g.consumers.get(xc) ?? [];
  const sq = cons.find((c) => (c.op === 'Mul' && c.inputs[0] === xc && c.inputs[1] === xc) || (c.op === 'Pow' && c.inputs[0] === xc && g.isConst(c.inputs[1]) && g.constOf(c.inputs[1]).data[0] === 2));
  const mean2 = sq && g.soleConsumer(sq.outputs[0]);
  if (!sq || mean2?.op !== 'ReduceMean' || axesOf(mean2) !== axesOf(n) || !keep(mean2)) return fail();
  const addEps = g.soleConsumer(mean2.outputs[0]);
  const eps = constOther(addEps, mean2.outputs[0]);
  const sqrt = addEps?.op === 'Add' && eps ? g.soleConsumer(addEps.outputs[0]) : undefined;
  if (sqrt?.op !== 'Sqrt') return fail();
  const next = g.soleConsumer(sqrt.outputs[0]);
  let norm: OnnxNode | undefined;
  const absorbed = [n, sub, sq, mean2, addEps!, sqrt];
  if (next?.op === 'Reciprocal') {
    norm = g.soleConsumer(next.outputs[0]);
    absorbed.push(next);
    if (norm?.op !== 'Mul' || !norm.inputs.includes(xc)) return fail();
  } else if (next?.op === 'Div' && next.inputs[0] === xc) norm = next;
  if (!norm || cons.length !== 2 || !cons.includes(norm)) return fail();
  absorbed.push(norm);
  let out = norm.outputs[0];
  const mulG = g.soleConsumer(out);
  const gamma = mulG?.op === 'Mul' ? constOther(mulG, out) : undefined;
  if (gamma) absorbed.push(mulG!), (out = mulG!.outputs[0]);
  const addB = g.soleConsumer(out);
  const beta = addB?.op === 'Add' ? constOther(addB, out) : undefined;
  if (beta) absorbed.push(addB!), (out = addB!.outputs[0]);
  const x = tr.act(xName);
  const axes = (g.opset >= 18 ? Array.from(g.constOf(n.inputs[1]).data) : (attr(n.raw, 'axes') as number[])).map((a) => (a < 0 ? a + x.axes.length : a)).sort((a, b) => a - b);
  if (axes.some((a, i) => a !== x.axes.length - axes.length + i)) g.fail(`${g.where(n)}: a layer normalization over axes [${axes.join(', ')}] that are not the trailing ones`);
  for (const a of absorbed) tr.absorbed.add(a);
  layerNorm(tr, n, x, axes[0], g.constOf(eps!).data[0], gamma, beta, out);
}
