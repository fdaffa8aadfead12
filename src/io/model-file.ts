// Models as checkpoint contents: config JSON + named weights + optimizer state + training progress (platform-neutral).
import { createOptimizer } from '../optim/index.js';
import type { OptimizerState } from '../optim/index.js';
import { type CompileConfig, type Model, type ModelConfig, modelFromConfig } from '../nn/model.js';
// Registers every built-in layer class, so that loading a model needs no other import than this module.
import '../nn/layers/index.js';
import { LayerConfigError, withWeightGuard, type WeightGuard } from '../nn/layer.js';
import { parseMapSpec } from '../sharing/registry.js';
import type { Parameter } from '../sharing/weight-map.js';
import { CheckpointError, type CheckpointContents, type StoredTensor } from './checkpoint.js';
import { ACCEPT_NON_FINITE, allowNonFinite, checkModelElements, type LoadOptions, maxElements, maxModelElements } from './limits.js';
import { checkModelHeader } from './model-header.js';
import { FieldError } from './schema.js';
import { encodeTrainingState, type TrainingState } from './training-state.js';
import { CharTokenizer, type Tokenizer, type TokenizerConfig, tokenizerFromJSON, WordTokenizer } from '../data/tokenizer.js';
import { ArgumentError, describeValue } from '../core/errors.js';

export type { CompressRecord, TrainingState } from './training-state.js';

/** The JSON header of a weightshare model file. */
export interface ModelFileMeta {
  kind: 'weightshare-model';
  model: ModelConfig;
  /** Seed the weights were initialised with (recorded for provenance). */
  initSeed: number;
  compile?: CompileConfig;
  optimizer?: { iterations: number; steps: Record<string, number> };
  training?: TrainingState;
  /** The tokenizer of a text model (its vocabulary), so that generating or evaluating text needs nothing else. */
  tokenizer?: TokenizerConfig;
}

const W = 'weights/';
const O = 'optimizer/';
/** Prefix of the maps' fixed state (codebook codes, pruning masks): `maps/<layer>/<weight>/<name>`. */
const B = 'maps/';

/**
 * The checkpoint contents of a model: weights (as named), and, when compiled, its compile settings (unless `withCompile`
 * is false: a file for shipping) and optimizer state; `training` is stored
 * as given, and so is `tokenizer` (its `toJSON()`); `extra` tensors (e.g. early stopping's `best/…` weights) are
 * stored under their own names and ignored on load.
 */
export function modelToCheckpoint(
  m: Model, o: { training?: TrainingState; initSeed?: number; withOptimizer?: boolean; withCompile?: boolean; extra?: ReadonlyMap<string, StoredTensor>; tokenizer?: Tokenizer } = {},
): CheckpointContents {
  m.build();
  const tensors = new Map<string, StoredTensor>();
  const named = m.namedParameters();
  for (const { name, param } of named) tensors.set(W + name, { dtype: 'float32', shape: [...param.value.shape], data: param.value.f32() });
  for (const { name, tensor } of m.namedBuffers()) tensors.set(B + name, { dtype: tensor.dtype, shape: [...tensor.shape], data: tensor.data() });
  const meta: ModelFileMeta = { kind: 'weightshare-model', model: m.toJSON(), initSeed: o.initSeed ?? 0 };
  const compile = o.withCompile === false ? undefined : m.compileConfig();
  if (compile) meta.compile = compile;
  if (m.optimizer && (o.withOptimizer ?? true)) {
    const st = m.optimizer.getState(named.map((p) => p.param.value), named.map((p) => p.name));
    meta.optimizer = { iterations: st.iterations, steps: st.steps };
    for (const [k, v] of Object.entries(st.slots)) {
      const [pname] = splitSlot(k);
      const shape = named.find((p) => p.name === pname)!.param.value.shape;
      tensors.set(O + k, { dtype: 'float32', shape: [...shape], data: v });
    }
  }
  if (o.training) meta.training = encodeTrainingState(o.training);
  if (o.tokenizer !== undefined) meta.tokenizer = tokenizerFor(m, o.tokenizer);
  for (const [k, t] of o.extra ?? []) {
    if (k.startsWith(W) || k.startsWith(B) || k.startsWith(O)) throw new RangeError(`modelToCheckpoint: extra tensor '${k}' uses a reserved prefix (${W}, ${O}, ${B})`);
    tensors.set(k, t);
  }
  return { meta, tensors };
}

/**
 * The stored form of `tokenizer`, refused (naming the option) when it is not a CharTokenizer or WordTokenizer, or when its
 * ids would not fit the model: a layer reading a model input as token ids (an Embedding) must take every id in
 * [0, vocabSize), else the file saves and its use fails later ("the file is inconsistent"). A model reading no ids
 * (e.g. a Dense over word counts) may keep a tokenizer too.
 */
