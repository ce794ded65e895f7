/**
 * STUN (RFC 8489) message parsing, just far enough to route an ICE connectivity check: the
 * message type and the USERNAME attribute. Every read is bounds-checked; malformed input yields
 * a failure reason, never an exception (the Go proxy panics on a 22-byte datagram whose attribute
 * header is cut short, spec 7.3). Integrity and fingerprint are not verified: the origin does
 * that, the proxy only relays.
 */

export const STUN_HEADER_LENGTH = 20;
export const STUN_MAGIC_COOKIE = 0x2112a442;
export const STUN_ATTR_USERNAME = 0x0006;
/** RFC 8489 14.3: USERNAME is "less than 513 bytes". */
export const STUN_MAX_USERNAME_BYTES = 512;

export const StunClass = { REQUEST: 0, INDICATION: 1, SUCCESS: 2, ERROR: 3 } as const;
export type StunClass = (typeof StunClass)[keyof typeof StunClass];
export const STUN_METHOD_BINDING = 0x001;

export interface StunMessage {
  /** The raw 14-bit message type. */
  type: number;
  method: number;
  cls: StunClass;
  /** USERNAME as UTF-8 text (`<remote ufrag>:<local ufrag>` in ICE), when present. */
  username: string | undefined;
}

export type StunFailure =
  | 'too-short'
  | 'not-stun'
  | 'bad-length'
  | 'bad-cookie'
  | 'truncated-attribute'
  | 'bad-username';

export type StunParseResult = { ok: true; message: StunMessage } | { ok: false; reason: StunFailure };

const fail = (reason: StunFailure): StunParseResult => ({ ok: false, reason });

/** Parses one datagram as a STUN message. */
export function parseStun(buf: Uint8Array): StunParseResult {
  if (buf.length < STUN_HEADER_LENGTH) return fail('too-short');
  const b0 = buf[0]!;
  if ((b0 & 0xc0) !== 0) return fail('not-stun');
  const type = (b0 << 8) | buf[1]!;
  const length = (buf[2]! << 8) | buf[3]!;
  // The declared length must cover exactly the rest of the datagram, in whole 4-byte words.
  if ((length & 3) !== 0 || length !== buf.length - STUN_HEADER_LENGTH) return fail('bad-length');
  const cookie = ((buf[4]! << 24) | (buf[5]! << 16) | (buf[6]! << 8) | buf[7]!) >>> 0;
  if (cookie !== STUN_MAGIC_COOKIE) return fail('bad-cookie');

  const method = (type & 0x000f) | ((type & 0x00e0) >> 1) | ((type & 0x3e00) >> 2);
  const cls = (((type & 0x0010) >> 4) | ((type & 0x0100) >> 7)) as StunClass;
  let username: string | undefined;
  const end = buf.length;
  let off = STUN_HEADER_LENGTH;
  while (off < end) {
    if (off + 4 > end) return fail('truncated-attribute');
    const attrType = (buf[off]! << 8) | buf[off + 1]!;
    const attrLen = (buf[off + 2]! << 8) | buf[off + 3]!;
    const valueStart = off + 4;
    const padded = (attrLen + 3) & ~3;
    if (valueStart + padded > end) return fail('truncated-attribute');
    if (attrType === STUN_ATTR_USERNAME && username === undefined) {
      if (attrLen === 0 || attrLen > STUN_MAX_USERNAME_BYTES) return fail('bad-username');
      username = Buffer.from(buf.buffer, buf.byteOffset + valueStart, attrLen).toString('utf8');
    }
    off = valueStart + padded;
  }
  return { ok: true, message: { type, method, cls, username } };
}

/** True for a STUN Binding request: the only message that may create or re-bind a relay session. */
export function isBindingRequest(m: StunMessage): boolean {
  return m.method === STUN_METHOD_BINDING && m.cls === StunClass.REQUEST;
}
