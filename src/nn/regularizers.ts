// Keras weight regularizers (l1, l2, l1l2): a penalty l1·Σ|w| + l2·Σw² on a layer's weight, added to the loss.
import { quote } from '../core/errors.js';
import { abs, add, mul, square, sum } from '../core/ops/index.js';
import type { Tensor } from '../core/tensor.js';
import type { WeightRole } from './weight-role.js';

/** The regularizer names of Keras / TF.js (`'l1l2'` is TF.js's name of `L1L2`; `'l1_l2'` is accepted too). */
export const REGULARIZERS = ['l1', 'l2', 'l1l2'] as const;
export type RegularizerName = (typeof REGULARIZERS)[number];

/**
 * A regularizer as given: a name ('l2', with Keras' default factor 0.01), a name with a factor ('l2:0.0001',
 * 'l1l2:0.001:0.0001' = l1 then l2), or an object `{ l1?, l2? }` (TF.js `L1L2` config; a missing factor is 0, except
 * that `{}` alone means nothing), optionally with `kind` (then a missing factor of that kind is the name's default,
 * 0.01, and the other kind's factor must be 0 or absent).
 */
export type RegularizerSpec = string | { kind?: string; l1?: number; l2?: number };

/** A checked regularizer: the penalty is l1·Σ|w| + l2·Σw² (Keras `L1L2`; `l2(0.01)` = 0.01·Σw²). */
export interface Regularizer {
  kind: RegularizerName;
  l1: number;
  l2: number;
}

/** The layer options that set a regularizer, Keras names, and the weight role each acts on. */
export const REGULARIZER_OPTIONS = {
  kernelRegularizer: 'kernel',
  biasRegularizer: 'bias',
  recurrentRegularizer: 'recurrentKernel',
  embeddingsRegularizer: 'embedding',
} as const satisfies Record<string, WeightRole>;
export type RegularizerOption = keyof typeof REGULARIZER_OPTIONS;

/** Keras' default factor of `l1()`, `l2()` and TF.js's `l1l2()`. */
const DEFAULT_FACTOR = 0.01;

/**
 * Reads a regularizer spec; `where` names the layer and option in errors (`layer 'dense' kernelRegularizer`). Throws a
 * one-line RangeError for an unknown name, or a factor that is negative or not finite.
 */
export function regularizer(spec: RegularizerSpec, where: string): Regularizer {
  const factor = (name: string, v: unknown): number => {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new RangeError(`${where}: ${name} must be a finite number ≥ 0, got ${quote(v)}`);
    return v;
  };
  let kind: string, l1: unknown, l2: unknown;
  if (typeof spec === 'string') {
    const [name, ...f] = spec.split(':');
    kind = name === 'l1_l2' ? 'l1l2' : name;
    // A factor that is no number stays the text it was, so the error quotes it.
    const num = (s: string | undefined): unknown => (s === undefined ? DEFAULT_FACTOR : s.trim() === '' || Number.isNaN(Number(s)) ? s : Number(s));
    if (f.length > (kind === 'l1l2' ? 2 : 1)) throw new RangeError(`${where}: cannot read '${spec}' (expected e.g. 'l2', 'l2:0.0001', 'l1l2:0.001:0.0001')`);
    l1 = kind === 'l1' || kind === 'l1l2' ? num(f[0]) : 0;
    l2 = kind === 'l2' ? num(f[0]) : kind === 'l1l2' ? num(f[1]) : 0;
  } else if (spec && typeof spec === 'object' && !Array.isArray(spec)) {
    // {L2: 0.01} or {factor: 0.01} was read as {} (no penalty): only kind, l1 and l2 are taken.
    const unknown = Object.keys(spec).filter((k) => !['kind', 'l1', 'l2'].includes(k));
    if (unknown.length) throw new RangeError(`${where}: unknown key${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `'${k}'`).join(', ')} (a regularizer object is { kind?, l1?, l2? }, e.g. { l2: 0.0001 })`);
    kind = spec.kind === undefined ? (spec.l1 && spec.l2 ? 'l1l2' : spec.l1 ? 'l1' : 'l2') : spec.kind === 'l1_l2' ? 'l1l2' : String(spec.kind);
    // With a kind, its own factor defaults as the name alone does ({ kind: 'l2' } is 'l2', 0.01); the other must be 0.
    const given = spec.kind !== undefined;
    l1 = spec.l1 ?? (given && (kind === 'l1' || kind === 'l1l2') ? DEFAULT_FACTOR : 0);
    l2 = spec.l2 ?? (given && (kind === 'l2' || kind === 'l1l2') ? DEFAULT_FACTOR : 0);
    const other = kind === 'l1' ? 'l2' : kind === 'l2' ? 'l1' : undefined;
    if (other && spec[other] !== undefined && spec[other] !== 0) throw new RangeError(`${where}: kind '${kind}' takes ${kind} only, got ${other} ${quote(spec[other])} too (both: kind 'l1l2')`);
  } else {
    throw new RangeError(`${where}: expected a regularizer name (${REGULARIZERS.join(', ')}) or { l1, l2 }, got ${quote(spec)}`);
  }
  if (!(REGULARIZERS as readonly string[]).includes(kind)) throw new RangeError(`${where}: unknown regularizer '${kind}' (known: ${REGULARIZERS.join(', ')})`);
  return { kind: kind as RegularizerName, l1: factor('l1', l1), l2: factor('l2', l2) };
}

/** l1·Σ|w| + l2·Σw² as a scalar tensor, differentiable (the terms with factor 0 are left out). */
export function penalty(r: Regularizer, w: Tensor): Tensor {
  const terms: Tensor[] = [];
  if (r.l1) terms.push(mul(sum(abs(w)), r.l1));
  if (r.l2) terms.push(mul(sum(square(w)), r.l2));
  return terms.length === 2 ? add(terms[0], terms[1]) : terms.length ? terms[0] : mul(sum(w), 0);
}
