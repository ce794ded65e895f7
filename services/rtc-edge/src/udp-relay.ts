import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { isIP } from 'node:net';
import { BoundedMap, type RtcSession } from '@srs-proxy/balancer';
import type { RegistryClient } from '@srs-proxy/bus';
import { RateLimitedLog, bindUdp, errorMessage, sessionLogger, tracer, type ListenAddress, type Logger } from '@srs-proxy/runtime';
import { classifyDatagram, PacketKind } from './demux.ts';
import { parseStun, isBindingRequest } from './stun.ts';
import { DropReason, DROP_REASON_NAMES, RelayCounters } from './metrics.ts';
import { RelaySession, MAX_BINDINGS_PER_SESSION, type RelaySessionHost } from './relay-session.ts';

/**
 * A session learned at signalling waits this long for its first Binding request: the registry's
 * RTC TTL (upstream's 120 s). A client that has not started ICE by then has given up.
 */
export const KNOWN_SESSION_TTL_MS = 120_000;
/** Signalled-but-not-yet-relayed sessions kept locally (~300 B each); stops a POST flood from growing memory. */
export const MAX_KNOWN_SESSIONS = 50_000;
/**
 * A ufrag the registry did not know is not asked about again for this long: a stray client
 * retransmits its check every 50-500 ms and must not cost a registry round trip each time. Short,
 * because the signalling of a new session may race its first check on another replica.
 */
export const UNKNOWN_UFRAG_TTL_MS = 2_000;
/** Negative-cache entries kept; random usernames from a flood evict each other, not memory. */
export const MAX_UNKNOWN_UFRAGS = 10_000;
/** Registry lookups in flight at once; past it new ufrags are dropped (ICE retransmits). */
export const MAX_INFLIGHT_LOOKUPS = 64;
/** Resolution of idle timeouts and cache expiry; the hot path reads a clock refreshed this often. */
export const MAX_SWEEP_INTERVAL_MS = 1_000;
/**
 * Kernel buffers of the shared listener: at 50k pps of 1200-byte datagrams, 4 MiB absorbs a
 * ~70 ms stall of the event loop. The kernel caps it at net.core.rmem_max / wmem_max.
 */
export const LISTENER_BUFFER_BYTES = 4 << 20;
/** Rate-limited warnings about dropped datagrams: at most this many per interval. */
export const DROP_LOG_PER_INTERVAL = 10;
export const DROP_LOG_INTERVAL_MS = 10_000;

export interface RelayOptions {
  /** PROXY_RTC_IDLE_TIMEOUT */
  idleTimeoutMs: number;
  /** PROXY_RTC_MAX_SESSIONS */
  maxSessions: number;
  /** PROXY_RTC_MAX_SESSIONS_PER_IP */
  maxSessionsPerIp: number;
  now?: () => number;
}

interface PendingLookup {
  msg: Buffer;
  address: string;
  port: number;
}

// Every destination of the listener is an IP literal taken from a datagram's sender, so the
// listener skips dns.lookup (and its nextTick) on every send.
function literalLookup(address: string, _opts: unknown, cb: (err: Error | null, address: string, family: number) => void): void {
  cb(null, address, isIP(address) === 6 ? 6 : 4);
}

/**
 * The WebRTC media plane (spec 7.3): one UDP listener shared by every session. A STUN Binding
 * request's USERNAME (`<answer ufrag>:<offer ufrag>`) finds the session, from the local cache
 * filled at signalling or from the registry, and binds the sender's address to it; every other
 * datagram is routed by sender address alone. Per datagram the hot path does two map lookups and
 * one send: no registry call, no allocation of its own.
 */
export class UdpRelay implements RelaySessionHost {
  readonly counters = new RelayCounters();
  listener: Socket;
  clock: number;
  port = 0;
  private closed = false;
  private readonly sessions = new Map<string, RelaySession>();
  private readonly bindings = new Map<string, Map<number, RelaySession>>();
  private readonly perIp = new Map<string, number>();
  private readonly known: BoundedMap<string, RtcSession>;
  private readonly unknown = new BoundedMap<string, true>(UNKNOWN_UFRAG_TTL_MS, MAX_UNKNOWN_UFRAGS);
  private readonly lookups = new Map<string, PendingLookup>();
  private readonly dropLog: RateLimitedLog;
  private sweepTimer: NodeJS.Timeout | undefined;
  private readonly now: () => number;
  /** Called when a session closes (metrics). */
  onSessionClosed: ((session: RelaySession, reason: string) => void) | undefined;
  onSessionOpened: ((session: RelaySession) => void) | undefined;

