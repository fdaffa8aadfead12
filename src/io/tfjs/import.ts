// importTfjs: a TF.js layers model (model.json + weight data) or a Keras topology read into one of our models, weights dequantised.
import type { Layer } from '../../nn/layer.js';
import { Activation } from '../../nn/layers/activation.js';
import { GRU } from '../../nn/layers/gru.js';
import { LSTM } from '../../nn/layers/lstm.js';
import type { Model } from '../../nn/model.js';
import { modelFromConfig } from '../../nn/model-config.js';
// Registers every built-in layer class, so that the config's classes resolve.
import '../../nn/layers/index.js';
import { snakeCase } from './keras.js';
import { readTopology, TfjsImportError } from './topology.js';
import { ACCEPT_NON_FINITE, allowNonFinite, nonFiniteWeight } from '../limits.js';
import { bytesPerValue, concatBytes, decodeWeight, type TfjsManifestGroup, type TfjsWeightSpec } from './weights.js';

/** Weight bytes: everything in manifest order as one buffer (tf.io's artifacts), or one buffer per path of the manifest, in order. */
export type TfjsWeightData = ArrayBuffer | ArrayBufferView | readonly (ArrayBuffer | ArrayBufferView)[];

/** Options of {@link importTfjs}. */
export interface TfjsImportOptions {
  /** Names the model.json in errors and notes (default 'model.json'). */
  file?: string;
  /** The per-sample shape of the data the model will see: a model taking vectors of that many values gets a Flatten from it in front. */
  inputShape?: readonly number[];
  /** Seed of the weights a bare topology (without weights) is initialised with (default 0). */
  seed?: number;
  /** Accept NaN and ±Infinity in the weights (default false, or `WEIGHTSHARE_ALLOW_NON_FINITE=1`), as model-file loads do. */
  allowNonFinite?: boolean;
}

/** What {@link importTfjs} returns: the built model, the Keras class of each layer, the weights loaded (model.json's names), notes. */
export interface TfjsImport {
  model: Model;
  /** Keras class by layer name (the model's own layers, InputLayers excepted). */
  layers: Map<string, string>;
  /** Names of the weights read, as model.json has them. */
  weights: string[];
  /** One-line notes: initialisers without an equal, a topology without weights. */
  notes: string[];
  /** model.json's generatedBy / convertedBy, when given. */
  generatedBy?: string;
  convertedBy?: string;
}

const asBytes = (b: ArrayBuffer | ArrayBufferView): Uint8Array => (b instanceof ArrayBuffer ? new Uint8Array(b) : new Uint8Array(b.buffer, b.byteOffset, b.byteLength));

/**
 * Reads a TF.js layers model: `modelJson` is model.json (`{ modelTopology, weightsManifest }`), tf.io's artifacts
 * (`{ modelTopology, weightSpecs }`) or a bare Keras topology (`{ class_name, config }`, weights then initialised);
 * the topology is tfjs-layers' or Keras 2/3's (Sequential, Model, Functional). Weights are matched by name
 * (`dense/kernel`; Keras' `lstm/lstm_cell/kernel` and Keras 3's indexed `dense/vars/0` too), checked against the layers'
 * shapes and dequantised (uint8/uint16 affine, float16). Errors are {@link TfjsImportError}s naming the file and the
 * layer or weight: every unsupported layer class in one list, a wrong shape, truncated or surplus weight data, and
 * (unless `o.allowNonFinite`) a weight holding NaN or ±Infinity.
 */
