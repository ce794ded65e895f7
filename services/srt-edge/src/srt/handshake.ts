import { SrtHandshakeError } from '../errors.ts';
import { ControlType, HEADER_SIZE, isHandshakePacket, writeControlHeader } from './packet.ts';

/**
 * SRT handshake: the 16-byte header followed by the 48-byte handshake CIF and, in HSv5
 * conclusions, extension blocks `{type u16, length u16 in 4-byte words, content}`
 * (draft-sharabayko-srt section 3.2.1, libsrt `CHandShake`). Buffers in, values or
 * SrtHandshakeError out; every length is checked before it is used.
 */
export const CIF_SIZE = 48;
export const HANDSHAKE_SIZE = HEADER_SIZE + CIF_SIZE;

export const HandshakeType = {
  WAVEHAND: 0,
  INDUCTION: 1,
  CONCLUSION: 0xffffffff,
  AGREEMENT: 0xfffffffe,
  DONE: 0xfffffffd,
} as const;

/** Handshake types at or above this are rejections: `1000 + reason` (libsrt `URQ_FAILURE_TYPES`). */
export const REJECTION_BASE = 1000;

/** Put in the induction response's extension field by an HSv5 listener. */
export const SRT_MAGIC = 0x4a17;
/** Type field of an HSv4-style induction request (libsrt `UDT_DGRAM`). */
export const UDT_DGRAM = 2;

export const HS_VERSION_UDT4 = 4;
export const HS_VERSION_SRT1 = 5;

/** Extension block types (libsrt `SRT_CMD_*`). */
export const ExtensionType = {
  HSREQ: 1,
  HSRSP: 2,
  KMREQ: 3,
  KMRSP: 4,
  SID: 5,
  CONGESTION: 6,
  FILTER: 7,
  GROUP: 8,
} as const;

/** Rejection reasons used by the edge (libsrt `SRT_REJ_*` and access-control `SRT_REJX_*`). */
export const RejectReason = {
  RESOURCE: 3,
  ROGUE: 4,
  VERSION: 8,
  TIMEOUT: 16,
  BAD_REQUEST: 1400,
  OVERLOAD: 1402,
  GW: 1502,
  DOWN: 1503,
} as const;

/**
 * libsrt accepts at most 512 bytes of stream id (`MAX_SID_LENGTH`); a longer one is not from a
 * real caller.
 */
export const MAX_STREAM_ID_BYTES = 512;
/**
 * libsrt sends at most six blocks (HSREQ, KMREQ, SID, congestion, filter, group); 32 leaves room
 * for future types while bounding the work one datagram can cause.
 */
export const MAX_EXTENSIONS = 32;

export interface Extension {
  type: number;
  /** Content bytes (a multiple of 4), a view into the parsed datagram, replayed verbatim. */
  content: Buffer;
}

export interface Handshake {
  timestamp: number;
  dstSocketId: number;
  version: number;
  encryption: number;
  extensionField: number;
  initialSequence: number;
  mtu: number;
  flowWindow: number;
  /** u32: see HandshakeType; `>= REJECTION_BASE` (and not a CONCLUSION-family value) is a rejection. */
  type: number;
  /** The sender's own socket id. */
  socketId: number;
  cookie: number;
  /** 16 bytes, kept verbatim (IPv4 in the first word, libsrt host order). */
  peerIp: Buffer;
  /** Extension blocks in wire order (conclusions only; empty otherwise). */
  extensions: Extension[];
}

/** HSREQ/HSRSP content: SRT version, flags, and the TSBPD latencies in ms. */
export interface SrtHsExtension {
  srtVersion: number;
  flags: number;
  /** Receiver TSBPD delay (bits 31..16 of the third word). */
  recvLatencyMs: number;
  /** Sender TSBPD delay (bits 15..0 of the third word). */
  sendLatencyMs: number;
}

export function isRejection(type: number): boolean {
  return type >= REJECTION_BASE && type < HandshakeType.DONE;
}

/**
 * Parses a handshake datagram. Extension blocks are parsed for conclusions only (induction,
 * wavehand and rejections carry none); an extension area that does not end exactly on a block
 * boundary is an error, never a crash.
 */