  constructor(
    private readonly deps: { logger: Logger; registry: RegistryClient },
    private readonly opts: RelayOptions,
    private readonly family: 'udp4' | 'udp6',
  ) {
    this.now = opts.now ?? Date.now;
    this.clock = this.now();
    this.known = new BoundedMap(KNOWN_SESSION_TTL_MS, MAX_KNOWN_SESSIONS);
    this.dropLog = new RateLimitedLog(deps.logger, DROP_LOG_PER_INTERVAL, DROP_LOG_INTERVAL_MS, this.now);
    this.listener = this.makeListener(family);
  }

  private makeListener(family: 'udp4' | 'udp6'): Socket {
    const s = createSocket({ type: family, lookup: literalLookup as never });
    s.on('message', this.onMessage);
    s.on('error', (err) => this.deps.logger.warn({ err }, 'WebRTC UDP listener error'));
    return s;
  }

  async bind(addr: ListenAddress): Promise<number> {
    try {
      this.port = await bindUdp(this.listener, addr);
    } catch (err) {
      // All interfaces requested on a host without IPv6: listen on IPv4 only.
      const code = (err as NodeJS.ErrnoException).code;
      if (this.family !== 'udp6' || addr.host !== undefined || (code !== 'EAFNOSUPPORT' && code !== 'EADDRNOTAVAIL')) throw err;
      this.listener.close();
      this.listener = this.makeListener('udp4');
      this.port = await bindUdp(this.listener, addr);
    }
    try {
      this.listener.setRecvBufferSize(LISTENER_BUFFER_BYTES);
      this.listener.setSendBufferSize(LISTENER_BUFFER_BYTES);
    } catch (err) {
      this.deps.logger.debug({ err }, 'could not enlarge the WebRTC listener buffers');
    }
    const interval = Math.min(MAX_SWEEP_INTERVAL_MS, Math.max(10, Math.floor(this.opts.idleTimeoutMs / 4)));
    this.sweepTimer = setInterval(() => this.sweep(), interval);
    this.sweepTimer.unref();
    return this.port;
  }

  /** A session just signalled through this edge: its first Binding request needs no registry call. */
  remember(session: RtcSession): void {
    this.unknown.delete(session.ufrag);
    this.known.set(session.ufrag, session, this.now());
  }

  get sessionCount(): number {
    return this.sessions.size;
  }

  /** Sizes of every index, for tests and debugging: all must return to zero when sessions end. */
  sizes(): { sessions: number; bindings: number; perIp: number; known: number; unknown: number; lookups: number } {
    let bindings = 0;
    for (const m of this.bindings.values()) bindings += m.size;
    return {
      sessions: this.sessions.size,
      bindings,
      perIp: this.perIp.size,
      known: this.known.size,
      unknown: this.unknown.size,
      lookups: this.lookups.size,
    };
  }

  session(ufrag: string): RelaySession | undefined {
    return this.sessions.get(ufrag);
  }

  /** Ends a relayed session now (its WHIP/WHEP resource was deleted); false if none is open here. */
  end(ufrag: string, reason: string): boolean {
    const s = this.sessions.get(ufrag);
    if (s === undefined) return false;
    s.close(reason);
    return true;
  }

