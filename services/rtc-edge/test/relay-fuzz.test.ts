import test from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { startRegistry, startEdge, rtcSession, udpPeer, rtpLike, gcFunction, settledHeap, drained, waitForCount } from './harness.ts';
import { stunMessage, RFC5769_REQUEST, LIBJUICE_REQUEST } from './stun-builder.ts';
import { parseStun } from '../src/stun.ts';
import { classifyDatagram } from '../src/demux.ts';
import { MAX_UNKNOWN_UFRAGS, DROP_LOG_INTERVAL_MS, DROP_LOG_PER_INTERVAL } from '../src/udp-relay.ts';

/** Datagrams sent at the live edge. */
const NETWORK_DATAGRAMS = 100_000;
/** Buffers fed straight to the parsers. */
const PARSER_INPUTS = 300_000;
/**
 * Datagrams in flight at once: a burst must fit the edge's default receive buffer (rmem_default,
 * ~208 KiB of skb truesize), or the kernel drops what the edge has not yet had a turn to read.
 */
const BURST = 100;
/** Edge time the flood spans: one drop-log interval, so at most two windows of lines. */
const FLOOD_EDGE_MS = 10_000;

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
  // The edge's clock moves by hand, a fixed step per burst: the flood spans the same edge time
  // (and so the same number of drop-log windows) however slowly a loaded machine runs it.
  let clock = Date.now();
  const e = await startEdge(cluster.client, {}, () => clock);
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
    const drops0 = c.drops.reduce((a, b) => a + b, 0);
    const seen = () => c.clientDatagrams - seen0;

    // The edge must see 100,000 of them: what the kernel drops on a loaded machine is made up by
    // more of the same stream. Twice the count sent means the edge stopped reading.
    let sent = 0;
    while (seen() < NETWORK_DATAGRAMS) {
      assert.ok(sent < 2 * NETWORK_DATAGRAMS, `the edge saw only ${seen()} of ${sent} datagrams sent`);
      const sends: Array<Promise<void>> = [];
      for (let k = 0; k < BURST; k++) {
        const m = mutate(rand);
        // One in five goes from the bound address (routed to the origin when not STUN).
        sends.push((k % 5 === 0 ? bound : fuzzer).send(m, e.edge.port));
      }
      await Promise.all(sends);
      sent += BURST;
      clock += FLOOD_EDGE_MS / (NETWORK_DATAGRAMS / BURST);
      await drained(seen, sent);
    }

    const dropped = c.drops.reduce((a, b) => a + b, 0) - drops0;
    assert.ok(dropped > seen() * 0.3, `dropped ${dropped} of ${seen()} seen`);
    assert.equal(e.logs.lines.filter((l) => l.level >= 50).length, errorsBefore, 'no handler error');
    const sizes = e.edge.relay.sizes();
    assert.ok(sizes.unknown <= MAX_UNKNOWN_UFRAGS);
    assert.ok(sizes.sessions <= 1 && sizes.bindings <= 8, JSON.stringify(sizes));
    // Warnings about drops are rate-limited: at most one window's worth per drop-log interval of
    // edge time, far fewer lines than dropped datagrams.
    const windows = Math.floor(FLOOD_EDGE_MS / DROP_LOG_INTERVAL_MS) + 1;
    const dropLines = e.logs.matching(/dropped WebRTC datagram/).length;
    assert.ok(dropLines <= windows * DROP_LOG_PER_INTERVAL, `${dropLines} drop lines in ${FLOOD_EDGE_MS} ms of edge time`);

    // What the test's own peers kept (the echo origin queues every datagram it relayed back) is
    // not the edge's memory: drop it before measuring.
    bound.reset();
    fuzzer.reset();
    origin.reset();
    e.logs.lines.length = 0;
    const heapAfter = settledHeap(gc);
    assert.ok(heapAfter - heapBefore < 8 * 1024 * 1024, `heap grew by ${heapAfter - heapBefore} bytes`);

    // The legitimate session still relays after the storm.
    bound.reset();
    await bound.send(rtpLike(4242), e.edge.port);
    await waitForCount(() => (bound.received.some((r) => r.msg.length === 200 && r.msg.readUInt16BE(2) === 4242) ? 1 : 0), 1);
  } finally {
    await fuzzer.close();
    await bound.close();
    await origin.close();
    await e.close();
    await cluster.close();
  }
});