export function parseHandshake(buf: Buffer): Handshake {
  if (buf.length < HANDSHAKE_SIZE) throw new SrtHandshakeError('short', `handshake of ${buf.length} bytes, need ${HANDSHAKE_SIZE}`);
  if (!isHandshakePacket(buf)) throw new SrtHandshakeError('not-handshake', 'not an SRT handshake control packet');
  const type = buf.readUInt32BE(36);
  const hs: Handshake = {
    timestamp: buf.readUInt32BE(8),
    dstSocketId: buf.readUInt32BE(12),
    version: buf.readUInt32BE(16),
    encryption: buf.readUInt16BE(20),
    extensionField: buf.readUInt16BE(22),
    initialSequence: buf.readUInt32BE(24),
    mtu: buf.readUInt32BE(28),
    flowWindow: buf.readUInt32BE(32),
    type,
    socketId: buf.readUInt32BE(40),
    cookie: buf.readUInt32BE(44),
    peerIp: buf.subarray(48, 64),
    extensions: [],
  };
  if (type === HandshakeType.CONCLUSION) hs.extensions = parseExtensions(buf, HANDSHAKE_SIZE);
  return hs;
}

function parseExtensions(buf: Buffer, start: number): Extension[] {
  const out: Extension[] = [];
  let p = start;
  while (p < buf.length) {
    const left = buf.length - p;
    if (left < 4) {
      throw new SrtHandshakeError('extension-header-truncated', `extension area ends with ${left} stray byte(s) at offset ${p}`);
    }
    if (out.length >= MAX_EXTENSIONS) throw new SrtHandshakeError('too-many-extensions', `more than ${MAX_EXTENSIONS} extension blocks`);
    const type = buf.readUInt16BE(p);
    const bytes = buf.readUInt16BE(p + 2) * 4;
    if (bytes > left - 4) {
      throw new SrtHandshakeError('extension-truncated', `extension type ${type} declares ${bytes} bytes, ${left - 4} present`);
    }
    out.push({ type, content: buf.subarray(p + 4, p + 4 + bytes) });
    p += 4 + bytes;
  }
  return out;
}

