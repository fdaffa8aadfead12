// Compact, lossless coding of tensor data: relative-position (gap) coding of the entries that differ
// from a fill value, plus canonical Huffman coding of integer streams, as in Han et al.'s Deep Compression.
//
// Integer stream (encodeIntStream / decodeIntStream): a sequence of integers in [0, 2^32). Bits are
// packed LSB-first: bit k of the stream is bit (k mod 8) of byte floor(k / 8), and a multi-bit field
// is written least significant bit first.
//
//   bits          field
//   9             S, the number of symbols in the code table, 0..280 (0 only for an empty stream)
//   table         the code lengths of symbols 0..S-1, as a sequence of items:
//                   4 bits L in 1..15: the next symbol's code length is L
//                   4 bits 0, then 5 bits r: the next r+1 symbols are unused (length 0)
//                 items never run past S, and symbol S-1 is used (its length is not 0)
//   codes         for each value v: its symbol's Huffman code, the code's first (most significant)
//                 bit first; then, for symbols >= 256, the b extra bits of v - 2^b
//   padding       0..7 zero bits up to the byte boundary; nothing follows
//
// Symbols: a value v < 256 is symbol v; a value v >= 256 is symbol 256 + (b - 8), b = floor(log2 v),
// followed by b extra bits (so symbols 256..279 cover b = 8..31). Codes are canonical (as DEFLATE's:
// consecutive integers in order of (length, symbol)), at most 15 bits long. The lengths form a
// complete prefix code (Kraft sum exactly 1), except when exactly one symbol is used: its length is
// then 1 and its code takes 0 bits per value (only its extra bits, if any, are written). The encoder
// uses Huffman's lengths, or optimal length-limited ones (package-merge) when those would exceed 15.
//
// Sparse tensor (encodeSparse / decodeSparse): n float32 or int32 entries, compared as 32-bit words
// (so -0 and +0, and NaNs with different payloads, are different values). The JSON header
// (SparseEncoding) names the skipped `fill` word, or null; the payload is
//
//   bytes         part
//   gapBytes      gap stream: an integer stream of `listed` gaps; gap i is the number of fill entries
//                 between listed entry i-1 (or the start) and listed entry i; fill entries after the
//                 last listed one are implied by n. Absent (gapBytes = 0) when fill is null.
//   valueBytes    values of the listed entries, in order: either 'ints', an integer stream of
//                 (value - offset) with offset the smallest listed value (int32 data, or float32 data
//                 whose listed values are all integers in [-2^24, 2^24] and none is -0), or 'words',
//                 each entry's raw 32-bit word, little-endian (valueBytes = 4·listed). 'ints' needs
//                 listed > 0 and the header's `offset`; 'words' has no offset. No listed entry equals fill.
//
// The encoder tries fill = null and fill = the most frequent word (ties: the smallest word), and
// 'ints' and 'words' where both apply, and keeps the smallest (ties: fill null, 'ints'). Output is a
// deterministic function of the input. The decoder validates everything it reads and throws an Error
// with a one-line message rather than return data it can tell are wrong.
// This module is platform-neutral (no Node imports).

/** Header of a sparse-coded tensor, stored in the container's JSON tensor entry as `encoding`. */
export interface SparseEncoding {
  kind: 'sparse';
  /** The skipped value as its 32-bit word (uint32, the bit pattern of the float32 or int32), or null: nothing skipped. */
  fill: number | null;
  /** Number of entries that are not `fill` (all of them when fill is null). */
  listed: number;
  /** 'ints': listed values are integers coded as (value − offset) in the Huffman int stream; 'words': raw 32-bit little-endian words. */
  values: 'ints' | 'words';
  /** Smallest listed value (only when values = 'ints'). */
  offset?: number;
  /** Byte lengths of the two parts of the payload: the gap stream, then the value part. */
  gapBytes: number;
  valueBytes: number;
}

