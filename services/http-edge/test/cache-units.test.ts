import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { OriginRecord } from '@srs-proxy/balancer';
import { createMetricsRegistry } from '@srs-proxy/runtime';
import { OriginExchange } from '../src/origin-client.ts';
import type { Fetched } from '../src/origin-routing.ts';
import { BatchedCounter, CacheMeter, httpEdgeMetrics } from '../src/edge-metrics.ts';
import { SegmentCache } from '../src/cache/segment-cache.ts';
import { PlaylistCache } from '../src/cache/playlist-cache.ts';
import { manualClock } from './support.ts';

/** An origin answer whose headers and whole body have arrived (driven through the undici handler API). */
function answered(status: number, headers: Record<string, string>, body: string, originId = 'o1'): Fetched {
  const ex = new OriginExchange();
  ex.onHeaders(status, Object.entries(headers).flat(), () => {});
  if (body.length > 0) ex.onData(Buffer.from(body, 'latin1'));
  ex.onComplete();
  const origin = { id: originId, ip: '10.0.0.1' } as OriginRecord;
  return { origin, to: { ep: { proto: undefined, host: '10.0.0.1', port: 8080 }, url: 'http://10.0.0.1:8080', authorities: ['10.0.0.1:8080'] }, ex };
}

function meter(cache: 'segment' | 'playlist'): CacheMeter {
  const m = httpEdgeMetrics(createMetricsRegistry());
  return new CacheMeter(m, new BatchedCounter(m.cacheRequests, ['cache', 'result']), cache);
}

/** An origin fetch that counts its calls and answers on a later turn, so concurrent callers overlap. */
function origin(answer: () => Fetched): { load: () => Promise<Fetched>; calls(): number } {
  let calls = 0;
  return {
    load: async () => {
      calls++;
      await new Promise((r) => setImmediate(r));
      return answer();
    },
    calls: () => calls,
  };
}

const TS = { 'content-type': 'video/mp2t' };

test('SegmentCache: concurrent fills of one segment make one origin fetch; the entry lives its TTL on the injected clock', async () => {
  const clock = manualClock();
  const cache = new SegmentCache({ maxBytes: 1_000_000, ttlMs: 1_000, now: clock.now }, meter('segment'));
  const o = origin(() => answered(200, { ...TS, 'content-length': '4' }, 'abcd'));
  const key = cache.key('o1', '/live/a-1.ts?spbhid=s1&hls_ctx=c1&token=t');
  assert.equal(key, cache.key('o1', '/live/a-1.ts?spbhid=s2&hls_ctx=c2&token=t'), 'spbhid and hls_ctx are not part of the key');
  assert.notEqual(key, cache.key('o1', '/live/a-1.ts?spbhid=s1&token=u'), 'other parameters are');
  const fills = Array.from({ length: 3 }, () => cache.fill(key, '/live/a-1.ts?spbhid=s1&token=t', o.load));
  assert.deepEqual(fills.map((f) => f.leader), [true, false, false]);
  const results = await Promise.all(fills.map((f) => f.result));
  assert.equal(o.calls(), 1);
  for (const r of results) {
    assert.ok(r.outcome === 'stored' && r.shared);
    assert.equal(r.stored.body.toString(), 'abcd');
  }
  clock.advance(999);
  assert.equal(cache.get(key)?.body.toString(), 'abcd');
  clock.advance(1);
  assert.equal(cache.get(key), undefined, 'expired at the TTL');
});

test('SegmentCache: a body over 1/8 of the budget goes to its leader unstored; a private answer is held by no one', async () => {
  const clock = manualClock();
  const cache = new SegmentCache({ maxBytes: 800, ttlMs: 1_000, now: clock.now }, meter('segment'));
  const big = await cache.fill('big', '/live/big.ts', origin(() => answered(200, { ...TS, 'content-length': '200' }, 'x'.repeat(200))).load).result;
  assert.equal(big.outcome, 'stream');
  const chunked = await cache.fill('chunked', '/live/chunked.ts', origin(() => answered(200, TS, 'x'.repeat(200))).load).result;
  assert.equal(chunked.outcome, 'retry', 'too large once read: everyone fetches on their own');
  const cookie = await cache.fill(cache.key('o1', '/live/c.ts'), '/live/c.ts', origin(() => answered(200, { ...TS, 'set-cookie': 'a=b' }, 'abcd')).load).result;
  assert.ok(cookie.outcome === 'stored' && !cookie.shared);
  assert.equal(cache.get(cache.key('o1', '/live/c.ts')), undefined);
});

