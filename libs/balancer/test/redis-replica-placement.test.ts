/**
 * Two registry replicas (two RedisBalancer objects on one redis-server) placing new streams at the
 * same moment: every first pick reads the counts before any of the others stores its mapping, the
 * stalest view placement can have. They must not herd onto one origin.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { useRedis } from './redis-fixture.ts';
import { RedisBalancer, type PlacementStrategy } from '../src/index.ts';
import { origin, summaries } from './contract.ts';
import { seededRandom } from '../../../test/support/random.ts';

describe('Redis replicas placing concurrently', () => {
  const fx = useRedis();
  let n = 0;
  const pair = async (strategy: PlacementStrategy, seeds: [number, number]) => {
    const prefix = `herd${++n}:`;
    const make = (seed: number) =>
      new RedisBalancer({ host: '127.0.0.1', port: fx.server.port, db: 0, keyPrefix: prefix }, { strategy, random: seededRandom(seed) });
    const replicas = [make(seeds[0]), make(seeds[1])] as const;
    await Promise.all(replicas.map((r) => r.init()));
    return replicas;
  };
  const tally = (ids: string[]) => {
    const m = new Map<string, number>();
    for (const id of ids) m.set(id, (m.get(id) ?? 0) + 1);
    return m;
  };
  /** 30 streams on 3 origins: 10 each when even; each replica's own burst is spread exactly by its pending count. */
  const BOUND = 2;

  for (const strategy of ['least-streams', 'least-load'] as const) {
    it(`${strategy}: 30 new streams picked at once by two replicas (15 each) land within 10 ± ${BOUND} per origin`, async () => {
      const seeds: [number, number] = [101, 202];
      const [a, b] = await pair(strategy, seeds);
      try {
        const now = Date.now();
        for (let i = 1; i <= 3; i++) await a.update(origin(i, now, { summaries: summaries(0.2) }));
        const picks = Array.from({ length: 30 }, (_, i) => (i % 2 === 0 ? a : b).pick(`__defaultVhost__/live/herd-${strategy}-${i}`));
        const counts = tally((await Promise.all(picks)).map((r) => r.origin.id));
        const msg = `seeds ${seeds.join(',')}: ${JSON.stringify([...counts])}`;
        assert.equal(counts.size, 3, msg);
        for (const c of counts.values()) assert.ok(Math.abs(c - 10) <= BOUND, msg);
      } finally {
        await Promise.all([a.close(), b.close()]);
      }
    });
  }

  it(`both replicas picking the same 30 new streams at once agree on each and land within 10 ± ${BOUND} per origin`, async () => {
    const seeds: [number, number] = [7, 8];
    const [a, b] = await pair('least-streams', seeds);
    try {
      const now = Date.now();
      for (let i = 1; i <= 3; i++) await a.update(origin(i, now));
      const streams = Array.from({ length: 30 }, (_, i) => `__defaultVhost__/live/same-${i}`);
      const results = await Promise.all(streams.map((s) => Promise.all([a.pick(s), b.pick(s)])));
      results.forEach(([x, y], i) => assert.equal(x.origin.id, y.origin.id, `replicas disagree on ${streams[i]}`));
      const counts = tally(results.map(([x]) => x.origin.id));
      const msg = `seeds ${seeds.join(',')}: ${JSON.stringify([...counts])}`;
      for (const c of counts.values()) assert.ok(Math.abs(c - 10) <= BOUND, msg);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('least-load: a loaded origin gets none of a concurrent burst from two replicas', async () => {
    const seeds: [number, number] = [3, 4];
    const [a, b] = await pair('least-load', seeds);
    try {
      const now = Date.now();
      await a.update(origin(1, now, { summaries: summaries(0.9) }));
      await a.update(origin(2, now, { summaries: summaries(0.1) }));
      await a.update(origin(3, now, { summaries: summaries(0.1) }));
      const picks = Array.from({ length: 30 }, (_, i) => (i % 2 === 0 ? a : b).pick(`__defaultVhost__/live/hot-${i}`));
      const counts = tally((await Promise.all(picks)).map((r) => r.origin.id));
      const msg = `seeds ${seeds.join(',')}: ${JSON.stringify([...counts])}`;
      assert.equal(counts.get('vid-1-svc1-1001') ?? 0, 0, msg);
      for (const id of ['vid-2-svc2-1002', 'vid-3-svc3-1003']) assert.ok(Math.abs((counts.get(id) ?? 0) - 15) <= BOUND, msg);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});
