// Wasm wrapper of the batched GEMM kernel (gemm_f32): transposes as strides, split over row or column tiles.
import type { Buf, GemmParams } from '../backend.js';
import type { WasmContext } from './context.js';

/** Register tile of the kernel (gemm3_MR × gemm3_NR in src/kernels/gemm.ts). */
const MR = 3;
const NR = 12;
/** Multiply-adds a thread should get at least before the work is split. */
export const MACS_PER_THREAD = 1 << 17;

/**
 * Batched GEMM: C_b[M,N] (+)= op(A_b)[M,K] · op(B_b)[K,N] (see {@link GemmParams}). Work items are
 * batch × tiles, a tile being NR columns when N spans more tiles than M, else MR rows; results do not
 * depend on the thread count because every tile reduces over K in the same fixed blocks.
 */
export function wasmGemm(ctx: WasmContext, a: Buf, b: Buf, c: Buf, p: GemmParams): void {
  const { batch, m, n, k } = p;
  if (batch <= 0 || m <= 0 || n <= 0) return;
  const rsa = p.transA ? 1 : k;
  const csa = p.transA ? m : 1;
  const rsb = p.transB ? 1 : n;
  const csb = p.transB ? k : 1;
  const tilesM = Math.ceil(m / MR);
  const tilesN = Math.ceil(n / NR);
  const splitN = tilesN >= tilesM;
  const tiles = splitN ? tilesN : tilesM;
  const tileMacs = Math.max(1, (splitN ? NR * m : MR * n) * k);
  const flags = (p.accumulate ? 1 : 0) | (splitN ? 2 : 0);
  ctx.parallel(
    'gemm_f32',
    [a, b, c, m, n, k, rsa, csa, rsb, csb, p.strideA, p.strideB, p.strideC, flags],
    batch * tiles, 1, Math.ceil(MACS_PER_THREAD / tileMacs),
  );
}
