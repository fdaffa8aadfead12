// ONNX import: LSTM, GRU and RNN ops as our recurrent layers (gate order i o f c → Keras i f c o), Bidirectional, and Gather as Embedding.
import type { ActivationName } from '../../nn/activations.js';
import type { Layer } from '../../nn/layer.js';
import type { Bidirectional } from '../../nn/layers/bidirectional.js';
import { layers } from '../../nn/layers/index.js';
import type { Recurrent } from '../../nn/layers/recurrent.js';
import { attr, type Const, gather, makeConst, transpose } from './import-eval.js';
import type { OnnxNode } from './import-graph.js';
import type { Act, Translator } from './import-layers.js';

const ACTIVATIONS: Record<string, ActivationName> = { Sigmoid: 'sigmoid', Tanh: 'tanh', Relu: 'relu' };

/** Gates per op and the ONNX gate block each of ours (Keras order) reads: LSTM i f c o ← i o f c; GRU z r h and RNN agree. */
const GATES: Record<string, number[]> = { LSTM: [0, 2, 3, 1], GRU: [0, 1, 2], RNN: [0] };

/** An LSTM, GRU or RNN node: our layer (Bidirectional for direction 'bidirectional'), its weights, and its outputs Y, Y_h, Y_c. */
export function recurrent(tr: Translator, n: OnnxNode): void {
  const g = tr.g;
  const fail = (why: string): never => g.fail(`${tr.where(n)}: ${why}`);
  const [xName, wName, rName, bName = '', lens = '', h0 = '', c0 = '', peep = ''] = n.inputs;
  const x = tr.act(xName);
  const batchMajor = attr(n.raw, 'layout') === 1;
  if (String(x.axes) !== (batchMajor ? '0,1,2' : '1,0,2') || x.reversed || x.rows) fail(`its input is not a sequence [N, T, F] here (axes ${x.axes.join(',')})`);
  const units = attr(n.raw, 'hidden_size') ?? fail('hidden_size is missing');
  const direction = attr(n.raw, 'direction') ?? 'forward';
  const dirs = direction === 'bidirectional' ? 2 : 1;
  for (const a of ['clip', 'activation_alpha', 'activation_beta']) if (attr(n.raw, a) !== undefined) fail(`attribute ${a} is not imported`);
  if (attr(n.raw, 'input_forget') === 1) fail('coupled input and forget gates (input_forget 1) are not imported');
  const zeroOrAbsent = (v: string): boolean => !v || (g.isConst(v) && (g.constOf(v).fill === 0 || (g.constOf(v).fill === undefined && g.constOf(v).data.every((e) => e === 0))));
  if (![h0, c0, peep].every(zeroOrAbsent)) fail('initial states and peepholes other than zeros are not imported');
  if (lens && g.kind(lens) !== 'mask') fail('sequence_lens other than an Embedding\'s padding mask (maskZero) are not imported');
  const defaults = n.op === 'LSTM' ? ['Sigmoid', 'Tanh', 'Tanh'] : n.op === 'GRU' ? ['Sigmoid', 'Tanh'] : ['Tanh'];
  const acts = ((attr(n.raw, 'activations') as string[] | undefined) ?? [...defaults, ...(dirs === 2 ? defaults : [])]).map((a) => ACTIVATIONS[a] ?? fail(`activation ${a} has no recurrent form here (Sigmoid, Tanh, Relu)`));
  const per = defaults.length;
  if (dirs === 2 && acts.slice(0, per).some((a, i) => a !== acts[per + i])) fail('the two directions use different activations');
  if (n.op === 'LSTM' && acts[1] !== acts[2]) fail(`LSTM activations g (${acts[1]}) and h (${acts[2]}) differ; ours use one`);
  const w = g.constOf(wName);
  const gates = GATES[n.op].length;
  const features = x.t.shape[1];
  if (w.dims.length !== 3 || w.dims[0] !== dirs || w.dims[1] !== gates * units || w.dims[2] !== features) {
    fail(`W '${wName}' is [${w.dims.join(', ')}], expected [${dirs}, ${gates * units}, ${features}]`);
  }
  const [yUsed, hUsed, cUsed] = [0, 1, 2].map((i) => !!n.outputs[i] && g.uses(n.outputs[i]) > 0);
  const resetAfter = n.op === 'GRU' ? attr(n.raw, 'linear_before_reset') === 1 : undefined;
  const name = tr.layerName(n, wName);
  const options = {
    units, useBias: !!bName, returnSequences: yUsed, returnState: cUsed || (yUsed && hUsed), goBackwards: direction === 'reverse',
    ...(n.op === 'RNN' ? { activation: acts[0] } : { recurrentActivation: acts[0], activation: acts[1] }), ...(n.op === 'GRU' ? { resetAfter } : {}),
  };
  const make = (nm: string): Recurrent => (n.op === 'LSTM' ? layers.lstm({ ...options, name: nm }) : n.op === 'GRU' ? layers.gru({ ...options, name: nm }) : layers.simpleRNN({ ...options, name: nm }));
  let layer: Layer;
  const cells: (() => Recurrent)[] = [];
  if (dirs === 2) {
    if (!yUsed) fail('a bidirectional op whose sequence output Y is unused is not imported');
    if (hUsed || cUsed) fail('the final states of a bidirectional op are not imported (only its sequence output Y)');
    const bi: Bidirectional = layers.bidirectional({ layer: make(n.op.toLowerCase()), mergeMode: 'concat', name });
    layer = bi;
    cells.push(() => bi.forwardLayer, () => bi.backwardLayer);
  } else {
    const cell = make(name);
    layer = cell;
    cells.push(() => cell);
  }
  const gateRows = Int32Array.from(GATES[n.op].flatMap((b) => Array.from({ length: units }, (_, i) => b * units + i)));
  const rowsIndex = makeConst([gateRows.length], gateRows, 'int');
  cells.forEach((cell, d) => {
    const path = dirs === 2 ? `${name}/${cell().name}` : name;
    // ONNX [dirs, G·U, F] → direction d, our gate order, transposed: ours [F, G·U].
    const convert = (c: Const): Const => transpose(gather(gather(c, makeConst([], [d], 'int'), 0), rowsIndex, 0), [1, 0]);
    tr.setWeight(cell, 'kernel', tr.w.map(wName, convert, `${path}/kernel`));
    tr.setWeight(cell, 'recurrentKernel', tr.w.map(rName, convert, `${path}/recurrentKernel`));
    if (bName) {
      // A second op reading the same B (a layer applied twice) gets a bias tied to the first, as its kernels are.
      const value = bias(g.constOf(bName), d, rowsIndex, gates * units, resetAfter === true);
      tr.setWeight(cell, 'bias', tr.w.computed(bName, `bias ${n.op} direction ${d} resetAfter ${resetAfter === true}`, value, `${path}/bias`));
    }
  });
  const outs = layer.applyAll(x.t);
  tr.consumed.add(x.t);
  const [y, yh, yc] = batchMajor ? [[0, 1, dirs === 2 ? -2 : -1, 2], [0, -1, 1], [0, -1, 1]] : [[1, dirs === 2 ? -2 : -1, 0, 2], [-1, 0, 1], [-1, 0, 1]];
  let k = 0;
  if (yUsed) tr.acts.set(n.outputs[0], { t: outs[k++], axes: y, reversed: direction === 'reverse' || undefined });
  else if (!options.returnState && hUsed) tr.acts.set(n.outputs[1], { t: outs[k++], axes: yh });
  if (options.returnState) {
    if (!yUsed) k++;
    tr.acts.set(n.outputs[1], { t: outs[k++], axes: yh });
    if (n.op === 'LSTM') tr.acts.set(n.outputs[2], { t: outs[k], axes: yc });
  }
}

