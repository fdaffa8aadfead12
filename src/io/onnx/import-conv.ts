// ONNX import: Conv, pooling and our LocallyConnected2D pattern on NCHW activations, with ONNX pads read as Keras padding.
import { conv2dParams, type Padding } from '../../core/shape.js';
import { layers } from '../../nn/layers/index.js';
import { attr, type Const, reshape, transpose } from './import-eval.js';
import type { OnnxNode } from './import-graph.js';
import type { Act, Translator } from './import-layers.js';

/** Conv (group 1) or pooling on NCHW: Conv2D, MaxPooling2D, AveragePooling2D (global pools as pools over the whole image). */
export function windowed(tr: Translator, n: OnnxNode): void {
  const g = tr.g;
  const x = tr.act(n.inputs[0]);
  if (String(x.axes) !== '0,3,1,2' || x.reversed) g.fail(`${tr.where(n)}: its input is not an NCHW view of an image here (axes ${x.axes.join(',')})`);
  const [h, w, c] = x.t.shape;
  const global = n.op.startsWith('Global');
  const conv = n.op === 'Conv';
  let kernel = attr(n.raw, 'kernel_shape') as number[] | undefined;
  if (conv) {
    if ((attr(n.raw, 'group') ?? 1) !== 1) g.fail(`${tr.where(n)}: grouped convolutions (group ${attr(n.raw, 'group')}) are not imported`);
    const wc = g.constOf(n.inputs[1]);
    if (wc.dims.length !== 4 || wc.dims[1] !== c) g.fail(`${tr.where(n)}: weight '${n.inputs[1]}' is [${wc.dims.join(', ')}] for an input of ${c} channels`);
    kernel ??= wc.dims.slice(2);
  }
  if (global) kernel = [h, w];
  if (!kernel || kernel.length !== 2) return g.fail(`${tr.where(n)}: only 2-D windows are imported`);
  const strides = (attr(n.raw, 'strides') as number[] | undefined) ?? [1, 1];
  const dil = (attr(n.raw, 'dilations') as number[] | undefined) ?? [1, 1];
  if (!conv && dil.some((d) => d !== 1)) g.fail(`${tr.where(n)}: dilated pooling is not imported`);
  const padding = global ? 'valid' : kerasPadding(tr, n, [h, w], kernel, strides, dil);
  if (n.op === 'AveragePool' && padding === 'same' && attr(n.raw, 'count_include_pad') === 1) g.fail(`${tr.where(n)}: average pooling that counts the padding (count_include_pad 1) is not imported`);
  if (n.op === 'MaxPool' && n.outputs.length > 1 && n.outputs[1] && g.uses(n.outputs[1])) g.fail(`${tr.where(n)}: the Indices output of MaxPool is not imported`);
  if (!conv) {
    const o = { poolSize: kernel as [number, number], strides: (global ? kernel : strides) as [number, number], padding, name: tr.layerName(n) };
    tr.apply(n.op.includes('Max') ? layers.maxPooling2d(o) : layers.averagePooling2d(o), [x], n.outputs[0]);
    return;
  }
  if (isPatchFilter(g.constOf(n.inputs[1]), c, kernel)) return local(tr, n, x, kernel, strides, padding);
  const name = tr.layerName(n, n.inputs[1]);
  const f = g.constOf(n.inputs[1]).dims[0];
  const bias = n.inputs[2] || undefined;
  const tail = tr.tail(n.outputs[0], f, false, x);
  const layer = layers.conv2d({ filters: f, kernelSize: kernel as [number, number], strides: strides as [number, number], dilationRate: dil as [number, number], padding, activation: tail.activation, useBias: bias !== undefined, name });
  tr.setWeight(() => layer, 'kernel', tr.w.map(n.inputs[1], (k) => transpose(k, [2, 3, 1, 0]), `${name}/kernel`));
  if (bias) tr.setWeight(() => layer, 'bias', tr.w.map(bias, (b) => reshape(b, [f]), `${name}/bias`));
  tr.apply(layer, [x], tail.out);
}

/**
 * LocallyConnected2D as our export writes it: patches by a Conv with a one-hot filter, Transpose to NHWC, Reshape
 * [N, OH·OW, K], Transpose by position, MatMul with the kernel [OH·OW, K, F], Transpose back, Reshape [N, OH, OW, F].
 */
