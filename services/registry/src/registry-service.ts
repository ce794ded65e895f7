import type { FastifyInstance } from 'fastify';
import { BoundedMap, DEFAULT_BALANCER_OPTIONS, type Balancer, type OriginRecord } from '@srs-proxy/balancer';
import { subjects, MESSAGE_VERSION, type BusTransport, type OriginExpiredEvent, type OriginHeartbeatEvent, type Subscription } from '@srs-proxy/bus';
import { errorMessage, injectTraceHeaders, listenTcp, RateLimitedLog, type ConfigOf, type Logger, type Registry } from '@srs-proxy/runtime';
import type { registrySchema } from './config.ts';
import { buildSystemApi } from './system-api.ts';
import { serveRegistryRequests } from './bus-responders.ts';
import { defaultBackendRecord, DEFAULT_BACKEND_REFRESH_MS } from './default-backend.ts';
import { registryMetrics, type RegistryMetrics } from './registry-metrics.ts';
import { EdgeDirectory, parseEdgeAnnouncement } from './edge-directory.ts';
import { OriginLiveFetcher } from './origin-live.ts';
import { TrafficSamples } from './traffic-samples.ts';

/**
 * How often expired origins are swept (and `origin expired` events published). Picks never choose
 * a dead origin whatever this is (liveness is checked on every pick); the sweep only bounds how late
 * the event and the cleanup of the record come: 5 s against a TTL of 30–300 s.
 */
export const SWEEP_INTERVAL_MS = 5_000;
/**
 * Origin records re-written at once after a store reset: one round trip each, pipelined; bounds
 * what a 20k-origin registry puts in flight against a Redis that just came back.
 */
export const RESTORE_CONCURRENCY = 64;

export type RegistryConfig = ConfigOf<typeof registrySchema> & {
  originTtlMs: number;
  /** PROXY_PLACEMENT_LEASE_INTERVAL: how often publishers' edges re-assert their streams. */
  placementLeaseIntervalMs?: number;
};

/**
 * After a store reset, a stream that an edge announces a live publisher for is not placed anew
 * for this many lease intervals (plus a margin for a slow edge): its edge re-asserts it first, so
 * a player arriving meanwhile is not sent to an origin without the publisher (edges serve it from
 * their caches, else 503 + Retry-After). Streams nobody publishes are placed at once.
 */
export const RESET_SETTLE_LEASE_INTERVALS = 1.5;
export const RESET_SETTLE_MARGIN_MS = 500;
const DEFAULT_LEASE_INTERVAL_MS = 3_000;

export interface RegistryTimers {
  sweepIntervalMs: number;
  defaultBackendRefreshMs: number;
}

export interface RegistryDeps {
  logger: Logger;
  metrics: Registry;
  /** Owned by the caller (initialised before start, closed after this service). */
  balancer: Balancer;
  /** Owned by the caller. */
  bus: BusTransport;
  now?: () => number;
  /** Tests shrink these; defaults are SWEEP_INTERVAL_MS and min(DEFAULT_BACKEND_REFRESH_MS, TTL/3). */
  timers?: Partial<RegistryTimers>;
  /** Cap of the origins remembered for a store reset: the balancer's own cap (DEFAULT_BALANCER_OPTIONS.maxOrigins). */
  maxOrigins?: number;
}

/**
 * The registry: System API (origin heartbeats, versions, cluster views) over HTTP, and the
 * balancer's answers to edges over the bus. Publishes `origin heartbeat`, `stream picked` and
 * `origin expired` events. Several replicas may run against one Redis balancer and one NATS: bus
 * requests are split by the queue group, heartbeats by whatever load balancer fronts the API.
 */
export class RegistryService {
  /** Bound System API port (useful when configured as 0). */
  systemApiPort = 0;
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly metrics: RegistryMetrics;
  private readonly timers: RegistryTimers;
  private app: FastifyInstance | undefined;
  private subs: Subscription[] = [];
  private sweepTimer: NodeJS.Timeout | undefined;
  private backendTimer: NodeJS.Timeout | undefined;
  private sweeping = false;
  /**
   * The last heartbeat of each origin, kept for as long as it makes the origin alive, so a store
   * that comes back empty (Redis restarted without persistence) gets the live origins back at once
   * rather than one heartbeat interval later. Bounded like the balancer's origins.
   */
  private readonly known: BoundedMap<string, OriginRecord>;
  /** Until when new placements wait after a store reset (0: never reset). */
  private settleUntil = 0;
  /** A reset was seen but re-writing failed: retried on the next sweep. */
  private restorePending = false;
  private restoring: Promise<boolean> | undefined;
  private readonly edges: EdgeDirectory;
  private readonly traffic = new TrafficSamples();
  private readonly announceLog: RateLimitedLog;
  private started = false;
  private closed = false;