const MAX_CODE_LENGTH = 15;
const LITERALS = 256;
const MAX_SYMBOLS = 280; // 256 literals + one magnitude class per b = 8..31
const EXTRA_BASE = 248; // symbol = EXTRA_BASE + b for values >= 256
const COUNT_BITS = 9;
const LENGTH_BITS = 4;
const RUN_BITS = 5;
const MAX_RUN = 1 << RUN_BITS;
const SYMBOL_BITS = 9; // decode-table entry: symbol | length << SYMBOL_BITS
const TWO32 = 4294967296;
const F32_INT_LIMIT = 16777216; // 2^24: integers up to this magnitude are exact in float32
const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;
const POW2 = Array.from({ length: 33 }, (_, b) => 2 ** b);
const SPARSE_FIELDS = new Set(['kind', 'fill', 'listed', 'values', 'offset', 'gapBytes', 'valueBytes']);

const isCount = (n: unknown): n is number => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
/** Short printable form of a value from a file, for error messages. */
function show(v: unknown): string {
  const text = typeof v === 'number' && !Number.isFinite(v) ? String(v) : JSON.stringify(v) ?? String(v);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

// ---------------------------------------------------------------------------------------------
// Canonical Huffman codes

/** Huffman code lengths of leaves with positive `weights` (two-queue method; ties prefer leaves, then lower index). */
function huffmanDepths(weights: number[]): number[] {
  const m = weights.length;
  const order = weights.map((_, i) => i).sort((a, b) => weights[a]! - weights[b]! || a - b);
  const total = 2 * m - 1;
  const weight = new Float64Array(total);
  const parent = new Int32Array(total);
  order.forEach((s, i) => { weight[i] = weights[s]!; });
  let leaf = 0, inner = m;
  const take = (next: number): number => (leaf < m && (inner >= next || weight[leaf]! <= weight[inner]!) ? leaf++ : inner++);
  for (let next = m; next < total; next++) {
    const a = take(next), b = take(next);
    weight[next] = weight[a]! + weight[b]!;
    parent[a] = next;
    parent[b] = next;
  }
  const depth = new Uint8Array(total);
  for (let i = total - 2; i >= 0; i--) depth[i] = depth[parent[i]!]! + 1;
  const result = new Array<number>(m);
  order.forEach((s, i) => { result[s] = depth[i]!; });
  return result;
}

/**
 * Optimal code lengths of at most `limit` bits for positive `weights` (package-merge): at each of
 * `limit` levels, the leaves are merged with the pairs ("packages") of the level below, by weight;
 * a symbol's length is the number of times it occurs among the 2m - 2 lightest items of the top level.
 */
function packageMerge(weights: number[], limit: number): number[] {
  const m = weights.length;
  const leaves = weights.map((_, i) => i).sort((a, b) => weights[a]! - weights[b]! || a - b);
  interface Item { w: number; sym: number; a: number; b: number }
  const leafItems: Item[] = leaves.map((s) => ({ w: weights[s]!, sym: s, a: -1, b: -1 }));
  const levels: Item[][] = [leafItems];
  for (let level = 1; level < limit; level++) {
    const below = levels[level - 1]!;
    const merged: Item[] = [];
    let li = 0, pi = 0;
    const packages = Math.floor(below.length / 2);
    while (li < m || pi < packages) {
      const pw = pi < packages ? below[2 * pi]!.w + below[2 * pi + 1]!.w : Infinity;
      if (li < m && leafItems[li]!.w <= pw) merged.push(leafItems[li++]!);
      else {
        merged.push({ w: pw, sym: -1, a: 2 * pi, b: 2 * pi + 1 });
        pi++;
      }
    }
    levels.push(merged);
  }
  const lengths = new Array<number>(m).fill(0);
  const visit = (level: number, i: number): void => {
    const item = levels[level]![i]!;
    if (item.sym >= 0) lengths[item.sym]!++;
    else {
      visit(level - 1, item.a);
      visit(level - 1, item.b);
    }
  };
  for (let i = 0; i < 2 * m - 2; i++) visit(limit - 1, i);
  return lengths;
}

/** Code lengths for symbol frequencies: Huffman's, or package-merge's when Huffman's code would be deeper than 15 bits. */
function codeLengths(freq: Float64Array): Uint8Array {
  const lengths = new Uint8Array(freq.length);
  const used: number[] = [];
  for (let s = 0; s < freq.length; s++) if (freq[s]! > 0) used.push(s);
  if (used.length === 1) lengths[used[0]!] = 1;
  if (used.length < 2) return lengths;
  const weights = used.map((s) => freq[s]!);
  let depths = huffmanDepths(weights);
  if (Math.max(...depths) > MAX_CODE_LENGTH) depths = packageMerge(weights, MAX_CODE_LENGTH);
  used.forEach((s, i) => { lengths[s] = depths[i]!; });
  return lengths;
}

/** Canonical codes for `lengths`, bit-reversed so that they can be written LSB-first, first code bit first. */
function reversedCodes(lengths: Uint8Array): Uint16Array {
  const count = new Uint32Array(MAX_CODE_LENGTH + 1);
  for (const l of lengths) if (l > 0) count[l]!++;
  const next = new Uint32Array(MAX_CODE_LENGTH + 1);
  let code = 0;
  for (let l = 1; l <= MAX_CODE_LENGTH; l++) {
    code = (code + count[l - 1]!) << 1; // count[0] is 0
    next[l] = code;
  }
  const codes = new Uint16Array(lengths.length);
  lengths.forEach((l, s) => {
    if (l === 0) return;
    let c = next[l]!++, r = 0;
    for (let k = 0; k < l; k++) { r = (r << 1) | (c & 1); c >>>= 1; }
    codes[s] = r;
  });
  return codes;
}

// ---------------------------------------------------------------------------------------------
// Integer streams

/** What writing an integer stream takes: its code lengths, table size S and exact size in bits. */
interface IntStreamPlan {
  lengths: Uint8Array;
  symbols: number;
  bits: number;
}

/** Plans the coding of `values` (integers in [0, 2^32), already checked). */
function planIntStream(values: ArrayLike<number>): IntStreamPlan {
  const freq = new Float64Array(MAX_SYMBOLS);
  let extra = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v < LITERALS) freq[v]!++;
    else {
      const b = 31 - Math.clz32(v);
      freq[EXTRA_BASE + b]!++;
      extra += b;
    }
  }
  const lengths = codeLengths(freq);
  let symbols = MAX_SYMBOLS;
  while (symbols > 0 && lengths[symbols - 1] === 0) symbols--;
  let bits = COUNT_BITS + extra;
  let used = 0;
  for (let s = 0; s < symbols;) {
    if (lengths[s]! > 0) {
      bits += LENGTH_BITS + freq[s]! * lengths[s]!;
      used++;
      s++;
    } else {
      let run = 0;
      while (run < MAX_RUN && lengths[s + run] === 0) run++;
      bits += LENGTH_BITS + RUN_BITS;
      s += run;
    }
  }
  if (used === 1) for (let s = 0; s < symbols; s++) bits -= freq[s]! * lengths[s]!; // one symbol: 0 bits per value
  return { lengths: lengths.subarray(0, symbols), symbols, bits };
}

