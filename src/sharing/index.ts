// The sharing schemes behind the WeightMap contract; importing this module registers every scheme.
export { Parameter } from './weight-map.js';
export type { WeightMap, WeightMapConfig, WeightMapStats } from './weight-map.js';
export { DenseMap } from './dense.js';
export { materialize, withWeightCache } from './cache.js';
export { createMap, parseMapSpec, registerMap, mapKinds, SharingError, hash32 } from './registry.js';
export type { MapSpec, MapConfig, MapContext, MapFactory } from './registry.js';
export { HashedMap } from './hashed.js';
export { LowRankMap } from './low-rank.js';
export { LowRankDeltaMap } from './low-rank-delta.js';
export { TiedMap } from './tied.js';
export { RandomMaskMap } from './random-mask.js';
export { PrunedMap, pruneByMagnitude, magnitudeMask, checkPrune } from './pruned.js';
export { CodebookMap, fitCodebook, checkCodebookFit, indexBits } from './codebook.js';
export type { CodebookFit } from './codebook.js';
export { kmeans1d, KMEANS_INITS } from './kmeans.js';
export type { KMeansInit, KMeansOptions, KMeansResult } from './kmeans.js';
export { SubspaceMap, PROJECTIONS, DENSE_LIMIT_BYTES } from './subspace.js';
export type { Projection, SubspaceSettings } from './subspace.js';
