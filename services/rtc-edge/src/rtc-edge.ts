import { isIP } from 'node:net';
import type { ConfigOf, Drainable } from '@srs-proxy/runtime';
import type { EdgeDeps } from '@srs-proxy/bus';
import { BoundedMap, type RtcSession } from '@srs-proxy/balancer';
import { createEdgeRouter, type PlacementLease } from '@srs-proxy/routing';
import type { rtcEdgeSchema } from './config.ts';
import { RtcMetrics } from './metrics.ts';
import { KNOWN_SESSION_TTL_MS, MAX_KNOWN_SESSIONS, UdpRelay } from './udp-relay.ts';
import { RtcSignalling } from './signalling.ts';

export type RtcEdgeConfig = ConfigOf<typeof rtcEdgeSchema>;

/**
 * The rtc-edge service: WHIP/WHEP signalling on PROXY_HTTP_API and the WebRTC UDP relay on
 * PROXY_WEBRTC_SERVER. The proxy never terminates WebRTC: it forwards the signalling, rewrites
 * the answer's candidates to itself, and relays ICE/DTLS/SRTP datagrams opaquely.
 */
export class RtcEdge implements Drainable {
  private closed = false;
  /** Bound UDP media port (also written into answers). */
  port = 0;
  /** Bound HTTP API port. */
  apiPort = 0;
  readonly relay: UdpRelay;
  private readonly signalling: RtcSignalling;
  private readonly metrics: RtcMetrics;
  private readonly closeRouting: () => void;
  /** Publishers signalled here whose relay session has not opened yet (ufrag → session); they expire like the relay's. */
  private readonly publishers = new BoundedMap<string, RtcSession>(KNOWN_SESSION_TTL_MS, MAX_KNOWN_SESSIONS);
  /** Placement leases of the publishers relayed here, by ufrag, released when their relay session closes. */
  private readonly leases = new Map<string, PlacementLease>();

  constructor(
    private readonly deps: EdgeDeps,
    private readonly config: RtcEdgeConfig,
    /** Tests inject a clock to drive idle timeouts. */
    now?: () => number,
  ) {
    const host = config.listen.host;
    // No host: all interfaces, IPv4 and IPv6 (dual-stack), as the Go proxy listens.
    const family = host !== undefined && isIP(host) === 4 ? 'udp4' : 'udp6';
    this.relay = new UdpRelay(
      { logger: deps.logger, registry: deps.registry },
      { idleTimeoutMs: config.idleTimeout, maxSessions: config.maxSessions, maxSessionsPerIp: config.maxSessionsPerIp, now },
      family,
    );
    this.metrics = new RtcMetrics(deps.metrics, this.relay.counters);
    const routing = createEdgeRouter(deps, { edge: 'rtc-edge', protocol: 'api' });
    const clock = now ?? Date.now;
    this.relay.onSessionOpened = (session) => {
      this.metrics.sessionsOpened.inc();
      // A WHIP publisher's media flows to its origin: this edge owns the stream's placement while it lasts.
      const ufrag = session.record.ufrag;
      const publisher = this.publishers.peek(ufrag, clock());
      if (publisher === undefined) return;
      this.publishers.delete(ufrag);
      const lease = routing.router.leases?.add(publisher.stream_url, publisher.origin_id, 'rtc');
      if (lease !== undefined) this.leases.set(ufrag, lease);
    };
    this.relay.onSessionClosed = (session, reason) => {
      this.metrics.sessionsClosed.inc({ reason: closeReasonLabel(reason) });
      const ufrag = session.record.ufrag;
      this.leases.get(ufrag)?.release();
      this.leases.delete(ufrag);
    };
    this.closeRouting = routing.close;
    this.signalling = new RtcSignalling(
      {
        logger: deps.logger,
        registry: deps.registry,
        router: routing.router,
        metrics: this.metrics,
        relay: this.relay,
        onPublisher: (session) => this.publishers.set(session.ufrag, session, clock()),
      },
      { udpPort: () => this.port, candidateIp: config.candidate },
    );
  }

  async start(): Promise<void> {
    try {
      this.port = await this.relay.bind(this.config.listen);
      this.apiPort = await this.signalling.listen(this.config.apiListen);
    } catch (err) {
      // The caller never gets a started edge to close: release whatever was bound.
      await this.close('start failed');
      throw err;
    }
    this.deps.logger.info(
      { webrtc: this.port, api: this.apiPort, candidate: this.config.candidate ?? '(origin IP)' },
      `WebRTC listeners ready: API tcp ${this.apiPort}, media udp ${this.port}`,
    );
  }

  get activeSessions(): number {
    return this.relay.sessionCount;
  }

  /**
   * A drain: the WHIP/WHEP listener closes (requests in flight finish); the UDP relay goes on for
   * live sessions and for sessions signalled just before, whose first binding is still to come.
   */
  stopAccepting(): void {
    this.signalling.stopAccepting();
  }

  async close(reason = 'edge closed'): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.closeRouting();
    this.publishers.clear();
    this.leases.clear();
    await this.signalling.close();
    await this.relay.close(reason);
    this.metrics.release();
  }
}

/** Bounded label values for the sessions-closed counter (reasons carry free text). */
function closeReasonLabel(reason: string): string {
  if (reason.startsWith('idle')) return 'idle';
  if (reason.startsWith('upstream')) return 'upstream_error';
  if (reason.startsWith('connect')) return 'connect_failed';
  return 'shutdown';
}
