// The seeded generator: the same seed gives the same numbers (pinned for seeds in [0, 2³²), which every recorded run
// used), and distinct seeds outside that range do not fall on the same stream (−1 gave the stream of 0, as did 2³² + 1).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Random } from '../../src/core/random.js';

test('seeds in [0, 2³²) give their recorded streams; negative and large seeds get streams of their own', () => {
  const first = (seed: number): number => new Random(seed).nextUint32();
  assert.deepEqual([0, 1, 5, 123456789, 2 ** 32 - 1].map(first), [3809008728, 2442144158, 3616982058, 4284103975, 835879718]);
  const seeds = [...Array.from({ length: 20 }, (_, i) => i), ...Array.from({ length: 20 }, (_, i) => -1 - i), ...Array.from({ length: 20 }, (_, i) => 2 ** 32 + i), 2 ** 40, 2 ** 40 + 1, -(2 ** 40)];
  const streams = new Map<string, number>();
  for (const s of seeds) {
    const r = new Random(s);
    const key = [r.nextUint32(), r.nextUint32()].join(',');
    assert.equal(streams.get(key), undefined, `seeds ${streams.get(key)} and ${s} give the same stream`);
    streams.set(key, s);
  }
  assert.equal(first(3.7), first(3), 'a fractional seed is floored');
  assert.throws(() => new Random(Number.NaN), /seed must be a finite number/);
});
