// Models as checkpoint contents: config JSON + named weights + optimizer state + training progress (platform-neutral).
import { createOptimizer } from '../optim/index.js';
import type { OptimizerState } from '../optim/index.js';
import { type CompileConfig, type Model, type ModelConfig, modelFromConfig } from '../nn/model.js';
// Registers every built-in layer class, so that loading a model needs no other import than this module.
import '../nn/layers/index.js';
import { CheckpointError, type CheckpointContents, type StoredTensor } from './checkpoint.js';
import { checkTrainingState, type TrainingState } from './training-state.js';
import { type Tokenizer, type TokenizerConfig, tokenizerFromJSON } from '../data/tokenizer.js';

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
  if (o.training) meta.training = o.training;
  if (o.tokenizer) meta.tokenizer = o.tokenizer.toJSON();
  for (const [k, t] of o.extra ?? []) {
    if (k.startsWith(W) || k.startsWith(B) || k.startsWith(O)) throw new RangeError(`modelToCheckpoint: extra tensor '${k}' uses a reserved prefix (${W}, ${O}, ${B})`);
    tensors.set(k, t);
  }
  return { meta, tensors };
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

/**
 * Rebuilds a model from checkpoint contents: layers from the config, weights by name (each checked
 * against the layer's shape), and, when the file has them, compile settings, optimizer state and the
 * tokenizer (checked: a CheckpointError names what is wrong with it). `file` names the source in errors.
 */
export function modelFromCheckpoint(c: CheckpointContents, file = '<model>'): { model: Model; meta: ModelFileMeta; tokenizer?: Tokenizer } {
  const meta = c.meta as ModelFileMeta;
  if (!meta || typeof meta !== 'object' || meta.kind !== 'weightshare-model' || !meta.model) {
    throw new CheckpointError(file, 'not a weightshare model (the header has no model config)');
  }
  if (meta.training !== undefined) {
    try {
      checkTrainingState(meta.training);
    } catch (e) {
      throw new CheckpointError(file, (e as Error).message);
    }
  }
  let tokenizer: Tokenizer | undefined;
  if (meta.tokenizer !== undefined) {
    try {
      tokenizer = tokenizerFromJSON(meta.tokenizer);
    } catch (e) {
      throw new CheckpointError(file, `stored ${(e as Error).message}`);
    }
  }
  let m: Model;
  try {
    m = modelFromConfig(meta.model);
    m.build(meta.initSeed ?? 0);
  } catch (e) {
    throw new CheckpointError(file, `model config cannot be rebuilt: ${(e as Error).message}`);
  }
  const named = m.namedParameters();
  for (const { name, param } of named) {
    const t = c.tensors.get(W + name);
    if (!t) throw new CheckpointError(file, `weight '${name}' is missing`);
    const want = param.value.shape;
    if (t.dtype !== 'float32' || t.shape.length !== want.length || t.shape.some((d, i) => d !== want[i])) {
      throw new CheckpointError(file, `weight '${name}' is ${t.dtype} [${t.shape.join(',')}] but layer expects float32 [${want.join(',')}]`);
    }
    param.value.backend.write(param.value.buf, t.data);
  }
  upgradeCodebookState(c.tensors);
  const buffers = m.namedBuffers();
  for (const { name, tensor, map, key } of buffers) {
    const t = c.tensors.get(B + name);
    if (!t) throw new CheckpointError(file, `map state '${B + name}' is missing`);
    const want = tensor.shape;
    if (t.dtype !== tensor.dtype || t.shape.length !== want.length || t.shape.some((d, i) => d !== want[i])) {
      throw new CheckpointError(file, `map state '${B + name}' is ${t.dtype} [${t.shape.join(',')}] but the map expects ${tensor.dtype} [${want.join(',')}]`);
    }
    const problem = map.checkBuffer?.(key, t.data);
    if (problem) throw new CheckpointError(file, `map state '${B + name}' ${problem}`);
    tensor.backend.write(tensor.buf, t.data);
  }
  const known = new Set([...named.map((p) => W + p.name), ...buffers.map((b) => B + b.name)]);
  for (const k of c.tensors.keys()) {
    if ((k.startsWith(W) || k.startsWith(B)) && !known.has(k)) throw new CheckpointError(file, `tensor '${k}' belongs to no weight of the model`);
  }
  if (meta.compile) {
    m.compile({
      optimizer: createOptimizer(meta.compile.optimizer), loss: meta.compile.losses ?? meta.compile.loss, lossWeights: meta.compile.lossWeights,
      metrics: meta.compile.metrics, fromLogits: meta.compile.fromLogits, ignoreClass: meta.compile.ignoreClass,
    });
    if (meta.optimizer) {
      const slots: Record<string, Float32Array> = {};
      for (const [k, t] of c.tensors) if (k.startsWith(O)) slots[k.slice(O.length)] = t.data as Float32Array;
      const state: OptimizerState = { iterations: meta.optimizer.iterations, steps: meta.optimizer.steps, slots };
      try {
        m.optimizer!.setState(state, named.map((p) => p.param.value), named.map((p) => p.name));
      } catch (e) {
        throw new CheckpointError(file, `optimizer state does not fit the model: ${(e as Error).message}`);
      }
    }
  }
  return tokenizer ? { model: m, meta, tokenizer } : { model: m, meta };
}
