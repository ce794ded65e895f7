import type { OriginRecord } from '@srs-proxy/balancer';
import { srtRejectReason, SrtReject, type OriginRouter, type StallWatch } from '@srs-proxy/routing';
import { errorCode, errorMessage, markSession, withSpan, type Logger, type SessionMark } from '@srs-proxy/runtime';
import type { PlacementLease } from '@srs-proxy/routing';
import { SocketIdCollisionError, SOCKET_ID_COLLISION } from './errors.ts';
import type { RelayCounters, SessionResult, SrtMetrics } from './metrics.ts';
import { SrtOriginLink } from './origin-link.ts';
import { buildInductionRequest, buildRejection, srtHsOf, withCookie, type Handshake } from './srt/handshake.ts';
import { buildShutdown } from './srt/packet.ts';
import type { StreamIdInfo, SrtMode } from './srt/stream-id.ts';

/** What an SRT session needs from the edge that owns it. */
export interface SrtSessionHost {
  /** Pick, report and fail over (libs/routing), shared by the edge's sessions. */
  readonly router: OriginRouter;
  readonly counters: RelayCounters;
  readonly metrics: SrtMetrics;
  readonly options: SessionOptions;
  /** Microseconds since the listener started, for handshakes we originate. */
  timestamp(): number;
  sendToCaller(msg: Buffer, port: number, address: string): void;
  /** Registers the established session under the origin's socket id; false on a collision. */
  established(session: SrtSession): boolean;
  /** Releases every index entry of the session; called exactly once. */
  released(session: SrtSession, reason: string, rejection: Buffer | undefined): void;
}

export interface SessionOptions {
  handshakeTimeoutMs: number;
  handshakeRetryMs: number;
  connectTimeoutMs: number;
  udpBufferBytes: number;
}

export type SessionState = 'connecting' | 'established' | 'closed';

/** Rejection reasons of the SRT edge's own failures (origin and routing ones are shared). */
const SRT_REJECTS = { [SOCKET_ID_COLLISION]: SrtReject.RESOURCE };

/**
 * One SRT caller relayed to one origin: picks the origin, replays the caller's handshake against
 * it (retrying once on another origin when the first one stays silent), answers the caller with
 * the origin's response so socket ids, sequence numbers and latency are the origin's, then relays
 * datagrams unchanged both ways until shutdown, idle timeout or an origin error.
 */
export class SrtSession {
  state: SessionState = 'connecting';
  /** The origin's socket id, the destination of every caller datagram once established. */
  originSocketId = 0;
  origin: OriginRecord | undefined;
  /** Bumped per datagram from the caller; the idle sweep compares it between ticks. */
  activity = 0;
  /** `activity` as the idle sweep last saw it. */
  seenActivity = 0;
  /** Bumped per datagram from the origin; the edge's stall check reads it (stall.ts). */
  originActivity = 0;
  /** The edge's stall check of this session's origin, made once established. */
  stall: StallWatch | undefined;
  /** The origin was found hung: its report is on the way, then the session closes. */
  stalled = false;
  lastActiveAt: number;
  /** Why the session ended (set once, on close). */
  closeReason: string | undefined;
  /** Conclusion → answer sent, in ms; set when the setup ends. */
  setupMs: number | undefined;
  private link: SrtOriginLink | undefined;
  /** The answer sent to the caller, re-sent verbatim for retransmitted conclusions. */
  private response: Buffer | undefined;
  private readonly startedAt = performance.now();
  /** The session as the edge's announcements count it (publisher or player of its stream). */
  private mark: SessionMark | undefined;
  /** A publisher's claim on its stream's placement, released on close. */
  private lease: PlacementLease | undefined;

  constructor(
    private readonly host: SrtSessionHost,
    readonly log: Logger,
    readonly callerAddress: string,
    readonly callerPort: number,
    /** The caller's conclusion, parsed and raw (replayed byte for byte but for the cookie). */
    readonly conclusion: Handshake,
    private readonly conclusionRaw: Buffer,
    readonly info: StreamIdInfo,
    readonly streamUrl: string,
    now: number,
  ) {
    this.lastActiveAt = now;
  }

