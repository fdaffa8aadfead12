// Wasm wrappers of the fused attention kernels (Kernels.attention, attentionGrad): one (sample, head) per work item.
import type { AttentionParams, Buf } from '../backend.js';
import { SCRATCH_BYTES, type WasmContext } from './context.js';

/** Multiply-adds an item should bring before items are split over threads (an item does 2·tq·tv·(dk + dv) of them). */
const MACS_PER_THREAD = 1 << 17;

const roundUp = (x: number, m: number): number => Math.ceil(x / m) * m;

/** Scratch bytes one item needs: attn_fused_scratch and attn_fused_grad_scratch of src/kernels/attention.ts. */
export function attentionScratch(a: AttentionParams): number {
  const tq4 = roundUp(a.tq, 4), tv4 = roundUp(a.tv, 4), tv8 = roundUp(a.tv, 8), dk8 = roundUp(a.dk, 8), dv8 = roundUp(a.dv, 8);
  const forward = tq4 * dk8 + a.dk * tv8 + a.tv * dv8 + tq4 * tv8 + tq4 * dv8;
  const backward = tq4 * dk8 + a.tv * dk8 + a.dv * tv8 + tq4 * dv8 + 2 * tq4 * tv8 + Math.max(tq4, tv4) * Math.max(dk8, dv8);
  return 4 * Math.max(forward, backward);
}

/** Whether the kernels take this geometry: non-empty, and one item's operands fit a thread's scratch. */
export function wasmFusedAttention(a: AttentionParams): boolean {
  return a.n > 0 && a.heads > 0 && a.tq > 0 && a.tv > 0 && a.dk > 0 && a.dv > 0 && attentionScratch(a) <= SCRATCH_BYTES;
}

function layout(ctx: WasmContext, a: AttentionParams): number {
  const [q, k, v] = a.layout;
  return ctx.params([a.heads, a.tq, a.tv, a.dk, a.dv, a.causal ? 1 : 0, q.offset, q.step, q.sample, k.offset, k.step, k.sample, v.offset, v.step, v.sample]);
}

function minItems(a: AttentionParams): number {
  return Math.max(1, Math.ceil(MACS_PER_THREAD / (a.tq * a.tv * (a.dk + a.dv))));
}

export function wasmAttention(ctx: WasmContext, q: Buf, k: Buf, v: Buf, o: Buf, p: Buf, a: AttentionParams): void {
  ctx.parallel('attn_fused', [q, k, v, o, p, layout(ctx, a), a.scale], a.n * a.heads, 1, minItems(a));
}

export function wasmAttentionGrad(ctx: WasmContext, go: Buf, q: Buf, k: Buf, v: Buf, p: Buf, dq: Buf, dk: Buf, dv: Buf, a: AttentionParams): void {
  ctx.parallel('attn_fused_grad', [go, q, k, v, p, dq, dk, dv, layout(ctx, a), a.scale], a.n * a.heads, 1, minItems(a));
}
