import type { Logger, Registry } from '@srs-proxy/runtime';
import type { RegistryClient } from './registry-client.ts';
import type { EventHandler, Subscription } from './transport.ts';

/**
 * What every edge receives from whoever starts it (standalone entry, cluster entry, tests).
 * Nothing is a module-level singleton.
 */
export interface EdgeDeps {
  logger: Logger;
  /** The Prometheus registry (not the stream registry: that is `registry`). */
  metrics: Registry;
  registry: RegistryClient;
  /**
   * The registry's events (`stream.picked`, `stream.origin-failed`, `origin.expired`), which
   * invalidate an edge's local route cache. Absent (some tests): caches only expire by TTL.
   */
  events?: { subscribe(subject: string, handler: EventHandler): Subscription };
  /** PROXY_ORIGIN_CONNECT_TIMEOUT and PROXY_ORIGIN_ATTEMPTS; absent: the schema defaults. */
  routing?: { connectTimeoutMs: number; attempts: number };
}
