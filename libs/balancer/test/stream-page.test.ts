import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { useRedis } from './redis-fixture.ts';
import { MemoryBalancer, RedisBalancer, parseRegisterBody, type Balancer, type StreamMapping, type StreamQuery } from '../src/index.ts';
import { pageOf, streamParts, streamSelected } from '../src/stream-page.ts';

describe('stream pages (pure)', () => {
  const maps = (...urls: string[]): StreamMapping[] => urls.map((stream_url) => ({ stream_url, origin_id: 'o' }));

  it('splits vhost and app off a stream URL', () => {
    assert.deepEqual(streamParts('__defaultVhost__/live/a/b'), { vhost: '__defaultVhost__', app: 'live' });
    assert.deepEqual(streamParts('v/live'), { vhost: 'v', app: 'live' });
    assert.deepEqual(streamParts('v'), { vhost: 'v', app: '' });
  });

  it('selects by vhost, app and cursor', () => {
    assert.equal(streamSelected('v/live/s', { limit: 1, app: 'live' }), true);
    assert.equal(streamSelected('v/x/live/s', { limit: 1, app: 'live' }), false);
    assert.equal(streamSelected('v/live/s', { limit: 1, vhost: 'w' }), false);
    assert.equal(streamSelected('v/live/s', { limit: 1, after: 'v/live/s' }), false);
    assert.equal(streamSelected('v/live/t', { limit: 1, after: 'v/live/s' }), true);
  });

  it('pages in URL order whatever the input order, and ends without a cursor', () => {
    const all = maps('d', 'a', 'e', 'c', 'b');
    const p1 = pageOf(all, { limit: 2 });
    assert.deepEqual(p1.streams.map((m) => m.stream_url), ['a', 'b']);
    assert.equal(p1.next, 'b');
    const p2 = pageOf(all, { limit: 2, after: p1.next });
    assert.deepEqual(p2.streams.map((m) => m.stream_url), ['c', 'd']);
    const p3 = pageOf(all, { limit: 2, after: p2.next });
    assert.deepEqual(p3.streams.map((m) => m.stream_url), ['e']);
    assert.equal(p3.next, undefined);
    assert.equal(pageOf(maps('a', 'b'), { limit: 2 }).next, undefined, 'an exact fit is the last page');
  });
});

/** Registers two origins and places `n` streams over two apps, returning the balancer and its origins' ids. */
async function fill(b: Balancer, n: number): Promise<string[]> {
  const ids: string[] = [];
  for (const name of ['a', 'b']) {
    const o = parseRegisterBody({ ip: '127.0.0.1', server: name, service: 's', pid: '1', rtmp: ['1935'], http: ['8080'] }, Date.now());
    await b.update(o);
    ids.push(o.id);
  }
  const picks: Array<Promise<unknown>> = [];
  for (let i = 0; i < n; i++) picks.push(b.pick(`__defaultVhost__/${i % 2 === 0 ? 'live' : 'game'}/s${i}`, { protocol: i % 3 === 0 ? 'http' : 'rtmp' }));
  await Promise.all(picks);
  return ids;
}

/** Every page of a query, checking each page's order and size. */
async function allPages(b: Balancer, q: Omit<StreamQuery, 'after'>): Promise<StreamMapping[]> {
  const out: StreamMapping[] = [];
  let after: string | undefined;
  for (let pages = 0; ; pages++) {
    assert.ok(pages < 10_000, 'paging terminates');
    const page = await b.listStreamPage(after === undefined ? q : { ...q, after });
    assert.ok(page.streams.length <= q.limit);
    for (let i = 1; i < page.streams.length; i++) assert.ok(page.streams[i - 1]!.stream_url < page.streams[i]!.stream_url, 'in URL order');
    out.push(...page.streams);
    if (page.next === undefined) return out;
    after = page.next;
  }
}

function pagingSuite(name: string, make: () => Promise<Balancer>): void {
  describe(`stream pages: ${name} balancer`, () => {
    it('walks 2 000 streams once each, with placement time, protocol and per-origin counts', async () => {
      const b = await make();
      try {
        const before = Date.now();
        const ids = await fill(b, 2_000);
        const all = await allPages(b, { limit: 333 });
        assert.equal(all.length, 2_000);
        assert.equal(new Set(all.map((m) => m.stream_url)).size, 2_000, 'no stream twice');
        for (const m of all) {
          assert.ok(ids.includes(m.origin_id));
          assert.ok(m.placed_at !== undefined && m.placed_at >= before && m.placed_at <= Date.now());
        }
        const s0 = all.find((m) => m.stream_url === '__defaultVhost__/live/s0');
        assert.equal(s0?.protocol, 'http');
        assert.equal(all.find((m) => m.stream_url === '__defaultVhost__/game/s1')?.protocol, 'rtmp');

        const origins = await b.listOrigins();
        assert.equal(origins.reduce((n, o) => n + o.streams, 0), 2_000);
        for (const o of origins) {
          const own = await allPages(b, { limit: 500, origin_id: o.origin.id });
          assert.equal(own.length, o.streams, `the origin filter lists the ${o.streams} streams of ${o.origin.id}`);
          assert.ok(own.every((m) => m.origin_id === o.origin.id));
        }
        const games = await allPages(b, { limit: 1_000, app: 'game', vhost: '__defaultVhost__' });
        assert.equal(games.length, 1_000);
        assert.ok(games.every((m) => streamParts(m.stream_url).app === 'game'));
        assert.deepEqual(await b.listStreamPage({ limit: 10, vhost: 'nowhere' }), { streams: [] });
        const one = await b.listStreamPage({ limit: 1, stream_url: '__defaultVhost__/live/s10' });
        assert.deepEqual(one.streams.map((m) => m.stream_url), ['__defaultVhost__/live/s10'], 'a lookup by key');
        assert.deepEqual((await b.listStreamPage({ limit: 1, stream_url: '__defaultVhost__/live/none' })).streams, []);
      } finally {
        await b.close();
      }
    });
  });
}

pagingSuite('memory', async () => new MemoryBalancer());

const fx = useRedis();
let prefixes = 0;
pagingSuite('redis', async () => {
  const b = new RedisBalancer({ host: '127.0.0.1', port: fx.server.port, db: 0, keyPrefix: `page${++prefixes}:` });
  await b.init();
  return b;
});
