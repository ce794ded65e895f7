import { ChunkError } from './errors.ts';
import {
  DEFAULT_CHUNK_SIZE,
  applyHeader,
  checkChunkSize,
  newChunkStreamState,
  newParsedHeader,
  parseHeader,
  type ChunkStreamState,
} from './chunk-header.ts';
import { MSG, type RtmpMessage } from './message-types.ts';

export interface ChunkReaderLimits {
  /** Largest message accepted; the 24-bit length allows 16 MiB. */
  maxMessageSize: number;
  /** Distinct chunk stream ids one peer may open. */
  maxChunkStreams: number;
  /** Payload bytes held in incomplete messages across all chunk streams. */
  maxBufferedBytes: number;
}

export const DEFAULT_CHUNK_READER_LIMITS: ChunkReaderLimits = {
  // Set-up traffic is commands of a few hundred bytes; 1 MiB keeps odd metadata working.
  maxMessageSize: 1 << 20,
  // Real clients use fewer than ten chunk streams; 64 states are a few KB.
  maxChunkStreams: 64,
  // Incomplete messages are interleaved at most a few at a time; 2 MiB bounds a hostile peer.
  maxBufferedBytes: 2 << 20,
};

interface StreamSlot {
  state: ChunkStreamState;
  parts: Buffer[];
  received: number;
}

/** Per-chunk-stream state exposed for the relay hand-over. */
export interface ChunkStreamSnapshot {
  state: ChunkStreamState;
  /** Payload of the incomplete message received so far (empty between messages). */
  partial: Buffer;
}

/**
 * Incremental de-chunker: `push` bytes, `next` returns complete messages one at a time (so the
 * caller can stop at a message boundary and hand the rest over to the relay). Payload is taken
 * as it arrives, so unparsed input never exceeds one header. Applies Set Chunk Size and Abort
 * itself. Pure: no I/O; protocol violations and limits throw ChunkError.
 */
export class ChunkReader {
  chunkSize = DEFAULT_CHUNK_SIZE;
  private readonly slots = new Map<number, StreamSlot>();
  private readonly header = newParsedHeader();
  private buf: Buffer = Buffer.alloc(0);
  private pos = 0;
  private buffered = 0;
  /** Chunk stream whose chunk payload is being read, and bytes of that chunk left. */
  private cur: StreamSlot | undefined;
  private chunkLeft = 0;
  private readonly extendedOf = (csid: number) => this.slots.get(csid)?.state.extended ?? false;

  constructor(readonly limits: ChunkReaderLimits = DEFAULT_CHUNK_READER_LIMITS) {}

  push(data: Buffer): void {
    if (this.pos >= this.buf.length) this.buf = data;
    else this.buf = Buffer.concat([this.buf.subarray(this.pos), data]);
    this.pos = 0;
  }

  /** Unparsed input bytes (the relay takes them over). */
  remainder(): Buffer {
    return this.buf.subarray(this.pos);
  }

  /** Whether a chunk payload is half read (the hand-over needs a chunk boundary). */
  get midChunk(): boolean {
    return this.chunkLeft > 0;
  }

  snapshot(): ChunkStreamSnapshot[] {
    return [...this.slots.values()].map((s) => ({ state: { ...s.state }, partial: Buffer.concat(s.parts) }));
  }

  next(): RtmpMessage | undefined {
    for (;;) {
      if (this.chunkLeft > 0) {
        const slot = this.cur!;
        const avail = this.buf.length - this.pos;
        if (avail === 0) return undefined;
        const n = Math.min(avail, this.chunkLeft);
        slot.parts.push(this.buf.subarray(this.pos, this.pos + n));
        slot.received += n;
        this.buffered += n;
        if (this.buffered > this.limits.maxBufferedBytes) throw new ChunkError(`more than ${this.limits.maxBufferedBytes} bytes in incomplete messages`);
        this.pos += n;
        this.chunkLeft -= n;
        slot.state.remaining -= n;
        if (slot.state.remaining === 0) return this.complete(slot);
        continue;
      }
      if (!parseHeader(this.buf, this.pos, this.buf.length, this.extendedOf, this.header)) return undefined;
      const h = this.header;
      let slot = this.slots.get(h.csid);
      if (!slot) {
        if (this.slots.size >= this.limits.maxChunkStreams) throw new ChunkError(`more than ${this.limits.maxChunkStreams} chunk streams`);
        slot = { state: newChunkStreamState(h.csid), parts: [], received: 0 };
        this.slots.set(h.csid, slot);
      }
      this.pos += h.size;
      applyHeader(slot.state, h, this.limits.maxMessageSize);
      if (slot.state.remaining === 0) return this.complete(slot);
      this.cur = slot;
      this.chunkLeft = Math.min(slot.state.remaining, this.chunkSize);
    }
  }

  private complete(slot: StreamSlot): RtmpMessage {
    const s = slot.state;
    const payload = slot.parts.length === 1 ? Buffer.from(slot.parts[0]!) : Buffer.concat(slot.parts);
    this.buffered -= slot.received;
    slot.parts = [];
    slot.received = 0;
    const msg: RtmpMessage = { csid: s.csid, timestamp: s.timestamp, type: s.type, streamId: s.streamId, payload };
    if (msg.type === MSG.setChunkSize) {
      if (payload.length < 4) throw new ChunkError(`Set Chunk Size with ${payload.length} bytes`);
      this.chunkSize = checkChunkSize(payload.readUInt32BE(0));
    } else if (msg.type === MSG.abort) {
      if (payload.length < 4) throw new ChunkError(`Abort with ${payload.length} bytes`);
      const target = this.slots.get(payload.readUInt32BE(0));
      if (target && target.state.remaining > 0) {
        this.buffered -= target.received;
        target.parts = [];
        target.received = 0;
        target.state.remaining = 0;
      }
    }
    return msg;
  }
}
