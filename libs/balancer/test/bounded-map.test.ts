import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BoundedMap } from '../src/bounded-map.ts';

describe('BoundedMap', () => {
  it('expires entries ttl after their last write or refresh', () => {
    const m = new BoundedMap<string, number>(100, 10);
    m.set('a', 1, 0);
    assert.equal(m.get('a', 99), 1);
    assert.equal(m.peek('a', 150), 1, 'refreshed at 99 → lives until 199');
    assert.equal(m.peek('a', 199), undefined);
    assert.equal(m.size, 0, 'an expired read removes the entry');
  });

  it('peek does not refresh', () => {
    const m = new BoundedMap<string, number>(100, 10);
    m.set('a', 1, 0);
    m.peek('a', 50);
    assert.equal(m.peek('a', 100), undefined);
  });

  it('evicts the least recently used entry past the cap and returns it', () => {
    const m = new BoundedMap<string, number>(1_000, 3);
    m.set('a', 1, 0);
    m.set('b', 2, 1);
    m.set('c', 3, 2);
    m.get('a', 3);
    assert.deepEqual(m.set('d', 4, 4), [['b', 2]]);
    assert.deepEqual([...m.entries(5)].map(([k]) => k), ['c', 'a', 'd']);
    assert.equal(m.size, 3);
  });

  it('replacing a key does not grow the map', () => {
    const m = new BoundedMap<string, number>(1_000, 2);
    for (let i = 0; i < 100; i++) m.set('k', i, i);
    assert.equal(m.size, 1);
    assert.equal(m.get('k', 100), 99);
  });

  it('sweep removes and returns only expired entries', () => {
    const m = new BoundedMap<string, number>(100, 10);
    m.set('a', 1, 0);
    m.set('b', 2, 50);
    m.set('c', 3, 80);
    m.get('a', 90);
    assert.deepEqual(m.sweep(185), [['b', 2], ['c', 3]]);
    assert.deepEqual([...m.entries(185)], [['a', 1]]);
    assert.deepEqual(m.sweep(189), []);
    assert.deepEqual(m.sweep(190), [['a', 1]]);
  });

  it('rejects a non-positive TTL or cap', () => {
    assert.throws(() => new BoundedMap(0, 1), RangeError);
    assert.throws(() => new BoundedMap(1, 0), RangeError);
  });
});
