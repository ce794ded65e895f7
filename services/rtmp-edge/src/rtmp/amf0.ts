import { Amf0Error } from './errors.ts';

/**
 * AMF0 as RTMP commands use it (spec 5.3), plus the two markers SRS also reads (date, long
 * string) so lenient clients are not refused. Pure: buffers in, values or Amf0Error out.
 * Objects are plain JS objects whose own properties are defined (never assigned), so a key such
 * as `__proto__` stays data. Integer-like keys are ordered first by JS, which only matters when
 * re-encoding a decoded object; the proxy replays client commands from their raw bytes instead.
 */
export type Amf0Value =
  | number
  | boolean
  | string
  | null
  | undefined
  | Date
  | Amf0Value[]
  | EcmaArray
  | Amf0Object;

export interface Amf0Object {
  [key: string]: Amf0Value;
}

/** An ECMA (associative) array: decoded and encoded with marker 8 instead of 3. */
export class EcmaArray {
  constructor(readonly props: Amf0Object = {}) {}
}

export const MARKER = {
  number: 0x00,
  boolean: 0x01,
  string: 0x02,
  object: 0x03,
  null: 0x05,
  undefined: 0x06,
  ecmaArray: 0x08,
  objectEnd: 0x09,
  strictArray: 0x0a,
  date: 0x0b,
  longString: 0x0c,
} as const;

export interface Amf0Limits {
  /** Nesting of objects/arrays; commands need 3, metadata rarely more than 5. */
  maxDepth: number;
  /** Values decoded in one call (all levels); bounds CPU and objects created per message. */
  maxValues: number;
}

export const DEFAULT_AMF0_LIMITS: Amf0Limits = {
  // Real commands nest 2-3 levels; 32 leaves room for odd metadata yet stops recursion bombs.
  maxDepth: 32,
  // A connect or onMetaData message holds a few dozen values; 10k is generous and cheap.
  maxValues: 10_000,
};

function define(obj: Amf0Object, key: string, value: Amf0Value): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

class Decoder {
  pos: number;
  values = 0;
  constructor(
    private readonly buf: Buffer,
    start: number,
    private readonly limits: Amf0Limits,
  ) {
    this.pos = start;
  }

  need(n: number, what: string): void {
    if (this.pos + n > this.buf.length) throw new Amf0Error(`truncated ${what} at offset ${this.pos}`);
  }

  u8(): number {
    this.need(1, 'marker');
    return this.buf[this.pos++]!;
  }

  shortString(): string {
    this.need(2, 'string length');
    const len = this.buf.readUInt16BE(this.pos);
    this.pos += 2;
    this.need(len, 'string');
    const s = this.buf.toString('utf8', this.pos, this.pos + len);
    this.pos += len;
    return s;
  }

  longString(): string {
    this.need(4, 'long string length');
    const len = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    this.need(len, 'long string');
    const s = this.buf.toString('utf8', this.pos, this.pos + len);
    this.pos += len;
    return s;
  }

  /** Properties until the empty key + object-end marker. */
  props(depth: number): Amf0Object {
    const obj: Amf0Object = {};
    for (;;) {
      const key = this.shortString();
      if (key === '') {
        this.need(1, 'object end');
        if (this.buf[this.pos] === MARKER.objectEnd) {
          this.pos++;
          return obj;
        }
      }
      define(obj, key, this.value(depth + 1));
    }
  }

  value(depth: number): Amf0Value {
    if (depth > this.limits.maxDepth) throw new Amf0Error(`nesting deeper than ${this.limits.maxDepth}`);
    if (++this.values > this.limits.maxValues) throw new Amf0Error(`more than ${this.limits.maxValues} values`);
    const marker = this.u8();
    switch (marker) {
      case MARKER.number: {
        this.need(8, 'number');
        const v = this.buf.readDoubleBE(this.pos);
        this.pos += 8;
        return v;
      }
      case MARKER.boolean:
        this.need(1, 'boolean');
        return this.buf[this.pos++] !== 0;
      case MARKER.string:
        return this.shortString();
      case MARKER.longString:
        return this.longString();
      case MARKER.object:
        return this.props(depth);
      case MARKER.null:
        return null;
      case MARKER.undefined:
        return undefined;
      case MARKER.ecmaArray:
        // The count is advisory (writers, the Go proxy included, store 0); the end marker rules.
        this.need(4, 'ECMA array count');
        this.pos += 4;
        return new EcmaArray(this.props(depth));
      case MARKER.strictArray: {
        this.need(4, 'strict array count');
        const count = this.buf.readUInt32BE(this.pos);
        this.pos += 4;
        // Each element takes at least one byte: a larger count is a lie, refuse before looping.
        if (count > this.buf.length - this.pos) throw new Amf0Error(`strict array count ${count} exceeds the message`);
        const arr: Amf0Value[] = [];
        for (let i = 0; i < count; i++) arr.push(this.value(depth + 1));
        return arr;
      }
      case MARKER.date: {
        this.need(10, 'date');
        const ms = this.buf.readDoubleBE(this.pos);
        this.pos += 10; // 8-byte time + 2-byte time zone (ignored, always 0 in practice)
        return new Date(ms);
      }
      default:
        throw new Amf0Error(`marker 0x${marker.toString(16).padStart(2, '0')} is not supported`);
    }
  }
}

