import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { waitFor } from '../../../test/support/index.ts';
import { startInprocSrtEdge, startSilentOrigin, startSrtReceiverOrigin } from '../../../test/support/srt-origin.ts';
import { HANDSHAKE_RETRY_MS } from '../src/srt-edge.ts';
import {
  buildInductionRequest, buildSrtHs, encodeSwappedString, ExtensionType, HandshakeType, parseHandshake, RejectReason, serializeHandshake,
  SRT_MAGIC, type Extension, type Handshake,
} from '../src/srt/handshake.ts';

/** A caller speaking raw SRT handshakes from one UDP socket, to observe exactly what the edge answers. */
class RawCaller {
  readonly answers: Buffer[] = [];
  private constructor(
    readonly sock: Socket,
    readonly edgePort: number,
  ) {
    sock.on('message', (m) => this.answers.push(m));
  }

  static async open(edgePort: number): Promise<RawCaller> {
    const sock = createSocket('udp4');
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
    return new RawCaller(sock, edgePort);
  }

  send(b: Buffer): void {
    this.sock.send(b, this.edgePort, '127.0.0.1');
  }

  async next(match: (h: Handshake) => boolean = () => true, timeoutMs = 3000): Promise<Handshake & { raw: Buffer }> {
    return waitFor(
      () => {
        const i = this.answers.findIndex((m) => m.length >= 64 && match(parseHandshake(m)));
        if (i < 0) return undefined;
        const [raw] = this.answers.splice(i, 1);
        return { ...parseHandshake(raw!), raw: raw! };
      },
      { timeoutMs, intervalMs: 5, what: 'an answer from the edge' },
    );
  }

  /** Induction → cookie, as libsrt does it. */
  async cookie(socketId: number): Promise<number> {
    this.send(buildInductionRequest({ socketId, initialSequence: 1000, mtu: 1500, flowWindow: 8192, peerIp: Buffer.alloc(16), timestamp: 1 }));
    const res = await this.next((h) => h.type === HandshakeType.INDUCTION && h.dstSocketId === socketId);
    assert.equal(res.version, 5);
    assert.equal(res.extensionField, SRT_MAGIC);
    assert.equal(res.socketId, socketId);
    assert.notEqual(res.cookie, 0);
    return res.cookie;
  }

  close(): Promise<void> {
    return new Promise((r) => this.sock.close(() => r()));
  }
}

function conclusion(socketId: number, cookie: number, sid: string | undefined, version = 5): Buffer {
  const extensions: Extension[] = [{ type: ExtensionType.HSREQ, content: buildSrtHs({ srtVersion: 0x010501, flags: 0xbf, recvLatencyMs: 120, sendLatencyMs: 120 }) }];
  if (sid !== undefined) extensions.push({ type: ExtensionType.SID, content: encodeSwappedString(sid) });
  return serializeHandshake({
    timestamp: 2, dstSocketId: 0, version, encryption: 0, extensionField: 5, initialSequence: 1000, mtu: 1500, flowWindow: 8192,
    type: HandshakeType.CONCLUSION, socketId, cookie, peerIp: Buffer.from('0100007f000000000000000000000000', 'hex'), extensions,
  });
}

test('inductions are answered statelessly; spoofed conclusions are dropped', async (t) => {
  const h = await startInprocSrtEdge();
  t.after(() => h.close());
  const a = await RawCaller.open(h.edge.port);
  const b = await RawCaller.open(h.edge.port);
  t.after(() => a.close());
  t.after(() => b.close());
  const cookie = await a.cookie(111);
  assert.equal(await a.cookie(222), cookie, 'one cookie per caller address');
  assert.equal(h.edge.stats().sessions, 0, 'an induction creates no state');
  // B replays A's cookie from another port: no answer, no session.
  b.send(conclusion(111, cookie, '#!::r=live/s,m=publish'));
  b.send(conclusion(111, 0xdeadbeef, '#!::r=live/s,m=publish'));
  await waitFor(() => h.edge.counters.drops.get('bad-cookie') === 2, { what: 'bad cookies counted' });
  assert.equal(b.answers.length, 0);
  assert.equal(h.edge.stats().sessions, 0);
});

