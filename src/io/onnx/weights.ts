// Sharing maps as ONNX subgraphs: W = φ(θ) written compactly (codebooks as Gather of codes, hashing as Gather of buckets, …).
import { sizeOf } from '../../core/shape.js';
import { CodebookMap } from '../../sharing/codebook.js';
import { DenseMap } from '../../sharing/dense.js';
import { HashedMap } from '../../sharing/hashed.js';
import { LowRankMap } from '../../sharing/low-rank.js';
import { TiedMap } from '../../sharing/tied.js';
import type { WeightMap, WeightMapConfig } from '../../sharing/weight-map.js';
import { valuesOf } from '../../transforms/select.js';
import { type OnnxDType, type OnnxGraph, dataType } from './builder.js';

/** How weights are written. */
export interface WeightWriterOptions {
  /** Write every shared weight as its dense float32 W (tying is still one initializer). */
  materialize?: boolean;
  /** Called with a one-line note when a map is written as its dense W because ONNX has no compact form for it here. */
  onNote?: (message: string) => void;
}

/**
 * Writes each distinct map once (a tied weight or a reused layer gets the same value) and returns the name of
 * the value holding W in our layout (Dense [in, units], Conv2D HWIO, …). Every subgraph takes initializers only,
 * so runtimes fold it once when they load the model.
 */
export class WeightWriter {
  private readonly done = new Map<WeightMap, string>();
  /** [1, 2, 4, …, 128] (int32), shared by every bit-unpacking subgraph. */
  private pow2: string | undefined;
  /**
   * The recipe of each compact map by the name of its θ initializer (centroids, theta, u): kind, seeds and settings, written
   * as the file's metadata so that import restores the map exactly (a hashed map's seed is in no tensor).
   */
  readonly recipes: Record<string, WeightMapConfig> = {};

  constructor(private readonly g: OnnxGraph, private readonly o: WeightWriterOptions = {}) {}

  /** The value of W for `map`, the weight `path` ('layer/weight'). */
  value(map: WeightMap, path: string): string {
    let v = this.done.get(map);
    if (v === undefined) {
      v = this.write(map, path);
      this.done.set(map, v);
    }
    return v;
  }

  /** For a low-rank map written as two factors (a Dense kernel): [U, V] as initializers, else undefined. */
  factors(map: WeightMap, path: string): [string, string] | undefined {
    if (this.o.materialize || !(map instanceof LowRankMap)) return undefined;
    const [u, v] = map.parameters();
    if (u.value.shape[0] !== map.shape[0] || map.shape.length !== 2) return undefined;
    const uv: [string, string] = [this.float(`${path}/u`, u.value.shape, u.value.f32()), this.float(`${path}/v`, v.value.shape, v.value.f32())];
    this.recipes[uv[0]] = map.toJSON();
    return uv;
  }

  private float(stem: string, shape: readonly number[], data: Float32Array): string {
    return this.g.initializer(stem, 'float32', shape, data);
  }

  private write(map: WeightMap, path: string): string {
    const g = this.g;
    if (map instanceof TiedMap) {
      const src = this.value(map.source, map.to);
      return map.transposed ? g.node('Transpose', [src], `${path}/transposed`, { perm: [1, 0] }) : src;
    }
    if (map instanceof DenseMap || this.o.materialize) return this.float(path, map.shape, valuesOf(map));
    if (map instanceof CodebookMap) return this.codebook(map, path);
    if (map instanceof HashedMap) return this.hashed(map, path);
    if (map instanceof LowRankMap) {
      const [u, v] = map.parameters();
      const un = this.float(`${path}/u`, u.value.shape, u.value.f32());
      this.recipes[un] = map.toJSON();
      const uv = g.node('MatMul', [un, this.float(`${path}/v`, v.value.shape, v.value.f32())], `${path}/uv`);
      return g.node('Reshape', [uv, g.int64s(`${path}/shape`, map.shape)], path);
    }
    this.o.onNote?.(`${path}: a '${map.kind}' map has no compact ONNX form here; written as its dense float32 W (${sizeOf(map.shape)} values)`);
    return this.float(path, map.shape, valuesOf(map));
  }

