import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ChunkReader } from '../src/rtmp/chunk-reader.ts';
import { BAD_CHUNK } from '../src/rtmp/errors.ts';
import type { RtmpMessage } from '../src/rtmp/message-types.ts';
import { CompressingWriter, randomSplit, rng } from './helpers.ts';

function readAll(reader: ChunkReader, pieces: Buffer[]): RtmpMessage[] {
  const out: RtmpMessage[] = [];
  for (const p of pieces) {
    reader.push(p);
    for (let m = reader.next(); m; m = reader.next()) out.push(m);
  }
  return out;
}

const isBadChunk = (re: RegExp) => (e: Error & { code?: string }) => e.code === BAD_CHUNK && re.test(e.message);

test('fmt 0, 1, 2 and 3 headers with delta timestamps, byte by byte', () => {
  // Hand-written: csid 4, fmt 0 ts 1000 len 3 type 8 sid 1; fmt 1 delta 20 len 2 type 9;
  // fmt 2 delta 30; fmt 3 (new message, delta 30 again).
  const bytes = Buffer.from(
    [
      '04' + '0003e8' + '000003' + '08' + '01000000' + 'aabbcc',
      '44' + '000014' + '000002' + '09' + '1122',
      '84' + '00001e' + '3344',
      'c4' + '5566',
    ].join(''),
    'hex',
  );
  const msgs = readAll(new ChunkReader(), [...bytes].map((b) => Buffer.from([b])));
  assert.deepEqual(
    msgs.map((m) => [m.csid, m.timestamp, m.type, m.streamId, m.payload.toString('hex')]),
    [
      [4, 1000, 8, 1, 'aabbcc'],
      [4, 1020, 9, 1, '1122'],
      [4, 1050, 9, 1, '3344'],
      [4, 1080, 9, 1, '5566'],
    ],
  );
});

test('2- and 3-byte basic headers (csid 64..65599)', () => {
  const w = new CompressingWriter();
  const sent = [64, 319, 320, 1000, 65599].map((csid, i) => ({ csid, timestamp: i, type: 18, streamId: 1, payload: Buffer.from(`m${csid}`) }));
  const msgs = readAll(new ChunkReader(), [Buffer.concat(sent.map((m) => w.encode(m)))]);
  assert.deepEqual(msgs, sent);
  // 3-byte form: the second and third bytes are little-endian csid - 64.
  const raw = Buffer.from('01' + 'a803' + '000000' + '000001' + '14' + '00000000' + '05', 'hex');
  assert.equal(readAll(new ChunkReader(), [raw])[0]!.csid, 64 + 0xa8 + 3 * 256);
});

test('extended timestamps on fmt 0 and on every fmt 3 continuation', () => {
  const w = new CompressingWriter();
  const payload = Buffer.alloc(300, 7);
  const sent = [
    { csid: 6, timestamp: 0x1000000, type: 9, streamId: 1, payload },
    { csid: 6, timestamp: 0x1000000 + 0x1000000, type: 9, streamId: 1, payload }, // fmt 3 new message, extended delta
  ];
  const bytes = Buffer.concat(sent.map((m) => w.encode(m)));
  // fmt 0 (1+11+4) + 128 + (1+4) + 128 + (1+4) + 44, then fmt 3 new message (1+4) + …
  assert.equal(bytes.readUInt32BE(1 + 11 + 4 + 128 + 1), 0x1000000, 'continuation carries the extended timestamp');
  assert.deepEqual(readAll(new ChunkReader(), randomSplit(rng(1), bytes, 7)), sent);
});

test('Set Chunk Size applies to later chunks; 0 and > 0x7fffffff are refused', () => {
  const w = new CompressingWriter();
  const big = Buffer.alloc(5000, 1);
  const set = (n: number) => ({ csid: 2, timestamp: 0, type: 1, streamId: 0, payload: Buffer.from([(n >>> 24) & 0xff, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff]) });
  const parts = [w.encode({ csid: 4, timestamp: 0, type: 9, streamId: 1, payload: big }), w.encode(set(4096))];
  w.chunkSize = 4096;
  parts.push(w.encode({ csid: 4, timestamp: 40, type: 9, streamId: 1, payload: big }));
  const r = new ChunkReader({ maxMessageSize: 1 << 20, maxChunkStreams: 8, maxBufferedBytes: 1 << 20 });
  const msgs = readAll(r, randomSplit(rng(2), Buffer.concat(parts), 999));
  assert.equal(r.chunkSize, 4096);
  assert.deepEqual(msgs.map((m) => m.payload.length), [5000, 4, 5000]);
  for (const bad of [0, 0x80000000]) {
    assert.throws(() => readAll(new ChunkReader(), [new CompressingWriter().encode(set(bad))]), isBadChunk(/invalid chunk size/));
  }
});