function tokenizerFor(m: Model, tokenizer: Tokenizer): TokenizerConfig {
  if (!(tokenizer instanceof CharTokenizer || tokenizer instanceof WordTokenizer)) {
    throw new ArgumentError('saveModel', `tokenizer must be a CharTokenizer or WordTokenizer (e.g. from CharTokenizer.build), got ${describeValue(tokenizer)}`);
  }
  const vocab = tokenizer.vocabSize;
  const short = m.idReaders().find((r) => r.limit < vocab);
  if (short) {
    throw new ArgumentError('saveModel', `tokenizer has ${vocab} tokens but layer '${short.layer.name}' (${short.layer.className}) takes ids below ${short.limit}: the tokenizer does not fit the model`);
  }
  return tokenizer.toJSON();
}

/**
 * Files written before codebook maps kept one `codes` tensor (K = pruned) held `assign` (int32) and, when
 * pruned, `mask` (float32 0/1); this rewrites that pair into `codes` in place (K from the centroids' length).
 */
function upgradeCodebookState(tensors: Map<string, StoredTensor>): void {
  for (const [key, assign] of [...tensors]) {
    const m = /^maps\/(.+)\/assign$/.exec(key);
    if (!m || tensors.has(`${B}${m[1]}/codes`) || assign.dtype !== 'int32') continue;
    const k = tensors.get(`${W}${m[1]}/centroids`)?.shape[0];
    if (k === undefined) continue;
    const mask = tensors.get(`${B}${m[1]}/mask`);
    const codes = Int32Array.from(assign.data);
    if (mask && mask.data.length === codes.length) for (let i = 0; i < codes.length; i++) if (mask.data[i] === 0) codes[i] = k;
    tensors.delete(key);
    tensors.delete(`${B}${m[1]}/mask`);
    tensors.set(`${B}${m[1]}/codes`, { dtype: 'int32', shape: [...assign.shape], data: codes });
  }
}

function splitSlot(key: string): [string, string] {
  const i = key.lastIndexOf('/');
  return [key.slice(0, i), key.slice(i + 1)];
}

/** The index of the first NaN or ±Infinity in `data`, or -1. */
function firstNonFinite(data: Float32Array | Int32Array): number {
  if (data instanceof Int32Array) return -1;
  for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i]!)) return i;
  return -1;
}

/**
 * Rebuilds a model from checkpoint contents, trusting nothing in them: the header is checked against its schema
 * (model-header.ts; layer options by each layer), every weight's size against `o.maxElements` and their sum against
 * `o.maxModelElements` (from a build that allocates no weight, so before any is allocated), for a weight the file stores
 * as it is (a dense map), against the tensor the file holds before the weight is allocated; each map's
 * parameters and state as soon as the map exists; values for NaN/±Infinity (unless `o.allowNonFinite`) and map state
 * against its map (codes in range, masks 0/1); compile settings, optimizer state (each slot against its weight) and
 * the tokenizer. Any failure is a CheckpointError with a one-line message starting with `file` and naming the field,
 * layer, weight or tensor, and the model built so far is disposed.
 */
export function modelFromCheckpoint(
  c: CheckpointContents, file = '<model>', o: LoadOptions = {},
): { model: Model; meta: ModelFileMeta; tokenizer?: Tokenizer } {
  const meta = c.meta as ModelFileMeta;
  const fail = (message: string): never => { throw new CheckpointError(file, message); };
  if (!meta || typeof meta !== 'object' || meta.kind !== 'weightshare-model' || !meta.model) fail('not a weightshare model (the header has no model config)');
  try {
    checkModelHeader(meta);
  } catch (e) {
    fail(e instanceof FieldError ? `header ${e.message}` : (e as Error).message);
  }
  const finiteOnly = !allowNonFinite(o);
  maxElements(o); // a bad limit is refused before anything else
  maxModelElements(o);
  let tokenizer: Tokenizer | undefined;
  if (meta.tokenizer !== undefined) {
    try {
      tokenizer = tokenizerFromJSON(meta.tokenizer);
    } catch (e) {
      fail(`stored ${(e as Error).message}`);
    }
  }
  let m: Model;
  try {
    m = modelFromConfig(meta.model);
  } catch (e) {
    return fail(e instanceof LayerConfigError ? (e as Error).message : `model config cannot be rebuilt: ${(e as Error).message}`);
  }
  upgradeCodebookState(c.tensors);
  /** Refuses a stored tensor that is missing or not of the dtype and shape the model wants. */
  const expect = (key: string, what: string, dtype: string, want: readonly number[], who: string): void => {
    const t = c.tensors.get(key);
    if (!t) fail(`${what} is missing`);
    if (t!.dtype !== dtype || t!.shape.length !== want.length || t!.shape.some((d, i) => d !== want[i])) {
      fail(`${what} is ${t!.dtype} [${t!.shape.join(',')}] but ${who} expects ${dtype} [${want.join(',')}]`);
    }
  };
  const seen = new Set<Parameter>();
  const guard: WeightGuard = {
    restoring: true, // restoreState writes every parameter and map state below
    before(path, shape, spec) {
      if (parseMapSpec(spec ?? 'dense').kind === 'dense') expect(W + path, `weight '${path}'`, 'float32', shape, 'layer');
    },
    after(path, map) {
      for (const p of map.parameters()) {
        if (seen.has(p)) continue;
        seen.add(p);
        const name = p.name ? `${path}/${p.name}` : path;
        expect(W + name, `weight '${name}'`, 'float32', p.value.shape, 'layer');
      }
      for (const [k, t] of map.buffers?.() ?? []) expect(`${B}${path}/${k}`, `map state '${B}${path}/${k}'`, t.dtype, t.shape, 'the map');
    },
  };
  try {
    try {
      checkModelElements(meta.model, meta.initSeed ?? 0, o, fail); // before any weight is allocated
      withWeightGuard(guard, () => m.build(meta.initSeed ?? 0));
    } catch (e) {
      if (e instanceof CheckpointError) throw e;
      fail(`model config cannot be rebuilt: ${(e as Error).message}`);
    }
    return restoreState(m, c, meta, { file, finiteOnly, tokenizer });
  } catch (e) {
    m.dispose();
    if (e instanceof CheckpointError) throw e;
    return fail(`model cannot be restored: ${(e as Error).message}`);
  }
}

