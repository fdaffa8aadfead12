// Seeded pseudo-random numbers (xoshiro128**, seeded through splitmix32): the same seed gives the same values everywhere.

/** A small, fast, seedable generator; every random op takes an explicit seed. */
export class Random {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  private spare: number | undefined;

  constructor(seed: number) {
    if (!Number.isFinite(seed)) throw new RangeError(`Random: seed must be a finite number, got ${seed}`);
    // Seeds in [0, 2³²) seed splitmix32 as they are; others fold their high part in through a mixing function, so
    // that −1 and 2³² + 1 do not fall on 0 (a plain xor of the halves made −n − 1 ≡ n).
    const whole = Math.floor(seed), hi = Math.floor(whole / 2 ** 32);
    let x = whole >>> 0;
    if (hi !== 0) {
      let h = hi >>> 0;
      h = Math.imul(h ^ (h >>> 16), 0x7feb352d) >>> 0;
      h = Math.imul(h ^ (h >>> 15), 0x846ca68b) >>> 0;
      x = (x ^ h ^ (h >>> 16) ^ 0x5bd1e995) >>> 0;
    }
    const split = (): number => {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.s0 = split();
    this.s1 = split();
    this.s2 = split();
    this.s3 = split();
  }

  /** A uniformly distributed unsigned 32-bit integer. */
  nextUint32(): number {
    const r = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return r;
  }

  /** Uniform in [0, 1) with 53 random bits. */
  uniform(): number {
    return ((this.nextUint32() >>> 5) * 67108864 + (this.nextUint32() >>> 6)) / 9007199254740992;
  }

  /** Standard normal (Box–Muller). */
  normal(): number {
    if (this.spare !== undefined) {
      const s = this.spare;
      this.spare = undefined;
      return s;
    }
    let u = 0;
    while (u === 0) u = this.uniform();
    const v = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** A uniformly random integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.uniform() * n);
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** A 32-bit seed from a seed and a string (FNV-1a over the name, then mixed). */
export function mixSeed(seed: number, name: string): number {
  let h = (2166136261 ^ (seed >>> 0)) >>> 0;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 16777619) >>> 0;
  h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d) >>> 0;
  return (h ^ (h >>> 12)) >>> 0;
}

/**
 * Shuffles `arr` in place: Fisher–Yates driven by a 32-bit LCG seeded with `seed` (taking j from the top
 * 24 bits). The one shuffle of the library: fit's epoch order and data/batches use it, so the same seed gives
 * the same order in Node and in the browser. Returns `arr`.
 */
export function shuffleInPlace<T extends { length: number; [i: number]: any }>(arr: T, seed: number): T {
  let s = seed >>> 0;
  for (let i = arr.length - 1; i > 0; i--) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const j = Math.floor(((s >>> 8) / 16777216) * (i + 1));
    const t = arr[i];
    arr[i] = arr[j];
    arr[j] = t;
  }
  return arr;
}

/** A seeded permutation of 0…n−1 ({@link shuffleInPlace} of the identity); the same seed always gives the same order. */
export function shuffledIndices(n: number, seed: number): Int32Array {
  const idx = new Int32Array(n);
  for (let i = 0; i < n; i++) idx[i] = i;
  return shuffleInPlace(idx, seed);
}

/** The sample order of fit's epoch `epoch`: {@link shuffledIndices} under a seed mixed from (seed, epoch), so resumed runs match; 0…n−1 without `shuffle`. */
export function epochOrder(n: number, shuffle: boolean, seed: number, epoch: number): Int32Array {
  if (shuffle) return shuffledIndices(n, mixSeed(seed, `epoch:${epoch}`));
  const idx = new Int32Array(n);
  for (let i = 0; i < n; i++) idx[i] = i;
  return idx;
}