export function importTfjs(modelJson: unknown, weightData?: TfjsWeightData, o: TfjsImportOptions = {}): TfjsImport {
  const file = o.file ?? 'model.json';
  const j = (modelJson && typeof modelJson === 'object' ? modelJson : {}) as Record<string, unknown>;
  const bare = !j.modelTopology && typeof j.class_name === 'string';
  if (!j.modelTopology && !bare) throw new TfjsImportError(`${file}: not a TF.js layers model (no modelTopology) nor a Keras model topology (no class_name)`);
  if (j.format !== undefined && j.format !== 'layers-model') throw new TfjsImportError(`${file}: format '${String(j.format)}' is a TF.js graph model; weightshare reads layers models (tfjs-layers' model.save, tensorflowjs_converter --output_format tfjs_layers_model)`);
  const groups: TfjsManifestGroup[] = Array.isArray(j.weightsManifest) ? j.weightsManifest as TfjsManifestGroup[]
    : Array.isArray(j.weightSpecs) ? [{ paths: [], weights: j.weightSpecs as TfjsWeightSpec[] }] : [];
  const topo = readTopology(bare ? j : j.modelTopology, file, { inputShape: o.inputShape });
  let model: Model;
  try {
    model = modelFromConfig(topo.config).build(o.seed ?? 0);
  } catch (e) {
    throw new TfjsImportError(`${file}: ${(e as Error).message.split('\n')[0]}`);
  }
  const notes = [...topo.notes];
  if (!groups.length) {
    notes.push(`${file}: no weights manifest: the weights are initialised (seed ${o.seed ?? 0})`);
    return { model, layers: topo.classes, weights: [], notes, ...meta(j) };
  }
  const values = decodeGroups(groups, weightData, file);
  // Our weights by their Keras name: 'lstm/recurrent_kernel', 'bidirectional/forward_gru/kernel'.
  const ours = new Map(model.weights().map((w) => [w.path.split('/').map((s, i, all) => (i === all.length - 1 ? snakeCase(s) : s)).join('/'), w]));
  const byLayer = new Map<string, string[]>();
  for (const k of ours.keys()) {
    const layer = k.slice(0, k.lastIndexOf('/'));
    byLayer.set(layer, [...byLayer.get(layer) ?? [], k]);
  }
  const set = new Map<string, Float32Array>();
  const loaded: string[] = [];
  for (const [spec, data] of values) {
    const key = matchWeight(spec.name, ours, byLayer, topo.config.name);
    if (!key) throw new TfjsImportError(`${file}: weight '${spec.name}' belongs to no weight of the model (${[...ours.keys()].slice(0, 8).join(', ')}${ours.size > 8 ? ', …' : ''})`);
    const w = ours.get(key)!;
    if (set.has(w.path)) throw new TfjsImportError(`${file}: weight '${spec.name}' sets '${key}', which an earlier weight set already`);
    const want = w.map.shape;
    if (spec.shape.length !== want.length || spec.shape.some((d, i) => d !== want[i])) {
      throw new TfjsImportError(`${file}: weight '${spec.name}' is [${spec.shape.join(', ')}] but layer '${w.layer.name}' (${w.layer.className}) expects '${key}' [${want.join(', ')}]`);
    }
    set.set(w.path, data);
    loaded.push(spec.name);
  }
  const missing = [...ours].filter(([, w]) => !set.has(w.path)).map(([k]) => k);
  if (missing.length) throw new TfjsImportError(`${file}: no weight data for ${missing.map((k) => `'${k}'`).join(', ')}`);
  if (!keras3(bare ? j : j.modelTopology)) {
    try {
      notes.push(...legacyHardSigmoid(model, set, file));
    } catch (e) {
      model.dispose();
      throw e;
    }
  }
  model.setWeights(set);
  const bad = allowNonFinite(o) ? undefined : nonFiniteWeight(model);
  if (bad) {
    model.dispose();
    throw new TfjsImportError(`${file}: ${bad} (${ACCEPT_NON_FINITE})`);
  }
  return { model, layers: topo.classes, weights: loaded, notes, ...meta(j) };
}

/** Whether a topology says Keras 3 wrote it (keras_version 3.x): its hard_sigmoid is ours. */
function keras3(topology: unknown): boolean {
  return /^3\./.test(String((topology as { keras_version?: unknown } | undefined)?.keras_version ?? ''));
}

