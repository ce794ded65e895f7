import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { parseHandshake, srtHsOf, streamIdOf, encodeSwappedString, HandshakeType, ExtensionType } from '../src/srt/handshake.ts';
import { parseStreamId, streamUrlOf } from '../src/srt/stream-id.ts';
import { SrtHandshakeError, StreamIdError } from '../src/errors.ts';
import { waitFor } from '../../../test/support/index.ts';
import { startInprocSrtEdge, startSilentOrigin } from '../../../test/support/srt-origin.ts';
import { seededRandom as rng, fuzzSeed, withSeed } from '../../../test/support/random.ts';
import { COOKIE_BUCKET_MS } from '../src/srt/cookie.ts';
import { MAX_LINGERING_REJECTIONS } from '../src/srt-edge.ts';


// A real libsrt conclusion (ffmpeg 5.1 / libsrt 1.5.1): HSREQ, SID `#!::r=live/x,m=publish`, KMREQ.
const CONCLUSION = Buffer.from(
  '800000000000000000002357000000000000000500000007485e48bf000005dc00002000ffffffff03116b68123456780100007f000000000000000000000000' +
    '0001000300010501000000bf00c800c8000500063a3a2123696c3d72782f6576703d6d2c696c6275000068730003000e122029010000000002000200000004' +
    '040d97a141f9cebee06488641f53dbf89d423c933096b0debb8570b5fd8e9e3a97567c87a875297dea',
  'hex',
);
const INDUCTION = Buffer.from(
  '800000000000000000000278000000000000000400000002485e48bf000005dc000020000000000103116b68000000000100007f000000000000000000000000',
  'hex',
);
const TOTAL = 100_000;
/** Datagrams in flight at once: 64 of at most 1.5 kB fit the edge's default receive buffer. */
const BATCH = 64;
/** Edge time per batch: the flood spans ~3 s of edge time, past REJECTION_LINGER_MS. */
const BATCH_EDGE_MS = 2;
const SIDS = ['#!::r=live/x,m=publish', '#!::h=a.com,r=live/y', 'live/z', '#!::m=bad', '#!::r=', 'x'.repeat(300), '#!::h=a b,r=l/s', '\u0000\u0001'];

class Fuzzer {
  constructor(private readonly r: () => number) {}
  int(n: number): number {
    return Math.floor(this.r() * n);
  }
  random(): Buffer {
    const b = Buffer.alloc(this.int(1500));
    for (let i = 0; i < b.length; i++) b[i] = this.int(256);
    // Often make it look like a handshake, so the parser goes past the first check.
    if (b.length >= 4 && this.r() < 0.5) b.writeUInt32BE(0x80000000, 0);
    return b;
  }
  mutate(base: Buffer): Buffer {
    let b: Buffer = Buffer.from(base);
    const ops = 1 + this.int(4);
    for (let k = 0; k < ops; k++) {
      switch (this.int(6)) {
        case 0: // flip bytes
          for (let i = 0; i < 1 + this.int(8); i++) if (b.length) b[this.int(b.length)] = this.int(256);
          break;
        case 1: // truncate (including inside an extension block)
          b = b.subarray(0, this.int(b.length + 1));
          break;
        case 2: // append junk
          b = Buffer.concat([b, Buffer.alloc(1 + this.int(7), this.int(256))]);
          break;
        case 3: // corrupt an extension header: the first block's length, or any word past the CIF
          if (b.length >= 68) {
            const at = this.r() < 0.5 ? 66 : 64 + 2 * this.int((b.length - 66) >> 1);
            b.writeUInt16BE(this.int(0x10000), at);
          }
          break;
        case 4: // replace the stream id
          b = this.withSid(b.subarray(0, 64), SIDS[this.int(SIDS.length)]!);
          break;
        default: // handshake type
          if (b.length >= 40) b.writeUInt32BE([HandshakeType.INDUCTION, HandshakeType.CONCLUSION, 0, 0xfffffffe, 1003, this.int(2 ** 32)][this.int(6)]!, 36);
      }
    }
    return b;
  }
  /** The (possibly mutated) first 64 bytes as a conclusion header, plus one SID block. */
  withSid(head: Buffer, sid: string): Buffer {
    const cif = Buffer.concat([head.subarray(0, 64), Buffer.alloc(Math.max(0, 64 - head.length))]);
    cif.writeUInt32BE(0x80000000, 0);
    cif.writeUInt32BE(HandshakeType.CONCLUSION, 36);
    const content = encodeSwappedString(sid);
    const ext = Buffer.alloc(4);
    ext.writeUInt16BE(ExtensionType.SID, 0);
    ext.writeUInt16BE(content.length / 4, 2);
    return Buffer.concat([cif, ext, content]);
  }
}

