import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'undici';
import { startHarness, countingOrigin, edgeGet, originBody, waitUntil, type Harness } from './support.ts';

/** The origin holds each answer this long, so every concurrent request arrives while the first is in flight. */
const ORIGIN_DELAY_MS = 300;
/** Concurrent players of one live segment. */
const PLAYERS = 20;
const SEGMENT = Buffer.alloc(1024 * 1024, 0x47);
let h: Harness;
let origin: Awaited<ReturnType<typeof countingOrigin>>;
let id: string;

before(async () => {
  h = await startHarness();
  origin = await countingOrigin({
    '/live/co.m3u8': { type: 'application/vnd.apple.mpegurl', body: '#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\nco-1.ts\n' },
    '/live/co-1.ts': { type: 'video/mp2t', body: SEGMENT, delayMs: ORIGIN_DELAY_MS },
    '/live/co-2.ts': { type: 'video/mp2t', body: SEGMENT, delayMs: ORIGIN_DELAY_MS },
  });
  assert.equal(await h.register(originBody(origin.port, 'co')), 200);
  id = /spbhid=([0-9a-f]+)/.exec((await edgeGet(h.port, '/live/co.m3u8')).text)![1]!;
});
after(async () => {
  await h.close();
  await origin.close();
});

test('coalescing: N players asking for one segment at once cause one origin fetch', async () => {
  const answers = await Promise.all(Array.from({ length: PLAYERS }, () => edgeGet(h.port, `/live/co-1.ts?spbhid=${id}`)));
  for (const a of answers) {
    assert.equal(a.status, 200);
    assert.equal(a.body.length, SEGMENT.length);
    assert.ok(a.body.equals(SEGMENT));
  }
  assert.equal(origin.hits('/live/co-1.ts'), 1);
  assert.equal(await h.metric('srsp_http_edge_cache_requests_total', { cache: 'segment', result: 'miss' }), 1);
  assert.equal(await h.metric('srsp_http_edge_cache_requests_total', { cache: 'segment', result: 'coalesced' }), PLAYERS - 1);
});

test('coalescing: the player that triggered the fetch leaving does not cut it short for the others', async () => {
  const ac = new AbortController();
  const first = request(`http://127.0.0.1:${h.port}/live/co-2.ts?spbhid=${id}`, { signal: ac.signal }).catch((err: Error) => err);
  await waitUntil(() => origin.hits('/live/co-2.ts') === 1, 2_000, 'the fetch to start');
  const others = Array.from({ length: 5 }, () => edgeGet(h.port, `/live/co-2.ts?spbhid=${id}`));
  ac.abort();
  assert.ok((await first) instanceof Error, 'the first player went away');
  for (const a of await Promise.all(others)) {
    assert.equal(a.status, 200);
    assert.ok(a.body.equals(SEGMENT));
  }
  assert.equal(origin.hits('/live/co-2.ts'), 1);
  const later = await edgeGet(h.port, `/live/co-2.ts?spbhid=${id}`);
  assert.ok(later.body.equals(SEGMENT));
  assert.equal(origin.hits('/live/co-2.ts'), 1, 'stored for later players too');
});
