// Sharing maps as ONNX subgraphs: W = φ(θ) written compactly (codebooks as Gather of codes, hashing as Gather of buckets, …).
import { sizeOf } from '../../core/shape.js';
import { CodebookMap } from '../../sharing/codebook.js';
import { DenseMap } from '../../sharing/dense.js';
import { HashedMap } from '../../sharing/hashed.js';
import { LowRankMap } from '../../sharing/low-rank.js';
import { TiedMap } from '../../sharing/tied.js';
import type { WeightMap } from '../../sharing/weight-map.js';
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
    return [this.float(`${path}/u`, u.value.shape, u.value.f32()), this.float(`${path}/v`, v.value.shape, v.value.f32())];
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
      const uv = g.node('MatMul', [this.float(`${path}/u`, u.value.shape, u.value.f32()), this.float(`${path}/v`, v.value.shape, v.value.f32())], `${path}/uv`);
      return g.node('Reshape', [uv, g.int64s(`${path}/shape`, map.shape)], path);
    }
    this.o.onNote?.(`${path}: a '${map.kind}' map has no compact ONNX form here; written as its dense float32 W (${sizeOf(map.shape)} values)`);
    return this.float(path, map.shape, valuesOf(map));
  }

  /**
   * W = Gather([centroids, 0], codes): codes as UINT8 (K + 1 ≤ 256) or UINT16, cast to INT32 for Gather. A pruned map
   * whose kept weights are sparse enough stores only those: UINT8 gaps between kept positions (a gap over 255 gets a
   * filler pointing at the zero) and their codes, rebuilt as ScatterND(zeros, CumSum(gaps), Gather(table, codes)).
   */
  private codebook(map: CodebookMap, path: string): string {
    const g = this.g;
    const k = map.clusters;
    const codes = Int32Array.from(map.buffers().get('codes')!.data());
    const pruned = codes.some((c) => c === k);
    const centroids = map.parameters()[0].value.f32();
    const table = pruned ? Float32Array.from([...centroids, 0]) : centroids;
    const t = this.float(`${path}/centroids`, [table.length], table);
    const codeType: OnnxDType = table.length <= 256 ? 'uint8' : 'uint16';
    const width = codeType === 'uint8' ? 1 : 2;
    const shape = g.int64s(`${path}/shape`, map.shape);
    const gaps: number[] = [], kept: number[] = [];
    if (pruned) {
      let last = 0;
      for (let i = 0; i < codes.length; i++) {
        if (codes[i] === k) continue;
        while (i - last > 255) (last += 255), gaps.push(255), kept.push(k);
        gaps.push(i - last), kept.push(codes[i]);
        last = i;
      }
    }
    if (pruned && gaps.length * (1 + width) < codes.length * width) {
      const gapValues = g.initializer(`${path}/gaps`, 'uint8', [gaps.length], Uint8Array.from(gaps));
      const pos = g.node('CumSum', [g.node('Cast', [gapValues], `${path}/gaps32`, { to: dataType('int32') }), g.int64s(`${path}/axis`, [0])], `${path}/positions32`);
      const index = g.node('Unsqueeze', [g.node('Cast', [pos], `${path}/positions`, { to: dataType('int64') }), g.int64s(`${path}/last`, [1])], `${path}/index`);
      const values = g.node('Gather', [t, this.codes(`${path}/codes`, codeType, kept)], `${path}/values`);
      const zeros = g.node('ConstantOfShape', [g.int64s(`${path}/size`, [codes.length])], `${path}/zeros`);
      return g.node('Reshape', [g.node('ScatterND', [zeros, index, values], `${path}/flat`), shape], path);
    }
    return g.node('Reshape', [g.node('Gather', [t, this.codes(`${path}/codes`, codeType, codes)], `${path}/flat`), shape], path);
  }

  /** W[i] = ξ(i)·θ[h(i)] as one Gather from [θ, −θ] (sign folded into the index), indices UINT16 when 2K ≤ 65,536 else INT32. */
  private hashed(map: HashedMap, path: string): string {
    const g = this.g;
    const k = map.buckets;
    const { index, sign } = map.tables();
    const theta = this.float(`${path}/theta`, [k], map.parameters()[0].value.f32());
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
