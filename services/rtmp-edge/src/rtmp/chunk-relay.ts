import { ChunkError } from './errors.ts';
import {
  EXTENDED_TIMESTAMP,
  applyHeader,
  basicHeaderSize,
  checkChunkSize,
  newChunkStreamState,
  newParsedHeader,
  parseHeader,
  writeFmt0Header,
  writeFmt3Header,
  type ChunkStreamState,
} from './chunk-header.ts';
import type { ChunkStreamSnapshot } from './chunk-reader.ts';
import type { WrittenHeader } from './chunk-writer.ts';
import { MSG } from './message-types.ts';

/**
 * Forwards one direction of an established RTMP session chunk by chunk, without re-assembling
 * messages: input buffers go out as the same bytes (zero copy) except the few chunk headers
 * that must change. Pure: buffers in, buffers out, ChunkError on protocol violations.
 *
 * Why headers may change: during set-up the proxy consumed the sender's first messages and wrote
 * its own to the receiver, so on those chunk streams the receiver's header state differs from
 * the sender's. Until a chunk stream is "aligned" again, a message the receiver could not decode
 * from the sender's compressed header (fmt 1/2/3) is re-headed as fmt 0 with absolute values.
 * A chunk stream becomes aligned when the sender sends a header whose meaning does not depend on
 * the receiver's state (fmt 0, or fmt 1/2 once the fields it inherits match). Message stream ids
 * are rewritten in fmt 0 headers when the origin's stream id differs from the client's.
 *
 * Because the chunking is left as the sender made it, the receiver must read with the sender's
 * chunk size: the session declares it before the relay starts, and Set Chunk Size messages from
 * the sender are forwarded (and tracked here to find chunk boundaries) — the Go proxy's
 * re-chunking bug cannot occur.
 */
export interface ChunkRelayInit {
  /** The sender's chunk streams as the set-up reader left them (must be at a chunk boundary). */
  sender: readonly ChunkStreamSnapshot[];
  /** The last header the proxy wrote to the receiver on each chunk stream. */
  receiver: Iterable<WrittenHeader>;
  /** The sender's outbound chunk size, which the receiver has been told. */
  chunkSize: number;
  /** Sender message stream id → receiver message stream id, when they differ. */
  streamIds?: ReadonlyMap<number, number>;
  /** Distinct chunk streams the sender may use. */
  maxChunkStreams: number;
}

interface RelayStream {
  s: ChunkStreamState;
  /** Receiver state equals sender state (under stream id mapping): headers pass unchanged. */
  aligned: boolean;
  /** The current message is being re-headed (its continuation headers are rewritten too). */
  rewriting: boolean;
  rStarted: boolean;
  rTimestamp: number;
  rDelta: number;
  rLength: number;
  rType: number;
  rStreamId: number;
  rExtended: boolean;
  /** First 4 payload bytes of Set Chunk Size / Abort messages. */
  capture: Buffer | undefined;
  captured: number;
}

// The 24-bit length field caps every message at 16 MiB; nothing is buffered here anyway.
const MAX_RELAYED_MESSAGE = 0xffffff;

export class ChunkRelay {
  chunkSize: number;
  /** Bytes of input processed. */
  bytesIn = 0;
  private readonly streams = new Map<number, RelayStream>();
  private readonly header = newParsedHeader();
  private readonly streamIds: ReadonlyMap<number, number>;
  private readonly maxChunkStreams: number;
  private cur: RelayStream | undefined;
  private chunkLeft = 0;
  private stash: Buffer | undefined;
  private pendingPrefix: Buffer[] = [];
  private readonly extendedOf = (csid: number) => this.streams.get(csid)?.s.extended ?? false;

