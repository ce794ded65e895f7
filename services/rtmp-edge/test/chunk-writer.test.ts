import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ChunkReader } from '../src/rtmp/chunk-reader.ts';
import { ChunkWriter } from '../src/rtmp/chunk-writer.ts';
import type { RtmpMessage } from '../src/rtmp/message-types.ts';
import { randBytes, randInt, randomSplit, rng } from './helpers.ts';

test('writer output reads back identically: csids 2..65599, extended timestamps, zero length, chunk sizes', () => {
  const r = rng(7);
  for (const chunkSize of [1, 128, 4096, 60000]) {
    const w = new ChunkWriter();
    const reader = new ChunkReader({ maxMessageSize: 1 << 20, maxChunkStreams: 64, maxBufferedBytes: 4 << 20 });
    const parts: Buffer[] = [];
    if (chunkSize !== 128) parts.push(w.setChunkSize(chunkSize));
    const sent: RtmpMessage[] = [];
    for (let i = 0; i < 60; i++) {
      const csid = [2, 3, 63, 64, 319, 320, 65599][i % 7]!;
      const m = {
        csid,
        timestamp: [0, 1, 0xfffffe, 0xffffff, 0x7fffffff, 0xffffffff][randInt(r, 0, 5)]!,
        type: 9,
        streamId: randInt(r, 0, 3),
        payload: randBytes(r, [0, 1, 127, 128, 129, 5000][randInt(r, 0, 5)]!),
      };
      sent.push(m);
      parts.push(w.encode(m));
    }
    const got: RtmpMessage[] = [];
    for (const p of randomSplit(r, Buffer.concat(parts), 1000)) {
      reader.push(p);
      for (let m = reader.next(); m; m = reader.next()) if (m.type !== 1) got.push(m);
    }
    assert.deepEqual(got, sent, `chunk size ${chunkSize}`);
  }
});

test('basic header forms and zero-length bytes', () => {
  const w = new ChunkWriter();
  const enc = (csid: number) => w.encode({ csid, timestamp: 0, type: 20, streamId: 0, payload: Buffer.alloc(0) });
  assert.equal(enc(63).toString('hex'), '3f' + '000000' + '000000' + '14' + '00000000');
  assert.equal(enc(64).toString('hex').slice(0, 4), '0000');
  assert.equal(enc(319).toString('hex').slice(0, 4), '00ff');
  assert.equal(enc(320).toString('hex').slice(0, 6), '010001');
  assert.equal(enc(65599).toString('hex').slice(0, 6), '01ffff');
  assert.throws(() => enc(1));
});

test('continuations repeat the extended timestamp', () => {
  const w = new ChunkWriter();
  const b = w.encode({ csid: 4, timestamp: 0x12345678, type: 9, streamId: 1, payload: Buffer.alloc(200) });
  assert.equal(b.readUIntBE(1, 3), 0xffffff);
  assert.equal(b.readUInt32BE(12), 0x12345678);
  assert.equal(b[16 + 128], 0xc4);
  assert.equal(b.readUInt32BE(16 + 128 + 1), 0x12345678);
  assert.equal(b.length, 16 + 128 + 5 + 72);
});
