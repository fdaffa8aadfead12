// Bad input: errors that name the op and shapes, index checks, out-of-memory, and IEEE NaN/Inf propagation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../../src/core/ops/index.js';
import { setBackend, tidy } from '../../src/core/engine.js';
import { DTypeError, IndexError, ShapeError } from '../../src/core/errors.js';
import { createWasmBackend } from '../../src/backend/wasm/wasm.js';
import { WasmOutOfMemoryError } from '../../src/backend/wasm/allocator.js';

const int = (v: number[]) => T.tensor(Int32Array.from(v), [v.length], 'int32');

for (const backend of ['ref', 'wasm'] as const) {
  test(`shape and dtype errors name the op and both shapes (${backend})`, () => {
    setBackend(backend);
    tidy(() => {
      assert.throws(() => T.add(T.zeros([2, 3]), T.zeros([4])), (e: Error) => e instanceof ShapeError && /add/.test(e.message) && e.message.includes('[2,3]') && e.message.includes('[4]'));
      assert.throws(() => T.matmul(T.zeros([2, 3]), T.zeros([4, 5])), (e: Error) => e instanceof ShapeError && /matmul/.test(e.message) && e.message.includes('[2,3]') && e.message.includes('[4,5]'));
      assert.throws(() => T.conv2d(T.zeros([1, 5, 5, 3]), T.zeros([3, 3, 2, 4])), (e: Error) => e instanceof ShapeError && /conv2d/.test(e.message) && e.message.includes('[1,5,5,3]') && e.message.includes('[3,3,2,4]'));
      assert.throws(() => T.reshape(T.zeros([2, 3]), [4, 2]), (e: Error) => e instanceof ShapeError && e.message.includes('[2,3]') && e.message.includes('[4,2]'));
      assert.throws(() => T.matmul(int([1, 2]), T.zeros([2, 1])), DTypeError);
      assert.throws(() => T.conv2d(T.zeros([1, 2, 2, 1]), T.zeros([3, 3, 1, 1])), /smaller than the effective kernel/);
    });
  });

  test(`out-of-range indices throw instead of reading garbage (${backend})`, () => {
    setBackend(backend);
    tidy(() => {
      const x = T.range(0, 12);
      assert.throws(() => T.gather(x, int([0, 3, 12, 1])), (e: Error) => e instanceof IndexError && e.message.includes('12') && e.message.includes('position 2'));
      assert.throws(() => T.gather(x, int([-1])), IndexError);
      assert.throws(() => T.scatterAdd(T.ones([2]), int([0, 5]), 5), (e: Error) => e instanceof IndexError && e.message.includes('5'));
      assert.throws(() => T.softmaxCrossEntropy(T.zeros([2, 3]), int([0, 3])), (e: Error) => e instanceof IndexError && e.message.includes('label 3'));
      assert.deepEqual(Array.from(T.gather(x, int([11, 0])).f32()), [11, 0]);
    });
  });

  test(`int32 tensors from non-integers are refused, naming the value and its index (${backend})`, () => {
    setBackend(backend);
    tidy(() => {
      for (const [bad, at] of [[0.7, 1], [NaN, 2], [3e9, 0], [-Infinity, 1]] as const) {
        const v = [4, 5, 6]; v[at] = bad;
        assert.throws(() => T.tensor(v, [3], 'int32'), (e: Error) => e instanceof DTypeError && e.message.includes(`got ${bad} at flat index ${at}`), String(bad));
        assert.throws(() => T.tensor(Float32Array.from(v), [3], 'int32'), DTypeError);
      }
      assert.throws(() => T.tensor([[1, 2], [3, 2.5]], undefined, 'int32'), /got 2.5 at flat index 3/);
      assert.throws(() => T.fill([2], 0.5, 'int32'), /^DTypeError: fill: int32 values must be whole numbers .*got 0.5 \(/);
      assert.deepEqual(Array.from(T.tensor([0, -2147483648, 2147483647, 3], [4], 'int32').data()), [0, -2147483648, 2147483647, 3]);
      assert.deepEqual(Array.from(T.tensor(Float32Array.of(1, 2), [2], 'int32').data()), [1, 2]);
      // Other typed arrays convert like arrays; BigInts, unknown dtypes and odd values are named, not crashed on.
      assert.deepEqual(Array.from(T.tensor(new Float64Array([1.5, -2]), [2]).data()), [1.5, -2]);
      assert.deepEqual(Array.from(T.tensor(Uint8Array.of(3, 255), [2], 'int32').data()), [3, 255]);
      assert.throws(() => T.tensor(new Float64Array([1, NaN]), [2], 'int32'), /got NaN at flat index 1/);
      assert.throws(() => T.tensor(new Uint32Array([4294967295]), [1], 'int32'), /got 4294967295 at flat index 0/);
      assert.throws(() => T.tensor(new BigInt64Array(2) as never, [2]), /^DTypeError: tensor: takes numbers; a BigInt64Array holds BigInts/);
      assert.throws(() => T.tensor([1n] as never, [1], 'int32'), /got the BigInt 1n at flat index 0/);
      assert.throws(() => T.tensor(['3'] as never, [1], 'int32'), /got "3" at flat index 0/);
      assert.throws(() => T.tensor([1.5], [1], 'int64' as never), /^DTypeError: tensor: dtype must be 'float32' or 'int32', got "int64"$/);
      assert.throws(() => T.fill([1], 2.5, 'int64' as never), /^DTypeError: fill: dtype must be 'float32' or 'int32', got "int64"$/);
    });
  });

  test(`NaN and Inf propagate as IEEE says (${backend})`, () => {
    setBackend(backend);
    tidy(() => {
      const x = T.tensor([NaN, Infinity, -Infinity, 0, -1]);
      const ex = Array.from(T.exp(x).f32());
      assert.ok(Number.isNaN(ex[0]));
      assert.deepEqual(ex.slice(1), [Infinity, 0, 1, Math.fround(Math.exp(-1))]);
      const lg = Array.from(T.log(x).f32());
      assert.ok(Number.isNaN(lg[0]) && Number.isNaN(lg[2]) && Number.isNaN(lg[4]));
      assert.equal(lg[1], Infinity);
      assert.equal(lg[3], -Infinity);
      assert.ok(Number.isNaN(T.relu(x).f32()[0]));
      assert.ok(Number.isNaN(T.sum(x).item()));
      assert.ok(Number.isNaN(T.max(x).item()));
      assert.equal(T.max(T.tensor([1, Infinity, 3])).item(), Infinity);
      const mm = T.matmul(T.tensor([[1, Infinity]]), T.tensor([[1], [1]])).item();
      assert.equal(mm, Infinity);
      const sm = Array.from(T.softmax(T.tensor([[0, -Infinity, 0]])).f32());
      assert.deepEqual(sm, [0.5, 0, 0.5]);
      assert.deepEqual(Array.from(T.div(T.tensor([1, -1, 0]), 0).f32()).map(String), ['Infinity', '-Infinity', 'NaN']);
    });
  });
}

test('running out of WebAssembly memory raises a clear error with the requested size', () => {
  const b = createWasmBackend({ threads: 1, maxMemoryBytes: 64 << 20 });
  assert.throws(() => b.alloc(100_000_000, 'float32'), (e: Error) => e instanceof WasmOutOfMemoryError && e.message.includes('400000000 bytes'));
  const small = b.alloc(1000, 'float32');
  b.free(small);
});

test('ops name a bad option, argument or value instead of reading it as something else (padding \'VALID\' ran as \'same\', a misspelt stride was ignored)', () => {
  setBackend('wasm');
  tidy(() => {
    const x = T.ones([1, 5, 5, 2]), w = T.ones([3, 3, 2, 4]);
    const cases: [() => unknown, RegExp][] = [
      [() => T.conv2d(x, w, { padding: 'VALID' as never }), /^ShapeError: conv2d: padding must be 'valid' or 'same', got "VALID"$/],
      [() => T.maxPool2d(x, { padding: 'bogus' as never }), /^ShapeError: maxPool2d: padding must be 'valid' or 'same', got "bogus"$/],
      [() => T.conv2d(x, w, { stride: 2 } as never), /^ArgumentError: conv2d: unknown option 'stride' \(options: strides, padding, dilations\); write it strides$/],
      [() => T.conv2d(x, w, null as never), /^ArgumentError: conv2d: options must be an object/],
      [() => T.conv2d(x, w, { strides: [2] as never }), /^ShapeError: conv2d: strides must be a positive integer or two, got \[2\]$/],
      [() => T.avgPool2d(x, { poolSize: 0 }), /^ShapeError: avgPool2d: poolSize must be a positive integer or two, got 0$/],
      [() => T.conv2d(T.ones([1, 5, 5, 1]), T.ones([0, 1, 1, 1])), /^ShapeError: conv2d: filter \[0,1,1,1\] has no taps/],
      [() => T.conv2d([[1]] as never, w), /^ArgumentError: conv2d: expects tensors, got an array as operand 1/],
      [() => T.add(T.ones([2]), 'a' as never), /^ArgumentError: add: expects tensors, got the string "a" as operand 2/],
      [() => T.matmul(null as never, T.ones([2, 2])), /^ArgumentError: matmul: expects tensors, got null as operand 1/],
      [() => T.attention(T.ones([1, 2, 1, 2]), T.ones([1, 2, 1, 2]), T.ones([1, 2, 1, 2]), { casual: true } as never), /^ArgumentError: attention: unknown option 'casual' .*; write it causal$/],
      [() => T.layerNorm(T.ones([2, 2]), { eps: 1e-5 } as never), /^ArgumentError: layerNorm: unknown option 'eps' .*; write it epsilon$/],
      [() => T.cast(T.ones([3]), 'bool' as never), /^DTypeError: cast: casts to 'float32' or 'int32', got "bool"$/],
      [() => T.oneHot(int([0, 1]), 2.5), /^RangeError: oneHot: depth must be an integer ≥ 0, got 2\.5$/],
      [() => T.biasAct(T.ones([1, 2]), T.zeros([2]), 'swish' as never), /^RangeError: biasAct: activation must be one of linear, relu, sigmoid, tanh, gelu, got "swish"$/],
      [() => T.randomNormal([2], undefined as never), /^ArgumentError: randomNormal: options must be an object \{ seed, mean, stddev \}, got undefined$/],
      [() => T.randomUniform([2], { seed: '1' } as never), /^RangeError: randomUniform: options\.seed must be a finite number/],
      [() => T.causalMask(-1, 2), /^RangeError: causalMask: query steps must be an integer ≥ 0, got -1$/],
      [() => T.range(0, 1e12), /^RangeError: range: 1000000000000 elements are more than a tensor can hold \(at most 2\^30\)$/],
      [() => T.range(0, NaN), /^RangeError: range: stop must be a finite number, got NaN$/],
    ];
    for (const [f, re] of cases) assert.throws(f, (e: Error) => re.test(`${e.name}: ${e.message}`), re.source);
    // What they take still works: 'same' with two strides, pooling's defaults, oneHot's zero row for a label past depth (TF).
    assert.deepEqual(T.conv2d(x, w, { padding: 'same', strides: [1, 2] }).shape, [1, 5, 3, 4]);
    assert.deepEqual(T.maxPool2d(x, {}).shape, [1, 2, 2, 2]);
    assert.deepEqual(Array.from(T.oneHot(int([0, 2, 7]), 3).data()), [1, 0, 0, 0, 0, 1, 0, 0, 0]);
  });
});

test('quote writes non-finite numbers inside objects and arrays as themselves (JSON made them null)', async () => {
  const { quote } = await import('../../src/core/errors.js');
  assert.equal(quote({ rank: NaN }), '{"rank":NaN}');
  assert.equal(quote([1, -Infinity, Infinity]), '[1,-Infinity,Infinity]');
  assert.equal(quote(NaN), 'NaN');
  assert.equal(quote({ a: 'x' }), '{"a":"x"}');
});
