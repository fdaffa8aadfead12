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
 * shapes every step reaches a steady state with no growth.
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
    if (ptr === undefined) throw new WasmOutOfMemoryError(bytes, this.inUse, this.maxBytes);
    this.inUse += this.sizes.get(ptr) ?? size;
    if (!this.sizes.has(ptr)) this.sizes.set(ptr, size);
    return ptr;
  }

  /** Returns a block to its free list. */
  free(ptr: number): void {
    const size = this.sizes.get(ptr);
    if (size === undefined) throw new Error(`weightshare wasm backend: free of unknown address ${ptr}`);
    let list = this.freeLists.get(size);
    if (!list) this.freeLists.set(size, (list = []));
    list.push(ptr);
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

  /** The smallest free block of a larger class (used only when memory cannot grow). */
  private bestFit(size: number): number | undefined {
    let best: number | undefined;
    for (const s of this.freeLists.keys()) {
      if (s >= size && (this.freeLists.get(s)?.length ?? 0) > 0 && (best === undefined || s < best)) best = s;
    }
    return best === undefined ? undefined : this.freeLists.get(best)!.pop();
  }
}
