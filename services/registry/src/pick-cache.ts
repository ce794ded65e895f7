import type { OriginRecord } from '@srs-proxy/balancer';

/**
 * Upper bound on how stale a repeat pick answered from memory can be. Failovers are announced on
 * the bus (`stream picked`, `stream origin failed`) and drop the entry on every replica; with one
 * NATS server that event reaches a replica before any request sent after the failover, so the
 * bound only matters when events are lost or overtaken (a NATS cluster, a reconnect). One second
 * against an edge's 2 s pick timeout: a player told a just-failed origin retries with `avoid`,
 * which always bypasses the cache. Origin expiry is checked on every hit, not bounded by this.
 */
export const PICK_CACHE_TTL_MS = 1_000;
/**
 * More streams than a second of picks touches at the rates we measure (5k/s); past it the oldest
 * entries go (answers fall back to the store). Bounds memory: URLs are at most 4 KiB (the pick
 * request bound), so 80 MiB in the worst case, a few MiB with real stream names.
 */
export const PICK_CACHE_MAX = 20_000;

interface Entry {
  /** Undefined: a tombstone left by an invalidation, so a read begun before it is not cached. */
  origin: OriginRecord | undefined;
  until: number;
  /** Generation of the write: compared with a reader's stamp. */
  gen: number;
}

/**
 * Stream → origin answers of the last PICK_CACHE_TTL_MS, so repeat picks of popular streams skip
 * the store round trip. An entry is never refreshed by a hit: its age is bounded by the TTL. The
 * caller re-validates every hit (liveness, protocol, avoid) like a store read, and invalidates on
 * failure reports and on `stream picked` events naming another origin.
 */
export class PickCache {
  readonly #entries = new Map<string, Entry>();
  #gen = 0;

  constructor(
    readonly ttlMs: number = PICK_CACHE_TTL_MS,
    readonly maxEntries: number = PICK_CACHE_MAX,
  ) {}

  get size(): number {
    return this.#entries.size;
  }

  /** Take before reading the store; pass to `remember`. */
  stamp(): number {
    return this.#gen;
  }

  lookup(streamUrl: string, now: number): OriginRecord | undefined {
    const e = this.#entries.get(streamUrl);
    if (e === undefined) return undefined;
    if (e.until <= now) {
      this.#entries.delete(streamUrl);
      return undefined;
    }
    return e.origin;
  }

  /**
   * Caches what a store read returned, unless the stream was invalidated (or cached by a fresher
   * answer) after `stamp` was taken. `created`: this replica just wrote the mapping itself, which
   * supersedes any read still in flight.
   */
  remember(streamUrl: string, origin: OriginRecord, stamp: number, now: number, created: boolean): void {
    if (!created) {
      const e = this.#entries.get(streamUrl);
      if (e !== undefined && e.gen > stamp) return;
    }
    this.#set(streamUrl, { origin, until: now + this.ttlMs, gen: created ? ++this.#gen : this.#gen });
  }

  /** The stream's mapping changed or failed; `unless`: keep an entry that already names this origin. */
  invalidate(streamUrl: string, now: number, unless?: string): void {
    if (unless !== undefined && this.#entries.get(streamUrl)?.origin?.id === unless) return;
    this.#set(streamUrl, { origin: undefined, until: now + this.ttlMs, gen: ++this.#gen });
  }

  clear(): void {
    this.#entries.clear();
  }

  #set(streamUrl: string, e: Entry): void {
    this.#entries.delete(streamUrl);
    this.#entries.set(streamUrl, e);
    // Insertion order is age order (no refresh on hit): the first key is the oldest.
    if (this.#entries.size > this.maxEntries) this.#entries.delete(this.#entries.keys().next().value!);
  }
}
