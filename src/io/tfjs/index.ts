// TF.js layers models: exportTfjs writes one (model.json + weight shards), importTfjs reads one (or a Keras topology) into our model.
export { exportTfjs, TfjsExportError, TFJS_LAYERS_VERSION } from './export.js';
export type { TfjsExport, TfjsExportOptions, TfjsModelJson } from './export.js';
export { importTfjs, TfjsImportError } from './import.js';
export type { TfjsImport, TfjsImportOptions, TfjsWeightData } from './import.js';
export { TFJS_LAYERS } from './keras.js';
export { quantizationBound } from './weights.js';
export type { TfjsManifestGroup, TfjsQuantization, TfjsWeightSpec } from './weights.js';
