import { Counter, Gauge, metric, type Registry as MetricsRegistry } from '@srs-proxy/runtime';

/** Why the relay dropped a datagram; the index into `RelayCounters.drops`. */
export const DropReason = {
  /** A STUN datagram that does not parse (bad length, truncated attribute, no cookie…). */
  MALFORMED_STUN: 0,
  /** A Binding request whose USERNAME no signalling (local or registry) knows. */
  UNKNOWN_UFRAG: 1,
  /** DTLS/RTP/STUN response from an address no Binding request has bound. */
  UNKNOWN_ADDRESS: 2,
  /** ZRTP, TURN ChannelData or a first byte outside RFC 7983's ranges. */
  UNSUPPORTED: 3,
  /** PROXY_RTC_MAX_SESSIONS reached. */
  SESSION_CAP: 4,
  /** PROXY_RTC_MAX_SESSIONS_PER_IP reached for the sender's IP. */
  IP_CAP: 5,
  /** Too many registry lookups in flight, or a lookup for this ufrag already running. */
  LOOKUP_BUSY: 6,
  /** The registry could not be asked (unavailable, timeout). */
  REGISTRY_ERROR: 7,
  /** The session's upstream socket is not connected yet and its small queue is full. */
  QUEUE_FULL: 8,
  /** A Binding request without USERNAME. */
  NO_USERNAME: 9,
} as const;
export type DropReason = (typeof DropReason)[keyof typeof DropReason];
export const DROP_REASON_NAMES: readonly string[] = [
  'malformed_stun', 'unknown_ufrag', 'unknown_address', 'unsupported', 'session_cap', 'ip_cap', 'lookup_busy', 'registry_error', 'queue_full',
  'no_username',
];

/**
 * Per-datagram counters of one relay, as plain numbers: the hot path increments fields, and
 * Prometheus reads them at scrape time (prom-client's `inc()` hashes labels on every call).
 */
export class RelayCounters {
  clientDatagrams = 0;
  clientBytes = 0;
  originDatagrams = 0;
  originBytes = 0;
  readonly drops: number[] = DROP_REASON_NAMES.map(() => 0);
  sessions = 0;
}

interface Hub {
  live: Set<RelayCounters>;
  retired: RelayCounters;
}

// One aggregation point per metrics registry, so several edges sharing a registry (tests, the
// standalone process) report one sum and a closed edge's totals do not make counters go down.
const hubs = new WeakMap<MetricsRegistry, Hub>();

function sum(hub: Hub, pick: (c: RelayCounters) => number): number {
  let n = pick(hub.retired);
  for (const c of hub.live) n += pick(c);
  return n;
}

/** Prometheus metrics of the rtc-edge. */
export class RtcMetrics {
  readonly sessionsClosed: Counter<'reason'>;
  readonly sessionsOpened: Counter;
  readonly signalling: Counter<'api' | 'status'>;
  private readonly hub: Hub;

  constructor(
    prom: MetricsRegistry,
    private readonly counters: RelayCounters,
  ) {
    let hub = hubs.get(prom);
    if (!hub) {
      hub = { live: new Set(), retired: new RelayCounters() };
      hubs.set(prom, hub);
    }
    this.hub = hub;
    hub.live.add(counters);
    const h = hub;
    metric(prom, 'srsp_rtc_sessions', () => new Gauge({
      name: 'srsp_rtc_sessions',
      help: 'WebRTC sessions currently relayed (one upstream UDP socket each).',
      registers: [prom],
      collect() {
        this.set(sum(h, (c) => c.sessions));
      },
    }));
    metric(prom, 'srsp_rtc_datagrams_total', () => new Counter({
      name: 'srsp_rtc_datagrams_total',
      help: 'WebRTC datagrams relayed, by direction.',
      labelNames: ['direction'] as const,
      registers: [prom],
      collect() {
        this.reset();
        this.inc({ direction: 'client_to_origin' }, sum(h, (c) => c.clientDatagrams));
        this.inc({ direction: 'origin_to_client' }, sum(h, (c) => c.originDatagrams));
      },
    }));
    metric(prom, 'srsp_rtc_bytes_total', () => new Counter({
      name: 'srsp_rtc_bytes_total',
      help: 'WebRTC payload bytes relayed, by direction.',
      labelNames: ['direction'] as const,
      registers: [prom],
      collect() {
        this.reset();
        this.inc({ direction: 'client_to_origin' }, sum(h, (c) => c.clientBytes));
        this.inc({ direction: 'origin_to_client' }, sum(h, (c) => c.originBytes));
      },
    }));
    metric(prom, 'srsp_rtc_dropped_datagrams_total', () => new Counter({
      name: 'srsp_rtc_dropped_datagrams_total',
      help: 'Datagrams the WebRTC relay dropped, by reason.',
      labelNames: ['reason'] as const,
      registers: [prom],
      collect() {
        this.reset();
        DROP_REASON_NAMES.forEach((reason, i) => this.inc({ reason }, sum(h, (c) => c.drops[i]!)));
      },
    }));
    this.sessionsOpened = metric(prom, 'srsp_rtc_sessions_opened_total', () => new Counter({
      name: 'srsp_rtc_sessions_opened_total',
      help: 'WebRTC relay sessions opened (first Binding request of a known ufrag).',
      registers: [prom],
    }));
    this.sessionsClosed = metric(prom, 'srsp_rtc_sessions_closed_total', () => new Counter({
      name: 'srsp_rtc_sessions_closed_total',
      help: 'WebRTC relay sessions closed, by reason.',
      labelNames: ['reason'] as const,
      registers: [prom],
    }));
    this.signalling = metric(prom, 'srsp_rtc_signalling_requests_total', () => new Counter({
      name: 'srsp_rtc_signalling_requests_total',
      help: 'Signalling requests on the HTTP API listener, by API and response status.',
      labelNames: ['api', 'status'] as const,
      registers: [prom],
    }));
  }

  /** The relay closed: fold its totals into the retired sums so counters never go down. */
  release(): void {
    if (!this.hub.live.delete(this.counters)) return;
    const r = this.hub.retired;
    const c = this.counters;
    r.clientDatagrams += c.clientDatagrams;
    r.clientBytes += c.clientBytes;
    r.originDatagrams += c.originDatagrams;
    r.originBytes += c.originBytes;
    c.drops.forEach((n, i) => (r.drops[i] = r.drops[i]! + n));
  }
}
