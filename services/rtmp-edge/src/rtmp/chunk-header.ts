import { ChunkError } from './errors.ts';

/**
 * Chunk headers (spec 5.2), shared by the message reader and the relay scanner. A header is a
 * basic header (1, 2 or 3 bytes: fmt + chunk stream id) and a message header of 11/7/3/0 bytes
 * by fmt, then a 4-byte extended timestamp when the 24-bit field is 0xFFFFFF — also after every
 * fmt 3 header of a chunk stream whose last fmt 0/1/2 header was extended.
 */
export const EXTENDED_TIMESTAMP = 0xffffff;
export const MIN_CSID = 2;
export const MAX_CSID = 65599;
/** Largest header: 3-byte basic + 11-byte fmt 0 + 4-byte extended timestamp. */
export const MAX_HEADER_SIZE = 18;
export const DEFAULT_CHUNK_SIZE = 128;
/** Bounds of Set Chunk Size (the top bit must be 0). */
export const MAX_CHUNK_SIZE = 0x7fffffff;
const MESSAGE_HEADER_SIZE = [11, 7, 3, 0] as const;

/** What both ends of a chunk stream remember between chunks. */
export interface ChunkStreamState {
  readonly csid: number;
  /** A header was seen (fmt 1/2/3 need one). */
  started: boolean;
  /** Absolute timestamp of the current (or last) message, uint32. */
  timestamp: number;
  /** Raw timestamp field of the last fmt 0/1/2 header (the extended value when extended). */
  deltaField: number;
  length: number;
  type: number;
  streamId: number;
  /** The last fmt 0/1/2 header used an extended timestamp. */
  extended: boolean;
  /** Payload bytes of the current message still to come; 0 between messages. */
  remaining: number;
}

export function newChunkStreamState(csid: number): ChunkStreamState {
  return { csid, started: false, timestamp: 0, deltaField: 0, length: 0, type: 0, streamId: 0, extended: false, remaining: 0 };
}

/** A decoded header, reused between calls to avoid allocation in the relay. */
export interface ParsedHeader {
  fmt: number;
  csid: number;
  /** Bytes the header takes, extended timestamp included. */
  size: number;
  /** Size of the basic header alone (1..3). */
  basicSize: number;
  tsField: number;
  length: number;
  type: number;
  streamId: number;
  /** An extended timestamp was present in this header. */
  hasExtended: boolean;
}

export function newParsedHeader(): ParsedHeader {
  return { fmt: 0, csid: 0, size: 0, basicSize: 0, tsField: 0, length: 0, type: 0, streamId: 0, hasExtended: false };
}

/**
 * Decodes the header at `pos`; returns false when `buf[pos..end)` does not hold all of it yet.
 * `extendedOf(csid)` says whether that chunk stream's fmt 3 headers carry an extended timestamp.
 */
export function parseHeader(buf: Buffer, pos: number, end: number, extendedOf: (csid: number) => boolean, out: ParsedHeader): boolean {
  if (pos >= end) return false;
  const b0 = buf[pos]!;
  const fmt = b0 >> 6;
  let csid = b0 & 0x3f;
  let p = pos + 1;
  if (csid === 0) {
    if (p + 1 > end) return false;
    csid = 64 + buf[p]!;
    p += 1;
  } else if (csid === 1) {
    if (p + 2 > end) return false;
    csid = 64 + buf[p]! + buf[p + 1]! * 256;
    p += 2;
  }
  out.fmt = fmt;
  out.csid = csid;
  out.basicSize = p - pos;
  const mh = MESSAGE_HEADER_SIZE[fmt]!;
  if (p + mh > end) return false;
  let extended: boolean;
  if (fmt <= 2) {
    out.tsField = (buf[p]! << 16) | (buf[p + 1]! << 8) | buf[p + 2]!;
    if (fmt <= 1) {
      out.length = (buf[p + 3]! << 16) | (buf[p + 4]! << 8) | buf[p + 5]!;
      out.type = buf[p + 6]!;
      if (fmt === 0) out.streamId = buf.readUInt32LE(p + 7);
    }
    extended = out.tsField === EXTENDED_TIMESTAMP;
  } else {
    extended = extendedOf(csid);
  }
  p += mh;
  if (extended) {
    if (p + 4 > end) return false;
    if (fmt <= 2) out.tsField = buf.readUInt32BE(p);
    p += 4;
  }
  out.hasExtended = extended;
  out.size = p - pos;
  return true;
}

