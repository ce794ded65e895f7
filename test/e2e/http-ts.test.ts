import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'undici';
import { freeTcpPort, startProxy, waitFor, newOriginIdentity, type ProxyHandle, type Spawned } from '../support/index.ts';
import { decodeFrames, isListening, serveHttpTs } from './http-media.ts';

/**
 * Live HTTP-TS through the standalone proxy. The origin is FFmpeg's own HTTP server
 * (`-listen 1`) serving MPEG-TS with SRS's Content-Type: it takes exactly one client, so the
 * edge's response is checked and decoded from the same request.
 */
let proxy: ProxyHandle;
let origin: Spawned | undefined;

before(async () => {
  proxy = await startProxy();
});
after(async () => {
  await origin?.stop('SIGKILL');
  await proxy?.stop();
});

test('live HTTP-TS through the edge: Content-Type is the origin\'s and ffmpeg decodes the relayed bytes', async () => {
  const port = await freeTcpPort();
  const contentType = 'video/MP2T';
  origin = serveHttpTs(port, '/live/ts1.ts', contentType);
  await waitFor(() => isListening(port), { timeoutMs: 10_000, what: 'ffmpeg HTTP-TS origin listening' });
  const reg = await proxy.register({ ip: '127.0.0.1', ...newOriginIdentity('ffmpeg-ts'), rtmp: ['1935'], http: [String(port)] });
  assert.equal(reg.status, 200, reg.body);

  const r = await request(`http://127.0.0.1:${proxy.ports.http}/live/ts1.ts?token=t1`);
  assert.equal(r.statusCode, 200);
  assert.equal(r.headers['content-type'], contentType);
  assert.equal(r.headers['access-control-allow-origin'], '*');
  const played = await decodeFrames(r.body, { frames: 50, inputArgs: ['-f', 'mpegts'] });
  assert.equal(played.frames, 50, `decoded ${played.frames} frames:\n${played.output}\n--- origin ---\n${origin.output()}`);
});
