import { commonSchema } from '@srs-proxy/runtime';

/**
 * What every edge's routing reads from configuration (`PROXY_ORIGIN_CONNECT_TIMEOUT`,
 * `PROXY_ORIGIN_ATTEMPTS`, `PROXY_ORIGIN_STALL_TIMEOUT` in the common schema); the entry passes it in EdgeDeps.
 */
export interface RoutingSettings {
  /** Bound on reaching one origin (TCP connect; the handshake standing for it over UDP). */
  connectTimeoutMs: number;
  /** Origins tried for one session, the first included; each failed one is reported and avoided. */
  attempts: number;
  /** Oldest cached answer an edge serves while the control plane does not answer (PROXY_ROUTE_STALE_MAX_AGE). */
  staleMaxMs: number;
  /** PROXY_ORIGIN_STALL_TIMEOUT: how long a relay tolerates an origin that neither reads nor sends (stall.ts). */
  stallTimeoutMs?: number;
  /** PROXY_PLACEMENT_LEASE_INTERVAL: how often an edge renews its live publishers' placements (placement-leases.ts). */
  leaseIntervalMs?: number;
}

/** The schema's defaults, for edges started without an entry (tests). */
export const DEFAULT_ROUTING_SETTINGS: Required<RoutingSettings> = {
  connectTimeoutMs: commonSchema.originConnectTimeout.parse(commonSchema.originConnectTimeout.default, commonSchema.originConnectTimeout.env),
  attempts: commonSchema.originAttempts.parse(commonSchema.originAttempts.default, commonSchema.originAttempts.env),
  staleMaxMs: commonSchema.routeStaleMaxAge.parse(commonSchema.routeStaleMaxAge.default, commonSchema.routeStaleMaxAge.env),
  stallTimeoutMs: commonSchema.originStallTimeout.parse(commonSchema.originStallTimeout.default, commonSchema.originStallTimeout.env),
  leaseIntervalMs: commonSchema.placementLeaseInterval.parse(commonSchema.placementLeaseInterval.default, commonSchema.placementLeaseInterval.env),
};

export function routingSettings(given: Partial<RoutingSettings> | undefined): Required<RoutingSettings> {
  return { ...DEFAULT_ROUTING_SETTINGS, ...given };
}
