import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { isIP } from 'node:net';
import type { EdgeDeps } from '@srs-proxy/bus';
import { createEdgeRouter, routingSettings, StallWatch, ORIGIN_STALLED, type OriginRouter } from '@srs-proxy/routing';
import { bindUdp, ConfigError, errorMessage, RateLimitedLog, sessionLogger, type ConfigOf, type Drainable } from '@srs-proxy/runtime';
import type { srtEdgeSchema } from './config.ts';
import { SrtHandshakeError, StreamIdError } from './errors.ts';
import { RelayCounters, SrtMetrics, type DropReason } from './metrics.ts';
import { SrtSession, type SrtSessionHost, type SessionOptions } from './session.ts';
import { SessionTable } from './session-table.ts';
import { SynCookies } from './srt/cookie.ts';
import {
  buildInductionResponse, buildRejection, HandshakeType, HS_VERSION_SRT1, parseHandshake, RejectReason, streamIdOf, type Handshake,
} from './srt/handshake.ts';
import { HEADER_SIZE } from './srt/packet.ts';
import { parseStreamId, streamUrlOf, type StreamIdInfo } from './srt/stream-id.ts';

export type SrtEdgeConfig = ConfigOf<typeof srtEdgeSchema>;

/** libsrt resends connection requests every 250 ms; we resend ours to the origin at its pace. */
export const HANDSHAKE_RETRY_MS = 250;
/**
 * A caller that shuts down after its origin was silent this long gave up on the origin (libsrt
 * drops a peer silent for 5 s, racing our PROXY_ORIGIN_STALL_TIMEOUT check): a live origin ACKs
 * within 10 ms and keeps alive every second, so 3 s means three missed keepalives.
 */
export const CALLER_GAVE_UP_SILENCE_MS = 3_000;
/** Period of the idle sweep, the lingering-rejection sweep and the metrics flush. */
export const HOUSEKEEPING_MS = 1000;
/**
 * Socket buffers of 4 MiB hold ~3,000 full datagrams: over half a second of a 50 Mbit/s stream
 * across an event-loop stall (the kernel caps this at net.core.rmem_max/wmem_max).
 */
export const UDP_BUFFER_BYTES = 4 << 20;
/**
 * A rejected caller keeps retransmitting its conclusion until the rejection arrives or its 3 s
 * connect timeout ends; for that long the same rejection is re-sent instead of starting over.
 */
export const REJECTION_LINGER_MS = 3000;
/** Bound on remembered rejections, so rejected callers cannot grow memory. */
export const MAX_LINGERING_REJECTIONS = 10_000;
/** Malformed-datagram warnings: at most this many lines per interval (attackers set the rate). */
export const DROP_LOG_PER_INTERVAL = 10;
export const DROP_LOG_INTERVAL_MS = 10_000;

/** Test seams: clocks and periods. */
export interface SrtEdgeOptions {
  now?: () => number;
  handshakeRetryMs?: number;
  housekeepingMs?: number;
}

/** Sizes of every index the edge keeps; all return to zero when sessions end. */
export interface SrtEdgeStats {
  sessions: number;
  byCaller: number;
  bySocket: number;
  socketBuckets: number;
  perIp: number;
  lingering: number;
  originSockets: number;
}

function literalLookup(address: string, _opts: unknown, cb: (err: Error | null, address: string, family: number) => void): void {
  cb(null, address, isIP(address) === 6 ? 6 : 4);
}

/**
 * The SRT edge (spec section 8): answers callers' inductions itself with a SYN cookie, reads the
 * stream id from the conclusion, and hands the rest to a per-session SrtSession that handshakes
 * with the picked origin asynchronously. The receive loop never waits on an origin or the
 * registry; per relayed datagram it does one table lookup and one send.
 */
