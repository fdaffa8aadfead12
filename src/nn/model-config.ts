// Saved models: the config of a model (its layers and the node graph that connects them) and the rebuild from it.
import { quote } from '../core/errors.js';
import type { Shape } from '../core/shape.js';
import type { MapSpec } from '../sharing/registry.js';
import { input as makeInput, type Layer, type LayerSpec, layerFromSpec, type SymbolicTensor, withWeightGuard } from './layer.js';
import { Model, Sequential } from './model.js';

/** A symbolic tensor in a saved graph: [layer name, node (the layer's k-th use), output index], or [input name, 0, 0]. */
export type TensorRef = [string, number, number];

/** One node of a saved graph: the layer applied and the tensors it takes (Keras' inbound nodes). */
export interface NodeConfig {
  layer: string;
  inbound: TensorRef[];
}

/** A model input in a saved graph. */
export interface InputConfig {
  name: string;
  shape: number[];
  dtype?: 'float32' | 'int32';
}

/**
 * A model's config: its layers and the graph that connects them (each node names its inbound tensors), enough with
 * the weights to rebuild it. Files from before graphs hold `inputShape` and `graph` as a list of layer names along a
 * chain; they still load.
 */
export interface ModelConfig {
  className: 'Model' | 'Sequential';
  name: string;
  /** The first input's per-sample shape (kept for readers of single-input models). */
  inputShape: number[];
  inputs?: InputConfig[];
  layers: LayerSpec[];
  graph: NodeConfig[] | string[];
  outputs?: TensorRef[];
}

/** Rebuilds a model (unbuilt, weights not yet created) from its config; throws naming the node that does not fit. */
export function modelFromConfig(c: ModelConfig): Model {
  if (!c || typeof c !== 'object') throw new Error('model config must be an object');
  if (c.className !== 'Model' && c.className !== 'Sequential') throw new Error(`unknown model class '${String(c.className)}'`);
  if (!Array.isArray(c.layers) || !Array.isArray(c.graph)) throw new Error(`model config '${String(c.name)}' needs 'layers' and 'graph' arrays`);
  if (c.graph.length === 0) throw new Error(`model config '${String(c.name)}': the graph has no nodes (a model needs at least one layer)`);
  const byName = new Map<string, Layer>();
  for (const spec of c.layers) {
    if (!spec || typeof spec !== 'object' || typeof spec.className !== 'string' || !spec.config || typeof spec.config !== 'object') {
      throw new Error(`model config: each layer must be { className, config }, got ${JSON.stringify(spec)?.slice(0, 120)}`);
    }
    const name = String(spec.config.name);
    if (byName.has(name)) throw new Error(`model config: two layers are named '${name}'`);
    byName.set(name, layerFromSpec(spec));
  }
  const layerNamed = (n: unknown, where: string): Layer => {
    const l = byName.get(String(n));
    if (!l) throw new Error(`model config: ${where} names layer '${String(n)}' that is not among its layers (${[...byName.keys()].join(', ')})`);
    return l;
  };
  const legacy = c.graph.every((n) => typeof n === 'string');
  const firstInput = legacy ? { shape: c.inputShape, dtype: undefined } : (c.inputs?.[0] ?? { shape: c.inputShape, dtype: undefined });
  if (c.className === 'Sequential' || legacy) {
    // A Sequential's graph is its chain; files from before graphs hold the layer names along a chain.
    const chain = (c.graph as (string | NodeConfig)[]).map((n, k) => layerNamed(typeof n === 'string' ? n : n?.layer, `node ${k}`));
    if (c.className === 'Sequential') return new Sequential(chain, { name: c.name, inputShape: firstInput.shape, inputDType: firstInput.dtype });
    const inp = makeInput({ shape: c.inputShape });
    let s = inp;
    for (const l of chain) s = l.apply(s);
    return new Model({ inputs: inp, outputs: s, name: c.name });
  }
  if (c.inputs !== undefined && (!Array.isArray(c.inputs) || c.inputs.length === 0 || c.inputs.some((i) => !i || typeof i.name !== 'string' || !Array.isArray(i.shape)))) {
    throw new Error(`model config: 'inputs' must be a non-empty list of { name, shape[, dtype] }, got ${JSON.stringify(c.inputs)?.slice(0, 120)}`);
  }
  if (!Array.isArray(c.outputs) || c.outputs.length === 0) throw new Error(`model config: 'outputs' must be a non-empty list of [layer, node, output], got ${JSON.stringify(c.outputs)?.slice(0, 120)}`);
  const inputs = (c.inputs ?? [{ name: 'input', shape: c.inputShape }]).map((i) => makeInput({ shape: i.shape, name: i.name, dtype: i.dtype }));
  const tensors = new Map<string, SymbolicTensor>(inputs.map((t) => [`${t.name}/0/0`, t]));
  const uses = new Map<Layer, number>();
  const lookup = (r: unknown, where: string): SymbolicTensor => {
    const t = Array.isArray(r) && r.length === 3 ? tensors.get(`${r[0]}/${r[1]}/${r[2]}`) : undefined;
    if (!t) throw new Error(`model config: ${where} takes ${JSON.stringify(r)}, which is no input and no output of an earlier node (is the graph out of order or cyclic?)`);
    return t;
  };
  (c.graph as NodeConfig[]).forEach((n, k) => {
    if (!n || typeof n !== 'object' || !Array.isArray(n.inbound) || n.inbound.length === 0) throw new Error(`model config: node ${k} must be { layer, inbound: [[name, node, index], …] }, got ${quote(n)}`);
    const l = layerNamed(n.layer, `node ${k}`);
    const app = uses.get(l) ?? 0;
    const ins = n.inbound.map((r) => lookup(r, `node ${k} (layer '${l.name}', use ${app})`));
    const outs = l.applyAll(ins);
    uses.set(l, app + 1);
    outs.forEach((t, i) => tensors.set(`${l.name}/${app}/${i}`, t));
  });
  const outputs = c.outputs.map((r) => lookup(r, 'the model\'s outputs'));
  return new Model({ inputs, outputs, name: c.name });
}

/**
 * Visits every weight a model config asks for (its path `layer/…/weight`, the shape of W and its map spec), in build
 * order, from a build that allocates none of them (WeightGuard.shapesOnly), and every constant a layer makes of its own
 * (`constant`): for checking what a config, from a file or from command-line sizes, would take before building it.
 * The visitors may throw to stop there.
 */
export function visitWeightShapes(
  c: ModelConfig, seed: number, visit: (path: string, shape: Shape, spec: MapSpec | undefined) => void, constant?: (path: string, shape: Shape) => void,
): void {
  const probe = modelFromConfig(c);
  try {
    withWeightGuard({ shapesOnly: true, before: visit, after() {}, constant }, () => probe.build(seed));
  } finally {
    probe.dispose();
  }
}
