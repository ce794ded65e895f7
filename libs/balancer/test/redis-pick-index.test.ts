import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { useRedis, commandStats } from './redis-fixture.ts';
import { RedisBalancer } from '../src/index.ts';
import { origin } from './contract.ts';
import { seededRandom as seeded } from '../../../test/support/random.ts';


describe('Redis pick script and protocol index', () => {
  const fx = useRedis();
  let n = 0;
  const make = async (prefix = `pi${++n}:`, random?: () => number) => {
    const b = new RedisBalancer({ host: '127.0.0.1', port: fx.server.port, db: 0, keyPrefix: prefix }, random ? { random } : {});
    await b.init();
    return b;
  };

  it('a first pick is two script calls (candidates, then compare-and-set), a repeat pick one, reading no origin list', async () => {
    const b = await make();
    try {
      const now = Date.now();
      for (let i = 1; i <= 50; i++) await b.update(origin(i, now));
      await b.pick('__defaultVhost__/live/warm', { protocol: 'http' });
      await fx.admin.config('RESETSTAT');
      const first = await b.pick('__defaultVhost__/live/one', { protocol: 'http' });
      const again = await b.pick('__defaultVhost__/live/one', { protocol: 'http' });
      assert.equal(first.fresh, true);
      assert.equal(again.fresh, false);
      assert.equal(again.origin.id, first.origin.id);
      const stats = await commandStats(fx.admin);
      assert.equal(stats.get('evalsha'), 3, JSON.stringify([...stats]));
      for (const c of ['zrangebyscore', 'multi', 'eval']) assert.ok(!stats.has(c), `${c} used: ${JSON.stringify([...stats])}`);
      // No origin records are read but the chosen one's (and the mapped one's): the candidates
      // script reads the 50 load scores with one MGET.
      assert.ok((stats.get('mget') ?? 0) <= 1 && (stats.get('get') ?? 0) <= 6, JSON.stringify([...stats]));
    } finally {
      await b.close();
    }
  });

  it('spreads new streams evenly among the origins exposing the protocol', async () => {
    const b = await make(undefined, seeded(7));
    try {
      const now = Date.now();
      const withSrt = [1, 2, 3, 4].map((i) => origin(i, now, { srt: ['10080'] }));
      for (const o of withSrt) await b.update(o);
      for (let i = 5; i <= 12; i++) await b.update(origin(i, now));
      const counts = new Map<string, number>();
      for (let i = 0; i < 800; i++) {
        const r = await b.pick(`__defaultVhost__/live/u-${i}`, { protocol: 'srt' });
        counts.set(r.origin.id, (counts.get(r.origin.id) ?? 0) + 1);
      }
      assert.deepEqual([...counts.keys()].sort(), withSrt.map((o) => o.id).sort());
      // least-streams (the default) places 200 on each.
      for (const [id, c] of counts) assert.equal(c, 200, `${id} got ${c} of 800`);
    } finally {
      await b.close();
    }
  });

  it('an origin that stopped exposing a protocol is not picked for it, though its old index entry is still in the window', async () => {
    const b = await make();
    try {
      const now = Date.now();
      await b.update(origin(1, now, { srt: ['10080'] }));
      await b.update(origin(2, now, { srt: ['10080'] }));
      // Origin 1 re-registers without SRT: its entry in the rtmp+http+srt index keeps a live score.
      await b.update(origin(1, now + 1, {}));
      await fx.admin.config('RESETSTAT');
      for (let i = 0; i < 40; i++) {
        const r = await b.pick(`__defaultVhost__/live/moved-${i}`, { protocol: 'srt' });
        assert.equal(r.origin.id, 'vid-2-svc2-1002');
      }
      // The script itself skipped the stale entry: no pick needed a retry, each was one candidates
      // call and one store (the first call of a script on a connection is an EVAL, later EVALSHA).
      const stats = await commandStats(fx.admin);
      assert.equal((stats.get('evalsha') ?? 0) + (stats.get('eval') ?? 0), 80);
      assert.equal((await b.pick('__defaultVhost__/live/moved-any', { protocol: 'rtmp', avoid: ['vid-2-svc2-1002'] })).origin.id, 'vid-1-svc1-1001');
    } finally {
      await b.close();
    }
  });

  it('penalised and avoided origins are skipped while a healthy one exists, whichever the probes hit', async () => {
    const b = await make(undefined, seeded(11));
    try {
      const now = Date.now();
      for (let i = 1; i <= 10; i++) await b.update(origin(i, now));
      for (let i = 1; i <= 8; i++) await b.reportFailure(`vid-${i}-svc${i}-${1000 + i}`, '__defaultVhost__/live/elsewhere');
      const seen = new Set<string>();
      for (let i = 0; i < 60; i++) {
        seen.add((await b.pick(`__defaultVhost__/live/pen-${i}`, { protocol: 'rtmp', avoid: ['vid-9-svc9-1009'] })).origin.id);
      }
      assert.deepEqual([...seen], ['vid-10-svc10-1010']);
    } finally {
      await b.close();
    }
  });

  it('sweeping removes expired origins from the index as well', async () => {
    const prefix = `sweep${++n}:`;
    let t = Date.now();
    const b = new RedisBalancer({ host: '127.0.0.1', port: fx.server.port, db: 0, keyPrefix: prefix }, { now: () => t, originTtlMs: 1_000 });
    await b.init();
    try {
      await b.update(origin(1, t));
      t += 5_000;
      await b.update(origin(2, t));
      assert.deepEqual((await b.sweepExpired()).map((o) => o.id), ['vid-1-svc1-1001']);
      const mask = await fx.admin.keys(`${prefix}origins:m:*`);
      assert.equal(mask.length, 1);
      assert.deepEqual(await fx.admin.zrange(mask[0]!, 0, -1), ['vid-2-svc2-1002']);
    } finally {
      await b.close();
    }
  });
});
