import { EXTENDED_TIMESTAMP, writeBasicHeader } from '../src/rtmp/chunk-header.ts';
import type { RtmpMessage } from '../src/rtmp/message-types.ts';

export { seededRandom as rng } from '../../../test/support/random.ts';

export function randInt(r: () => number, lo: number, hi: number): number {
  return lo + Math.floor(r() * (hi - lo + 1));
}

export function randBytes(r: () => number, n: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(r() * 256);
  return b;
}

interface Prev {
  ts: number;
  len: number;
  type: number;
  sid: number;
  field: number;
  ext: boolean;
}

/**
 * A chunk writer that compresses headers the way ffmpeg and librtmp do (fmt 1/2/3 whenever the
 * fields allow), so tests exercise every header format a real encoder emits. Independent of the
 * production writer on purpose.
 */
export class CompressingWriter {
  chunkSize = 128;
  private prev = new Map<number, Prev>();

  encode(m: RtmpMessage, forceFmt0 = false): Buffer {
    const p = this.prev.get(m.csid);
    const ts = m.timestamp >>> 0;
    let fmt: number;
    let field: number;
    if (!p || forceFmt0 || p.sid !== m.streamId || ts < p.ts) {
      fmt = 0;
      field = ts;
    } else {
      field = (ts - p.ts) >>> 0;
      if (p.len !== m.payload.length || p.type !== m.type) fmt = 1;
      else if (field === p.field) fmt = 3;
      else fmt = 2;
    }
    const ext = fmt === 3 ? p!.ext : field >= EXTENDED_TIMESTAMP;
    const extValue = fmt === 3 ? p!.field : field;
    const parts: Buffer[] = [];
    const h = Buffer.alloc(18);
    let n = writeBasicHeader(h, 0, fmt, m.csid);
    if (fmt <= 2) {
      h.writeUIntBE(ext ? EXTENDED_TIMESTAMP : field, n, 3);
      n += 3;
      if (fmt <= 1) {
        h.writeUIntBE(m.payload.length, n, 3);
        h[n + 3] = m.type;
        n += 4;
        if (fmt === 0) {
          h.writeUInt32LE(m.streamId, n);
          n += 4;
        }
      }
    }
    if (ext) {
      h.writeUInt32BE(extValue, n);
      n += 4;
    }
    parts.push(h.subarray(0, n));
    for (let off = 0; off < m.payload.length || off === 0; off += this.chunkSize) {
      if (off > 0) {
        const c = Buffer.alloc(7);
        let k = writeBasicHeader(c, 0, 3, m.csid);
        if (ext) {
          c.writeUInt32BE(extValue, k);
          k += 4;
        }
        parts.push(c.subarray(0, k));
      }
      parts.push(m.payload.subarray(off, Math.min(m.payload.length, off + this.chunkSize)));
      if (m.payload.length === 0) break;
    }
    this.prev.set(m.csid, { ts, len: m.payload.length, type: m.type, sid: m.streamId, field: fmt === 3 ? p!.field : field, ext });
    return Buffer.concat(parts);
  }
}

/** Splits a buffer at random points (exercises every header/payload boundary). */
export function randomSplit(r: () => number, b: Buffer, maxPiece = 300): Buffer[] {
  const out: Buffer[] = [];
  for (let off = 0; off < b.length; ) {
    const n = Math.min(b.length - off, randInt(r, 1, maxPiece));
    out.push(b.subarray(off, off + n));
    off += n;
  }
  return out;
}
