// LocallyConnected2D: Conv2D's connectivity with a separate kernel at every output position (no sharing across space).
import { keep } from '../../core/engine.js';
import { add, conv2d, matmul, reshape, tensor, transpose } from '../../core/ops/index.js';
import type { Random } from '../../core/random.js';
import { conv2dParams, type Shape } from '../../core/shape.js';
import type { Tensor } from '../../core/tensor.js';
import { activate } from '../activations.js';
import { type CallContext, registerLayer } from '../layer.js';
import { type WindowedLayerOptions, WindowedLayer } from './conv2d.js';

/** Options of {@link LocallyConnected2D} (Keras names; those of Conv2D without dilation). */
export type LocallyConnected2DOptions = WindowedLayerOptions;

/**
 * Unshared convolution: kernel [OH·OW, KH·KW·C, filters] (Keras layout), bias [OH, OW, filters].
 * Each output position has its own filters, so the layer has OH·OW times Conv2D's kernel parameters:
 * the difference is what convolution's weight sharing saves. Kernels are initialised with the fans of one
 * position (KH·KW·C in, KH·KW·filters out), as Conv2D, so both start at the same scale.
 */
export class LocallyConnected2D extends WindowedLayer {
  readonly className = 'LocallyConnected2D';
  readonly defaultName = 'locally_connected2d';
  /** The constant one-hot filter [KH, KW, C, KH·KW·C] that extracts patches with one convolution. */
  private patchFilter: Tensor | undefined;

  constructor(o: LocallyConnected2DOptions) {
    super(o, 'locally_connected2d');
  }

  private geometry(s: Shape): { oh: number; ow: number; k: number } {
    if (s.length !== 3) throw this.shapeError(`needs inputs [N, H, W, C], got per-sample shape [${s.join(',')}]`);
    try {
      const p = conv2dParams(this.name, [1, ...s], [...this.kernelSize, s[2], this.filters], { strides: this.strides, padding: this.padding });
      return { oh: p.oh, ow: p.ow, k: this.kernelSize[0] * this.kernelSize[1] * s[2] };
    } catch (e) {
      throw this.shapeError(`input [${s.join(',')}] does not fit: ${(e as Error).message.replace(/^[\w/]*: /, '')}`);
    }
  }

  outputShape(s: Shape): number[] {
    const { oh, ow } = this.geometry(s);
    return [oh, ow, this.filters];
  }

  protected override createWeights(s: Shape, rng: Random): void {
    const { oh, ow, k } = this.geometry(s);
    const [kh, kw] = this.kernelSize;
    this.addWeight('kernel', [oh * ow, k, this.filters], this.kernelInitializer, rng, { role: 'kernel', fans: { fanIn: k, fanOut: kh * kw * this.filters } });
    if (this.useBias) this.addWeight('bias', [oh, ow, this.filters], this.biasInitializer, rng, { role: 'bias' });
    // k² values: a config's channel count can make it far larger than the kernel, so a loader checks it first.
    if (!this.mayAllocateConstant('patchFilter', [kh, kw, s[2], k])) return;
    const eye = new Float32Array(k * k);
    for (let i = 0; i < k; i++) eye[i * k + i] = 1;
    this.patchFilter = keep(tensor(eye, [kh, kw, s[2], k]));
  }

  call(x: Tensor, ctx: CallContext): Tensor {
    const { oh, ow, k } = this.geometry(x.shape.slice(1));
    const n = x.shape[0];
    const patches = conv2d(x, this.patchFilter!, { strides: this.strides, padding: this.padding });
    const byPosition = transpose(reshape(patches, [n, oh * ow, k]), [1, 0, 2]);
    const y = transpose(matmul(byPosition, this.w('kernel')), [1, 0, 2]);
    let out = reshape(y, [n, oh, ow, this.filters]);
    if (this.useBias) out = add(out, this.w('bias'));
    return activate(out, this.activation, ctx.logits);
  }

  protected config(): Record<string, unknown> {
    return this.windowConfig();
  }

  override dispose(): void {
    super.dispose();
    this.patchFilter?.dispose();
    this.patchFilter = undefined;
  }
}

registerLayer('LocallyConnected2D', (c) => new LocallyConnected2D(c as unknown as LocallyConnected2DOptions));