  get callerSocketId(): number {
    return this.conclusion.socketId;
  }

  get mode(): SrtMode {
    return this.info.mode;
  }

  /** True while the session holds an origin socket. */
  get linked(): boolean {
    return this.link !== undefined;
  }

  get closed(): boolean {
    return this.state === 'closed';
  }

  /** Sets the session up; never throws (every failure closes this session only). */
  async start(): Promise<void> {
    let result: SessionResult = 'failed';
    try {
      result = await withSpan('srt.session.setup', { 'srt.mode': this.mode, 'srt.stream_url': this.streamUrl, 'srt.caller': `${this.callerAddress}:${this.callerPort}` }, async (span) => {
        const r = await this.setup();
        if (r === 'established' && !this.closed) this.mark = markSession('srt-edge', 'srt', this.streamUrl, this.mode === 'publish' ? 'publish' : 'play');
        // A publisher's edge owns its stream's placement while it relays (placement-leases.ts).
        if (r === 'established' && !this.closed && this.mode === 'publish' && this.origin) this.lease = this.host.router.leases?.add(this.streamUrl, this.origin.id, 'srt');
        span.setAttribute('srt.result', r);
        if (this.origin) span.setAttribute('srt.origin', this.origin.id);
        return r;
      });
    } catch (err) {
      if (this.closed) {
        result = 'aborted';
      } else {
        this.log.warn({ code: errorCode(err), err: errorMessage(err) }, 'SRT session setup failed');
        this.reject(srtRejectReason(err, SRT_REJECTS), `setup failed: ${errorMessage(err)}`);
      }
    } finally {
      this.setupMs = performance.now() - this.startedAt;
      this.host.metrics.setupDone(this.mode, result, this.setupMs / 1000);
    }
  }

  /**
   * Through the shared router: an origin that stays silent or unreachable is reported and the
   * next one tried (PROXY_ORIGIN_ATTEMPTS, each within the handshake timeout); a rejection from the
   * origin is forwarded to the caller as it is.
   */
  private async setup(): Promise<SessionResult> {
    const { value } = await this.host.router.route(this.streamUrl, async ({ origin, endpoint }) => {
      if (this.closed) return 'aborted';
      this.origin = origin;
      return (await this.handshakeWith(endpoint.host, endpoint.port)) ?? 'aborted';
    }, {
      log: this.log,
      cancelled: () => this.closed,
      onFailover: (origin) => {
        this.log.warn({ origin: origin.id }, 'origin did not complete the SRT handshake; failing over');
        this.host.metrics.failover();
      },
    });
    return value;
  }

  /** One attempt against one origin; undefined when the session was closed meanwhile. */
  private async handshakeWith(host: string, port: number): Promise<SessionResult | undefined> {
    const opts = this.host.options;
    const link = new SrtOriginLink(host, port, opts.udpBufferBytes);
    this.link = link;
    try {
      await link.connect(opts.connectTimeoutMs);
      if (this.closed) return undefined;
      const induction = buildInductionRequest({
        socketId: this.conclusion.socketId,
        initialSequence: this.conclusion.initialSequence,
        mtu: this.conclusion.mtu,
        flowWindow: this.conclusion.flowWindow,
        peerIp: this.conclusion.peerIp,
        timestamp: this.host.timestamp(),
      });
      const answer = await link.handshake(induction, this.conclusionRaw, this.conclusion.socketId, {
        retryMs: opts.handshakeRetryMs,
        timeoutMs: opts.handshakeTimeoutMs,
      });
      if (this.closed) return undefined;
      // The caller checks nothing in our cookie's place, but hands back what we gave it: keep ours.
      const toCaller = withCookie(answer.raw, this.conclusion.cookie);
      if (answer.rejected) {
        this.log.info({ origin: this.origin?.id, code: answer.type - 1000 }, 'origin rejected the SRT caller; forwarding the rejection');
        this.response = toCaller;
        this.host.sendToCaller(toCaller, this.callerPort, this.callerAddress);
        this.close(`origin rejected (${answer.type - 1000})`, toCaller);
        return 'rejected';
      }
      this.originSocketId = answer.socketId;
      if (!this.host.established(this)) {
        // The origin considers itself connected: release its side before refusing the caller.
        link.send(buildShutdown(answer.socketId, this.host.timestamp()));
        this.originSocketId = 0;
        throw new SocketIdCollisionError(`origin socket id ${answer.socketId} is already in use for this caller`);
      }
      this.response = toCaller;
      this.state = 'established';
      this.setupMs = performance.now() - this.startedAt;
      link.relay(this.fromOrigin, (err) => this.close(`origin socket error: ${err.message}`));
      this.host.sendToCaller(toCaller, this.callerPort, this.callerAddress);
      let latency: number | undefined;
      try {
        latency = srtHsOf(this.conclusion)?.recvLatencyMs;
      } catch {
        latency = undefined;
      }
      this.log.info(
        {
          origin: this.origin?.id, originAddr: `${host}:${port}`, callerSocket: this.callerSocketId, originSocket: answer.socketId,
          latencyMs: latency, setupMs: Math.round(this.setupMs),
        },
        'SRT session established',
      );
      return 'established';
    } catch (err) {
      link.close();
      if (this.link === link) this.link = undefined;
      throw err;
    }
  }

