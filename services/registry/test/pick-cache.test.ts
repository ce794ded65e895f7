import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { parseRegisterBody, RedisBalancer, type OriginRecord } from '@srs-proxy/balancer';
import { BusRegistryClient, InprocTransport } from '@srs-proxy/bus';
import { startRedis, type RunningServer } from '../../../test/support/index.ts';
import { PickCache, PICK_CACHE_TTL_MS } from '../src/pick-cache.ts';
import { metricValue, startTestRegistry, type TestRegistry } from './support.ts';

const rec = (n: number, now = Date.now()): OriginRecord =>
  parseRegisterBody({ ip: '127.0.0.1', server: `vid-${n}`, service: `svc${n}`, pid: String(1000 + n), rtmp: [String(19350 + n)] }, now);
const idOf = (n: number) => `vid-${n}-svc${n}-${1000 + n}`;

test('PickCache: entries live at most the TTL, hits do not extend them, size is capped', () => {
  const c = new PickCache(1_000, 3);
  c.remember('s', rec(1), c.stamp(), 0, false);
  assert.equal(c.lookup('s', 999)?.id, idOf(1));
  assert.equal(c.lookup('s', 1_000), undefined);
  for (let i = 0; i < 10; i++) c.remember(`k${i}`, rec(i), c.stamp(), 2_000, false);
  assert.equal(c.size, 3);
  assert.equal(c.lookup('k0', 2_001), undefined);
  assert.equal(c.lookup('k9', 2_001)?.id, idOf(9));
});

test('PickCache: a store read begun before an invalidation is not cached; a created mapping supersedes older reads', () => {
  const c = new PickCache(1_000, 100);
  const before = c.stamp();
  c.invalidate('s', 0);
  c.remember('s', rec(1), before, 1, false);
  assert.equal(c.lookup('s', 2), undefined, 'stale read cached over a failover');
  c.remember('s', rec(1), c.stamp(), 3, false);
  assert.equal(c.lookup('s', 4)?.id, idOf(1));

  const slow = c.stamp();
  c.remember('s', rec(2), c.stamp(), 5, true);
  c.remember('s', rec(1), slow, 6, false);
  assert.equal(c.lookup('s', 7)?.id, idOf(2));
  // An event confirming the cached origin keeps it; one naming another origin drops it.
  c.invalidate('s', 8, idOf(2));
  assert.equal(c.lookup('s', 9)?.id, idOf(2));
  c.invalidate('s', 10, idOf(3));
  assert.equal(c.lookup('s', 11), undefined);
});

let redis: RunningServer;
before(async () => {
  redis = await startRedis();
});
after(async () => {
  await redis.stop();
});

// Two replicas on one bus and one Redis. The in-process bus hands requests to its responders in
// turn, so consecutive requests alternate between the replicas deterministically.
const twoReplicas = async (prefix: string): Promise<{ a: TestRegistry; b: TestRegistry; client: BusRegistryClient; close(): Promise<void> }> => {
  const bus = new InprocTransport();
  const conn = { host: '127.0.0.1', port: redis.port, db: 0, keyPrefix: prefix };
  const a = await startTestRegistry({ bus, balancer: new RedisBalancer(conn) });
  const b = await startTestRegistry({ bus, balancer: new RedisBalancer(conn) });
  // Enough origins that the failures reported below (each penalises an origin for 30 s) never
  // leave only penalised ones, which a pick would use again.
  for (let i = 1; i <= 6; i++) await a.balancer.update(rec(i));
  return {
    a, b, client: new BusRegistryClient(bus, 2_000),
    async close() {
      await a.close();
      await b.close();
      await Promise.all([a.balancer.close(), b.balancer.close()]);
      await bus.close();
    },
  };
};
const hits = async (r: TestRegistry) => metricValue(r.metrics, 'srsp_registry_pick_cache_hits_total');

test('repeat picks are answered from the cache of each replica', async () => {
  const { a, b, client, close } = await twoReplicas('cache1:');
  try {
    const s = '__defaultVhost__/live/cached';
    const first = await client.pick(s, { protocol: 'rtmp' });
    for (let i = 0; i < 6; i++) assert.equal((await client.pick(s, { protocol: 'rtmp' })).origin.id, first.origin.id);
    // Replica of the first pick cached its own answer; the other one after its first read.
    assert.equal((await hits(a)) + (await hits(b)), 5);
    // A hit is re-validated: a protocol the origin lacks, or avoiding it, goes to the store.
    await assert.rejects(client.pick(s, { protocol: 'srt' }), { code: 'SRSP_ERR_NO_ORIGIN' });
    const moved = await client.pick(s, { avoid: [first.origin.id] });
    assert.notEqual(moved.origin.id, first.origin.id);
    assert.equal((await hits(a)) + (await hits(b)), 5);
  } finally {
    await close();
  }
});

test('a failure reported through one replica is seen by the other at once', async () => {
  const { client, close } = await twoReplicas('cache2:');
  try {
    for (let round = 0; round < 4; round++) {
      const s = `__defaultVhost__/live/failover-${round}`;
      const first = await client.pick(s);
      assert.equal((await client.pick(s)).origin.id, first.origin.id); // both replicas now cache it
      await client.reportFailure(first.origin.id, s, 'ECONNREFUSED');
      for (let i = 0; i < 4; i++) assert.notEqual((await client.pick(s)).origin.id, first.origin.id, `pick ${i} after the report`);
    }
  } finally {
    await close();
  }
});

test('a failover by avoid on one replica replaces the cached answer on the other', async () => {
  const { client, close } = await twoReplicas('cache3:');
  try {
    const s = '__defaultVhost__/live/avoid';
    const first = await client.pick(s);
    await client.pick(s);
    await client.pick(s);
    const moved = await client.pick(s, { avoid: [first.origin.id] });
    assert.notEqual(moved.origin.id, first.origin.id);
    for (let i = 0; i < 4; i++) assert.equal((await client.pick(s)).origin.id, moved.origin.id);
  } finally {
    await close();
  }
});

test(`an origin that expires is not answered from the cache, however young the entry (${PICK_CACHE_TTL_MS} ms)`, async () => {
  let now = Date.now();
  const bus = new InprocTransport();
  const clock = () => now;
  // Origins live half the cache TTL, so an entry outlives its origin.
  const originTtlMs = PICK_CACHE_TTL_MS / 2;
  const balancer = new RedisBalancer({ host: '127.0.0.1', port: redis.port, db: 0, keyPrefix: 'cache4:' }, { now: clock, originTtlMs });
  const r = await startTestRegistry({ bus, balancer, now: clock, originTtlMs });
  try {
    await balancer.update(rec(1, now));
    const client = new BusRegistryClient(bus, 2_000);
    const s = '__defaultVhost__/live/expiring';
    assert.equal((await client.pick(s)).origin.id, idOf(1));
    assert.equal((await client.pick(s)).origin.id, idOf(1));
    assert.equal(await hits(r), 1);
    now += originTtlMs + 1; // origin 1 is dead; the cache entry is still young
    await balancer.update(rec(2, now));
    assert.equal((await client.pick(s)).origin.id, idOf(2));
  } finally {
    await r.close();
    await balancer.close();
    await bus.close();
  }
});
