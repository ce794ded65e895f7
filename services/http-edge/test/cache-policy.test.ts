import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  cacheKey, isCacheableSegment, isShareableRequest, isStorableResponse, playlistTtlMs, PLAYLIST_KEY_IGNORED, SEGMENT_KEY_IGNORED,
} from '../src/cache/policy.ts';

test('cache policy: segment keys ignore spbhid and hls_ctx, keep every other parameter in order', () => {
  assert.equal(cacheKey('o1', '/live/s-1.ts?spbhid=abc1234&hls_ctx=x9', SEGMENT_KEY_IGNORED), 'o1\n/live/s-1.ts');
  assert.equal(cacheKey('o1', '/live/s-1.ts?token=t&spbhid=abc1234&a=1', SEGMENT_KEY_IGNORED), 'o1\n/live/s-1.ts?token=t&a=1');
  assert.equal(cacheKey('o1', '/live/s-1.ts', SEGMENT_KEY_IGNORED), 'o1\n/live/s-1.ts');
  assert.notEqual(cacheKey('o1', '/live/s-1.ts', SEGMENT_KEY_IGNORED), cacheKey('o2', '/live/s-1.ts', SEGMENT_KEY_IGNORED), 'per origin');
  assert.notEqual(cacheKey('o1', '/live/s-1.ts?token=a', SEGMENT_KEY_IGNORED), cacheKey('o1', '/live/s-1.ts?token=b', SEGMENT_KEY_IGNORED));
  // A playlist's hls_ctx names the SRS player session: it stays in the key.
  assert.equal(cacheKey('o1', '/live/s.m3u8?spbhid=abc1234&hls_ctx=x9', PLAYLIST_KEY_IGNORED), 'o1\n/live/s.m3u8?hls_ctx=x9');
  assert.equal(cacheKey('o1', '/live/s.m3u8?spbhid&&', PLAYLIST_KEY_IGNORED), 'o1\n/live/s.m3u8');
});

test('cache policy: media segments and init sections are cacheable, keys and live streams are not', () => {
  for (const p of ['/live/a-1.ts', '/live/a-1.m4s', '/live/init.mp4', '/live/a-1.aac', '/dash/a-1.m4a', '/dash/a-init.m4v']) assert.ok(isCacheableSegment(p), p);
  for (const p of ['/live/key-1.key', '/live/a.flv', '/live/a.m3u8', '/live/a.tsx', '/live/a.mpd']) assert.ok(!isCacheableSegment(p), p);
});

test('cache policy: ranges and credentials keep a request out of the shared caches', () => {
  assert.ok(isShareableRequest(['Host', 'h:1', 'User-Agent', 'x', 'Accept', '*/*']));
  for (const name of ['Range', 'range', 'Authorization', 'COOKIE']) {
    assert.equal(isShareableRequest(['Host', 'h:1', name, 'v']), false, name);
  }
});

test('cache policy: answers with cookies, Vary, no-store or private are never shared; no-cache is', () => {
  assert.ok(isStorableResponse(['content-type', 'video/mp2t', 'cache-control', 'no-cache']));
  assert.ok(isStorableResponse(['cache-control', 'max-age=10, public']));
  assert.ok(isStorableResponse(['cache-control', 'no-storex']));
  for (const h of [['set-cookie', 'a=1'], ['vary', 'accept-encoding'], ['cache-control', 'no-store'], ['cache-control', 'max-age=0, private'], ['cache-control', 'private="set-cookie"'], ['cache-control', 'No-Store']]) {
    assert.equal(isStorableResponse(h), false, h.join(': '));
  }
});

test('cache policy: a playlist is cached for at most half its target (or part) duration', () => {
  assert.equal(playlistTtlMs('#EXTM3U\n#EXT-X-TARGETDURATION:10\n', 500), 500);
  assert.equal(playlistTtlMs('#EXTM3U\n#EXT-X-TARGETDURATION:0.6\n', 500), 300);
  assert.equal(playlistTtlMs('#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXT-X-PART-INF:PART-TARGET=0.334\n', 500), 167);
  assert.equal(playlistTtlMs('#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\nv.m3u8?hls_ctx=abc\n', 400), 0, 'a master playlist is not cached');
  assert.equal(playlistTtlMs('#EXTM3U\n#EXT-X-TARGETDURATION:0\n', 500), 0, 'a zero target duration is never cached');
});
