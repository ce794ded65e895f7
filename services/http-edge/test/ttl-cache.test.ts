import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TtlCache } from '../src/ttl-cache.ts';

test('TtlCache: entries expire after the TTL, the oldest is evicted past the cap', () => {
  let now = 1_000;
  const c = new TtlCache<string, number>(100, 2, () => now);
  c.set('a', 1);
  now += 50;
  c.set('b', 2);
  assert.equal(c.get('a'), 1);
  now += 10;
  c.set('c', 3); // expires at 1160
  assert.equal(c.size, 2);
  assert.equal(c.get('a'), undefined, 'evicted as the oldest');
  now = 1_149;
  assert.equal(c.get('b'), 2);
  now = 1_155;
  assert.equal(c.get('b'), undefined, 'expired at 1150');
  assert.equal(c.get('c'), 3);
  c.delete('c');
  assert.equal(c.get('c'), undefined);
});

test('TtlCache: a zero TTL caches nothing; bad bounds are refused', () => {
  const c = new TtlCache<string, number>(0, 10);
  c.set('a', 1);
  assert.equal(c.get('a'), undefined);
  assert.throws(() => new TtlCache(-1, 1), RangeError);
  assert.throws(() => new TtlCache(1, 0), RangeError);
});
