/**
 * A map whose entries expire `ttlMs` after their last write or refresh and which never holds more
 * than `maxEntries`: past the cap the least recently used entry is evicted. Every entry shares one
 * TTL and a refresh moves it to the end, so iteration order is expiry order and a sweep stops at
 * the first live entry (O(expired)). The clock is passed in by the caller (injected `now`).
 * `onDrop` hears every entry that leaves other than by `clear()`: expired, evicted, deleted or
 * overwritten (so a caller can keep counts of the values in step).
 */
export class BoundedMap<K, V> {
  readonly #entries = new Map<K, { value: V; expiresAt: number }>();

  constructor(
    readonly ttlMs: number,
    readonly maxEntries: number,
    readonly onDrop?: (key: K, value: V) => void,
  ) {
    if (!(ttlMs > 0)) throw new RangeError(`ttlMs must be positive, got ${ttlMs}`);
    if (!(maxEntries >= 1)) throw new RangeError(`maxEntries must be at least 1, got ${maxEntries}`);
  }

  get size(): number {
    return this.#entries.size;
  }

  /** The live value without refreshing it; an expired entry is removed and reads as absent. */
  peek(key: K, now: number): V | undefined {
    const e = this.#entries.get(key);
    if (e === undefined) return undefined;
    if (e.expiresAt <= now) {
      this.#entries.delete(key);
      this.onDrop?.(key, e.value);
      return undefined;
    }
    return e.value;
  }

  /** The live value, refreshing its TTL and LRU position. */
  get(key: K, now: number): V | undefined {
    const value = this.peek(key, now);
    if (value === undefined) return undefined;
    this.#entries.delete(key);
    this.#entries.set(key, { value, expiresAt: now + this.ttlMs });
    return value;
  }

  /** Stores (or replaces) a value with a fresh TTL. Returns the entries evicted to respect the cap. */
  set(key: K, value: V, now: number): Array<[K, V]> {
    const old = this.#entries.get(key);
    if (old !== undefined) {
      this.#entries.delete(key);
      this.onDrop?.(key, old.value);
    }
    this.#entries.set(key, { value, expiresAt: now + this.ttlMs });
    const evicted: Array<[K, V]> = [];
    while (this.#entries.size > this.maxEntries) {
      const oldest = this.#entries.entries().next();
      if (oldest.done) break;
      this.#entries.delete(oldest.value[0]);
      this.onDrop?.(oldest.value[0], oldest.value[1].value);
      evicted.push([oldest.value[0], oldest.value[1].value]);
    }
    return evicted;
  }

  delete(key: K): boolean {
    const e = this.#entries.get(key);
    if (e === undefined) return false;
    this.#entries.delete(key);
    this.onDrop?.(key, e.value);
    return true;
  }

  /** Removes and returns every expired entry. */
  sweep(now: number): Array<[K, V]> {
    const removed: Array<[K, V]> = [];
    for (const [key, e] of this.#entries) {
      if (e.expiresAt > now) break;
      this.#entries.delete(key);
      this.onDrop?.(key, e.value);
      removed.push([key, e.value]);
    }
    return removed;
  }

  /** Live entries, least recently used first (no refresh). */
  *entries(now: number): IterableIterator<[K, V]> {
    for (const [key, e] of this.#entries) {
      if (e.expiresAt > now) yield [key, e.value];
    }
  }

  clear(): void {
    this.#entries.clear();
  }
}
