// The schema of a model file's JSON header (ModelFileMeta): every field typed and ranged, unknown keys refused by name.
import { checkTrainingState } from './training-state.js';
import { arrayOf, bool, type Check, either, FieldError, int, num, object, oneOf, opt, plain, recordOf, req, str } from './schema.js';

/** A symbolic tensor reference [layer or input name, node, output]. */
const tensorRef: Check = (v, at) => {
  if (!Array.isArray(v) || v.length !== 3) throw new FieldError(`field '${at}' must be [name, node, output], got ${JSON.stringify(v)?.slice(0, 80)}`);
  str(v[0], `${at}[0]`);
  int(0)(v[1], `${at}[1]`);
  int(0)(v[2], `${at}[2]`);
};

/** A layer spec: its class and config; the config's options are checked by the layer itself (layerFromSpec). */
const layerSpec = object({ className: req(str), config: req((v, at) => void plain(v, at)) });

/** The model config (ModelConfig); a file from before graphs holds `graph` as a list of layer names. */
const modelConfig = object({
  className: req(str), // its value is checked by modelFromConfig
  name: req(str),
  inputShape: req(arrayOf(int(1))),
  inputs: opt(arrayOf(object({ name: req(str), shape: req(arrayOf(int(1))), dtype: opt(oneOf(['float32', 'int32'])) }))),
  layers: req(arrayOf(layerSpec)),
  graph: req(arrayOf(either(object({ layer: req(str), inbound: req(arrayOf(tensorRef)) }), str))),
  outputs: opt(arrayOf(tensorRef)),
});

/** Compile settings (CompileConfig); the optimizer's own options are checked by createOptimizer. */
const compileConfig = object({
  optimizer: req((v, at) => str(plain(v, at).name, `${at}.name`)),
  loss: req(str), fromLogits: req(bool), metrics: req(arrayOf(str)),
  ignoreClass: opt(int()), losses: opt(arrayOf(str)), lossWeights: opt(arrayOf(num(0))),
});

const HEADER = object({
  kind: req(oneOf(['weightshare-model'])),
  model: req(modelConfig),
  initSeed: opt(int(0)),
  compile: opt(compileConfig),
  optimizer: opt(object({ iterations: req(int(0)), steps: req(recordOf(int(0))) })),
  training: opt((v) => void checkTrainingState(v)),
  tokenizer: opt(object({ kind: req(str), tokens: opt(arrayOf(str)) })), // the kind, and tokens being present, are checked by tokenizerFromJSON
}, { root: 'header' });

/**
 * Checks a model file's header against the schema of {@link ModelFileMeta}: each field's type and range, and no key
 * that this version does not know (no key has been dropped from the format so far, so none is accepted as legacy).
 * Layer options and optimizer options are checked where they are read (layerFromSpec, createOptimizer). Throws an
 * Error naming the first bad field, e.g. `field 'model.layers[1].className' must be a string, got 3`.
 */
export function checkModelHeader(meta: unknown): void {
  HEADER(meta, '');
}
