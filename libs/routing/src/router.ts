import { NO_ORIGIN, formatHostPort, resolveEndpoint, type Endpoint, type EndpointKind, type OriginRecord } from '@srs-proxy/balancer';
import type { RegistryClient } from '@srs-proxy/bus';
import { errorCode, errorMessage, type Logger } from '@srs-proxy/runtime';
import { OriginNoEndpointError, OriginUnreachableError, ORIGIN_CONNECT_TIMEOUT, ORIGIN_NO_ENDPOINT, ORIGIN_UNREACHABLE } from './errors.ts';
import { isOriginDown } from './failure.ts';
import { reportOriginFailure, REPORT_TIMEOUT_MS } from './report.ts';
import type { RouteCache } from './route-cache.ts';
import { ControlPlaneGuard } from './control-plane.ts';
import type { RoutingSettings } from './settings.ts';
import type { PlacementLeases } from './placement-leases.ts';

/** One origin to try: its record, the endpoint of the router's protocol, and which try this is (1-based). */
export interface RouteTarget {
  origin: OriginRecord;
  endpoint: Endpoint;
  attempt: number;
}

export interface OriginRouterOptions {
  registry: RegistryClient;
  /** The endpoint kind this edge dials (`rtmp`, `http`, `api`, `srt`). */
  protocol: EndpointKind;
  settings: RoutingSettings;
  logger: Logger;
  /** Local stream → origin answers; absent: every route asks the registry (and nothing is known in an outage). */
  cache?: RouteCache;
  /** The edge's gate to the registry (stale-if-error, fail fast, coalescing); absent: a private one. */
  controlPlane?: ControlPlaneGuard;
  /** Bound on awaiting a failure report (tests shrink it). */
  reportTimeoutMs?: number;
  /** The edge's placement leases: its publisher sessions claim their streams here (absent: no leases). */
  leases?: PlacementLeases;
}

export interface RouteOptions {
  /** The session's logger (carries cid, stream). */
  log?: Logger;
  /** True once the client is gone: a failure is then neither reported nor retried. */
  cancelled?: () => boolean;
  /** Called before each retry on another origin (failover counters). */
  onFailover?: (failed: OriginRecord, err: unknown) => void;
}

/**
 * The one pick → dial → classify → report → avoid → retry loop of every edge. `route` asks the
 * registry (or the cache) for the stream's origin, resolves the endpoint of the edge's protocol
 * and runs the caller's `attempt` (the dial and set-up, bounded by the caller with
 * `settings.connectTimeoutMs`). A failure that means the origin is down (failure.ts) is reported
 * once (report.ts), the origin avoided, and the next origin tried, `settings.attempts` in all.
 * Other failures reach the caller unchanged. When no other origin is left, the caller gets the
 * origin failure (OriginUnreachableError or the typed error the attempt threw), not "no origin".
 */
export class OriginRouter {
  readonly protocol: EndpointKind;
  readonly settings: RoutingSettings;
  readonly cache: RouteCache | undefined;
  readonly controlPlane: ControlPlaneGuard;
  /** Where the edge's publisher sessions claim their streams' placement (PlacementLeases). */
  readonly leases: PlacementLeases | undefined;
  private readonly registry: RegistryClient;
  private readonly log: Logger;
  private readonly reportTimeoutMs: number;
  private readonly endpoints = new WeakMap<OriginRecord, Endpoint | OriginNoEndpointError>();

  constructor(opts: OriginRouterOptions) {
    this.registry = opts.registry;
    this.protocol = opts.protocol;
    this.settings = opts.settings;
    this.log = opts.logger;
    this.cache = opts.cache;
    this.leases = opts.leases;
    this.controlPlane = opts.controlPlane ?? new ControlPlaneGuard({ edge: opts.protocol, logger: opts.logger });
    this.reportTimeoutMs = opts.reportTimeoutMs ?? REPORT_TIMEOUT_MS;
    if (!(this.settings.attempts >= 1)) throw new RangeError(`attempts must be at least 1, got ${this.settings.attempts}`);
  }

