// The sharing schemes behind the WeightMap contract; importing this module registers every scheme.
export { Parameter } from './weight-map.js';
export type { WeightMap, WeightMapConfig, WeightMapStats } from './weight-map.js';
export { DenseMap } from './dense.js';
export { createMap, parseMapSpec, registerMap, mapKinds, SharingError, hash32 } from './registry.js';
export type { MapSpec, MapConfig, MapContext, MapFactory } from './registry.js';
export { HashedMap } from './hashed.js';
export { LowRankMap } from './low-rank.js';
export { TiedMap } from './tied.js';
export { RandomMaskMap } from './random-mask.js';
