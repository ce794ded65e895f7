import { createSocket, type Socket } from 'node:dgram';
import { isIP } from 'node:net';
import type { RtcSession } from '@srs-proxy/balancer';
import type { Logger, Span } from '@srs-proxy/runtime';
import type { RelayCounters } from './metrics.ts';

/**
 * Datagrams kept while the upstream socket connects (one bind, and a DNS lookup only when the
 * origin registered a host name): ICE sends a few checks and DTLS one ClientHello flight in that
 * time; more than this is a flood and is dropped (the client retransmits).
 */
export const MAX_QUEUED_BEFORE_CONNECT = 16;
/**
 * Client addresses one session may be reached from: a client's host, server-reflexive and
 * re-bound (NAT rebinding, network change) addresses. Past it the oldest is unbound.
 */
export const MAX_BINDINGS_PER_SESSION = 8;
/**
 * Outstanding Binding requests remembered per session, so the origin's response returns to the
 * address that sent the request even while the client checks several candidate pairs at once.
 */
export const STUN_ROUTES_PER_SESSION = 8;

/** What a session needs from the relay that owns it. */
export interface RelaySessionHost {
  readonly listener: Socket;
  readonly counters: RelayCounters;
  /** Coarse clock (ms), refreshed by the relay's sweep. */
  readonly clock: number;
  sessionClosed(session: RelaySession, reason: string): void;
}

interface StunRoute {
  id: string;
  address: string;
  port: number;
}

/**
 * One relayed WebRTC session: exactly one upstream UDP socket connected to the origin's RTC
 * port, and exactly one receive handler on it (attached in the constructor). Client datagrams go
 * out of that socket unchanged; the origin's datagrams go back through the shared listener to the
 * client's latest address.
 */
export class RelaySession {
  closed = false;
  clientAddress: string;
  clientPort: number;
  lastActive: number;
  /** Client addresses bound to this session, oldest first (the relay owns the index). */
  readonly addresses: Array<{ address: string; port: number }> = [];
  private readonly upstream: Socket;
  private connected = false;
  private queue: Buffer[] = [];
  private readonly stunRoutes: StunRoute[] = [];
  private stunRouteNext = 0;
  private firstReply: Span | undefined;
  fromClient = 0;
  fromOrigin = 0;

  constructor(
    readonly record: RtcSession,
    /** The IP charged against PROXY_RTC_MAX_SESSIONS_PER_IP. */
    readonly chargedIp: string,
    address: string,
    port: number,
    private readonly host: RelaySessionHost,
    readonly log: Logger,
    firstReplySpan: Span | undefined,
  ) {
    this.clientAddress = address;
    this.clientPort = port;
    this.lastActive = host.clock;
    this.firstReply = firstReplySpan;
    this.upstream = createSocket(isIP(record.rtc_host) === 6 ? 'udp6' : 'udp4');
    this.upstream.on('message', this.onOrigin);
    this.upstream.on('error', (err) => this.close(`upstream socket error: ${err.message}`));
    this.upstream.connect(record.rtc_port, record.rtc_host, (err?: Error) => {
      if (err) {
        this.close(`connect to origin failed: ${err.message}`);
        return;
      }
      if (this.closed) return;
      this.connected = true;
      const queued = this.queue;
      this.queue = [];
      for (const msg of queued) this.upstream.send(msg);
    });
  }

  /** Receive handlers on the upstream socket: exactly one for the session's whole life. */
  upstreamHandlers(): number {
    return this.upstream.listenerCount('message');
  }

  /** The local port of the upstream socket (what the origin sees), once connected. */
  upstreamPort(): number | undefined {
    try {
      return this.upstream.address().port;
    } catch {
      return undefined;
    }
  }

  /**
   * A client datagram for this session. The latest sender becomes the address the origin's
   * datagrams go to (ICE nomination and NAT rebinding move it). Returns false when dropped.
   */
  send(msg: Buffer, address: string, port: number): boolean {
    this.lastActive = this.host.clock;
    this.fromClient++;
    if (port !== this.clientPort || address !== this.clientAddress) {
      this.clientAddress = address;
      this.clientPort = port;
    }
    if (this.connected) {
      this.upstream.send(msg);
      return true;
    }
    if (this.queue.length >= MAX_QUEUED_BEFORE_CONNECT) return false;
    this.queue.push(msg);
    return true;
  }

  /** Remembers which client address sent a Binding request, by transaction id. */
  noteStunRequest(msg: Buffer, address: string, port: number): void {
    const route = { id: msg.toString('latin1', 8, 20), address, port };
    if (this.stunRoutes.length < STUN_ROUTES_PER_SESSION) this.stunRoutes.push(route);
    else this.stunRoutes[this.stunRouteNext] = route;
    this.stunRouteNext = (this.stunRouteNext + 1) % STUN_ROUTES_PER_SESSION;
  }

  private readonly onOrigin = (msg: Buffer): void => {
    if (this.closed) return;
    const c = this.host.counters;
    c.originDatagrams++;
    c.originBytes += msg.length;
    this.fromOrigin++;
    if (this.firstReply !== undefined) {
      this.firstReply.end();
      this.firstReply = undefined;
      this.log.debug('first datagram from origin');
    }
    let address = this.clientAddress;
    let port = this.clientPort;
    // A Binding success/error response (first byte 0x01: class bit C1 set) goes back to whoever sent the request.
    if (msg.length >= 20 && msg[0] === 0x01 && this.stunRoutes.length > 0) {
      const id = msg.toString('latin1', 8, 20);
      for (const r of this.stunRoutes) {
        if (r.id === id) {
          address = r.address;
          port = r.port;
          break;
        }
      }
    }
    this.host.listener.send(msg, port, address);
  };

  /** Idempotent: closes the upstream socket and tells the relay to drop every index entry. */
  close(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.queue = [];
    this.stunRoutes.length = 0;
    try {
      this.upstream.close();
    } catch {
      /* already closed by an error */
    }
    if (this.firstReply !== undefined) {
      this.firstReply.setAttribute('srsp.rtc.close_reason', reason);
      this.firstReply.end();
      this.firstReply = undefined;
    }
    this.log.info({ reason, fromClient: this.fromClient, fromOrigin: this.fromOrigin }, `WebRTC session closed: ${reason}`);
    this.host.sessionClosed(this, reason);
  }
}
