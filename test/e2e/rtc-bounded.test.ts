import test from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { startProxy, waitFor } from '../support/index.ts';
import { startWhipOrigin, webrtcClient, h264RtpPacket } from '../support/whip-origin.ts';
import ndc from 'node-datachannel';

const WARMUP = 2_000;
const DATAGRAMS = 10_000;
/** Packets per 10 ms tick: 5,000 pps, a high-bitrate publisher. */
const PER_TICK = 50;

function fdCount(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

async function scrape(port: number): Promise<{ sessions: number; handles: number; heap: number; rss: number }> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const get = (name: string) => Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)`, 'm').exec(text)?.[1] ?? NaN);
  return {
    sessions: get('srsp_rtc_sessions'),
    handles: get('nodejs_active_handles_total'),
    heap: get('nodejs_heap_size_used_bytes'),
    rss: get('process_resident_memory_bytes'),
  };
}

test('10,000 datagrams on one WebRTC session: the proxy\'s sockets, handles and memory do not follow the count', async () => {
  const proxy = await startProxy();
  const origin = await startWhipOrigin({ label: 'bounded' });
  const pub = await (async () => {
    assert.equal((await proxy.register(origin.heartbeatBody())).status, 200);
    return webrtcClient('whip', `http://127.0.0.1:${proxy.ports.api}/rtc/v1/whip/?app=live&stream=bounded`, { ssrc: 0xd4 });
  })();
  try {
    assert.equal(pub.status, 201);
    await pub.opened;
    const pid = proxy.proc.child.pid!;
    const session = [...origin.sessions.values()].find((s) => s.stream === 'live/bounded')!;
    const send = async (from: number, count: number) => {
      for (let i = 0; i < count; i += PER_TICK) {
        for (let k = 0; k < PER_TICK; k++) pub.track.sendMessageBinary(h264RtpPacket(from + i + k, 0xd4, 96, 1100));
        await new Promise((r) => setTimeout(r, 10));
      }
    };
    await send(0, WARMUP);
    await waitFor(() => session.rtpReceived >= WARMUP * 0.9, { timeoutMs: 10_000, what: 'warm-up RTP at the origin' });
    const fds = fdCount(pid);
    const before = await scrape(proxy.ports.ops);

    await send(WARMUP, DATAGRAMS);
    await waitFor(() => session.rtpReceived >= (WARMUP + DATAGRAMS) * 0.9, { timeoutMs: 15_000, what: `RTP at the origin (${session.rtpReceived})` });
    const after = await scrape(proxy.ports.ops);

    assert.equal(after.sessions, 1);
    // Idle HTTP keep-alive sockets (signalling, origin API) may close meanwhile: never more.
    assert.ok(fdCount(pid) <= fds, `no socket or fd per datagram: ${fds} → ${fdCount(pid)}`);
    assert.ok(after.handles <= before.handles, `no handle per datagram: ${before.handles} → ${after.handles}`);
    // The Go proxy leaks a reader (several KB) per client datagram: tens of MB here.
    assert.ok(after.heap - before.heap < 8 * 1024 * 1024, `heap grew ${after.heap - before.heap} B`);
    assert.ok(after.rss - before.rss < 24 * 1024 * 1024, `rss grew ${after.rss - before.rss} B`);
  } finally {
    pub.close();
    await origin.stop();
    await proxy.stop();
    ndc.cleanup();
  }
});
