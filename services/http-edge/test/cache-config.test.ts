import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, readConfig } from '@srs-proxy/runtime';
import { httpEdgeSchema } from '../src/index.ts';
import { startHarness, countingOrigin, edgeGet, originBody } from './support.ts';

test('cache settings: defaults, the 500 ms playlist ceiling, and bad values name their variable', () => {
  const d = readConfig(httpEdgeSchema, {});
  assert.equal(d.segmentCacheBytes, 64 * 1024 * 1024);
  assert.equal(d.segmentCacheTtl, 10_000);
  assert.equal(d.playlistCacheTtl, 500);
  assert.equal(readConfig(httpEdgeSchema, { PROXY_HLS_PLAYLIST_CACHE_TTL: '250ms' }).playlistCacheTtl, 250);
  for (const [env, value] of [
    ['PROXY_HLS_PLAYLIST_CACHE_TTL', '600ms'],
    ['PROXY_HLS_PLAYLIST_CACHE_TTL', '1s'],
    ['PROXY_HLS_SEGMENT_CACHE_BYTES', '-1'],
    ['PROXY_HLS_SEGMENT_CACHE_BYTES', '64M'],
    ['PROXY_HLS_SEGMENT_CACHE_TTL', 'soon'],
  ] as const) {
    assert.throws(() => readConfig(httpEdgeSchema, { [env]: value }), (err: unknown) => err instanceof ConfigError && err.message.includes(env), `${env}=${value}`);
  }
});

test('cache settings: 0 turns both caches off, every request reaches the origin', async () => {
  const h = await startHarness({ env: { PROXY_HLS_SEGMENT_CACHE_BYTES: '0', PROXY_HLS_PLAYLIST_CACHE_TTL: '0' } });
  const origin = await countingOrigin({
    '/live/off.m3u8': { type: 'application/vnd.apple.mpegurl', body: '#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10,\noff-1.ts\n' },
    '/live/off-1.ts': { type: 'video/mp2t', body: Buffer.alloc(1880, 0x47) },
  });
  try {
    assert.equal(await h.register(originBody(origin.port, 'off')), 200);
    let id = '';
    for (let i = 0; i < 3; i++) id = /spbhid=([0-9a-f]+)/.exec((await edgeGet(h.port, '/live/off.m3u8')).text)![1]!;
    for (let i = 0; i < 3; i++) assert.equal((await edgeGet(h.port, `/live/off-1.ts?spbhid=${id}`)).status, 200);
    assert.equal(origin.hits('/live/off.m3u8'), 3);
    assert.equal(origin.hits('/live/off-1.ts'), 3);
    assert.equal(await h.metric('srsp_http_edge_cache_requests_total'), 0);
  } finally {
    await h.close();
    await origin.close();
  }
});
