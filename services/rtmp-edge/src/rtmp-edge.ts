import { createServer, type Server, type Socket } from 'node:net';
import type { ConfigOf } from '@srs-proxy/runtime';
import { listenTcp, errorMessage, type Drainable } from '@srs-proxy/runtime';
import type { EdgeDeps } from '@srs-proxy/bus';
import { createEdgeRouter, routingSettings, OriginProber, type OriginRouter } from '@srs-proxy/routing';
import type { rtmpEdgeSchema } from './config.ts';
import { RtmpMetrics } from './metrics.ts';
import { probeRtmpOrigin } from './origin.ts';
import { ORIGIN_SETUP_TIMEOUT_MS, RtmpSession, type SessionTimeouts } from './session.ts';

export type RtmpEdgeConfig = ConfigOf<typeof rtmpEdgeSchema>;

/**
 * The rtmp-edge service: accepts RTMP clients on PROXY_RTMP_SERVER and runs one RtmpSession
 * per connection. A drain stops accepting and lets sessions run; closing ends every session with
 * a TCP close (FIN after what is queued), not a reset.
 */
export class RtmpEdge implements Drainable {
  private closed = false;
  private server: Server | undefined;
  private readonly sessions = new Set<RtmpSession>();
  private readonly metrics: RtmpMetrics;
  private readonly timeouts: SessionTimeouts;
  private readonly router: OriginRouter;
  private readonly closeRouting: () => void;
  /** Confirms origins that sessions suspect of hanging (one probe per origin, shared). */
  private readonly prober: OriginProber;
  /** Bound TCP port (useful with port 0 in tests). */
  port = 0;

  constructor(
    private readonly deps: EdgeDeps,
    private readonly config: RtmpEdgeConfig,
  ) {
    this.metrics = new RtmpMetrics(deps.metrics);
    const settings = routingSettings(deps.routing);
    const routing = createEdgeRouter(deps, { edge: 'rtmp-edge', protocol: 'rtmp' });
    this.router = routing.router;
    this.closeRouting = routing.close;
    this.timeouts = {
      handshakeMs: config.handshakeTimeout,
      originConnectMs: config.originConnectTimeout ?? settings.connectTimeoutMs,
      originSetupMs: ORIGIN_SETUP_TIMEOUT_MS,
      idleMs: config.idleTimeout,
      stallMs: settings.stallTimeoutMs,
    };
    const probeMs = this.timeouts.originConnectMs;
    // A probe answers for every session on that origin until the next check of the interval.
    this.prober = new OriginProber({ probe: (ep, signal) => probeRtmpOrigin(ep, signal, probeMs), timeoutMs: probeMs, reuseMs: settings.stallTimeoutMs / 2 });
  }

  /** Sessions in any phase. */
  get sessionCount(): number {
    return this.sessions.size;
  }

  get activeSessions(): number {
    return this.sessions.size;
  }

  /** Closes the listener; live sessions go on until they end or close() is called. */
  stopAccepting(): void {
    if (this.server?.listening) this.server.close();
  }

  async start(): Promise<void> {
    const server = createServer({ pauseOnConnect: false }, (socket) => this.accept(socket));
    server.on('error', (err) => this.deps.logger.error({ err: errorMessage(err) }, 'RTMP listener error'));
    this.server = server;
    this.port = await listenTcp(server, this.config.listen);
    this.deps.logger.info({ port: this.port }, `RTMP listen at ${this.config.listen.host ?? ''}:${this.port}`);
  }

  private accept(socket: Socket): void {
    if (this.closed) {
      socket.destroy();
      return;
    }
    const session = new RtmpSession(socket, this.deps.logger, this.router, this.metrics, this.timeouts, (s) => this.sessions.delete(s), this.prober);
    this.sessions.add(session);
    void session.run();
  }

  async close(reason = 'shutdown'): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const server = this.server;
    this.closeRouting();
    this.prober.clear();
    for (const s of [...this.sessions]) s.close(reason, true);
    if (server?.listening) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
