import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import {
  startProxy, startNginxOrigin, startRedis, startNats, waitFor,
  type NginxOrigin, type ProxyHandle, type RunningServer, type Spawned,
} from '../support/index.ts';
import { decodeFrames, publishRtmp } from './http-media.ts';

/**
 * Cluster mode: one registry on a Redis balancer, two separate http-edge processes, all on one
 * NATS. A player takes the playlist from one edge and every segment from the other: the session
 * id minted by the first resolves on the second through the shared store.
 */
let redis: RunningServer;
let nats: RunningServer;
let registry: ProxyHandle;
let edgeA: ProxyHandle;
let edgeB: ProxyHandle;
let nginx: NginxOrigin;
let publisher: Spawned;
let dir: string;

async function get(url: string): Promise<{ status: number; type: string | undefined; text: string; bytes: number }> {
  const r = await request(url);
  const body = Buffer.from(await r.body.arrayBuffer());
  return { status: r.statusCode, type: r.headers['content-type'] as string | undefined, text: body.toString('latin1'), bytes: body.length };
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'srsp-hls-cluster-'));
  [redis, nats, nginx] = await Promise.all([startRedis(), startNats(), startNginxOrigin()]);
  const env = {
    PROXY_NATS_URL: nats.url,
    PROXY_LOAD_BALANCER_TYPE: 'redis',
    PROXY_REDIS_HOST: '127.0.0.1',
    PROXY_REDIS_PORT: String(redis.port),
    PROXY_REDIS_KEY_PREFIX: `srsp-http-cluster-${process.pid}:`,
  };
  registry = await startProxy({ role: 'registry', env });
  [edgeA, edgeB] = await Promise.all([startProxy({ role: 'http-edge', env }), startProxy({ role: 'http-edge', env })]);
  const reg = await registry.register(nginx.heartbeatBody());
  assert.equal(reg.status, 200, reg.body);
  publisher = publishRtmp(`rtmp://127.0.0.1:${nginx.rtmpPort}/live/c1`);
  await waitFor(async () => {
    const p = await get(`http://127.0.0.1:${nginx.httpPort}/live/c1.m3u8`);
    return p.status === 200 && p.text.split('\n').filter((l) => l.endsWith('.ts')).length >= 3;
  }, { timeoutMs: 30_000, intervalMs: 250, what: 'nginx HLS playlist with 3 segments' });
});

after(async () => {
  await publisher?.stop('SIGKILL');
  await Promise.all([edgeA?.stop(), edgeB?.stop()]);
  await registry?.stop();
  await Promise.all([nginx?.stop(), nats?.stop(), redis?.stop()]);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('playlist from edge A, every segment from edge B: all 200 MPEG-TS, equal to the origin\'s bytes', async () => {
  const playlist = await get(`http://127.0.0.1:${edgeA.ports.http}/live/c1.m3u8`);
  assert.equal(playlist.status, 200);
  const segments = playlist.text.split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
  assert.ok(segments.length >= 3, playlist.text);
  for (const uri of segments) {
    assert.match(uri, /^c1-\d+\.ts\?spbhid=[0-9a-f]{7}$/);
    const viaB = await get(`http://127.0.0.1:${edgeB.ports.http}/live/${uri}`);
    const direct = await get(`http://127.0.0.1:${nginx.httpPort}/live/${uri.split('?')[0]}`);
    // A segment may age out of nginx's window between the two reads; both then agree on 404.
    assert.equal(viaB.status, direct.status, uri);
    if (direct.status !== 200) continue;
    assert.equal(viaB.type, 'video/mp2t');
    assert.equal(viaB.bytes, direct.bytes, uri);
    assert.equal(viaB.text.charCodeAt(0), 0x47);
  }
});

test('ffmpeg plays the whole stream with the playlist from edge A and the segments from edge B', async () => {
  const playlist = await get(`http://127.0.0.1:${edgeA.ports.http}/live/c1.m3u8`);
  assert.equal(playlist.status, 200);
  // Point every segment at edge B, keeping each URI (and its session id) as edge A wrote it.
  const local = playlist.text
    .split('\n')
    .map((l) => (l.trim() !== '' && !l.startsWith('#') ? `http://127.0.0.1:${edgeB.ports.http}/live/${l.trim()}` : l))
    .join('\n')
    // A finished list: ffmpeg plays every segment once instead of reloading a local file.
    .concat('\n#EXT-X-ENDLIST\n');
  const file = join(dir, 'via-b.m3u8');
  writeFileSync(file, local);
  const segments = local.split('\n').filter((l) => l.startsWith('http://')).length;
  const played = await decodeFrames(file, { frames: 100_000, inputArgs: ['-protocol_whitelist', 'file,http,tcp'] });
  assert.equal(played.exitCode, 0, played.output);
  // 25 fps, 1 s fragments: the whole list decodes (nginx cuts on keyframes, so allow ±1 GOP).
  assert.ok(played.frames >= (segments - 1) * 25, `decoded ${played.frames} frames of ${segments} segments:\n${played.output}`);
  const metrics = await get(`http://127.0.0.1:${edgeB.ports.ops}/metrics`);
  const served = /srsp_http_edge_requests_total\{[^}]*kind="hls-segment"[^}]*status="200"[^}]*\} (\d+)/.exec(metrics.text);
  assert.ok(served && Number(served[1]) >= segments, `edge B served ${served?.[1]} segments`);
  const metricsA = await get(`http://127.0.0.1:${edgeA.ports.ops}/metrics`);
  assert.match(metricsA.text, /srsp_http_edge_requests_total\{kind="hls-playlist",status="200"[^}]*\} [1-9]/, 'edge A served the playlists');
  assert.doesNotMatch(metricsA.text, /srsp_http_edge_requests_total\{kind="hls-segment",status="200"/, 'edge A served no segment');
});
