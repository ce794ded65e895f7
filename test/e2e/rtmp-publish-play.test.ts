import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'undici';
import { startNginxOrigin, startProxy, waitFor, type NginxOrigin, type ProxyHandle } from '../support/index.ts';
import { CLIP, callbackServer, probe, publishClip } from '../../services/rtmp-edge/test/e2e-helpers.ts';

let origin: NginxOrigin;
let proxy: ProxyHandle;
let hooks: Awaited<ReturnType<typeof callbackServer>>;

before(async () => {
  hooks = await callbackServer();
  origin = await startNginxOrigin({ onPublishUrl: hooks.url('/publish'), onPlayUrl: hooks.url('/play') });
  proxy = await startProxy();
  assert.equal((await proxy.register(origin.heartbeatBody())).status, 200);
});

after(async () => {
  await proxy?.stop();
  await origin?.stop();
  await hooks?.close();
});

test('ffmpeg publishes through the edge with ?secret=abc and ffprobe plays it back decoded', async () => {
  const pub = publishClip(`rtmp://127.0.0.1:${proxy.ports.rtmp}/live/e2e?secret=abc`, { loops: 2 });
  try {
    const call = await waitFor(() => hooks.calls.find((c) => c.path === '/publish'), { timeoutMs: 10_000, what: 'on_publish', procs: [pub, proxy.proc] });
    assert.equal(call.body.get('name'), 'e2e');
    assert.equal(call.body.get('secret'), 'abc', 'the publish query reaches the origin');
    assert.equal(call.body.get('app'), 'live');
    assert.match(call.body.get('tcurl') ?? '', new RegExp(`^rtmp://127\\.0\\.0\\.1:${proxy.ports.rtmp}/live`));

    const r = await probe(`rtmp://127.0.0.1:${proxy.ports.rtmp}/live/e2e`);
    assert.ok(r.video, r.output);
    assert.equal(r.video.codec, CLIP.video);
    assert.equal(r.video.width, CLIP.width);
    assert.equal(r.video.height, CLIP.height);
    assert.ok(r.video.frames > 0, `decoded video frames: ${r.video.frames}`);
    assert.equal(r.audio?.codec, CLIP.audio);
    assert.ok((r.audio?.frames ?? 0) > 0);
    assert.ok(hooks.calls.some((c) => c.path === '/play' && c.body.get('name') === 'e2e'));
  } finally {
    await pub.stop();
  }
  // Metrics: both roles were relayed and counted.
  const m = await (await request(`http://127.0.0.1:${proxy.ports.ops}/metrics`)).body.text();
  assert.match(m, /srsp_rtmp_sessions_total\{role="publish"[^}]*\} [1-9]/);
  assert.match(m, /srsp_rtmp_sessions_total\{role="play"[^}]*\} [1-9]/);
  assert.match(m, /srsp_rtmp_bytes_total\{direction="in"[^}]*\} [1-9]\d{4,}/);
  assert.match(m, /srsp_rtmp_setup_seconds_count\{[^}]*role="publish"[^}]*\} [1-9]/);
});
