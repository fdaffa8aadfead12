// Map specs ('hashed:1/8', { kind: 'lowRank', rank: 16 }) and the registry that builds a WeightMap for a layer's weight.
import { quote } from '../core/errors.js';
import type { Shape } from '../core/shape.js';
import type { Tensor } from '../core/tensor.js';
import { zeros } from '../core/ops/index.js';
import { DenseMap } from './dense.js';
import type { WeightMap } from './weight-map.js';

/** How a weight is shared: a kind name with options, as an object or a short string ('dense', 'hashed:1/8', 'lowRank:16', 'tied:dense/kernel:T'). */
export type MapSpec = string | MapConfig;

/** A map spec as an object: `kind` plus the scheme's options. */
export interface MapConfig {
  kind: string;
  [option: string]: unknown;
}

/** What a scheme needs to build the map of one weight. */
export interface MapContext {
  /** The layer's path and the weight's name, for errors ("layer 'dense_1' kernel: …", "layer 'block/dense' kernel: …" in a block). */
  layer: string;
  weight: string;
  /** Shape of the effective weight W. */
  shape: Shape;
  /**
   * W's matrix view [rows, cols] for schemes that factorise it (lowRank), when it is not [elements / last axis, last
   * axis]: an attention projection's kernel [dim, heads, keyDim] is the matrix [dim, heads·keyDim].
   */
  matrix?: readonly [number, number];
  /** Draws a tensor from the layer's initialiser for this weight, with W's fans (for θ of any shape). */
  init: (shape: Shape, seed: number) => Tensor;
  /** The layer's initialiser name (schemes may adapt, e.g. zeros stays zeros). */
  initializer: string;
  /** Seed for this weight (θ and, unless the spec sets its own, the scheme's hashes and projections). */
  seed: number;
  /** Finds another weight's map by 'layer/weight' (for tying); undefined outside a model. */
  resolve?: (path: string) => WeightMap | undefined;
  /**
   * True when a model file is being loaded: every parameter and map state the map exposes is about to be overwritten
   * from the file, so a scheme may skip the work that only shapes their initial values (drawing θ, fitting k-means);
   * what the file does not store (hash tables, projections, θ₀ of a subspace) must be built exactly as otherwise.
   */
  restoring?: boolean;
}

/**
 * θ's initial values of `shape`: a draw from the layer's initialiser, or zeros when a loader will overwrite them
 * ({@link MapContext.restoring}).
 */
export function initialTheta(ctx: MapContext, shape: Shape, seed: number): Tensor {
  return ctx.restoring ? zeros(shape) : ctx.init(shape, seed);
}

/** Builds a map from its config (kind and option names already checked). */
export type MapFactory = (config: MapConfig, ctx: MapContext) => WeightMap;

const factories = new Map<string, { factory: MapFactory; options: readonly string[] }>();

/**
 * Registers a sharing scheme under its kind name, with the names of the options its config may hold besides `kind`
 * (those it reads and those its `toJSON` writes): createMap refuses any other, so that a misspelt option is an error
 * rather than a default silently taken.
 */
export function registerMap(kind: string, factory: MapFactory, options: readonly string[]): void {
  factories.set(kind, { factory, options });
}

/** The registered scheme names. */
export function mapKinds(): string[] {
  return [...factories.keys()];
}

/** An error about a map: names the layer, the weight, the scheme and what is allowed. */
export class SharingError extends RangeError {
  constructor(ctx: { layer: string; weight: string }, kind: string, message: string) {
    super(`layer '${ctx.layer}' ${ctx.weight}, scheme '${kind}': ${message}`);
    this.name = 'SharingError';
  }
}

/**
 * Parses a short spec: 'dense'; 'hashed:1/8' or 'hashed:0.125' (compression) or 'hashed:buckets=1000';
 * 'lowRank:16' (rank); 'lowRankDelta:4' (rank); 'codebook:16' (clusters); 'tied:layer/weight' or 'tied:layer/weight:T'.
 * Options after the first may be given as key=value, separated by ':'.
 */
export function parseMapSpec(spec: MapSpec): MapConfig {
  if (typeof spec !== 'string') {
    if (!spec || typeof spec.kind !== 'string') throw new RangeError(`sharing: a map spec needs a 'kind', got ${quote(spec)}`);
    return spec;
  }
  const [kind, ...parts] = spec.split(':');
  const c: MapConfig = { kind };
  const first: Record<string, string> = { hashed: 'compression', lowRank: 'rank', lowRankDelta: 'rank', codebook: 'clusters', tied: 'to', randomMask: 'density', pruned: 'prune' };
  // An unknown scheme: createMap names it with the layer and weight (its options would only be misread here).
  if (kind !== 'dense' && !first[kind] && !factories.has(kind)) return { kind };
  const set = (key: string, value: unknown): void => {
    if (key in c) throw new RangeError(`sharing: option '${key}' is given twice in map spec '${spec}'`);
    c[key] = value;
  };
  parts.forEach((p, i) => {
    const eq = p.indexOf('=');
    if (p === '') throw new RangeError(`sharing: an empty option (two ':' in a row, or one at the end) in map spec '${spec}'`);
    if (eq > 0) set(p.slice(0, eq), value(p.slice(eq + 1)));
    else if (i === 0 && first[kind]) set(first[kind], kind === 'tied' ? p : value(p));
    else if (kind === 'tied' && p === 'T') set('transpose', true);
    else throw new RangeError(`sharing: cannot read '${p}' in map spec '${spec}' (options after the first are key=value${kind === 'tied' ? ", or T to transpose" : ''})`);
  });
  return c;
}

