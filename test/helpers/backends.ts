// Running one kernel call on a backend from host arrays: upload, run, read back, free, check for leaks.

import assert from 'node:assert/strict';
import { after } from 'node:test';
import type { Backend, Buf, DType } from '../../src/backend/backend.js';
import { createWasmBackend, type WasmBackend } from '../../src/backend/wasm/wasm.js';
import type { Arr } from './compare.js';

/** An output buffer: its length and dtype, and optionally initial contents (for accumulate / scatterAdd). */
export interface OutSpec {
  length: number;
  dtype: DType;
  init?: Arr;
}

/** Float32 output of `length` elements (optionally pre-filled). */
export function f32Out(length: number, init?: Float32Array): OutSpec {
  return { length, dtype: 'float32', init };
}

/** Int32 output of `length` elements. */
export function i32Out(length: number): OutSpec {
  return { length, dtype: 'int32' };
}

/** What one call gave: the outputs read back and the kernel's return value. */
export interface RunResult<R> {
  outs: Arr[];
  ret: R;
}

/**
 * Uploads `inputs`, allocates `outputs` (written with `init`, or with a fill pattern so stale data shows),
 * calls `fn(handles)` with the input handles followed by the output handles, reads the outputs back and
 * frees everything; asserts that bytesInUse() returns to its value before the call.
 */
export function runOn<R>(be: Backend, inputs: readonly Arr[], outputs: readonly OutSpec[], fn: (bufs: Buf[]) => R): RunResult<R> {
  const before = be.bytesInUse();
  const bufs: Buf[] = [];
  for (const data of inputs) {
    const buf = be.alloc(data.length, data instanceof Int32Array ? 'int32' : 'float32');
    if (data.length > 0) be.write(buf, data);
    bufs.push(buf);
  }
  for (const o of outputs) {
    const buf = be.alloc(o.length, o.dtype);
    const init = o.init ?? (o.dtype === 'int32' ? new Int32Array(o.length).fill(-7) : new Float32Array(o.length).fill(-7.25));
    if (o.length > 0) be.write(buf, init);
    bufs.push(buf);
  }
  const ret = fn(bufs);
  const outs = outputs.map((o, i) => be.read(bufs[inputs.length + i], o.dtype, o.length));
  for (const buf of bufs) be.free(buf);
  assert.equal(be.bytesInUse(), before, `${be.name}: bytesInUse did not return to ${before} after freeing`);
  return { outs, ret };
}

/** Element-wise |x| (for the Σ|terms| scale of a sum's tolerance). */
export function abs(a: Float32Array): Float32Array {
  return a.map(Math.abs);
}

/** A function running the same call on `first` and `second`; it returns [first's result, second's result]. */
export function pairOn(first: Backend, second: Backend) {
  return <R>(inputs: Arr[], outs: OutSpec[], call: (be: Backend, bufs: Buf[]) => R): readonly [RunResult<R>, RunResult<R>] =>
    [runOn(first, inputs, outs, (b) => call(first, b)), runOn(second, inputs, outs, (b) => call(second, b))] as const;
}

/** Wasm backends with the given thread counts (for comparing threads against each other), disposed after the test file. */
export function wasmBackends(...threads: number[]): WasmBackend[] {
  const bes = threads.map((t) => createWasmBackend({ threads: t }));
  after(() => {
    for (const be of bes) be.dispose();
  });
  return bes;
}
