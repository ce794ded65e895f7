/**
 * A least-recently-used cache bounded by bytes, whose entries also expire `ttlMs` after they were
 * stored. The caller states each entry's size; the total never passes `maxBytes` (least recently
 * used entries go first, and an entry larger than `maxObjectBytes` is refused). Expired entries
 * are dropped when looked up or when they reach the cold end. The clock is injected.
 */
export class ByteLru<K, V> {
  /** Map order is recency order: the first key is the least recently used. */
  readonly #entries = new Map<K, { value: V; bytes: number; expiresAt: number }>();
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
    if (e.expiresAt <= this.now()) {
      this.#remove(key, e.bytes);
      return undefined;
    }
    // Most recently used moves to the warm end.
    this.#entries.delete(key);
    this.#entries.set(key, e);
    return e.value;
  }

  /** Stores an entry; false when it is too large or its TTL is not positive (nothing stored). */
  set(key: K, value: V, bytes: number, ttlMs: number): boolean {
    const old = this.#entries.get(key);
    if (old) this.#remove(key, old.bytes);
    if (!(ttlMs > 0) || bytes > this.maxObjectBytes || bytes > this.maxBytes) return false;
    this.#entries.set(key, { value, bytes, expiresAt: this.now() + ttlMs });
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

  /** Drops expired entries at the cold end, then least recently used ones until within budget. */
  #makeRoom(keep: K): void {
    const now = this.now();
    for (const [key, e] of this.#entries) {
      const expired = e.expiresAt <= now;
      if (!expired && this.#bytes <= this.maxBytes) break;
      if (key === keep && !expired) continue;
      this.#remove(key, e.bytes);
      if (!expired) this.#evictions++;
    }
  }
}
