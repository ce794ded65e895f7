import type { EndpointKind } from '@srs-proxy/balancer';
import type { EdgeDeps, Subscription } from '@srs-proxy/bus';
import { ControlPlaneGuard } from './control-plane.ts';
import { RouteCache } from './route-cache.ts';
import { OriginRouter } from './router.ts';
import { PlacementLeases } from './placement-leases.ts';
import { routingSettings } from './settings.ts';

/** Streams an edge remembers routes of, whatever names clients invent (LRU past it). */
export const ROUTE_CACHE_MAX_ENTRIES = 100_000;

export interface EdgeRouterOptions {
  /** The edge, as a metric label and in logs. */
  edge: string;
  /** The endpoint kind the edge dials. */
  protocol: EndpointKind;
  /**
   * How long a pick is reused without asking the registry. 0 (session protocols: RTMP, SRT,
   * WebRTC): every session asks, and the cache only answers when the control plane cannot.
   */
  freshTtlMs?: number;
  now?: () => number;
}

/**
 * The router every edge uses: its route cache (fresh for `freshTtlMs`, then kept up to
 * PROXY_ROUTE_STALE_MAX_AGE to answer from when the control plane is down), invalidated by the
 * registry's events, behind one ControlPlaneGuard whose counters land in the edge's metrics, and
 * the edge's PlacementLeases (`router.leases`). `close()` stops listening to the events and renewing.
 */
export function createEdgeRouter(deps: EdgeDeps, opts: EdgeRouterOptions): { router: OriginRouter; close(): void } {
  const settings = routingSettings(deps.routing);
  const cache = new RouteCache({ ttlMs: opts.freshTtlMs ?? 0, staleMs: settings.staleMaxMs, maxEntries: ROUTE_CACHE_MAX_ENTRIES, now: opts.now });
  const controlPlane = new ControlPlaneGuard({ edge: opts.edge, metrics: deps.metrics, logger: deps.logger, now: opts.now });
  // Idle (no timer, no request) until one of the edge's sessions is a publisher.
  const leases = new PlacementLeases({ registry: deps.registry, edge: opts.edge, logger: deps.logger, intervalMs: settings.leaseIntervalMs, metrics: deps.metrics, now: opts.now });
  const router = new OriginRouter({ registry: deps.registry, protocol: opts.protocol, settings, logger: deps.logger, cache, controlPlane, leases });
  const sub: Subscription | undefined = deps.events ? cache.listen(deps.events) : undefined;
  return {
    router,
    close: () => {
      sub?.unsubscribe();
      cache.clear();
      leases.close();
    },
  };
}
