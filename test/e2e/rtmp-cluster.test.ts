import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { startNats, startNginxOrigin, startProxy, startRedis, waitFor, type NginxOrigin, type ProxyHandle, type RunningServer } from '../support/index.ts';
import { CLIP, callbackServer, probe, publishClip } from '../../services/rtmp-edge/test/e2e-helpers.ts';
import { RawRtmpClient } from '../../services/rtmp-edge/test/rtmp-client.ts';

/**
 * Cluster mode: a registry process on a Redis balancer and two separate rtmp-edge processes, all
 * on one NATS. A publisher on edge A and players on edge B meet on the same origin.
 */
let redis: RunningServer;
let nats: RunningServer;
let registry: ProxyHandle;
let edgeA: ProxyHandle;
let edgeB: ProxyHandle;
let origins: NginxOrigin[] = [];
let hooks: Awaited<ReturnType<typeof callbackServer>>;

before(async () => {
  hooks = await callbackServer();
  [redis, nats] = await Promise.all([startRedis(), startNats()]);
  origins = [
    await startNginxOrigin({ onPublishUrl: hooks.url('/o0/publish'), onPlayUrl: hooks.url('/o0/play') }),
    await startNginxOrigin({ onPublishUrl: hooks.url('/o1/publish'), onPlayUrl: hooks.url('/o1/play') }),
  ];
  const env = {
    PROXY_NATS_URL: nats.url,
    PROXY_LOAD_BALANCER_TYPE: 'redis',
    PROXY_REDIS_HOST: '127.0.0.1',
    PROXY_REDIS_PORT: String(redis.port),
    PROXY_REDIS_KEY_PREFIX: `srsp-rtmp-cluster-${process.pid}:`,
  };
  registry = await startProxy({ role: 'registry', env });
  [edgeA, edgeB] = await Promise.all([startProxy({ role: 'rtmp-edge', env }), startProxy({ role: 'rtmp-edge', env })]);
  for (const o of origins) assert.equal((await registry.register(o.heartbeatBody())).status, 200);
});

after(async () => {
  await Promise.all([edgeA?.stop(), edgeB?.stop()]);
  await registry?.stop();
  for (const o of origins) await o.stop();
  await Promise.all([nats?.stop(), redis?.stop(), hooks?.close()]);
});

const placed = (kind: string, name: string) => hooks.calls.filter((c) => c.path.endsWith(kind) && c.body.get('name') === name).map((c) => c.path.split('/')[1]);

test('publish on one rtmp-edge process, play decoded on another, same origin', async () => {
  const pub = publishClip(`rtmp://127.0.0.1:${edgeA.ports.rtmp}/live/cluster?secret=abc`, { loops: 3 });
  try {
    const call = await waitFor(() => hooks.calls.find((c) => c.body.get('name') === 'cluster'), { timeoutMs: 15_000, what: 'on_publish', procs: [pub, edgeA.proc] });
    assert.equal(call.body.get('secret'), 'abc');
    const r = await probe(`rtmp://127.0.0.1:${edgeB.ports.rtmp}/live/cluster`);
    assert.equal(r.video?.codec, CLIP.video, r.output);
    assert.equal(r.video?.width, CLIP.width);
    assert.equal(r.video?.height, CLIP.height);
    assert.ok((r.video?.frames ?? 0) > 0);
    assert.deepEqual(placed('/play', 'cluster'), placed('/publish', 'cluster'));
  } finally {
    await pub.stop();
  }
});

test('several streams: players on either edge reach their publisher\'s origin', async () => {
  const publishers: RawRtmpClient[] = [];
  try {
    for (let i = 0; i < 6; i++) {
      const edge = i % 2 ? edgeA : edgeB;
      const c = await RawRtmpClient.open(edge.ports.rtmp);
      publishers.push(c);
      assert.equal((await c.publish(`rtmp://127.0.0.1:${edge.ports.rtmp}/live`, `c${i}`)).code, 'NetStream.Publish.Start');
      const other = i % 2 ? edgeB : edgeA;
      const p = await RawRtmpClient.open(other.ports.rtmp);
      assert.equal((await p.play(`rtmp://127.0.0.1:${other.ports.rtmp}/live`, `c${i}`)).code, 'NetStream.Play.Start');
      p.close();
      await waitFor(() => placed('/play', `c${i}`).length === 1);
      assert.deepEqual(placed('/play', `c${i}`), placed('/publish', `c${i}`));
    }
  } finally {
    for (const c of publishers) c.close();
  }
});

test('registry gone: the publisher is told NetStream.Publish.BadName with the reason, not left hanging', async () => {
  await registry.stop();
  const c = await RawRtmpClient.open(edgeA.ports.rtmp);
  const t0 = performance.now();
  const st = await c.publish(`rtmp://127.0.0.1:${edgeA.ports.rtmp}/live`, 'orphan');
  assert.equal(st.code, 'NetStream.Publish.BadName');
  assert.match(st.description, /registry|responders|timed out/i);
  // Bounded by PROXY_REGISTRY_TIMEOUT (2 s by default).
  assert.ok(performance.now() - t0 < 5000);
  assert.ok(await c.closed());
});
