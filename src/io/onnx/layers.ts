// Layers as ONNX nodes: each graph node of a model becomes a few ONNX ops, NHWC outside and NCHW where ONNX convolves and pools.
import { conv2dParams, pool2dParams } from '../../core/shape.js';
import type { ActivationName } from '../../nn/activations.js';
import type { GraphNode } from '../../nn/graph.js';
import type { Layer } from '../../nn/layer.js';
import { Activation } from '../../nn/layers/activation.js';
import { Conv2D, type WindowedLayer } from '../../nn/layers/conv2d.js';
import { Dense } from '../../nn/layers/dense.js';
import { Dropout } from '../../nn/layers/dropout.js';
import { Embedding } from '../../nn/layers/embedding.js';
import { Flatten } from '../../nn/layers/flatten.js';
import { LayerNormalization } from '../../nn/layers/layer-normalization.js';
import { LocallyConnected2D } from '../../nn/layers/locally-connected2d.js';
import { Add, Average, Concatenate, Multiply, Subtract } from '../../nn/layers/merge.js';
import { AveragePooling2D, MaxPooling2D } from '../../nn/layers/pooling.js';
import { Recurrent } from '../../nn/layers/recurrent.js';
import { Block } from '../../nn/layers/block.js';
import { MultiHeadAttention } from '../../nn/layers/multi-head-attention.js';
import { PositionEmbedding } from '../../nn/layers/position-embedding.js';
import { SinePositionEncoding } from '../../nn/layers/sine-position-encoding.js';
import type { SymbolicTensor } from '../../nn/layer.js';
import { writeAttention, writePositions, writeSinePositions } from './attention.js';
import type { OnnxGraph } from './builder.js';
import { recurrentProblem, reverseSteps, writeRecurrent } from './recurrent.js';
import { Bidirectional } from '../../nn/layers/bidirectional.js';
import type { WeightWriter } from './weights.js';

/** The layer classes {@link emitLayer} writes, for error messages. */
export const EXPORTABLE_LAYERS = [
  'Dense', 'Conv2D', 'LocallyConnected2D', 'MaxPooling2D', 'AveragePooling2D', 'Flatten', 'Dropout', 'Activation',
  'Add', 'Subtract', 'Multiply', 'Average', 'Concatenate', 'LayerNormalization', 'Embedding', 'SimpleRNN', 'LSTM', 'GRU', 'Bidirectional',
  'MultiHeadAttention', 'PositionEmbedding', 'SinePositionEncoding', 'Block',
] as const;

/** A layer or weight that cannot be written to ONNX; the message, one line, names it. */
export class OnnxExportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OnnxExportError';
  }
}

/** An ONNX value and, for rank-4 activations, its axis order (ours is NHWC; Conv and pooling want NCHW). */
export interface Value {
  name: string;
  layout: 'nhwc' | 'nchw';
  /** Per-sample shape in our (NHWC) order. */
  shape: readonly number[];
  /**
   * The Keras mask that travels with it (from an Embedding with maskZero, through layers that keep masks): a BOOL value
   * [N, T], or '' for a mask the export cannot express (a concatenation along time); undefined for none.
   */
  mask?: string;
}

/** Writes layer applications into a graph, converting layouts on demand (once per value). */
export class LayerWriter {
  private readonly converted = new Map<string, string>();
  /** Names inside a Block start with the block's path: 'block/dense'. */
  private prefix = '';

  constructor(private readonly g: OnnxGraph, private readonly weights: WeightWriter) {}

  /** `v` in the layout asked for (a Transpose node when it is rank 4 and in the other one). */
  as(v: Value, layout: 'nhwc' | 'nchw'): string {
    if (v.layout === layout || v.shape.length !== 3) return v.name;
    const key = `${v.name}>${layout}`;
    let t = this.converted.get(key);
    if (t === undefined) {
      t = this.g.node('Transpose', [v.name], `${v.name}/${layout}`, { perm: layout === 'nchw' ? [0, 3, 1, 2] : [0, 2, 3, 1] });
      this.converted.set(key, t);
    }
    return t;
  }