export class SrtEdge implements SrtSessionHost, Drainable {
  port = 0;
  readonly counters = new RelayCounters();
  readonly metrics: SrtMetrics;
  readonly options: SessionOptions;
  readonly router: OriginRouter;
  private closed = false;
  private accepting = true;
  private readonly closeRouting: () => void;
  private listener: Socket | undefined;
  private readonly sessions = new Set<SrtSession>();
  private readonly byCaller = new Map<string, SrtSession>();
  private readonly bySocket = new SessionTable<SrtSession>();
  private readonly perIp = new Map<string, number>();
  private readonly lingering = new Map<string, { bytes: Buffer; until: number }>();
  private readonly cookies: SynCookies;
  private readonly dropLog: RateLimitedLog;
  private readonly now: () => number;
  private readonly housekeepingMs: number;
  /** PROXY_ORIGIN_STALL_TIMEOUT. */
  private readonly stallMs: number;
  private readonly startedAt = performance.now();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly deps: EdgeDeps,
    private readonly config: SrtEdgeConfig,
    opts: SrtEdgeOptions = {},
  ) {
    if (config.handshakeTimeout <= 0) throw new ConfigError('PROXY_SRT_HANDSHAKE_TIMEOUT', 'must be greater than 0');
    if (config.idleTimeout <= 0) throw new ConfigError('PROXY_SRT_IDLE_TIMEOUT', 'must be greater than 0');
    this.now = opts.now ?? Date.now;
    this.housekeepingMs = opts.housekeepingMs ?? Math.min(HOUSEKEEPING_MS, Math.max(10, Math.floor(config.idleTimeout / 4)));
    const settings = routingSettings(deps.routing);
    this.stallMs = settings.stallTimeoutMs;
    const routing = createEdgeRouter(deps, { edge: 'srt-edge', protocol: 'srt', now: this.now });
    this.router = routing.router;
    this.closeRouting = routing.close;
    this.options = {
      handshakeTimeoutMs: config.handshakeTimeout,
      handshakeRetryMs: opts.handshakeRetryMs ?? HANDSHAKE_RETRY_MS,
      // The UDP "connect" only resolves the origin's name: bounded by the shared origin connect
      // timeout, but never past one handshake timeout (two attempts fit a caller's 3 s).
      connectTimeoutMs: Math.min(settings.connectTimeoutMs, config.handshakeTimeout),
      udpBufferBytes: UDP_BUFFER_BYTES,
    };
    this.cookies = new SynCookies(config.cookieSecret, this.now);
    this.dropLog = new RateLimitedLog(deps.logger, DROP_LOG_PER_INTERVAL, DROP_LOG_INTERVAL_MS, this.now);
    this.metrics = new SrtMetrics(deps.metrics, this.counters);
  }

  async start(): Promise<void> {
    const host = this.config.listen.host;
    if (host !== undefined) {
      this.port = await this.bind(isIP(host) === 6 ? 'udp6' : 'udp4', host);
    } else {
      // All interfaces: one dual-stack socket (IPv4 callers appear as ::ffff:a.b.c.d), or IPv4
      // alone where the host has no IPv6.
      try {
        this.port = await this.bind('udp6', '::');
      } catch (err) {
        this.deps.logger.info({ err: errorMessage(err) }, 'no IPv6 for the SRT listener; listening on IPv4 only');
        this.port = await this.bind('udp4', '0.0.0.0');
      }
    }
    const listener = this.listener!;
    try {
      listener.setRecvBufferSize(UDP_BUFFER_BYTES);
      listener.setSendBufferSize(UDP_BUFFER_BYTES);
    } catch (err) {
      this.deps.logger.debug({ err: errorMessage(err) }, 'could not enlarge the SRT listener buffers');
    }
    this.timer = setInterval(() => this.housekeeping(), this.housekeepingMs);
    this.timer.unref();
    this.deps.logger.info({ port: this.port, maxSessions: this.config.maxSessions }, 'SRT listener ready');
  }

  private async bind(type: 'udp4' | 'udp6', address: string): Promise<number> {
    const listener = createSocket({ type, ipv6Only: false, lookup: literalLookup as never });
    listener.on('message', this.onMessage);
    listener.on('error', (err) => this.dropLog.warn({ err: errorMessage(err) }, 'SRT listener socket error'));
    try {
      const port = await bindUdp(listener, { host: address, port: this.config.listen.port });
      this.listener = listener;
      return port;
    } catch (err) {
      listener.close();
      throw err;
    }
  }

  get activeSessions(): number {
    return this.sessions.size;
  }

  /**
   * A drain: new callers are rejected (overload, so they retry another replica) while live
   * sessions, and the handshakes already concluded, go on; the socket stays open for them.
   */
  stopAccepting(): void {
    this.accepting = false;
  }

  async close(reason = 'edge closing'): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.closeRouting();
    for (const s of [...this.sessions]) s.close(reason);
    this.lingering.clear();
    const listener = this.listener;
    this.listener = undefined;
    if (listener) await new Promise<void>((resolve) => listener.close(() => resolve()));
    this.metrics.flush();
    this.deps.logger.info({ reason }, 'SRT listener closed');
  }

  stats(): SrtEdgeStats {
    let originSockets = 0;
    for (const s of this.sessions) if (s.linked) originSockets++;
    return {
      sessions: this.sessions.size,
      byCaller: this.byCaller.size,
      bySocket: this.bySocket.size,
      socketBuckets: this.bySocket.bucketCount,
      perIp: this.perIp.size,
      lingering: this.lingering.size,
      originSockets,
    };
  }

  /** The open sessions (tests and debugging). */
  list(): readonly SrtSession[] {
    return [...this.sessions];
  }

  // ---- receive loop -------------------------------------------------------------------------

  private readonly onMessage = (msg: Buffer, rinfo: RemoteInfo): void => {
    try {
      if (msg.length < HEADER_SIZE) return this.drop('short', rinfo);
      const dst = msg.readUInt32BE(12);
      if (dst !== 0) {
        const s = this.bySocket.get(dst, rinfo.port, rinfo.address);
        if (s !== undefined) return s.fromCaller(msg);
      }
      if (msg[0] === 0x80 && msg[1] === 0 && msg[2] === 0 && msg[3] === 0) return this.onHandshake(msg, rinfo);
      this.drop('unknown-session', rinfo);
    } catch (err) {
      this.drop('internal', rinfo, errorMessage(err));
    }
  };

  private drop(reason: DropReason, rinfo: RemoteInfo, detail?: string): void {
    this.counters.drop(reason);
    this.dropLog.warn({ reason, from: `${rinfo.address}:${rinfo.port}`, detail }, 'dropped SRT datagram');
  }

  private onHandshake(msg: Buffer, rinfo: RemoteInfo): void {
    let hs: Handshake;
    try {
      hs = parseHandshake(msg);
    } catch (err) {
      if (err instanceof SrtHandshakeError) return this.drop(err.fault, rinfo, err.message);
      throw err;
    }
    if (hs.type === HandshakeType.INDUCTION) {
      // Stateless: the cookie is all we "remember" of this caller until its conclusion.
      this.counters.inductions++;
      const cookie = this.cookies.make(rinfo.address, rinfo.port);
      this.sendToCaller(buildInductionResponse(hs, cookie, this.timestamp()), rinfo.port, rinfo.address);
      return;
    }
    if (hs.type !== HandshakeType.CONCLUSION) return this.drop('unexpected-handshake', rinfo, `handshake type ${hs.type}`);
    if (!this.cookies.verify(rinfo.address, rinfo.port, hs.cookie)) return this.drop('bad-cookie', rinfo);

    const key = callerKey(rinfo.address, rinfo.port, hs.socketId);
    const existing = this.byCaller.get(key);
    if (existing !== undefined) return existing.conclusionAgain();
    const linger = this.lingering.get(key);
    if (linger !== undefined) {
      this.counters.absorbed++;
      this.sendToCaller(linger.bytes, rinfo.port, rinfo.address);
      return;
    }
    if (hs.version < HS_VERSION_SRT1) {
      this.drop('unsupported-version', rinfo, `HSv${hs.version} caller`);
      return this.rejectCaller(hs, rinfo, key, RejectReason.VERSION);
    }

    let info: StreamIdInfo;
    let streamUrl: string;
    try {
      info = parseStreamId(streamIdOf(hs));
      streamUrl = streamUrlOf(info);
    } catch (err) {
      if (err instanceof SrtHandshakeError) this.drop(err.fault, rinfo, err.message);
      else if (err instanceof StreamIdError) this.drop('bad-stream-id', rinfo, err.message);
      else throw err;
      return this.rejectCaller(hs, rinfo, key, RejectReason.BAD_REQUEST);
    }

    if (!this.accepting) {
      this.drop('draining', rinfo);
      return this.rejectCaller(hs, rinfo, key, RejectReason.OVERLOAD);
    }
    const fromIp = this.perIp.get(rinfo.address) ?? 0;
    if (this.sessions.size >= this.config.maxSessions || fromIp >= this.config.maxSessionsPerIp) {
      this.drop('session-limit', rinfo, `${this.sessions.size} sessions, ${fromIp} from this address`);
      return this.rejectCaller(hs, rinfo, key, RejectReason.OVERLOAD);
    }

    const log = sessionLogger(this.deps.logger, { proto: 'srt', caller: `${rinfo.address}:${rinfo.port}`, stream: streamUrl, mode: info.mode });
    const session = new SrtSession(this, log, rinfo.address, rinfo.port, hs, msg, info, streamUrl, this.now());
    this.sessions.add(session);
    this.byCaller.set(key, session);
    this.perIp.set(rinfo.address, fromIp + 1);
    this.counters.sessionsOpened++;
    this.metrics.opened(info.mode);
    log.info({ callerSocket: hs.socketId, user: info.params.find(([k]) => k === 'u')?.[1] }, 'SRT conclusion received; connecting to origin');
    void session.start();
  }

  private rejectCaller(hs: Handshake, rinfo: RemoteInfo, key: string, reason: number): void {
    const bytes = buildRejection(hs, reason, this.timestamp());
    this.sendToCaller(bytes, rinfo.port, rinfo.address);
    this.linger(key, bytes);
  }

  private linger(key: string, bytes: Buffer): void {
    if (this.closed || this.lingering.size >= MAX_LINGERING_REJECTIONS) return;
    this.lingering.set(key, { bytes, until: this.now() + REJECTION_LINGER_MS });
  }

  // ---- SrtSessionHost -----------------------------------------------------------------------

  timestamp(): number {
    return Math.floor((performance.now() - this.startedAt) * 1000) % 0x1_0000_0000;
  }

  sendToCaller(msg: Buffer, port: number, address: string): void {
    this.listener?.send(msg, port, address);
  }

  established(session: SrtSession): boolean {
    if (this.closed || session.closed) return false;
    return this.bySocket.add(session.originSocketId, session);
  }

  released(session: SrtSession, reason: string, rejection: Buffer | undefined): void {
    if (!this.sessions.delete(session)) return;
    if (reason === 'caller shutdown' && !session.stalled && session.origin !== undefined
      && (session.stall?.silentMs(session.originActivity) ?? 0) >= CALLER_GAVE_UP_SILENCE_MS) {
      session.stalled = true;
      const why = `caller gave up after the origin sent nothing for ${Math.round(session.stall!.silentMs(session.originActivity))} ms`;
      session.log.warn({ code: ORIGIN_STALLED, origin: session.origin.id, reason: why }, 'SRT origin hung');
      void this.router.reportFailure(session.streamUrl, session.origin.id, why, session.log);
    }
    const key = callerKey(session.callerAddress, session.callerPort, session.callerSocketId);
    if (this.byCaller.get(key) === session) this.byCaller.delete(key);
    if (session.originSocketId !== 0) this.bySocket.delete(session.originSocketId, session);
    const n = (this.perIp.get(session.callerAddress) ?? 1) - 1;
    if (n <= 0) this.perIp.delete(session.callerAddress);
    else this.perIp.set(session.callerAddress, n);
    this.metrics.closed(session.mode);
    if (rejection !== undefined) this.linger(key, rejection);
  }

  // ---- housekeeping --------------------------------------------------------------------------

  private housekeeping(): void {
    const now = this.now();
    for (const s of this.sessions) {
      if (s.seenActivity !== s.activity) {
        s.seenActivity = s.activity;
        s.lastActiveAt = now;
      } else if (now - s.lastActiveAt >= this.config.idleTimeout) {
        s.close(`idle for ${this.config.idleTimeout} ms`);
        continue;
      }
      if (s.state === 'established') this.checkStall(s);
    }
    for (const [key, l] of this.lingering) if (l.until <= now) this.lingering.delete(key);
    this.metrics.flush();
  }

  /**
   * An established session whose origin sent nothing for PROXY_ORIGIN_STALL_TIMEOUT: conclusive
   * over SRT (no probe), since a live peer ACKs received data every 10 ms and sends a keepalive
   * every second when idle (libsrt itself drops a peer silent for 5 s). A caller that keeps
   * publishing into a hung origin is never idle, so this is what ends its session: the origin is
   * reported, then both peers get an SRT shutdown and the caller reconnects elsewhere.
   */
  private checkStall(s: SrtSession): void {
    if (s.stalled || s.origin === undefined) return;
    s.stall ??= new StallWatch({ stallMs: this.stallMs, expectsMedia: true, probes: false, sendsAlways: true, now: this.now });
    if (s.stall.check({ received: s.originActivity, backlog: 0 }) !== 'silent') return;
    s.stalled = true;
    const origin = s.origin;
    const reason = `origin sent nothing for ${this.stallMs} ms`;
    s.log.warn({ code: ORIGIN_STALLED, origin: origin.id, reason }, 'SRT origin hung');
    void this.router.reportFailure(s.streamUrl, origin.id, reason, s.log).then(() => s.close(reason));
  }
}

function callerKey(address: string, port: number, socketId: number): string {
  return `${address}|${port}|${socketId}`;
}
