/** Bookkeeping bytes callers charge per entry besides its body, so tiny entries cannot grow memory unaccounted. */
export const ENTRY_OVERHEAD_BYTES = 512;

/** Granularity of the recency order: entries used within this step of each other count as equally recent. */
const RECENCY_STEP_MS = 100;

/**
 * A least-recently-used cache bounded by bytes, whose entries also expire `ttlMs` after they were
 * stored. The caller states each entry's size; the total never passes `maxBytes` (expired
 * entries go first, then the least recently used ones; an entry larger than `maxObjectBytes` is
 * refused). Expired entries are otherwise dropped when looked up. The clock is injected.
 */
export class ByteLru<K, V> {
  /** Map order is recency order: the first key is the least recently used. */
  readonly #entries = new Map<K, { value: V; bytes: number; expiresAt: number; usedAt: number }>();
  #bytes = 0;
  #evictions = 0;

  constructor(
    readonly maxBytes: number,
    readonly maxObjectBytes: number,
    private readonly now: () => number = Date.now,
  ) {
    if (!(maxBytes >= 0)) throw new RangeError(`maxBytes must not be negative, got ${maxBytes}`);
    if (!(maxObjectBytes >= 0)) throw new RangeError(`maxObjectBytes must not be negative, got ${maxObjectBytes}`);
  }

  /** Bytes held now. */
  get bytes(): number {
    return this.#bytes;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Entries pushed out to make room (not counting expiry). */
  get evictions(): number {
    return this.#evictions;
  }

  get(key: K): V | undefined {
    const e = this.#entries.get(key);
    if (e === undefined) return undefined;
    const now = this.now();
    if (e.expiresAt <= now) {
      this.#remove(key, e.bytes);
      return undefined;
    }
    // Most recently used moves to the warm end; at most once per RECENCY_STEP_MS, since a hot
    // entry read thousands of times a second would otherwise pay two map writes per read.
    if (now - e.usedAt >= RECENCY_STEP_MS) {
      e.usedAt = now;
      this.#entries.delete(key);
      this.#entries.set(key, e);
    }
    return e.value;
  }

  /** Stores an entry; false when it is too large or its TTL is not positive (nothing stored). */
  set(key: K, value: V, bytes: number, ttlMs: number): boolean {
    const old = this.#entries.get(key);
    if (old) this.#remove(key, old.bytes);
    if (!(ttlMs > 0) || bytes > this.maxObjectBytes || bytes > this.maxBytes) return false;
    const now = this.now();
    this.#entries.set(key, { value, bytes, expiresAt: now + ttlMs, usedAt: now });
    this.#bytes += bytes;
    this.#makeRoom(key);
    return true;
  }

  /** Accounts `extra` more bytes to an entry that grew (e.g. a derived variant cached inside it). */
  grow(key: K, extra: number): boolean {
    const e = this.#entries.get(key);
    if (!e) return false;
    if (e.bytes + extra > this.maxObjectBytes || e.bytes + extra > this.maxBytes) return false;
    e.bytes += extra;
    this.#bytes += extra;
    this.#makeRoom(key);
    return this.#entries.has(key);
  }

  delete(key: K): void {
    const e = this.#entries.get(key);
    if (e) this.#remove(key, e.bytes);
  }

  clear(): void {
    this.#entries.clear();
    this.#bytes = 0;
  }

  #remove(key: K, bytes: number): void {
    this.#entries.delete(key);
    this.#bytes -= bytes;
  }

  /**
   * Drops expired entries at the cold end; when still over budget, every expired entry (a scan,
   * only on the store of a new entry into a full cache), then the least recently used ones.
   */
  #makeRoom(keep: K): void {
    const now = this.now();
    for (const [key, e] of this.#entries) {
      if (e.expiresAt > now) break;
      if (key !== keep) this.#remove(key, e.bytes);
    }
    if (this.#bytes <= this.maxBytes) return;
    for (const [key, e] of this.#entries) if (e.expiresAt <= now && key !== keep) this.#remove(key, e.bytes);
    for (const [key, e] of this.#entries) {
      if (this.#bytes <= this.maxBytes) break;
      if (key === keep) continue;
      this.#remove(key, e.bytes);
      this.#evictions++;
    }
  }
}
