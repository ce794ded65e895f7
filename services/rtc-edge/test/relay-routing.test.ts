import test from 'node:test';
import assert from 'node:assert/strict';
import { startRegistry, startEdge, rtcSession, udpPeer, rtpLike, edgeRead, waitFor, type Cluster, type TestEdge } from './harness.ts';
import { stunMessage } from './stun-builder.ts';
import { DropReason } from '../src/metrics.ts';

let cluster: Cluster;
let e: TestEdge;
test.before(async () => {
  cluster = await startRegistry();
  e = await startEdge(cluster.client);
});
test.after(async () => {
  await e.close();
  await cluster.close();
});

test('a Binding request with a signalled ufrag opens one upstream socket; both directions relay', async () => {
  const origin = await udpPeer((msg, port, self) => void self.send(Buffer.concat([Buffer.from('echo:'), msg]), port));
  const client = await udpPeer();
  const relay = e.edge.relay;
  relay.remember(rtcSession('Uo1:Uc1', origin.port));
  const stun = stunMessage({ username: 'Uo1:Uc1' });
  await client.send(stun, e.edge.port);
  const atOrigin = await origin.next();
  assert.deepEqual(atOrigin.msg, stun, 'payload unchanged');
  const upstreamPort = atOrigin.port;
  assert.notEqual(upstreamPort, e.edge.port, 'origin sees the per-session socket, not the listener');
  const back = await client.next();
  assert.equal(back.port, e.edge.port, 'replies come from the proxy port');
  assert.deepEqual(back.msg, Buffer.concat([Buffer.from('echo:'), stun]));

  // DTLS and RTP from the bound address follow the binding, through the same upstream socket.
  for (const first of [22, 0x80]) {
    const d = Buffer.from([first, 1, 2, 3, 4, 5]);
    await client.send(d, e.edge.port);
    const got = await origin.next();
    assert.deepEqual(got.msg, d);
    assert.equal(got.port, upstreamPort);
    await client.next();
  }
  assert.equal(relay.sessionCount, 1);
  await client.close();
  await origin.close();
});

test('unknown ufrag, unbound address and unsupported kinds are dropped and counted', async () => {
  const client = await udpPeer();
  const c = e.edge.relay.counters;
  const before = [...c.drops];
  const read = c.clientDatagrams;
  await client.send(stunMessage({ username: 'nobody:knows' }), e.edge.port);
  await client.send(rtpLike(1), e.edge.port);
  await client.send(Buffer.from([23, 0, 0]), e.edge.port);
  await client.send(Buffer.from([0x42, 0, 0, 0]), e.edge.port);
  await client.send(Buffer.alloc(0), e.edge.port);
  await client.send(stunMessage({}), e.edge.port);
  await edgeRead(e.edge, read, 6);
  // The unknown ufrag is dropped once the registry has answered.
  await waitFor(() => e.edge.relay.sizes().lookups === 0, { what: 'the registry lookup of nobody:knows' });
  assert.equal(c.drops[DropReason.UNKNOWN_UFRAG]! - before[DropReason.UNKNOWN_UFRAG]!, 1);
  assert.equal(c.drops[DropReason.UNKNOWN_ADDRESS]! - before[DropReason.UNKNOWN_ADDRESS]!, 2);
  assert.equal(c.drops[DropReason.UNSUPPORTED]! - before[DropReason.UNSUPPORTED]!, 2);
  assert.equal(c.drops[DropReason.NO_USERNAME]! - before[DropReason.NO_USERNAME]!, 1);
  assert.equal(client.received.length, 0);
  const text = await e.metrics.metrics();
  assert.match(text, /srsp_rtc_dropped_datagrams_total\{reason="unknown_ufrag"[^}]*\} [1-9]/);
  assert.ok(e.logs.matching(/dropped WebRTC datagram/).length >= 1);
  await client.close();
});

test('a new client address with the same ufrag re-binds; the old address keeps working until replaced', async () => {
  const origin = await udpPeer((msg, port, self) => void self.send(msg, port));
  const a = await udpPeer();
  const b = await udpPeer();
  e.edge.relay.remember(rtcSession('Uo2:Uc2', origin.port));
  await a.send(stunMessage({ username: 'Uo2:Uc2' }), e.edge.port);
  await origin.next();
  await a.next();
  // NAT rebinding: the same ufrag from another address moves the return path there.
  await b.send(stunMessage({ username: 'Uo2:Uc2' }), e.edge.port);
  await origin.next();
  await b.next();
  await b.send(rtpLike(7), e.edge.port);
  assert.equal((await origin.next()).msg.readUInt16BE(2), 7);
  assert.equal((await b.next()).msg.readUInt16BE(2), 7);
  assert.equal(e.edge.relay.sessionCount >= 1, true);
  assert.equal(e.edge.relay.session('Uo2:Uc2')!.addresses.length, 2);
  for (const p of [a, b, origin]) await p.close();
});

test('an address bound to an old session moves to the session its new ufrag names', async () => {
  const origin1 = await udpPeer();
  const origin2 = await udpPeer();
  const client = await udpPeer();
  e.edge.relay.remember(rtcSession('Uo3:Uc3', origin1.port));
  e.edge.relay.remember(rtcSession('Uo4:Uc4', origin2.port));
  await client.send(stunMessage({ username: 'Uo3:Uc3' }), e.edge.port);
  await origin1.next();
  // Same local port, new session (the Go proxy kept routing it to the old one).
  await client.send(stunMessage({ username: 'Uo4:Uc4' }), e.edge.port);
  await origin2.next();
  await client.send(rtpLike(9), e.edge.port);
  assert.equal((await origin2.next()).msg.readUInt16BE(2), 9);
  assert.equal(e.edge.relay.session('Uo3:Uc3')!.addresses.length, 0);
  for (const p of [client, origin1, origin2]) await p.close();
});

test('a Binding response from the origin returns to the address that sent the request', async () => {
  const origin = await udpPeer();
  const a = await udpPeer();
  const b = await udpPeer();
  e.edge.relay.remember(rtcSession('Uo5:Uc5', origin.port));
  const reqA = stunMessage({ username: 'Uo5:Uc5' });
  const reqB = stunMessage({ username: 'Uo5:Uc5' });
  await a.send(reqA, e.edge.port);
  const upstream = (await origin.next()).port;
  await b.send(reqB, e.edge.port);
  await origin.next();
  // b sent last, but the response to a's transaction must reach a.
  const respA = stunMessage({ type: 0x0101, txid: reqA.subarray(8, 20) });
  await origin.send(respA, upstream);
  const got = await a.next();
  assert.deepEqual(got.msg, respA);
  // Non-STUN from the origin goes to the latest sender.
  await origin.send(rtpLike(3), upstream);
  assert.equal((await b.next()).msg.readUInt16BE(2), 3);
  assert.equal(a.received.length, 1);
  for (const p of [a, b, origin]) await p.close();
});
