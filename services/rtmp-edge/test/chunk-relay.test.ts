import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ChunkReader } from '../src/rtmp/chunk-reader.ts';
import { ChunkRelay } from '../src/rtmp/chunk-relay.ts';
import { ChunkWriter } from '../src/rtmp/chunk-writer.ts';
import type { RtmpMessage } from '../src/rtmp/message-types.ts';
import { CompressingWriter, randBytes, randInt, randomSplit, rng } from './helpers.ts';

const LIMITS = { maxMessageSize: 1 << 20, maxChunkStreams: 64, maxBufferedBytes: 8 << 20 };
const CSIDS = [2, 3, 4, 5, 6, 8, 64, 400];

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}

function randomMessage(r: () => number, ts: number): RtmpMessage {
  const csid = CSIDS[randInt(r, 0, CSIDS.length - 1)]!;
  const lens = [0, 1, 5, 127, 128, 129, 300, 1000];
  return {
    csid: csid === 2 ? 4 : csid, // keep csid 2 for control messages
    timestamp: ts,
    type: [8, 9, 18, 20][randInt(r, 0, 3)]!,
    streamId: randInt(r, 0, 1),
    payload: randBytes(r, lens[randInt(r, 0, lens.length - 1)]!),
  };
}

function drain(reader: ChunkReader, into: RtmpMessage[]): void {
  for (let m = reader.next(); m; m = reader.next()) into.push(m);
}

/**
 * Model of a session: the sender talks to the proxy's set-up reader, the proxy writes its own
 * messages to the receiver, then the relay takes over. Whatever the sender writes afterwards
 * (compressed headers, chunk-size changes, extended timestamps) must reach the receiver's
 * reader as the same messages (stream ids mapped), whatever the TCP segmentation.
 */
function scenario(seed: number): { passThrough: boolean } {
  const r = rng(seed);
  const sender = new CompressingWriter();
  const proxyReader = new ChunkReader(LIMITS);
  const toReceiver = new ChunkWriter();
  const receiver = new ChunkReader(LIMITS);
  let ts = randInt(r, 0, 3) === 0 ? 0xfffff0 : randInt(r, 0, 1000);
  const tick = () => (ts = (ts + [0, 0, 20, 23, 40, 0x1000000][randInt(r, 0, 5)]!) >>> 0);

  // Set-up: the proxy consumes the sender's first messages…
  const setupBytes: Buffer[] = [];
  if (randInt(r, 0, 1)) {
    setupBytes.push(sender.encode({ csid: 2, timestamp: 0, type: 1, streamId: 0, payload: u32(4096) }));
    sender.chunkSize = 4096;
  }
  for (let i = randInt(r, 0, 8); i > 0; i--) setupBytes.push(sender.encode(randomMessage(r, tick())));
  const consumed: RtmpMessage[] = [];
  for (const p of randomSplit(r, Buffer.concat(setupBytes))) {
    proxyReader.push(p);
    drain(proxyReader, consumed);
  }
  // …and maybe the first chunks of one more message, interrupted by the hand-over.
  const expected: RtmpMessage[] = [];
  const streamIds = randInt(r, 0, 1) ? new Map([[1, 7]]) : new Map<number, number>();
  const map = (m: RtmpMessage): RtmpMessage => ({ ...m, streamId: streamIds.get(m.streamId) ?? m.streamId });
  if (randInt(r, 0, 2) === 0) {
    const m = { ...randomMessage(r, tick()), payload: randBytes(r, sender.chunkSize * 2 + 10) };
    const bytes = sender.encode(m);
    // Feed the header byte by byte, then exactly the first chunk's payload.
    let cut = 0;
    while (!proxyReader.midChunk) {
      proxyReader.push(bytes.subarray(cut, cut + 1));
      cut++;
      assert.equal(proxyReader.next(), undefined);
    }
    proxyReader.push(bytes.subarray(cut, cut + sender.chunkSize));
    cut += sender.chunkSize;
    assert.equal(proxyReader.next(), undefined);
    assert.equal(proxyReader.midChunk, false);
    drain(proxyReader, consumed);
    expected.push(map(m));
    setupBytes.push(bytes.subarray(cut)); // the rest arrives during the relay
  } else {
    setupBytes.length = 0;
  }
  const pendingTail = setupBytes.length > 0 ? setupBytes[setupBytes.length - 1]! : Buffer.alloc(0);

  // The proxy's own writes to the receiver (connect result, statuses…).
  const proxyBytes: Buffer[] = [];
  for (let i = randInt(r, 0, 6); i > 0; i--) proxyBytes.push(toReceiver.encode({ ...randomMessage(r, randInt(r, 0, 5000)), streamId: randInt(r, 0, 7) }));
  proxyBytes.push(toReceiver.setChunkSize(proxyReader.chunkSize));
  const ignored: RtmpMessage[] = [];
  receiver.push(Buffer.concat(proxyBytes));
  drain(receiver, ignored);

  const relay = new ChunkRelay({
    sender: proxyReader.snapshot(),
    receiver: toReceiver.written.values(),
    chunkSize: proxyReader.chunkSize,
    streamIds,
    maxChunkStreams: 64,
  });
  const out: Buffer[] = [...relay.prefix()];
  const relayBytes: Buffer[] = [Buffer.concat([proxyReader.remainder(), pendingTail])];
  for (let i = randInt(r, 5, 40); i > 0; i--) {
    if (randInt(r, 0, 12) === 0) {
      const size = [1, 64, 128, 4096, 70000][randInt(r, 0, 4)]!;
      const m = { csid: 2, timestamp: 0, type: 1, streamId: 0, payload: u32(size) };
      relayBytes.push(sender.encode(m));
      sender.chunkSize = size;
      expected.push(m);
      continue;
    }
    const m = randomMessage(r, tick());
    relayBytes.push(sender.encode(m, randInt(r, 0, 9) === 0));
    expected.push(map(m));
  }
  for (const p of randomSplit(r, Buffer.concat(relayBytes), 700)) out.push(...relay.process(p));
  const got: RtmpMessage[] = [];
  receiver.push(Buffer.concat(out));
  drain(receiver, got);
  const brief = (l: RtmpMessage[]) => l.map((m) => `${m.csid}/${m.timestamp}/${m.type}/${m.streamId}/${m.payload.length}`);
  assert.deepEqual(brief(got), brief(expected), `seed ${seed}`);
  assert.deepEqual(got, expected, `seed ${seed}`);
  return { passThrough: relay.passThrough };
}

