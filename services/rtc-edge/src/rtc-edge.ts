import { isIP } from 'node:net';
import type { ConfigOf, Drainable } from '@srs-proxy/runtime';
import type { EdgeDeps } from '@srs-proxy/bus';
import { createEdgeRouter } from '@srs-proxy/routing';
import type { rtcEdgeSchema } from './config.ts';
import { RtcMetrics } from './metrics.ts';
import { UdpRelay } from './udp-relay.ts';
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
    this.relay.onSessionOpened = () => this.metrics.sessionsOpened.inc();
    this.relay.onSessionClosed = (_s, reason) => this.metrics.sessionsClosed.inc({ reason: closeReasonLabel(reason) });
    const routing = createEdgeRouter(deps, { edge: 'rtc-edge', protocol: 'api' });
    this.closeRouting = routing.close;
    this.signalling = new RtcSignalling(
      {
        logger: deps.logger,
        registry: deps.registry,
        router: routing.router,
        metrics: this.metrics,
        relay: this.relay,
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
