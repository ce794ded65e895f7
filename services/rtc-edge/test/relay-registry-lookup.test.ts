import test from 'node:test';
import assert from 'node:assert/strict';
import { startRegistry, startEdge, rtcSession, udpPeer, drained, edgeRead, waitFor, type Cluster, type TestEdge } from './harness.ts';
import { stunMessage } from './stun-builder.ts';
import { DropReason } from '../src/metrics.ts';
import { UNKNOWN_UFRAG_TTL_MS, MAX_INFLIGHT_LOOKUPS, MAX_UNKNOWN_UFRAGS } from '../src/udp-relay.ts';
import { createBalancer } from '@srs-proxy/balancer';
import { BusRegistryClient, InprocTransport } from '@srs-proxy/bus';
import { createLogger, createMetricsRegistry, readConfig } from '@srs-proxy/runtime';
import { RegistryService, registrySchema } from '@srs-proxy/registry';

let cluster: Cluster;
let e: TestEdge;
/**
 * The edge's clock stands still: the negative cache and the drop-log window last as long as the
 * tests need them however slowly a loaded machine runs them.
 */
const clock = Date.now();
test.before(async () => {
  cluster = await startRegistry();
  e = await startEdge(cluster.client, {}, () => clock);
});
test.after(async () => {
  await e.close();
  await cluster.close();
});

test('a session signalled elsewhere is found in the registry on its first Binding request', async () => {
  const origin = await udpPeer((msg, port, self) => void self.send(msg, port));
  const client = await udpPeer();
  await cluster.client.rtcStore(rtcSession('Ur1:Uc1', origin.port));
  const stun = stunMessage({ username: 'Ur1:Uc1' });
  await client.send(stun, e.edge.port);
  assert.deepEqual((await origin.next()).msg, stun);
  assert.deepEqual((await client.next()).msg, stun);
  assert.ok(e.logs.matching(/Create WebRTC connection by ufrag=Ur1:Uc1/).length === 1);
  await client.close();
  await origin.close();
});

test('retransmits during one lookup cost one registry call and the newest datagram is replayed', async () => {
  const origin = await udpPeer();
  const client = await udpPeer();
  await cluster.client.rtcStore(rtcSession('Ur2:Uc2', origin.port));
  const calls: string[] = [];
  const real = cluster.client.rtcLoad.bind(cluster.client);
  // The registry answers when the test says so: the retransmit surely arrives during the lookup.
  let answer = () => {};
  const answered = new Promise<void>((r) => (answer = r));
  cluster.client.rtcLoad = async (u: string) => {
    calls.push(u);
    await answered;
    return real(u);
  };
  try {
    const first = stunMessage({ username: 'Ur2:Uc2' });
    const second = stunMessage({ username: 'Ur2:Uc2' });
    await client.send(first, e.edge.port);
    await waitFor(() => calls.length === 1, { what: 'the registry lookup to start' });
    const read = e.edge.relay.counters.clientDatagrams;
    await client.send(second, e.edge.port);
    await edgeRead(e.edge, read);
    answer();
    const got = await origin.next();
    assert.deepEqual(got.msg, second);
    assert.deepEqual(calls, ['Ur2:Uc2']);
  } finally {
    cluster.client.rtcLoad = real;
  }
  await client.close();
  await origin.close();
});

test('an unknown ufrag is negatively cached: a flood of its checks asks the registry once per window', async () => {
  const client = await udpPeer();
  let calls = 0;
  const real = cluster.client.rtcLoad.bind(cluster.client);
  cluster.client.rtcLoad = async (u: string) => {
    calls++;
    return real(u);
  };
  const c = e.edge.relay.counters;
  const before = c.drops[DropReason.UNKNOWN_UFRAG]!;
  try {
    await client.send(stunMessage({ username: 'ghost:ufrag' }), e.edge.port);
    await waitFor(() => c.drops[DropReason.UNKNOWN_UFRAG]! - before === 1, { what: 'the registry to answer "unknown"' });
    const read = c.clientDatagrams;
    for (let i = 0; i < 200; i++) await client.send(stunMessage({ username: 'ghost:ufrag' }), e.edge.port);
    await edgeRead(e.edge, read, 200);
    assert.equal(calls, 1);
    assert.equal(c.drops[DropReason.UNKNOWN_UFRAG]! - before, 201);
    assert.ok(UNKNOWN_UFRAG_TTL_MS <= 5_000, 'the window stays short so racing signalling is found soon');
  } finally {
    cluster.client.rtcLoad = real;
  }
  await client.close();
});

