// Entry point of the AssemblyScript kernels: re-exports every kernel file (compiled by scripts/build-kernels.mjs).
// Rules for every kernel file: raw pointers only (no `new`, no managed arrays, no mutable static data in memory),
// parallel kernels end with (begin: i32, end: i32, scratch: usize) and must give identical results for any split.

/** First free byte after the module's static data: the JS allocator starts here. */
export function heapBase(): usize {
  return __heap_base;
}

/** 1 when compiled with relaxed SIMD (fused multiply-add), else 0. */
export function relaxed(): i32 {
  return ASC_FEATURE_RELAXED_SIMD ? 1 : 0;
}

export * from './gemm';
export * from './conv';
export * from './conv-direct';
export * from './elementwise';
export * from './reduce';
export * from './pool';
export * from './gather';
export * from './copy';
export * from './optim';
export * from './fwht';
