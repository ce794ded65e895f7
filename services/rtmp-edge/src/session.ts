import type { Socket } from 'node:net';
import { streamUrlFromRtmp, formatHostPort, type OriginRecord } from '@srs-proxy/balancer';
import {
  dialTcp, rtmpAnswer, OriginConnectTimeoutError, OriginTimeoutError, StallWatch, ORIGIN_STALLED, ORIGIN_UNREACHABLE,
  type OriginProber, type OriginRouter, type CodeAnswers, type RouteTarget, type StallVerdict,
} from '@srs-proxy/routing';
import { errorCode, errorMessage, markSession, newCid, withSpan, type Logger, type SessionMark } from '@srs-proxy/runtime';
import type { PlacementLease } from '@srs-proxy/routing';
import { MessageConnection } from './connection.ts';
import { BadRequestError, SetupTimeoutError, BAD_REQUEST, IDLE_TIMEOUT, SETUP_TIMEOUT } from './errors.ts';
import type { RtmpMetrics, SessionRole } from './metrics.ts';
import { RtmpOriginLink, type RecordedSetup } from './origin.ts';
import { ChunkRelay } from './rtmp/chunk-relay.ts';
import type { ChunkReaderLimits } from './rtmp/chunk-reader.ts';
import { ChunkError } from './rtmp/errors.ts';
import { HANDSHAKE_SIZE, answerC0C1 } from './rtmp/handshake.ts';
import { MSG, type RtmpMessage } from './rtmp/message-types.ts';
import {
  STATUS,
  connectRejectedMessage,
  connectResultMessage,
  decodeCommand,
  onStatusMessage,
  resultMessage,
  setPeerBandwidthMessage,
  windowAckSizeMessage,
  type Command,
} from './rtmp/messages.ts';
import { PEER_CLOSED } from './socket-reader.ts';

/** Timeouts of one session (config fields; tests shrink them). */
export interface SessionTimeouts {
  /** Accept → publish/play identified. */
  handshakeMs: number;
  /** TCP connect to one origin (PROXY_ORIGIN_CONNECT_TIMEOUT, or the RTMP-only override). */
  originConnectMs: number;
  /** Origin handshake + replay until Publish.Start / Play.Start. */
  originSetupMs: number;
  /** No byte in either direction while relaying. */
  idleMs: number;
  /** PROXY_ORIGIN_STALL_TIMEOUT: an origin that neither reads nor sends for this long is checked (stall.ts). */
  stallMs: number;
}

// Default origin set-up bound: an origin answers a replay in milliseconds; 5 s covers a loaded
// SRS without leaving a publisher hanging when the origin accepted TCP but stalls.
export const ORIGIN_SETUP_TIMEOUT_MS = 5_000;
// Set-up commands are a few hundred bytes each; 64 KiB of unread input is plenty, and past it the
// socket is paused so a peer that floods before publishing costs nothing more.
export const SETUP_HIGH_WATER = 64 * 1024;
// ffmpeg sends ~6 messages before publish, OBS ~8; 64 bounds what is kept for the replay.
export const MAX_SETUP_MESSAGES = 64;
// Limits of the set-up reader on both sides: commands are small, chunk streams few.
export const SETUP_READER_LIMITS: ChunkReaderLimits = { maxMessageSize: 256 * 1024, maxChunkStreams: 64, maxBufferedBytes: 1 << 20 };
// The relay keeps ~100 bytes per chunk stream; real peers use fewer than ten.
export const RELAY_MAX_CHUNK_STREAMS = 256;
// Bytes queued towards one peer before the other side is paused. Node's pipe() pauses at 16 KiB,
// so every 64 KiB read waits for a drain; 256 KiB lets a burst (a key frame) through without a
// pause/resume round trip while bounding memory per direction. On the shared 2-core test machine
// 16 KiB, 256 KiB and 1 MiB measured within noise of each other in CPU per GB.
export const RELAY_HIGH_WATER = 256 * 1024;
// Lets an error status reach the client before the socket is destroyed.
export const CLOSE_LINGER_MS = 1_000;
// Resolution of the relay's periodic check (idle, stalled origin): 1 s keeps a hung origin's
// detection within PROXY_ORIGIN_STALL_TIMEOUT + 1 s + one probe, at one timer per session.
export const RELAY_CHECK_MS = 1_000;
// Acknowledgement window and peer bandwidth announced to clients, as SRS does.
const WINDOW_ACK_SIZE = 2_500_000;
// What a client is told for the RTMP edge's own codes (origin and routing codes are shared).
const RTMP_CODES: CodeAnswers = { [BAD_REQUEST]: 'bad-request', [SETUP_TIMEOUT]: 'timeout' };
// Our answer to createStream, like the Go proxy and SRS.
const CLIENT_STREAM_ID = 1;

