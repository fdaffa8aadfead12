// stripSharing: every sharing map of a model turned back into plain (dense) weights, for shipping or further transforms.
import { tensor } from '../core/ops/index.js';
import type { Model } from '../nn/model.js';
import { DenseMap } from '../sharing/dense.js';
import { dropOptimizerState, valuesOf } from './select.js';

/**
 * Turns every non-dense map of the model back into a dense one holding W = φ(θ) as plain weights (TF-MOT
 * `strip_clustering`); tied weights become independent copies. Outputs are unchanged; optimizer state is
 * dropped as in {@link clusterWeights}. Returns the paths of the weights it converted.
 */
export function stripSharing(model: Model): string[] {
  model.build();
  const jobs = model.weights().filter((w) => w.map.kind !== 'dense').map((w) => ({ w, values: valuesOf(w.map) }));
  dropOptimizerState(model);
  for (const { w, values } of jobs) w.layer.replaceWeight(w.name, new DenseMap(tensor(values, w.map.shape)));
  for (const { w } of jobs) w.map.dispose();
  return jobs.map(({ w }) => w.path);
}
