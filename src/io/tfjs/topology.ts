// Keras model JSON (tfjs-layers, Keras 2 and Keras 3, Sequential or functional) read into our ModelConfig.
import type { LayerSpec } from '../../nn/layer.js';
import type { InputConfig, ModelConfig, NodeConfig, TensorRef } from '../../nn/model-config.js';
import { activationOf, camelCase, CHANNELS_LAST_LAYERS, isActivationOption, isInitializerOption, KERAS_OPTIONS, type KerasObject, knownActivation, ourInitializer, snakeCase } from './keras.js';
import { ACTIVATIONS } from '../../nn/activations.js';

/** A model.json that cannot be read as one of our models; the message, one line, names the file and what is wrong. */
export class TfjsImportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TfjsImportError';
  }
}

/** A layer entry of a Keras model config (functional ones carry `name` and `inbound_nodes`). */
interface KerasLayer extends KerasObject {
  name?: string;
  inbound_nodes?: unknown[];
}

/** What {@link readTopology} makes: our config, the Keras class of each layer by name, and notes. */
export interface Topology {
  config: ModelConfig;
  classes: Map<string, string>;
  notes: string[];
}

const obj = (v: unknown): Record<string, unknown> => (v && typeof v === 'object' && !Array.isArray(v) ? v as Record<string, unknown> : {});

/**
 * Reads a Keras model topology (`{ class_name: 'Sequential' | 'Model' | 'Functional', config }`, also wrapped in
 * `model_config` as the Python converter writes it) into our ModelConfig. Inbound nodes may be Keras 2 lists
 * (`[[layer, node, tensor, kwargs], …]`) or Keras 3 dicts (`{ args: [keras tensors…], kwargs }`). With `inputShape`, a
 * model whose one input is a vector of that many values gets a Flatten from `inputShape` in front. Every layer class we
 * lack is listed in one error; a layer option we cannot run (an activation, channels_first, a stateful RNN, a free
 * input size) is an error naming the layer.
 */
export function readTopology(topology: unknown, file: string, o: { inputShape?: readonly number[] } = {}): Topology {
  let t = obj(topology);
  if (t.model_config) t = obj(t.model_config);
  const cls = String(t.class_name);
  if (!['Sequential', 'Model', 'Functional'].includes(cls)) throw new TfjsImportError(`${file}: the model topology is a '${cls}', not a Sequential, Model or Functional`);
  const c = t.config;
  const list = (Array.isArray(c) ? c : obj(c).layers) as KerasLayer[] | undefined;
  if (!Array.isArray(list)) throw new TfjsImportError(`${file}: the model topology has no list of layers`);
  const name = String(obj(c).name ?? 'model');
  const notes: string[] = [];
  const unsupported = list.filter((l) => l.class_name !== 'InputLayer' && !(l.class_name in KERAS_OPTIONS));
  if (unsupported.length) throw new TfjsImportError(`${file}: unsupported layers: ${unsupported.map((l) => `${l.class_name} (${layerName(l)})`).join(', ')}`);
  const classes = new Map(list.filter((l) => l.class_name !== 'InputLayer').map((l) => [layerName(l), l.class_name]));
  const specs = list.filter((l) => l.class_name !== 'InputLayer').map((l) => layerSpec(l, file, notes));
  const config = cls === 'Sequential' ? sequential(list, specs, name, file, c) : functional(list, specs, name, file, obj(c));
  if (o.inputShape) flattenFrom(config, o.inputShape);
  return { config, classes, notes };
}

function layerName(l: KerasLayer): string {
  return String(l.name ?? obj(l.config).name);
}

/** The per-sample shape and dtype of an input from a Keras batch shape ([null, 28, 28, 1]); a free size is an error. */
function inputOf(name: string, batchShape: unknown, dtype: unknown, file: string): InputConfig {
  const s = Array.isArray(batchShape) ? batchShape.slice(1) : undefined;
  if (!s || s.some((d) => !(Number.isInteger(d) && d > 0))) {
    throw new TfjsImportError(`${file}: input '${name}' has shape ${JSON.stringify(batchShape ?? null)}; weightshare models take fixed per-sample sizes (no null past the batch axis)`);
  }
  const d = typeof dtype === 'string' ? dtype : String(obj(obj(dtype).config).name ?? 'float32');
  return { name, shape: s as number[], ...(/^u?int/.test(d) ? { dtype: 'int32' } : {}) };
}