  /**
   * The stream's origin: from the cache while its pick is fresh and nothing is avoided (no
   * promise, so a hot path pays no microtask), else from the registry (then cached). When the
   * control plane does not answer, the last known origin of the stream (unless avoided) answers
   * instead; a stream the edge never routed fails with ControlPlaneUnavailableError.
   */
  pick(streamUrl: string, avoid: readonly string[] = []): OriginRecord | Promise<OriginRecord> {
    const cache = this.cache;
    if (cache !== undefined && avoid.length === 0) {
      const hit = cache.get(streamUrl);
      if (hit !== undefined) return hit;
    }
    const opts = avoid.length > 0 ? { protocol: this.protocol, avoid: [...avoid] } : { protocol: this.protocol };
    const known = () => {
      const o = cache?.stale(streamUrl);
      return o !== undefined && !avoid.includes(o.id) ? o : undefined;
    };
    return this.controlPlane.ask('pick', `${streamUrl}\n${avoid.join(',')}`, () => this.registry.pick(streamUrl, opts).then(({ origin }) => {
      cache?.set(streamUrl, origin);
      return origin;
    }), known);
  }

  /**
   * The origin's endpoint of this router's protocol; a record without one is OriginNoEndpointError.
   * Parsed once per record: records are replaced, never mutated, when a pick refreshes them.
   */
  endpointOf(origin: OriginRecord): Endpoint {
    let ep = this.endpoints.get(origin);
    if (ep === undefined) {
      try {
        ep = resolveEndpoint(origin, this.protocol) ?? new OriginNoEndpointError(`origin ${origin.id} has no ${this.protocol} endpoint`);
      } catch (err) {
        ep = new OriginNoEndpointError(`origin ${origin.id} has an invalid ${this.protocol} endpoint: ${errorMessage(err)}`, err);
      }
      this.endpoints.set(origin, ep);
    }
    if (ep instanceof Error) throw ep;
    return ep;
  }

  /**
   * Reports an origin that failed a session already relaying (a hung origin found by stall.ts):
   * the cached route is dropped and the registry told, bounded like every report, so the
   * client's reconnect is placed elsewhere. Never throws.
   */
  async reportFailure(streamUrl: string, originId: string, reason: string, log: Logger = this.log): Promise<void> {
    this.cache?.forget(streamUrl, originId);
    log.warn({ stream: streamUrl, origin: originId, reason }, `origin failed a live session, reporting it: ${reason}`);
    await reportOriginFailure(this.registry, originId, streamUrl, reason, log, this.reportTimeoutMs);
  }

  async route<T>(streamUrl: string, attempt: (target: RouteTarget) => Promise<T>, opts: RouteOptions = {}): Promise<{ target: RouteTarget; value: T }> {
    const log = opts.log ?? this.log;
    const avoid: string[] = [];
    let lastFailure: Error | undefined;
    for (let n = 1; ; n++) {
      let origin: OriginRecord;
      try {
        const picked = this.pick(streamUrl, avoid);
        origin = picked instanceof Promise ? await picked : picked;
      } catch (err) {
        // Nowhere else to go: the client hears why the origin it had failed.
        if (lastFailure !== undefined && errorCode(err) === NO_ORIGIN) throw lastFailure;
        throw err;
      }
      let target: RouteTarget | undefined;
      try {
        target = { origin, endpoint: this.endpointOf(origin), attempt: n };
        return { target, value: await attempt(target) };
      } catch (err) {
        if (opts.cancelled?.() || !isOriginDown(err)) throw err;
        const failure = asDownError(err, origin, target?.endpoint);
        this.cache?.forget(streamUrl, origin.id);
        log.warn({ stream: streamUrl, origin: origin.id, attempt: n, err: errorMessage(err) }, `origin unreachable, reporting it: origin ${origin.id} failed: ${errorMessage(err)}`);
        await reportOriginFailure(this.registry, origin.id, streamUrl, errorMessage(err), log, this.reportTimeoutMs);
        lastFailure = failure;
        if (n >= this.settings.attempts || opts.cancelled?.()) throw failure;
        opts.onFailover?.(origin, err);
        avoid.push(origin.id);
      }
    }
  }
}

/** A down failure as the routing error the client adapters know; typed dial errors stay as they are. */
function asDownError(err: unknown, origin: OriginRecord, ep: Endpoint | undefined): Error {
  const code = errorCode(err);
  if (err instanceof Error && (code === ORIGIN_UNREACHABLE || code === ORIGIN_CONNECT_TIMEOUT || code === ORIGIN_NO_ENDPOINT)) return err;
  const where = ep ? ` at ${formatHostPort(ep.host, ep.port)}` : '';
  return new OriginUnreachableError(`cannot reach origin ${origin.id}${where}: ${code ?? errorMessage(err)}`, err);
}
