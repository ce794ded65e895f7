import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { useRedis, commandStats } from './redis-fixture.ts';
import { RedisBalancer } from '../src/index.ts';
import { origin } from './contract.ts';

describe('Redis balancer across replicas', () => {
  const fx = useRedis();
  const conn = (keyPrefix: string) => ({ host: '127.0.0.1', port: fx.server.port, db: 0, keyPrefix });

  it('two replicas picking 1,000 new streams concurrently map each stream to exactly one origin', async () => {
    const a = new RedisBalancer(conn('race:'));
    const b = new RedisBalancer(conn('race:'));
    await Promise.all([a.init(), b.init()]);
    try {
      const now = Date.now();
      for (let i = 1; i <= 8; i++) await a.update(origin(i, now));
      const streams = Array.from({ length: 1_000 }, (_, i) => `__defaultVhost__/live/race-${i}`);
      const results = await Promise.all(streams.map((s) => Promise.all([a.pick(s), b.pick(s)])));
      let fresh = 0;
      const used = new Set<string>();
      results.forEach(([ra, rb], i) => {
        assert.equal(ra.origin.id, rb.origin.id, `replicas disagree on ${streams[i]}`);
        fresh += Number(ra.fresh) + Number(rb.fresh);
        used.add(ra.origin.id);
      });
      // Exactly one of the two first picks of each stream created its mapping.
      assert.equal(fresh, streams.length);
      assert.equal(used.size, 8);
      const stored = new Map((await a.listStreams(5_000)).map((m) => [m.stream_url, m.origin_id]));
      assert.equal(stored.size, streams.length);
      results.forEach(([ra], i) => assert.equal(stored.get(streams[i]!), ra.origin.id));
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('a heartbeat issues the same small number of commands with 10 or 2,000 origins', async () => {
    const perHeartbeat = async (prefix: string, count: number) => {
      const x = new RedisBalancer(conn(prefix));
      await x.init();
      try {
        const now = Date.now();
        const batch = [];
        for (let i = 1; i <= count; i++) batch.push(x.update(origin(i, now)));
        await Promise.all(batch);
        await fx.admin.config('RESETSTAT');
        await x.update(origin(1, now + 1_000));
        const stats = await commandStats(fx.admin);
        return { total: [...stats.values()].reduce((s, v) => s + v, 0), stats };
      } finally {
        await x.close();
      }
    };
    const small = await perHeartbeat('hb10:', 10);
    const large = await perHeartbeat('hb2000:', 2_000);
    assert.deepEqual([...large.stats].sort(), [...small.stats].sort());
    // EVALSHA, SET record, SET load score, ZADD origins, ZADD protocol index, PEXPIRE index.
    assert.ok(small.total <= 6, `a heartbeat costs ${small.total} commands: ${JSON.stringify([...small.stats])}`);
    assert.ok(!small.stats.has('get') && !small.stats.has('mget') && !small.stats.has('keys'), 'no reads of other origins');
  });
});
