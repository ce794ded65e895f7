import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ChunkReader } from '../src/rtmp/chunk-reader.ts';
import { ChunkRelay } from '../src/rtmp/chunk-relay.ts';
import { BAD_CHUNK } from '../src/rtmp/errors.ts';
import { CompressingWriter, randBytes, randInt, randomSplit, rng } from './helpers.ts';

const RUNS = 100_000;
const MAX_HEAP_GROWTH = 96 << 20;
const LIMITS = { maxMessageSize: 64 * 1024, maxChunkStreams: 16, maxBufferedBytes: 256 * 1024 };

function validStream(r: () => number): Buffer {
  const w = new CompressingWriter();
  const parts: Buffer[] = [];
  let ts = randInt(r, 0, 2) === 0 ? 0xfffff0 : 0;
  for (let i = randInt(r, 1, 6); i > 0; i--) {
    if (randInt(r, 0, 5) === 0) {
      const p = Buffer.alloc(4);
      p.writeUInt32BE(randInt(r, 1, 300));
      parts.push(w.encode({ csid: 2, timestamp: 0, type: 1, streamId: 0, payload: p }));
      w.chunkSize = p.readUInt32BE(0);
      continue;
    }
    ts += randInt(r, 0, 40);
    parts.push(w.encode({ csid: [3, 4, 64, 500][randInt(r, 0, 3)]!, timestamp: ts, type: 9, streamId: 1, payload: randBytes(r, randInt(r, 0, 400)) }));
  }
  return Buffer.concat(parts);
}

function mutate(r: () => number, b: Buffer): Buffer {
  const m = Buffer.from(b);
  if (m.length === 0) return m;
  for (let k = randInt(r, 1, 4); k > 0; k--) {
    const at = randInt(r, 0, m.length - 1);
    m[at] = randInt(r, 0, 1) ? randInt(r, 0, 255) : m[at]! ^ (1 << randInt(r, 0, 7));
  }
  return randInt(r, 0, 3) === 0 ? m.subarray(0, randInt(r, 0, m.length)) : m;
}

test(`chunk reader and relay: ${RUNS} random and mutated streams, only SRSP_ERR_BAD_CHUNK, memory bounded`, () => {
  const r = rng(0xc4c4);
  const heap0 = process.memoryUsage().heapUsed;
  let errors = 0;
  let messages = 0;
  for (let i = 0; i < RUNS; i++) {
    const input = i % 2 === 0 ? randBytes(r, randInt(r, 0, 600)) : mutate(r, validStream(r));
    const pieces = randomSplit(r, input, 200);
    const reader = new ChunkReader(LIMITS);
    try {
      for (const p of pieces) {
        reader.push(p);
        for (let m = reader.next(); m; m = reader.next()) messages++;
      }
      // Unparsed input never exceeds one header: payload is consumed as it arrives.
      assert.ok(reader.remainder().length <= 18, `remainder ${reader.remainder().length}`);
    } catch (err) {
      assert.equal((err as { code?: string }).code, BAD_CHUNK, String(err));
      errors++;
    }
    if (i % 4 === 0) {
      const relay = new ChunkRelay({ sender: [], receiver: [], chunkSize: 128, maxChunkStreams: 16 });
      try {
        let outLen = 0;
        for (const p of pieces) for (const o of relay.process(p)) outLen += o.length;
        // Fresh streams are never rewritten: output is the input, minus a trailing partial header.
        assert.ok(outLen <= input.length && input.length - outLen <= 18, `out ${outLen} in ${input.length}`);
      } catch (err) {
        assert.equal((err as { code?: string }).code, BAD_CHUNK, String(err));
      }
    }
  }
  const growth = process.memoryUsage().heapUsed - heap0;
  assert.ok(growth < MAX_HEAP_GROWTH, `heap grew ${growth} bytes`);
  assert.ok(errors > 1000 && messages > 1000, `errors=${errors} messages=${messages}`);
});

test('a peer streaming endless garbage into one reader is cut off by limits, not memory', () => {
  const r = rng(99);
  let cut = 0;
  for (let round = 0; round < 200; round++) {
    const reader = new ChunkReader(LIMITS);
    try {
      for (let i = 0; i < 2000; i++) {
        reader.push(randBytes(r, 256));
        while (reader.next());
      }
    } catch (err) {
      assert.equal((err as { code?: string }).code, BAD_CHUNK);
      cut++;
    }
  }
  assert.equal(cut, 200);
});