/**
 * One RTMP client: handshake and identify (spec 5.1, 5.4, 5.5), pick an origin, replay the
 * client's session there (5.6), then relay chunks both ways (5.7 with its bugs fixed). Closed
 * exactly once with a logged reason; closing destroys both sockets.
 */
export class RtmpSession {
  closed = false;
  readonly cid = newCid();
  private readonly client: MessageConnection;
  private origin: RtmpOriginLink | undefined;
  private role: SessionRole | undefined;
  private clientStreamId = 0;
  private relaying = false;
  private log: Logger;
  private setupTimer: NodeJS.Timeout | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  private abortError: Error | undefined;
  /** The session as the edge's announcements count it (publisher or player of its stream). */
  private mark: SessionMark | undefined;
  /** A publisher's claim on its stream's placement, released on close. */
  private lease: PlacementLease | undefined;
  private bytesIn = 0;
  private bytesOut = 0;
  private flushedIn = 0;
  private flushedOut = 0;
  private lastMoved = -1;
  private lastMoveAt = performance.now();
  private readonly acceptedAt = performance.now();
  private streamUrl = '';
  /** The origin relayed to (for stall reports and probes). */
  private target: RouteTarget | undefined;
  private stall: StallWatch | undefined;
  /** 0, or the number of the wait for 'drain' on the origin socket in progress (RelaySample.backlog). */
  private backlog = 0;
  private backlogWaits = 0;
  private probing = false;
  private stalled = false;

  constructor(
    socket: Socket,
    logger: Logger,
    private readonly router: OriginRouter,
    private readonly metrics: RtmpMetrics,
    private readonly timeouts: SessionTimeouts,
    private readonly onClosed: (s: RtmpSession) => void = () => {},
    /** Confirms a suspected hung origin; absent: a silent origin counts as hung without asking. */
    private readonly prober?: OriginProber,
  ) {
    socket.setNoDelay(true);
    this.log = logger.child({ cid: this.cid, proto: 'rtmp', client: `${socket.remoteAddress}:${socket.remotePort}` });
    this.client = new MessageConnection(socket, 'client', SETUP_READER_LIMITS, SETUP_HIGH_WATER);
    // During the origin phase nothing reads the client: notice when it leaves.
    socket.once('close', () => this.close('client closed'));
  }

