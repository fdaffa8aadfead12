// exportOnnx: a built model as an ONNX ModelProto (opset 17), with its sharing maps kept compact.
import { checkOptions } from '../../core/errors.js';
import { type Model, requireModel } from '../../nn/model.js';
import { OnnxGraph } from './builder.js';
import { LayerWriter, OnnxExportError, type Value } from './layers.js';
import { WeightWriter } from './weights.js';

/** The ONNX opset of exported models: 17 (ONNX 1.12; LayerNormalization, ReduceMean with axes as an attribute). */
export const ONNX_OPSET = 17;

/**
 * The metadata_props key under which export records each compact map's recipe (JSON: θ initializer name → map config,
 * e.g. a hashed map's seed), so that {@link importOnnx} restores it exactly.
 */
export const MAPS_METADATA = 'weightshare.maps';

/** Options of {@link exportOnnx}. */
export interface OnnxExportOptions {
  /** Write every weight as its dense float32 W instead of the map's compact form (tied weights stay one initializer). */
  materialize?: boolean;
  /** Receives one-line notes, e.g. a map written as its dense W because it has no compact ONNX form. */
  onNote?: (message: string) => void;
  /** producer_version in the file (default '0.1.0'). */
  version?: string;
}

/**
 * Writes a built model as ONNX bytes: inputs NHWC ([N, H, W, C] with a symbolic batch axis 'N'), outputs named after
 * their layers. Each distinct weight map is written once (tied weights and reused layers share one value): dense W as
 * an initializer, codebooks as Gather(centroids, codes) with UINT8 codes (sparse gaps for pruned ones), hashing as
 * one Gather from [θ, −θ], low rank as two MatMuls (Dense) or MatMul(U, V) → Reshape. Throws an
 * {@link OnnxExportError} naming the layer for what ONNX cannot take here, before anything is returned.
 */
export function exportOnnx(model: Model, o: OnnxExportOptions = {}): Uint8Array {
  requireModel('exportOnnx', model);
  checkOptions('exportOnnx', o, ['materialize', 'onNote', 'version']);
  if (!model.built) throw new OnnxExportError(`model '${model.name}' is not built (call build() or fit() first)`);
  const g = new OnnxGraph(model.name);
  const weights = new WeightWriter(g, o);
  const layers = new LayerWriter(g, weights);
  const values = new Map<unknown, Value>();
  for (const t of model.inputs) values.set(t, { name: g.input(t.name, t.dtype, ['N', ...t.shape]), layout: 'nhwc', shape: t.shape });
  for (const n of model.graph) {
    const outs = layers.emit(n, n.inputs.map((t) => values.get(t)!));
    n.outputs.forEach((t, i) => values.set(t, outs[i]));
  }
  model.outputs.forEach((t, i) => {
    const name = model.outputs.length === 1 ? 'output' : `output_${i}`;
    g.output(layers.as(values.get(t)!, 'nhwc'), t.layer ? t.layer.name : name, t.dtype, ['N', ...t.shape]);
  });
  const metadata = Object.keys(weights.recipes).length ? { [MAPS_METADATA]: JSON.stringify(weights.recipes) } : undefined;
  return g.toBytes({ opset: ONNX_OPSET, producer: 'weightshare', version: o.version ?? '0.1.0', docString: `model '${model.name}' exported by weightshare`, metadata });
}
