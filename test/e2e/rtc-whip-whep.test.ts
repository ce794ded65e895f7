import test from 'node:test';
import assert from 'node:assert/strict';
import { startProxy, waitFor, type ProxyHandle } from '../support/index.ts';
import { startWhipOrigin, webrtcClient, h264RtpPacket, type WhipOrigin, type WebRtcClient } from '../support/whip-origin.ts';
import ndc from 'node-datachannel';

/** RTP packets the publisher sends per phase, at PACKET_INTERVAL_MS (a 100 pps video stream). */
const PACKETS = 200;
const PACKET_INTERVAL_MS = 10;

let proxy: ProxyHandle;
let origin: WhipOrigin;
const clients: WebRtcClient[] = [];

test.before(async () => {
  proxy = await startProxy();
  origin = await startWhipOrigin({ label: 'e2e' });
  const r = await proxy.register(origin.heartbeatBody());
  assert.equal(r.status, 200, r.body);
});
test.after(async () => {
  for (const c of clients) c.close();
  await origin?.stop();
  await proxy?.stop();
  ndc.cleanup();
});

async function sendRtp(client: WebRtcClient, count: number, ssrc: number, from = 0): Promise<void> {
  for (let i = 0; i < count; i++) {
    client.track.sendMessageBinary(h264RtpPacket(from + i, ssrc));
    await new Promise((r) => setTimeout(r, PACKET_INTERVAL_MS));
  }
}

async function metrics(): Promise<string> {
  return (await fetch(`http://127.0.0.1:${proxy.ports.ops}/metrics`)).text();
}

test('WHIP publisher → proxy → origin, WHEP player ← proxy ← origin, DELETE ends the origin session', async () => {
  const api = `http://127.0.0.1:${proxy.ports.api}`;
  const pub = await webrtcClient('whip', `${api}/rtc/v1/whip/?app=live&stream=rtc1`, { ssrc: 0xa1 });
  clients.push(pub);
  assert.equal(pub.status, 201, pub.answer);
  // Candidates name the proxy's UDP port and the origin's IP (PROXY_RTC_CANDIDATE unset).
  const cands = pub.answer.split(/\r?\n/).filter((l) => l.startsWith('a=candidate:'));
  assert.ok(cands.length >= 1);
  for (const c of cands) assert.equal(c.split(' ')[5], String(proxy.ports.webrtc), c);
  assert.ok(pub.location?.startsWith('/rtc/v1/whip/?action=delete&token='), pub.location);
  await pub.opened;

  // The client's path is the proxy port; the origin's peer is a proxy upstream socket, never the
  // client's own socket (whose host candidate the origin stripped from the offer).
  const clientPair = pub.pc.getSelectedCandidatePair();
  assert.equal(clientPair?.remote.port, proxy.ports.webrtc);
  const clientHostPort = Number(/a=candidate:\S+ 1 UDP \d+ 127\.0\.0\.1 (\d+) typ host/i.exec(pub.pc.localDescription()!.sdp)?.[1]);
  assert.ok(clientHostPort > 0);
  const originSession = [...origin.sessions.values()].find((s) => s.kind === 'whip' && s.stream === 'live/rtc1')!;
  assert.ok(originSession, 'origin has the WHIP session');
  const originPair = originSession.pc.getSelectedCandidatePair();
  assert.ok(originPair, 'origin selected a pair');
  assert.notEqual(originPair.remote.port, clientHostPort, 'origin never talks to the client directly');
  assert.notEqual(originPair.remote.port, proxy.ports.webrtc);
  assert.equal(originPair.remote.type, 'prflx', 'learned from the proxy\'s relayed checks');

  await sendRtp(pub, PACKETS, 0xa1);
  await waitFor(() => originSession.rtpReceived >= PACKETS * 0.9, { timeoutMs: 5_000, what: 'RTP at the origin' });

  // A WHEP player of the same stream gets the publisher's RTP through the proxy.
  const play = await webrtcClient('whep', `${api}/rtc/v1/whep/?app=live&stream=rtc1`);
  clients.push(play);
  assert.equal(play.status, 201, play.answer);
  await play.opened;
  assert.equal(play.pc.getSelectedCandidatePair()?.remote.port, proxy.ports.webrtc);
  await sendRtp(pub, PACKETS, 0xa1, PACKETS);
  await waitFor(() => play.received >= PACKETS * 0.8, { timeoutMs: 5_000, what: `RTP at the player (got ${play.received})` });

  const m = await metrics();
  assert.match(m, /srsp_rtc_sessions\{[^}]*\} 2/);
  assert.match(m, /srsp_rtc_datagrams_total\{direction="client_to_origin"[^}]*\} \d{3,}/);
  assert.match(m, /srsp_rtc_datagrams_total\{direction="origin_to_client"[^}]*\} \d{3,}/);

  // WHIP DELETE on the proxied Location reaches the origin, which ends the session.
  const del = await fetch(`${api}${pub.location}`, { method: 'DELETE' });
  assert.equal(del.status, 200);
  await del.text();
  await waitFor(() => originSession.closed, { timeoutMs: 5_000, what: 'origin session closed' });
  assert.ok(origin.requests.some((r) => r.method === 'DELETE' && !r.url.includes('srsp_')), 'origin saw its own URL');
  assert.ok(proxy.proc.output().includes('Got WebRTC WHIP from'));
  // …and the proxy released the publisher's relay session at once, not at the idle timeout.
  await waitFor(async () => /srsp_rtc_sessions\{[^}]*\} 1\b/.test(await (await fetch(`http://127.0.0.1:${proxy.ports.ops}/metrics`)).text()), {
    timeoutMs: 3_000,
    what: 'relay session closed by DELETE',
  });
});

test('legacy /rtc/v1/play/ JSON API: an SRS JS SDK player receives RTP through the proxy', async () => {
  const api = `http://127.0.0.1:${proxy.ports.api}`;
  const pub = await webrtcClient('whip', `${api}/rtc/v1/whip/?app=live&stream=legacy1`, { ssrc: 0xb2 });
  clients.push(pub);
  await pub.opened;
  const play = await webrtcClient('whep', `${api}/rtc/v1/play/`, { legacyStreamUrl: 'webrtc://localhost/live/legacy1' });
  clients.push(play);
  assert.equal(play.status, 200);
  await play.opened;
  await sendRtp(pub, PACKETS, 0xb2);
  await waitFor(() => play.received >= PACKETS * 0.8, { timeoutMs: 5_000, what: `RTP at the legacy player (got ${play.received})` });
});