  /** Runs the session until it relays or fails; never throws. */
  async run(): Promise<void> {
    this.setupTimer = setTimeout(() => this.abort(new SetupTimeoutError(`no publish/play within ${this.timeouts.handshakeMs} ms`)), this.timeouts.handshakeMs);
    try {
      await withSpan('rtmp.session.setup', { 'srsp.cid': this.cid }, async (span) => {
        await this.handshake();
        const setup = await this.identify();
        clearTimeout(this.setupTimer);
        let streamUrl: string;
        try {
          streamUrl = streamUrlFromRtmp(setup.tcUrl, setup.streamName);
        } catch (err) {
          throw new BadRequestError(`cannot route tcUrl=${setup.tcUrl} stream=${setup.streamName}: ${errorMessage(err)}`, err);
        }
        this.streamUrl = streamUrl;
        this.log = this.log.child({ stream: streamUrl, role: setup.role });
        span.setAttributes({ 'srsp.stream': streamUrl, 'srsp.role': setup.role });
        this.log.info({ tcUrl: setup.tcUrl, name: setup.streamName }, `RTMP identify type=${setup.role}`);
        const { origin, originStreamId } = await this.connectOrigin(setup, streamUrl);
        span.setAttribute('srsp.origin', origin.id);
        this.startRelay(setup, originStreamId);
        if (!this.closed) this.mark = markSession('rtmp-edge', 'rtmp', streamUrl, setup.role);
        // A publisher's edge owns its stream's placement while it relays (placement-leases.ts).
        if (!this.closed && setup.role === 'publish') this.lease = this.router.leases?.add(streamUrl, origin.id, 'rtmp');
      });
    } catch (err) {
      this.fail(this.abortError ?? err);
    }
  }

  /** A set-up deadline passed: fail now (closing the sockets ends whatever read is pending). */
  private abort(err: Error): void {
    this.abortError ??= err;
    this.fail(err);
  }

  private async handshake(): Promise<void> {
    const c0c1 = await this.client.input.readExact(1 + HANDSHAKE_SIZE);
    const answer = answerC0C1(c0c1);
    this.client.socket.write(answer.s0s1s2);
    await this.client.input.readExact(HANDSHAKE_SIZE);
    this.log.debug({ complex: answer.complex }, 'RTMP handshake done');
  }

  /** Reads until publish/play, answering like SRS and recording what the origin must see. */
  private async identify(): Promise<RecordedSetup> {
    let connect: { msg: RtmpMessage; tcUrl: string } | undefined;
    const sequence: RtmpMessage[] = [];
    for (let count = 0; ; count++) {
      if (count >= MAX_SETUP_MESSAGES) throw new BadRequestError(`no publish/play within ${MAX_SETUP_MESSAGES} messages`);
      const msg = await this.client.nextMessage();
      if (msg.type === MSG.userControl) {
        if (connect) sequence.push(msg);
        continue;
      }
      if (msg.type !== MSG.commandAmf0 && msg.type !== MSG.commandAmf3) continue; // control, data: consumed
      const cmd = decodeCommand(msg);
      if (!connect) {
        if (cmd.name !== 'connect') continue;
        const tcUrl = tcUrlOf(cmd);
        try {
          if (!tcUrl) throw new Error('connect has no tcUrl');
          streamUrlFromRtmp(tcUrl, 'probe');
        } catch (err) {
          this.client.send(connectRejectedMessage(cmd.tid, errorMessage(err)));
          throw new BadRequestError(`connect rejected: ${errorMessage(err)}`, err);
        }
        this.client.send(windowAckSizeMessage(WINDOW_ACK_SIZE), setPeerBandwidthMessage(WINDOW_ACK_SIZE), connectResultMessage(cmd.tid, this.cid));
        connect = { msg, tcUrl };
        this.log.debug({ tcUrl }, 'RTMP connect');
        continue;
      }
      switch (cmd.name) {
        case 'createStream':
          this.client.send(resultMessage(cmd.tid, CLIENT_STREAM_ID, msg.streamId));
          sequence.push(msg);
          break;
        case 'publish':
        case 'play': {
          const name = cmd.args[0];
          if (typeof name !== 'string' || name === '') throw new BadRequestError(`${cmd.name} without a stream name`);
          this.role = cmd.name === 'publish' ? 'publish' : 'play';
          this.clientStreamId = msg.streamId;
          if (this.role === 'play') this.client.send(onStatusMessage(msg.streamId, STATUS.playReset));
          return { role: this.role, tcUrl: connect.tcUrl, streamName: name, connect: connect.msg, sequence, start: msg, chunkSize: this.client.reader.chunkSize };
        }
        case 'getStreamLength':
        case '_result':
        case '_error':
        case 'deleteStream':
        case 'closeStream':
          break;
        default:
          // releaseStream, FCPublish, FCSubscribe, custom calls: answered here, replayed later.
          if (cmd.tid > 0) this.client.send(resultMessage(cmd.tid, undefined, msg.streamId));
          sequence.push(msg);
      }
    }
  }

