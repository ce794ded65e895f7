import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { connect } from 'node:net';
import ndc from 'node-datachannel';
import { request } from 'undici';
import { freeTcpPort, startProxy, waitFor, tcpOpen } from '../support/index.ts';
import { startNmsOrigin } from '../support/nms-origin.ts';
import { startSrtReceiverOrigin } from '../support/srt-origin.ts';
import { startWhipOrigin, webrtcClient, h264RtpPacket } from '../support/whip-origin.ts';
import { newOriginIdentity } from '../support/heartbeat.ts';
import { ffmpegPlayer, ffmpegPublisher, type LiveSession } from './fault-support.ts';

/** Shortened for the test; production defaults are 3 s and 20 s. */
const DRAIN_DELAY_MS = 1_500;
const GRACE_MS = 6_000;
/** The HLS segment the origin sends slowly: it is in flight when SIGTERM arrives. */
const SEGMENT_BYTES = 188 * 2_000;
const SEGMENT_SEND_MS = 3_000;

/**
 * An HTTP origin with one HLS stream whose only segment takes SEGMENT_SEND_MS to send, so a
 * segment request is in flight across the shutdown.
 */
async function slowHlsOrigin(): Promise<{ port: number; server: Server; segmentStarted: Promise<void> }> {
  let started!: () => void;
  const segmentStarted = new Promise<void>((r) => (started = r));
  const server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (path === '/live/slow.m3u8') {
      res.writeHead(200, { 'content-type': 'application/vnd.apple.mpegurl' });
      res.end('#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:10\n#EXT-X-MEDIA-SEQUENCE:0\n#EXTINF:10.0,\nslow-0.ts\n');
      return;
    }
    if (path === '/live/slow-0.ts') {
      res.writeHead(200, { 'content-type': 'video/mp2t', 'content-length': String(SEGMENT_BYTES) });
      started();
      const chunk = Buffer.alloc(SEGMENT_BYTES / 10, 0x47);
      let sent = 0;
      const timer = setInterval(() => {
        res.write(chunk);
        if (++sent === 10) {
          clearInterval(timer);
          res.end();
        }
      }, SEGMENT_SEND_MS / 10);
      res.on('close', () => clearInterval(timer));
      return;
    }
    res.writeHead(404).end();
  });
  const port = await freeTcpPort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return { port, server, segmentStarted };
}

