// exportTfjs: a built model as a TF.js layers model (model.json + weight shards), written as tfjs-layers' own model.save() writes it.
import { checkOptions } from '../../core/errors.js';
import type { Layer, SymbolicTensor } from '../../nn/layer.js';
import { Bidirectional } from '../../nn/layers/bidirectional.js';
import { GRU } from '../../nn/layers/gru.js';
import { Recurrent } from '../../nn/layers/recurrent.js';
import { type Model, requireModel, Sequential } from '../../nn/model.js';
import { DenseMap } from '../../sharing/dense.js';
import { valuesOf } from '../../transforms/select.js';
import type { InitializerName } from '../../nn/initializers.js';
import { CHANNELS_LAST_LAYERS, isInitializerOption, KERAS_OPTIONS, type KerasObject, kerasInitializer, snakeCase, TFJS_LAYERS } from './keras.js';
import { concatBytes, decodeWeight, encodeWeight, shard, type TfjsManifestGroup, type TfjsQuantization, type TfjsWeightSpec } from './weights.js';

/** The tfjs-layers release whose dialect of the Keras JSON we write (and test against). */
export const TFJS_LAYERS_VERSION = '4.22.0';

/** A layer or weight that a TF.js layers model cannot hold; the message, one line, names it and says why. */
export class TfjsExportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TfjsExportError';
  }
}

/** Options of {@link exportTfjs}. */
export interface TfjsExportOptions {
  /** Store weights quantised: affine 'uint8' or 'uint16' per tensor, or 'float16' (default: float32). */
  quantize?: TfjsQuantization;
  /** Write a shared weight (hashed, codebook, low-rank, tied, pruned, …) as its dense W instead of refusing it. */
  materialize?: boolean;
  /** Largest shard in bytes (default: one shard, `group1-shard1of1.bin`). */
  shardBytes?: number;
  /** Receives one-line notes (e.g. each shared weight written as its dense W). */
  onNote?: (message: string) => void;
  /** generatedBy's version (default '0.1.0'). */
  version?: string;
}

/** model.json of a TF.js layers model. */
export interface TfjsModelJson {
  format: 'layers-model';
  generatedBy: string;
  convertedBy: string | null;
  modelTopology: KerasObject & { keras_version: string; backend: string };
  weightsManifest: TfjsManifestGroup[];
}

/** What {@link exportTfjs} returns: model.json, the shards it names (in order), and how far quantisation moved the weights. */
export interface TfjsExport {
  modelJson: TfjsModelJson;
  /** The weight files' bytes, in the order of `modelJson.weightsManifest[0].paths`. */
  weightData: Uint8Array[];
  /** max |w − ŵ| over all weights after decoding as tf.io does (0 without quantize). */
  maxQuantizationError: number;
}

/**
 * Writes a built model as a TF.js layers model: model.json's `modelTopology` is the Keras JSON tfjs-layers reads
 * (Sequential for a chain on float inputs, else a functional Model with InputLayers and inbound_nodes; snake_case
 * configs; layers applied several times keep one set of weights and one inbound node per use), and one weight group
 * `group1-shard{i}of{n}.bin` holds every weight as `layer/weight` (`lstm/recurrent_kernel`,
 * `bidirectional/forward_gru/kernel`). TF.js stores dense tensors only, so a weight held by any other sharing map is
 * refused unless `materialize` is set; layers tfjs-layers 4.22 lacks (LocallyConnected2D, MultiHeadAttention, Block,
 * position embeddings, Subtract, GRU with resetAfter) are refused. Errors are {@link TfjsExportError}s naming the
 * layer, thrown before anything is returned.
 */