  /**
   * W = Gather([centroids, 0], codes): codes of ⌈log2 K⌉ < 8 bits bit-packed into a UINT8 tensor and unpacked in the
   * graph, else UINT8 (K + 1 ≤ 256) or UINT16 cast to INT32 for Gather. A pruned map
   * whose kept weights are sparse enough stores only those, Deep Compression's way: the gaps between kept positions and
   * their codes, each bit-packed at the narrowest width (a gap over the widest that width holds gets a filler pointing
   * at the zero), rebuilt as ScatterND(zeros, CumSum(gaps), Gather(table, codes)).
   */
  private codebook(map: CodebookMap, path: string): string {
    const g = this.g;
    const k = map.clusters;
    const codes = Int32Array.from(map.buffers().get('codes')!.data());
    const pruned = codes.some((c) => c === k);
    const centroids = map.parameters()[0].value.f32();
    const table = pruned ? Float32Array.from([...centroids, 0]) : centroids;
    const t = this.float(`${path}/centroids`, [table.length], table);
    this.recipes[t] = map.toJSON();
    const codeType: OnnxDType = table.length <= 256 ? 'uint8' : 'uint16';
    const width = codeType === 'uint8' ? 1 : 2;
    const shape = g.int64s(`${path}/shape`, map.shape);
    const sparse = pruned && codeType === 'uint8' ? sparseCodes(codes, k) : undefined;
    if (sparse && sparse.bytes < codes.length * width) {
      const gaps = this.unpack(`${path}/gaps`, sparse.gaps, sparse.gapBits);
      const pos = g.node('CumSum', [gaps, g.int64s(`${path}/axis`, [0])], `${path}/positions32`);
      const index = g.node('Unsqueeze', [g.node('Cast', [pos], `${path}/positions`, { to: dataType('int64') }), g.int64s(`${path}/last`, [1])], `${path}/index`);
      const values = g.node('Gather', [t, this.unpack(`${path}/codes`, sparse.codes, sparse.codeBits)], `${path}/values`);
      const zeros = g.node('ConstantOfShape', [g.int64s(`${path}/size`, [codes.length])], `${path}/zeros`);
      return g.node('Reshape', [g.node('ScatterND', [zeros, index, values], `${path}/flat`), shape], path);
    }
    const bits = Math.max(1, Math.ceil(Math.log2(table.length)));
    const index = bits < 8 ? this.unpack(`${path}/codes`, codes, bits) : this.codes(`${path}/codes`, codeType, codes);
    return g.node('Reshape', [g.node('Gather', [t, index], `${path}/flat`), shape], path);
  }

  /**
   * m integers of `bits` (≤ 8) bits each, packed LSB first into a UINT8 initializer (plus one pad byte), and the INT32
   * value that unpacks them: v[j] = (B[⌊jb/8⌋] + 256·B[⌊jb/8⌋ + 1]) / 2^(jb mod 8) mod 2^b.
   */
  private unpack(stem: string, values: ArrayLike<number>, bits: number): string {
    const g = this.g;
    const m = values.length;
    const packed = new Uint8Array(Math.ceil((m * bits) / 8) + 1);
    for (let j = 0; j < m; j++) {
      for (let b = 0; b < bits; b++) if ((values[j] >> b) & 1) packed[(j * bits + b) >> 3] |= 1 << ((j * bits + b) & 7);
    }
    const t = (op: string, ...inputs: string[]): string => g.temp(op, inputs);
    const bytes = g.temp('Cast', [g.initializer(stem, 'uint8', [packed.length], packed)], { to: dataType('int32') });
    const bit = t('Mul', t('Range', g.int32(0), g.int32(m), g.int32(1)), g.int32(bits));
    const at = t('Div', bit, g.int32(8));
    const word = t('Add', t('Gather', bytes, at), t('Mul', t('Gather', bytes, t('Add', at, g.int32(1))), g.int32(256)));
    const pow2 = (this.pow2 ??= g.initializer('int32_powers_of_2', 'int32', [8], Int32Array.of(1, 2, 4, 8, 16, 32, 64, 128)));
    return g.node('Mod', [t('Div', word, t('Gather', pow2, t('Mod', bit, g.int32(8)))), g.int32(1 << bits)], `${stem}/values`);
  }

