import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { useRedis, commandStats } from './redis-fixture.ts';
import { RedisBalancer, type OriginRecord } from '../src/index.ts';
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
  /** Writes an origin the way a version without the protocol index did: record + origins ZSET only. */
  const writeUnindexed = async (prefix: string, o: OriginRecord) => {
    await fx.admin.set(`${prefix}origin:${o.id}`, JSON.stringify(o), 'PX', 600_000);
    await fx.admin.zadd(`${prefix}origins`, o.updated_at, o.id);
  };

  it('a first pick and a repeat pick are one script call each, reading no origin list', async () => {
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
      assert.equal(stats.get('evalsha'), 2, JSON.stringify([...stats]));
      for (const c of ['mget', 'zrangebyscore', 'multi', 'eval']) assert.ok(!stats.has(c), `${c} used: ${JSON.stringify([...stats])}`);
    } finally {
      await b.close();
    }
  });

  it('draws new streams uniformly among the origins exposing the protocol', async () => {
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
      for (const [id, c] of counts) assert.ok(c > 150 && c < 250, `${id} got ${c} of 800`);
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
      // The script itself skipped the stale entry: no pick needed a second round (the first call
      // on a connection is an EVAL, the later ones EVALSHA).
      const stats = await commandStats(fx.admin);
      assert.equal((stats.get('evalsha') ?? 0) + (stats.get('eval') ?? 0), 40);
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

  it('origins written without the index (older version) are still picked, and replicas racing on them agree', async () => {
    const prefix = `legacy${++n}:`;
    const a = await make(prefix);
    const c = await make(prefix);
    try {
      const now = Date.now();
      for (let i = 1; i <= 4; i++) await writeUnindexed(prefix, origin(i, now));
      const streams = Array.from({ length: 300 }, (_, i) => `__defaultVhost__/live/legacy-${i}`);
      const results = await Promise.all(streams.map((s) => Promise.all([a.pick(s, { protocol: 'rtmp' }), c.pick(s, { protocol: 'rtmp' })])));
      let fresh = 0;
      results.forEach(([x, y], i) => {
        assert.equal(x.origin.id, y.origin.id, `replicas disagree on ${streams[i]}`);
        fresh += Number(x.fresh) + Number(y.fresh);
      });
      assert.equal(fresh, streams.length);
      // Once an origin heartbeats through this version it is indexed and picked in one call.
      for (let i = 1; i <= 4; i++) await a.update(origin(i, now + 1));
      await fx.admin.config('RESETSTAT');
      await a.pick('__defaultVhost__/live/legacy-indexed', { protocol: 'rtmp' });
      const stats = await commandStats(fx.admin);
      assert.equal(stats.get('evalsha'), 1);
      assert.ok(!stats.has('mget'));
    } finally {
      await Promise.all([a.close(), c.close()]);
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