  /** A retransmitted conclusion from the caller: answer again from cache, or absorb while in flight. */
  conclusionAgain(): void {
    this.host.counters.absorbed++;
    if (this.response !== undefined) this.host.sendToCaller(this.response, this.callerPort, this.callerAddress);
  }

  /** Hot path: a datagram from the caller addressed to the origin's socket id. */
  fromCaller(msg: Buffer): void {
    const c = this.host.counters;
    c.callerPackets++;
    c.callerBytes += msg.length;
    this.activity++;
    this.link!.send(msg);
    // SRT shutdown (control type 5): forwarded, then the session ends.
    if (msg[0] === 0x80 && msg[1] === 0x05) this.close('caller shutdown', undefined, false);
  }

  /** Hot path: a datagram from the origin, always for this caller. */
  private readonly fromOrigin = (msg: Buffer): void => {
    const c = this.host.counters;
    this.originActivity++;
    c.originPackets++;
    c.originBytes += msg.length;
    if (msg[0] === 0x80 && msg[1] === 0 && msg[2] === 0 && msg[3] === 0) {
      // A late duplicate of the origin's conclusion response: the caller gets our cached copy.
      if (this.response !== undefined) this.host.sendToCaller(this.response, this.callerPort, this.callerAddress);
      return;
    }
    this.host.sendToCaller(msg, this.callerPort, this.callerAddress);
    if (msg[0] === 0x80 && msg[1] === 0x05) this.close('origin shutdown', undefined, false);
  };

  /** Answers the caller with an SRT rejection and closes. */
  reject(reason: number, why: string): void {
    const rejection = buildRejection(this.conclusion, reason, this.host.timestamp());
    this.host.sendToCaller(rejection, this.callerPort, this.callerAddress);
    this.close(why, rejection);
  }

  /**
   * Idempotent; releases the origin socket and every index entry, logs once. An established
   * session that ends for any reason but a peer's own shutdown tells both peers with an SRT
   * shutdown, so they reconnect at once instead of waiting out their idle timeout.
   */
  close(reason: string, rejection?: Buffer, notifyPeers = true): void {
    if (this.state === 'closed') return;
    const wasEstablished = this.state === 'established';
    this.state = 'closed';
    this.closeReason = reason;
    this.mark?.close();
    this.lease?.release();
    if (wasEstablished && notifyPeers) {
      const ts = this.host.timestamp();
      this.link?.send(buildShutdown(this.originSocketId, ts));
      this.host.sendToCaller(buildShutdown(this.callerSocketId, ts), this.callerPort, this.callerAddress);
    }
    this.link?.close();
    this.link = undefined;
    this.host.released(this, reason, rejection);
    this.log.info({ reason, established: wasEstablished, callerPackets: this.activity }, 'SRT session closed');
  }
}