  constructor(init: ChunkRelayInit) {
    this.chunkSize = checkChunkSize(init.chunkSize);
    this.streamIds = init.streamIds ?? new Map();
    this.maxChunkStreams = init.maxChunkStreams;
    const written = new Map<number, WrittenHeader>();
    for (const w of init.receiver) written.set(w.csid, w);
    for (const { state } of init.sender) this.stream(state.csid).s = { ...state };
    for (const csid of written.keys()) this.stream(csid);
    for (const st of this.streams.values()) {
      const w = written.get(st.s.csid);
      if (w) {
        st.rStarted = true;
        st.rTimestamp = w.timestamp;
        st.rDelta = w.timestamp;
        st.rLength = w.length;
        st.rType = w.type;
        st.rStreamId = w.streamId;
        st.rExtended = w.timestamp >= EXTENDED_TIMESTAMP;
      }
      st.aligned = (!st.s.started && !st.rStarted) || (st.s.started && st.rStarted && st.s.remaining === 0 && this.sameState(st));
    }
    for (const { state, partial } of init.sender) {
      if (state.remaining === 0) continue;
      // A message interrupted by the hand-over: what the set-up reader consumed of it is sent
      // as whole chunks under a fresh fmt 0 header, so the sender's next chunk fits.
      if (partial.length % this.chunkSize !== 0) throw new ChunkError(`partial message on csid ${state.csid} does not end on a chunk boundary`);
      const st = this.streams.get(state.csid)!;
      this.pendingPrefix.push(this.rewriteStart(st));
      for (let off = 0; off < partial.length; off += this.chunkSize) {
        if (off > 0) this.pendingPrefix.push(this.fmt3(st));
        this.pendingPrefix.push(partial.subarray(off, off + this.chunkSize));
      }
    }
  }

  /** Bytes to send before any relayed input (completions of interrupted messages). */
  prefix(): Buffer[] {
    const p = this.pendingPrefix;
    this.pendingPrefix = [];
    return p;
  }

  /** True when nothing needs rewriting any more: the caller may forward raw bytes from now on. */
  get passThrough(): boolean {
    if (this.streamIds.size > 0 || this.stash) return false;
    if (this.cur && this.cur.rewriting && this.chunkLeft > 0) return false;
    for (const st of this.streams.values()) if (!st.aligned || (st.rewriting && st.s.remaining > 0)) return false;
    return true;
  }

  private stream(csid: number): RelayStream {
    let st = this.streams.get(csid);
    if (!st) {
      if (this.streams.size >= this.maxChunkStreams) throw new ChunkError(`more than ${this.maxChunkStreams} chunk streams`);
      st = {
        s: newChunkStreamState(csid),
        aligned: true,
        rewriting: false,
        rStarted: false,
        rTimestamp: 0,
        rDelta: 0,
        rLength: 0,
        rType: 0,
        rStreamId: 0,
        rExtended: false,
        capture: undefined,
        captured: 0,
      };
      this.streams.set(csid, st);
    }
    return st;
  }

  private mapId(id: number): number {
    return this.streamIds.get(id) ?? id;
  }

  private sameState(st: RelayStream): boolean {
    const s = st.s;
    return (
      st.rTimestamp === s.timestamp &&
      st.rDelta === s.deltaField &&
      st.rLength === s.length &&
      st.rType === s.type &&
      st.rStreamId === this.mapId(s.streamId) &&
      st.rExtended === s.extended
    );
  }

  /** A fmt 0 header carrying the sender's current message, absolute; updates receiver state. */
  private rewriteStart(st: RelayStream): Buffer {
    const s = st.s;
    const sid = this.mapId(s.streamId);
    const out = Buffer.allocUnsafe(basicHeaderSize(s.csid) + 15);
    const n = writeFmt0Header(out, 0, s.csid, s.timestamp, s.length, s.type, sid);
    st.rewriting = true;
    st.rStarted = true;
    st.rTimestamp = s.timestamp;
    st.rDelta = s.timestamp;
    st.rLength = s.length;
    st.rType = s.type;
    st.rStreamId = sid;
    st.rExtended = s.timestamp >= EXTENDED_TIMESTAMP;
    st.aligned = st.rDelta === s.deltaField && st.rExtended === s.extended;
    return out.subarray(0, n);
  }