/** Decodes one value starting at `offset`; returns it and the offset after it. */
export function decodeAmf0Value(buf: Buffer, offset = 0, limits: Amf0Limits = DEFAULT_AMF0_LIMITS): { value: Amf0Value; end: number } {
  const d = new Decoder(buf, offset, limits);
  const value = d.value(0);
  return { value, end: d.pos };
}

/** Decodes every value in `buf` (a command or data message body). */
export function decodeAmf0All(buf: Buffer, offset = 0, limits: Amf0Limits = DEFAULT_AMF0_LIMITS): Amf0Value[] {
  const d = new Decoder(buf, offset, limits);
  const out: Amf0Value[] = [];
  while (d.pos < buf.length) out.push(d.value(0));
  return out;
}

class Encoder {
  private parts: Buffer[] = [];

  push(b: Buffer): void {
    this.parts.push(b);
  }

  byte(n: number): void {
    this.push(Buffer.from([n]));
  }

  key(k: string): void {
    const b = Buffer.from(k, 'utf8');
    if (b.length > 0xffff) throw new Amf0Error(`property name longer than 65535 bytes`);
    const h = Buffer.allocUnsafe(2);
    h.writeUInt16BE(b.length);
    this.push(h);
    this.push(b);
  }

  props(obj: Amf0Object, depth: number): void {
    for (const [k, v] of Object.entries(obj)) {
      this.key(k);
      this.value(v, depth + 1);
    }
    this.push(Buffer.from([0, 0, MARKER.objectEnd]));
  }

  value(v: Amf0Value, depth: number): void {
    if (depth > DEFAULT_AMF0_LIMITS.maxDepth) throw new Amf0Error(`nesting deeper than ${DEFAULT_AMF0_LIMITS.maxDepth}`);
    if (v === undefined) return this.byte(MARKER.undefined);
    if (v === null) return this.byte(MARKER.null);
    if (typeof v === 'number') {
      const b = Buffer.allocUnsafe(9);
      b[0] = MARKER.number;
      b.writeDoubleBE(v, 1);
      return this.push(b);
    }
    if (typeof v === 'boolean') return this.push(Buffer.from([MARKER.boolean, v ? 1 : 0]));
    if (typeof v === 'string') {
      const s = Buffer.from(v, 'utf8');
      if (s.length <= 0xffff) {
        const h = Buffer.allocUnsafe(3);
        h[0] = MARKER.string;
        h.writeUInt16BE(s.length, 1);
        this.push(h);
      } else {
        const h = Buffer.allocUnsafe(5);
        h[0] = MARKER.longString;
        h.writeUInt32BE(s.length, 1);
        this.push(h);
      }
      return this.push(s);
    }
    if (v instanceof Date) {
      const b = Buffer.alloc(11);
      b[0] = MARKER.date;
      b.writeDoubleBE(v.getTime(), 1);
      return this.push(b);
    }
    if (Array.isArray(v)) {
      const h = Buffer.allocUnsafe(5);
      h[0] = MARKER.strictArray;
      h.writeUInt32BE(v.length, 1);
      this.push(h);
      for (const e of v) this.value(e, depth + 1);
      return;
    }
    if (v instanceof EcmaArray) {
      const h = Buffer.allocUnsafe(5);
      h[0] = MARKER.ecmaArray;
      h.writeUInt32BE(Object.keys(v.props).length, 1);
      this.push(h);
      return this.props(v.props, depth);
    }
    if (typeof v === 'object') {
      this.byte(MARKER.object);
      return this.props(v, depth);
    }
    throw new Amf0Error(`cannot encode a ${typeof v}`);
  }

  result(): Buffer {
    return Buffer.concat(this.parts);
  }
}

/** Encodes values back to back (a command body is `name, tid, object, args…`). */
export function encodeAmf0(...values: Amf0Value[]): Buffer {
  const e = new Encoder();
  for (const v of values) e.value(v, 0);
  return e.result();
}