/** A model input that feeds an Embedding takes int32 ids (Keras casts float ids; our Embedding takes int32 only). */
function idsFor(inp: InputConfig, takers: readonly LayerSpec[]): InputConfig {
  return takers.some((s) => s.className === 'Embedding') ? { ...inp, dtype: 'int32' } : inp;
}

function sequential(list: KerasLayer[], specs: LayerSpec[], name: string, file: string, c: unknown): ModelConfig {
  if (!specs.length) throw new TfjsImportError(`${file}: the Sequential model has no layers`);
  const first = list[0];
  const fc = obj(first.config);
  const shape = first.class_name === 'InputLayer' ? fc.batch_input_shape ?? fc.batch_shape : fc.batch_input_shape ?? fc.batch_shape ?? obj(c).build_input_shape;
  const dtype = first.class_name === 'InputLayer' ? fc.dtype : undefined;
  const inp = idsFor(inputOf(first.class_name === 'InputLayer' ? layerName(first) : 'input', shape, dtype, file), [specs[0]]);
  const names = specs.map((s) => String(s.config.name));
  return {
    className: 'Sequential', name, inputShape: inp.shape, inputs: [inp], layers: specs,
    graph: names.map((n, k): NodeConfig => ({ layer: n, inbound: [k === 0 ? [inp.name, 0, 0] : [names[k - 1], 0, 0]] })),
    outputs: [[names[names.length - 1], 0, 0]],
  };
}

/** Keras refs `[name, node, tensor]` of one inbound node, in either Keras 2 or Keras 3 form. */
function nodeRefs(node: unknown, where: string, file: string): TensorRef[] {
  if (Array.isArray(node)) return node.map((r) => [String(r[0]), Number(r[1]), Number(r[2])]);
  const n = obj(node);
  const found: TensorRef[] = [];
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (obj(v).class_name === '__keras_tensor__') {
      const h = obj(obj(v).config).keras_history as unknown[];
      found.push([String(h[0]), Number(h[1]), Number(h[2])]);
    } else if (v && typeof v === 'object') Object.values(v).forEach(walk);
  };
  walk(n.args);
  const before = found.length;
  walk(n.kwargs);
  if (found.length > before) throw new TfjsImportError(`${file}: ${where} takes tensors as call arguments (${Object.keys(obj(n.kwargs)).join(', ')}), which weightshare cannot wire`);
  return found;
}

/** Keras' input_layers / output_layers: a list of refs, or (Keras 3, one tensor) a single ref. */
function refList(v: unknown): TensorRef[] {
  const a = Array.isArray(v) ? v : [];
  const list = (typeof a[0] === 'string' ? [a] : a) as unknown[][];
  return list.map((r) => [String(r[0]), Number(r[1]), Number(r[2])]);
}

function functional(list: KerasLayer[], specs: LayerSpec[], name: string, file: string, c: Record<string, unknown>): ModelConfig {
  const inputLayers = new Map(list.filter((l) => l.class_name === 'InputLayer').map((l) => [layerName(l), obj(l.config)]));
  const pending = list.filter((l) => l.class_name !== 'InputLayer').flatMap((l) => (l.inbound_nodes ?? []).map((node, k) => ({
    layer: layerName(l), k, refs: nodeRefs(node, `node ${k} of layer '${layerName(l)}'`, file),
  })));
  const specOf = new Map(specs.map((s) => [String(s.config.name), s]));
  const inputs = refList(c.input_layers).map(([n]) => {
    const ic = inputLayers.get(n);
    if (!ic) throw new TfjsImportError(`${file}: input '${n}' is no InputLayer of the model`);
    const takers = pending.filter((p) => p.refs.some((r) => r[0] === n)).map((p) => specOf.get(p.layer)!);
    return idsFor(inputOf(n, ic.batch_input_shape ?? ic.batch_shape, ic.dtype, file), takers);
  });
  // Nodes in an order where each comes after what it takes (Keras lists layers in order, but a reused layer's later nodes may need later layers).
  const done = new Set(inputs.map((i) => `${i.name}/0`));
  const graph: NodeConfig[] = [];
  while (pending.length) {
    const i = pending.findIndex((p) => (p.k === 0 || done.has(`${p.layer}/${p.k - 1}`)) && p.refs.every((r) => done.has(`${r[0]}/${r[1]}`)));
    if (i < 0) throw new TfjsImportError(`${file}: node ${pending[0].k} of layer '${pending[0].layer}' takes ${JSON.stringify(pending[0].refs)}, which no input or earlier node makes`);
    const [p] = pending.splice(i, 1);
    graph.push({ layer: p.layer, inbound: p.refs });
    done.add(`${p.layer}/${p.k}`);
  }
  return { className: 'Model', name, inputShape: inputs[0]?.shape ?? [], inputs, layers: specs, graph, outputs: refList(c.output_layers) };
}

