// Reverse-mode autodiff: ops are recorded on the active tapes and replayed backwards through the VJP table.
import { tidy } from './engine.js';
import { DTypeError, fmt } from './errors.js';
import type { Op, OpAttrs } from './op-types.js';
import type { Tensor } from './tensor.js';
import { add, onesLike, zerosLike } from './ops/index.js';
import { vjp } from './vjp.js';

interface Node {
  op: Op;
  inputs: readonly Tensor[];
  output: Tensor;
  attrs: OpAttrs[Op];
}

class Tape {
  readonly nodes: Node[] = [];
  readonly watched = new Set<number>();
}

const tapes: Tape[] = [];

/** Records `output = op(inputs)` on every active tape that watches one of the inputs; returns `output`. */
export function record<K extends Op>(op: K, inputs: readonly Tensor[], output: Tensor, attrs: OpAttrs[K]): Tensor {
  for (const tape of tapes) {
    if (inputs.some((t) => tape.watched.has(t.id))) {
      tape.watched.add(output.id);
      tape.nodes.push({ op, inputs, output, attrs });
    }
  }
  return output;
}

/** True while some tape is recording (ops may then skip work that only matters without gradients). */
export function recording(): boolean {
  return tapes.length > 0;
}

/**
 * Evaluates `f` and the gradients of its scalar result with respect to each of `xs`.
 * A gradient is zeros when the result does not depend on that input. Works inside and outside `tidy`;
 * tensors made by `f` belong to the caller's scope, the backward pass frees its own temporaries.
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
  const grads = tidy(() => backward(tape, value, xs));
  return { value, grads };
}

function backward(tape: Tape, y: Tensor, xs: readonly Tensor[]): Tensor[] {
  const g = new Map<number, Tensor>();
  g.set(y.id, onesLike(y));
  const want = new Set(xs.map((x) => x.id));
  for (let i = tape.nodes.length - 1; i >= 0; i--) {
    const node = tape.nodes[i];
    const gy = g.get(node.output.id);
    if (gy === undefined) continue;
    if (!want.has(node.output.id)) g.delete(node.output.id);
    const rule = vjp[node.op] as (g: Tensor, inputs: readonly Tensor[], output: Tensor, attrs: OpAttrs[Op], needs: readonly boolean[]) => (Tensor | null)[];
    const gs = rule(gy, node.inputs, node.output, node.attrs, node.inputs.map((x) => tape.watched.has(x.id)));
    node.inputs.forEach((x, k) => {
      const gx = gs[k];
      if (!gx || !tape.watched.has(x.id)) return;
      const prev = g.get(x.id);
      g.set(x.id, prev ? add(prev, gx) : gx);
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
