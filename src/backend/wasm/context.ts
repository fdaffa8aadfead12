// What a wasm kernel wrapper sees: the module's exports, memory views, a parameter area and the thread pool.

/** Bytes of private scratch memory each thread gets (passed as the last argument of every kernel call). */
export const SCRATCH_BYTES = 8 << 20;

/** Services the wasm backend gives to the wrappers of its kernels. */
export interface WasmContext {
  /** The kernels as instantiated on the calling (main) thread. */
  readonly exports: Readonly<Record<string, (...args: number[]) => number | void>>;
  /** Number of threads kernels are split over (1 = no workers). */
  readonly threads: number;
  /** A fresh float32 view of the whole memory (views go stale when memory grows). */
  f32(): Float32Array;
  /** A fresh int32 view of the whole memory. */
  i32(): Int32Array;
  /**
   * Writes int32 values into a small parameter area and returns their byte address. Addresses stay
   * valid for at least 16 KiB of later `params` calls, so a wrapper may pass several arrays to one kernel.
   */
  params(values: ArrayLike<number>): number;
  /** Allocates a temporary buffer of `bytes` (16-byte aligned); release it with {@link freeTemp}. */
  allocTemp(bytes: number): number;
  freeTemp(ptr: number): void;
  /**
   * Calls `exports[name](...args, begin, end, scratch)` over the range [0, total) split across the
   * threads in chunks whose bounds are multiples of `grain` (the last chunk ends at `total`).
   * Runs on the calling thread alone when `total < 2 * minPerThread` or there is one thread.
   * A kernel must give bit-identical results whatever the split (partition outputs, never a reduction).
   */
  parallel(name: string, args: readonly number[], total: number, grain?: number, minPerThread?: number): void;
}
