// The wasm allocator: size classes, reuse, and — once memory cannot grow — split and merged free blocks, so memory
// freed at one set of shapes serves another (a GPT evaluated at batch 64 after training at batch 32 ran out of memory
// with a quarter of it in use). Checked on a small memory against a shadow of the live blocks: no two overlap.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Allocator, sizeClass, WasmOutOfMemoryError } from '../../src/backend/wasm/allocator.js';
import { Rng } from '../helpers/random.js';

const KIB = 1024, PAGE = 65536;

function small(pages: number): { a: Allocator; memory: WebAssembly.Memory } {
  const memory = new WebAssembly.Memory({ initial: 1, maximum: pages });
  return { a: new Allocator(memory, 0, pages * PAGE), memory };
}

describe('wasm allocator', () => {
  test('blocks freed at one size serve a larger one once memory is full: adjacent free blocks merge', () => {
    const { a } = small(16); // 1 MiB
    const blocks = Array.from({ length: 4 }, () => a.alloc(240 * KIB));
    assert.throws(() => a.alloc(300 * KIB), WasmOutOfMemoryError);
    for (const b of blocks) a.free(b);
    assert.equal(a.bytesInUse(), 0);
    const big = a.alloc(900 * KIB);
    assert.equal(big, blocks[0], 'the merged run starts at the first block');
    a.free(big);
    // Merged blocks ending at the top went back to it: the bump space serves a request that no single old block could.
    const again = a.alloc(1000 * KIB);
    assert.equal(again, blocks[0]);
  });

  test('a larger free block is split, the rest staying free; blocks in use are never merged', () => {
    const { a } = small(16);
    const x = a.alloc(400 * KIB), y = a.alloc(100 * KIB), z = a.alloc(400 * KIB);
    assert.throws(() => a.alloc(200 * KIB), WasmOutOfMemoryError);
    a.free(x);
    const p = a.alloc(150 * KIB), q = a.alloc(200 * KIB);
    assert.equal(p, x);
    assert.equal(q, x + sizeClass(150 * KIB), 'the rest of the split block');
    assert.equal(a.bytesInUse(), sizeClass(150 * KIB) + sizeClass(200 * KIB) + sizeClass(100 * KIB) + sizeClass(400 * KIB));
    // y sits between x's pieces and z: freeing z and the pieces must not merge across it.
    a.free(p); a.free(q); a.free(z);
    assert.throws(() => a.alloc(900 * KIB), WasmOutOfMemoryError);
    a.free(y);
    assert.equal(a.alloc(900 * KIB), x);
  });

  test('random allocations and frees at the limit: live blocks never overlap and stay inside memory', () => {
    const { a, memory } = small(32);
    const rng = new Rng(7);
    const live = new Map<number, number>();
    let failures = 0, merges = 0;
    for (let i = 0; i < 4000; i++) {
      if (live.size > 0 && rng.uniform() < 0.45) {
        const keys = [...live.keys()];
        const k = keys[Math.floor(rng.uniform() * keys.length)];
        a.free(k);
        live.delete(k);
        continue;
      }
      const bytes = Math.floor(2 ** (6 + rng.uniform() * 13)); // 64 B … 512 KiB
      let ptr: number;
      try {
        ptr = a.alloc(bytes);
      } catch (e) {
        assert.ok(e instanceof WasmOutOfMemoryError);
        failures++;
        continue;
      }
      if (bytes > 64 * KIB) merges++;
      assert.equal(ptr % 64, 0, 'aligned');
      assert.ok(ptr + bytes <= memory.buffer.byteLength, 'inside memory');
      for (const [p, n] of live) assert.ok(ptr + bytes <= p || p + n <= ptr, `block [${ptr}, +${bytes}) overlaps [${p}, +${n})`);
      live.set(ptr, bytes);
    }
    assert.ok(failures > 0 && merges > 0, 'the run reached the memory limit');
    for (const p of live.keys()) a.free(p);
    assert.equal(a.bytesInUse(), 0);
    assert.equal(a.alloc(31 * PAGE), 0, 'everything freed merges back into one block');
  });
});
