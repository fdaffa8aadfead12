// Convolution and pooling ops (NHWC activations, HWIO filters) and their gradient ops.
import type { Conv2DParams, OutputActivation, Pool2DParams } from '../../backend/backend.js';
import { fmt, ShapeError } from '../errors.js';
import { type Conv2DOptions, conv2dParams, type Pool2DOptions, pool2dParams, shapesEqual } from '../shape.js';
import { record, recording, recordMany } from '../tape.js';
import { empty, type Tensor } from '../tensor.js';
import { backendOf, requireDType } from './util.js';

function expect(op: string, what: string, t: Tensor, shape: number[]): void {
  if (!shapesEqual(t.shape, shape)) throw new ShapeError(op, `${what} must have shape ${fmt(shape)}, got ${fmt(t.shape)}`);
}

/** 2-D convolution: x [N,H,W,C] ⊛ w [KH,KW,C,F] → [N,OH,OW,F]. */
export function conv2d(x: Tensor, w: Tensor, options: Conv2DOptions = {}): Tensor {
  backendOf('conv2d', x, w);
  return conv2dWith(x, w, conv2dParams('conv2d', x.shape, w.shape, options));
}

/**
 * act(conv2d(x, w) + bias) with bias [F]: the same bits as conv2d then biasAct, computed in one pass where the backend
 * can (Conv2D layers with a bias and one of biasAct's activations but GELU use it).
 */
export function conv2dBiasAct(x: Tensor, w: Tensor, bias: Tensor, act: OutputActivation, options: Conv2DOptions = {}): Tensor {
  const be = backendOf('conv2dBiasAct', x, w, bias);
  const p = conv2dParams('conv2dBiasAct', x.shape, w.shape, options);
  requireDType('conv2dBiasAct', 'float32', x, w, bias);
  expect('conv2dBiasAct', 'bias', bias, [p.f]);
  const y = empty([p.n, p.oh, p.ow, p.f], 'float32', be);
  be.conv2dBiasAct(x.buf, w.buf, bias.buf, y.buf, p, act);
  return record('conv2dBiasAct', [x, w, bias], y, { p, act });
}

/**
 * maxPool2d(act(conv2d(x, w) + bias)): the same bits as conv2dBiasAct then maxPool2d, in one pass where the backend can.
 * While a tape records, y = act(conv + bias) is made too (the gradients need it) and both are recorded as one node;
 * otherwise y is never stored. Used by the layer graph for a Conv2D whose only consumer is a MaxPooling2D.
 */
export function conv2dBiasActPool(x: Tensor, w: Tensor, bias: Tensor, act: OutputActivation, conv: Conv2DOptions = {}, pool: Pool2DOptions = {}): Tensor {
  const op = 'conv2dBiasActPool';
  const be = backendOf(op, x, w, bias);
  const cp = conv2dParams(op, x.shape, w.shape, conv);
  const pp = pool2dParams(op, [cp.n, cp.oh, cp.ow, cp.f], pool);
  requireDType(op, 'float32', x, w, bias);
  expect(op, 'bias', bias, [cp.f]);
  const y = recording() ? empty([cp.n, cp.oh, cp.ow, cp.f], 'float32', be) : undefined;
  const p = empty([pp.n, pp.oh, pp.ow, pp.c], 'float32', be);
  be.conv2dBiasActPool(x.buf, w.buf, bias.buf, y ? y.buf : null, p.buf, cp, pp, act);
  if (y) recordMany(op, [x, w, bias], [y, p], { cp, pp, act });
  return p;
}

/** The three convolution passes share one shape: two float32 operands of known shapes → one output, recorded under the kernel's name. */
type ConvKernel = 'conv2d' | 'conv2dGradInput' | 'conv2dGradFilter';
type Operand = [t: Tensor, what: string, shape: number[]];

function convPass(kernel: ConvKernel, op: string, [a, aWhat, aShape]: Operand, [b, bWhat, bShape]: Operand, out: number[], p: Conv2DParams): Tensor {
  const be = backendOf(op, a, b);
  requireDType(op, 'float32', a, b);
  expect(op, aWhat, a, aShape);
  expect(op, bWhat, b, bShape);
  const y = empty(out, 'float32', be);
  be[kernel](a.buf, b.buf, y.buf, p);
  return record(kernel, [a, b], y, { p });
}

/** conv2d with explicit geometry (used by the gradient rules, which must reproduce the exact padding). */
export function conv2dWith(x: Tensor, w: Tensor, p: Conv2DParams): Tensor {
  return convPass('conv2d', 'conv2d', [x, 'input', [p.n, p.h, p.w, p.c]], [w, 'filter', [p.kh, p.kw, p.c, p.f]], [p.n, p.oh, p.ow, p.f], p);
}

