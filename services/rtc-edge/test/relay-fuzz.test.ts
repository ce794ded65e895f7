import test from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { startRegistry, startEdge, rtcSession, udpPeer, rtpLike, gcFunction, settledHeap, sleep } from './harness.ts';
import { stunMessage, RFC5769_REQUEST, LIBJUICE_REQUEST } from './stun-builder.ts';
import { parseStun } from '../src/stun.ts';
import { classifyDatagram } from '../src/demux.ts';
import { MAX_UNKNOWN_UFRAGS } from '../src/udp-relay.ts';

/** Datagrams sent at the live edge. */
const NETWORK_DATAGRAMS = 100_000;
/** Buffers fed straight to the parsers. */
const PARSER_INPUTS = 300_000;
const BURST = 250;

// Deterministic PRNG so a failure reproduces (xorshift32, seed in the test name).
function prng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 0x100000000;
  };
}

const SEEDS = [RFC5769_REQUEST, LIBJUICE_REQUEST, stunMessage({ username: 'Uf:Uc' }), stunMessage({ type: 0x0101 }), rtpLike(1, 60), Buffer.from('16fefd0000000000000000007c010000700000', 'hex')];
/** The 22-byte STUN that kills the Go proxy (spec A14). */
const GO_CRASHER = Buffer.concat([Buffer.from('000100022112a442', 'hex'), randomBytes(12), Buffer.from('0006', 'hex')]);

function mutate(rand: () => number): Buffer {
  const pick = Math.floor(rand() * 8);
  if (pick === 0) return GO_CRASHER;
  if (pick === 1) {
    const b = randomBytes(Math.floor(rand() * 1500));
    if (b.length > 0) b[0] = Math.floor(rand() * 4); // STUN range
    return b;
  }
  if (pick === 2) return randomBytes(Math.floor(rand() * 200));
  const seed = SEEDS[Math.floor(rand() * SEEDS.length)]!;
  const b = Buffer.from(seed);
  const op = Math.floor(rand() * 5);
  if (op === 0) {
    // Flip a few bits anywhere, header included.
    for (let i = 0, n = 1 + Math.floor(rand() * 4); i < n; i++) b[Math.floor(rand() * b.length)]! ^= 1 << Math.floor(rand() * 8);
    return b;
  }
  if (op === 1) return b.subarray(0, Math.floor(rand() * b.length));
  if (op === 2 && b.length >= 24) {
    // An attribute length past the end, with a consistent message length.
    b.writeUInt16BE(0xffff - Math.floor(rand() * 100), 22);
    return b;
  }
  if (op === 3 && b.length >= 4) {
    b.writeUInt16BE(Math.floor(rand() * 0x10000), 2);
    return b;
  }
  return Buffer.concat([b, randomBytes(Math.floor(rand() * 64))]);
}

test('parsers never throw on 300,000 random and mutated inputs (seed 0x5eed)', () => {
  const rand = prng(0x5eed);
  let parsed = 0;
  for (let i = 0; i < PARSER_INPUTS; i++) {
    const b = mutate(rand);
    classifyDatagram(b);
    const r = parseStun(b);
    if (r.ok) {
      parsed++;
      assert.ok(r.message.username === undefined || Buffer.byteLength(r.message.username) <= 512 * 3);
    }
  }
  assert.ok(parsed > 0 && parsed < PARSER_INPUTS, `parsed ${parsed}`);
});

test('100,000 hostile datagrams at the live edge: still relaying, memory and indexes bounded (seed 0xf00d)', async () => {
  const gc = gcFunction();
  const rand = prng(0xf00d);
  const cluster = await startRegistry();
  const e = await startEdge(cluster.client);
  const origin = await udpPeer((msg, port, self) => void self.send(msg, port));
  const fuzzer = await udpPeer();
  const bound = await udpPeer();
  try {
    // One legitimate session, bound from the `bound` socket, receives mutated DTLS/RTP too.
    e.edge.relay.remember(rtcSession('Uf:Uc', origin.port));
    await bound.send(stunMessage({ username: 'Uf:Uc' }), e.edge.port);
    await bound.next();
    const heapBefore = settledHeap(gc);
    const errorsBefore = e.logs.lines.filter((l) => l.level >= 50).length;
    const c = e.edge.relay.counters;
    const seen0 = c.clientDatagrams;

    for (let i = 0; i < NETWORK_DATAGRAMS; i += BURST) {
      const sends: Array<Promise<void>> = [];
      for (let k = 0; k < BURST; k++) {
        const m = mutate(rand);
        // One in five goes from the bound address (routed to the origin when not STUN).
        sends.push((k % 5 === 0 ? bound : fuzzer).send(m, e.edge.port));
      }
      await Promise.all(sends);
      // Flow control: sender and edge share this thread; let the edge drain its socket.
      const deadline = Date.now() + 1_000;
      while (c.clientDatagrams - seen0 < i + BURST - 2 * BURST && Date.now() < deadline) await sleep(1);
    }
    await sleep(300);

    assert.ok(c.clientDatagrams - seen0 >= NETWORK_DATAGRAMS * 0.95, `edge saw ${c.clientDatagrams - seen0} datagrams`);
    const dropped = c.drops.reduce((a, b) => a + b, 0);
    assert.ok(dropped > NETWORK_DATAGRAMS * 0.3, `dropped ${dropped}`);
    assert.equal(e.logs.lines.filter((l) => l.level >= 50).length, errorsBefore, 'no handler error');
    const sizes = e.edge.relay.sizes();
    assert.ok(sizes.unknown <= MAX_UNKNOWN_UFRAGS);
    assert.ok(sizes.sessions <= 1 && sizes.bindings <= 8, JSON.stringify(sizes));
    // Warnings about drops are rate-limited: far fewer lines than dropped datagrams.
    assert.ok(e.logs.matching(/dropped WebRTC datagram/).length <= 20, `${e.logs.matching(/dropped WebRTC datagram/).length} drop lines`);

    bound.reset();
    fuzzer.reset();
    e.logs.lines.length = 0;
    const heapAfter = settledHeap(gc);
    assert.ok(heapAfter - heapBefore < 8 * 1024 * 1024, `heap grew by ${heapAfter - heapBefore} bytes`);

    // The legitimate session still relays after the storm.
    bound.reset();
    await bound.send(rtpLike(4242), e.edge.port);
    const deadline = Date.now() + 2_000;
    while (!bound.received.some((r) => r.msg.length === 200 && r.msg.readUInt16BE(2) === 4242) && Date.now() < deadline) await sleep(10);
    assert.ok(bound.received.some((r) => r.msg.readUInt16BE(2) === 4242), 'echo after fuzzing');
  } finally {
    await fuzzer.close();
    await bound.close();
    await origin.close();
    await e.close();
    await cluster.close();
  }
});
