import type { Logger, Registry as MetricsRegistry } from '@srs-proxy/runtime';
import type { RegistryClient } from './registry-client.ts';
import type { EventHandler, Subscription } from './transport.ts';

/**
 * What every edge receives from whoever starts it (standalone entry, cluster entry, tests).
 * Nothing is a module-level singleton.
 */
export interface EdgeDeps {
  logger: Logger;
  /** Prometheus metrics (prom-client's Registry; the stream registry is `registry`). */
  metrics: MetricsRegistry;
  registry: RegistryClient;
  /**
   * The registry's events (`stream.picked`, `stream.origin-failed`, `origin.expired`), which
   * invalidate an edge's local route cache. Absent (some tests): caches only expire by TTL.
   */
  events?: { subscribe(subject: string, handler: EventHandler): Subscription };
  /** PROXY_ORIGIN_CONNECT_TIMEOUT, PROXY_ORIGIN_ATTEMPTS, PROXY_ROUTE_STALE_MAX_AGE, PROXY_ORIGIN_STALL_TIMEOUT, PROXY_PLACEMENT_LEASE_INTERVAL; absent: the schema defaults. */
  routing?: { connectTimeoutMs: number; attempts: number; staleMaxMs: number; stallTimeoutMs?: number; leaseIntervalMs?: number };
}