test('relayed chunk streams decode to the sent messages (2,000 random sessions)', () => {
  let passThrough = 0;
  for (let seed = 1; seed <= 2000; seed++) if (scenario(seed).passThrough) passThrough++;
  // Some sessions end with every chunk stream aligned (raw forwarding possible), some not.
  assert.ok(passThrough > 0 && passThrough < 2000, `passThrough=${passThrough}`);
});

test('clean streams are forwarded as the same buffer, without copying', () => {
  const w = new CompressingWriter();
  const relay = new ChunkRelay({ sender: [], receiver: [], chunkSize: 128, maxChunkStreams: 8 });
  const input = Buffer.concat([w.encode({ csid: 6, timestamp: 0, type: 9, streamId: 1, payload: Buffer.alloc(1000) }), w.encode({ csid: 6, timestamp: 40, type: 9, streamId: 1, payload: Buffer.alloc(1000) })]);
  const out = relay.process(input);
  assert.equal(out.length, 1);
  assert.equal(out[0], input);
  assert.equal(relay.passThrough, true);
});

test('a Set Chunk Size from the sender is forwarded and followed (the Go proxy bug)', () => {
  const w = new CompressingWriter();
  const relay = new ChunkRelay({ sender: [], receiver: [], chunkSize: 128, maxChunkStreams: 8 });
  const receiver = new ChunkReader(LIMITS);
  const big = randBytes(rng(3), 10_000);
  const bytes = [w.encode({ csid: 2, timestamp: 0, type: 1, streamId: 0, payload: u32(60_000) })];
  w.chunkSize = 60_000;
  bytes.push(w.encode({ csid: 6, timestamp: 0, type: 9, streamId: 1, payload: big }));
  for (const p of randomSplit(rng(4), Buffer.concat(bytes), 3000)) for (const o of relay.process(p)) receiver.push(o);
  const got: RtmpMessage[] = [];
  drain(receiver, got);
  assert.equal(relay.chunkSize, 60_000);
  assert.deepEqual(got.map((m) => m.payload.length), [4, 10_000]);
  assert.deepEqual(got[1]!.payload, big);
});

test('invalid Set Chunk Size in the relay is a typed error', () => {
  const relay = new ChunkRelay({ sender: [], receiver: [], chunkSize: 128, maxChunkStreams: 8 });
  const bad = new CompressingWriter().encode({ csid: 2, timestamp: 0, type: 1, streamId: 0, payload: u32(0) });
  assert.throws(() => relay.process(bad), (e: { code?: string }) => e.code === 'SRSP_ERR_BAD_CHUNK');
});
