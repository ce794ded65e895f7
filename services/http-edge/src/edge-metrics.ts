import { Counter, Gauge, metric, type Registry } from '@srs-proxy/runtime';

/**
 * The `kind` label of a request: its route kind, except segments. A segment is any URI the edge
 * tagged with a session id in an HLS playlist or a DASH manifest (the two share `.m4s`/`.mp4`, so
 * the URL cannot tell which); its label stays `hls-segment`, the one dashboards and alerts know.
 */
export function kindLabel(kind: string): string {
  return kind === 'segment' ? 'hls-segment' : kind;
}

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
      help: 'HTTP stream port requests by kind (flv, ts, hls-playlist, dash-manifest, hls-segment: segments of HLS and DASH sessions, static, versions, bad) and final status ("aborted" when the client left before headers).',
      labelNames: ['kind', 'status'] as const,
      collect() {
        flushPending(this);
      },
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
      collect() {
        flushPending(this);
      },
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
      collect() {
        flushPending(this);
      },
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
 * Label children of one metric with up to two labels, resolved once per distinct label values.
 * Bounded by the label values the edge produces (kinds × HTTP status codes).
 */
export class LabelCache<T> {
  readonly #children = new Map<string, Map<string, T>>();

  constructor(private readonly resolve: (a: string, b: string) => T) {}

  forEach(fn: (child: T) => void): void {
    for (const inner of this.#children.values()) for (const child of inner.values()) fn(child);
  }

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

/** A counter child that adds in a plain number until the counter is next collected. */
export interface PendingCount {
  inc(value?: number): void;
}

/** Counts not yet handed to prom-client, per counter, per counting owner (one per edge instance). */
const pending = new WeakMap<Counter<string>, Set<BatchedCounter>>();

/** Called by the hot counters' `collect`, i.e. on every scrape or read of the registry. */
function flushPending(counter: Counter<string>): void {
  for (const batch of pending.get(counter) ?? []) batch.flush();
}

/**
 * Per-request counting without prom-client's per-call cost: `inc()` hashes and validates the
 * label values every time, which shows in the profile of a cache hit. Children here add to a
 * number; the sums go to prom-client when the registry collects the counter (each scrape), so
 * what Prometheus reads is exact. Bounded like `LabelCache`.
 */
export class BatchedCounter {
  readonly #children: LabelCache<PendingCount & { labels: Record<string, string>; n: number }>;

  constructor(
    private readonly counter: Counter<string>,
    labelNames: readonly [string] | readonly [string, string],
  ) {
    this.#children = new LabelCache((a, b) => {
      const labels: Record<string, string> = { [labelNames[0]]: a };
      if (labelNames[1] !== undefined) labels[labelNames[1]] = b;
      const child = {
        labels,
        n: 0,
        inc(value = 1) {
          child.n += value;
        },
      };
      return child;
    });
    let set = pending.get(counter);
    if (!set) {
      set = new Set();
      pending.set(counter, set);
    }
    set.add(this);
  }

  get(a: string, b = ''): PendingCount {
    return this.#children.get(a, b);
  }

  /** Hands the sums to prom-client. */
  flush(): void {
    this.#children.forEach((child) => {
      if (child.n > 0) {
        this.counter.inc(child.labels, child.n);
        child.n = 0;
      }
    });
  }

  /** Flushes and stops following the counter (the owner is closing). */
  detach(): void {
    this.flush();
    pending.get(this.counter)?.delete(this);
  }
}

/** What a cache reports: one count per cacheable request, and its size after a store. */
export type CacheResult = 'hit' | 'miss' | 'coalesced' | 'bypass';

/** The counters and gauges of one edge cache (`segment` or `playlist`). */
export class CacheMeter {
  readonly #counts: Record<CacheResult, PendingCount>;
  /** Evictions already reported (the LRU counts them, the metric is a counter). */
  #evictionsSeen = 0;

  constructor(
    private readonly m: HttpEdgeMetrics,
    counts: BatchedCounter,
    readonly cache: 'segment' | 'playlist',
  ) {
    this.#counts = { hit: counts.get(cache, 'hit'), miss: counts.get(cache, 'miss'), coalesced: counts.get(cache, 'coalesced'), bypass: counts.get(cache, 'bypass') };
  }

  count(result: CacheResult): void {
    this.#counts[result].inc();
  }

  /** Bytes held and evictions so far, after the cache changed. */
  held(bytes: number, evictions: number): void {
    this.m.cacheBytes.labels(this.cache).set(bytes);
    const evicted = evictions - this.#evictionsSeen;
    if (evicted > 0) {
      this.m.cacheEvictions.labels(this.cache).inc(evicted);
      this.#evictionsSeen = evictions;
    }
  }
}
