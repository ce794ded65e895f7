import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startHarness, countingOrigin, edgeGet, manualClock, originBody, type Harness } from './support.ts';

/** Cache budget of this suite: holds about eight 90 KB segments; objects over 100 KB (1/8) are not cached. */
const BUDGET = 800_000;
/** Segment TTL of this suite. */
const TTL_MS = 400;
/** The edge's clock: stands still unless a test moves it, so nothing expires while the machine is slow. */
const clock = manualClock();
const seg = (i: number, size = 90_000) => Buffer.alloc(size, i);
let h: Harness;
let origin: Awaited<ReturnType<typeof countingOrigin>>;
let id: string;

before(async () => {
  h = await startHarness({ env: { PROXY_HLS_SEGMENT_CACHE_BYTES: String(BUDGET), PROXY_HLS_SEGMENT_CACHE_TTL: `${TTL_MS}ms` }, now: clock.now });
  const docs: Parameters<typeof countingOrigin>[0] = {
    '/live/bd.m3u8': { type: 'application/vnd.apple.mpegurl', body: '#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\nbd-0.ts\n' },
    '/live/big.ts': { type: 'video/mp2t', body: seg(0xb, 150_000) },
    '/live/big-chunked.ts': { type: 'video/mp2t', body: seg(0xc, 150_000), chunked: true },
    '/live/small-chunked.ts': { type: 'video/mp2t', body: seg(0xd, 20_000), chunked: true },
  };
  for (let i = 0; i < 12; i++) docs[`/live/bd-${i}.ts`] = { type: 'video/mp2t', body: seg(i) };
  origin = await countingOrigin(docs);
  assert.equal(await h.register(originBody(origin.port, 'bd')), 200);
  id = /spbhid=([0-9a-f]+)/.exec((await edgeGet(h.port, '/live/bd.m3u8')).text)![1]!;
});
after(async () => {
  await h.close();
  await origin.close();
});

test('eviction: past the byte budget the least recently used segments are dropped, and the budget holds', async () => {
  for (let i = 0; i < 12; i++) {
    const r = await edgeGet(h.port, `/live/bd-${i}.ts?spbhid=${id}`);
    assert.ok(r.body.equals(seg(i)));
    assert.ok((await h.metric('srsp_http_edge_cache_bytes', { cache: 'segment' })) <= BUDGET);
  }
  assert.ok((await h.metric('srsp_http_edge_cache_evictions_total', { cache: 'segment' })) >= 3);
  // The newest are still there; the oldest was evicted and is fetched again.
  await edgeGet(h.port, `/live/bd-11.ts?spbhid=${id}`);
  assert.equal(origin.hits('/live/bd-11.ts'), 1);
  const again = await edgeGet(h.port, `/live/bd-0.ts?spbhid=${id}`);
  assert.ok(again.body.equals(seg(0)));
  assert.equal(origin.hits('/live/bd-0.ts'), 2);
});

test('bounds: a segment over 1/8 of the budget is relayed whole but not kept', async () => {
  for (let i = 0; i < 2; i++) {
    const r = await edgeGet(h.port, `/live/big.ts?spbhid=${id}`);
    assert.equal(r.status, 200);
    assert.equal(Number(r.headers['content-length']), 150_000);
    assert.ok(r.body.equals(seg(0xb, 150_000)));
  }
  assert.equal(origin.hits('/live/big.ts'), 2);
});

test('bounds: a body without a length that outgrows the limit while read is fetched again and relayed, not kept', async () => {
  const r = await edgeGet(h.port, `/live/big-chunked.ts?spbhid=${id}`);
  assert.equal(r.status, 200);
  assert.ok(r.body.equals(seg(0xc, 150_000)));
  const small = await edgeGet(h.port, `/live/small-chunked.ts?spbhid=${id}`);
  await edgeGet(h.port, `/live/small-chunked.ts?spbhid=${id}`);
  assert.ok(small.body.equals(seg(0xd, 20_000)));
  assert.equal(Number(small.headers['content-length']), 20_000, 'a body held in memory goes out with its length');
  assert.equal(origin.hits('/live/small-chunked.ts'), 1, 'a small chunked body is cached');
  assert.equal(origin.hits('/live/big-chunked.ts'), 2, 'the shared fetch was abandoned, the client fetched it itself');
});

test('TTL: a cached segment is asked from the origin again once it expired', async () => {
  await edgeGet(h.port, `/live/bd-5.ts?spbhid=${id}`);
  const before = origin.hits('/live/bd-5.ts');
  await edgeGet(h.port, `/live/bd-5.ts?spbhid=${id}`);
  assert.equal(origin.hits('/live/bd-5.ts'), before, 'fresh: from memory');
  clock.advance(TTL_MS - 1);
  await edgeGet(h.port, `/live/bd-5.ts?spbhid=${id}`);
  assert.equal(origin.hits('/live/bd-5.ts'), before, 'a millisecond before the TTL: still from memory');
  clock.advance(1);
  const r = await edgeGet(h.port, `/live/bd-5.ts?spbhid=${id}`);
  assert.ok(r.body.equals(seg(5)));
  assert.equal(origin.hits('/live/bd-5.ts'), before + 1);
});
