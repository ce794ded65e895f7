import test from 'node:test';
import assert from 'node:assert/strict';
import { startRegistry, startEdge, rtcSession, udpPeer, edgeRead, type Cluster, type Peer } from './harness.ts';
import { stunMessage } from './stun-builder.ts';
import { DropReason } from '../src/metrics.ts';

let cluster: Cluster;
test.before(async () => {
  cluster = await startRegistry();
});
test.after(async () => {
  await cluster.close();
});

test('sessions are capped per source IP and per edge', async () => {
  const e = await startEdge(cluster.client, { PROXY_RTC_MAX_SESSIONS: '3', PROXY_RTC_MAX_SESSIONS_PER_IP: '2' });
  const origin = await udpPeer();
  const peers: Peer[] = [];
  const open = async (i: number, host: string) => {
    e.edge.relay.remember(rtcSession(`Uk${i}:Uc${i}`, origin.port));
    const p = await udpPeer(undefined, host);
    peers.push(p);
    const read = e.edge.relay.counters.clientDatagrams;
    await p.send(stunMessage({ username: `Uk${i}:Uc${i}` }), e.edge.port);
    await edgeRead(e.edge, read);
  };
  try {
    await open(0, '127.0.0.1');
    await open(1, '127.0.0.1');
    await open(2, '127.0.0.1');
    assert.equal(e.edge.relay.sessionCount, 2);
    assert.equal(e.edge.relay.counters.drops[DropReason.IP_CAP], 1);
    await open(3, '127.0.0.2');
    await open(4, '127.0.0.3');
    assert.equal(e.edge.relay.sessionCount, 3);
    assert.equal(e.edge.relay.counters.drops[DropReason.SESSION_CAP], 1);
    // Closing one frees its slot for its IP and for the edge.
    e.edge.relay.session('Uk0:Uc0')!.close('test');
    const read = e.edge.relay.counters.clientDatagrams;
    await peers[2]!.send(stunMessage({ username: 'Uk2:Uc2' }), e.edge.port);
    await edgeRead(e.edge, read);
    assert.ok(e.edge.relay.session('Uk2:Uc2'));
    assert.equal(e.edge.relay.sizes().perIp, 2);
  } finally {
    for (const p of peers) await p.close();
    await origin.close();
    await e.close();
  }
});