/**
 * TF.js' and Keras 2's hard_sigmoid is clip(0.2·z + 1/2, 0, 1), ours (Keras 3's, PyTorch's) clip(z/6 + 1/2, 0, 1): the
 * same function of 1.2·z. Where z is affine in a layer's weights (Dense, Conv2D, SimpleRNN, LSTM and GRU gates, GRU's
 * candidate) the columns of kernel, recurrent kernel and bias that make z are scaled by 1.2 in `set`; an Activation
 * layer or an LSTM activation (it also reads the cell state) cannot be rewritten so and is refused. Returns the notes.
 */
function legacyHardSigmoid(model: Model, set: Map<string, Float32Array>, file: string): string[] {
  const notes: string[] = [];
  const owners = new Map<Layer, { name: string; path: string; shape: readonly number[] }[]>();
  for (const w of model.weights()) owners.set(w.layer, [...owners.get(w.layer) ?? [], { name: w.name, path: w.path, shape: w.map.shape }]);
  const refuse = (l: Layer, what: string): never => {
    throw new TfjsImportError(`${file}: layer '${l.name}' (${l.className}) has ${what} hard_sigmoid, TF.js' clip(0.2x + 0.5), which weightshare has only as Keras 3's clip(x/6 + 0.5) of 1.2x and cannot rewrite here`);
  };
  for (const l of model.layers) if (l instanceof Activation && l.activation === 'hard_sigmoid') refuse(l, 'activation');
  for (const [l, ws] of owners) {
    // Column ranges [from, to) of the last axis, in units of the layer's width, that feed a hard sigmoid.
    let parts: [number, number][] = [];
    let width = 1;
    if (l instanceof LSTM) {
      if (l.activation === 'hard_sigmoid') refuse(l, 'activation');
      if (l.recurrentActivation === 'hard_sigmoid') (parts = [[0, 2], [3, 4]]), (width = 4);
    } else if (l instanceof GRU) {
      width = 3;
      if (l.recurrentActivation === 'hard_sigmoid') parts.push([0, 2]);
      if (l.activation === 'hard_sigmoid') parts.push([2, 3]);
    } else if ((l as { activation?: unknown }).activation === 'hard_sigmoid') parts = [[0, 1]];
    if (!parts.length) continue;
    for (const w of ws) {
      const v = set.get(w.path)!;
      const cols = w.shape[w.shape.length - 1];
      const unit = cols / width;
      for (let i = 0; i < v.length; i++) {
        const c = i % cols;
        if (parts.some(([a, b]) => c >= a * unit && c < b * unit)) v[i] *= 1.2;
      }
    }
    notes.push(`layer '${l.name}' (${l.className}): TF.js' hard_sigmoid, clip(0.2x + 0.5), runs as Keras 3's clip(x/6 + 0.5) of 1.2x: the ${ws.map((w) => w.name).join(', ')} columns it reads are scaled by 1.2`);
  }
  return notes;
}

function meta(j: Record<string, unknown>): { generatedBy?: string; convertedBy?: string } {
  return { ...(typeof j.generatedBy === 'string' ? { generatedBy: j.generatedBy } : {}), ...(typeof j.convertedBy === 'string' ? { convertedBy: j.convertedBy } : {}) };
}

/**
 * Our Keras name for a manifest name: as is, without a ':0' suffix, without Keras 3's 'vars' folders and leading '_',
 * without the cell between layer and weight (TF ≥ 2.2: 'lstm/lstm_cell/kernel') or the model's name in front, or by
 * index within its layer ('dense/0' = kernel).
 */