export function findExtension(hs: Handshake, type: number): Extension | undefined {
  return hs.extensions.find((e) => e.type === type);
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * SID, congestion and filter blocks carry a string cut into 32-bit words, each stored
 * byte-reversed, zero-padded to a word boundary. Decode: reverse each word, trim trailing NULs.
 */
export function decodeSwappedString(content: Buffer): string {
  if (content.length % 4 !== 0) throw new SrtHandshakeError('bad-stream-id-encoding', 'string block is not word aligned');
  if (content.length > MAX_STREAM_ID_BYTES) {
    throw new SrtHandshakeError('stream-id-too-long', `string block of ${content.length} bytes exceeds ${MAX_STREAM_ID_BYTES}`);
  }
  const b = Buffer.from(content);
  b.swap32();
  let end = b.length;
  while (end > 0 && b[end - 1] === 0) end--;
  try {
    return utf8.decode(b.subarray(0, end));
  } catch {
    throw new SrtHandshakeError('bad-stream-id-encoding', 'string block is not valid UTF-8');
  }
}

export function encodeSwappedString(text: string): Buffer {
  const raw = Buffer.from(text, 'utf8');
  const b = Buffer.alloc(Math.ceil(raw.length / 4) * 4);
  raw.copy(b);
  return b.swap32();
}

/** The stream id of a conclusion, or undefined when the caller sent none. */
export function streamIdOf(hs: Handshake): string | undefined {
  const sid = findExtension(hs, ExtensionType.SID);
  return sid === undefined ? undefined : decodeSwappedString(sid.content);
}

/** HSREQ (caller) or HSRSP (listener) block: at least three words (libsrt `SRT_HS_E_SIZE`). */
export function parseSrtHs(content: Buffer): SrtHsExtension {
  if (content.length < 12) throw new SrtHandshakeError('bad-hsreq', `HSREQ/HSRSP of ${content.length} bytes, need 12`);
  const latency = content.readUInt32BE(8);
  return {
    srtVersion: content.readUInt32BE(0),
    flags: content.readUInt32BE(4),
    recvLatencyMs: latency >>> 16,
    sendLatencyMs: latency & 0xffff,
  };
}

export function buildSrtHs(v: SrtHsExtension): Buffer {
  const b = Buffer.alloc(12);
  b.writeUInt32BE(v.srtVersion >>> 0, 0);
  b.writeUInt32BE(v.flags >>> 0, 4);
  b.writeUInt32BE((((v.recvLatencyMs & 0xffff) << 16) | (v.sendLatencyMs & 0xffff)) >>> 0, 8);
  return b;
}

/** The HSREQ or HSRSP block of a conclusion, decoded. */
export function srtHsOf(hs: Handshake): SrtHsExtension | undefined {
  const ext = findExtension(hs, ExtensionType.HSREQ) ?? findExtension(hs, ExtensionType.HSRSP);
  return ext === undefined ? undefined : parseSrtHs(ext.content);
}

/** Serialises a handshake; extension contents are written verbatim (padded to a word if needed). */
export function serializeHandshake(hs: Handshake): Buffer {
  let size = HANDSHAKE_SIZE;
  for (const e of hs.extensions) size += 4 + Math.ceil(e.content.length / 4) * 4;
  const out = Buffer.alloc(size);
  writeControlHeader(out, ControlType.HANDSHAKE, 0, 0, hs.timestamp, hs.dstSocketId);
  out.writeUInt32BE(hs.version >>> 0, 16);
  out.writeUInt16BE(hs.encryption & 0xffff, 20);
  out.writeUInt16BE(hs.extensionField & 0xffff, 22);
  out.writeUInt32BE(hs.initialSequence >>> 0, 24);
  out.writeUInt32BE(hs.mtu >>> 0, 28);
  out.writeUInt32BE(hs.flowWindow >>> 0, 32);
  out.writeUInt32BE(hs.type >>> 0, 36);
  out.writeUInt32BE(hs.socketId >>> 0, 40);
  out.writeUInt32BE(hs.cookie >>> 0, 44);
  hs.peerIp.copy(out, 48, 0, Math.min(16, hs.peerIp.length));
  let p = HANDSHAKE_SIZE;
  for (const e of hs.extensions) {
    const words = Math.ceil(e.content.length / 4);
    out.writeUInt16BE(e.type & 0xffff, p);
    out.writeUInt16BE(words, p + 2);
    e.content.copy(out, p + 4);
    p += 4 + words * 4;
  }
  return out;
}

/**
 * The listener's answer to an induction, as libsrt builds it: the request's CIF with version 5,
 * the SRT magic in the extension field, our SYN cookie, addressed to (and echoing) the caller's
 * socket id.
 */
export function buildInductionResponse(req: Handshake, cookie: number, timestamp: number): Buffer {
  return serializeHandshake({
    ...req,
    timestamp,
    dstSocketId: req.socketId,
    version: HS_VERSION_SRT1,
    encryption: 0,
    extensionField: SRT_MAGIC,
    type: HandshakeType.INDUCTION,
    cookie,
    extensions: [],
  });
}

/** An induction request as libsrt's caller sends it (HSv4 framing, cookie 0, to socket 0). */
export function buildInductionRequest(opts: {
  socketId: number;
  initialSequence: number;
  mtu: number;
  flowWindow: number;
  peerIp: Buffer;
  timestamp: number;
}): Buffer {
  return serializeHandshake({
    timestamp: opts.timestamp,
    dstSocketId: 0,
    version: HS_VERSION_UDT4,
    encryption: 0,
    extensionField: UDT_DGRAM,
    initialSequence: opts.initialSequence,
    mtu: opts.mtu,
    flowWindow: opts.flowWindow,
    type: HandshakeType.INDUCTION,
    socketId: opts.socketId,
    cookie: 0,
    peerIp: opts.peerIp,
    extensions: [],
  });
}

/** A rejection of `req`, as libsrt's listener sends it: the request's CIF with type 1000+reason. */
export function buildRejection(req: Handshake, reason: number, timestamp: number): Buffer {
  return serializeHandshake({
    ...req,
    timestamp,
    dstSocketId: req.socketId,
    type: REJECTION_BASE + reason,
    extensions: [],
  });
}

/** A copy of a raw handshake with the SYN cookie replaced; everything else is kept byte for byte. */
export function withCookie(raw: Buffer, cookie: number): Buffer {
  const out = Buffer.from(raw);
  out.writeUInt32BE(cookie >>> 0, 44);
  return out;
}