test('SIGTERM with a live session per protocol and an HLS segment in flight: not ready at once, accepting for the drain delay, the segment completes, sessions run to the deadline and close cleanly, exit 0', async (t) => {
  const [nms, srtOrigin, whipOrigin, hls] = await Promise.all([startNmsOrigin(), startSrtReceiverOrigin({ reconnect: true }), startWhipOrigin({ label: 'drain' }), slowHlsOrigin()]);
  t.after(async () => {
    await Promise.all([nms.stop(), srtOrigin.stop(), whipOrigin.stop()]);
    await new Promise<void>((r) => hls.server.close(() => r()));
    ndc.cleanup();
  });
  const proxy = await startProxy({ env: { PROXY_LOAD_BALANCE_STRATEGY: 'least-streams', PROXY_DRAIN_DELAY: `${DRAIN_DELAY_MS}ms`, PROXY_GRACE_QUIT_TIMEOUT: `${GRACE_MS}ms`, PROXY_FORCE_QUIT_TIMEOUT: `${GRACE_MS + 10_000}ms` } });
  t.after(() => proxy.proc.stop('SIGKILL'));
  const register = async (body: object) => {
    const r = await proxy.register(body);
    assert.equal(r.status, 200, r.body);
  };
  // node-media-server alone first: the RTMP stream is placed there whatever the strategy.
  await register(nms.heartbeatBody());
  const sessions: LiveSession[] = [];
  t.after(async () => {
    for (const s of sessions) await s.stop();
  });
  sessions.push(ffmpegPublisher('rtmp publisher', `rtmp://127.0.0.1:${proxy.ports.rtmp}/live/d1`, 'flv'));
  await waitFor(() => nms.events().some((e) => e.event === 'postPublish' && e.path === '/live/d1'), { timeoutMs: 15_000, what: 'publish on NMS' });
  await register(srtOrigin.heartbeatBody());
  await register(whipOrigin.heartbeatBody());
  // The slow HLS origin serves HTTP only (its RTMP port is nothing); with no stream placed on it,
  // least-streams sends the HLS stream there.
  await register({ ip: '127.0.0.1', ...newOriginIdentity('slow-hls'), rtmp: [String(await freeTcpPort())], http: [String(hls.port)] });
  sessions.push(ffmpegPlayer('flv player', `http://127.0.0.1:${proxy.ports.http}/live/d1.flv`));
  sessions.push(ffmpegPlayer('rtmp player', `rtmp://127.0.0.1:${proxy.ports.rtmp}/live/d1`));
  sessions.push(ffmpegPublisher('srt publisher', `srt://127.0.0.1:${proxy.ports.srt}?streamid=#!::r=live/d2,m=publish&pkt_size=1316`, 'mpegts'));
  const rtc = await webrtcClient('whip', `http://127.0.0.1:${proxy.ports.api}/rtc/v1/whip/?app=live&stream=d3`, { ssrc: 0xd3 });
  assert.equal(rtc.status, 201, rtc.answer);
  await rtc.opened;
  let seq = 0;
  const rtpTimer = setInterval(() => rtc.track.sendMessageBinary(h264RtpPacket(seq++, 0xd3)), 20);
  t.after(() => {
    clearInterval(rtpTimer);
    rtc.close();
  });
  const rtpAtOrigin = () => [...whipOrigin.sessions.values()].find((s) => s.stream === 'live/d3')?.rtpReceived ?? 0;
  await waitFor(() => sessions.every((s) => s.progress() > 0) && srtOrigin.bytes() > 0 && rtpAtOrigin() > 0, {
    timeoutMs: 30_000, intervalMs: 200, what: 'every session moving',
  });

  // An HLS segment in flight: the playlist names it with a session id; its origin sends slowly.
  const playlist = await (await request(`http://127.0.0.1:${proxy.ports.http}/live/slow.m3u8`)).body.text();
  const segUri = playlist.split('\n').find((l) => l.startsWith('slow-0.ts'));
  assert.ok(segUri, playlist);
  const segment = request(`http://127.0.0.1:${proxy.ports.http}/live/${segUri}`).then(async (r) => ({ status: r.statusCode, bytes: (await r.body.arrayBuffer()).byteLength, at: performance.now() }));
  await hls.segmentStarted;

  const signalAt = performance.now();
  proxy.proc.child.kill('SIGTERM');
  const exitCode = proxy.proc.exited.then((code) => ({ code, at: performance.now() }));

  // 1. Not ready at once.
  const notReady = await waitFor(async () => {
    const r = await request(`http://127.0.0.1:${proxy.ports.ops}/readyz`);
    await r.body.text();
    return r.statusCode === 503 ? performance.now() : undefined;
  }, { timeoutMs: 5_000, intervalMs: 20, what: '/readyz 503' });
  // 2. Still accepting during the drain delay: a new RTMP connection gets the handshake.
  const accepted = await rtmpHandshakeAnswered(proxy.ports.rtmp);
  const acceptedAt = performance.now();
  assert.ok(accepted, 'a new client is accepted during the drain delay');
  // 3. Then the listeners close.
  const closedAt = await waitFor(async () => ((await tcpOpen(proxy.ports.rtmp)) ? undefined : performance.now()), { timeoutMs: DRAIN_DELAY_MS + 5_000, intervalMs: 50, what: 'RTMP listener closed' });
  await waitFor(async () => !(await tcpOpen(proxy.ports.http)) && !(await tcpOpen(proxy.ports.api)), { timeoutMs: 5_000, intervalMs: 50, what: 'HTTP and WHIP listeners closed' });
  // 4. The in-flight segment completes, whole.
  const seg = await segment;
  assert.equal(seg.status, 200);
  assert.equal(seg.bytes, SEGMENT_BYTES);
  // 5. Live sessions keep flowing after the listeners closed, until the deadline.
  const progressAtClose = sessions.map((s) => s.progress());
  const srtAtClose = srtOrigin.bytes();
  const rtpAtClose = rtpAtOrigin();
  await waitFor(() => sessions.every((s, i) => s.progress() > progressAtClose[i]! || s.ended() !== undefined) && srtOrigin.bytes() > srtAtClose && rtpAtOrigin() > rtpAtClose, {
    timeoutMs: GRACE_MS, intervalMs: 100, what: 'sessions still flowing while draining',
  });
  for (const s of sessions) assert.equal(s.ended(), undefined, `${s.name} ended before the deadline (${s.ended()}) at ${(performance.now() - signalAt).toFixed(0)} ms`);
  // 6. At the deadline they are closed, and the process exits 0.
  const exit = await exitCode;
  assert.equal(exit.code, 0, proxy.proc.output().slice(-3000));
  const out = proxy.proc.output();
  assert.match(out, /grace deadline passed: closing the remaining sessions/);
  assert.match(out, /SRSProxy done/);
  await waitFor(() => sessions.filter((s) => s.name.includes('player')).every((s) => s.ended() !== undefined), { timeoutMs: 10_000, what: 'players see the end of their streams' });
  // The FLV body was ended, not reset: ffmpeg reads a clean end of stream.
  assert.equal(sessions.find((s) => s.name === 'flv player')!.ended(), 'exited with 0');

  const ms = (at: number) => `${(at - signalAt).toFixed(0)} ms`;
  console.log([
    '| drain step (from SIGTERM) | at |', '|---|---|',
    `| /readyz 503 | ${ms(notReady)} |`,
    `| new RTMP client accepted (drain delay ${DRAIN_DELAY_MS} ms) | ${ms(acceptedAt)} |`,
    `| listeners closed | ${ms(closedAt)} |`,
    `| in-flight HLS segment complete (${SEGMENT_BYTES} bytes) | ${ms(seg.at)} |`,
    `| sessions closed, exit 0 (grace ${GRACE_MS} ms) | ${ms(exit.at)} |`,
  ].join('\n'));
  assert.ok(closedAt - signalAt >= DRAIN_DELAY_MS - 50, 'listeners stayed open for the drain delay');
  assert.ok(exit.at - signalAt >= GRACE_MS - 50, 'live sessions were not cut before the grace deadline');
});

/** Opens a TCP connection, sends an RTMP C0+C1 and resolves true when S0 comes back. */
function rtmpHandshakeAnswered(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    const timer = setTimeout(() => {
      s.destroy();
      resolve(false);
    }, 5_000);
    s.once('connect', () => s.write(Buffer.concat([Buffer.from([3]), Buffer.alloc(1536)])));
    s.once('data', (b: Buffer) => {
      clearTimeout(timer);
      s.destroy();
      resolve(b[0] === 3);
    });
    s.once('error', () => {
      clearTimeout(timer);
      resolve(false);
    });
  });
}
