// Module-wide exports of the AssemblyScript kernels. scripts/build-kernels.mjs compiles every top-level file of
// src/kernels as an entry, so each kernel file's exports are the module's exports (no list to keep here);
// helpers shared by kernel files live in src/kernels/lib/. Op codes come from src/backend/opcodes.ts.
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
