// subspace(model, …): the whole model rewritten as θ₀ + P·d (Li et al., ICLR 2018), one 'subspace' map per weight sharing d.
import type { Model } from '../nn/model.js';
import { modelFromConfig, requireModel } from '../nn/model.js';
import { SharingError } from '../sharing/registry.js';
import { ArgumentError, describeValue } from '../core/errors.js';
import { checkSubspaceSettings, type Projection } from '../sharing/subspace.js';

/** Options of {@link subspace}. */
export interface SubspaceOptions {
  /** Size of the trained vector d, in [1, D]. */
  dim: number;
  /** How P is made (default 'fastfood'). */
  projection?: Projection;
  /** Seed of P (default 0). */
  seed?: number;
  /** Seed of θ₀: the model's weights after `build(initSeed)` (default 0). */
  initSeed?: number;
}

/**
 * A new model, unbuilt→built, with the architecture of `model` whose every weight is W_l = θ₀_l + P_l·d: θ₀ the
 * initialisation `model.build(initSeed)` gives (regenerated from the seeds, frozen), P [D, dim] a random
 * projection with ≈ unit-norm, nearly orthogonal columns (row block P_l per weight), d [dim] the only trained
 * parameter, starting at 0 (named `<first layer>/<first weight>/d`). `model` is built with `initSeed` if it
 * was not built yet; it must use dense weights only. Throws a SharingError when dim is outside [1, D].
 */
export function subspace(model: Model, o: SubspaceOptions): Model {
  requireModel('subspace', model);
  if (o === null || typeof o !== 'object') throw new ArgumentError('subspace', `takes options { dim, projection?, seed?, initSeed? }, got ${describeValue(o)}`);
  const unknown = Object.keys(o).filter((k) => !['dim', 'projection', 'seed', 'initSeed'].includes(k));
  if (unknown.length) throw new ArgumentError('subspace', `unknown option${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `'${k}'`).join(', ')} (options: dim, projection, seed, initSeed)`);
  for (const k of ['projection', 'seed', 'initSeed'] as const) {
    if (o[k] === null) throw new ArgumentError('subspace', `${k} is null: leave it out for the default`);
  }
  for (const k of ['seed', 'initSeed'] as const) {
    const v = o[k];
    if (v !== undefined && !(Number.isSafeInteger(v) && v >= 0)) throw new ArgumentError('subspace', `${k} must be a non-negative integer, got ${describeValue(v)}`);
  }
  const initSeed = o.initSeed ?? 0;
  if (!model.built) model.build(initSeed);
  const weights = model.weights();
  const where = { layer: model.name, weight: `(all ${weights.length} weights)` };
  for (const w of weights) {
    if (w.map.kind !== 'dense') throw new SharingError({ layer: w.layer.name, weight: w.name }, 'subspace', `needs a model with dense weights, this one is '${w.map.kind}'`);
  }
  const total = weights.reduce((s, w) => s + w.map.shape.reduce((a, b) => a * b, 1), 0);
  const settings = checkSubspaceSettings({ dim: o.dim, projection: o.projection ?? 'fastfood', seed: o.seed ?? 0, total }, where);
  const config = model.toJSON();
  const maps = new Map<string, Record<string, unknown>>();
  let offset = 0;
  const owner = weights.length ? weights[0].path : undefined;
  for (const w of weights) {
    // Keyed by top-level layer, then the weight's path below it ('kernel', or 'dense/kernel' in a block).
    const [top, ...below] = w.path.split('/');
    const m = maps.get(top) ?? {};
    m[below.join('/')] = { kind: 'subspace', ...settings, offset, ...(w.path !== owner ? { owner } : {}) };
    maps.set(top, m);
    offset += w.map.shape.reduce((a, b) => a * b, 1);
  }
  for (const l of config.layers) {
    const m = maps.get(String(l.config.name));
    if (m) l.config.maps = m;
  }
  return modelFromConfig(config).build(initSeed);
}
