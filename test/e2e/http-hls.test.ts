import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'undici';
import { startProxy, startNginxOrigin, waitFor, type NginxOrigin, type ProxyHandle, type Spawned } from '../support/index.ts';
import { decodeFrames, publishRtmp } from './http-media.ts';

/**
 * HLS and MPEG-DASH through the standalone proxy from a real nginx + libnginx-mod-rtmp origin,
 * fed by FFmpeg over RTMP and registered through the System API.
 */
let proxy: ProxyHandle;
let nginx: NginxOrigin;
let publisher: Spawned;

async function get(url: string): Promise<{ status: number; type: string | undefined; text: string; bytes: number }> {
  const r = await request(url);
  const body = Buffer.from(await r.body.arrayBuffer());
  return { status: r.statusCode, type: r.headers['content-type'] as string | undefined, text: body.toString('latin1'), bytes: body.length };
}

/** URI lines of a playlist (segments or variants), in order. */
function uriLines(playlist: string): string[] {
  return playlist.split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
}

before(async () => {
  nginx = await startNginxOrigin();
  proxy = await startProxy();
  const reg = await proxy.register(nginx.heartbeatBody());
  assert.equal(reg.status, 200, reg.body);
  publisher = publishRtmp(`rtmp://127.0.0.1:${nginx.rtmpPort}/live/hls1`);
  // nginx-rtmp writes the playlist after its first fragments: a few seconds of publishing.
  await waitFor(async () => {
    const p = await get(`http://127.0.0.1:${nginx.httpPort}/live/hls1.m3u8`);
    return p.status === 200 && uriLines(p.text).length >= 3;
  }, { timeoutMs: 30_000, intervalMs: 250, what: 'nginx HLS playlist with 3 segments' });
});

after(async () => {
  await publisher?.stop('SIGKILL');
  await proxy?.stop();
  await nginx?.stop();
});

test('playlist and segments through the edge: every URI tagged, Content-Types equal the origin\'s', async () => {
  const direct = await get(`http://127.0.0.1:${nginx.httpPort}/live/hls1.m3u8`);
  const viaEdge = await get(`http://127.0.0.1:${proxy.ports.http}/live/hls1.m3u8`);
  assert.equal(viaEdge.status, 200);
  assert.equal(viaEdge.type, direct.type);
  assert.equal(viaEdge.type, 'application/vnd.apple.mpegurl');
  const uris = uriLines(viaEdge.text);
  assert.ok(uris.length >= 3, viaEdge.text);
  const id = /spbhid=([0-9a-f]{7})/.exec(uris[0]!)?.[1];
  assert.ok(id, viaEdge.text);
  for (const uri of uris) assert.match(uri, new RegExp(`^hls1-\\d+\\.ts\\?spbhid=${id}$`));

  const segDirect = await get(`http://127.0.0.1:${nginx.httpPort}/live/${uris.at(-1)!.split('?')[0]}`);
  const seg = await get(`http://127.0.0.1:${proxy.ports.http}/live/${uris.at(-1)}`);
  assert.equal(seg.status, 200);
  assert.equal(seg.type, segDirect.type);
  assert.equal(seg.type, 'video/mp2t');
  assert.equal(seg.bytes, segDirect.bytes);
  assert.equal(seg.text.charCodeAt(0), 0x47, 'MPEG-TS sync byte');

  const unknown = await get(`http://127.0.0.1:${proxy.ports.http}/live/hls1-0.ts?spbhid=0000000`);
  assert.equal(unknown.status, 404);
  assert.match(unknown.text, /unknown or expired HLS session id/);
});

test('ffmpeg plays HLS through the edge (playlist and every segment via the proxy)', async () => {
  const played = await decodeFrames(`http://127.0.0.1:${proxy.ports.http}/live/hls1.m3u8`, { frames: 50 });
  assert.equal(played.frames, 50, `decoded ${played.frames} frames:\n${played.output}`);
  // Every segment the player fetched went through the edge with the session id.
  const log = await get(`http://127.0.0.1:${proxy.ports.ops}/metrics`);
  assert.match(log.text, /srsp_http_edge_requests_total\{[^}]*kind="hls-segment"[^}]*status="200"[^}]*\} [1-9]/);
});

test('ffmpeg plays MPEG-DASH through the edge: manifest templates tagged, segments follow the session', async () => {
  await waitFor(async () => (await get(`http://127.0.0.1:${nginx.httpPort}/live/hls1.mpd`)).status === 200, { timeoutMs: 20_000, intervalMs: 250, what: 'nginx DASH manifest' });
  const direct = await get(`http://127.0.0.1:${nginx.httpPort}/live/hls1.mpd`);
  const mpd = await get(`http://127.0.0.1:${proxy.ports.http}/live/hls1.mpd`);
  assert.equal(mpd.status, 200);
  assert.equal(mpd.type, direct.type);
  assert.match(mpd.text, /media="hls1-\$Time\$\.m4v\?spbhid=[0-9a-f]{7}"/);
  assert.match(mpd.text, /initialization="hls1-init\.m4a\?spbhid=[0-9a-f]{7}"/);
  const played = await decodeFrames(`http://127.0.0.1:${proxy.ports.http}/live/hls1.mpd`, { frames: 25 });
  assert.equal(played.frames, 25, `decoded ${played.frames} frames:\n${played.output}`);
});
