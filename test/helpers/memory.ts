// Bounding the memory a call takes: the rise of the process's peak resident set (high-water mark) across the call.

/** What a measured call did: its result or its error, and how far it lifted the peak RSS above what was resident before. */
export interface Measured<T> {
  result?: T;
  error?: unknown;
  /** Bytes by which the peak RSS rose above max(the previous peak, the RSS before the call): 0 if it stayed below. */
  peakRise: number;
}

/**
 * Runs `f` and measures how far it lifted the peak resident set size (getrusage's maxrss, a high-water mark, so a
 * peak inside a synchronous call is seen). A call that allocates more than the previous peak left free shows up in
 * full; a smaller one may read as less, which is why tests bound it from above only (a bomb of gigabytes always shows).
 */
export function measurePeak<T>(f: () => T): Measured<T> {
  const before = Math.max(process.resourceUsage().maxRSS * 1024, process.memoryUsage.rss());
  const out: Measured<T> = { peakRise: 0 };
  try {
    out.result = f();
  } catch (e) {
    out.error = e;
  }
  out.peakRise = Math.max(0, process.resourceUsage().maxRSS * 1024 - before);
  return out;
}

/** The bound on a rejected input: 256 MB plus twice the file's size. */
export function memoryBound(fileBytes: number): number {
  return 256 * 2 ** 20 + 2 * fileBytes;
}
