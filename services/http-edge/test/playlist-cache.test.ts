import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startHarness, countingOrigin, edgeGet, manualClock, originBody, type Harness } from './support.ts';

/** Micro-cache TTL of this suite (under the 500 ms maximum). */
const TTL_MS = 400;
/** How long the origin holds each answer, so concurrent requests overlap. */
const ORIGIN_DELAY_MS = 200;
/** The edge's clock: stands still unless a test moves it, so nothing expires while the machine is slow. */
const clock = manualClock();
let h: Harness;
let origin: Awaited<ReturnType<typeof countingOrigin>>;
let proxyHost: string;

const media = (extra = '') => `#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:10\n#EXTINF:10,\npc-1.ts\n${extra}`;

before(async () => {
  h = await startHarness({ env: { PROXY_HLS_PLAYLIST_CACHE_TTL: `${TTL_MS}ms` }, now: clock.now });
  proxyHost = `v.example.com:${h.port}`;
  origin = await countingOrigin({
    // An absolute URI on the public host: only the client that used that Host gets it tagged.
    '/live/pc.m3u8': { type: 'application/vnd.apple.mpegurl', body: media(`#EXTINF:10,\nhttp://${proxyHost}/live/pc-2.ts\n`), headers: { etag: '"p1"' } },
    '/live/short.m3u8': { type: 'application/vnd.apple.mpegurl', body: '#EXTM3U\n#EXT-X-TARGETDURATION:0.2\n#EXTINF:0.2,\ns-1.ts\n' },
    '/live/slow.m3u8': { type: 'application/vnd.apple.mpegurl', body: media(), delayMs: ORIGIN_DELAY_MS },
    '/live/ctx.m3u8': { type: 'application/vnd.apple.mpegurl', body: media() },
    // SRS with hls_ctx: a master naming a per-player session, different for every player.
    '/live/srs.m3u8': { type: 'application/vnd.apple.mpegurl', body: '#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1,AVERAGE-BANDWIDTH=1\n/live/srs.m3u8?hls_ctx=per-player\n', delayMs: ORIGIN_DELAY_MS },
  });
  assert.equal(await h.register(originBody(origin.port, 'pc')), 200);
});
after(async () => {
  await h.close();
  await origin.close();
});

test('playlist micro-cache: clients within the TTL share one origin fetch, each gets its own session rewrite', async () => {
  // Two Host headers are two stream keys, hence two HLS sessions (two spbhid) on one origin.
  const a = await edgeGet(h.port, '/live/pc.m3u8', { host: `127.0.0.1:${h.port}` });
  const b = await edgeGet(h.port, '/live/pc.m3u8', { host: proxyHost });
  const a2 = await edgeGet(h.port, '/live/pc.m3u8', { host: `127.0.0.1:${h.port}` });
  assert.equal(origin.hits('/live/pc.m3u8'), 1);
  const idA = /pc-1\.ts\?spbhid=([0-9a-f]+)/.exec(a.text)![1]!;
  const idB = /pc-1\.ts\?spbhid=([0-9a-f]+)/.exec(b.text)![1]!;
  assert.notEqual(idA, idB);
  assert.equal(a2.text, a.text, 'the same client gets the same rewrite again');
  assert.match(b.text, new RegExp(`^http://v\\.example\\.com:${h.port}/live/pc-2\\.ts\\?spbhid=${idB}$`, 'm'), 'absolute URI on its Host tagged');
  assert.match(a.text, new RegExp(`^http://v\\.example\\.com:${h.port}/live/pc-2\\.ts$`, 'm'), 'a foreign host for client A: untouched');
  for (const r of [a, b, a2]) {
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-type'], 'application/vnd.apple.mpegurl');
    assert.equal(Number(r.headers['content-length']), r.body.length);
    assert.equal(r.headers.etag, undefined, 'validators of the origin do not describe the rewritten body');
    assert.equal(r.headers['access-control-allow-origin'], '*');
  }
  assert.equal(await h.metric('srsp_http_edge_cache_requests_total', { cache: 'playlist', result: 'miss' }), 1);
  assert.equal(await h.metric('srsp_http_edge_cache_requests_total', { cache: 'playlist', result: 'hit' }), 2);
});

test('playlist micro-cache: after the TTL the origin is asked again', async () => {
  await edgeGet(h.port, '/live/pc.m3u8');
  const before = origin.hits('/live/pc.m3u8');
  clock.advance(TTL_MS - 1);
  await edgeGet(h.port, '/live/pc.m3u8');
  assert.equal(origin.hits('/live/pc.m3u8'), before, 'a millisecond before the TTL: still shared');
  clock.advance(1);
  await edgeGet(h.port, '/live/pc.m3u8');
  assert.equal(origin.hits('/live/pc.m3u8'), before + 1);
});

test('playlist micro-cache: never longer than half the target duration', async () => {
  await edgeGet(h.port, '/live/short.m3u8');
  await edgeGet(h.port, '/live/short.m3u8');
  clock.advance(99);
  await edgeGet(h.port, '/live/short.m3u8');
  assert.equal(origin.hits('/live/short.m3u8'), 1, 'within 100 ms: shared');
  clock.advance(1);
  await edgeGet(h.port, '/live/short.m3u8');
  assert.equal(origin.hits('/live/short.m3u8'), 2, '0.2 s target: kept 100 ms, not the configured 400 ms');
});

test('playlist micro-cache: concurrent requests coalesce into one origin fetch', async () => {
  const answers = await Promise.all(Array.from({ length: 10 }, () => edgeGet(h.port, '/live/slow.m3u8')));
  for (const r of answers) {
    assert.equal(r.status, 200);
    assert.match(r.text, /^pc-1\.ts\?spbhid=[0-9a-f]+$/m);
  }
  assert.equal(origin.hits('/live/slow.m3u8'), 1);
  assert.ok((await h.metric('srsp_http_edge_cache_requests_total', { cache: 'playlist', result: 'coalesced' })) >= 9);
});

test('playlist micro-cache: an SRS hls_ctx is part of the key (each player session reaches the origin)', async () => {
  for (const ctx of ['c1', 'c2', 'c1']) assert.equal((await edgeGet(h.port, `/live/ctx.m3u8?hls_ctx=${ctx}`)).status, 200);
  assert.deepEqual(origin.requests.filter((r) => r.url.startsWith('/live/ctx.m3u8')).map((r) => r.url), ['/live/ctx.m3u8?hls_ctx=c1', '/live/ctx.m3u8?hls_ctx=c2']);
});

test('playlist micro-cache: master playlists (SRS hands each player its own session in one) are never shared', async () => {
  const answers = await Promise.all(Array.from({ length: 3 }, () => edgeGet(h.port, '/live/srs.m3u8')));
  for (const r of answers) assert.match(r.text, /^\/live\/srs\.m3u8\?spbhid=[0-9a-f]+&hls_ctx=per-player$/m);
  await edgeGet(h.port, '/live/srs.m3u8');
  assert.equal(origin.hits('/live/srs.m3u8'), 4, 'every player asked the origin, even those arriving during a fetch');
});
