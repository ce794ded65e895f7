import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startHarness, countingOrigin, edgeGet, originBody, type Harness } from './support.ts';

const SEGMENT = Buffer.alloc(188 * 50, 0x47);
let h: Harness;
let origin: Awaited<ReturnType<typeof countingOrigin>>;
let id: string;

before(async () => {
  h = await startHarness();
  origin = await countingOrigin({
    '/live/by.m3u8': { type: 'application/vnd.apple.mpegurl', body: '#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\nby-1.ts\n' },
    '/live/by-1.ts': { type: 'video/mp2t', body: SEGMENT },
    '/live/cookie.ts': { type: 'video/mp2t', body: SEGMENT, headers: { 'set-cookie': 'session=abc' } },
    '/live/nostore.ts': { type: 'video/mp2t', body: SEGMENT, headers: { 'cache-control': 'no-store' } },
    '/live/private.m4s': { type: 'video/iso.segment', body: SEGMENT, headers: { 'cache-control': 'private, max-age=5' } },
    '/live/vary.ts': { type: 'video/mp2t', body: SEGMENT, headers: { vary: 'user-agent' } },
    '/live/key-1.key': { type: 'application/octet-stream', body: Buffer.alloc(16, 1) },
    '/live/private.m3u8': { type: 'application/vnd.apple.mpegurl', body: '#EXTM3U\n#EXTINF:2,\nby-1.ts\n', headers: { 'set-cookie': 'who=me' } },
  });
  assert.equal(await h.register(originBody(origin.port, 'by')), 200);
  id = /spbhid=([0-9a-f]+)/.exec((await edgeGet(h.port, '/live/by.m3u8')).text)![1]!;
});
after(async () => {
  await h.close();
  await origin.close();
});

test('bypass: Range, Authorization and Cookie requests always reach the origin with their headers', async () => {
  const path = `/live/by-1.ts?spbhid=${id}`;
  for (const headers of [{ range: 'bytes=0-187' }, { authorization: 'Bearer t' }, { cookie: 'a=b' }] as Array<Record<string, string>>) {
    const r = await edgeGet(h.port, path, headers);
    assert.equal(r.status, 200);
    const [name, value] = Object.entries(headers)[0]!;
    assert.equal(origin.requests.at(-1)!.headers[name], value, `${name} forwarded`);
  }
  assert.equal(origin.hits('/live/by-1.ts'), 3);
  // None of them filled the cache: the first shareable request is a miss.
  await edgeGet(h.port, path);
  await edgeGet(h.port, path);
  assert.equal(origin.hits('/live/by-1.ts'), 4);
  const head = await edgeGet(h.port, path, {}, 'HEAD');
  assert.equal(head.status, 200);
  assert.equal(origin.hits('/live/by-1.ts'), 5, 'HEAD asks the origin');
  assert.equal(await h.metric('srsp_http_edge_cache_requests_total', { cache: 'segment', result: 'bypass' }), 4, 'Range, Authorization, Cookie, HEAD');
});

test('bypass: answers that set cookies, vary, or forbid shared storage are given to their asker only', async () => {
  for (const p of ['/live/cookie.ts', '/live/nostore.ts', '/live/private.m4s', '/live/vary.ts']) {
    for (let i = 0; i < 2; i++) {
      const r = await edgeGet(h.port, `${p}?spbhid=${id}`);
      assert.equal(r.status, 200, p);
      assert.ok(r.body.equals(SEGMENT), p);
    }
    assert.equal(origin.hits(p), 2, p);
  }
  const a = await edgeGet(h.port, `/live/cookie.ts?spbhid=${id}`);
  assert.equal(a.headers['set-cookie'], 'session=abc', 'the asker gets its cookie');
});

test('bypass: origin errors are not stored; keys and other non-media files are not cached', async () => {
  for (let i = 0; i < 2; i++) assert.equal((await edgeGet(h.port, `/live/gone-1.ts?spbhid=${id}`)).status, 404);
  assert.equal(origin.hits('/live/gone-1.ts'), 2);
  for (let i = 0; i < 2; i++) assert.equal((await edgeGet(h.port, `/live/key-1.key?spbhid=${id}`)).status, 200);
  assert.equal(origin.hits('/live/key-1.key'), 2);
});

test('bypass: a playlist answer that sets a cookie is not shared through the micro-cache', async () => {
  for (let i = 0; i < 2; i++) {
    const r = await edgeGet(h.port, '/live/private.m3u8');
    assert.equal(r.status, 200);
    assert.match(r.text, /by-1\.ts\?spbhid=/);
  }
  assert.equal(origin.hits('/live/private.m3u8'), 2);
});
