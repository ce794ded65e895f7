import { createHmac, randomBytes } from 'node:crypto';
import { HandshakeError } from './errors.ts';

/**
 * RTMP handshake (spec 5.1 plus the digest scheme Flash-era clients require). Pure functions:
 * the session reads C0+C1, writes `answerC0C1(...)`, then reads and discards C2.
 *
 * Complex handshake: C1 carries an HMAC-SHA256 digest keyed with the first 30 bytes of the
 * Genuine Flash Player key, at an offset derived from four bytes of either the digest-first
 * (schema 1, base 8) or the key-first (schema 0, base 772) layout. When it validates, S1 carries
 * our digest (first 36 bytes of the FMS key) in the same layout, and S2 ends with
 * HMAC(HMAC(full FMS key, C1 digest), S2[0..1504]). Clients that validate the server (ffmpeg
 * when playing, Flash) then proceed; plain C1s get the simple echo answer.
 */
export const HANDSHAKE_SIZE = 1536;
export const RTMP_VERSION = 3;
const DIGEST_LENGTH = 32;

const KEY_TAIL = Buffer.from([
  0xf0, 0xee, 0xc2, 0x4a, 0x80, 0x68, 0xbe, 0xe8, 0x2e, 0x00, 0xd0, 0xd1, 0x02, 0x9e, 0x7e, 0x57, 0x6e, 0xec, 0x5d, 0x2d, 0x29,
  0x80, 0x6f, 0xab, 0x93, 0xb8, 0xe6, 0x36, 0xcf, 0xeb, 0x31, 0xae,
]);
/** "Genuine Adobe Flash Player 001" + tail (62 bytes); digests of C1 use the first 30. */
export const GENUINE_FP_KEY = Buffer.concat([Buffer.from('Genuine Adobe Flash Player 001', 'ascii'), KEY_TAIL]);
/** "Genuine Adobe Flash Media Server 001" + tail (68 bytes); S1 uses the first 36. */
export const GENUINE_FMS_KEY = Buffer.concat([Buffer.from('Genuine Adobe Flash Media Server 001', 'ascii'), KEY_TAIL]);
const FP_KEY_OPEN = GENUINE_FP_KEY.subarray(0, 30);
const FMS_KEY_OPEN = GENUINE_FMS_KEY.subarray(0, 36);

/** Version we put in S1 for complex answers (what SRS and FMS send; clients only check ≥ 3). */
const SERVER_VERSION = Buffer.from([0x04, 0x05, 0x00, 0x01]);

export type DigestSchema = 0 | 1;

function hmac(key: Buffer, ...data: Buffer[]): Buffer {
  const h = createHmac('sha256', key);
  for (const d of data) h.update(d);
  return h.digest();
}

/** Offset of the 32-byte digest inside a 1536-byte C1/S1 for a schema. */
export function digestOffset(block: Buffer, schema: DigestSchema): number {
  const base = schema === 0 ? 772 : 8;
  const sum = block[base]! + block[base + 1]! + block[base + 2]! + block[base + 3]!;
  return (sum % 728) + base + 4;
}

/** HMAC of a C1/S1 block with its digest bytes left out. */
export function blockDigest(block: Buffer, offset: number, key: Buffer): Buffer {
  return hmac(key, block.subarray(0, offset), block.subarray(offset + DIGEST_LENGTH));
}

/** Finds a valid digest in C1 (schema 1 first, as ffmpeg and librtmp write it). */
export function findClientDigest(c1: Buffer): { schema: DigestSchema; digest: Buffer } | undefined {
  if (c1.length !== HANDSHAKE_SIZE) throw new HandshakeError(`C1 must be ${HANDSHAKE_SIZE} bytes, got ${c1.length}`);
  for (const schema of [1, 0] as const) {
    const off = digestOffset(c1, schema);
    const expected = blockDigest(c1, off, FP_KEY_OPEN);
    if (expected.equals(c1.subarray(off, off + DIGEST_LENGTH))) return { schema, digest: expected };
  }
  return undefined;
}

export interface ServerAnswer {
  /** S0 + S1 + S2, 3073 bytes. */
  s0s1s2: Buffer;
  /** Whether C1 carried a valid digest and the answer is the complex one. */
  complex: boolean;
}

/**
 * Answers C0+C1 (1537 bytes). C0 must be 3 (plain RTMP), as SRS requires; 6/8 (RTMPE) and
 * anything else (an HTTP request, garbage) is refused.
 */
export function answerC0C1(c0c1: Buffer, random: (n: number) => Buffer = randomBytes): ServerAnswer {
  if (c0c1.length !== 1 + HANDSHAKE_SIZE) throw new HandshakeError(`C0C1 must be ${1 + HANDSHAKE_SIZE} bytes`);
  const version = c0c1[0]!;
  if (version !== RTMP_VERSION) throw new HandshakeError(`unsupported RTMP version byte 0x${version.toString(16)} (only plain RTMP 3)`);
  const c1 = c0c1.subarray(1);
  const found = findClientDigest(c1);
  const out = Buffer.allocUnsafe(1 + 2 * HANDSHAKE_SIZE);
  out[0] = RTMP_VERSION;
  const s1 = out.subarray(1, 1 + HANDSHAKE_SIZE);
  const s2 = out.subarray(1 + HANDSHAKE_SIZE);
  random(HANDSHAKE_SIZE).copy(s1);
  s1.writeUInt32BE(0, 0);
  if (!found) {
    // Simple handshake: S1 time 0, version 0, random; S2 echoes C1.
    s1.writeUInt32BE(0, 4);
    c1.copy(s2);
    return { s0s1s2: out, complex: false };
  }
  SERVER_VERSION.copy(s1, 4);
  const off = digestOffset(s1, found.schema);
  blockDigest(s1, off, FMS_KEY_OPEN).copy(s1, off);
  random(HANDSHAKE_SIZE - DIGEST_LENGTH).copy(s2);
  const key = hmac(GENUINE_FMS_KEY, found.digest);
  hmac(key, s2.subarray(0, HANDSHAKE_SIZE - DIGEST_LENGTH)).copy(s2, HANDSHAKE_SIZE - DIGEST_LENGTH);
  return { s0s1s2: out, complex: true };
}

/** Client side towards an origin: C0 + plain C1 (time 0, version 0, random). */
export function clientC0C1(random: (n: number) => Buffer = randomBytes): Buffer {
  const out = Buffer.allocUnsafe(1 + HANDSHAKE_SIZE);
  out[0] = RTMP_VERSION;
  random(HANDSHAKE_SIZE).copy(out, 1);
  out.writeUInt32BE(0, 1);
  out.writeUInt32BE(0, 5);
  return out;
}

/** Checks S0 and returns C2 (a copy of S1), given S0 + S1 + S2 (3073 bytes). */
export function clientC2(s0s1s2: Buffer): Buffer {
  if (s0s1s2.length !== 1 + 2 * HANDSHAKE_SIZE) throw new HandshakeError(`S0S1S2 must be ${1 + 2 * HANDSHAKE_SIZE} bytes`);
  if (s0s1s2[0] !== RTMP_VERSION) throw new HandshakeError(`origin answered with RTMP version byte 0x${s0s1s2[0]!.toString(16)}`);
  return Buffer.from(s0s1s2.subarray(1, 1 + HANDSHAKE_SIZE));
}
