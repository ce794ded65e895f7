import {
  DEFAULT_BALANCER_OPTIONS,
  type Balancer,
  type BalancerOptions,
  type HlsSession,
  type OriginStatus,
  type PickOptions,
  type PickResult,
  type PlacementAnswer,
  type PlacementClaim,
  type RtcSession,
  type StreamMapping,
  type StreamPage,
  type StreamQuery,
} from './balancer.ts';
import { BoundedMap } from './bounded-map.ts';
import { NoOriginError, PlacementSettlingError } from './errors.ts';
import { checkPlacementBatch, mappingVerdict, noOriginMessage } from './mapping.ts';
import type { OriginRecord } from './origin.ts';
import { eligibleOrigins, isAlive, loadScore, place, type Candidate } from './placement.ts';
import { pageOf } from './stream-page.ts';

/** A stream's placement: the origin, and when and by which protocol it was placed. */
type Placement = Omit<StreamMapping, 'stream_url'>;

/** Default page size of listStreams: a cluster view, not a dump of every key. */
export const DEFAULT_LIST_STREAMS_LIMIT = 1_000;

/** Key of a per-stream failure report; `\n` cannot occur in an origin id (register bodies reject control characters). */
function failureKey(originId: string, streamUrl: string): string {
  return `${originId}\n${streamUrl}`;
}

/**
 * Process-local balancer for the standalone mode. Unlike upstream's never-pruned maps, every map
 * here is bounded by a TTL and an entry cap (LRU), and sticky mappings are re-validated on every
 * pick. All check-then-store sequences run without an `await` in between, so they are atomic on
 * the single JS thread.
 */
export class MemoryBalancer implements Balancer {
  readonly kind = 'memory' as const;
  readonly options: BalancerOptions;
  #closed = false;

  /** Ordered by last heartbeat (re-inserted on update), so the cap evicts the stalest origin. */
  readonly #origins = new Map<string, OriginRecord>();
  /** stream URL → its placement */
  readonly #streams: BoundedMap<string, Placement>;
  /** origin id → live mappings to it (the `least-streams` count), kept in step by #streams' onDrop */
  readonly #placed = new Map<string, number>();
  /** origin id → loadScore of its last heartbeat, for `least-load` */
  readonly #loads = new Map<string, number>();
  /** origin id → ms epoch until which new picks avoid it */
  readonly #penalties: BoundedMap<string, number>;
  /** `origin\nstream` → reported failed: that stream's mapping must not return to that origin */
  readonly #streamFailures: BoundedMap<string, true>;
  readonly #hlsByUrl: BoundedMap<string, HlsSession>;
  readonly #hlsBySpbhid: BoundedMap<string, HlsSession>;
  readonly #rtcByUfrag: BoundedMap<string, RtcSession>;

  constructor(opts: Partial<BalancerOptions> = {}) {
    const o = { ...DEFAULT_BALANCER_OPTIONS, ...opts };
    this.options = o;
    this.#streams = new BoundedMap(o.streamTtlMs, o.maxStreams, (_url, p) => this.#unplace(p.origin_id));
    this.#penalties = new BoundedMap(o.failurePenaltyMs, o.maxOrigins);
    this.#streamFailures = new BoundedMap(o.failurePenaltyMs, o.maxStreams);
    this.#hlsByUrl = new BoundedMap(o.hlsTtlMs, o.maxHlsSessions);
    this.#hlsBySpbhid = new BoundedMap(o.hlsTtlMs, o.maxHlsSessions);
    this.#rtcByUfrag = new BoundedMap(o.rtcTtlMs, o.maxRtcSessions);
  }