/**
 * Applies a header to its chunk stream's state; returns true when the chunk starts a new
 * message. Rules (spec 5.2): fmt 1/2/3 need an earlier header (csid 2 may open with fmt 1/2, a
 * librtmp habit); fmt 0 may not interrupt a message; fmt 1/2 inside a message only continue it
 * (fmt 1 may not change its length); fmt 3 starting a message repeats the last delta.
 */
export function applyHeader(state: ChunkStreamState, h: ParsedHeader, maxMessageSize: number): boolean {
  const starts = state.remaining === 0;
  switch (h.fmt) {
    case 0:
      if (!starts) throw new ChunkError(`fmt 0 chunk on csid ${h.csid} while a message is incomplete`);
      state.timestamp = h.tsField;
      state.deltaField = h.tsField;
      state.length = h.length;
      state.type = h.type;
      state.streamId = h.streamId;
      state.extended = h.hasExtended;
      break;
    case 1:
    case 2:
      if (!state.started && h.csid !== 2) throw new ChunkError(`fmt ${h.fmt} chunk opens csid ${h.csid}`);
      if (!starts) {
        if (h.fmt === 1 && h.length !== state.length) throw new ChunkError(`fmt 1 chunk changes the length of an incomplete message on csid ${h.csid}`);
        break;
      }
      state.deltaField = h.tsField;
      state.timestamp = (state.timestamp + h.tsField) >>> 0;
      if (h.fmt === 1) {
        state.length = h.length;
        state.type = h.type;
      }
      state.extended = h.hasExtended;
      break;
    default:
      if (!state.started) throw new ChunkError(`fmt 3 chunk opens csid ${h.csid}`);
      if (starts) state.timestamp = (state.timestamp + state.deltaField) >>> 0;
  }
  state.started = true;
  if (starts) {
    if (state.length > maxMessageSize) throw new ChunkError(`message of ${state.length} bytes on csid ${h.csid} exceeds ${maxMessageSize}`);
    state.remaining = state.length;
  }
  return starts;
}

/** Validates a Set Chunk Size value (spec fix: 0 and values with the top bit set are refused). */
export function checkChunkSize(size: number): number {
  if (!Number.isInteger(size) || size < 1 || size > MAX_CHUNK_SIZE) throw new ChunkError(`invalid chunk size ${size}`);
  return size;
}

/** Writes a basic header for fmt/csid at `pos`; returns the bytes written (1..3). */
export function writeBasicHeader(buf: Buffer, pos: number, fmt: number, csid: number): number {
  if (csid < MIN_CSID || csid > MAX_CSID) throw new ChunkError(`chunk stream id ${csid} out of range`);
  if (csid < 64) {
    buf[pos] = (fmt << 6) | csid;
    return 1;
  }
  if (csid < 320) {
    buf[pos] = fmt << 6;
    buf[pos + 1] = csid - 64;
    return 2;
  }
  buf[pos] = (fmt << 6) | 1;
  buf[pos + 1] = (csid - 64) & 0xff;
  buf[pos + 2] = (csid - 64) >> 8;
  return 3;
}

export function basicHeaderSize(csid: number): number {
  return csid < 64 ? 1 : csid < 320 ? 2 : 3;
}

/** Writes a fmt 0 header; returns bytes written. */
export function writeFmt0Header(buf: Buffer, pos: number, csid: number, timestamp: number, length: number, type: number, streamId: number): number {
  let p = pos + writeBasicHeader(buf, pos, 0, csid);
  const ext = timestamp >= EXTENDED_TIMESTAMP;
  buf.writeUIntBE(ext ? EXTENDED_TIMESTAMP : timestamp, p, 3);
  buf.writeUIntBE(length, p + 3, 3);
  buf[p + 6] = type;
  buf.writeUInt32LE(streamId >>> 0, p + 7);
  p += 11;
  if (ext) {
    buf.writeUInt32BE(timestamp >>> 0, p);
    p += 4;
  }
  return p - pos;
}

/** Writes a fmt 3 header (with the extended timestamp when the stream is extended). */
export function writeFmt3Header(buf: Buffer, pos: number, csid: number, extendedTimestamp: number | undefined): number {
  let p = pos + writeBasicHeader(buf, pos, 3, csid);
  if (extendedTimestamp !== undefined) {
    buf.writeUInt32BE(extendedTimestamp >>> 0, p);
    p += 4;
  }
  return p - pos;
}
