import { errorCode } from '@srs-proxy/runtime';
import { clientResponseHeaders, type HeaderList } from '../headers.ts';
import { collectBody } from '../origin-client.ts';
import type { Fetched } from '../origin-routing.ts';
import type { CacheMeter } from '../edge-metrics.ts';
import { DOCUMENT_TOO_LARGE } from '../errors.ts';
import { ByteLru, ENTRY_OVERHEAD_BYTES } from './byte-lru.ts';
import { Coalescer } from './coalescer.ts';
import { cacheKey, isStorableResponse, SEGMENT_KEY_IGNORED } from './policy.ts';

/** A segment larger than this share of the cache is relayed uncached (one video must not flush the rest). */
export const MAX_SEGMENT_SHARE = 8;
/** A body held in memory is sent with its own length. */
const LENGTH_DROPPED = new Set(['content-length']);

/** A whole response held in memory: status, client headers (with the body's length), body. */
export interface StoredResponse {
  status: number;
  headers: HeaderList;
  body: Buffer;
}

/**
 * How a shared fetch of a segment ended: a stored answer (`shared`: other clients may have it
 * too), a body too large to hold (the leader relays it; the others fetch on their own), or an
 * answer that turned out too large while being read (everyone fetches on their own).
 */
export type SegmentFill =
  | { outcome: 'stored'; stored: StoredResponse; shared: boolean }
  | { outcome: 'stream'; fetched: Fetched }
  | { outcome: 'retry' };

export interface SegmentCacheOptions {
  /** PROXY_HLS_SEGMENT_CACHE_BYTES. */
  maxBytes: number;
  /** PROXY_HLS_SEGMENT_CACHE_TTL. */
  ttlMs: number;
  now: () => number;
}

/**
 * HLS and DASH segments shared by every player of a stream: immutable bodies by origin + request
 * target, an LRU bounded by bytes, and one origin fetch per segment however many players ask for
 * it at once (see README "Segments").
 */
export class SegmentCache {
  readonly #lru: ByteLru<string, StoredResponse>;
  readonly #fills = new Coalescer<string, SegmentFill>();

  constructor(
    private readonly opts: SegmentCacheOptions,
    readonly meter: CacheMeter,
  ) {
    this.#lru = new ByteLru(opts.maxBytes, Math.floor(opts.maxBytes / MAX_SEGMENT_SHARE), opts.now);
  }

  get maxBytes(): number {
    return this.#lru.maxBytes;
  }

  get ttlMs(): number {
    return this.opts.ttlMs;
  }

  /** The key of a request target on the origin that serves it. */
  key(originId: string, target: string): string {
    return cacheKey(originId, target, SEGMENT_KEY_IGNORED);
  }

  get(key: string): StoredResponse | undefined {
    return this.#lru.get(key);
  }

  /**
   * Joins the origin fetch of `key` in flight, or leads it with `fetchShared` (a request asked for
   * whole and uncompressed, belonging to no client, so a leader leaving does not cut it short for
   * the others). `target` is the request target the answer is stored under.
   */
  fill(key: string, target: string, fetchShared: () => Promise<Fetched>): { result: Promise<SegmentFill>; leader: boolean } {
    return this.#fills.run(key, () => this.#load(target, fetchShared));
  }

  clear(): void {
    this.#lru.clear();
  }

  /** One origin fetch, read whole (bounded) into memory, stored if the origin allows sharing it. */
  async #load(target: string, fetchShared: () => Promise<Fetched>): Promise<SegmentFill> {
    const lru = this.#lru;
    const fetched = await fetchShared();
    const { ex } = fetched;
    const declared = Number(ex.header('content-length'));
    if (declared > lru.maxObjectBytes) return { outcome: 'stream', fetched };
    let body: Buffer;
    try {
      body = await collectBody(ex, lru.maxObjectBytes);
    } catch (err) {
      if (errorCode(err) === DOCUMENT_TOO_LARGE) return { outcome: 'retry' };
      throw err;
    }
    const headers = clientResponseHeaders(ex.headers, { cors: true, drop: LENGTH_DROPPED });
    headers.push('content-length', String(body.length));
    const stored: StoredResponse = { status: ex.statusCode, headers, body };
    const shared = ex.statusCode === 200 && isStorableResponse(ex.headers);
    if (shared) {
      // Stored under the origin that answered (a failover may have picked another one).
      const key = this.key(fetched.origin.id, target);
      lru.set(key, stored, body.length + key.length + ENTRY_OVERHEAD_BYTES, this.opts.ttlMs);
      this.meter.held(lru.bytes, lru.evictions);
    }
    return { outcome: 'stored', stored, shared };
  }
}