const planBytes = (plan: IntStreamPlan): number => Math.ceil(plan.bits / 8);

/** Writes bits LSB-first into a preallocated buffer. */
class BitWriter {
  private acc = 0;
  private nacc = 0;
  constructor(private readonly out: Uint8Array, private pos: number) {}
  /** Writes the low `n` ≤ 16 bits of `v`. */
  put(v: number, n: number): void {
    this.acc |= v << this.nacc;
    this.nacc += n;
    while (this.nacc >= 8) {
      this.out[this.pos++] = this.acc & 0xff;
      this.acc >>>= 8;
      this.nacc -= 8;
    }
  }
  /** Pads with zero bits to the byte boundary; returns the end position. */
  finish(): number {
    if (this.nacc > 0) this.out[this.pos++] = this.acc & 0xff;
    this.acc = 0;
    this.nacc = 0;
    return this.pos;
  }
}

/** Writes the stream planned by `plan` into out[at, at + planBytes(plan)). */
function writeIntStream(values: ArrayLike<number>, plan: IntStreamPlan, out: Uint8Array, at: number): void {
  const { lengths, symbols } = plan;
  const w = new BitWriter(out, at);
  w.put(symbols, COUNT_BITS);
  let used = 0;
  for (let s = 0; s < symbols;) {
    if (lengths[s]! > 0) {
      w.put(lengths[s]!, LENGTH_BITS);
      used++;
      s++;
    } else {
      let run = 0;
      while (run < MAX_RUN && lengths[s + run] === 0) run++;
      w.put(0, LENGTH_BITS);
      w.put(run - 1, RUN_BITS);
      s += run;
    }
  }
  const codes = reversedCodes(lengths);
  const codeLen = used === 1 ? new Uint8Array(symbols) : lengths;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v < LITERALS) {
      w.put(codes[v]!, codeLen[v]!);
      continue;
    }
    const b = 31 - Math.clz32(v);
    const s = EXTRA_BASE + b;
    w.put(codes[s]!, codeLen[s]!);
    const x = v - POW2[b]!;
    if (b <= 16) w.put(x, b);
    else {
      w.put(x & 0xffff, 16);
      w.put(x >>> 16, b - 16);
    }
  }
  const end = w.finish();
  if (end !== at + planBytes(plan)) throw new Error(`internal error: int stream is ${end - at} bytes, planned ${planBytes(plan)}`);
}