  private readonly onMessage = (msg: Buffer, rinfo: RemoteInfo): void => {
    const c = this.counters;
    c.clientDatagrams++;
    c.clientBytes += msg.length;
    try {
      const kind = classifyDatagram(msg);
      if (kind === PacketKind.STUN) {
        this.onStun(msg, rinfo.address, rinfo.port);
        return;
      }
      if (kind !== PacketKind.DTLS && kind !== PacketKind.RTP) {
        this.drop(DropReason.UNSUPPORTED, rinfo.address, rinfo.port);
        return;
      }
      const s = this.bindings.get(rinfo.address)?.get(rinfo.port);
      if (s === undefined) {
        this.drop(DropReason.UNKNOWN_ADDRESS, rinfo.address, rinfo.port);
        return;
      }
      if (!s.send(msg, rinfo.address, rinfo.port)) this.drop(DropReason.QUEUE_FULL, rinfo.address, rinfo.port);
    } catch (err) {
      // Nothing a client sends may escape the handler; this is a bug, so it is logged loudly.
      this.deps.logger.error({ err, from: `${rinfo.address}:${rinfo.port}` }, 'WebRTC datagram handler failed');
    }
  };

  private onStun(msg: Buffer, address: string, port: number): void {
    const r = parseStun(msg);
    if (!r.ok) {
      this.drop(DropReason.MALFORMED_STUN, address, port, r.reason);
      return;
    }
    const bound = this.bindings.get(address)?.get(port);
    const m = r.message;
    if (!isBindingRequest(m)) {
      // Responses to the origin's own checks and indications follow the address binding.
      if (bound === undefined) this.drop(DropReason.UNKNOWN_ADDRESS, address, port);
      else if (!bound.send(msg, address, port)) this.drop(DropReason.QUEUE_FULL, address, port);
      return;
    }
    const username = m.username;
    if (username === undefined) {
      this.drop(DropReason.NO_USERNAME, address, port);
      return;
    }
    // The ufrag wins over an old address binding (upstream routed by address first: a client
    // reusing a local port for a new session reached its old one).
    let s = bound !== undefined && bound.record.ufrag === username ? bound : this.sessions.get(username);
    if (s === undefined) {
      const record = this.known.peek(username, this.now());
      if (record !== undefined) {
        s = this.open(record, address, port);
      } else {
        this.lookup(username, msg, address, port);
        return;
      }
    }
    if (s === undefined) return;
    if (s !== bound) this.bindAddress(s, address, port);
    s.noteStunRequest(msg, address, port);
    if (!s.send(msg, address, port)) this.drop(DropReason.QUEUE_FULL, address, port);
  }

  private lookup(username: string, msg: Buffer, address: string, port: number): void {
    if (this.unknown.peek(username, this.now()) !== undefined) {
      this.drop(DropReason.UNKNOWN_UFRAG, address, port, username);
      return;
    }
    const pending = this.lookups.get(username);
    if (pending !== undefined) {
      // A retransmit while the registry answers: the newest datagram is replayed instead of
      // the one it supersedes.
      this.counters.drops[DropReason.LOOKUP_BUSY]!++;
      pending.msg = msg;
      pending.address = address;
      pending.port = port;
      return;
    }
    if (this.lookups.size >= MAX_INFLIGHT_LOOKUPS) {
      this.drop(DropReason.LOOKUP_BUSY, address, port);
      return;
    }
    const entry: PendingLookup = { msg, address, port };
    this.lookups.set(username, entry);
    this.deps.registry.rtcLoad(username).then(
      (record) => {
        this.lookups.delete(username);
        if (this.closed) return;
        if (record === undefined || record.ufrag !== username) {
          this.unknown.set(username, true, this.now());
          this.drop(DropReason.UNKNOWN_UFRAG, entry.address, entry.port, username);
          return;
        }
        this.deps.logger.info({ ufrag: username, stream: record.stream_url }, `Create WebRTC connection by ufrag=${username}, stream=${record.stream_url}`);
        // Cached like a locally signalled session, so the replay (and a re-open after an idle
        // close) needs no second lookup.
        this.known.set(username, record, this.now());
        try {
          this.onStun(entry.msg, entry.address, entry.port);
        } catch (err) {
          this.deps.logger.error({ err }, 'WebRTC datagram replay failed');
        }
      },
      (err: unknown) => {
        this.lookups.delete(username);
        if (this.closed) return;
        this.drop(DropReason.REGISTRY_ERROR, entry.address, entry.port, errorMessage(err));
      },
    );
  }

