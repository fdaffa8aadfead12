// Model transforms above nn/ and sharing/: clustering, pruning, stripping, the subspace twin, Deep Compression and soft weight-sharing.
export { clusterWeights, halfBiases, halfCentroids, planClusters } from './cluster.js';
export type { ClusterOptions, ClusteredWeight, ClusterJob, HalfCentroidsReport } from './cluster.js';
export { pruneWeights, planPrune } from './prune.js';
export type { PruneOptions, PrunedWeight, PruneJob } from './prune.js';
export { stripSharing } from './strip.js';
export { subspace } from './subspace.js';
export type { SubspaceOptions } from './subspace.js';
export { shareableWeights } from './select.js';
export type { ModelWeight, PerWeight } from './select.js';
export { deepCompress, deepCompressSettings, NothingToCompressError } from './deep-compression.js';
export type {
  DeepCompressData, DeepCompressEvent, DeepCompressOptions, DeepCompressPhase, DeepCompressReport, DeepCompressSettings, StageResult,
} from './deep-compression.js';
export { softWeightSharing, softSharingSettings } from './soft-sharing.js';
export type { SoftSharingEvent, SoftSharingOptions, SoftSharingPhase, SoftSharingReport, SoftSharingSettings } from './soft-sharing.js';
export { MixturePrior, mergeComponents, mixtureNegLogLikelihood, responsibleComponents } from './mixture-prior.js';
export type { GammaPrior, MixturePriorOptions, MixtureState } from './mixture-prior.js';
export { modelSizes } from './stages.js';
export type { CompressData, PipelineHooks, TrainEvent } from './stages.js';
export { checkSchedule, gradualPruning, GradualPruning, polynomialDecay } from './prune-schedule.js';
export type { GradualPruningOptions, PolynomialDecayOptions } from './prune-schedule.js';
export { FEATURE_CRITERIA, firstLayerMagnitude, mutualInformation, selectFeatures, takeFeatures } from './feature-selection.js';
export type { FeatureCriterion } from './feature-selection.js';
export { sparseVariationalDropout, variationalDropoutSettings } from './variational-dropout.js';
export type { SparsifiedWeight, VariationalDropoutEvent, VariationalDropoutOptions, VariationalDropoutPhase, VariationalDropoutReport, VariationalDropoutSettings } from './variational-dropout.js';