test('with no registry reachable the datagram is dropped (counted); once one answers, the retransmit relays', async () => {
  // A bus without any registry behind it: every request fails with "no responders", for real.
  const bus = new InprocTransport();
  const client = new BusRegistryClient(bus, 500);
  const lonely = await startEdge(client);
  const origin = await udpPeer();
  const peer = await udpPeer();
  try {
    await peer.send(stunMessage({ username: 'Ur3:Uc3' }), lonely.edge.port);
    await waitFor(() => lonely.edge.relay.counters.drops[DropReason.REGISTRY_ERROR]! >= 1, { what: 'the failed lookup to be counted' });
    assert.equal(lonely.edge.relay.counters.drops[DropReason.REGISTRY_ERROR], 1);
    assert.equal(lonely.edge.relay.sizes().lookups, 0);
    // A registry comes up on that bus and learns the session.
    const balancer = createBalancer({ type: 'memory' });
    await balancer.init();
    const registry = new RegistryService(
      { logger: createLogger({ service: 'registry', level: 'silent' }), metrics: createMetricsRegistry(), balancer, bus },
      { ...readConfig(registrySchema, { PROXY_SYSTEM_API: '127.0.0.1:0' }), originTtlMs: 300_000 },
    );
    await registry.start();
    try {
      await client.rtcStore(rtcSession('Ur3:Uc3', origin.port));
      await peer.send(stunMessage({ username: 'Ur3:Uc3' }), lonely.edge.port);
      await origin.next();
    } finally {
      await registry.close();
      await balancer.close();
    }
  } finally {
    await lonely.close();
    await peer.close();
    await origin.close();
    await bus.close();
  }
});

test('10,000 Binding requests with distinct unknown usernames: bounded lookups, bounded logs, still serving', async () => {
  const client = await udpPeer();
  const origin = await udpPeer();
  let inFlight = 0;
  let maxInFlight = 0;
  const real = cluster.client.rtcLoad.bind(cluster.client);
  cluster.client.rtcLoad = async (u: string) => {
    maxInFlight = Math.max(maxInFlight, ++inFlight);
    try {
      return await real(u);
    } finally {
      inFlight--;
    }
  };
  const logsBefore = e.logs.matching(/dropped WebRTC datagram/).length;
  const c = e.edge.relay.counters;
  const seen0 = c.clientDatagrams;
  const drops0 = c.drops[DropReason.UNKNOWN_UFRAG]! + c.drops[DropReason.LOOKUP_BUSY]!;
  const seenNow = () => c.clientDatagrams - seen0;
  try {
    // The edge must see 10,000: what the kernel drops on a loaded machine is made up by more
    // distinct usernames. Twice the count sent means the edge stopped reading.
    let sent = 0;
    while (seenNow() < 10_000) {
      assert.ok(sent < 20_000, `the edge saw only ${seenNow()} of ${sent} sent`);
      await Promise.all(Array.from({ length: 100 }, (_, k) => client.send(stunMessage({ username: `u${sent + k}:flood` }), e.edge.port)));
      sent += 100;
      // Flow control: sender and edge share this thread; let the edge drain its socket.
      await drained(seenNow, sent);
    }
    await waitFor(() => e.edge.relay.sizes().lookups === 0 && inFlight === 0, { timeoutMs: 30_000, what: 'the last lookups to be answered' });
    const seen = seenNow();
    const dropped = c.drops[DropReason.UNKNOWN_UFRAG]! + c.drops[DropReason.LOOKUP_BUSY]! - drops0;
    assert.ok(seen >= 10_000, `edge saw ${seen}`);
    assert.equal(dropped, seen, 'every one dropped as unknown or lookup-busy');
    assert.ok(maxInFlight <= MAX_INFLIGHT_LOOKUPS, `${maxInFlight} lookups in flight`);
    assert.ok(e.edge.relay.sizes().unknown <= MAX_UNKNOWN_UFRAGS);
    assert.equal(e.edge.relay.sizes().lookups, 0);
    assert.ok(e.logs.matching(/dropped WebRTC datagram/).length - logsBefore <= 20, 'rate-limited warnings');
    // A real session still opens right after the flood.
    e.edge.relay.remember(rtcSession('after:flood', origin.port));
    await client.send(stunMessage({ username: 'after:flood' }), e.edge.port);
    await origin.next();
  } finally {
    cluster.client.rtcLoad = real;
    await client.close();
    await origin.close();
  }
});
