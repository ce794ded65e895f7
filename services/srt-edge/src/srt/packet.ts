/**
 * SRT packet header (draft-sharabayko-srt, section 3): 16 bytes, big-endian.
 *   0..3   bit 31 = control flag; control: bits 16..30 type, 0..15 subtype; data: sequence number
 *   4..7   type-specific information
 *   8..11  timestamp (µs)
 *   12..15 destination socket id
 * Pure functions over buffers; none of them allocate, so the relay path can use them per packet.
 */
export const HEADER_SIZE = 16;

/** Control packet types that matter to a relay. */
export const ControlType = {
  HANDSHAKE: 0x0000,
  KEEPALIVE: 0x0001,
  ACK: 0x0002,
  NAK: 0x0003,
  CONGESTION_WARNING: 0x0004,
  SHUTDOWN: 0x0005,
  ACKACK: 0x0006,
  DROPREQ: 0x0007,
  PEER_ERROR: 0x0008,
  USER_DEFINED: 0x7fff,
} as const;

/** Destination socket id, or 0 when the datagram is too short to carry a header. */
export function dstSocketId(buf: Buffer): number {
  return buf.length >= HEADER_SIZE ? buf.readUInt32BE(12) : 0;
}

export function isControl(buf: Buffer): boolean {
  return buf.length >= 4 && (buf[0]! & 0x80) !== 0;
}

/** Control type (15 bits) of a control packet; -1 for data packets and runts. */
export function controlType(buf: Buffer): number {
  if (buf.length < 4 || (buf[0]! & 0x80) === 0) return -1;
  return ((buf[0]! & 0x7f) << 8) | buf[1]!;
}

/** A handshake is a control packet of type 0, subtype 0: the first word is exactly 0x80000000. */
export function isHandshakePacket(buf: Buffer): boolean {
  return buf.length >= 4 && buf[0] === 0x80 && buf[1] === 0 && buf[2] === 0 && buf[3] === 0;
}

export function isShutdown(buf: Buffer): boolean {
  return buf.length >= HEADER_SIZE && buf[0] === 0x80 && buf[1] === ControlType.SHUTDOWN;
}

/** Writes the 16-byte header of a control packet into `out` at 0. */
export function writeControlHeader(out: Buffer, type: number, subtype: number, typeInfo: number, timestamp: number, dst: number): void {
  out.writeUInt16BE(0x8000 | (type & 0x7fff), 0);
  out.writeUInt16BE(subtype & 0xffff, 2);
  out.writeUInt32BE(typeInfo >>> 0, 4);
  out.writeUInt32BE(timestamp >>> 0, 8);
  out.writeUInt32BE(dst >>> 0, 12);
}

/** An SRT shutdown control packet as libsrt sends it: the header plus 4 bytes of padding. */
export function buildShutdown(dst: number, timestamp: number): Buffer {
  const out = Buffer.alloc(HEADER_SIZE + 4);
  writeControlHeader(out, ControlType.SHUTDOWN, 0, 0, timestamp, dst);
  return out;
}
