import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startHarness, countingOrigin, edgeGet, originBody, type Harness } from './support.ts';

const SEGMENT = Buffer.alloc(188 * 500, 0x47);
const FMP4 = Buffer.from('moof-mdat'.repeat(100));
let h: Harness;
let origin: Awaited<ReturnType<typeof countingOrigin>>;
let id: string;

before(async () => {
  h = await startHarness();
  origin = await countingOrigin({
    '/live/hit.m3u8': { type: 'application/vnd.apple.mpegurl', body: '#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\nhit-1.ts\n#EXTINF:2,\nhit-2.m4s\n' },
    '/live/hit-1.ts': { type: 'video/mp2t', body: SEGMENT, headers: { 'cache-control': 'no-cache', etag: '"s1"' } },
    '/live/hit-2.m4s': { type: 'video/iso.segment', body: FMP4 },
    '/live/hit-3.ts': { type: 'video/mp2t', body: SEGMENT },
  });
  assert.equal(await h.register(originBody(origin.port, 'hit')), 200);
  const playlist = await edgeGet(h.port, '/live/hit.m3u8');
  id = /hit-1\.ts\?spbhid=([0-9a-f]+)/.exec(playlist.text)![1]!;
});
after(async () => {
  await h.close();
  await origin.close();
});

test('segment cache: the first request of a segment reaches the origin, the next ones are answered from memory', async () => {
  const answers = [];
  for (let i = 0; i < 5; i++) answers.push(await edgeGet(h.port, `/live/hit-1.ts?spbhid=${id}`));
  for (const a of answers) {
    assert.equal(a.status, 200);
    assert.deepEqual(a.body, SEGMENT);
    assert.equal(a.headers['content-type'], 'video/mp2t');
    assert.equal(Number(a.headers['content-length']), SEGMENT.length);
    assert.equal(a.headers.etag, '"s1"', 'end-to-end headers of the origin are kept');
    assert.equal(a.headers['access-control-allow-origin'], '*');
  }
  assert.equal(origin.hits('/live/hit-1.ts'), 1);
  assert.equal(await h.metric('srsp_http_edge_cache_requests_total', { cache: 'segment', result: 'miss' }), 1);
  assert.equal(await h.metric('srsp_http_edge_cache_requests_total', { cache: 'segment', result: 'hit' }), 4);
  assert.equal(await h.metric('srsp_http_edge_requests_total', { kind: 'hls-segment', status: '200' }), 5);
  assert.equal(await h.metric('srsp_http_edge_bytes_out_total', { kind: 'hls-segment' }), 5 * SEGMENT.length);
  assert.ok((await h.metric('srsp_http_edge_cache_bytes', { cache: 'segment' })) >= SEGMENT.length);
});

test('segment cache: players with different hls_ctx share one copy, and the origin still gets the full query once', async () => {
  for (const ctx of ['aaa', 'bbb', 'ccc']) {
    const r = await edgeGet(h.port, `/live/hit-2.m4s?spbhid=${id}&hls_ctx=${ctx}`);
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, FMP4);
  }
  assert.equal(origin.hits('/live/hit-2.m4s'), 1);
  assert.equal(origin.requests.find((r) => r.url.startsWith('/live/hit-2.m4s'))!.url, `/live/hit-2.m4s?spbhid=${id}&hls_ctx=aaa`);
});

test('segment cache: other query parameters (tokens) are part of the key', async () => {
  for (const token of ['t1', 't2', 't1']) {
    const r = await edgeGet(h.port, `/live/hit-3.ts?spbhid=${id}&token=${token}`);
    assert.equal(r.status, 200);
  }
  assert.deepEqual(
    origin.requests.filter((r) => r.url.startsWith('/live/hit-3.ts')).map((r) => r.url),
    [`/live/hit-3.ts?spbhid=${id}&token=t1`, `/live/hit-3.ts?spbhid=${id}&token=t2`],
  );
});