  private open(record: RtcSession, address: string, port: number): RelaySession | undefined {
    if (this.sessions.size >= this.opts.maxSessions) {
      this.drop(DropReason.SESSION_CAP, address, port, record.ufrag);
      return undefined;
    }
    const charged = this.perIp.get(address) ?? 0;
    if (charged >= this.opts.maxSessionsPerIp) {
      this.drop(DropReason.IP_CAP, address, port, record.ufrag);
      return undefined;
    }
    this.perIp.set(address, charged + 1);
    this.clock = this.now();
    const log = sessionLogger(this.deps.logger, { proto: 'webrtc', ufrag: record.ufrag, stream: record.stream_url, origin: record.origin_id });
    const span = tracer().startSpan('rtc.relay.first-binding', {
      attributes: { 'srsp.stream': record.stream_url, 'srsp.origin': record.origin_id, 'srsp.rtc.ufrag': record.ufrag },
    });
    const s = new RelaySession(record, address, address, port, this, log, span);
    this.sessions.set(record.ufrag, s);
    this.counters.sessions = this.sessions.size;
    log.info({ client: `${address}:${port}`, upstream: `${record.rtc_host}:${record.rtc_port}` }, 'WebRTC session relayed');
    this.onSessionOpened?.(s);
    return s;
  }

  private bindAddress(s: RelaySession, address: string, port: number): void {
    let byPort = this.bindings.get(address);
    if (byPort === undefined) {
      byPort = new Map();
      this.bindings.set(address, byPort);
    }
    const previous = byPort.get(port);
    if (previous === s) return;
    if (previous !== undefined) removeAddress(previous, address, port);
    byPort.set(port, s);
    s.addresses.push({ address, port });
    if (s.addresses.length > MAX_BINDINGS_PER_SESSION) {
      const oldest = s.addresses.shift()!;
      this.unbind(s, oldest.address, oldest.port);
    }
    if (previous !== undefined) s.log.info({ client: `${address}:${port}` }, 'client address re-bound from another session');
  }

  private unbind(s: RelaySession, address: string, port: number): void {
    const byPort = this.bindings.get(address);
    if (byPort === undefined || byPort.get(port) !== s) return;
    byPort.delete(port);
    if (byPort.size === 0) this.bindings.delete(address);
  }

  /** RelaySessionHost: a session closed itself; drop every index entry that points at it. */
  sessionClosed(s: RelaySession, reason: string): void {
    if (this.sessions.get(s.record.ufrag) === s) this.sessions.delete(s.record.ufrag);
    for (const a of s.addresses) this.unbind(s, a.address, a.port);
    s.addresses.length = 0;
    const n = (this.perIp.get(s.chargedIp) ?? 1) - 1;
    if (n <= 0) this.perIp.delete(s.chargedIp);
    else this.perIp.set(s.chargedIp, n);
    this.counters.sessions = this.sessions.size;
    this.onSessionClosed?.(s, reason);
  }

  private drop(reason: DropReason, address: string, port: number, detail?: string): void {
    this.counters.drops[reason]!++;
    this.dropLog.warn({ reason: DROP_REASON_NAMES[reason], from: `${address}:${port}`, detail }, 'dropped WebRTC datagram');
  }

  /** Refreshes the coarse clock, closes idle sessions, expires cache entries. */
  sweep(): void {
    const now = this.now();
    this.clock = now;
    for (const s of this.sessions.values()) {
      if (now - s.lastActive >= this.opts.idleTimeoutMs) s.close(`idle for ${this.opts.idleTimeoutMs} ms`);
    }
    this.known.sweep(now);
    this.unknown.sweep(now);
  }

  /** Idempotent: closes every session, then the listener. */
  async close(reason = 'edge closed'): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    for (const s of [...this.sessions.values()]) s.close(reason);
    this.known.clear();
    this.unknown.clear();
    this.lookups.clear();
    await new Promise<void>((resolve) => {
      try {
        this.listener.close(() => resolve());
      } catch {
        resolve();
      }
    });
  }
}

function removeAddress(s: RelaySession, address: string, port: number): void {
  const i = s.addresses.findIndex((a) => a.address === address && a.port === port);
  if (i >= 0) s.addresses.splice(i, 1);
}
