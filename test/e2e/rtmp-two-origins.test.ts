import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { startNginxOrigin, startProxy, waitFor, type NginxOrigin, type ProxyHandle } from '../support/index.ts';
import { CLIP, callbackServer, probe, publishClip } from '../../services/rtmp-edge/test/e2e-helpers.ts';
import { RawRtmpClient } from '../../services/rtmp-edge/test/rtmp-client.ts';

// Uniform random placement: with 12 streams both origins are used except with p = 2^-11.
const STREAMS = 12;

let origins: NginxOrigin[] = [];
let proxy: ProxyHandle;
let hooks: Awaited<ReturnType<typeof callbackServer>>;

before(async () => {
  hooks = await callbackServer();
  origins = [
    await startNginxOrigin({ onPublishUrl: hooks.url('/o0/publish'), onPlayUrl: hooks.url('/o0/play') }),
    await startNginxOrigin({ onPublishUrl: hooks.url('/o1/publish'), onPlayUrl: hooks.url('/o1/play') }),
  ];
  proxy = await startProxy();
  for (const o of origins) assert.equal((await proxy.register(o.heartbeatBody())).status, 200);
});

after(async () => {
  await proxy?.stop();
  for (const o of origins) await o.stop();
  await hooks?.close();
});

function originOf(kind: 'publish' | 'play', name: string): string[] {
  return hooks.calls.filter((c) => c.path.endsWith(`/${kind}`) && c.body.get('name') === name).map((c) => c.path.split('/')[1]!);
}

test('streams spread over two origins; every player reaches the origin of its publisher', async () => {
  const tcUrl = `rtmp://127.0.0.1:${proxy.ports.rtmp}/live`;
  const publishers: RawRtmpClient[] = [];
  try {
    for (let i = 0; i < STREAMS; i++) {
      const c = await RawRtmpClient.open(proxy.ports.rtmp);
      publishers.push(c);
      const st = await c.publish(tcUrl, `s${i}?k=${i}`);
      assert.equal(st.code, 'NetStream.Publish.Start', st.description);
    }
    const placed = Array.from({ length: STREAMS }, (_, i) => originOf('publish', `s${i}`));
    for (const p of placed) assert.equal(p.length, 1);
    assert.equal(new Set(placed.map((p) => p[0])).size, 2, `placement: ${placed.join(',')}`);

    // Two players per stream, each through a new edge connection.
    for (let i = 0; i < STREAMS; i++) {
      for (let k = 0; k < 2; k++) {
        const p = await RawRtmpClient.open(proxy.ports.rtmp);
        const st = await p.play(tcUrl, `s${i}`);
        assert.equal(st.code, 'NetStream.Play.Start', st.description);
        p.close();
      }
      await waitFor(() => originOf('play', `s${i}`).length === 2, { what: `on_play of s${i}` });
      assert.deepEqual(originOf('play', `s${i}`), [placed[i]![0], placed[i]![0]]);
    }
  } finally {
    for (const c of publishers) c.close();
  }
});

test('media published through the edge decodes through the edge, on each origin', async () => {
  // Two real publishers; their streams' placement is whatever the balancer picks.
  const names = ['media-a', 'media-b'];
  const pubs = names.map((n) => publishClip(`rtmp://127.0.0.1:${proxy.ports.rtmp}/live/${n}`, { loops: 3 }));
  try {
    for (const n of names) {
      await waitFor(() => originOf('publish', n).length === 1, { timeoutMs: 10_000, what: `on_publish ${n}` });
      const r = await probe(`rtmp://127.0.0.1:${proxy.ports.rtmp}/live/${n}`);
      assert.equal(r.video?.codec, CLIP.video, r.output);
      assert.equal(r.video?.width, CLIP.width);
      assert.equal(r.video?.height, CLIP.height);
      assert.ok((r.video?.frames ?? 0) > 0);
      assert.deepEqual(originOf('play', n), originOf('publish', n));
    }
  } finally {
    for (const p of pubs) await p.stop();
  }
});