function parseEverything(buf: Buffer): void {
  const hs = parseHandshake(buf);
  srtHsOf(hs);
  const info = parseStreamId(streamIdOf(hs));
  streamUrlOf(info);
}

test('200,000 random and mutated handshakes: the parsers return values or typed errors, nothing else', () => {
  const seed = fuzzSeed();
  const f = new Fuzzer(rng(seed));
  const outcomes = new Map<string, number>();
  for (let i = 0; i < 200_000; i++) {
    const buf = i % 3 === 0 ? f.random() : f.mutate(i % 3 === 1 ? CONCLUSION : INDUCTION);
    let outcome = 'ok';
    try {
      parseEverything(buf);
    } catch (err) {
      if (err instanceof SrtHandshakeError) outcome = err.fault;
      else if (err instanceof StreamIdError) outcome = 'stream-id';
      else assert.fail(`seed ${seed}, input ${buf.toString('hex')}: untyped error ${String(err)}`);
    }
    outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
  }
  // The corpus must actually reach every failure class and the success path.
  for (const k of ['ok', 'short', 'not-handshake', 'extension-header-truncated', 'extension-truncated', 'stream-id']) {
    assert.ok((outcomes.get(k) ?? 0) > 0, `seed ${seed}: no "${k}" outcome in ${JSON.stringify([...outcomes])}`);
  }
});

