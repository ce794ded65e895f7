import { Counter, Gauge, metric, type Registry } from '@srs-proxy/runtime';

/** Prometheus metrics of the http-edge; registered once per registry (standalone shares one). */
export interface HttpEdgeMetrics {
  requests: Counter<'kind' | 'status'>;
  activeStreams: Gauge<'kind'>;
  bytesOut: Counter<'kind'>;
  slowClients: Counter<'kind'>;
  failovers: Counter;
  cacheRequests: Counter<'cache' | 'result'>;
  cacheBytes: Gauge<'cache'>;
  cacheEvictions: Counter<'cache'>;
}

export function httpEdgeMetrics(registry: Registry): HttpEdgeMetrics {
  return {
    requests: metric(registry, 'srsp_http_edge_requests_total', () => new Counter({
      name: 'srsp_http_edge_requests_total',
      help: 'HTTP stream port requests by kind (flv, ts, hls-playlist, hls-segment, dash-manifest, static, versions, bad) and final status ("aborted" when the client left before headers).',
      labelNames: ['kind', 'status'] as const,
      registers: [registry],
    })),
    activeStreams: metric(registry, 'srsp_http_edge_active_streams', () => new Gauge({
      name: 'srsp_http_edge_active_streams',
      help: 'Live HTTP-FLV / HTTP-TS streams being relayed now.',
      labelNames: ['kind'] as const,
      registers: [registry],
    })),
    bytesOut: metric(registry, 'srsp_http_edge_bytes_out_total', () => new Counter({
      name: 'srsp_http_edge_bytes_out_total',
      help: 'Body bytes relayed from origins to clients, by kind.',
      labelNames: ['kind'] as const,
      registers: [registry],
    })),
    slowClients: metric(registry, 'srsp_http_edge_slow_clients_dropped_total', () => new Counter({
      name: 'srsp_http_edge_slow_clients_dropped_total',
      help: 'Clients dropped because they did not read fast enough (stalled or over the buffer limit).',
      labelNames: ['kind'] as const,
      registers: [registry],
    })),
    failovers: metric(registry, 'srsp_http_edge_origin_failovers_total', () => new Counter({
      name: 'srsp_http_edge_origin_failovers_total',
      help: 'Requests retried on another origin after a connect failure.',
      registers: [registry],
    })),
    cacheRequests: metric(registry, 'srsp_http_edge_cache_requests_total', () => new Counter({
      name: 'srsp_http_edge_cache_requests_total',
      help: 'Cacheable requests by cache (segment, playlist) and result: hit (served from memory), coalesced (joined a fetch in flight), miss (fetched from the origin), bypass (not shareable: Range, Authorization, Cookie, HEAD, or an uncacheable origin answer).',
      labelNames: ['cache', 'result'] as const,
      registers: [registry],
    })),
    cacheBytes: metric(registry, 'srsp_http_edge_cache_bytes', () => new Gauge({
      name: 'srsp_http_edge_cache_bytes',
      help: 'Bytes held by each edge cache (bounded by PROXY_HLS_SEGMENT_CACHE_BYTES for segments).',
      labelNames: ['cache'] as const,
      registers: [registry],
    })),
    cacheEvictions: metric(registry, 'srsp_http_edge_cache_evictions_total', () => new Counter({
      name: 'srsp_http_edge_cache_evictions_total',
      help: 'Entries pushed out of an edge cache to make room before they expired (a sign the cache is too small).',
      labelNames: ['cache'] as const,
      registers: [registry],
    })),
  };
}

/**
 * Label children of one metric with up to two labels, resolved once per distinct label values:
 * prom-client hashes the label values on every `labels()` call, which shows per request.
 * Bounded by the label values the edge produces (kinds × HTTP status codes).
 */
export class LabelCache<T> {
  readonly #children = new Map<string, Map<string, T>>();

  constructor(private readonly resolve: (a: string, b: string) => T) {}

  get(a: string, b = ''): T {
    let inner = this.#children.get(a);
    if (inner === undefined) {
      inner = new Map();
      this.#children.set(a, inner);
    }
    let child = inner.get(b);
    if (child === undefined) {
      child = this.resolve(a, b);
      inner.set(b, child);
    }
    return child;
  }
}