/** Puts a Flatten from `shape` in front of a model whose one input is a vector of the same size. */
function flattenFrom(c: ModelConfig, shape: readonly number[]): void {
  const inp = c.inputs![0];
  if (c.inputs!.length !== 1 || inp.shape.length !== 1 || inp.shape[0] !== shape.reduce((a, b) => a * b, 1) || inp.dtype === 'int32') return;
  const taken = new Set([...c.layers.map((s) => String(s.config.name)), inp.name]);
  let flat = 'flatten_input';
  for (let k = 1; taken.has(flat); k++) flat = `flatten_input_${k}`;
  c.layers.unshift({ className: 'Flatten', config: { name: flat } });
  for (const n of c.graph as NodeConfig[]) n.inbound = n.inbound.map((r) => (r[0] === inp.name ? [flat, 0, 0] : r));
  c.outputs = c.outputs!.map((r) => (r[0] === inp.name ? [flat, 0, 0] : r));
  (c.graph as NodeConfig[]).unshift({ layer: flat, inbound: [[inp.name, 0, 0]] });
  c.inputs = [{ ...inp, shape: [...shape] }];
  c.inputShape = [...shape];
}

/** One Keras layer as our LayerSpec: the options we share (camelCase), initialisers and activations translated. */
function layerSpec(l: KerasLayer, file: string, notes: string[]): LayerSpec {
  const c = obj(l.config);
  const name = layerName(l);
  const fail = (why: string): never => {
    throw new TfjsImportError(`${file}: layer '${name}' (${l.class_name}) ${why}`);
  };
  if (CHANNELS_LAST_LAYERS.has(l.class_name) && c.data_format !== undefined && camelCase(String(c.data_format)) !== 'channelsLast') fail(`has data_format '${c.data_format}'; weightshare runs channels_last only`);
  for (const [key, bad] of [['stateful', true], ['time_major', true], ['rms_scaling', true]] as const) if (c[key] === bad) fail(`has ${key} true, which weightshare does not run`);
  if (c.groups !== undefined && c.groups !== 1) fail(`has groups ${c.groups}; weightshare convolves with groups 1 only`);
  const out: Record<string, unknown> = { name };
  for (const key of KERAS_OPTIONS[l.class_name]) {
    const v = c[snakeCase(key)];
    if (v === undefined || (v === null && !isActivationOption(key) && key !== 'mergeMode')) continue;
    if (isActivationOption(key)) {
      const a = activationOf(v);
      if (!knownActivation(a)) fail(`has ${snakeCase(key)} '${a}', which weightshare does not have (${ACTIVATIONS.join(', ')})`);
      out[key] = a;
    } else if (isInitializerOption(key)) {
      const init = ourInitializer(v);
      if (init) out[key] = init;
      else notes.push(`layer '${name}': ${snakeCase(key)} ${JSON.stringify(v)} has no equal here; the layer's default is used (it matters only when training from scratch)`);
    } else out[key] = v;
  }
  // Keras 1 and TF.js GRUs without reset_after reset before the matmul (ours defaults to Keras 3's reset after).
  if (l.class_name === 'GRU' && c.reset_after === undefined) out.resetAfter = false;
  if (l.class_name === 'Bidirectional') {
    const inner = obj(c.layer) as KerasLayer;
    if (!['SimpleRNN', 'LSTM', 'GRU'].includes(inner.class_name)) fail(`wraps a '${inner.class_name}'; weightshare wraps SimpleRNN, LSTM and GRU`);
    out.layer = layerSpec(inner, file, notes);
    if (c.backward_layer) out.backwardLayer = layerSpec(obj(c.backward_layer) as KerasLayer, file, notes);
  }
  return { className: l.class_name, config: out };
}
