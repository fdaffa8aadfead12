// Merge layers (Keras names): Add, Subtract, Multiply, Average and Concatenate join several inputs into one, and their masks.
import { quote } from '../../core/errors.js';
import { add, concat, mul, ones, sub } from '../../core/ops/index.js';
import type { Shape } from '../../core/shape.js';
import type { Tensor } from '../../core/tensor.js';
import { batchShape, type CallContext, Layer, type LayerOptions, registerLayer } from '../layer.js';

/** A layer of several inputs and one output, without weights. */
abstract class Merge extends Layer {
  protected override readonly floatInputsOnly = true;
  override get stateless(): boolean {
    return true;
  }

  outputShape(s: Shape): number[] {
    return this.outputShapes([s])[0];
  }

  call(x: Tensor, ctx: CallContext): Tensor {
    return this.callAll([x], ctx)[0];
  }

  protected config(): Record<string, unknown> {
    return {};
  }

  /** Keras: the inputs' masks combined by logical AND (a product of 0/1 masks); none when no input has one. */
  override computeMask(_inputs: readonly Tensor[], masks: readonly (Tensor | undefined)[]): (Tensor | undefined)[] | undefined {
    const given = masks.filter((m): m is Tensor => m !== undefined);
    return given.length ? [given.slice(1).reduce((a, m) => mul(a, m), given[0])] : undefined;
  }

  /** Throws unless there are at least `min` inputs. */
  protected checkCount(shapes: readonly Shape[], min: number, max = Infinity): void {
    if (shapes.length < min || shapes.length > max) {
      const want = max === min ? `exactly ${min}` : `at least ${min}`;
      throw this.shapeError(`needs ${want} inputs, got ${shapes.length}${shapes.length ? `: ${shapes.map((s) => batchShape(s)).join(', ')}` : ''}`);
    }
  }
}

/** Element-wise merges: every input has the same shape, and so has the output. */
abstract class ElementwiseMerge extends Merge {
  protected readonly minInputs: number = 2;
  protected readonly maxInputs: number = Infinity;

  override outputShapes(shapes: readonly Shape[]): number[][] {
    this.checkCount(shapes, this.minInputs, this.maxInputs);
    const first = shapes[0];
    for (const s of shapes.slice(1)) {
      if (s.length !== first.length || s.some((d, i) => d !== first[i])) {
        throw this.shapeError(`inputs must have equal shapes, got ${shapes.map((t) => batchShape(t)).join(' and ')}`);
      }
    }
    return [[...first]];
  }

  override callAll(xs: readonly Tensor[], _ctx: CallContext): Tensor[] {
    return [this.combine(xs)];
  }

  /** The output for the inputs (default: the binary op folded left over them). */
  protected combine(xs: readonly Tensor[]): Tensor {
    return xs.slice(1).reduce((acc, x) => this.op(acc, x), xs[0]);
  }

  protected abstract op(a: Tensor, b: Tensor): Tensor;
}

/** Sum of the inputs (residual connections): `layers.add().apply([x, y])`. */
export class Add extends ElementwiseMerge {
  readonly className = 'Add';
  readonly defaultName = 'add';
  protected op(a: Tensor, b: Tensor): Tensor {
    return add(a, b);
  }
}

/** First input minus the second (exactly two inputs). */
export class Subtract extends ElementwiseMerge {
  readonly className = 'Subtract';
  readonly defaultName = 'subtract';
  protected override readonly maxInputs = 2;
  protected op(a: Tensor, b: Tensor): Tensor {
    return sub(a, b);
  }
}

/** Element-wise product of the inputs (gating). */
export class Multiply extends ElementwiseMerge {
  readonly className = 'Multiply';
  readonly defaultName = 'multiply';
  protected op(a: Tensor, b: Tensor): Tensor {
    return mul(a, b);
  }
}

/** Element-wise mean of the inputs. */
export class Average extends ElementwiseMerge {
  readonly className = 'Average';
  readonly defaultName = 'average';
  protected op(a: Tensor, b: Tensor): Tensor {
    return add(a, b);
  }
  protected override combine(xs: readonly Tensor[]): Tensor {
    return mul(super.combine(xs), 1 / xs.length);
  }
}

/** Options of {@link Concatenate}. */
export interface ConcatenateOptions extends LayerOptions {
  /** Axis to join along, counting the batch axis as 0 (Keras); default −1, the last. */
  axis?: number;
}

/** Joins the inputs along one axis; all other dimensions must agree. */
export class Concatenate extends Merge {
  readonly className = 'Concatenate';
  readonly defaultName = 'concatenate';
  readonly axis: number;

  constructor(o: ConcatenateOptions = {}) {
    super(o);
    const a = o.axis ?? -1;
    if (!Number.isInteger(a) || a === 0) throw new RangeError(`layer '${o.name ?? 'concatenate'}': axis must be a non-zero integer (0 is the batch axis), got ${quote(o.axis)}`);
    this.axis = a;
  }

  /** The axis within a per-sample shape of rank `rank`. */
  private sampleAxis(rank: number): number {
    const a = this.axis > 0 ? this.axis - 1 : rank + this.axis;
    if (a < 0 || a >= rank) throw this.shapeError(`axis ${this.axis} is out of range for inputs of rank ${rank + 1}`);
    return a;
  }

  override outputShapes(shapes: readonly Shape[]): number[][] {
    this.checkCount(shapes, 2);
    const first = shapes[0];
    const a = this.sampleAxis(first.length);
    for (const s of shapes.slice(1)) {
      if (s.length !== first.length || s.some((d, i) => i !== a && d !== first[i])) {
        throw this.shapeError(`inputs must agree on every axis but ${this.axis}, got ${shapes.map((t) => batchShape(t)).join(' and ')}`);
      }
    }
    const out = [...first];
    out[a] = shapes.reduce((acc, s) => acc + s[a], 0);
    return [out];
  }

  override callAll(xs: readonly Tensor[], _ctx: CallContext): Tensor[] {
    return [concat(xs, this.sampleAxis(xs[0].rank - 1) + 1)];
  }

  /**
   * Keras: joined along the last (feature) axis, the masks combine by AND; along a step axis, they are joined along it
   * too (an input without a mask counts as all ones).
   */
  override computeMask(xs: readonly Tensor[], masks: readonly (Tensor | undefined)[]): (Tensor | undefined)[] | undefined {
    if (!masks.some((m) => m)) return undefined;
    const a = this.sampleAxis(xs[0].rank - 1) + 1;
    if (a === xs[0].rank - 1) return super.computeMask(xs, masks);
    return [concat(xs.map((x, i) => masks[i] ?? ones(x.shape.slice(0, -1))), a)];
  }

  protected override config(): Record<string, unknown> {
    return { axis: this.axis };
  }
}

registerLayer('Add', (c) => new Add(c as LayerOptions));
registerLayer('Subtract', (c) => new Subtract(c as LayerOptions));
registerLayer('Multiply', (c) => new Multiply(c as LayerOptions));
registerLayer('Average', (c) => new Average(c as LayerOptions));
registerLayer('Concatenate', (c) => new Concatenate(c as ConcatenateOptions));