/** Writes a built model's weights, map state and optimizer state from checkpoint contents whose shapes were checked at build. */
function restoreState(
  m: Model, c: CheckpointContents, meta: ModelFileMeta, o: { file: string; finiteOnly: boolean; tokenizer?: Tokenizer },
): { model: Model; meta: ModelFileMeta; tokenizer?: Tokenizer } {
  const fail = (message: string): never => { throw new CheckpointError(o.file, message); };
  const finite = (what: string, data: Float32Array | Int32Array): void => {
    const i = o.finiteOnly ? firstNonFinite(data) : -1;
    if (i >= 0) fail(`${what} holds ${data[i]} at position ${i} (${ACCEPT_NON_FINITE})`);
  };
  const named = m.namedParameters();
  for (const { name, param } of named) {
    const data = c.tensors.get(W + name)!.data;
    finite(`weight '${name}'`, data);
    param.value.backend.write(param.value.buf, data);
  }
  const buffers = m.namedBuffers();
  for (const { name, tensor, map, key } of buffers) {
    const data = c.tensors.get(B + name)!.data;
    const problem = map.checkBuffer?.(key, data);
    if (problem) fail(`map state '${B + name}' ${problem}`);
    tensor.backend.write(tensor.buf, data);
  }
  const known = new Set([...named.map((p) => W + p.name), ...buffers.map((b) => B + b.name)]);
  for (const k of c.tensors.keys()) {
    if ((k.startsWith(W) || k.startsWith(B)) && !known.has(k)) fail(`tensor '${k}' belongs to no weight of the model`);
  }
  if (meta.compile) {
    try {
      m.compile({
        optimizer: createOptimizer(meta.compile.optimizer), loss: meta.compile.losses ?? meta.compile.loss, lossWeights: meta.compile.lossWeights,
        metrics: meta.compile.metrics, fromLogits: meta.compile.fromLogits, ignoreClass: meta.compile.ignoreClass,
      });
    } catch (e) {
      fail(`compile settings do not fit the model: ${(e as Error).message}`);
    }
  }
  if (meta.optimizer) {
    const shapes = new Map(named.map((p) => [p.name, p.param.value.shape]));
    for (const k of Object.keys(meta.optimizer.steps)) if (!shapes.has(k)) fail(`optimizer state does not fit the model: steps name '${k}', which is no weight of the model`);
    const slots: Record<string, Float32Array> = {};
    for (const [k, t] of c.tensors) {
      if (!k.startsWith(O)) continue;
      const [pname] = splitSlot(k.slice(O.length));
      const want = shapes.get(pname);
      if (!want) fail(`optimizer state does not fit the model: tensor '${k}' belongs to no weight`);
      if (t.dtype !== 'float32' || t.shape.length !== want!.length || t.shape.some((d, i) => d !== want![i])) {
        fail(`optimizer state does not fit the model: slot '${k.slice(O.length)}' is ${t.dtype} [${t.shape.join(',')}] but weight '${pname}' is float32 [${want!.join(',')}]`);
      }
      finite(`optimizer slot '${k.slice(O.length)}'`, t.data);
      slots[k.slice(O.length)] = t.data as Float32Array;
    }
    const state: OptimizerState = { iterations: meta.optimizer.iterations, steps: meta.optimizer.steps, slots };
    try {
      m.optimizer!.setState(state, named.map((p) => p.param.value), named.map((p) => p.name));
    } catch (e) {
      fail(`optimizer state does not fit the model: ${(e as Error).message}`);
    }
  }
  return o.tokenizer ? { model: m, meta, tokenizer: o.tokenizer } : { model: m, meta };
}
