import { test } from 'node:test';
import assert from 'node:assert/strict';
import { answerC0C1, clientC2, HANDSHAKE_SIZE } from '../src/rtmp/handshake.ts';
import { BAD_HANDSHAKE } from '../src/rtmp/errors.ts';
import { randBytes, randInt, rng } from './helpers.ts';

const RUNS = 100_000;
const MAX_HEAP_GROWTH = 64 << 20;

test(`handshake: ${RUNS} random and mutated C0C1/S0S1S2 inputs never throw anything but SRSP_ERR_BAD_HANDSHAKE`, () => {
  const r = rng(0x5eed);
  const heap0 = process.memoryUsage().heapUsed;
  const fixed = (n: number) => () => Buffer.alloc(n, 0x5a); // deterministic "random" for speed
  let answered = 0;
  let refused = 0;
  for (let i = 0; i < RUNS; i++) {
    const kind = randInt(r, 0, 3);
    let input: Buffer;
    if (kind === 0) input = randBytes(r, randInt(r, 0, 2 * HANDSHAKE_SIZE));
    else {
      input = Buffer.alloc(1 + HANDSHAKE_SIZE);
      input[0] = kind === 1 ? randInt(r, 0, 255) : 3;
      // Mutate a few bytes, including the digest-offset bytes of both schemas.
      for (let k = randInt(r, 0, 6); k > 0; k--) input[[1 + 8, 1 + 772, randInt(r, 1, HANDSHAKE_SIZE)][randInt(r, 0, 2)]!] = randInt(r, 0, 255);
    }
    try {
      const a = answerC0C1(input, (n) => fixed(n)());
      assert.equal(a.s0s1s2.length, 1 + 2 * HANDSHAKE_SIZE);
      answered++;
    } catch (err) {
      assert.equal((err as { code?: string }).code, BAD_HANDSHAKE, String(err));
      refused++;
    }
    if (i % 10 === 0) {
      try {
        clientC2(randInt(r, 0, 1) ? randBytes(r, randInt(r, 0, 40)) : Buffer.alloc(1 + 2 * HANDSHAKE_SIZE, randInt(r, 2, 4)));
      } catch (err) {
        assert.equal((err as { code?: string }).code, BAD_HANDSHAKE, String(err));
      }
    }
  }
  const growth = process.memoryUsage().heapUsed - heap0;
  assert.ok(growth < MAX_HEAP_GROWTH, `heap grew ${growth} bytes`);
  assert.ok(answered > 1000 && refused > 1000, `answered=${answered} refused=${refused}`);
});