test('bad stream ids, old callers and callers over the caps get an SRT rejection, re-sent on retransmission', async (t) => {
  const h = await startInprocSrtEdge({ env: { PROXY_SRT_MAX_SESSIONS_PER_IP: '1', PROXY_SRT_HANDSHAKE_TIMEOUT: '3s' } });
  t.after(() => h.close());
  const silent = await startSilentOrigin();
  t.after(() => silent.stop());
  assert.equal(await h.register(silent.heartbeatBody()), 200);
  const c = await RawCaller.open(h.edge.port);
  t.after(() => c.close());
  const cookie = await c.cookie(1);

  const reject = async (socketId: number, wire: Buffer, reason: number) => {
    c.send(wire);
    const r1 = await c.next((x) => x.dstSocketId === socketId);
    assert.equal(r1.type, 1000 + reason, `socket ${socketId}`);
    c.send(wire);
    const r2 = await c.next((x) => x.dstSocketId === socketId);
    assert.deepEqual(r2.raw, r1.raw, 'the retransmitted conclusion gets the same rejection');
  };
  await reject(10, conclusion(10, cookie, '#!::m=publish'), RejectReason.BAD_REQUEST);
  await reject(11, conclusion(11, cookie, '#!::r=live/s,m=play'), RejectReason.BAD_REQUEST);
  await reject(12, conclusion(12, cookie, '#!::r=live/s', 4), RejectReason.VERSION);
  // One session per IP: the silent origin keeps the first in its handshake, the second is refused.
  c.send(conclusion(20, cookie, '#!::r=live/one,m=publish'));
  await waitFor(() => h.edge.stats().sessions === 1, { what: 'first session' });
  await reject(21, conclusion(21, cookie, '#!::r=live/two,m=publish'), RejectReason.OVERLOAD);
  assert.equal(h.edge.stats().sessions, 1);
  assert.ok((h.edge.counters.drops.get('session-limit') ?? 0) >= 1);
  assert.ok((h.edge.counters.drops.get('bad-stream-id') ?? 0) >= 2);
});

test('retransmitted conclusions are absorbed while the origin handshake runs, answered from cache after', async (t) => {
  // Long enough that the retransmits below, sent as soon as the edge dealt with the one before,
  // surely land while the attempt on the silent origin runs, however loaded the machine.
  const HANDSHAKE_MS = 2000;
  const h = await startInprocSrtEdge({ env: { PROXY_SRT_HANDSHAKE_TIMEOUT: `${HANDSHAKE_MS}ms` } });
  t.after(() => h.close());
  const silent = await startSilentOrigin();
  t.after(() => silent.stop());
  const origin = await startSrtReceiverOrigin();
  t.after(() => origin.stop());
  const sBody = silent.heartbeatBody();
  const oBody = origin.heartbeatBody();
  assert.equal(await h.register(sBody), 200);
  assert.equal(await h.register(oBody), 200);
  const oId = `${oBody.server}-${oBody.service}-${oBody.pid}`;
  const sId = `${sBody.server}-${sBody.service}-${sBody.pid}`;
  // The stream starts on the silent origin, so the first attempt stays in flight for HANDSHAKE_MS.
  await h.registry.pick('__defaultVhost__/live/r', { protocol: 'srt', avoid: [oId] });

  const c = await RawCaller.open(h.edge.port);
  t.after(() => c.close());
  const cookie = await c.cookie(77);
  const wire = conclusion(77, cookie, '#!::r=live/r,m=publish');
  c.send(wire);
  await waitFor(() => h.edge.counters.sessionsOpened === 1, { what: 'the conclusion to open a session' });
  for (let i = 1; i < 6; i++) {
    c.send(wire);
    await waitFor(() => h.edge.counters.absorbed === i, { intervalMs: 5, what: `retransmit ${i} to be absorbed` });
  }
  assert.equal(h.edge.list()[0]?.state === 'established', false, 'the attempt on the silent origin still runs');
  assert.equal(h.edge.stats().sessions, 1, 'one session however often the conclusion comes');
  assert.equal(h.edge.counters.absorbed, 5);
  assert.equal(c.answers.length, 0, 'nothing is answered before the origin has');

  const answer = await c.next((x) => x.dstSocketId === 77, 5 * HANDSHAKE_MS);
  // Inductions only, from one origin socket, one per retry tick of the attempt: the replay was
  // not duplicated (five more would show).
  const ticks = 1 + Math.floor(HANDSHAKE_MS / HANDSHAKE_RETRY_MS);
  assert.ok(silent.received() >= 2 && silent.received() <= ticks, `silent origin got ${silent.received()} datagrams (at most ${ticks})`);
  assert.equal(answer.type, HandshakeType.CONCLUSION, 'failed over to the live origin, which accepted');
  assert.equal(answer.cookie, cookie, 'the caller gets its own cookie back');
  assert.notEqual(answer.socketId, 0);
  assert.ok(answer.extensions.some((e) => e.type === ExtensionType.HSRSP), 'the origin’s HSRSP is relayed');
  const [session] = h.edge.list();
  assert.equal(session?.state, 'established');
  assert.equal(session?.origin?.id, oId);
  assert.equal(session?.originSocketId, answer.socketId);
  assert.notEqual(session?.origin?.id, sId);

  c.send(wire);
  const again = await c.next((x) => x.dstSocketId === 77);
  assert.deepEqual(again.raw, answer.raw, 'a late retransmission gets the cached answer');
  assert.equal(h.edge.stats().sessions, 1);
});
