// Reverse-mode autodiff: ops are recorded on the active tapes and replayed backwards through the VJP table.
import { tidy } from './engine.js';
import { DTypeError, fmt } from './errors.js';
import { GradStore } from './grad-store.js';
import { MULTI_OUTPUT_OPS, type MultiOutputOp, type Op, type OpAttrs, type SingleOutputOp } from './op-types.js';
import type { Tensor } from './tensor.js';
import { onesLike, zerosLike } from './ops/index.js';
import { vjp, type MultiVjpRule, type SingleVjpRule } from './vjp.js';

/** One recorded op: its inputs, its outputs (one, or several for a multi-output op) and its attributes. */
interface Node {
  op: Op;
  inputs: readonly Tensor[];
  outputs: readonly Tensor[];
  attrs: OpAttrs[Op];
}

class Tape {
  readonly nodes: Node[] = [];
  readonly watched = new Set<number>();
}

const tapes: Tape[] = [];
const multiOutput = new Set<Op>(MULTI_OUTPUT_OPS);

function push(op: Op, inputs: readonly Tensor[], outputs: readonly Tensor[], attrs: OpAttrs[Op]): void {
  for (const tape of tapes) {
    if (inputs.some((t) => tape.watched.has(t.id))) {
      for (const y of outputs) tape.watched.add(y.id);
      tape.nodes.push({ op, inputs, outputs, attrs });
    }
  }
}

/** Records `output = op(inputs)` on every active tape that watches one of the inputs; returns `output`. */
export function record<K extends SingleOutputOp>(op: K, inputs: readonly Tensor[], output: Tensor, attrs: OpAttrs[K]): Tensor {
  push(op, inputs, [output], attrs);
  return output;
}

/** Records `outputs = op(inputs)` for an op with several outputs as one node; returns `outputs`. */
export function recordMany<K extends MultiOutputOp>(op: K, inputs: readonly Tensor[], outputs: Tensor[], attrs: OpAttrs[K]): Tensor[] {
  push(op, inputs, outputs, attrs);
  return outputs;
}

/** True when some recording tape watches one of `inputs`: an op on them will be on a tape (and differentiated). */
export function watching(inputs: readonly Tensor[]): boolean {
  for (const tape of tapes) if (inputs.some((t) => tape.watched.has(t.id))) return true;
  return false;
}

/** True while some tape is recording (ops may then skip work that only matters without gradients). */
export function recording(): boolean {
  return tapes.length > 0;
}

/**
 * Evaluates `f` and the gradients of its scalar result with respect to each of `xs`.
 * A gradient is zeros when the result does not depend on that input. Works inside and outside `tidy`, and nested (the
 * gradient of a gradient); tensors made by `f` belong to the caller's scope, the backward pass frees its own
 * temporaries unless an outer valueAndGrads is recording (it needs them; the caller's scope then frees them).
 */
export function valueAndGrads(f: () => Tensor, xs: readonly Tensor[]): { value: Tensor; grads: Tensor[] } {
  const tape = new Tape();
  for (const x of xs) {
    x.check('valueAndGrads');
    tape.watched.add(x.id);
  }
  tapes.push(tape);
  let value: Tensor;
  try {
    value = f();
  } finally {
    tapes.pop();
  }
  if (value.size !== 1) throw new DTypeError('valueAndGrads', `f must return a scalar, got shape ${fmt(value.shape)}`);
  // Inside an outer valueAndGrads the backward pass is itself recorded, and the outer pass reads the tensors it makes
  // (a gradient of a gradient): they then belong to the caller's scope, like f's; else they are freed here.
  const grads = recording() ? backward(tape, value, xs) : tidy(() => backward(tape, value, xs));
  return { value, grads };
}

/**
 * Replays the tape backwards from y. Gradients are summed in a GradStore: in place into buffers the pass owns,
 * unless an outer tape is recording (a gradient of a gradient), which must see every sum as an op.
 */
function backward(tape: Tape, y: Tensor, xs: readonly Tensor[]): Tensor[] {
  const g = new GradStore(!recording());
  g.add(y, onesLike(y));
  const want = new Set(xs.map((x) => x.id));
  for (let i = tape.nodes.length - 1; i >= 0; i--) {
    const node = tape.nodes[i];
    const gys = node.outputs.map((o) => g.get(o.id) ?? null);
    if (gys.every((gy) => gy === null)) continue;
    for (const o of node.outputs) if (!want.has(o.id)) g.delete(o.id);
    const needs = node.inputs.map((x) => tape.watched.has(x.id));
    const gs = multiOutput.has(node.op)
      ? (vjp[node.op] as MultiVjpRule<MultiOutputOp>)(gys, node.inputs, node.outputs, node.attrs as OpAttrs[MultiOutputOp], needs)
      : (vjp[node.op] as SingleVjpRule<SingleOutputOp>)(gys[0]!, node.inputs, node.outputs[0], node.attrs as OpAttrs[SingleOutputOp], needs);
    node.inputs.forEach((x, k) => {
      const gx = gs[k];
      if (gx && tape.watched.has(x.id)) g.add(x, gx);
    });
  }
  return xs.map((x) => g.get(x.id) ?? zerosLike(x));
}

/** Gradient of a scalar function of one tensor. */
export function grad(f: (x: Tensor) => Tensor): (x: Tensor) => Tensor {
  return (x) => {
    const { value, grads } = valueAndGrads(() => f(x), [x]);
    value.dispose();
    return grads[0];
  };
}