/** Gradient of conv2d w.r.t. its input: dy [N,OH,OW,F], w [KH,KW,C,F] → [N,H,W,C] (a transposed convolution). */
export function conv2dBackpropInput(dy: Tensor, w: Tensor, p: Conv2DParams): Tensor {
  return convPass('conv2dGradInput', 'conv2dBackpropInput', [dy, 'dy', [p.n, p.oh, p.ow, p.f]], [w, 'filter', [p.kh, p.kw, p.c, p.f]], [p.n, p.h, p.w, p.c], p);
}

/** Gradient of conv2d w.r.t. its filter: x [N,H,W,C], dy [N,OH,OW,F] → [KH,KW,C,F]. */
export function conv2dBackpropFilter(x: Tensor, dy: Tensor, p: Conv2DParams): Tensor {
  return convPass('conv2dGradFilter', 'conv2dBackpropFilter', [x, 'input', [p.n, p.h, p.w, p.c]], [dy, 'dy', [p.n, p.oh, p.ow, p.f]], [p.kh, p.kw, p.c, p.f], p);
}

/** Max pooling of x [N,H,W,C] (Keras defaults: 2×2 window, stride = window, 'valid'). */
export function maxPool2d(x: Tensor, options: Pool2DOptions = {}): Tensor {
  const b = backendOf('maxPool2d', x);
  requireDType('maxPool2d', 'float32', x);
  const p = pool2dParams('maxPool2d', x.shape, options);
  const y = empty([p.n, p.oh, p.ow, p.c], 'float32', b);
  b.maxPool2d(x.buf, y.buf, p);
  return record('maxPool2d', [x], y, { p });
}

/** Gradient of max pooling: routes dy to the first maximum of each window of x. */
export function maxPool2dGrad(x: Tensor, dy: Tensor, p: Pool2DParams): Tensor {
  const b = backendOf('maxPool2dGrad', x, dy);
  expect('maxPool2dGrad', 'dy', dy, [p.n, p.oh, p.ow, p.c]);
  const dx = empty(x.shape, 'float32', b);
  b.maxPool2dGrad(x.buf, dy.buf, dx.buf, p);
  return record('maxPool2dGrad', [x, dy], dx, { p });
}

/**
 * The gradients of max pooling over y = act(z + bias) (biasAct's activations): [dz = act'·maxPool2dGrad(y, dy) (the
 * same bits as maxPool2dGrad then biasActGrad), db = dz summed over all axes but the last].
 */
export function maxPool2dBiasActGrad(y: Tensor, dy: Tensor, p: Pool2DParams, act: OutputActivation): [Tensor, Tensor] {
  const b = backendOf('maxPool2dBiasActGrad', y, dy);
  expect('maxPool2dBiasActGrad', 'y', y, [p.n, p.h, p.w, p.c]);
  expect('maxPool2dBiasActGrad', 'dy', dy, [p.n, p.oh, p.ow, p.c]);
  const dz = empty(y.shape, 'float32', b);
  const db = empty([p.c], 'float32', b);
  b.maxPool2dBiasActGrad(y.buf, dy.buf, dz.buf, db.buf, p, act);
  const [z, s] = recordMany('maxPool2dBiasActGrad', [y, dy], [dz, db], { p, act });
  return [z, s];
}

/** Average pooling of x [N,H,W,C]; padded cells are not counted. */
export function avgPool2d(x: Tensor, options: Pool2DOptions = {}): Tensor {
  backendOf('avgPool2d', x);
  return avgPool2dWith(x, pool2dParams('avgPool2d', x.shape, options));
}

/** avgPool2d with explicit geometry. */
export function avgPool2dWith(x: Tensor, p: Pool2DParams): Tensor {
  const b = backendOf('avgPool2d', x);
  requireDType('avgPool2d', 'float32', x);
  expect('avgPool2d', 'input', x, [p.n, p.h, p.w, p.c]);
  const y = empty([p.n, p.oh, p.ow, p.c], 'float32', b);
  b.avgPool2d(x.buf, y.buf, p);
  return record('avgPool2d', [x], y, { p });
}

/** Gradient of average pooling (its adjoint): spreads dy over each window's valid cells. */
export function avgPool2dGrad(dy: Tensor, p: Pool2DParams): Tensor {
  const b = backendOf('avgPool2dGrad', dy);
  expect('avgPool2dGrad', 'dy', dy, [p.n, p.oh, p.ow, p.c]);
  const dx = empty([p.n, p.h, p.w, p.c], 'float32', b);
  b.avgPool2dGrad(dy.buf, dx.buf, p);
  return record('avgPool2dGrad', [dy], dx, { p });
}
