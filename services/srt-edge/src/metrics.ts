import { Counter, Gauge, Histogram, metric, type Registry as MetricsRegistry } from '@srs-proxy/runtime';
import type { SrtMode } from './srt/stream-id.ts';

/** Why a datagram was dropped; the label values of `srsp_srt_drops_total`. */
export const DROP_REASONS = [
  'short',
  'not-handshake',
  'extension-header-truncated',
  'extension-truncated',
  'too-many-extensions',
  'bad-stream-id-encoding',
  'stream-id-too-long',
  'bad-hsreq',
  'bad-cookie',
  'bad-stream-id',
  'unsupported-version',
  'unexpected-handshake',
  'unknown-session',
  'session-limit',
  'draining',
  'internal',
] as const;
export type DropReason = (typeof DROP_REASONS)[number];

/**
 * Counters the relay bumps per datagram are plain numbers (no prom-client call per packet); they
 * are added to the Prometheus counters on every housekeeping tick and at close.
 */
export class RelayCounters {
  callerPackets = 0;
  callerBytes = 0;
  originPackets = 0;
  originBytes = 0;
  /** Retransmitted conclusions answered from cache or absorbed while the origin handshake runs. */
  absorbed = 0;
  inductions = 0;
  /** Conclusions that opened a session. */
  sessionsOpened = 0;
  readonly drops = new Map<DropReason, number>();

  drop(reason: DropReason): void {
    this.drops.set(reason, (this.drops.get(reason) ?? 0) + 1);
  }

  /** Datagrams from callers the edge has dealt with, one way or another (tests, debugging). */
  get handled(): number {
    let n = this.callerPackets + this.absorbed + this.inductions + this.sessionsOpened;
    for (const v of this.drops.values()) n += v;
    return n;
  }
}

export type SessionResult = 'established' | 'rejected' | 'failed' | 'aborted';

/** Prometheus view of one or more SRT edges sharing a registry. */
export class SrtMetrics {
  private readonly sessions: Gauge<'mode'>;
  private readonly sessionsTotal: Counter<'mode' | 'result'>;
  private readonly packets: Counter<'direction'>;
  private readonly bytes: Counter<'direction'>;
  private readonly drops: Counter<'reason'>;
  private readonly handshakes: Counter<'kind'>;
  private readonly setup: Histogram<'result'>;
  private readonly failovers: Counter;
  private readonly flushed = { callerPackets: 0, callerBytes: 0, originPackets: 0, originBytes: 0, absorbed: 0, inductions: 0 };
  private readonly flushedDrops = new Map<DropReason, number>();

  constructor(
    prom: MetricsRegistry,
    private readonly counters: RelayCounters,
  ) {
    this.sessions = metric(prom, 'srsp_srt_sessions', () => new Gauge({ name: 'srsp_srt_sessions', help: 'SRT sessions open on this edge, by mode.', labelNames: ['mode'], registers: [prom] }));
    this.sessionsTotal = metric(prom, 'srsp_srt_sessions_total', () =>
      new Counter({ name: 'srsp_srt_sessions_total', help: 'SRT session setups by mode and result.', labelNames: ['mode', 'result'], registers: [prom] }));
    this.packets = metric(prom, 'srsp_srt_packets_total', () =>
      new Counter({ name: 'srsp_srt_packets_total', help: 'Datagrams relayed: caller_to_origin or origin_to_caller.', labelNames: ['direction'], registers: [prom] }));
    this.bytes = metric(prom, 'srsp_srt_bytes_total', () =>
      new Counter({ name: 'srsp_srt_bytes_total', help: 'Bytes relayed, by direction.', labelNames: ['direction'], registers: [prom] }));
    this.drops = metric(prom, 'srsp_srt_drops_total', () =>
      new Counter({ name: 'srsp_srt_drops_total', help: 'Datagrams dropped by the SRT edge, by reason.', labelNames: ['reason'], registers: [prom] }));
    this.handshakes = metric(prom, 'srsp_srt_handshakes_total', () =>
      new Counter({ name: 'srsp_srt_handshakes_total', help: 'Caller handshakes: induction answered, conclusion absorbed/re-answered.', labelNames: ['kind'], registers: [prom] }));
    this.setup = metric(prom, 'srsp_srt_setup_seconds', () =>
      new Histogram({
        name: 'srsp_srt_setup_seconds',
        help: 'Conclusion received → answered (pick + origin handshake), by result.',
        labelNames: ['result'],
        buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 4],
        registers: [prom],
      }));
    this.failovers = metric(prom, 'srsp_srt_failovers_total', () =>
      new Counter({ name: 'srsp_srt_failovers_total', help: 'Origin handshakes that got no answer and were retried on another origin.', registers: [prom] }));
  }

  opened(mode: SrtMode): void {
    this.sessions.inc({ mode });
  }

  closed(mode: SrtMode): void {
    this.sessions.dec({ mode });
  }

  setupDone(mode: SrtMode, result: SessionResult, seconds: number): void {
    this.sessionsTotal.inc({ mode, result });
    this.setup.observe({ result }, seconds);
  }

  failover(): void {
    this.failovers.inc();
  }

  /** Moves what the relay counted since the last flush into the Prometheus counters. */
  flush(): void {
    const c = this.counters;
    const f = this.flushed;
    this.packets.inc({ direction: 'caller_to_origin' }, c.callerPackets - f.callerPackets);
    this.bytes.inc({ direction: 'caller_to_origin' }, c.callerBytes - f.callerBytes);
    this.packets.inc({ direction: 'origin_to_caller' }, c.originPackets - f.originPackets);
    this.bytes.inc({ direction: 'origin_to_caller' }, c.originBytes - f.originBytes);
    this.handshakes.inc({ kind: 'conclusion_absorbed' }, c.absorbed - f.absorbed);
    this.handshakes.inc({ kind: 'induction' }, c.inductions - f.inductions);
    f.callerPackets = c.callerPackets;
    f.callerBytes = c.callerBytes;
    f.originPackets = c.originPackets;
    f.originBytes = c.originBytes;
    f.absorbed = c.absorbed;
    f.inductions = c.inductions;
    for (const [reason, n] of c.drops) {
      const before = this.flushedDrops.get(reason) ?? 0;
      if (n > before) this.drops.inc({ reason }, n - before);
      this.flushedDrops.set(reason, n);
    }
  }
}