  /** W[i] = ξ(i)·θ[h(i)] as one Gather from [θ, −θ] (sign folded into the index), indices UINT16 when 2K ≤ 65,536 else INT32. */
  private hashed(map: HashedMap, path: string): string {
    const g = this.g;
    const k = map.buckets;
    const { index, sign } = map.tables();
    const theta = this.float(`${path}/theta`, [k], map.parameters()[0].value.f32());
    this.recipes[theta] = map.toJSON();
    let table = theta;
    const idx = Int32Array.from(index);
    if (sign) {
      table = g.node('Concat', [theta, g.node('Neg', [theta], `${path}/neg_theta`)], `${path}/signed_theta`, { axis: 0 });
      for (let i = 0; i < idx.length; i++) if (sign[i] < 0) idx[i] += k;
    }
    const rows = sign ? 2 * k : k;
    const flat = g.node('Gather', [table, this.codes(`${path}/index`, rows <= 256 ? 'uint8' : rows <= 65536 ? 'uint16' : 'int32', idx)], `${path}/flat`);
    return g.node('Reshape', [flat, g.int64s(`${path}/shape`, map.shape)], path);
  }

  /** Small non-negative integers stored in `dtype` and cast to INT32 for Gather. */
  private codes(stem: string, dtype: OnnxDType, values: ArrayLike<number>): string {
    const data = dtype === 'uint8' ? Uint8Array.from(values) : dtype === 'uint16' ? Uint16Array.from(values) : Int32Array.from(values);
    const v = this.g.initializer(stem, dtype, [values.length], data);
    return dtype === 'int32' ? v : this.g.node('Cast', [v], `${stem}32`, { to: dataType('int32') });
  }
}

/**
 * The kept positions of a pruned codebook's codes (code K = pruned) as gaps (the first from 0) and codes, at the gap
 * width in 1…8 bits that makes the fewest bits; a gap wider than 2^gapBits − 1 is split by fillers with code K.
 */
export function sparseCodes(codes: Int32Array, k: number): { gaps: number[]; codes: number[]; gapBits: number; codeBits: number; bytes: number } {
  const codeBits = Math.max(1, Math.ceil(Math.log2(k + 1)));
  const at: number[] = [];
  for (let i = 0; i < codes.length; i++) if (codes[i] !== k) at.push(i);
  let best = { gapBits: 8, bits: Infinity };
  for (let gb = 1; gb <= 8; gb++) {
    const max = (1 << gb) - 1;
    let entries = 0, last = 0;
    for (const i of at) entries += 1 + (i - last > max ? Math.ceil((i - last) / max) - 1 : 0), (last = i);
    if (entries * (gb + codeBits) < best.bits) best = { gapBits: gb, bits: entries * (gb + codeBits) };
  }
  const max = (1 << best.gapBits) - 1;
  const gaps: number[] = [], kept: number[] = [];
  let last = 0;
  for (const i of at) {
    while (i - last > max) (last += max), gaps.push(max), kept.push(k);
    gaps.push(i - last), kept.push(codes[i]);
    last = i;
  }
  return { gaps, codes: kept, gapBits: best.gapBits, codeBits, bytes: Math.ceil(best.bits / 8) + 2 };
}