  /** Writes one application of a layer; returns its output values, marked when a Keras mask travels with them. */
  emit(n: GraphNode, inputs: readonly Value[]): Value[] {
    const l = n.layer;
    const outs = this.emitLayer(n, inputs);
    // A Block's outputs carry the masks its inner graph made; other layers follow Keras' rules (see Layer.computeMask).
    if (l instanceof Block) return outs;
    const masks = inputs.map((v) => v.mask).filter((m): m is string => m !== undefined);
    let mask: string | undefined;
    if (l instanceof Embedding && l.maskZero) {
      mask = this.g.node('Not', [this.g.node('Equal', [inputs[0].name, this.g.int32(0)], `${outs[0].name}/is_padding`)], `${outs[0].name}/mask`);
    } else if ((l instanceof Add || l instanceof Subtract || l instanceof Multiply || l instanceof Average || l instanceof Concatenate) && masks.length) {
      const alongTime = l instanceof Concatenate && !(l.axis === -1 || l.axis === inputs[0].shape.length);
      mask = alongTime || masks.includes('') ? '' : masks.slice(1).reduce((a, b) => this.g.node('And', [a, b], `${outs[0].name}/mask`), masks[0]);
    } else if (l.supportsMasking || ((l instanceof Recurrent || l instanceof Bidirectional) && l.returnSequences)) mask = inputs[0].mask;
    return outs.map((v, i) => ({ ...v, mask: i === 0 ? mask : undefined }));
  }

  private emitLayer(n: GraphNode, inputs: readonly Value[]): Value[] {
    const l = n.layer;
    const at = `${this.prefix}${n.application === 0 ? l.name : `${l.name}#${n.application}`}`;
    // A node inside a Block applied at other shapes than its inner graph's (sequences of another length) takes its
    // output shapes from its inputs; elsewhere the graph's own.
    const own = inputs.every((v, i) => v.shape.length === n.inputs[i].shape.length && v.shape.every((d, k) => d === n.inputs[i].shape[k]));
    const outShapes = own ? n.outputs.map((t) => t.shape) : l.outputShapes(inputs.map((v) => v.shape));
    const shape = outShapes[0];
    const nhwc = (name: string): Value[] => [{ name, layout: 'nhwc', shape }];
    const x = inputs[0];
    if (l instanceof Dense) return nhwc(this.dense(l, this.as(x, 'nhwc'), at));
    if (l instanceof Conv2D || l instanceof MaxPooling2D || l instanceof AveragePooling2D) {
      return [{ name: this.windowed(l, this.as(x, 'nchw'), x.shape, at), layout: 'nchw', shape }];
    }
    if (l instanceof LocallyConnected2D) return nhwc(this.local(l, this.as(x, 'nchw'), x.shape, shape, at));
    if (l instanceof Flatten) return nhwc(this.g.node('Flatten', [this.as(x, 'nhwc')], at, { axis: 1 }));
    if (l instanceof Dropout) return [x];
    if (l instanceof Activation) {
      // Softmax runs over the last axis of our layout: channels, so an NCHW value goes back to NHWC first.
      const layout = l.activation === 'softmax' ? 'nhwc' : x.layout;
      return [{ name: this.activate(l.activation, this.as(x, layout), at), layout, shape }];
    }
    if (l instanceof Add || l instanceof Subtract || l instanceof Multiply || l instanceof Average) {
      const op = l instanceof Subtract ? 'Sub' : l instanceof Multiply ? 'Mul' : 'Add';
      const names = inputs.map((v) => this.as(v, x.layout));
      let y = names.slice(1).reduce((a, b) => this.g.node(op, [a, b], at), names[0]);
      if (l instanceof Average) y = this.g.node('Mul', [y, this.g.scalar(`${at}/inverse_count`, 1 / names.length)], at);
      return [{ name: y, layout: x.layout, shape }];
    }
    if (l instanceof Concatenate) {
      const axis = l.axis > 0 ? l.axis : x.shape.length + 1 + l.axis;
      return nhwc(this.g.node('Concat', inputs.map((v) => this.as(v, 'nhwc')), at, { axis }));
    }
    if (l instanceof LayerNormalization) return nhwc(this.layerNorm(l, this.as(x, 'nhwc'), x.shape, at));
    if (l instanceof Embedding) return nhwc(this.g.node('Gather', [this.weight(l, 'embeddings'), x.name], at, { axis: 0 }));
    if (l instanceof Block) return this.block(l, inputs, at);
    if (l instanceof MultiHeadAttention) {
      if (inputs.some((v) => v.mask === '')) throw new OnnxExportError(`layer '${this.prefix}${l.name}' (MultiHeadAttention): an input mask after a concatenation along time is not exported yet`);
      const w = (sub: string, weight: 'kernel' | 'bias'): string => this.weights.value(l.sublayers().find((c) => c.name === sub)!.weight(weight), `${this.prefix}${l.name}/${sub}/${weight}`);
      const [y, scores] = writeAttention(this.g, l, inputs.map((v) => v.name), inputs.map((v) => v.shape), w, at, inputs.map((v) => v.mask));
      return l.returnAttentionScores ? [{ name: y, layout: 'nhwc', shape }, { name: scores, layout: 'nhwc', shape: outShapes[1] }] : nhwc(y);
    }
    if (l instanceof PositionEmbedding) return nhwc(writePositions(this.g, x.name, this.weight(l, 'embeddings'), x.shape[x.shape.length - 2], at));
    if (l instanceof SinePositionEncoding) return nhwc(writeSinePositions(this.g, x.name, x.shape[x.shape.length - 2], x.shape[x.shape.length - 1], l.maxWavelength, at));
    if (l instanceof Recurrent || l instanceof Bidirectional) {
      const outs = l instanceof Recurrent ? this.recurrent(l, inputs, l.name, at) : this.bidirectional(l, inputs, at);
      return outs.map((name, i) => ({ name, layout: 'nhwc', shape: outShapes[i] }));
    }
    throw new OnnxExportError(`layer '${this.prefix}${l.name}' (${l.className}) cannot be exported to ONNX yet (exportable: ${EXPORTABLE_LAYERS.join(', ')})`);
  }