  constructor(
    private readonly deps: RegistryDeps,
    private readonly config: RegistryConfig,
  ) {
    this.log = deps.logger;
    this.now = deps.now ?? Date.now;
    this.metrics = registryMetrics(deps.metrics, async () => (await deps.balancer.listOrigins()).filter((o) => o.alive).length);
    this.edges = new EdgeDirectory(this.now);
    this.known = new BoundedMap(config.originTtlMs, deps.maxOrigins ?? DEFAULT_BALANCER_OPTIONS.maxOrigins);
    this.announceLog = new RateLimitedLog(deps.logger);
    this.timers = {
      sweepIntervalMs: deps.timers?.sweepIntervalMs ?? SWEEP_INTERVAL_MS,
      defaultBackendRefreshMs: deps.timers?.defaultBackendRefreshMs ?? Math.max(1, Math.min(DEFAULT_BACKEND_REFRESH_MS, Math.floor(config.originTtlMs / 3))),
    };
  }

  async start(): Promise<void> {
    if (this.started || this.closed) throw new Error('registry already started or closed');
    this.started = true;
    try {
      if (this.config.defaultBackendEnabled) await this.startDefaultBackend();
      this.subs = serveRegistryRequests({
        logger: this.log, balancer: this.deps.balancer, bus: this.deps.bus, metrics: this.metrics, now: this.now, originTtlMs: this.config.originTtlMs,
        restoreStore: () => this.restoreStore(),
        // Only a stream some edge publishes waits for its re-assertion; truly new streams are placed at once.
        placeNew: (stream) => this.now() >= this.settleUntil || !this.edges.hasPublisher(stream),
      });
      // The store connection is back: it may have come back empty; check now, not at the next sweep.
      this.deps.balancer.onReconnect(() => void this.restoreStore().catch((err: unknown) => this.log.warn({ err }, 'checking the balancer store after a reconnect failed')));
      this.subs.push(this.deps.bus.subscribe(subjects.edgeAnnounce, (data) => this.onEdgeAnnouncement(data)));
      // A round trip after subscribing: once start() resolves, the bus routes requests to us.
      await this.deps.bus.ping().catch((err: unknown) => this.log.warn({ err }, 'bus not reachable yet; responders are restored on reconnect'));
      this.sweepTimer = setInterval(() => void this.sweep(), this.timers.sweepIntervalMs);
      this.sweepTimer.unref();
      this.app = buildSystemApi({
        logger: this.log,
        balancer: this.deps.balancer,
        metrics: this.metrics,
        auth: { authToken: this.config.authToken, registerSecret: this.config.registerSecret },
        now: this.now,
        onRegistered: (origin, isNew) => this.onRegistered(origin, isNew),
        cluster: {
          edges: this.edges,
          traffic: this.traffic,
          live: new OriginLiveFetcher({
            timeoutMs: this.config.liveTimeout,
            cacheTtlMs: this.config.liveCacheTtl,
            concurrency: this.config.liveConcurrency,
            now: this.now,
            logger: this.log,
          }),
          mode: () => (this.deps.bus.kind === 'nats' ? 'cluster' : 'standalone'),
        },
      });
      await this.app.ready();
      this.systemApiPort = await listenTcp(this.app.server, this.config.systemApi);
      this.log.info({ port: this.systemApiPort, bus: this.deps.bus.kind, balancer: this.deps.balancer.kind }, `System API listening on ${this.systemApiPort}`);
    } catch (err) {
      await this.close('start failed');
      throw err;
    }
  }

  /** Readiness: the balancer's store answers. */
  async ready(): Promise<void> {
    await this.deps.balancer.ping();
  }

