import { DEFAULT_CHUNK_SIZE, EXTENDED_TIMESTAMP, basicHeaderSize, checkChunkSize, writeFmt0Header, writeFmt3Header } from './chunk-header.ts';
import type { RtmpMessage } from './message-types.ts';
import { MSG } from './message-types.ts';

/** What the peer's reader remembers for a chunk stream after our last message on it. */
export interface WrittenHeader {
  csid: number;
  timestamp: number;
  length: number;
  type: number;
  streamId: number;
}

/**
 * Chunks messages for one connection: a fmt 0 header (2/3-byte basic headers for csid ≥ 64,
 * extended timestamp when ≥ 0xFFFFFF) then fmt 3 continuations, which repeat the extended
 * timestamp (Adobe/SRS style). Zero-length messages are a bare header. Remembers the last header
 * per chunk stream so the relay knows what the peer's reader holds.
 */
export class ChunkWriter {
  chunkSize = DEFAULT_CHUNK_SIZE;
  readonly written = new Map<number, WrittenHeader>();

  encode(msg: RtmpMessage): Buffer {
    const len = msg.payload.length;
    const ts = msg.timestamp >>> 0;
    const ext = ts >= EXTENDED_TIMESTAMP;
    const basic = basicHeaderSize(msg.csid);
    const chunks = len === 0 ? 1 : Math.ceil(len / this.chunkSize);
    const size = basic + 11 + (ext ? 4 : 0) + (chunks - 1) * (basic + (ext ? 4 : 0)) + len;
    const out = Buffer.allocUnsafe(size);
    let p = writeFmt0Header(out, 0, msg.csid, ts, len, msg.type, msg.streamId);
    for (let off = 0; off < len; off += this.chunkSize) {
      if (off > 0) p += writeFmt3Header(out, p, msg.csid, ext ? ts : undefined);
      const n = Math.min(this.chunkSize, len - off);
      msg.payload.copy(out, p, off, off + n);
      p += n;
    }
    this.written.set(msg.csid, { csid: msg.csid, timestamp: ts, length: len, type: msg.type, streamId: msg.streamId });
    return out;
  }

  /** A Set Chunk Size message (csid 2); the new size applies to everything encoded after it. */
  setChunkSize(size: number): Buffer {
    checkChunkSize(size);
    const payload = Buffer.allocUnsafe(4);
    payload.writeUInt32BE(size);
    const out = this.encode({ csid: 2, timestamp: 0, type: MSG.setChunkSize, streamId: 0, payload });
    this.chunkSize = size;
    return out;
  }
}