const M3U8 = { 'content-type': 'application/vnd.apple.mpegurl' };
const media = (target: number) => `#EXTM3U\n#EXT-X-TARGETDURATION:${target}\n#EXTINF:${target},\nm-1.ts\n`;

test('PlaylistCache: kept the configured TTL, never more than half the target duration, on the injected clock', async () => {
  const clock = manualClock();
  const cache = new PlaylistCache({ maxBytes: 1_000_000, maxDocumentBytes: 64 * 1024, ttlMs: 400, now: clock.now }, meter('playlist'));
  const long = cache.key('o1', '/live/long.m3u8');
  const short = cache.key('o1', '/live/short.m3u8');
  assert.equal((await cache.fill(long, '/live/long.m3u8', origin(() => answered(200, M3U8, media(10))).load).result).outcome, 'cached');
  assert.equal((await cache.fill(short, '/live/short.m3u8', origin(() => answered(200, M3U8, media(0.2))).load).result).outcome, 'cached');
  clock.advance(99);
  assert.ok(cache.get(short));
  clock.advance(1);
  assert.equal(cache.get(short), undefined, '0.2 s target: 100 ms');
  clock.advance(299);
  assert.ok(cache.get(long));
  clock.advance(1);
  assert.equal(cache.get(long), undefined, 'the configured 400 ms');
});

test('PlaylistCache: one fetch for concurrent players; each (spbhid, Host) gets its own rewrite, computed once', async () => {
  const clock = manualClock();
  const cache = new PlaylistCache({ maxBytes: 1_000_000, maxDocumentBytes: 64 * 1024, ttlMs: 400, now: clock.now }, meter('playlist'));
  const o = origin(() => answered(200, { ...M3U8, etag: '"e"' }, media(2)));
  const key = cache.key('o1', '/live/p.m3u8?spbhid=s1');
  const fills = Array.from({ length: 4 }, () => cache.fill(key, '/live/p.m3u8?spbhid=s1', o.load));
  const results = await Promise.all(fills.map((f) => f.result));
  assert.equal(o.calls(), 1);
  const entry = cache.get(key)!;
  for (const r of results) assert.ok(r.outcome === 'cached' && r.entry === entry);
  const a = cache.variant(entry, key, 's1', 'edge:1');
  assert.equal(cache.variant(entry, key, 's1', 'edge:1'), a, 'the same client gets the same rewrite object');
  const b = cache.variant(entry, key, 's2', 'edge:1');
  assert.match(a.body.toString(), /^m-1\.ts\?spbhid=s1$/m);
  assert.match(b.body.toString(), /^m-1\.ts\?spbhid=s2$/m);
  const headers = new Map<string, string>();
  for (let i = 0; i < a.headers.length; i += 2) headers.set(a.headers[i]!, a.headers[i + 1]!);
  assert.equal(headers.get('content-length'), String(a.body.length));
  assert.equal(headers.get('etag'), undefined, 'validators of the origin do not describe the rewrite');
});

test('PlaylistCache: master playlists and error answers are private to their asker', async () => {
  const clock = manualClock();
  const cache = new PlaylistCache({ maxBytes: 1_000_000, maxDocumentBytes: 64 * 1024, ttlMs: 400, now: clock.now }, meter('playlist'));
  const master = await cache.fill('m', '/live/m.m3u8', origin(() => answered(200, M3U8, '#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\nv.m3u8\n')).load).result;
  assert.ok(master.outcome === 'private' && master.text?.includes('v.m3u8'));
  const missing = await cache.fill('n', '/live/n.m3u8', origin(() => answered(404, { 'content-type': 'text/plain' }, 'not found')).load).result;
  assert.ok(missing.outcome === 'private' && missing.text === undefined);
  assert.equal(cache.get('m'), undefined);
  assert.equal(cache.get('n'), undefined);
});
