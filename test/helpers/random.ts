// Seeded random numbers for tests: mulberry32 uniforms, Box–Muller normals, typed-array fillers, special values.

/** mulberry32: a tiny, fast 32-bit PRNG; returns a function giving uniforms in [0, 1). */
export function mulberry32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Float32 values that trip naive kernels: NaN, infinities, signed zeros, extremes and subnormals. */
export const SPECIAL_VALUES: readonly number[] = [
  NaN, Infinity, -Infinity, 0, -0, 1, -1, 3.4028234663852886e38, -3.4028234663852886e38, 1.1754943508222875e-38, 1e-45, -1e-45,
];

/** A seeded random source with the helpers tests keep needing. The same seed gives the same sequence. */
export class Rng {
  private readonly next: () => number;
  private spare: number | undefined;

  constructor(seed: number) {
    this.next = mulberry32(seed);
  }

  /** Uniform in [lo, hi). */
  uniform(lo = 0, hi = 1): number {
    return lo + (hi - lo) * this.next();
  }

  /** Integer uniform in [lo, hi] (both inclusive). */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  /** True with probability p. */
  bool(p = 0.5): boolean {
    return this.next() < p;
  }

  /** One element of `items`, uniformly. */
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)];
  }

  /** Standard normal by Box–Muller (the second value of each pair is kept for the next call). */
  normal(): number {
    if (this.spare !== undefined) {
      const v = this.spare;
      this.spare = undefined;
      return v;
    }
    const u = 1 - this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    const theta = 2 * Math.PI * this.next();
    this.spare = r * Math.sin(theta);
    return r * Math.cos(theta);
  }

  /** `n` float32 normals with mean `mean` and standard deviation `std`. */
  normals(n: number, std = 1, mean = 0): Float32Array {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = mean + std * this.normal();
    return out;
  }

  /** `n` float32 uniforms in [lo, hi). */
  uniforms(n: number, lo = 0, hi = 1): Float32Array {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = this.uniform(lo, hi);
    return out;
  }

  /** `n` int32 values uniform in [lo, hi]. */
  ints(n: number, lo: number, hi: number): Int32Array {
    const out = new Int32Array(n);
    for (let i = 0; i < n; i++) out[i] = this.int(lo, hi);
    return out;
  }

  /** Overwrites about `fraction` of the entries of `data` with values drawn from `specials` (in place; returns data). */
  sprinkle(data: Float32Array, fraction: number, specials: readonly number[] = SPECIAL_VALUES): Float32Array {
    for (let i = 0; i < data.length; i++) {
      if (this.next() < fraction) data[i] = this.pick(specials);
    }
    return data;
  }

  /** `n` values on a coarse grid (multiples of `step` in [−levels·step, levels·step]), so ties are common. */
  grid(n: number, levels: number, step = 0.5): Float32Array {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = this.int(-levels, levels) * step;
    return out;
  }
}