/**
 * Canonical-Huffman coding of a stream of non-negative integers < 2^32 (self-describing: the
 * code-length table is inside). Layout at the top of this file. Throws on other values.
 */
export function encodeIntStream(values: ArrayLike<number>): Uint8Array {
  if (!(values instanceof Uint32Array || values instanceof Uint16Array || values instanceof Uint8Array)) {
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v >= TWO32) {
        throw new RangeError(`int stream: value #${i} is ${show(v)}, not an integer in [0, 2^32)`);
      }
    }
  }
  const plan = planIntStream(values);
  const out = new Uint8Array(planBytes(plan));
  writeIntStream(values, plan, out, 0);
  return out;
}

/** Reads bits LSB-first, bit by bit (for the code table only). */
class BitReader {
  bit = 0;
  constructor(private readonly bytes: Uint8Array) {}
  read(n: number, what: string): number {
    if (this.bit + n > this.bytes.length * 8) throw new Error(`truncated: ${what} at bit ${this.bit} runs past the ${this.bytes.length} bytes`);
    let v = 0;
    for (let k = 0; k < n; k++) {
      const p = this.bit + k;
      v |= ((this.bytes[p >>> 3]! >>> (p & 7)) & 1) << k;
    }
    this.bit += n;
    return v;
  }
}

