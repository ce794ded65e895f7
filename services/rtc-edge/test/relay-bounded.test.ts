import test from 'node:test';
import assert from 'node:assert/strict';
import { startRegistry, startEdge, rtcSession, udpPeer, udpHandles, rtpLike, gcFunction, settledHeap, sleep, waitForCount } from './harness.ts';
import { stunMessage } from './stun-builder.ts';

/** Datagrams sent before the first measurement (JIT, pools and socket buffers warm up). */
const WARMUP = 2_000;
const DATAGRAMS = 10_000;
const BURST = 200;

test('10,000 datagrams on one session: one upstream socket, one receive handler, flat memory', async () => {
  const gc = gcFunction();
  const cluster = await startRegistry();
  const e = await startEdge(cluster.client);
  const origin = await udpPeer((msg, port, self) => void self.send(msg, port));
  origin.socket.setRecvBufferSize(4 << 20);
  const client = await udpPeer();
  client.socket.setRecvBufferSize(4 << 20);
  try {
    e.edge.relay.remember(rtcSession('Ub:Uc', origin.port));
    await client.send(stunMessage({ username: 'Ub:Uc' }), e.edge.port);
    await client.next();
    const session = e.edge.relay.session('Ub:Uc')!;
    let sent = 0;
    const send = async (from: number, count: number) => {
      for (let i = 0; i < count; i += BURST) {
        await Promise.all(Array.from({ length: Math.min(BURST, count - i) }, (_, k) => client.send(rtpLike(from + i + k, 1200), e.edge.port)));
        sent += Math.min(BURST, count - i);
        // Flow control: the whole loop (client, edge, origin) shares this thread; let echoes catch up.
        const deadline = Date.now() + 1_000;
        while (client.received.length + lost < sent - BURST && Date.now() < deadline) await sleep(1);
        if (client.received.length + lost < sent - BURST) lost = sent - client.received.length;
      }
    };
    let lost = 0;
    await send(0, WARMUP);
    await waitForCount(() => client.received.length + lost, WARMUP + 1, 0.98);
    client.reset();
    origin.reset();
    sent = 0;
    lost = 0;
    const handles = udpHandles();
    const heap = settledHeap(gc);
    const rss = process.memoryUsage().rss;

    await send(WARMUP, DATAGRAMS);
    const echoed = await waitForCount(() => client.received.length, DATAGRAMS, 0.95);
    client.reset();
    origin.reset();
    const heapAfter = settledHeap(gc);

    assert.equal(e.edge.relay.sessionCount, 1);
    assert.equal(session.upstreamHandlers(), 1, 'one receive handler, whatever the datagram count');
    assert.equal(udpHandles(), handles, 'no socket per datagram');
    assert.equal(session.addresses.length, 1);
    assert.ok(session.fromClient >= WARMUP + DATAGRAMS * 0.95, `relayed ${session.fromClient}`);
    assert.ok(echoed >= DATAGRAMS * 0.95, `echoed ${echoed}`);
    // 10,000 x 1200 B = 12 MB if anything kept the datagrams; allow 2 MB of noise.
    assert.ok(heapAfter - heap < 2 * 1024 * 1024, `heap grew by ${heapAfter - heap} bytes`);
    assert.ok(process.memoryUsage().rss - rss < 32 * 1024 * 1024, 'rss stays bounded');
  } finally {
    await client.close();
    await origin.close();
    await e.close();
    await cluster.close();
  }
});
