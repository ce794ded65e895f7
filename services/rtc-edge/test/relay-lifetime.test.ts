import test from 'node:test';
import assert from 'node:assert/strict';
import { startRegistry, startEdge, rtcSession, udpPeer, udpHandles, rtpLike, edgeRead, waitFor, type Cluster, type Peer } from './harness.ts';
import { stunMessage } from './stun-builder.ts';
import { KNOWN_SESSION_TTL_MS } from '../src/udp-relay.ts';
import { DropReason } from '../src/metrics.ts';

let cluster: Cluster;
test.before(async () => {
  cluster = await startRegistry();
});
test.after(async () => {
  await cluster.close();
});

test('idle sessions close after PROXY_RTC_IDLE_TIMEOUT and release every map entry and socket', async () => {
  let now = 1_000_000;
  const e = await startEdge(cluster.client, { PROXY_RTC_IDLE_TIMEOUT: '30s' }, () => now);
  const origin = await udpPeer();
  const clients: Peer[] = [];
  const baseline = udpHandles();
  try {
    for (let i = 0; i < 3; i++) {
      e.edge.relay.remember(rtcSession(`Ui${i}:Uc${i}`, origin.port));
      const c = await udpPeer();
      clients.push(c);
      await c.send(stunMessage({ username: `Ui${i}:Uc${i}` }), e.edge.port);
      await origin.next();
    }
    assert.equal(e.edge.relay.sessionCount, 3);
    assert.equal(udpHandles(), baseline + 3 + 3, 'three clients and three upstream sockets');

    now += 29_000;
    e.edge.relay.sweep();
    assert.equal(e.edge.relay.sessionCount, 3, 'not idle yet');
    await clients[0]!.send(rtpLike(1), e.edge.port);
    await origin.next();
    now += 2_000;
    e.edge.relay.sweep();
    assert.equal(e.edge.relay.sessionCount, 1, 'the two silent sessions closed');
    assert.ok(e.edge.relay.session('Ui0:Uc0'));

    now += 30_000;
    e.edge.relay.sweep();
    assert.equal(e.edge.relay.sessionCount, 0);
    const sizes = e.edge.relay.sizes();
    assert.deepEqual({ ...sizes, known: 0 }, { sessions: 0, bindings: 0, perIp: 0, known: 0, unknown: 0, lookups: 0 });
    now += KNOWN_SESSION_TTL_MS;
    e.edge.relay.sweep();
    assert.equal(e.edge.relay.sizes().known, 0, 'signalled sessions expire too');
    // libuv finishes closing a handle one loop turn after the 'close' event.
    await waitFor(() => udpHandles() === baseline + 3, { what: "the two idle sessions' upstream sockets to close" });
    // A datagram from a closed session's address is now just an unknown address.
    const read = e.edge.relay.counters.clientDatagrams;
    const unknown = e.edge.relay.counters.drops[DropReason.UNKNOWN_ADDRESS]!;
    await clients[1]!.send(rtpLike(2), e.edge.port);
    await edgeRead(e.edge, read);
    assert.equal(e.edge.relay.counters.drops[DropReason.UNKNOWN_ADDRESS]! - unknown, 1);
    assert.equal(origin.received.length, 4);
    assert.match(await e.metrics.metrics(), /srsp_rtc_sessions_closed_total\{reason="idle"[^}]*\} 3/);
    assert.equal(e.logs.matching(/WebRTC session closed: idle/).length, 3, 'each close logged once');
  } finally {
    for (const c of clients) await c.close();
    await origin.close();
    await e.close();
  }
});

test('close() is idempotent and closes every session', async () => {
  const e = await startEdge(cluster.client);
  const origin = await udpPeer();
  const c = await udpPeer();
  e.edge.relay.remember(rtcSession('Uz:Uc', origin.port));
  await c.send(stunMessage({ username: 'Uz:Uc' }), e.edge.port);
  await origin.next();
  const before = udpHandles();
  await Promise.all([e.close(), e.close()]);
  // libuv finishes closing a handle one loop turn after the 'close' event.
  await waitFor(() => udpHandles() === before - 2, { what: "the upstream socket and the listener to close" });
  assert.equal(e.edge.relay.sessionCount, 0);
  assert.equal(e.logs.matching(/WebRTC session closed: test done/).length, 1);
  await c.close();
  await origin.close();
});
