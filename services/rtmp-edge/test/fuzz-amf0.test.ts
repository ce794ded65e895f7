import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeAmf0All, encodeAmf0, EcmaArray } from '../src/rtmp/amf0.ts';
import { BAD_AMF0 } from '../src/rtmp/errors.ts';
import { randBytes, randInt, rng } from './helpers.ts';

const RUNS = 100_000;
// Heap growth allowed across the whole run: the decoder keeps nothing between calls.
const MAX_HEAP_GROWTH = 64 << 20;

const seeds = [
  encodeAmf0('connect', 1, { app: 'live', tcUrl: 'rtmp://127.0.0.1/live?secret=abc', flashVer: 'FMLE/3.0', objectEncoding: 0 }),
  encodeAmf0('publish', 5, null, 'livestream?token=abc', 'live'),
  encodeAmf0('onMetaData', new EcmaArray({ width: 320, height: 240, encoder: 'Lavf', tags: [1, 'a', { b: null }] })),
  encodeAmf0('_result', 1, { fmsVer: 'FMS/3,5,3,888' }, { code: 'NetConnection.Connect.Success', when: new Date(0) }),
];

test(`AMF0 decoder: ${RUNS} random and ${RUNS} mutated inputs never throw anything but SRSP_ERR_BAD_AMF0`, () => {
  const r = rng(0xa3f0);
  const heap0 = process.memoryUsage().heapUsed;
  let ok = 0;
  let rejected = 0;
  const check = (buf: Buffer) => {
    try {
      decodeAmf0All(buf);
      ok++;
    } catch (err) {
      assert.equal((err as { code?: string }).code, BAD_AMF0, String(err));
      rejected++;
    }
  };
  for (let i = 0; i < RUNS; i++) {
    // Random bytes biased towards valid markers so decoding goes deep, not just fails at byte 0.
    const b = randBytes(r, randInt(r, 0, 96));
    for (let j = 0; j < b.length; j += randInt(r, 1, 6)) b[j] = randInt(r, 0, 12);
    check(b);
  }
  for (let i = 0; i < RUNS; i++) {
    const b = Buffer.from(seeds[i % seeds.length]!);
    const kind = randInt(r, 0, 3);
    if (kind === 0) for (let k = randInt(r, 1, 4); k > 0; k--) b[randInt(r, 0, b.length - 1)] = randInt(r, 0, 255);
    else if (kind === 1) check(b.subarray(0, randInt(r, 0, b.length)));
    else if (kind === 2) b[randInt(r, 0, b.length - 1)]! ^= 1 << randInt(r, 0, 7);
    else b.writeUInt16BE(randInt(r, 0, 0xffff), randInt(r, 0, b.length - 2));
    check(b);
  }
  const growth = process.memoryUsage().heapUsed - heap0;
  assert.ok(growth < MAX_HEAP_GROWTH, `heap grew ${growth} bytes`);
  assert.ok(ok > 1000 && rejected > 1000, `ok=${ok} rejected=${rejected}`);
});
