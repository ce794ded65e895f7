import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { OriginRecord } from '@srs-proxy/balancer';
import { InprocTransport, subjects, MESSAGE_VERSION } from '@srs-proxy/bus';
import { OriginRouter, RouteCache } from '../src/index.ts';
import { refusedPort, startCluster } from './support.ts';

const origin = (id: string): OriginRecord => ({ id } as unknown as OriginRecord);
/** Events are delivered asynchronously, like NATS: let them land. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

test('entries live ttlMs on the injected clock, bounded in number', () => {
  let now = 1_000;
  const cache = new RouteCache({ ttlMs: 5_000, maxEntries: 2, now: () => now });
  cache.set('a', origin('o1'));
  now += 4_999;
  assert.equal(cache.get('a')?.id, 'o1');
  now += 1;
  assert.equal(cache.get('a'), undefined, 'expired exactly at the TTL');
  cache.set('a', origin('o1'));
  cache.set('b', origin('o1'));
  cache.set('c', origin('o2'));
  assert.equal(cache.size, 2);
  assert.equal(cache.get('a'), undefined, 'the oldest went first');
});

test('the registry\'s events drop exactly the stale entries', async () => {
  const bus = new InprocTransport();
  const cache = new RouteCache({ ttlMs: 60_000, maxEntries: 100 });
  const sub = cache.listen(bus);
  for (const [s, o] of [['s1', 'o1'], ['s2', 'o1'], ['s3', 'o2'], ['s4', 'o2']] as const) cache.set(s, origin(o));

  bus.publish(subjects.streamPicked, { v: MESSAGE_VERSION, stream_url: 's1', origin_id: 'o1', at: 0 });
  await settle();
  assert.equal(cache.get('s1')?.id, 'o1', 'placed where we already route it: kept');
  bus.publish(subjects.streamPicked, { v: MESSAGE_VERSION, stream_url: 's1', origin_id: 'o9', replaced: 'o1', at: 0 });
  await settle();
  assert.equal(cache.get('s1'), undefined, 'placed elsewhere: dropped');

  bus.publish(subjects.streamOriginFailed, { v: MESSAGE_VERSION, stream_url: 's3', origin_id: 'o1', reason: 'x', at: 0 });
  await settle();
  assert.equal(cache.get('s3')?.id, 'o2', 'a failure of another origin changes nothing');
  bus.publish(subjects.streamOriginFailed, { v: MESSAGE_VERSION, stream_url: 's3', origin_id: 'o2', reason: 'x', at: 0 });
  await settle();
  assert.equal(cache.get('s3'), undefined);

  for (const bad of [null, 7, 'x', { stream_url: 's2' }, { stream_url: 's2'.repeat(3000), origin_id: 'o9' }, { origin_id: 5 }]) {
    bus.publish(subjects.streamPicked, bad);
    bus.publish(subjects.streamOriginFailed, bad);
    bus.publish(subjects.originExpired, bad);
  }
  await settle();
  assert.equal(cache.size, 2, 'malformed events change nothing');

  bus.publish(subjects.originExpired, { v: MESSAGE_VERSION, origin_id: 'o2', last_seen: 0, at: 0 });
  await settle();
  assert.deepEqual([cache.get('s2')?.id, cache.get('s4')], ['o1', undefined]);

  sub.unsubscribe();
  bus.publish(subjects.originExpired, { v: MESSAGE_VERSION, origin_id: 'o1', last_seen: 0, at: 0 });
  await settle();
  assert.equal(cache.get('s2')?.id, 'o1', 'no longer listening');
  await bus.close();
});

test('another edge\'s failure report invalidates this edge\'s cached route through the real registry', async () => {
  const c = await startCluster();
  try {
    const dead = await c.register('dead', await refusedPort());
    const cache = new RouteCache({ ttlMs: 60_000, maxEntries: 100 });
    cache.listen(c.bus);
    const router = new OriginRouter({ registry: c.client, protocol: 'http', settings: { connectTimeoutMs: 1_000, attempts: 2, staleMaxMs: 60_000 }, logger: c.logger, cache });
    const s = '__defaultVhost__/live/cached';
    assert.equal((await router.pick(s)).id, dead);
    assert.equal((router.pick(s) as OriginRecord).id, dead, 'served from the cache, synchronously');
    // Another edge reports the origin failed for this stream.
    await c.client.reportFailure(dead, s, 'refused');
    await settle();
    assert.equal(cache.get(s), undefined, 'the failure event dropped the entry');
    assert.ok(router.pick(s) instanceof Promise, 'the next pick asks the registry');
  } finally {
    await c.close();
  }
});