test('zero-length messages are delivered at once', () => {
  const w = new CompressingWriter();
  const sent = [
    { csid: 5, timestamp: 1, type: 18, streamId: 1, payload: Buffer.alloc(0) },
    { csid: 5, timestamp: 2, type: 18, streamId: 1, payload: Buffer.alloc(0) },
  ];
  assert.deepEqual(readAll(new ChunkReader(), [Buffer.concat(sent.map((m) => w.encode(m)))]), sent);
});

test('Abort drops the partial message of a chunk stream', () => {
  const w = new CompressingWriter();
  const whole = w.encode({ csid: 4, timestamp: 0, type: 9, streamId: 1, payload: Buffer.alloc(200, 1) });
  const firstChunk = whole.subarray(0, 12 + 128);
  const abort = new CompressingWriter().encode({ csid: 2, timestamp: 0, type: 2, streamId: 0, payload: Buffer.from([0, 0, 0, 4]) });
  const next = Buffer.from('04' + '000000' + '000001' + '09' + '01000000' + 'ee', 'hex');
  const msgs = readAll(new ChunkReader(), [firstChunk, abort, next]);
  assert.deepEqual(msgs.map((m) => [m.type, m.payload.toString('hex')]), [[2, '00000004'], [9, 'ee']]);
});

test('protocol violations and limits are typed errors', () => {
  const limits = { maxMessageSize: 1000, maxChunkStreams: 3, maxBufferedBytes: 1500 };
  assert.throws(() => readAll(new ChunkReader(limits), [Buffer.from('44000000000001090000', 'hex')]), isBadChunk(/fmt 1 chunk opens csid 4/));
  assert.throws(() => readAll(new ChunkReader(limits), [Buffer.from('c4', 'hex')]), isBadChunk(/fmt 3 chunk opens/));
  assert.throws(() => readAll(new ChunkReader(limits), [Buffer.from('04000000' + '0003e9' + '09' + '00000000', 'hex')]), isBadChunk(/1001 bytes .* exceeds 1000/));
  const fmt0 = (csid: number) => Buffer.from(csid.toString(16).padStart(2, '0') + '000000' + '000001' + '09' + '00000000' + '00', 'hex');
  assert.throws(() => readAll(new ChunkReader(limits), [fmt0(4), fmt0(5), fmt0(6), fmt0(7)]), isBadChunk(/more than 3 chunk streams/));
  // fmt 0 while a message is incomplete on the same csid
  const partial = Buffer.from('04' + '000000' + '0000c8' + '09' + '00000000', 'hex');
  assert.throws(() => readAll(new ChunkReader(limits), [partial, Buffer.alloc(128), partial]), isBadChunk(/while a message is incomplete/));
  // fmt 1 changing the length of an incomplete message
  assert.throws(() => readAll(new ChunkReader(limits), [partial, Buffer.alloc(128), Buffer.from('44000000000005090000', 'hex')]), isBadChunk(/changes the length/));
  // buffered bytes over the budget across interleaved partial messages
  const msg = (csid: number) => Buffer.concat([Buffer.from(csid.toString(16).padStart(2, '0') + '000000' + '0003e8' + '09' + '00000000', 'hex'), Buffer.alloc(128)]);
  assert.throws(() => readAll(new ChunkReader({ ...limits, maxBufferedBytes: 300 }), [msg(4), msg(5), msg(6)]), isBadChunk(/more than 300 bytes/));
  // librtmp habit tolerated: csid 2 opening with fmt 1
  assert.equal(readAll(new ChunkReader(limits), [Buffer.from('42000000000004050000ffff', 'hex')])[0]!.type, 5);
});
