// Buffer aliases (Backend.alias): a handle at an element offset that shares memory and dies with its buffer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Backend } from '../../src/backend/backend.js';
import { RefBackend } from '../../src/backend/ref/ref.js';
import { createWasmBackend } from '../../src/backend/wasm/wasm.js';

const backends: Backend[] = [new RefBackend(), createWasmBackend({ threads: 2 })];

for (const be of backends) {
  test(`alias shares memory, kernels run through it, bytesInUse ignores it (${be.name})`, () => {
    const before = be.bytesInUse();
    const buf = be.alloc(7, 'float32');
    be.write(buf, Float32Array.from([0, 1, 2, 3, 4, 5, 6]));
    const inUse = be.bytesInUse();
    const at3 = be.alias(buf, 3);
    assert.equal(be.bytesInUse(), inUse);
    assert.equal(be.alias(buf, 0), buf);
    assert.deepEqual(Array.from(be.read(at3, 'float32', 4)), [3, 4, 5, 6]);
    // An alias of an alias adds the offsets.
    assert.deepEqual(Array.from(be.read(be.alias(at3, 2), 'float32', 2)), [5, 6]);
    // A kernel writing through the alias (in place, y = a) changes the buffer.
    be.binary('add', at3, at3, at3, { shape: [2], strides: [[1], [1]] });
    be.write(be.alias(buf, 6), Float32Array.from([-1]));
    assert.deepEqual(Array.from(be.read(buf, 'float32', 7)), [0, 1, 2, 6, 8, 5, -1]);
    // Size-0 alias at the very end.
    assert.equal(be.read(be.alias(buf, 7), 'float32', 0).length, 0);
    be.free(buf);
    assert.equal(be.bytesInUse(), before);
  });
}

test('ref: aliases are cached per offset, die with their buffer, and cannot be freed alone', () => {
  const be = new RefBackend();
  const buf = be.alloc(5, 'int32');
  const a = be.alias(buf, 2);
  assert.equal(be.alias(buf, 2), a);
  assert.equal(be.alias(be.alias(buf, 1), 1), a);
  assert.throws(() => be.free(a), /alias of buffer/);
  assert.throws(() => be.alias(buf, 6), RangeError);
  be.free(buf);
  assert.throws(() => be.read(a, 'int32', 1), /unknown or freed/);
  assert.equal(be.bytesInUse(), 0);
});
