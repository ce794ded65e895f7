import { BoundedMap } from '@srs-proxy/balancer';

/**
 * The edge's memory of registry answers: an answer is fresh (reused without asking) for
 * `freshMs`, then kept up to `staleMs` to answer from only while the control plane cannot
 * (stale-if-error, see control-plane.ts). Bounded in count (LRU) and in age; injected clock.
 */
export class StaleIfErrorMap<K, V> {
  readonly #entries: BoundedMap<K, { value: V; at: number }>;
  readonly #freshMs: number;
  readonly #now: () => number;

  constructor(opts: { freshMs: number; staleMs?: number; maxEntries: number; now?: () => number }) {
    this.#freshMs = opts.freshMs;
    this.#entries = new BoundedMap(Math.max(opts.freshMs, opts.staleMs ?? 0), opts.maxEntries);
    this.#now = opts.now ?? Date.now;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** The value while fresh. */
  fresh(key: K): V | undefined {
    const now = this.#now();
    const e = this.#entries.peek(key, now);
    return e !== undefined && now - e.at < this.#freshMs ? e.value : undefined;
  }

  /** The value at any age the map keeps: for when the registry cannot answer. */
  stale(key: K): V | undefined {
    return this.#entries.peek(key, this.#now())?.value;
  }

  set(key: K, value: V): void {
    const now = this.#now();
    this.#entries.set(key, { value, at: now }, now);
  }

  delete(key: K): void {
    this.#entries.delete(key);
  }

  /** Kept entries at any age, least recently written first. */
  *entries(): IterableIterator<[K, V]> {
    for (const [k, e] of this.#entries.entries(this.#now())) yield [k, e.value];
  }

  clear(): void {
    this.#entries.clear();
  }
}
