// Model transforms above nn/ and sharing/: clustering, pruning, stripping and the subspace twin.
export { clusterWeights, planClusters } from './cluster.js';
export type { ClusterOptions, ClusteredWeight, ClusterJob } from './cluster.js';
export { pruneWeights, planPrune } from './prune.js';
export type { PruneOptions, PrunedWeight, PruneJob } from './prune.js';
export { stripSharing } from './strip.js';
export { subspace } from './subspace.js';
export type { SubspaceOptions } from './subspace.js';
export { shareableWeights } from './select.js';
export type { ModelWeight, PerWeight } from './select.js';
