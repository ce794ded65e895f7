import { Counter, Gauge, metric, type Registry } from '@srs-proxy/runtime';

/** Prometheus metrics of the http-edge; registered once per registry (standalone shares one). */
export interface HttpEdgeMetrics {
  requests: Counter<'kind' | 'status'>;
  activeStreams: Gauge<'kind'>;
  bytesOut: Counter<'kind'>;
  slowClients: Counter<'kind'>;
  failovers: Counter;
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
  };
}
