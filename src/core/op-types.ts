// The op set that autodiff knows: each op's name and the attributes its vector-Jacobian rule needs.
import type { BiasActivation, BinaryOp, Conv2DParams, DType, OutputActivation, Pool2DParams, UnaryOp } from '../backend/backend.js';
import type { Tensor } from './tensor.js';
import type { AttentionAttrs } from './ops/attention.js';
import type { RnnAttrs } from './ops/recurrent.js';

type NoAttrs = Record<string, never>;

/** Attributes recorded with each op on the tape, keyed by op name. */
export type OpAttrs = { [K in UnaryOp]: NoAttrs } & { [K in BinaryOp]: NoAttrs } & {
  where: NoAttrs;
  matmul: { transA: boolean; transB: boolean };
  conv2d: { p: Conv2DParams };
  conv2dBiasAct: { p: Conv2DParams; act: OutputActivation };
  /** [y, maxPool2d(y)] for y = act(conv2d + bias) (one node, two outputs). */
  conv2dBiasActPool: { cp: Conv2DParams; pp: Pool2DParams; act: OutputActivation };
  conv2dGradInput: { p: Conv2DParams };
  conv2dGradFilter: { p: Conv2DParams };
  maxPool2d: { p: Pool2DParams };
  maxPool2dGrad: { p: Pool2DParams };
  /** [dz, db]: maxPool2dGrad then biasActGrad (one node, two outputs). */
  maxPool2dBiasActGrad: { p: Pool2DParams; act: OutputActivation };
  avgPool2d: { p: Pool2DParams };
  avgPool2dGrad: { p: Pool2DParams };
  sum: { axes: number[]; keepDims: boolean };
  mean: { axes: number[]; keepDims: boolean };
  max: { axes: number[]; keepDims: boolean };
  min: { axes: number[]; keepDims: boolean };
  softmax: NoAttrs;
  logSoftmax: NoAttrs;
  /** Attention probabilities: inputs x and an optional mask (see ops/attention.ts). */
  maskedSoftmax: { scale: number; causal: boolean };
  /** Their gradient from [∂L/∂y, y]. */
  maskedSoftmaxGrad: { scale: number; causal: boolean };
  /** Fused attention: inputs [q, k, v] or [qkv] (packed); outputs o and the probabilities P (see ops/attention.ts). */
  attention: AttentionAttrs;
  /** The log-softmax of logits [rows, C] at int32 labels [rows]: outputs logp [rows] and the row statistics [rows, 2]. */
  logSoftmaxPick: NoAttrs;
  /** Its gradient from [∂L/∂logp, logits, labels, stats]. */
  logSoftmaxPickGrad: NoAttrs;
  gather: { axis: number };
  scatterAdd: { axis: number; axisLen: number };
  /** Layer normalisation over the last axis: inputs x, [gamma] when `scale`, [beta] when `center`. */
  layerNorm: { epsilon: number; scale: boolean; center: boolean };
  /** Its gradients [dx, dgamma, dbeta] from dy, x and [gamma] (one node, three outputs). */
  layerNormGrad: { epsilon: number; scale: boolean; center: boolean };
  /** slope: GELU's gelu'(x + bias), written by the forward pass when it was taped (its backward reads it). */
  biasAct: { act: BiasActivation; slope?: Tensor };
  /** The gradients of biasAct, [dz, db], from ∂L/∂y and y, or for GELU from ∂L/∂y, x and bias (one node, two outputs). */
  biasActGrad: { act: BiasActivation };
  reshape: NoAttrs;
  transpose: { perm: number[] };
  slice: { begin: number[]; size: number[] };
  /** Pieces of extents `sizes` along `axis` (unstack records it too, with its outputs' axis removed). */
  split: { axis: number; sizes: number[] };
  pad: { paddings: [number, number][] };
  concat: { axis: number };
  broadcastTo: NoAttrs;
  cast: { to: DType };
  fwht: NoAttrs;
  /** A whole recurrence (see ops/recurrent.ts): inputs p, u, h0, [c0], [recurrent bias], [mask]; outputs y, h, [c], hprev, save. */
  rnnSequence: RnnAttrs;
  /** Its backward pass through time: outputs dp, [dr], dh0, [dc0]. */
  rnnSequenceGrad: RnnAttrs;
};

/** Every differentiable op. */
export type Op = keyof OpAttrs;

/** Ops with several outputs: one tape node holds them all and their rule gets one gradient per output. */
export const MULTI_OUTPUT_OPS = ['split', 'attention', 'logSoftmaxPick', 'rnnSequence', 'rnnSequenceGrad', 'biasActGrad', 'layerNormGrad', 'conv2dBiasActPool', 'maxPool2dBiasActGrad'] as const;
export type MultiOutputOp = (typeof MULTI_OUTPUT_OPS)[number];
/** Ops with one output. */
export type SingleOutputOp = Exclude<Op, MultiOutputOp>;