/** Decodes exactly `count` integers written by encodeIntStream; throws on truncated or invalid data. */
export function decodeIntStream(bytes: Uint8Array, count: number): Uint32Array {
  if (!(bytes instanceof Uint8Array)) throw new TypeError(`int stream: bytes must be a Uint8Array, got ${(bytes as object)?.constructor?.name ?? typeof bytes}`);
  if (!isCount(count)) throw new RangeError(`int stream: count must be a non-negative integer, got ${show(count)}`);
  const reader = new BitReader(bytes);
  const symbols = reader.read(COUNT_BITS, 'the symbol count');
  if (symbols > MAX_SYMBOLS) throw new Error(`invalid symbol count ${symbols} (at most ${MAX_SYMBOLS})`);
  if (symbols === 0 && count > 0) throw new Error(`empty code table but ${count} values expected`);
  const lengths = new Uint8Array(symbols);
  for (let s = 0; s < symbols;) {
    const l = reader.read(LENGTH_BITS, 'the code-length table');
    if (l > 0) {
      lengths[s++] = l;
      continue;
    }
    const run = reader.read(RUN_BITS, 'the code-length table') + 1;
    if (s + run >= symbols) throw new Error(`code-length table: a run of ${run} unused symbols from symbol ${s} reaches past the last symbol ${symbols - 1}`);
    s += run;
  }
  let used = 0, kraft = 0, maxLen = 0;
  for (const l of lengths) {
    if (l === 0) continue;
    used++;
    kraft += 1 << (MAX_CODE_LENGTH - l);
    maxLen = Math.max(maxLen, l);
  }
  const out = new Uint32Array(count);
  let table: Uint16Array;
  if (used === 1) {
    if (maxLen !== 1) throw new Error(`code-length table: a single symbol must have length 1, got ${maxLen}`);
    maxLen = 0; // its code takes 0 bits
    table = Uint16Array.of(symbols - 1);
  } else {
    if (used > 0 && kraft !== 1 << MAX_CODE_LENGTH) {
      throw new Error(`code-length table: the lengths do not form a complete prefix code (Kraft sum ${kraft}/${1 << MAX_CODE_LENGTH})`);
    }
    const codes = reversedCodes(lengths);
    table = new Uint16Array(1 << maxLen);
    lengths.forEach((l, s) => {
      if (l === 0) return;
      const entry = s | (l << SYMBOL_BITS);
      for (let i = codes[s]!; i < table.length; i += 1 << l) table[i] = entry;
    });
  }

  // Table-driven decoding with a 25..32-bit buffer; bytes past the end read as 0 and are caught below.
  const end = bytes.length;
  const mask = (1 << maxLen) - 1;
  let pos = reader.bit >>> 3;
  let cnt = 0, buf = 0;
  if (reader.bit & 7) {
    buf = bytes[pos++]! >>> (reader.bit & 7);
    cnt = 8 - (reader.bit & 7);
  }
  const overrun = (): never => {
    throw new Error(`truncated: ${count} values need more than the ${end} bytes given`);
  };
  for (let i = 0; i < count; i++) {
    while (cnt <= 24) {
      if (pos < end) buf |= bytes[pos]! << cnt;
      else if (pos >= end + 4) overrun();
      pos++;
      cnt += 8;
    }
    const e = table[buf & mask]!;
    const len = e >>> SYMBOL_BITS;
    const sym = e & 511;
    buf >>>= len;
    cnt -= len;
    if (sym < LITERALS) {
      out[i] = sym;
      continue;
    }
    const b = sym - EXTRA_BASE;
    while (cnt <= 24) {
      if (pos < end) buf |= bytes[pos]! << cnt;
      else if (pos >= end + 4) overrun();
      pos++;
      cnt += 8;
    }
    let x: number;
    if (b <= 24) {
      x = buf & ((1 << b) - 1);
      buf >>>= b;
      cnt -= b;
    } else {
      x = buf & 0xffff;
      buf >>>= 16;
      cnt -= 16;
      while (cnt <= 24) {
        if (pos < end) buf |= bytes[pos]! << cnt;
        else if (pos >= end + 4) overrun();
        pos++;
        cnt += 8;
      }
      const h = b - 16;
      x += (buf & ((1 << h) - 1)) * 65536;
      buf >>>= h;
      cnt -= h;
    }
    out[i] = POW2[b]! + x;
  }
  const consumed = pos * 8 - cnt;
  if (consumed > end * 8) overrun();
  const usedBytes = Math.ceil(consumed / 8);
  if (usedBytes < end) throw new Error(`unexpected trailing data: the ${count} values end at byte ${usedBytes} of ${end}`);
  const pad = usedBytes * 8 - consumed;
  if (pad > 0) {
    // The buffer holds the bits from `consumed` on, so its low `pad` bits are the padding.
    if ((buf & ((1 << pad) - 1)) !== 0) throw new Error(`nonzero padding bits after bit ${consumed}`);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Sparse tensors

/** One way to code a tensor: which fill, the listed entries, and the two planned parts. */
interface SparsePlan {
  fill: number | null;
  index: Uint32Array;
  gaps?: { values: Uint32Array; plan: IntStreamPlan };
  ints?: { values: Uint32Array; plan: IntStreamPlan; offset: number };
  gapBytes: number;
  valueBytes: number;
}

/** The most frequent word of `words` (n > 0), ties going to the smallest word. */
function mostFrequentWord(words: Uint32Array): number {
  const sorted = words.slice().sort();
  let best = sorted[0]!, bestCount = 0;
  for (let i = 0; i < sorted.length;) {
    let j = i + 1;
    while (j < sorted.length && sorted[j] === sorted[i]) j++;
    if (j - i > bestCount) {
      best = sorted[i]!;
      bestCount = j - i;
    }
    i = j;
  }
  return best;
}

/** (value − min) of the listed entries when they qualify for 'ints', else undefined. */
function intValues(data: Float32Array | Int32Array, index: Uint32Array): { values: Uint32Array; offset: number } | undefined {
  if (index.length === 0) return undefined;
  let min = Infinity;
  const isFloat = data instanceof Float32Array;
  for (let i = 0; i < index.length; i++) {
    const v = data[index[i]!]!;
    if (isFloat && (!Number.isInteger(v) || v < -F32_INT_LIMIT || v > F32_INT_LIMIT || Object.is(v, -0))) return undefined;
    if (v < min) min = v;
  }
  const values = new Uint32Array(index.length);
  for (let i = 0; i < index.length; i++) values[i] = data[index[i]!]! - min;
  return { values, offset: min };
}

/** Plans coding `data` with the given fill (null: list everything), choosing the smaller value part. */
function planSparse(data: Float32Array | Int32Array, words: Uint32Array, fill: number | null): SparsePlan {
  const n = words.length;
  let index: Uint32Array;
  let gaps: SparsePlan['gaps'];
  if (fill === null) {
    index = new Uint32Array(n);
    for (let i = 0; i < n; i++) index[i] = i;
  } else {
    let listed = 0;
    for (let i = 0; i < n; i++) if (words[i] !== fill) listed++;
    index = new Uint32Array(listed);
    const gapValues = new Uint32Array(listed);
    let k = 0, last = 0;
    for (let i = 0; i < n; i++) {
      if (words[i] === fill) continue;
      index[k] = i;
      gapValues[k++] = i - last;
      last = i + 1;
    }
    gaps = { values: gapValues, plan: planIntStream(gapValues) };
  }
  const gapBytes = gaps ? planBytes(gaps.plan) : 0;
  const wordBytes = 4 * index.length;
  const iv = intValues(data, index);
  if (iv) {
    const plan = planIntStream(iv.values);
    if (planBytes(plan) <= wordBytes) return { fill, index, gaps, ints: { ...iv, plan }, gapBytes, valueBytes: planBytes(plan) };
  }
  return { fill, index, gaps, gapBytes, valueBytes: wordBytes };
}

/**
 * Codes data (float32 or int32) compactly (layout at the top of this file); returns undefined when
 * the result would not be smaller than the raw 4·n bytes. Deterministic: same input, same bytes.
 */
export function encodeSparse(data: Float32Array | Int32Array): { encoding: SparseEncoding; bytes: Uint8Array } | undefined {
  if (!(data instanceof Float32Array || data instanceof Int32Array)) {
    throw new TypeError(`encodeSparse needs a Float32Array or Int32Array, got ${(data as object)?.constructor?.name ?? typeof data}`);
  }
  const n = data.length;
  const words = new Uint32Array(data.buffer, data.byteOffset, n);
  let best = planSparse(data, words, null);
  if (n > 0) {
    const withFill = planSparse(data, words, mostFrequentWord(words));
    if (withFill.gapBytes + withFill.valueBytes < best.gapBytes + best.valueBytes) best = withFill;
  }
  const size = best.gapBytes + best.valueBytes;
  if (size >= 4 * n) return undefined;

  const bytes = new Uint8Array(size);
  if (best.gaps) writeIntStream(best.gaps.values, best.gaps.plan, bytes, 0);
  if (best.ints) writeIntStream(best.ints.values, best.ints.plan, bytes, best.gapBytes);
  else {
    const view = new DataView(bytes.buffer, best.gapBytes);
    best.index.forEach((i, k) => view.setUint32(4 * k, words[i]!, true));
  }
  const encoding: SparseEncoding = {
    kind: 'sparse', fill: best.fill, listed: best.index.length, values: best.ints ? 'ints' : 'words',
    ...(best.ints ? { offset: best.ints.offset } : {}),
    gapBytes: best.gapBytes, valueBytes: best.valueBytes,
  };
  return { encoding, bytes };
}

/** Runs `f`, prefixing the message of any Error it throws with `what`. */
function within<T>(what: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof Error) throw new Error(`${what}: ${e.message}`, { cause: e });
    throw e;
  }
}

