// Which weights of a model a transform acts on: those with a shareable role, of every layer or of the layers named.
import { tidy } from '../core/engine.js';
import type { NamedWeight } from '../nn/layer.js';
import type { Model } from '../nn/model.js';
import { isShareable, SHAREABLE_ROLES } from '../nn/weight-role.js';
import { SharingError } from '../sharing/registry.js';
import { TiedMap } from '../sharing/tied.js';
import type { WeightMap } from '../sharing/weight-map.js';

/** A weight of a model as {@link Model.weights} lists it: its layer, name, role, map and path (`dense/kernel`). */
export type ModelWeight = NamedWeight & { path: string };

/** A per-weight setting: one value for every weight, or a function of the weight (e.g. of `w.layer.name` or `w.map.shape`). */
export type PerWeight<T> = T | ((w: ModelWeight) => T);

/** The value of a {@link PerWeight} setting for one weight. */
export function valueFor<T>(v: PerWeight<T>, w: ModelWeight): T {
  return typeof v === 'function' ? (v as (w: ModelWeight) => T)(w) : v;
}

/**
 * True when `w` belongs to the layer `name` of the model, or to a sublayer under it: `name` is a top-level layer name
 * or a path to a sublayer (`block/dense`), and the weight's path starts with `name/`.
 */
export function inLayer(w: ModelWeight, name: string): boolean {
  return w.path.startsWith(name + '/');
}

/** True when `name` is a layer of the model or the path of a sublayer with weights (`block/dense`). */
export function namesLayer(model: Model, name: string, weights: readonly ModelWeight[] = model.weights()): boolean {
  return model.layers.some((l) => l.name === name) || weights.some((w) => inLayer(w, name));
}

/** The value for `w` of a setting keyed by layer name or sublayer path: the longest key that `w` is in, else undefined. */
export function byLayer<T>(settings: Readonly<Record<string, T>>, w: ModelWeight): T | undefined {
  let best: string | undefined;
  for (const k of Object.keys(settings)) if (inLayer(w, k) && (best === undefined || k.length > best.length)) best = k;
  return best === undefined ? undefined : settings[best];
}

/**
 * The weights a transform under scheme `scheme` acts on: every weight whose role is shareable ({@link SHAREABLE_ROLES}),
 * or, when `layers` is given, those of the named layers in that order. A name that is no layer, or a layer without a
 * shareable weight, throws a SharingError naming it and the scheme.
 */
export function shareableWeights(model: Model, layers: readonly string[] | undefined, scheme: string): ModelWeight[] {
  const all = model.weights();
  if (!layers) return all.filter((w) => isShareable(w.role));
  const picked = new Set<ModelWeight>();
  for (const name of layers) {
    const own = all.filter((w) => inLayer(w, name));
    const ctx = { layer: name, weight: 'kernel' };
    if (!own.length && !model.layers.some((l) => l.name === name)) {
      throw new SharingError(ctx, scheme, `model '${model.name}' has no such layer (layers: ${model.layers.map((l) => l.name).join(', ')})`);
    }
    const shareable = own.filter((w) => isShareable(w.role));
    if (!shareable.length) {
      throw new SharingError(ctx, scheme, `layer has no shareable weight (roles ${SHAREABLE_ROLES.join(', ')}; weights: ${own.map((w) => w.name).join(', ') || 'none'})`);
    }
    for (const w of shareable) picked.add(w);
  }
  return [...picked];
}

/**
 * Why a transform of dense weights (`verb`: 'cluster', 'prune') cannot take `w`: it is tied to another weight (transform
 * that one, the tie follows), or another scheme holds it.
 */
export function notDenseReason(w: ModelWeight, verb: string): string {
  return w.map instanceof TiedMap
    ? `the ${w.role} is tied to '${w.map.to}': ${verb} that weight, and the tie follows`
    : `only a dense ${w.role} can be ${verb}${verb.endsWith('e') ? 'd' : 'ed'}, this one is '${w.map.kind}' (stripSharing first)`;
}

/**
 * Replaces the map of weight `w` by `map` in its layer, and re-points every weight tied to the old map (a TiedMap with
 * the same `to` and transpose) at the new one: a tied table stays one θ when it is clustered or pruned, and the saved
 * tie (`to: 'embedding/embeddings'`) finds the new map on load. The old map is not disposed.
 */
export function replaceWeight(model: Model, w: ModelWeight, map: WeightMap): void {
  const ties = model.weights().filter((t) => t.map instanceof TiedMap && t.map.source === w.map);
  w.layer.replaceWeight(w.name, map);
  for (const t of ties) {
    const old = t.map as TiedMap;
    t.layer.replaceWeight(t.name, new TiedMap(map, old.to, old.transposed));
  }
}

/** Drops all optimizer state: replaced parameters' moments belong to tensors that no longer exist (the optimizer stays usable). */
export function dropOptimizerState(model: Model): void {
  model.optimizer?.dispose();
}

/** W = φ(θ) as a plain array (temporaries freed). */
export function valuesOf(map: WeightMap): Float32Array {
  let out: Float32Array = new Float32Array(0);
  tidy(() => {
    out = map.materialize().f32();
  });
  return out;
}