  async init(): Promise<void> {}

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#origins.clear();
    this.#streams.clear();
    this.#placed.clear();
    this.#loads.clear();
    this.#penalties.clear();
    this.#streamFailures.clear();
    this.#hlsByUrl.clear();
    this.#hlsBySpbhid.clear();
    this.#rtcByUfrag.clear();
  }

  async ping(): Promise<void> {}

  async update(origin: OriginRecord): Promise<boolean> {
    const known = this.#origins.delete(origin.id);
    this.#origins.set(origin.id, origin);
    const load = loadScore(origin.summaries);
    if (load === undefined) this.#loads.delete(origin.id);
    else this.#loads.set(origin.id, load);
    while (this.#origins.size > this.options.maxOrigins) {
      const oldest = this.#origins.keys().next();
      if (oldest.done) break;
      this.#origins.delete(oldest.value);
      this.#loads.delete(oldest.value);
    }
    return !known;
  }

  /** One process's memory does not reconnect. */
  onReconnect(_listener: () => void): void {}

  async pick(streamUrl: string, opts: PickOptions = {}): Promise<PickResult> {
    const now = this.options.now();
    const mappedId = this.#streams.peek(streamUrl, now)?.origin_id;
    let replaced: string | undefined;
    if (mappedId !== undefined) {
      const origin = this.#origins.get(mappedId);
      const verdict = mappingVerdict(origin, {
        now,
        originTtlMs: this.options.originTtlMs,
        protocol: opts.protocol,
        avoid: opts.avoid,
        failedForStream: this.#streamFailures.peek(failureKey(mappedId, streamUrl), now) !== undefined,
      });
      if (verdict === 'keep' && origin !== undefined) {
        this.#streams.get(streamUrl, now);
        return { origin, fresh: false };
      }
      if (verdict === 'no-protocol') throw new NoOriginError(noOriginMessage(streamUrl, opts.protocol));
      replaced = mappedId;
    }
    if (opts.placeNew === false && replaced === undefined) throw new PlacementSettlingError(`${streamUrl}: placements settling after a store reset`);
    // Expired mappings leave the counts before they are compared (O(expired): expiry order).
    this.#streams.sweep(now);
    const candidates: Array<Candidate & { origin: OriginRecord }> = [];
    for (const origin of eligibleOrigins(this.#origins.values(), { now, originTtlMs: this.options.originTtlMs, protocol: opts.protocol, avoid: opts.avoid })) {
      candidates.push({
        origin,
        id: origin.id,
        streams: this.#placed.get(origin.id) ?? 0,
        load: this.#loads.get(origin.id),
        // Global penalties and this stream's own failure reports are both soft: a last resort.
        penalised: this.#penalties.peek(origin.id, now) !== undefined || this.#streamFailures.peek(failureKey(origin.id, streamUrl), now) !== undefined,
      });
    }
    const chosen = place(candidates, this.options.strategy, this.options.random)?.origin;
    if (chosen === undefined) throw new NoOriginError(noOriginMessage(streamUrl, opts.protocol));
    const placement: Placement = { origin_id: chosen.id, placed_at: now };
    if (opts.protocol !== undefined) placement.protocol = opts.protocol;
    this.#streams.set(streamUrl, placement, now);
    this.#placed.set(chosen.id, (this.#placed.get(chosen.id) ?? 0) + 1);
    return replaced === undefined ? { origin: chosen, fresh: true } : { origin: chosen, fresh: true, replaced };
  }

  #unplace(originId: string): void {
    const n = (this.#placed.get(originId) ?? 0) - 1;
    if (n > 0) this.#placed.set(originId, n);
    else this.#placed.delete(originId);
  }

  async reportFailure(originId: string, streamUrl: string): Promise<void> {
    const now = this.options.now();
    this.#penalties.set(originId, now + this.options.failurePenaltyMs, now);
    this.#streamFailures.set(failureKey(originId, streamUrl), true, now);
    if (this.#streams.peek(streamUrl, now)?.origin_id === originId) this.#streams.delete(streamUrl);
  }

  async sweepExpired(): Promise<OriginRecord[]> {
    const now = this.options.now();
    const expired: OriginRecord[] = [];
    for (const [id, origin] of this.#origins) {
      if (!isAlive(origin, now, this.options.originTtlMs)) {
        this.#origins.delete(id);
        this.#loads.delete(id);
        expired.push(origin);
      }
    }
    this.#streams.sweep(now);
    this.#penalties.sweep(now);
    this.#streamFailures.sweep(now);
    this.#hlsByUrl.sweep(now);
    this.#hlsBySpbhid.sweep(now);
    this.#rtcByUfrag.sweep(now);
    return expired;
  }

  async assertPlacement(claims: readonly PlacementClaim[]): Promise<PlacementAnswer[]> {
    checkPlacementBatch(claims);
    const now = this.options.now();
    return claims.map((claim): PlacementAnswer => {
      const origin = this.#origins.get(claim.origin_id);
      if (origin === undefined || !isAlive(origin, now, this.options.originTtlMs)) return { outcome: 'unknown-origin' };
      const current = this.#streams.peek(claim.stream_url, now)?.origin_id;
      if (current === claim.origin_id) {
        this.#streams.get(claim.stream_url, now);
        return { outcome: 'refreshed' };
      }
      const placement: Placement = { origin_id: claim.origin_id, placed_at: now };
      if (claim.protocol !== undefined) placement.protocol = claim.protocol;
      // Replacing an entry drops the old origin's count (onDrop); the new one gains it.
      this.#streams.set(claim.stream_url, placement, now);
      this.#placed.set(claim.origin_id, (this.#placed.get(claim.origin_id) ?? 0) + 1);
      return current === undefined ? { outcome: 'written' } : { outcome: 'conflict', replaced: current };
    });
  }

  /** Memory state lives and dies with this process: it never comes back empty underneath us. */
  async detectReset(): Promise<boolean> {
    return false;
  }

  async loadOrStoreHls(candidate: HlsSession): Promise<HlsSession> {
    const now = this.options.now();
    const existing = this.#hlsByUrl.get(candidate.stream_url, now);
    if (existing !== undefined) {
      // Refresh the id index too; if the cap had evicted it, restore it so segments keep resolving.
      if (this.#hlsBySpbhid.get(existing.spbhid, now) === undefined) this.#storeHlsId(existing, now);
      return existing;
    }
    for (const [, evicted] of this.#hlsByUrl.set(candidate.stream_url, candidate, now)) this.#hlsBySpbhid.delete(evicted.spbhid);
    this.#storeHlsId(candidate, now);
    return candidate;
  }

  #storeHlsId(session: HlsSession, now: number): void {
    for (const [, evicted] of this.#hlsBySpbhid.set(session.spbhid, session, now)) {
      if (this.#hlsByUrl.peek(evicted.stream_url, now)?.spbhid === evicted.spbhid) this.#hlsByUrl.delete(evicted.stream_url);
    }
  }

  async loadHlsBySpbhid(spbhid: string): Promise<HlsSession | undefined> {
    const now = this.options.now();
    const session = this.#hlsBySpbhid.get(spbhid, now);
    if (session === undefined) return undefined;
    // A segment request keeps the stream's session alive like a playlist request does.
    if (this.#hlsByUrl.get(session.stream_url, now) === undefined) {
      for (const [, evicted] of this.#hlsByUrl.set(session.stream_url, session, now)) this.#hlsBySpbhid.delete(evicted.spbhid);
    }
    return session;
  }

  async storeRtc(session: RtcSession): Promise<void> {
    this.#rtcByUfrag.set(session.ufrag, session, this.options.now());
  }

  async loadRtcByUfrag(ufrag: string): Promise<RtcSession | undefined> {
    return this.#rtcByUfrag.get(ufrag, this.options.now());
  }

  async listOrigins(): Promise<OriginStatus[]> {
    const now = this.options.now();
    // Expired mappings leave the per-origin counts first (O(expired)).
    this.#streams.sweep(now);
    return [...this.#origins.values()].map((origin) => ({
      origin,
      alive: isAlive(origin, now, this.options.originTtlMs),
      penalized_until: this.#penalties.peek(origin.id, now) ?? 0,
      streams: this.#placed.get(origin.id) ?? 0,
    }));
  }

  async listStreams(limit = DEFAULT_LIST_STREAMS_LIMIT): Promise<StreamMapping[]> {
    const out: StreamMapping[] = [];
    if (limit <= 0) return out;
    for (const [stream_url, placement] of this.#streams.entries(this.options.now())) {
      out.push({ stream_url, ...placement });
      if (out.length >= limit) break;
    }
    return out;
  }

  async listStreamPage(query: StreamQuery): Promise<StreamPage> {
    const now = this.options.now();
    const streams = this.#streams;
    const one = query.stream_url;
    function* mappings(): Generator<StreamMapping> {
      if (one !== undefined) {
        const placement = streams.peek(one, now);
        if (placement !== undefined && (query.origin_id === undefined || placement.origin_id === query.origin_id)) yield { stream_url: one, ...placement };
        return;
      }
      for (const [stream_url, placement] of streams.entries(now)) {
        if (query.origin_id === undefined || placement.origin_id === query.origin_id) yield { stream_url, ...placement };
      }
    }
    return pageOf(mappings(), query);
  }

  /** Entry counts, for tests of the caps and for metrics. */
  sizes(): { origins: number; streams: number; hls: number; hlsIds: number; rtc: number; penalties: number } {
    return {
      origins: this.#origins.size,
      streams: this.#streams.size,
      hls: this.#hlsByUrl.size,
      hlsIds: this.#hlsBySpbhid.size,
      rtc: this.#rtcByUfrag.size,
      penalties: this.#penalties.size + this.#streamFailures.size,
    };
  }
}
