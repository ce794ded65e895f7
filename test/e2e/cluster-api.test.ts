import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'undici';
import { startNginxOrigin, startProxy, waitFor, type NginxOrigin, type ProxyHandle } from '../support/index.ts';
import { publishClip } from '../../services/rtmp-edge/test/e2e-helpers.ts';

/** An edge announces every 5 s (EDGE_ANNOUNCE_INTERVAL_MS): a change shows within one interval, plus slack for a busy machine. */
const ANNOUNCED_WITHIN_MS = 15_000;

let origin: NginxOrigin;
let proxy: ProxyHandle;

async function api(path: string): Promise<any> {
  const r = await request(`http://127.0.0.1:${proxy.ports.system}${path}`);
  const text = await r.body.text();
  assert.equal(r.statusCode, 200, `${path}: ${text}`);
  return JSON.parse(text);
}

before(async () => {
  origin = await startNginxOrigin();
  proxy = await startProxy();
  assert.equal((await proxy.register(origin.heartbeatBody())).status, 200);
});

after(async () => {
  await proxy?.stop();
  await origin?.stop();
});

test('the standalone proxy lists its four edges with their bound listeners', async () => {
  const { edges } = await waitFor(async () => {
    const body = await api('/api/v1/cluster/edges');
    return body.edges.length === 4 ? body : undefined;
  }, { timeoutMs: ANNOUNCED_WITHIN_MS, what: 'four edges announced', procs: [proxy.proc] });
  assert.deepEqual(edges.map((e: { role: string }) => e.role), ['http-edge', 'rtc-edge', 'rtmp-edge', 'srt-edge']);
  const byRole = Object.fromEntries(edges.map((e: { role: string }) => [e.role, e]));
  assert.deepEqual(byRole['rtmp-edge'].listen, { rtmp: `:${proxy.ports.rtmp}` });
  assert.deepEqual(byRole['http-edge'].listen, { http: `:${proxy.ports.http}` });
  assert.deepEqual(byRole['rtc-edge'].listen, { api: `:${proxy.ports.api}`, webrtc: `udp :${proxy.ports.webrtc}` });
  assert.deepEqual(byRole['srt-edge'].listen, { srt: `udp :${proxy.ports.srt}` });
  assert.ok(edges.every((e: { pid: number; version: string }) => e.pid === proxy.proc.child.pid && e.version === '1.5.0'));
  assert.equal((await api('/api/v1/cluster')).mode, 'standalone');
});

test('a stream published with ffmpeg is listed with its origin, placement and publisher, and turns idle when the publisher stops', async () => {
  const stream = '__defaultVhost__/live/cluster-api';
  const pub = publishClip(`rtmp://127.0.0.1:${proxy.ports.rtmp}/live/cluster-api`, { loops: 100 });
  try {
    const live = await waitFor(async () => {
      const body = await api('/api/v1/cluster/streams?app=live');
      return body.streams.find((s: { stream_url: string; publishers: number }) => s.stream_url === stream && s.publishers === 1);
    }, { timeoutMs: ANNOUNCED_WITHIN_MS, what: 'the stream listed with its publisher', procs: [proxy.proc, pub] });
    const originId = (await api('/api/v1/cluster/origins')).origins[0].id;
    assert.equal(live.origin_id, originId);
    assert.equal(live.protocol, 'rtmp');
    assert.deepEqual(live.client_protocols, ['rtmp']);
    assert.ok(Date.parse(live.placed_at) <= Date.now());
    const players = await api(`/api/v1/cluster/streams/players?stream=${encodeURIComponent(stream)}`);
    assert.equal(players.origin_id, originId);
    assert.deepEqual(players.edges.map((e: { role: string; protocol: string; publishers: number }) => [e.role, e.protocol, e.publishers]), [['rtmp-edge', 'rtmp', 1]]);
    // nginx-rtmp has no SRS HTTP API: the origin part says so instead of failing the view.
    assert.equal(players.origin.ok, false);
    assert.equal(players.origin.error, 'no_api_endpoint');
    const origins = (await api('/api/v1/cluster/origins')).origins;
    assert.equal(origins[0].streams, 1);
  } finally {
    await pub.stop();
  }
  const idle = await waitFor(async () => {
    const body = await api('/api/v1/cluster/streams');
    return body.streams.find((s: { stream_url: string; publishers: number }) => s.stream_url === stream && s.publishers === 0);
  }, { timeoutMs: ANNOUNCED_WITHIN_MS, what: 'the stream idle after its publisher stopped', procs: [proxy.proc] });
  assert.equal(idle.players, 0);
});