  private weight(l: Layer, name: string): string {
    return this.weights.value(l.weight(name), `${this.prefix}${l.name}/${name}`);
  }

  /** A recurrent layer (`path`: its name, or 'bidirectional/forward_gru' for a direction of a Bidirectional) as an ONNX op. */
  private recurrent(l: Recurrent, inputs: readonly Value[], path: string, at: string): string[] {
    const x = inputs[0];
    const problem = recurrentProblem(l, inputs.length, x.mask);
    if (problem) throw new OnnxExportError(`layer '${this.prefix}${path}' (${l.className}): ${problem}`);
    const w = (name: string): string => this.weights.value(l.weight(name), `${this.prefix}${path}/${name}`);
    return writeRecurrent(this.g, l, x.name, x.shape[0], w('kernel'), w('recurrentKernel'), l.useBias ? w('bias') : undefined, at, x.mask);
  }

  /** Both directions as separate ops (the backward one's sequence put back in input order, as Keras does), merged. */
  private bidirectional(l: Bidirectional, inputs: readonly Value[], at: string): string[] {
    const g = this.g;
    const [yf, ...sf] = this.recurrent(l.forwardLayer, inputs, `${l.name}/${l.forwardLayer.name}`, `${at}/${l.forwardLayer.name}`);
    let [yb, ...sb] = this.recurrent(l.backwardLayer, inputs, `${l.name}/${l.backwardLayer.name}`, `${at}/${l.backwardLayer.name}`);
    if (l.returnSequences) yb = reverseSteps(g, yb, inputs[0].shape[0], 1, `${at}/${l.backwardLayer.name}`);
    const m = l.mergeMode;
    const merged = m === 'concat' ? [g.node('Concat', [yf, yb], at, { axis: -1 })] : m === 'sum' ? [g.node('Add', [yf, yb], at)]
      : m === 'mul' ? [g.node('Mul', [yf, yb], at)] : m === 'ave' ? [g.node('Mul', [g.node('Add', [yf, yb], `${at}/sum`), g.scalar(`${at}/half`, 0.5)], at)] : [yf, yb];
    return [...merged, ...sf, ...sb];
  }

