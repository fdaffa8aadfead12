// The op set, re-exported in one place.
export * from './creation.js';
export * from './elementwise.js';
export * from './shape-ops.js';
export * from './reduce.js';
export * from './linalg.js';
export * from './conv.js';
export * from './nn.js';
export * from './fwht.js';
export * from './recurrent.js';
export * from './attention.js';
export * from './norm.js';
