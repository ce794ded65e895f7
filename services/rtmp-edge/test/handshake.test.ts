import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { answerC0C1, clientC0C1, clientC2, findClientDigest, HANDSHAKE_SIZE } from '../src/rtmp/handshake.ts';
import { BAD_HANDSHAKE } from '../src/rtmp/errors.ts';

// Keys written out independently of the module under test (from the published scheme).
const TAIL = 'f0eec24a8068bee82e00d0d1029e7e576eec5d2d29806fab93b8e636cfeb31ae';
const FP_KEY = Buffer.concat([Buffer.from('Genuine Adobe Flash Player 001'), Buffer.from(TAIL, 'hex')]);
const FMS_KEY = Buffer.concat([Buffer.from('Genuine Adobe Flash Media Server 001'), Buffer.from(TAIL, 'hex')]);

function hmac(key: Buffer, data: Buffer): Buffer {
  return createHmac('sha256', key).update(data).digest();
}

function offset(block: Buffer, base: number): number {
  return ((block[base]! + block[base + 1]! + block[base + 2]! + block[base + 3]!) % 728) + base + 4;
}

/** A digest C1 the way ffmpeg (base 8) or Flash (base 772) builds it. */
function flashC1(base: number): Buffer {
  const c1 = randomBytes(HANDSHAKE_SIZE);
  c1.writeUInt32BE(0, 0);
  Buffer.from([9, 0, 124, 2]).copy(c1, 4);
  const off = offset(c1, base);
  const digest = hmac(FP_KEY.subarray(0, 30), Buffer.concat([c1.subarray(0, off), c1.subarray(off + 32)]));
  digest.copy(c1, off);
  return c1;
}

/** What ffmpeg's rtmp_handshake checks on the server's answer when playing. */
function validateLikeFfmpeg(c1: Buffer, s1: Buffer, s2: Buffer): boolean {
  let serverDigestOk = false;
  for (const base of [772, 8]) {
    const off = offset(s1, base);
    const d = hmac(FMS_KEY.subarray(0, 36), Buffer.concat([s1.subarray(0, off), s1.subarray(off + 32)]));
    if (d.equals(s1.subarray(off, off + 32))) serverDigestOk = true;
  }
  if (!serverDigestOk) return false;
  const clientOff = [8, 772].map((b) => offset(c1, b)).find((off) => {
    const d = hmac(FP_KEY.subarray(0, 30), Buffer.concat([c1.subarray(0, off), c1.subarray(off + 32)]));
    return d.equals(c1.subarray(off, off + 32));
  })!;
  const key = hmac(FMS_KEY, c1.subarray(clientOff, clientOff + 32));
  const sig = hmac(key, s2.subarray(0, HANDSHAKE_SIZE - 32));
  return sig.equals(s2.subarray(HANDSHAKE_SIZE - 32));
}

test('simple handshake: S0 = 3, S1 time and version zero, S2 echoes C1', () => {
  const c1 = randomBytes(HANDSHAKE_SIZE);
  c1.writeUInt32BE(0, 4);
  const { s0s1s2, complex } = answerC0C1(Buffer.concat([Buffer.from([3]), c1]));
  assert.equal(complex, false);
  assert.equal(s0s1s2.length, 1 + 2 * HANDSHAKE_SIZE);
  assert.equal(s0s1s2[0], 3);
  assert.equal(s0s1s2.readUInt32BE(1), 0);
  assert.equal(s0s1s2.readUInt32BE(5), 0);
  assert.deepEqual(s0s1s2.subarray(1 + HANDSHAKE_SIZE), c1);
});

for (const [name, base] of [['digest-first (schema 1, ffmpeg/librtmp)', 8], ['key-first (schema 0, Flash)', 772]] as const) {
  test(`complex handshake, ${name}: client validation of S1 and S2 passes`, () => {
    const c1 = flashC1(base);
    assert.equal(findClientDigest(c1)?.schema, base === 8 ? 1 : 0);
    const { s0s1s2, complex } = answerC0C1(Buffer.concat([Buffer.from([3]), c1]));
    assert.equal(complex, true);
    const s1 = s0s1s2.subarray(1, 1 + HANDSHAKE_SIZE);
    const s2 = s0s1s2.subarray(1 + HANDSHAKE_SIZE);
    assert.ok(s1[4]! >= 3, 'S1 version announces digest support');
    assert.ok(validateLikeFfmpeg(c1, s1, s2));
    // A tampered S2 would fail the same check: the validator is not vacuous.
    const bad = Buffer.from(s2);
    bad[0]! ^= 1;
    assert.equal(validateLikeFfmpeg(c1, s1, bad), false);
  });
}

test('a C1 whose digest is wrong gets the simple answer', () => {
  const c1 = flashC1(8);
  c1[offset(c1, 8)]! ^= 0xff;
  assert.equal(findClientDigest(c1), undefined);
  assert.equal(answerC0C1(Buffer.concat([Buffer.from([3]), c1])).complex, false);
});

test('refuses RTMPE, HTTP and wrong sizes with SRSP_ERR_BAD_HANDSHAKE', () => {
  for (const v of [6, 8, 0x47]) {
    assert.throws(() => answerC0C1(Buffer.concat([Buffer.from([v]), randomBytes(HANDSHAKE_SIZE)])), (e: { code?: string }) => e.code === BAD_HANDSHAKE);
  }
  assert.throws(() => answerC0C1(Buffer.alloc(10, 3)), (e: { code?: string }) => e.code === BAD_HANDSHAKE);
});

test('client side: plain C0C1, C2 copies S1, S0 must be 3', () => {
  const c = clientC0C1();
  assert.equal(c[0], 3);
  assert.equal(c.readUInt32BE(5), 0);
  const s = Buffer.concat([Buffer.from([3]), randomBytes(2 * HANDSHAKE_SIZE)]);
  assert.deepEqual(clientC2(s), s.subarray(1, 1 + HANDSHAKE_SIZE));
  s[0] = 6;
  assert.throws(() => clientC2(s), (e: { code?: string }) => e.code === BAD_HANDSHAKE);
});