  /** A Block: its inner graph written in place, names under the block's path (a reused block's weights written once). */
  private block(l: Block, inputs: readonly Value[], at: string): Value[] {
    const inner = l.innerModel;
    const values = new Map<SymbolicTensor, Value>();
    inner.inputs.forEach((t, i) => values.set(t, inputs[i]));
    const outer = this.prefix;
    this.prefix = `${at}/`;
    try {
      for (const n of inner.graph) {
        const outs = this.emit(n, n.inputs.map((t) => values.get(t)!));
        n.outputs.forEach((t, i) => values.set(t, outs[i]));
      }
    } finally {
      this.prefix = outer;
    }
    return inner.outputs.map((t) => values.get(t)!);
  }

  private activate(act: ActivationName, x: string, at: string): string {
    const g = this.g;
    switch (act) {
      case 'linear': return x;
      case 'relu': return g.node('Relu', [x], at);
      case 'sigmoid': return g.node('Sigmoid', [x], at);
      case 'tanh': return g.node('Tanh', [x], at);
      case 'softmax': return g.node('Softmax', [x], at, { axis: -1 });
      case 'hard_sigmoid': return g.node('HardSigmoid', [x], at, { alpha: { float: 1 / 6 }, beta: { float: 0.5 } });
      case 'gelu': {
        // 0.5·x·(1 + erf(x/√2)), the exact GELU (opset 17 has no Gelu op).
        const erf = g.node('Erf', [g.node('Mul', [x, g.scalar(`${at}/inv_sqrt2`, Math.SQRT1_2)], `${at}/scaled`)], `${at}/erf`);
        const half = g.node('Mul', [x, g.scalar(`${at}/half`, 0.5)], `${at}/half_x`);
        return g.node('Mul', [half, g.node('Add', [erf, g.scalar(`${at}/one`, 1)], `${at}/one_plus_erf`)], at);
      }
    }
  }

  /** x·W (+ b), act; a low-rank kernel as (x·U)·V. */
  private dense(l: Dense, x: string, at: string): string {
    const g = this.g;
    const map = l.weight('kernel');
    const uv = this.weights.factors(map, `${l.name}/kernel`);
    let y = uv ? g.node('MatMul', [g.node('MatMul', [x, uv[0]], `${at}/xu`), uv[1]], `${at}/matmul`) : g.node('MatMul', [x, this.weight(l, 'kernel')], `${at}/matmul`);
    if (l.useBias) y = g.node('Add', [y, this.weight(l, 'bias')], `${at}/biased`);
    return this.activate(l.activation, y, at);
  }

  /** Conv2D (kernel HWIO → OIHW by a Transpose of the weight), MaxPool, AveragePool (mean of the cells inside the input) on NCHW. */
  private windowed(l: Conv2D | MaxPooling2D | AveragePooling2D, x: string, s: readonly number[], at: string): string {
    const g = this.g;
    if (l instanceof Conv2D) {
      if (l.activation === 'softmax') throw new OnnxExportError(`layer '${l.name}' (Conv2D): a softmax activation over channels is not exported yet (use a separate Activation layer)`);
      const p = conv2dParams(l.name, [1, ...s], [...l.kernelSize, s[2], l.filters], { strides: l.strides, padding: l.padding, dilations: l.dilationRate });
      const pads = [p.padTop, p.padLeft, padEnd(p.h, p.oh, p.strideH, (p.kh - 1) * p.dilationH + 1, p.padTop), padEnd(p.w, p.ow, p.strideW, (p.kw - 1) * p.dilationW + 1, p.padLeft)];
      const w = g.node('Transpose', [this.weight(l, 'kernel')], `${l.name}/kernel_oihw`, { perm: [3, 2, 0, 1] });
      const y = g.node('Conv', l.useBias ? [x, w, this.weight(l, 'bias')] : [x, w], `${at}/conv`, { kernel_shape: l.kernelSize, strides: l.strides, dilations: l.dilationRate, pads });
      return this.activate(l.activation, y, at);
    }
    const p = pool2dParams(l.name, [1, ...s], l.poolOptions());
    const pads = [p.padTop, p.padLeft, padEnd(p.h, p.oh, p.strideH, p.kh, p.padTop), padEnd(p.w, p.ow, p.strideW, p.kw, p.padLeft)];
    return g.node(l instanceof MaxPooling2D ? 'MaxPool' : 'AveragePool', [x], at, { kernel_shape: l.poolSize, strides: l.strides, pads });
  }

