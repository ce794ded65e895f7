import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ByteLru } from '../src/cache/byte-lru.ts';

test('ByteLru: the least recently used entries go first once the byte budget is passed', () => {
  let now = 0;
  const c = new ByteLru<string, string>(100, 60, () => now);
  assert.ok(c.set('a', 'A', 40, 1_000));
  assert.ok(c.set('b', 'B', 40, 1_000));
  now = 150;
  assert.equal(c.get('a'), 'A', 'a is now the most recently used');
  assert.ok(c.set('c', 'C', 40, 1_000));
  assert.equal(c.get('b'), undefined, 'b was the least recently used');
  assert.equal(c.get('a'), 'A');
  assert.equal(c.get('c'), 'C');
  assert.equal(c.bytes, 80);
  assert.equal(c.evictions, 1);
});

test('ByteLru: reads within 100 ms of the last reorder do not reorder (recency has a 100 ms grain)', () => {
  let now = 0;
  const c = new ByteLru<string, string>(100, 60, () => now);
  c.set('a', 'A', 40, 1_000);
  c.set('b', 'B', 40, 1_000);
  now = 50;
  assert.equal(c.get('a'), 'A');
  c.set('c', 'C', 40, 1_000);
  assert.equal(c.get('a'), undefined, 'a still counted as old as its store');
  assert.equal(c.get('b'), 'B');
});

test('ByteLru: the total never passes the budget, whatever the sequence of sizes', () => {
  const c = new ByteLru<number, number>(1_000, 300, () => 0);
  let seed = 7;
  for (let i = 0; i < 5_000; i++) {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
    c.set(seed % 97, i, seed % 400, 10);
    assert.ok(c.bytes <= 1_000, `at ${i}: ${c.bytes} bytes`);
    assert.ok(c.bytes >= 0);
  }
});

test('ByteLru: objects over the per-object limit or the budget are refused and replace nothing', () => {
  const c = new ByteLru<string, string>(100, 50, () => 0);
  assert.ok(c.set('a', 'A', 50, 1_000));
  assert.equal(c.set('big', 'X', 51, 1_000), false);
  assert.equal(c.get('big'), undefined);
  assert.equal(c.get('a'), 'A', 'a refused object evicts nothing');
  assert.equal(c.set('a', 'A2', 60, 1_000), false, 'an oversized replacement drops the old value too');
  assert.equal(c.get('a'), undefined);
  assert.equal(c.bytes, 0);
});

test('ByteLru: entries expire after their TTL; expired ones are dropped before live ones are evicted', () => {
  let now = 0;
  const c = new ByteLru<string, string>(100, 100, () => now);
  c.set('short', 'S', 40, 10);
  c.set('long', 'L', 40, 1_000);
  now = 9;
  assert.equal(c.get('short'), 'S');
  now = 10;
  assert.equal(c.get('short'), undefined, 'expired at 10');
  c.set('short2', 'S2', 40, 5);
  now = 20;
  // Room is needed: the expired short2 goes, not the live (and older) long.
  c.set('new', 'N', 50, 1_000);
  assert.equal(c.get('long'), 'L');
  assert.equal(c.get('new'), 'N');
  assert.equal(c.evictions, 0, 'dropping expired entries is not an eviction');
  assert.equal(c.set('zero', 'Z', 1, 0), false, 'a TTL of 0 stores nothing');
});

test('ByteLru: grow accounts derived bytes within both limits', () => {
  const c = new ByteLru<string, string>(100, 60, () => 0);
  c.set('a', 'A', 30, 1_000);
  c.set('b', 'B', 30, 1_000);
  assert.ok(c.grow('a', 20));
  assert.equal(c.bytes, 80);
  assert.equal(c.grow('a', 20), false, 'past the per-object limit');
  assert.equal(c.grow('missing', 1), false);
  assert.ok(c.grow('b', 30), 'b fits by evicting a');
  assert.equal(c.get('a'), undefined);
  assert.equal(c.bytes, 60);
  c.clear();
  assert.equal(c.bytes, 0);
  assert.equal(c.size, 0);
  assert.throws(() => new ByteLru(-1, 1), RangeError);
});