/** An option's value in a short spec: a number (or a fraction a/b), true or false, else the text. */
function value(s: string): number | boolean | string {
  if (s === 'true' || s === 'false') return s === 'true';
  const frac = /^(\d+(?:\.\d+)?)\/(\d+(?:\.\d+)?)$/.exec(s);
  if (frac) return Number(frac[1]) / Number(frac[2]);
  const n = Number(s);
  return s.trim() !== '' && Number.isFinite(n) ? n : s;
}

/** A map's own seed (default: the weight's): an integer in [0, 2³²), refused by name otherwise (it was coerced). */
export function seedOption(c: MapConfig, ctx: MapContext): number {
  if (c.seed === undefined) return ctx.seed;
  if (!(typeof c.seed === 'number' && Number.isSafeInteger(c.seed) && c.seed >= 0 && c.seed < 2 ** 32)) {
    throw new SharingError(ctx, c.kind, `seed must be an integer in [0, 2³²), got ${quote(c.seed)}`);
  }
  return c.seed;
}

/**
 * A numeric option of a map (default `fallback`), refused by name when it is of another JSON kind: '8', true, [5] or
 * null were coerced by Number() (true read as 1 bucket, null as the default). Its range is the scheme's to check.
 */
export function numberOption(c: MapConfig, where: { layer: string; weight: string }, kind: string, name: string, fallback?: number): number {
  const v = c[name];
  if (v === undefined && fallback !== undefined) return fallback;
  if (typeof v !== 'number') throw new SharingError(where, kind, `${name} must be a number, got ${quote(v)}`);
  return v;
}

/** A text option of a map (default `fallback`), refused by name when it is not a string. */
export function stringOption(c: MapConfig, where: { layer: string; weight: string }, kind: string, name: string, fallback?: string): string {
  const v = c[name];
  if (v === undefined && fallback !== undefined) return fallback;
  if (typeof v !== 'string') throw new SharingError(where, kind, `${name} must be a string, got ${quote(v)}`);
  return v;
}

/** A true/false option (default `fallback`), refused by name when it is anything else ('false' as text was read as true). */
export function booleanOption(c: MapConfig, ctx: MapContext, name: string, fallback: boolean): boolean {
  const v = c[name];
  if (v === undefined) return fallback;
  if (typeof v !== 'boolean') throw new SharingError(ctx, c.kind, `${name} must be true or false, got ${quote(v)}`);
  return v;
}

/** Refuses two options that set the same thing (e.g. compression and buckets), naming both. */
export function eitherOption(c: MapConfig, ctx: MapContext, a: string, b: string): void {
  if (c[a] !== undefined && c[b] !== undefined) throw new SharingError(ctx, c.kind, `give ${a} or ${b}, not both (got ${a} ${quote(c[a])} and ${b} ${quote(c[b])})`);
}

/** Builds the map of one weight from a spec (default 'dense'); throws a SharingError for unknown kinds or bad options. */
export function createMap(spec: MapSpec | undefined, ctx: MapContext): WeightMap {
  const c = parseMapSpec(spec ?? 'dense');
  const f: { factory?: MapFactory; options: readonly string[] } | undefined = c.kind === 'dense' ? { options: [] } : factories.get(c.kind);
  if (!f) throw new SharingError(ctx, c.kind, `unknown scheme (known: dense, ${mapKinds().join(', ')}; names are case-sensitive)`);
  const unknown = Object.keys(c).filter((k) => k !== 'kind' && !f.options.includes(k));
  if (unknown.length) throw new SharingError(ctx, c.kind, `unknown option ${unknown.map((k) => `'${k}'`).join(', ')} (options: ${f.options.join(', ') || 'none'})`);
  return f.factory ? f.factory(c, ctx) : new DenseMap(initialTheta(ctx, ctx.shape, ctx.seed));
}

/** A 32-bit integer hash of (i, seed) (murmur3 finaliser), for bucket and sign tables recomputed from the seed. */
export function hash32(i: number, seed: number): number {
  let h = (Math.imul(i ^ 0x9e3779b9, 0x85ebca6b) ^ seed) >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b) >>> 0;
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35) >>> 0;
  h ^= h >>> 16;
  return h >>> 0;
}
