// A first-fit-by-size-class allocator over the shared WebAssembly.Memory, run on the main thread.

/** Thrown when the WebAssembly memory cannot hold a requested buffer. */
export class WasmOutOfMemoryError extends Error {
  constructor(readonly requested: number, readonly inUse: number, readonly limit: number) {
    super(
      `weightshare wasm backend: out of WebAssembly memory: cannot allocate ${requested} bytes ` +
        `(${inUse} bytes in use, limit ${limit} bytes); free tensors (tidy/dispose) or use smaller batches`,
    );
    this.name = 'WasmOutOfMemoryError';
  }
}

const ALIGN = 64;
const PAGE = 65536;

/** Rounds a byte size up to its size class: 64-byte steps below 4 KiB, then 1/8-octave steps. */
export function sizeClass(bytes: number): number {
  const b = Math.max(ALIGN, Math.ceil(bytes / ALIGN) * ALIGN);
  if (b <= 4096) return b;
  const step = 2 ** (Math.floor(Math.log2(b)) - 3);
  return Math.ceil(b / step) * step;
}

/**
 * Hands out 64-byte aligned blocks of linear memory. Freed blocks go to an exact-size free list and
 * are reused by the next request of the same size class, so a training loop that repeats the same
 * shapes every step reaches a steady state with no growth. When memory cannot grow further, a request
 * takes the smallest larger free block (split, the rest staying free); failing that, adjacent free blocks
 * are merged (those ending at the top give their room back to it) and the request tried again — so memory
 * freed by one phase's shapes (training at batch 32) serves another's (evaluation at batch 64).
 */
export class Allocator {
  private top: number;
  private readonly freeLists = new Map<number, number[]>();
  private readonly sizes = new Map<number, number>();
  private inUse = 0;

  /** @internal (declarations name no WebAssembly type: Node projects without lib "dom" have none) */
  constructor(
    private readonly memory: WebAssembly.Memory,
    base: number,
    private readonly maxBytes: number,
  ) {
    this.top = Math.ceil(base / ALIGN) * ALIGN;
  }

  /** Allocates at least `bytes` bytes and returns the block's byte address. */
  alloc(bytes: number): number {
    if (!Number.isFinite(bytes) || bytes < 0) throw new RangeError(`weightshare wasm backend: invalid allocation size ${bytes}`);
    const size = sizeClass(bytes);
    let ptr = this.freeLists.get(size)?.pop();
    if (ptr === undefined) ptr = this.bump(size) ?? this.bestFit(size);
    if (ptr === undefined && this.coalesce()) ptr = this.bump(size) ?? this.bestFit(size);
    if (ptr === undefined) throw new WasmOutOfMemoryError(bytes, this.inUse, this.maxBytes);
    this.inUse += this.sizes.get(ptr) ?? size;
    if (!this.sizes.has(ptr)) this.sizes.set(ptr, size);
    return ptr;
  }

  /** Returns a block to its free list. */
  free(ptr: number): void {
    const size = this.sizes.get(ptr);
    if (size === undefined) throw new Error(`weightshare wasm backend: free of unknown address ${ptr}`);
    this.addFree(ptr, size);
    this.inUse -= size;
  }

  /** Bytes in live (not freed) blocks. */
  bytesInUse(): number {
    return this.inUse;
  }

  private bump(size: number): number | undefined {
    const end = this.top + size;
    if (end > this.maxBytes) return undefined;
    const have = this.memory.buffer.byteLength;
    if (end > have) {
      // Grow by at least 1/8 of the current size to keep the number of grow calls small.
      const want = Math.min(this.maxBytes, Math.max(end, have + have / 8));
      try {
        this.memory.grow(Math.ceil((want - have) / PAGE));
      } catch {
        try {
          this.memory.grow(Math.ceil((end - have) / PAGE));
        } catch {
          return undefined;
        }
      }
    }
    const ptr = this.top;
    this.top = end;
    return ptr;
  }

  /**
   * The smallest free block of a larger size (used only when memory cannot grow), cut to `size`: the rest, when any,
   * becomes a free block of its own.
   */
  private bestFit(size: number): number | undefined {
    let best: number | undefined;
    for (const s of this.freeLists.keys()) {
      if (s >= size && (this.freeLists.get(s)?.length ?? 0) > 0 && (best === undefined || s < best)) best = s;
    }
    if (best === undefined) return undefined;
    const ptr = this.freeLists.get(best)!.pop()!;
    if (best > size) {
      this.sizes.set(ptr, size);
      this.addFree(ptr + size, best - size);
    }
    return ptr;
  }

  /** Records a free block of `size` bytes at `ptr`. */
  private addFree(ptr: number, size: number): void {
    this.sizes.set(ptr, size);
    let list = this.freeLists.get(size);
    if (!list) this.freeLists.set(size, (list = []));
    list.push(ptr);
  }

  /**
   * Merges adjacent free blocks into one, and gives a free run that ends at the top back to the bump space. Returns
   * whether anything changed (a request that failed may then fit).
   */
  private coalesce(): boolean {
    const blocks: [ptr: number, size: number][] = [];
    for (const [size, list] of this.freeLists) for (const ptr of list) blocks.push([ptr, size]);
    if (blocks.length === 0) return false;
    blocks.sort((a, b) => a[0] - b[0]);
    const merged: [number, number][] = [];
    for (const [ptr, size] of blocks) {
      const last = merged[merged.length - 1];
      this.sizes.delete(ptr);
      if (last && last[0] + last[1] === ptr) last[1] += size;
      else merged.push([ptr, size]);
    }
    const last = merged[merged.length - 1];
    const lowered = last[0] + last[1] === this.top;
    if (lowered) {
      this.top = last[0];
      merged.pop();
    }
    this.freeLists.clear();
    for (const [ptr, size] of merged) this.addFree(ptr, size);
    return lowered || merged.length < blocks.length;
  }
}