export function exportTfjs(model: Model, o: TfjsExportOptions = {}): TfjsExport {
  requireModel('exportTfjs', model);
  checkOptions('exportTfjs', o, ['quantize', 'materialize', 'shardBytes', 'onNote', 'version']);
  if (!model.built) throw new TfjsExportError(`model '${model.name}' is not built (call build() or fit() first)`);
  if (o.shardBytes !== undefined && !(Number.isInteger(o.shardBytes) && o.shardBytes >= 1)) throw new TfjsExportError(`shardBytes must be a positive integer, got ${o.shardBytes}`);
  const chain = model instanceof Sequential && model.inputs[0].dtype === 'float32';
  const layers = model.layers.map((l) => ({ layer: l, spec: layerConfig(l) }));
  let topology: KerasObject;
  if (chain) {
    const [first, ...rest] = layers.map((x) => ({ class_name: x.layer.className, config: x.spec }));
    first.config = { ...first.config, batch_input_shape: [null, ...model.inputs[0].shape], dtype: 'float32' };
    topology = { class_name: 'Sequential', config: { name: model.name, layers: [first, ...rest] } };
  } else {
    const ref = (t: SymbolicTensor): [string, number, number] => model.tensorRef(t);
    const inputs = model.inputs.map((t) => ({
      name: t.name, class_name: 'InputLayer', config: { batch_input_shape: [null, ...t.shape], dtype: t.dtype, sparse: false, name: t.name }, inbound_nodes: [],
    }));
    const nodes = layers.map(({ layer, spec }) => ({
      name: layer.name, class_name: layer.className, config: spec,
      inbound_nodes: model.graph.filter((n) => n.layer === layer).map((n) => n.inputs.map((t) => [...ref(t), {}])),
    }));
    topology = {
      class_name: 'Model',
      config: { name: model.name, layers: [...inputs, ...nodes], input_layers: model.inputs.map(ref), output_layers: model.outputs.map(ref) },
    };
  }
  const specs: TfjsWeightSpec[] = [];
  const bytes: Uint8Array[] = [];
  let maxError = 0;
  for (const { layer } of layers) {
    for (const w of layer.weights()) {
      const path = `${layer.name}/${w.path}`;
      if (!(w.map instanceof DenseMap)) {
        if (!o.materialize) throw new TfjsExportError(`layer '${layer.name}' (${layer.className}): weight '${w.path}' is held by a '${w.map.kind}' map; TF.js stores dense tensors only (export with --materialize, materialize: true, to write its dense W)`);
        o.onNote?.(`${path}: a '${w.map.kind}' map written as its dense W (${w.map.shape.join('×')} values)`);
      }
      const name = `${layer.name}/${w.path.split('/').map((s, i, all) => (i === all.length - 1 ? snakeCase(s) : s)).join('/')}`;
      const values = valuesOf(w.map);
      let enc: ReturnType<typeof encodeWeight>;
      try {
        enc = encodeWeight(name, values, o.quantize);
      } catch (e) {
        throw new TfjsExportError(`layer '${layer.name}' (${layer.className}): ${(e as Error).message}`);
      }
      const spec: TfjsWeightSpec = { name, shape: [...w.map.shape], dtype: 'float32', ...(enc.quantization ? { quantization: enc.quantization } : {}) };
      if (o.quantize) {
        const back = decodeWeight(spec, enc.bytes);
        for (let i = 0; i < values.length; i++) maxError = Math.max(maxError, Math.abs(back[i] - values[i]));
      }
      specs.push(spec);
      bytes.push(enc.bytes);
    }
  }
  const shards = shard(concatBytes(bytes), o.shardBytes);
  const paths = shards.map((_, i) => `group1-shard${i + 1}of${shards.length}.bin`);
  return {
    modelJson: {
      format: 'layers-model', generatedBy: `weightshare ${o.version ?? '0.1.0'}`, convertedBy: null,
      modelTopology: { ...topology, keras_version: `tfjs-layers ${TFJS_LAYERS_VERSION}`, backend: 'tensor_flow.js' },
      weightsManifest: [{ paths, weights: specs }],
    },
    weightData: shards,
    maxQuantizationError: maxError,
  };
}

/** A layer's Keras config (snake_case, TF.js' names); throws for what TF.js cannot hold. `parent`: the Bidirectional around it. */
function layerConfig(l: Layer, parent?: Bidirectional): Record<string, unknown> {
  const fail = (why: string): never => {
    throw new TfjsExportError(`layer '${parent ? `${parent.name}/` : ''}${l.name}' (${l.className}) ${why}`);
  };
  if (!TFJS_LAYERS.includes(l.className)) {
    const why: Record<string, string> = {
      Subtract: 'has no TF.js class (tfjs-layers 4.22 has no Subtract layer)',
      LocallyConnected2D: 'has no TF.js class (tfjs-layers 4.22 has no LocallyConnected2D)',
      MultiHeadAttention: 'has no TF.js class (tfjs-layers 4.22 has no MultiHeadAttention)',
      PositionEmbedding: 'has no TF.js class (tfjs-layers 4.22 has no PositionEmbedding)',
      SinePositionEncoding: 'has no TF.js class (tfjs-layers 4.22 has no SinePositionEncoding)',
      Block: 'is a graph of layers inside a layer, which a TF.js layers model cannot nest',
    };
    fail(why[l.className] ?? `cannot be exported to TF.js (exportable: ${TFJS_LAYERS.join(', ')})`);
  }
  for (const key of ['activation', 'recurrentActivation'] as const) {
    if ((l as { [k in typeof key]?: unknown })[key] === 'hard_sigmoid') fail(`has ${snakeCase(key)} hard_sigmoid (Keras 3's clip(x/6 + 0.5)), which TF.js' hard_sigmoid (clip(0.2x + 0.5)) is not`);
  }
  if (l instanceof GRU && l.resetAfter) fail('has resetAfter true (its default, as in Keras 3, and how `weightshare train` builds text-gru), which tfjs-layers 4.22 does not run; export it to ONNX instead (--format onnx), or build it with resetAfter: false in code');
  if (l instanceof Recurrent) {
    if (l.steps !== undefined) fail(`has per-step recurrent kernels (steps ${l.steps}), which TF.js recurrent layers do not have`);
    if (!parent && l.zeroOutputForMask) fail('has zeroOutputForMask set, which TF.js recurrent layers do not have (Keras sets it only inside Bidirectional)');
  }
  const spec = l.toJSON().config;
  const out: Record<string, unknown> = { name: l.name, trainable: true };
  for (const key of KERAS_OPTIONS[l.className]) {
    const v = spec[key];
    if (v !== undefined) out[snakeCase(key)] = isInitializerOption(key) ? kerasInitializer(v as InitializerName) : v;
  }
  if (CHANNELS_LAST_LAYERS.has(l.className)) out.data_format = 'channels_last';
  if (l instanceof Bidirectional) {
    const inner = layerConfig(l.forwardLayer, l);
    const back = layerConfig(l.backwardLayer, l);
    const differs = Object.keys({ ...inner, ...back }).find((k) => k !== 'name' && k !== 'go_backwards' && JSON.stringify(inner[k]) !== JSON.stringify(back[k]));
    if (differs) fail(`has a backward layer that differs from the forward one in '${differs}'; TF.js recreates it from the forward layer`);
    out.layer = { class_name: l.forwardLayer.className, config: { ...inner, name: l.forwardLayer.name.replace(/^forward_/, '') } };
  }
  return out;
}
