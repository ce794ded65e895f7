import type { OriginRecord } from '@srs-proxy/balancer';
import { StaleIfErrorMap } from './stale-map.ts';
import {
  subjects, type EventHandler, type OriginExpiredEvent, type StreamOriginFailedEvent, type StreamPickedEvent, type Subscription,
} from '@srs-proxy/bus';

/** What a route cache needs of the bus: the registry's events (every edge replica hears them all). */
export interface RouteEvents {
  subscribe(subject: string, handler: EventHandler): Subscription;
}

export interface RouteCacheOptions {
  /** How long a pick is reused without asking the registry. */
  ttlMs: number;
  /**
   * How long a pick is kept to answer from when the control plane does not (stale-if-error,
   * PROXY_ROUTE_STALE_MAX_AGE); at least `ttlMs`. Absent: `ttlMs` (no stale answers).
   */
  staleMs?: number;
  /** Bound on cached streams whatever URLs clients invent. */
  maxEntries: number;
  now?: () => number;
}


/** Longest stream URL an event may name before it is ignored (the registry's own bound). */
const MAX_EVENT_STREAM_URL = 4096;

/**
 * The edge's local stream → origin answers, reused for `ttlMs` so per-request protocols (HLS
 * segments, FLV bursts) do not ask the registry each time. The registry's events drop what they
 * make stale at once: a stream placed elsewhere (`stream.picked` naming another origin), an
 * origin some edge reported failed for a stream, an origin that expired. Without events (no bus
 * given) entries still expire by TTL, and a connect failure drops its entry on this edge.
 */
export class RouteCache {
  readonly #entries: StaleIfErrorMap<string, OriginRecord>;

  constructor(opts: RouteCacheOptions) {
    this.#entries = new StaleIfErrorMap({ freshMs: opts.ttlMs, staleMs: opts.staleMs, maxEntries: opts.maxEntries, now: opts.now });
  }

  get size(): number {
    return this.#entries.size;
  }

  /** The stream's origin while the pick is fresh (reused without asking the registry). */
  get(streamUrl: string): OriginRecord | undefined {
    return this.#entries.fresh(streamUrl);
  }

  /** The stream's last known origin at any age the cache keeps: only for when the registry cannot answer. */
  stale(streamUrl: string): OriginRecord | undefined {
    return this.#entries.stale(streamUrl);
  }

  set(streamUrl: string, origin: OriginRecord): void {
    this.#entries.set(streamUrl, origin);
  }

  /** Drops the stream's entry; with `originId`, only when it names that origin. */
  forget(streamUrl: string, originId?: string): void {
    if (originId === undefined || this.#entries.stale(streamUrl)?.id === originId) this.#entries.delete(streamUrl);
  }

  /** Drops every stream placed on `originId` (an O(entries) scan; origins expire rarely). */
  forgetOrigin(originId: string): void {
    const stale: string[] = [];
    for (const [stream, origin] of this.#entries.entries()) if (origin.id === originId) stale.push(stream);
    for (const s of stale) this.#entries.delete(s);
  }

  clear(): void {
    this.#entries.clear();
  }

  /** Subscribes to the registry's events; unsubscribe when the edge closes. Malformed events change nothing. */
  listen(events: RouteEvents): Subscription {
    const subs = [
      events.subscribe(subjects.streamPicked, (data) => {
        const e = data as Partial<StreamPickedEvent> | null;
        const stream = streamOf(e);
        if (stream === undefined || typeof e?.origin_id !== 'string') return;
        // Placed on the origin we already use: nothing changes. Anywhere else: ask again.
        if (this.stale(stream)?.id !== e.origin_id) this.forget(stream);
      }),
      events.subscribe(subjects.streamOriginFailed, (data) => {
        const e = data as Partial<StreamOriginFailedEvent> | null;
        const stream = streamOf(e);
        if (stream !== undefined && typeof e?.origin_id === 'string') this.forget(stream, e.origin_id);
      }),
      events.subscribe(subjects.originExpired, (data) => {
        const e = data as Partial<OriginExpiredEvent> | null;
        if (typeof e?.origin_id === 'string') this.forgetOrigin(e.origin_id);
      }),
    ];
    return { unsubscribe: () => subs.forEach((s) => s.unsubscribe()) };
  }
}

function streamOf(e: { stream_url?: unknown } | null): string | undefined {
  return typeof e?.stream_url === 'string' && e.stream_url.length <= MAX_EVENT_STREAM_URL ? e.stream_url : undefined;
}