  private fmt3(st: RelayStream): Buffer {
    const out = Buffer.allocUnsafe(basicHeaderSize(st.s.csid) + 4);
    return out.subarray(0, writeFmt3Header(out, 0, st.s.csid, st.rExtended ? st.rTimestamp : undefined));
  }

  /** Forwards one input buffer; returns the buffers to write, in order. */
  process(input: Buffer): Buffer[] {
    this.bytesIn += input.length;
    let data = input;
    if (this.stash) {
      data = Buffer.concat([this.stash, input]);
      this.stash = undefined;
    }
    const out: Buffer[] = this.pendingPrefix.length > 0 ? this.prefix() : [];
    const end = data.length;
    const h = this.header;
    let pos = 0;
    let seg = 0;
    while (pos < end) {
      if (this.chunkLeft > 0) {
        const st = this.cur!;
        const n = Math.min(this.chunkLeft, end - pos);
        if (st.capture && st.captured < 4) {
          const k = Math.min(n, 4 - st.captured);
          data.copy(st.capture, st.captured, pos, pos + k);
          st.captured += k;
        }
        pos += n;
        this.chunkLeft -= n;
        st.s.remaining -= n;
        if (st.s.remaining === 0) this.complete(st);
        continue;
      }
      if (!parseHeader(data, pos, end, this.extendedOf, h)) {
        this.stash = Buffer.from(data.subarray(pos));
        break;
      }
      const st = this.streams.get(h.csid) ?? this.stream(h.csid);
      const prevTimestamp = st.s.timestamp;
      const starts = applyHeader(st.s, h, MAX_RELAYED_MESSAGE);
      let replacement: Buffer | undefined;
      if (starts) {
        st.rewriting = false;
        const mapped = this.mapId(st.s.streamId);
        let verbatim = st.aligned;
        if (!verbatim) {
          if (h.fmt === 0) verbatim = true;
          else if (h.fmt !== 3 && st.rStarted && st.rTimestamp === prevTimestamp && st.rStreamId === mapped) {
            verbatim = h.fmt === 1 || (st.rLength === st.s.length && st.rType === st.s.type);
          }
          if (verbatim) st.aligned = true;
        }
        if (!verbatim) replacement = this.rewriteStart(st);
        else if (h.fmt === 0 && mapped !== st.s.streamId) {
          replacement = Buffer.from(data.subarray(pos, pos + h.size));
          replacement.writeUInt32LE(mapped >>> 0, h.basicSize + 7);
        }
        st.capture = st.s.type === MSG.setChunkSize || st.s.type === MSG.abort ? Buffer.alloc(4) : undefined;
        st.captured = 0;
      } else if (st.rewriting) {
        replacement = this.fmt3(st);
      }
      if (replacement) {
        if (pos > seg) out.push(data.subarray(seg, pos));
        out.push(replacement);
        seg = pos + h.size;
      }
      pos += h.size;
      if (st.s.remaining === 0) {
        this.complete(st);
        continue;
      }
      this.cur = st;
      this.chunkLeft = Math.min(st.s.remaining, this.chunkSize);
    }
    if (pos > seg) out.push(seg === 0 && pos === end ? data : data.subarray(seg, pos));
    return out;
  }

  private complete(st: RelayStream): void {
    st.rewriting = false;
    const cap = st.capture;
    if (!cap) return;
    st.capture = undefined;
    if (st.captured < 4) throw new ChunkError(`${st.s.type === MSG.setChunkSize ? 'Set Chunk Size' : 'Abort'} with ${st.captured} bytes`);
    const value = cap.readUInt32BE(0);
    if (st.s.type === MSG.setChunkSize) {
      this.chunkSize = checkChunkSize(value);
      return;
    }
    const target = this.streams.get(value);
    if (target) {
      target.s.remaining = 0;
      target.rewriting = false;
    }
  }
}