  /**
   * LocallyConnected2D as it runs here: patches by a convolution with a one-hot filter (EyeLike), one MatMul per
   * output position over [OH·OW, N, KH·KW·C] × kernel [OH·OW, KH·KW·C, filters], bias [OH, OW, filters].
   */
  private local(l: WindowedLayer, x: string, s: readonly number[], out: readonly number[], at: string): string {
    const g = this.g;
    const [kh, kw] = l.kernelSize;
    const k = kh * kw * s[2];
    const [oh, ow, f] = out;
    const p = conv2dParams(l.name, [1, ...s], [kh, kw, s[2], f], { strides: l.strides, padding: l.padding });
    const pads = [p.padTop, p.padLeft, padEnd(p.h, p.oh, p.strideH, kh, p.padTop), padEnd(p.w, p.ow, p.strideW, kw, p.padLeft)];
    const eye = g.node('EyeLike', [g.node('ConstantOfShape', [g.int64s(`${at}/eye_shape`, [k, k])], `${at}/eye_zeros`)], `${at}/eye`);
    const filter = g.node('Transpose', [g.node('Reshape', [eye, g.int64s(`${at}/filter_hwio`, [kh, kw, s[2], k])], `${at}/filter_hwio`)], `${at}/filter`, { perm: [3, 2, 0, 1] });
    const patches = g.node('Conv', [x, filter], `${at}/patches`, { kernel_shape: [kh, kw], strides: l.strides, pads });
    const rows = g.node('Reshape', [g.node('Transpose', [patches], `${at}/patches_nhwc`, { perm: [0, 2, 3, 1] }), g.int64s(`${at}/rows_shape`, [-1, oh * ow, k])], `${at}/rows`);
    const byPosition = g.node('Transpose', [rows], `${at}/by_position`, { perm: [1, 0, 2] });
    const prod = g.node('Transpose', [g.node('MatMul', [byPosition, this.weight(l, 'kernel')], `${at}/matmul`)], `${at}/by_sample`, { perm: [1, 0, 2] });
    let y = g.node('Reshape', [prod, g.int64s(`${at}/out_shape`, [-1, oh, ow, f])], `${at}/nhwc`);
    if (l.useBias) y = g.node('Add', [y, this.weight(l, 'bias')], `${at}/biased`);
    return this.activate(l.activation, y, at);
  }

  /** (x − mean) · 1/√(var + ε) · γ + β over the layer's axes, composed from ReduceMean (opset 17's LayerNormalization only takes trailing axes). */
  private layerNorm(l: LayerNormalization, x: string, s: readonly number[], at: string): string {
    const g = this.g;
    const axes = (Array.isArray(l.axis) ? l.axis : [l.axis]).map((a) => (a > 0 ? a : s.length + 1 + a)).sort((a, b) => a - b);
    const mean = g.node('ReduceMean', [x], `${at}/mean`, { axes, keepdims: 1 });
    const xc = g.node('Sub', [x, mean], `${at}/centred`);
    const v = g.node('ReduceMean', [g.node('Mul', [xc, xc], `${at}/squared`)], `${at}/variance`, { axes, keepdims: 1 });
    const inv = g.node('Reciprocal', [g.node('Sqrt', [g.node('Add', [v, g.scalar(`${at}/epsilon`, l.epsilon)], `${at}/variance_eps`)], `${at}/std`)], `${at}/inv_std`);
    let y = g.node('Mul', [xc, inv], `${at}/normalised`);
    const trailing = axes.length === 1 && axes[0] === s.length;
    const bcast = (w: string, name: string): string => (trailing ? w : g.node('Reshape', [w, g.int64s(`${at}/${name}_shape`, s.map((d, i) => (axes.includes(i + 1) ? d : 1)))], `${at}/${name}_bcast`));
    if (l.scale) y = g.node('Mul', [y, bcast(this.weight(l, 'gamma'), 'gamma')], l.center ? `${at}/scaled` : at);
    if (l.center) y = g.node('Add', [y, bcast(this.weight(l, 'beta'), 'beta')], at);
    return y;
  }
}

/** Padding after the input so that ONNX gets the same output size: what TF's 'same' puts at the end. */
function padEnd(size: number, out: number, stride: number, kernel: number, begin: number): number {
  return Math.max(0, (out - 1) * stride + kernel - size - begin);
}