/** Our bias from ONNX's B [dirs, 2·G·U] (input then recurrent biases): their sum, or both rows [2, G·U] for a GRU with linear_before_reset. */
function bias(b: Const, d: number, rows: Const, gu: number, twoRows: boolean): Const {
  const row = gather(b, makeConst([], [d], 'int'), 0);
  const wb = gather(row, rows, 0);
  const rb = gather(row, makeConst([gu], Array.from(rows.data, (r) => r + gu), 'int'), 0);
  if (twoRows) return makeConst([2, gu], [...wb.data, ...rb.data]);
  return makeConst([gu], wb.data.map((v, i) => v + rb.data[i]));
}

/** Gather(table, ids) with a constant table [V, D] and integer ids: an Embedding (maskZero when the graph also tests ids = 0). */
export function embedding(tr: Translator, n: OnnxNode): void {
  const g = tr.g;
  const [table, idsName] = n.inputs;
  const ids = tr.act(idsName);
  const t = g.constOf(table);
  if ((attr(n.raw, 'axis') ?? 0) !== 0 || t.dims.length !== 2) g.fail(`${tr.where(n)}: a Gather from a constant is imported as an Embedding: table [V, D] and axis 0 (got [${t.dims.join(', ')}], axis ${attr(n.raw, 'axis')})`);
  if (ids.t.dtype !== 'int32' || ids.rows || ids.axes.some((a, i) => a !== i)) g.fail(`${tr.where(n)}: the ids of an Embedding must be an integer model input [N, …]`);
  const maskZero = (g.consumers.get(idsName) ?? []).some((c) => c.op === 'Equal' && c.inputs.some((i) => i !== idsName && g.isConst(i) && g.constOf(i).data.every((v) => v === 0)));
  const name = tr.layerName(n, table);
  const layer = layers.embedding({ inputDim: t.dims[0], outputDim: t.dims[1], maskZero, name });
  tr.setWeight(() => layer, 'embeddings', tr.w.map(table, (c) => c, `${name}/embeddings`));
  tr.apply(layer, [ids], n.outputs[0], [...ids.axes, ids.axes.length]);
}

/** Gather of an activation by constant indices: the step order reversed back (a goBackwards sequence), or one entry of a size-1 axis. */
export function gatherAct(tr: Translator, n: OnnxNode, x: Act): void {
  const g = tr.g;
  const idx = g.constOf(n.inputs[1]);
  let axis = attr(n.raw, 'axis') ?? 0;
  if (axis < 0) axis += x.axes.length;
  const dims = tr.dims(x);
  const a = x.axes[axis];
  const len = dims[axis];
  if (a === -1 && idx.dims.length === 0 && (idx.data[0] === 0 || idx.data[0] === -1)) {
    tr.acts.set(n.outputs[0], { ...x, axes: x.axes.filter((_, i) => i !== axis) });
    return;
  }
  const reverse = idx.dims.length === 1 && idx.data.length === len && idx.data.every((v, i) => v === len - 1 - i || v === -1 - i);
  if (reverse && a === 1 && x.t.shape.length === 2) {
    tr.acts.set(n.outputs[0], { ...x, reversed: !x.reversed || undefined });
    return;
  }
  g.fail(`${tr.where(n)}: a Gather from an activation is imported only to reverse a sequence's steps or to pick the one entry of a size-1 axis`);
}