test('100,000 random and mutated datagrams at a live edge: it keeps serving and its state stays bounded', async (t) => {
  const seed = fuzzSeed();
  const f = new Fuzzer(rng(seed));
  // The edge's clock moves by hand, a fixed step per batch, from the start of a cookie bucket: the
  // cookie handed out first stays the one every answer carries however slowly a loaded machine
  // runs the flood, and rejections linger and expire at the same points of the stream every run.
  let clock = Math.ceil(Date.now() / COOKIE_BUCKET_MS) * COOKIE_BUCKET_MS;
  // A silent origin keeps valid fuzzed sessions in their origin handshake, so caps are exercised.
  const h = await startInprocSrtEdge({ env: { PROXY_SRT_HANDSHAKE_TIMEOUT: '200ms', PROXY_SRT_MAX_SESSIONS_PER_IP: '5' }, edge: { now: () => clock } });
  t.after(() => h.close());
  const silent = await startSilentOrigin();
  t.after(() => silent.stop());
  assert.equal(await h.register(silent.heartbeatBody()), 200);

  const sock = createSocket('udp4');
  t.after(() => new Promise<void>((r) => sock.close(() => r())));
  const answers: Buffer[] = [];
  sock.on('message', (m) => answers.push(m));
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  const send = (b: Buffer) => new Promise<void>((resolve) => sock.send(b, h.edge.port, '127.0.0.1', () => resolve()));
  // Flow control: after each batch a valid induction from a second socket; its answer means the
  // edge has read everything queued before it (one event loop, one receive queue), whatever the
  // fuzzed datagrams did not count.
  const probe = createSocket('udp4');
  t.after(() => new Promise<void>((r) => probe.close(() => r())));
  let probeAnswers = 0;
  let onProbeAnswer = () => {};
  probe.on('message', () => {
    probeAnswers++;
    onProbeAnswer();
  });
  await new Promise<void>((r) => probe.bind(0, '127.0.0.1', () => r()));
  const drain = () =>
    new Promise<void>((resolve) => {
      // A lost probe or answer (the kernel drops under load) only costs this wait.
      const timer = setTimeout(resolve, 1_000);
      onProbeAnswer = () => {
        clearTimeout(timer);
        resolve();
      };
      probe.send(INDUCTION, h.edge.port, '127.0.0.1');
    });

  await withSeed(seed, async () => {
    // A real induction first: its answer carries the cookie that lets fuzzed conclusions past the
    // cookie check and into the extension and stream id parsers.
    await send(INDUCTION);
    const first = await waitAnswer(answers);
    const cookie = first.readUInt32BE(44);
    const withCookie = (b: Buffer) => {
      if (b.length >= 48) b.writeUInt32BE(cookie, 44);
      return b;
    };

    const special = [
      // The datagram that kills the Go proxy: a conclusion whose extension area is 2 bytes.
      Buffer.concat([CONCLUSION.subarray(0, 64), Buffer.from([0x00, 0x05])]),
      // An extension declared longer than what follows.
      CONCLUSION.subarray(0, 72),
    ].map((b) => withCookie(Buffer.from(b)));

    // The edge must deal with 100,000 of them: what the kernel drops on a loaded machine is made
    // up by more of the same stream. Twice the count sent means the edge stopped reading.
    let sent = 0;
    const c = h.edge.counters;
    const base = c.handled;
    const handled = () => c.handled - base - probeAnswers;
    while (handled() < TOTAL) {
      assert.ok(sent < 2 * TOTAL, `the edge saw only ${handled()} of ${sent} datagrams sent`);
      const batch: Promise<void>[] = [];
      for (let k = 0; k < BATCH; k++, sent++) {
        let b: Buffer;
        const kind = sent % 10;
        if (kind === 0) b = special[sent % 20 === 0 ? 0 : 1]!;
        else if (kind < 4) b = f.random();
        else if (kind < 8) b = withCookie(f.mutate(CONCLUSION));
        else if (kind === 8) b = f.mutate(INDUCTION);
        else {
          b = Buffer.alloc(16 + f.int(1400));
          b.writeUInt32BE(f.int(2 ** 32), 12); // data for a random socket id
        }
        batch.push(send(b));
      }
      await Promise.all(batch);
      clock += BATCH_EDGE_MS;
      // Pace to the edge (same event loop): localhost drops what overflows its receive buffer.
      await drain();
    }

    // Still alive and serving: a fresh induction is answered with a valid cookie.
    answers.length = 0;
    await send(INDUCTION);
    const again = await waitAnswer(answers, (m) => m.length >= 64 && m.readUInt32BE(36) === HandshakeType.INDUCTION && m.readUInt32BE(12) === 0x03116b68);
    assert.equal(again.readUInt32BE(44), cookie);

    const drops = Object.fromEntries(c.drops);
    for (const reason of ['short', 'extension-header-truncated', 'extension-truncated', 'unknown-session', 'bad-stream-id', 'bad-cookie', 'unexpected-handshake', 'session-limit']) {
      assert.ok((drops[reason] ?? 0) > 0, `no "${reason}" drop in ${JSON.stringify(drops)}`);
    }
    assert.ok(c.sessionsOpened > 0 && c.absorbed > 0, `sessions opened ${c.sessionsOpened}, conclusions absorbed ${c.absorbed}`);
    const stats = h.edge.stats();
    assert.ok(stats.sessions <= 5, `per-IP cap holds: ${stats.sessions} sessions`);
    assert.ok(stats.lingering <= MAX_LINGERING_REJECTIONS);
    // Fuzzed sessions end within the origin handshake timeout (two attempts at most).
    await waitFor(() => h.edge.stats().sessions === 0, { timeoutMs: 5000, what: 'fuzzed sessions to end' });
    const after = h.edge.stats();
    assert.deepEqual({ ...after, lingering: 0 }, { sessions: 0, byCaller: 0, bySocket: 0, socketBuckets: 0, perIp: 0, lingering: 0, originSockets: 0 });
  });
});

async function waitAnswer(answers: Buffer[], match: (m: Buffer) => boolean = (m) => m.length >= 64): Promise<Buffer> {
  const deadline = Date.now() + 3000;
  while (Date.now() < deadline) {
    const m = answers.find(match);
    if (m) return m;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error('no answer from the edge');
}

