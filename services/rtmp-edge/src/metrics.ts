import { Counter, Gauge, Histogram, metric, type Registry as MetricsRegistry } from '@srs-proxy/runtime';

export type SessionRole = 'publish' | 'play';

/** The rtmp-edge's metrics on the injected registry (idempotent: several edges may share one). */
export class RtmpMetrics {
  readonly active: Gauge<'role'>;
  readonly bytes: Counter<'direction'>;
  readonly failures: Counter<'reason'>;
  readonly setupSeconds: Histogram<'role'>;
  readonly sessions: Counter<'role'>;

  constructor(prom: MetricsRegistry) {
    this.active = metric(prom, 'srsp_rtmp_sessions_active', () =>
      new Gauge({ name: 'srsp_rtmp_sessions_active', help: 'RTMP sessions relaying now, by role', labelNames: ['role'], registers: [prom] }),
    );
    this.sessions = metric(prom, 'srsp_rtmp_sessions_total', () =>
      new Counter({ name: 'srsp_rtmp_sessions_total', help: 'RTMP sessions that reached the relay phase, by role', labelNames: ['role'], registers: [prom] }),
    );
    this.bytes = metric(prom, 'srsp_rtmp_bytes_total', () =>
      new Counter({ name: 'srsp_rtmp_bytes_total', help: 'Bytes relayed: in = from RTMP clients, out = to RTMP clients', labelNames: ['direction'], registers: [prom] }),
    );
    this.failures = metric(prom, 'srsp_rtmp_failures_total', () =>
      new Counter({ name: 'srsp_rtmp_failures_total', help: 'RTMP sessions that failed, by error code', labelNames: ['reason'], registers: [prom] }),
    );
    this.setupSeconds = metric(prom, 'srsp_rtmp_setup_seconds', () =>
      new Histogram({
        name: 'srsp_rtmp_setup_seconds',
        help: 'Time from accept to relay start (handshake, identify, pick, origin connect, replay)',
        labelNames: ['role'],
        buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
        registers: [prom],
      }),
    );
  }
}
