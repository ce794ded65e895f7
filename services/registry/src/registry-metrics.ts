import { Counter, Gauge, Histogram, metric, type Registry } from '@srs-proxy/runtime';

export type RegistrationResult = 'new' | 'refresh' | 'rejected' | 'unauthorized' | 'error';
export type PickResult = 'sticky' | 'fresh' | 'failover' | 'no_origin' | 'bad_request' | 'error';

/** The registry's Prometheus metrics, registered once per metrics registry. */
export interface RegistryMetrics {
  registrations: Counter<'result'>;
  picks: Counter<'result'>;
  pickSeconds: Histogram<string>;
  pickCacheHits: Counter<string>;
  originsAlive: Gauge<string>;
  placementClaims: Counter<'outcome'>;
  storeResets: Counter<string>;
}

/** Label of a placement outcome (Prometheus label values: no dash). */
export type PlacementClaimResult = 'written' | 'refreshed' | 'conflict' | 'unknown_origin';

export function registryMetrics(registry: Registry, countAlive: () => Promise<number>): RegistryMetrics {
  return {
    registrations: metric(registry, 'srsp_registry_registrations_total', () => new Counter({
      name: 'srsp_registry_registrations_total',
      help: 'Origin register requests by result (new origin, refresh, rejected body, unauthorized, store error).',
      labelNames: ['result'] as const,
      registers: [registry],
    })),
    picks: metric(registry, 'srsp_registry_picks_total', () => new Counter({
      name: 'srsp_registry_picks_total',
      help: 'Stream picks answered by result (sticky mapping, fresh pick, failover off a dead/failed origin, no origin, bad request, error).',
      labelNames: ['result'] as const,
      registers: [registry],
    })),
    pickSeconds: metric(registry, 'srsp_registry_pick_seconds', () => new Histogram({
      name: 'srsp_registry_pick_seconds',
      help: 'Time the registry spends answering one pick (balancer work only, not the bus).',
      // Sub-millisecond for memory, about one Redis round trip for redis.
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.05, 0.25],
      registers: [registry],
    })),
    pickCacheHits: metric(registry, 'srsp_registry_pick_cache_hits_total', () => new Counter({
      name: 'srsp_registry_pick_cache_hits_total',
      help: 'Sticky picks answered from the registry pick cache without a store round trip (also counted as sticky in srsp_registry_picks_total).',
      registers: [registry],
    })),
    placementClaims: metric(registry, 'srsp_registry_placement_claims_total', () => new Counter({
      name: 'srsp_registry_placement_claims_total',
      help: 'Placement lease claims of publishers\' edges by outcome: written (the store had no mapping: lost state or expiry), refreshed, conflict (another origin was mapped; the publisher\'s origin won), unknown_origin (not written; claimed again next renewal).',
      labelNames: ['outcome'] as const,
      registers: [registry],
    })),
    storeResets: metric(registry, 'srsp_registry_store_resets_total', () => new Counter({
      name: 'srsp_registry_store_resets_total',
      help: 'Times this registry found the balancer store empty underneath it (Redis restarted without persistence, flushed) and re-wrote the origins it knows.',
      registers: [registry],
    })),
    originsAlive: metric(registry, 'srsp_registry_origins_alive', () => new Gauge({
      name: 'srsp_registry_origins_alive',
      help: 'Origins whose last heartbeat is within PROXY_ORIGIN_SERVER_TTL.',
      registers: [registry],
      async collect() {
        try {
          this.set(await countAlive());
        } catch {
          // Store unreachable: leave the last value; /readyz reports the outage.
        }
      },
    })),
  };
}