function local(tr: Translator, n: OnnxNode, x: Act, kernel: number[], strides: number[], padding: Padding): void {
  const g = tr.g;
  const nodes: OnnxNode[] = [];
  let cur = n.outputs[0];
  for (const [op, perm] of [['Transpose', '0,2,3,1'], ['Reshape'], ['Transpose', '1,0,2'], ['MatMul'], ['Transpose', '1,0,2'], ['Reshape']]) {
    const c = g.soleConsumer(cur);
    if (!c || c.op !== op || (perm && String(attr(c.raw, 'perm')) !== perm) || (op === 'MatMul' && !g.isConst(c.inputs[1]))) {
      return g.fail(`${tr.where(n)}: a convolution with a one-hot filter is imported only as the patches of a LocallyConnected2D (Transpose, Reshape, Transpose, MatMul, Transpose, Reshape after it)`);
    }
    nodes.push(c);
    cur = c.outputs[0];
  }
  const k = nodes[3].inputs[1];
  const [positions, , f] = g.constOf(k).dims;
  for (const m of nodes) tr.absorbed.add(m);
  const tail = tr.tail(cur, positions * f, true, x, true);
  const name = tr.layerName(n, k);
  const layer = layers.locallyConnected2d({ filters: f, kernelSize: kernel as [number, number], strides: strides as [number, number], padding, activation: tail.activation, useBias: tail.bias !== undefined, name });
  tr.setWeight(() => layer, 'kernel', tr.w.map(k, (c) => c, `${name}/kernel`));
  const t = tr.apply(layer, [x], tail.out, [0, 1, 2, 3]);
  if (tail.bias) tr.setWeight(() => layer, 'bias', tr.w.map(tail.bias, (c) => reshape(c, t.t.shape), `${name}/bias`));
}

/** Keras padding with the same windows as the node's pads / auto_pad: 'valid', or TF 'same' (extra padding at the end). */
function kerasPadding(tr: Translator, n: OnnxNode, hw: number[], k: number[], s: number[], d: number[]): Padding {
  const auto = attr(n.raw, 'auto_pad') ?? 'NOTSET';
  if (auto === 'VALID') return 'valid';
  if (auto === 'SAME_UPPER') return 'same';
  const geometry = (p: Padding): { oh: number; ow: number; padTop: number; padLeft: number } | undefined => {
    try {
      return conv2dParams(n.name, [1, hw[0], hw[1], 1], [k[0], k[1], 1, 1], { strides: s as [number, number], padding: p, dilations: d as [number, number] });
    } catch {
      return undefined;
    }
  };
  if (auto === 'SAME_LOWER') {
    // The odd pad goes first in ONNX, last in TF: the same windows only when each total pad is even.
    const q = geometry('same')!;
    const even = [0, 1].every((i) => (([q.oh, q.ow][i] - 1) * s[i] + (k[i] - 1) * d[i] + 1 - hw[i]) % 2 === 0);
    if (even) return 'same';
  }
  const pads = (attr(n.raw, 'pads') as number[] | undefined) ?? [0, 0, 0, 0];
  const ceil = attr(n.raw, 'ceil_mode') === 1;
  const outs = [0, 1].map((i) => {
    const span = hw[i] + pads[i] + pads[i + 2] - ((k[i] - 1) * d[i] + 1);
    return (ceil ? Math.ceil(span / s[i]) : Math.floor(span / s[i])) + 1;
  });
  for (const p of ['valid', 'same'] as const) {
    const q = geometry(p);
    if (auto === 'NOTSET' && q && q.oh === outs[0] && q.ow === outs[1] && q.padTop === pads[0] && q.padLeft === pads[1]) return p;
  }
  tr.g.fail(`${tr.where(n)}: pads [${pads.join(', ')}]${auto !== 'NOTSET' ? ` (auto_pad ${auto})` : ''} on a ${hw.join('×')} input give windows that neither 'valid' nor 'same' padding gives`);
}

/** Whether a Conv filter [K, C, KH, KW] copies input cell (i, j, c) to channel (i·KW + j)·C + c: the patches of a LocallyConnected2D. */
function isPatchFilter(w: Const, c: number, kernel: number[]): boolean {
  const [kh, kw] = kernel;
  const k = kh * kw * c;
  if (w.dims.length !== 4 || w.dims[0] !== k || w.dims[1] !== c || w.dims[2] !== kh || w.dims[3] !== kw) return false;
  return w.data.every((v, i) => {
    const o = Math.floor(i / k), r = i % k;
    const ch = Math.floor(r / (kh * kw)), ij = r % (kh * kw);
    return v === (o === ij * c + ch ? 1 : 0);
  });
}