function matchWeight(raw: string, ours: ReadonlyMap<string, unknown>, byLayer: ReadonlyMap<string, string[]>, modelName: string): string | undefined {
  let parts = raw.replace(/:\d+$/, '').split('/').filter((s) => s !== 'vars' && s !== 'layer_checkpoint_dependencies').map((s) => s.replace(/^_/, ''));
  if (parts.length > 2 && parts[0] === modelName && !ours.has(parts.join('/'))) parts = parts.slice(1);
  const tries = [parts, [...parts.slice(0, -2), parts[parts.length - 1]]];
  for (const p of tries) if (ours.has(p.join('/'))) return p.join('/');
  const last = parts[parts.length - 1];
  if (!/^\d+$/.test(last)) return undefined;
  for (const layer of [parts.slice(0, -1), parts.slice(0, -2)]) {
    const list = byLayer.get(layer.join('/'));
    if (list) return list[Number(last)];
  }
  return undefined;
}

/** Every model weight of the manifest (optimizer state skipped) with its float32 values, checking the bytes each group has. */
function decodeGroups(groups: readonly TfjsManifestGroup[], data: TfjsWeightData | undefined, file: string): [TfjsWeightSpec, Float32Array][] {
  const perPath = Array.isArray(data) ? (data as readonly (ArrayBuffer | ArrayBufferView)[]).map(asBytes) : undefined;
  const whole = data && !perPath ? asBytes(data as ArrayBuffer | ArrayBufferView) : undefined;
  const paths = groups.flatMap((g) => g.paths ?? []);
  if (perPath && perPath.length !== paths.length) throw new TfjsImportError(`${file}: the weights manifest lists ${paths.length} weight files but ${perPath.length} were given`);
  const out: [TfjsWeightSpec, Float32Array][] = [];
  let pathAt = 0, wholeAt = 0;
  groups.forEach((g, gi) => {
    const specs = g.weights ?? [];
    const need = specs.reduce((s, w) => s + sizeOf(w, file) * bytesPerValue(w), 0);
    const n = (g.paths ?? []).length;
    const bytes = perPath ? concatBytes(perPath.slice(pathAt, pathAt + n)) : whole?.subarray(wholeAt, wholeAt + need) ?? new Uint8Array(0);
    const where = n ? `weight file${n > 1 ? 's' : ''} ${(g.paths ?? []).join(', ')}` : `group ${gi + 1} of the weight data`;
    pathAt += n;
    wholeAt += bytes.length;
    let at = 0;
    for (const w of specs) {
      if (w.dtype !== 'float32') throw new TfjsImportError(`${file}: weight '${w.name}' is ${w.dtype}; weightshare layers hold float32 weights`);
      const q = w.quantization;
      if (q && !['uint8', 'uint16', 'float16'].includes(q.dtype)) throw new TfjsImportError(`${file}: weight '${w.name}' has quantization dtype '${q.dtype}' (uint8, uint16, float16)`);
      if (q && q.dtype !== 'float16' && !(Number.isFinite(q.min) && Number.isFinite(q.scale))) throw new TfjsImportError(`${file}: weight '${w.name}' is quantised as ${q.dtype} without numeric min and scale`);
      const len = sizeOf(w, file) * bytesPerValue(w);
      if (at + len > bytes.length) throw new TfjsImportError(`${file}: weight data is truncated: '${w.name}' needs bytes ${at}–${at + len} of ${where}, which ${n > 1 ? 'have' : 'has'} ${bytes.length}`);
      if (w.group !== 'optimizer') out.push([w, decodeWeight(w, bytes.slice(at, at + len))]);
      at += len;
    }
    if (perPath && bytes.length > need) throw new TfjsImportError(`${file}: ${where} ${n > 1 ? 'have' : 'has'} ${bytes.length} bytes but its weights take ${need}`);
  });
  if (whole && wholeAt !== whole.length) throw new TfjsImportError(`${file}: the weight data has ${whole.length} bytes but the manifest's weights take ${wholeAt}`);
  return out;
}

function sizeOf(w: TfjsWeightSpec, file: string): number {
  if (!Array.isArray(w.shape) || w.shape.some((d) => !(Number.isInteger(d) && d >= 0))) throw new TfjsImportError(`${file}: weight '${w.name}' has shape ${JSON.stringify(w.shape)}`);
  return w.shape.reduce((a, b) => a * b, 1);
}

export { TfjsImportError };
