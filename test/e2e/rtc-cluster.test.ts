import test from 'node:test';
import assert from 'node:assert/strict';
import { startProxy, startNats, startRedis, waitFor, type ProxyHandle, type RunningServer } from '../support/index.ts';
import { startWhipOrigin, webrtcClient, h264RtpPacket, type WhipOrigin, type WebRtcClient } from '../support/whip-origin.ts';
import ndc from 'node-datachannel';

const PACKETS = 200;
const PACKET_INTERVAL_MS = 10;

let nats: RunningServer;
let redis: RunningServer;
let registry: ProxyHandle;
let edgeA: ProxyHandle;
let edgeB: ProxyHandle;
let origin: WhipOrigin;
const clients: WebRtcClient[] = [];

test.before(async () => {
  [nats, redis] = await Promise.all([startNats(), startRedis()]);
  const env = {
    PROXY_NATS_URL: nats.url,
    PROXY_LOAD_BALANCER_TYPE: 'redis',
    PROXY_REDIS_HOST: '127.0.0.1',
    PROXY_REDIS_PORT: String(redis.port),
  };
  registry = await startProxy({ role: 'registry', env });
  [edgeA, edgeB] = await Promise.all([startProxy({ role: 'rtc-edge', env }), startProxy({ role: 'rtc-edge', env })]);
  origin = await startWhipOrigin({ label: 'cluster' });
  const r = await registry.register(origin.heartbeatBody());
  assert.equal(r.status, 200, r.body);
});
test.after(async () => {
  for (const c of clients) c.close();
  await origin?.stop();
  await Promise.all([edgeA?.stop(), edgeB?.stop()]);
  await registry?.stop();
  await Promise.all([nats?.stop(), redis?.stop()]);
  ndc.cleanup();
});

async function sessionsOn(edge: ProxyHandle): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${edge.ports.ops}/metrics`)).text();
  return Number(/^srsp_rtc_sessions(?:\{[^}]*\})? (\d+)/m.exec(text)?.[1] ?? NaN);
}

test('signalling on one rtc-edge replica, UDP to another: the session is found through the registry and media flows', async () => {
  // An L4 balancer in front of the replicas may send the UDP flow to a replica that never saw
  // the signalling: model it by pointing the answer's candidates at edge B.
  const toB = (sdp: string) => sdp.replaceAll(` ${edgeA.ports.webrtc} typ `, ` ${edgeB.ports.webrtc} typ `);
  const pub = await webrtcClient('whip', `http://127.0.0.1:${edgeA.ports.api}/rtc/v1/whip/?app=live&stream=cluster1`, { ssrc: 0xc3, editAnswer: toB });
  clients.push(pub);
  assert.equal(pub.status, 201, pub.answer);
  assert.ok(pub.answer.includes(` ${edgeA.ports.webrtc} typ host`), 'edge A answered with its own port');
  await pub.opened;
  assert.equal(pub.pc.getSelectedCandidatePair()?.remote.port, edgeB.ports.webrtc);

  const originSession = [...origin.sessions.values()].find((s) => s.stream === 'live/cluster1')!;
  for (let i = 0; i < PACKETS; i++) {
    pub.track.sendMessageBinary(h264RtpPacket(i, 0xc3));
    await new Promise((r) => setTimeout(r, PACKET_INTERVAL_MS));
  }
  await waitFor(() => originSession.rtpReceived >= PACKETS * 0.9, { timeoutMs: 5_000, what: `RTP at the origin (${originSession.rtpReceived})` });
  assert.equal(await sessionsOn(edgeB), 1, 'edge B relays the session');
  assert.equal(await sessionsOn(edgeA), 0, 'edge A only did the signalling');
  assert.ok(edgeB.proc.output().includes('Create WebRTC connection by ufrag='), 'edge B resolved the ufrag via the registry');

  // And the reverse: a player signalled on B, relayed by A.
  const toA = (sdp: string) => sdp.replaceAll(` ${edgeB.ports.webrtc} typ `, ` ${edgeA.ports.webrtc} typ `);
  const play = await webrtcClient('whep', `http://127.0.0.1:${edgeB.ports.api}/rtc/v1/whep/?app=live&stream=cluster1`, { editAnswer: toA });
  clients.push(play);
  assert.equal(play.status, 201, play.answer);
  await play.opened;
  for (let i = 0; i < PACKETS; i++) {
    pub.track.sendMessageBinary(h264RtpPacket(PACKETS + i, 0xc3));
    await new Promise((r) => setTimeout(r, PACKET_INTERVAL_MS));
  }
  await waitFor(() => play.received >= PACKETS * 0.8, { timeoutMs: 5_000, what: `RTP at the player (${play.received})` });
  assert.equal(await sessionsOn(edgeA), 1);
});