/**
 * Inverse of encodeSparse: n entries of dtype. Validates `encoding` (it comes from a file) and the
 * payload, and throws an Error with a one-line message naming what is wrong; never returns
 * wrong-length data. The result never aliases `bytes`.
 */
export function decodeSparse(encoding: unknown, bytes: Uint8Array, dtype: 'float32' | 'int32', n: number): Float32Array | Int32Array {
  const fail = (message: string): never => { throw new Error(message); };
  if (dtype !== 'float32' && dtype !== 'int32') fail(`unknown dtype ${show(dtype)} (known: float32, int32)`);
  if (!isCount(n)) fail(`entry count must be a non-negative integer, got ${show(n)}`);
  if (!(bytes instanceof Uint8Array)) fail(`sparse payload must be a Uint8Array, got ${(bytes as object)?.constructor?.name ?? typeof bytes}`);
  if (typeof encoding !== 'object' || encoding === null || Array.isArray(encoding)) return fail(`encoding is not a JSON object: ${show(encoding)}`);
  const e = encoding as Record<string, unknown>;
  if (e.kind !== 'sparse') fail(`unknown encoding kind ${show(e.kind)} (known: sparse)`);
  for (const key of Object.keys(e)) if (!SPARSE_FIELDS.has(key)) fail(`sparse encoding has an unknown field ${JSON.stringify(key)}`);
  const { fill, listed, values, offset, gapBytes, valueBytes } = e;
  if (fill !== null && !(isCount(fill) && fill < TWO32)) fail(`sparse encoding: fill must be null or a 32-bit word (an integer in [0, 2^32)), got ${show(fill)}`);
  if (!isCount(listed)) return fail(`sparse encoding: listed must be a non-negative integer, got ${show(listed)}`);
  if (listed > n) fail(`sparse encoding: listed ${listed} exceeds the ${n} entries`);
  if (values !== 'ints' && values !== 'words') fail(`sparse encoding: values must be "ints" or "words", got ${show(values)}`);
  if (!isCount(gapBytes) || !isCount(valueBytes)) return fail(`sparse encoding: gapBytes and valueBytes must be non-negative integers, got ${show(gapBytes)} and ${show(valueBytes)}`);
  if (gapBytes + valueBytes !== bytes.length) fail(`sparse encoding: gapBytes ${gapBytes} + valueBytes ${valueBytes} does not match the ${bytes.length} payload bytes`);
  if (fill === null && listed !== n) fail(`sparse encoding: fill is null but listed ${listed} is not all ${n} entries`);
  if (fill === null && gapBytes !== 0) fail(`sparse encoding: fill is null but gapBytes is ${gapBytes}, not 0`);
  if (fill !== null && gapBytes === 0) fail('sparse encoding: a fill value needs a gap stream, but gapBytes is 0');
  const [lo, hi] = dtype === 'float32' ? [-F32_INT_LIMIT, F32_INT_LIMIT] : [INT32_MIN, INT32_MAX];
  if (values === 'ints') {
    if (offset === undefined) fail('sparse encoding: values "ints" needs an offset');
    if (typeof offset !== 'number' || !Number.isInteger(offset) || offset < lo || offset > hi) {
      fail(`sparse encoding: offset must be an integer in [${lo}, ${hi}] for ${dtype}, got ${show(offset)}`);
    }
    if (listed === 0) fail('sparse encoding: values "ints" with no listed entries');
  } else {
    if (offset !== undefined) fail(`sparse encoding: offset ${show(offset)} given but values are "words"`);
    if (valueBytes !== 4 * listed) fail(`sparse encoding: valueBytes ${valueBytes} is not 4 × listed ${listed}`);
  }

  const buffer = new ArrayBuffer(4 * n);
  const out = new Uint32Array(buffer);
  const result = dtype === 'float32' ? new Float32Array(buffer) : new Int32Array(buffer);
  const gaps = fill === null ? undefined : within('gap stream', () => decodeIntStream(bytes.subarray(0, gapBytes), listed));
  const valuePart = bytes.subarray(gapBytes as number);
  const ints = values === 'ints' ? within('value stream', () => decodeIntStream(valuePart, listed)) : undefined;
  const view = new DataView(valuePart.buffer, valuePart.byteOffset, valuePart.byteLength);
  if (fill !== null) out.fill(fill as number);
  const base = offset as number;
  let pos = 0, smallest = Infinity;
  for (let k = 0; k < listed; k++) {
    if (gaps) {
      pos += gaps[k]!;
      if (pos >= n) fail(`gaps run past the ${n} entries (listed entry #${k} at position ${pos})`);
    }
    if (ints) {
      const u = ints[k]!;
      if (u < smallest) smallest = u;
      const v = base + u;
      if (v > hi) fail(`value stream: listed entry #${k} is ${v}, above ${hi}, the ${dtype === 'float32' ? 'exact-integer limit of float32' : 'int32 maximum'}`);
      result[pos] = v;
    } else {
      out[pos] = view.getUint32(4 * k, true);
    }
    if (out[pos] === fill) fail(`listed entry #${k} at position ${pos} equals the fill value`);
    pos++;
  }
  if (ints && smallest !== 0) fail(`sparse encoding: offset ${base} is not the smallest listed value (that is ${base + smallest})`);
  return result;
}
