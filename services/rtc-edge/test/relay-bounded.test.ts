import test from 'node:test';
import assert from 'node:assert/strict';
import { startRegistry, startEdge, rtcSession, udpPeer, udpHandles, rtpLike, gcFunction, settledHeap, drained } from './harness.ts';
import { stunMessage } from './stun-builder.ts';

/** Datagrams relayed before the first measurement (JIT, pools and socket buffers warm up). */
const WARMUP = 2_000;
const DATAGRAMS = 10_000;
/**
 * Datagrams in flight at once: 50 x 1200 B (~2.3 KiB of skb truesize each) fits the edge's default
 * receive buffer (rmem_default, ~208 KiB), so a burst is never dropped for the edge being slow to
 * get its turn on a loaded machine.
 */
const BURST = 50;

test('10,000 datagrams on one session: one upstream socket, one receive handler, flat memory', async () => {
  const gc = gcFunction();
  const cluster = await startRegistry();
  const e = await startEdge(cluster.client);
  // Counted, and forgotten after every burst: the test must not hold the 12 MB it measures.
  let atOrigin = 0;
  let atClient = 0;
  const origin = await udpPeer((msg, port, self) => {
    atOrigin++;
    void self.send(msg, port);
  });
  origin.socket.setRecvBufferSize(4 << 20);
  const client = await udpPeer(() => void atClient++);
  client.socket.setRecvBufferSize(4 << 20);
  try {
    e.edge.relay.remember(rtcSession('Ub:Uc', origin.port));
    await client.send(stunMessage({ username: 'Ub:Uc' }), e.edge.port);
    await client.next();
    const session = e.edge.relay.session('Ub:Uc')!;

    /**
     * Sends until the edge has relayed `count` datagrams from the client (what the kernel drops is
     * made up by more), each burst echoed back before the next: client -> edge -> origin -> edge ->
     * client all share this thread. Returns what was relayed and what came back.
     */
    const relay = async (from: number, count: number): Promise<{ relayed: number; echoed: number }> => {
      atOrigin = 0;
      atClient = 0;
      const fc0 = session.fromClient;
      const fo0 = session.fromOrigin;
      const relayed = () => session.fromClient - fc0;
      const backFromOrigin = () => session.fromOrigin - fo0;
      let sent = 0;
      while (relayed() < count) {
        assert.ok(sent < 2 * count, `the edge relayed only ${relayed()} of ${sent} datagrams sent`);
        const n = Math.min(BURST, count - relayed());
        await Promise.all(Array.from({ length: n }, (_, k) => client.send(rtpLike(from + sent + k, 1200), e.edge.port)));
        sent += n;
        await drained(relayed, sent);
        await drained(() => atOrigin, relayed());
        await drained(backFromOrigin, atOrigin);
        await drained(() => atClient, backFromOrigin());
        client.reset();
        origin.reset();
      }
      return { relayed: relayed(), echoed: atClient };
    };

    await relay(0, WARMUP);
    const handles = udpHandles();
    const heap = settledHeap(gc);
    const buffers = process.memoryUsage().arrayBuffers;

    const { relayed, echoed } = await relay(WARMUP, DATAGRAMS);
    const heapAfter = settledHeap(gc);
    const buffersAfter = process.memoryUsage().arrayBuffers;

    assert.equal(e.edge.relay.sessionCount, 1);
    assert.equal(session.upstreamHandlers(), 1, 'one receive handler, whatever the datagram count');
    assert.equal(udpHandles(), handles, 'no socket per datagram');
    assert.equal(session.addresses.length, 1);
    assert.ok(relayed >= DATAGRAMS, `relayed ${relayed}`);
    assert.ok(echoed >= relayed * 0.95, `echoed ${echoed} of ${relayed} relayed`);
    // 10,000 x 1200 B = 12 MB if anything kept the datagrams; allow 2 MB of noise.
    assert.ok(heapAfter - heap < 2 * 1024 * 1024, `heap grew by ${heapAfter - heap} bytes`);
    // Datagram bytes live outside the JS heap (Buffers): kept datagrams would show here, where RSS
    // (V8's young generation stays resident after a burst, more on Node 24) cannot tell.
    assert.ok(buffersAfter - buffers < 2 * 1024 * 1024, `buffers grew by ${buffersAfter - buffers} bytes`);
  } finally {
    await client.close();
    await origin.close();
    await e.close();
    await cluster.close();
  }
});