  /**
   * Pick → connect → handshake → replay through the shared router: an origin that cannot be
   * reached (refused, silent, broken handshake) is reported and the next one tried; one that
   * answered and refused (or stalled after accepting) fails the session.
   */
  private async connectOrigin(setup: RecordedSetup, streamUrl: string): Promise<{ origin: OriginRecord; originStreamId: number }> {
    this.target = undefined;
    const { target, value } = await this.router.route(streamUrl, async ({ origin, endpoint }) => {
      if (this.closed) throw this.abortError ?? new Error('session closed');
      const link = new RtmpOriginLink(await dialTcp(endpoint, this.timeouts.originConnectMs), SETUP_READER_LIMITS, SETUP_HIGH_WATER);
      this.origin = link;
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        link.close();
      }, this.timeouts.originSetupMs);
      try {
        if (this.closed) throw this.abortError ?? new Error('session closed');
        await link.handshake();
        const r = await link.replay(setup);
        this.log = this.log.child({ origin: origin.id });
        this.log.info({ endpoint: formatHostPort(endpoint.host, endpoint.port), serverId: r.serverId, originStreamId: r.originStreamId }, 'origin accepted the session');
        return r;
      } catch (err) {
        link.close();
        this.origin = undefined;
        if (!timedOut) throw err;
        // A stalled handshake means the origin is not a working RTMP server (another is tried);
        // a stall after it accepted the connection fails this session only.
        throw errorCode(err) === ORIGIN_UNREACHABLE
          ? new OriginConnectTimeoutError(`origin ${origin.id} did not complete the handshake within ${this.timeouts.originSetupMs} ms`)
          : new OriginTimeoutError(`origin ${origin.id} did not accept ${setup.role} within ${this.timeouts.originSetupMs} ms`);
      } finally {
        clearTimeout(timer);
      }
    }, { log: this.log, cancelled: () => this.closed });
    this.target = target;
    return { origin: target.origin, originStreamId: value.originStreamId };
  }

  private startRelay(setup: RecordedSetup, originStreamId: number): void {
    if (this.closed) return;
    const origin = this.origin!.conn;
    const client = this.client;
    // Each side reads the other's chunking unchanged, so each is told the other's chunk size.
    client.setChunkSize(origin.reader.chunkSize);
    origin.setChunkSize(client.reader.chunkSize);
    if (setup.role === 'publish') {
      client.send(
        onStatusMessage(this.clientStreamId, { code: 'NetStream.Publish.Start', description: 'Started publishing stream.' }, 'onFCPublish'),
        onStatusMessage(this.clientStreamId, STATUS.publishStart),
      );
    } else {
      client.send(onStatusMessage(this.clientStreamId, STATUS.playStart));
    }
    if (client.reader.midChunk || origin.reader.midChunk) throw new ChunkError('hand-over inside a chunk');
    const c = this.clientStreamId;
    const mapped = c !== 0 && c !== originStreamId;
    const toOrigin = new ChunkRelay({
      sender: client.reader.snapshot(),
      receiver: origin.writer.written.values(),
      chunkSize: client.reader.chunkSize,
      streamIds: mapped ? new Map([[c, originStreamId]]) : undefined,
      maxChunkStreams: RELAY_MAX_CHUNK_STREAMS,
    });
    const toClient = new ChunkRelay({
      sender: origin.reader.snapshot(),
      receiver: client.writer.written.values(),
      chunkSize: origin.reader.chunkSize,
      streamIds: mapped ? new Map([[originStreamId, c]]) : undefined,
      maxChunkStreams: RELAY_MAX_CHUNK_STREAMS,
    });
    const restClient = client.detach();
    const restOrigin = origin.detach();
    this.relaying = true;
    this.metrics.active.inc({ role: setup.role });
    this.metrics.sessions.inc({ role: setup.role });
    this.metrics.setupSeconds.observe({ role: setup.role }, (performance.now() - this.acceptedAt) / 1000);
    this.log.info('RTMP start streaming');
    this.pipe(client.socket, origin.socket, toOrigin, restClient, 'in');
    this.pipe(origin.socket, client.socket, toClient, restOrigin, 'out');
    // Players expect media from the origin; publishers only send, so their origin is probed.
    this.stall = new StallWatch({ stallMs: this.timeouts.stallMs, expectsMedia: setup.role === 'play', probes: setup.role === 'publish' && this.prober !== undefined });
    const tick = Math.max(50, Math.min(RELAY_CHECK_MS, this.timeouts.idleMs / 4, this.timeouts.stallMs / 4));
    this.idleTimer = setInterval(() => this.checkIdle(), tick);
    this.idleTimer.unref();
  }

  private checkIdle(): void {
    this.flushBytes();
    const moved = this.bytesIn + this.bytesOut;
    const now = performance.now();
    if (moved !== this.lastMoved) {
      this.lastMoved = moved;
      this.lastMoveAt = now;
    } else if (now - this.lastMoveAt >= this.timeouts.idleMs) {
      this.metrics.failures.inc({ reason: IDLE_TIMEOUT });
      this.close(`idle for ${this.timeouts.idleMs} ms`);
      return;
    }
    const verdict = this.stall?.check({ received: this.bytesOut, backlog: this.backlog });
    if (verdict !== undefined) this.onStall(verdict);
  }

  /** A stall verdict: a backlog is conclusive; silence and the publisher's interval ask the prober. */
  private onStall(verdict: StallVerdict): void {
    const target = this.target;
    if (this.closed || this.stalled || target === undefined) return;
    if (verdict === 'not-reading') {
      void this.originHung(`origin stopped reading: writes waited ${this.timeouts.stallMs} ms for drain`);
      return;
    }
    const why = verdict === 'silent' ? `origin sent nothing for ${this.timeouts.stallMs} ms` : 'origin probe';
    if (this.prober === undefined) {
      void this.originHung(why);
      return;
    }
    if (this.probing) return;
    this.probing = true;
    void this.prober.check(target.origin.id, target.endpoint).then((r) => {
      this.probing = false;
      if (!r.alive) void this.originHung(`${why}: ${r.reason ?? 'no answer'}`);
      else if (verdict === 'silent') this.log.debug('origin silent but answers a probe: the stream is quiet, not the origin');
    });
  }

  /** Reports the hung origin (bounded) before the client hears the close, so its reconnect is placed elsewhere. */
  private async originHung(reason: string): Promise<void> {
    const target = this.target;
    if (this.closed || this.stalled || target === undefined) return;
    this.stalled = true;
    this.metrics.failures.inc({ reason: ORIGIN_STALLED });
    this.log.warn({ code: ORIGIN_STALLED, origin: target.origin.id, reason }, 'RTMP origin hung');
    await this.router.reportFailure(this.streamUrl, target.origin.id, reason, this.log);
    this.close(reason, true);
  }


  private flushBytes(): void {
    if (this.bytesIn !== this.flushedIn) this.metrics.bytes.inc({ direction: 'in' }, this.bytesIn - this.flushedIn);
    if (this.bytesOut !== this.flushedOut) this.metrics.bytes.inc({ direction: 'out' }, this.bytesOut - this.flushedOut);
    this.flushedIn = this.bytesIn;
    this.flushedOut = this.bytesOut;
  }

  /** Forwards src → dst through the relay (raw once it needs no rewriting), with backpressure. */
  private pipe(src: Socket, dst: Socket, relay: ChunkRelay, initial: Buffer, dir: 'in' | 'out'): void {
    let raw = false;
    let waiting = false;
    const resume = () => {
      waiting = false;
      if (dir === 'in') this.backlog = 0;
      if (!this.closed) src.resume();
    };
    const forward = (buf: Buffer) => {
      if (dir === 'in') this.bytesIn += buf.length;
      else this.bytesOut += buf.length;
      if (raw) {
        dst.write(buf);
      } else {
        let pieces: Buffer[];
        try {
          pieces = relay.process(buf);
        } catch (err) {
          this.fail(err);
          return;
        }
        if (relay.passThrough) {
          raw = true;
          this.log.debug({ dir }, 'relay needs no rewriting any more: raw forwarding');
        }
        if (pieces.length === 1) {
          dst.write(pieces[0]!);
        } else {
          dst.cork();
          for (const p of pieces) dst.write(p);
          dst.uncork();
        }
      }
      // Any write past 16 KiB arms 'drain'; only past RELAY_HIGH_WATER do we wait for it.
      if (dst.writableLength > RELAY_HIGH_WATER && !waiting) {
        waiting = true;
        if (dir === 'in') this.backlog = ++this.backlogWaits;
        src.pause();
        dst.once('drain', resume);
      }
    };
    const prefix = relay.prefix();
    for (const p of prefix) dst.write(p);
    if (initial.length > 0) forward(initial);
    src.on('data', forward);
    const name = dir === 'in' ? 'client' : 'origin';
    src.on('end', () => this.close(`${name} closed`));
    src.on('close', () => this.close(`${name} closed`));
    src.on('error', (err) => this.close(`${name} error: ${err.message}`));
    if (!waiting) src.resume();
  }

  /** Ends the session after an error: tells an identified client why, then closes. */
  private fail(err: unknown): void {
    if (this.closed) return;
    const code = errorCode(err) ?? 'SRSP_ERR_INTERNAL';
    const reason = errorMessage(err);
    const peerGone = code === PEER_CLOSED;
    this.metrics.failures.inc({ reason: code });
    if (peerGone) this.log.debug({ code, reason }, 'RTMP peer is closed');
    else this.log.warn({ code, reason }, 'RTMP session failed');
    if (this.role && !this.relaying && !this.client.socket.destroyed && !peerGone) {
      // The client hears what kind of failure it was; the reason (origin ids, addresses) stays in the log.
      const answer = rtmpAnswer(err, this.role, RTMP_CODES);
      this.client.send(onStatusMessage(this.clientStreamId, { level: 'error', ...answer }));
      this.close(reason, true);
      return;
    }
    this.close(reason, !this.client.socket.destroyed);
  }

  /** Idempotent; `linger` lets queued bytes (an error status) reach the client first. */
  close(reason: string, linger = false): void {
    if (this.closed) return;
    this.closed = true;
    this.mark?.close();
    this.lease?.release();
    clearTimeout(this.setupTimer);
    clearInterval(this.idleTimer);
    this.flushBytes();
    if (this.relaying && this.role) this.metrics.active.dec({ role: this.role });
    this.log.info({ reason, bytesIn: this.bytesIn, bytesOut: this.bytesOut }, 'RTMP session closed');
    this.origin?.close();
    const socket = this.client.socket;
    if (linger && !socket.destroyed) {
      socket.end();
      setTimeout(() => socket.destroy(), CLOSE_LINGER_MS).unref();
    } else {
      socket.destroy();
    }
    try {
      this.onClosed(this);
    } catch (err) {
      this.log.warn({ err: errorMessage(err) }, 'session close listener failed');
    }
  }
}

function tcUrlOf(cmd: Command): string {
  const o = cmd.object;
  if (o && typeof o === 'object' && !Array.isArray(o) && !(o instanceof Date) && 'tcUrl' in o) {
    const t = (o as Record<string, unknown>).tcUrl;
    if (typeof t === 'string') return t;
  }
  return '';
}