  /** Idempotent. Stops timers and responders and drains the System API; leaves balancer and bus to the caller. */
  async close(reason = 'close'): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.sweepTimer);
    clearInterval(this.backendTimer);
    for (const s of this.subs) s.unsubscribe();
    this.subs = [];
    if (this.app) await this.app.close();
    this.log.info({ reason }, 'registry closed');
  }

  private onEdgeAnnouncement(data: unknown): void {
    try {
      this.edges.observe(parseEdgeAnnouncement(data));
    } catch (err) {
      this.announceLog.warn({ err }, `edge announcement ignored: ${errorMessage(err)}`);
    }
  }

  private onRegistered(origin: OriginRecord, isNew: boolean): void {
    this.known.set(origin.id, origin, this.now());
    this.traffic.observe(origin.id, origin.summaries);
    const line = `Register SRS media server, SRS ip=${origin.ip}, id=${origin.id}, pid=${origin.pid}, server=${origin.server}, service=${origin.service}, device=${origin.device_id ?? ''}, rtmp=[${origin.rtmp.join(' ')}], http=[${origin.http.join(' ')}], api=[${origin.api.join(' ')}], srt=[${origin.srt.join(' ')}], rtc=[${origin.rtc.join(' ')}], update=${isoTime(origin.updated_at)}`;
    if (isNew) this.log.info({ origin: origin.id }, line);
    else this.log.debug({ origin: origin.id }, line);
    const event: OriginHeartbeatEvent = { v: MESSAGE_VERSION, origin_id: origin.id, ip: origin.ip, first: isNew, at: this.now() };
    this.deps.bus.publish(subjects.originHeartbeat, event, injectTraceHeaders({}));
  }

  private async startDefaultBackend(): Promise<void> {
    const record = defaultBackendRecord(this.config, this.now());
    await this.deps.balancer.update(record);
    this.onRegistered(record, true);
    // Refresh `updated_at` as well as the store entry, so the debug backend never ages out (spec 3.8 fix).
    this.backendTimer = setInterval(() => {
      this.deps.balancer.update({ ...record, updated_at: this.now() }).catch((err: unknown) => this.log.warn({ err }, 'default backend refresh failed'));
    }, this.timers.defaultBackendRefreshMs);
    this.backendTimer.unref();
  }

  /**
   * When the store came back empty (or a re-write after that failed), re-writes the origins this
   * registry heard from within their TTL, with their own heartbeat times (so none is revived past
   * its liveness). Concurrent callers share one run. True when origins were re-written.
   */
  restoreStore(): Promise<boolean> {
    this.restoring ??= this.restoreOnce().finally(() => {
      this.restoring = undefined;
    });
    return this.restoring;
  }

  private async restoreOnce(): Promise<boolean> {
    if (this.closed) return false;
    if (await this.deps.balancer.detectReset()) {
      this.metrics.storeResets.inc();
      this.restorePending = true;
      const lease = this.config.placementLeaseIntervalMs ?? DEFAULT_LEASE_INTERVAL_MS;
      this.settleUntil = this.now() + lease * RESET_SETTLE_LEASE_INTERVALS + RESET_SETTLE_MARGIN_MS;
      this.log.warn({ balancer: this.deps.balancer.kind }, 'balancer store came back empty: re-writing the origins this registry knows');
    }
    if (!this.restorePending) return false;
    const now = this.now();
    const origins = [...this.known.entries(now)].map(([, o]) => o);
    for (let i = 0; i < origins.length; i += RESTORE_CONCURRENCY) {
      await Promise.all(origins.slice(i, i + RESTORE_CONCURRENCY).map((o) => this.deps.balancer.update(o)));
    }
    this.restorePending = false;
    this.log.info({ origins: origins.length }, `re-wrote ${origins.length} origins to the balancer store`);
    return true;
  }

  private async sweep(): Promise<void> {
    if (this.sweeping || this.closed) return;
    this.sweeping = true;
    try {
      await this.restoreStore().catch((err: unknown) => this.log.warn({ err }, 'checking the balancer store for a reset failed'));
      const expired = await this.deps.balancer.sweepExpired();
      for (const origin of expired) {
        this.log.info({ origin: origin.id, ip: origin.ip, last_seen: isoTime(origin.updated_at) }, `origin ${origin.id} expired`);
        if (this.known.peek(origin.id, this.now())?.updated_at === origin.updated_at) this.known.delete(origin.id);
        this.traffic.forget(origin.id);
        const event: OriginExpiredEvent = { v: MESSAGE_VERSION, origin_id: origin.id, last_seen: origin.updated_at, at: this.now() };
        this.deps.bus.publish(subjects.originExpired, event, injectTraceHeaders({}));
      }
    } catch (err) {
      this.log.warn({ err }, 'sweeping expired origins failed');
    } finally {
      this.sweeping = false;
    }
  }
}

function isoTime(ms: number): string {
  return new Date(ms).toISOString();
}
