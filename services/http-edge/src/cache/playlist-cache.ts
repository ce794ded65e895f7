import { clientResponseHeaders, DOCUMENT_DROPPED, type HeaderList } from '../headers.ts';
import { readDocument } from '../origin-client.ts';
import type { Fetched } from '../origin-routing.ts';
import type { CacheMeter } from '../edge-metrics.ts';
import { rewritePlaylist } from '../hls/playlist-rewrite.ts';
import { ByteLru, ENTRY_OVERHEAD_BYTES } from './byte-lru.ts';
import { Coalescer } from './coalescer.ts';
import { cacheKey, isStorableResponse, playlistTtlMs, PLAYLIST_KEY_IGNORED } from './policy.ts';

/** Rewrites kept per cached playlist (one per spbhid × Host a client used); more are computed per request. */
const MAX_PLAYLIST_VARIANTS = 16;
/**
 * Largest entry, in largest documents: the origin's text (charged at two bytes a character) and a
 * couple of client rewrites of it; past that, further variants are computed per request.
 */
const MAX_ENTRY_DOCUMENTS = 4;

/** An origin playlist held for a moment; every client gets its own rewrite, kept per variant. */
export interface CachedPlaylist {
  headers: HeaderList;
  text: string;
  originAuthorities: string[];
  variants: Map<string, PlaylistVariant>;
}

/** One client's rewrite of a cached playlist, with the headers that go with it. */
export interface PlaylistVariant {
  headers: HeaderList;
  body: Buffer;
}

/** A shared playlist fetch: the origin's text for everyone, or an answer only its leader may use. */
export type PlaylistFill =
  | { outcome: 'cached'; entry: CachedPlaylist }
  | { outcome: 'private'; fetched: Fetched; text: string | undefined };

export interface PlaylistCacheOptions {
  /** HttpEdgeLimits.playlistCacheMaxBytes. */
  maxBytes: number;
  /** HttpEdgeLimits.maxDocumentBytes: the largest playlist read. */
  maxDocumentBytes: number;
  /** PROXY_HLS_PLAYLIST_CACHE_TTL (≤ 500 ms, and ≤ half the playlist's target duration per entry). */
  ttlMs: number;
  now: () => number;
}

/**
 * The HLS media-playlist micro-cache: origin playlists by origin + request target for at most
 * `ttlMs`, one origin fetch for every client asking within it, and each client's own rewrite
 * (its spbhid, its Host) computed once (see README "Playlists"). DASH manifests are not cached.
 */
export class PlaylistCache {
  readonly #lru: ByteLru<string, CachedPlaylist>;
  readonly #fills = new Coalescer<string, PlaylistFill>();

  constructor(
    private readonly opts: PlaylistCacheOptions,
    readonly meter: CacheMeter,
  ) {
    this.#lru = new ByteLru(opts.maxBytes, Math.min(opts.maxBytes, opts.maxDocumentBytes * MAX_ENTRY_DOCUMENTS), opts.now);
  }

  get ttlMs(): number {
    return this.opts.ttlMs;
  }

  /** The key of a request target on the origin that serves it. */
  key(originId: string, target: string): string {
    return cacheKey(originId, target, PLAYLIST_KEY_IGNORED);
  }

  get(key: string): CachedPlaylist | undefined {
    return this.#lru.get(key);
  }

  /**
   * Joins the origin fetch of `key` in flight, or leads it with `fetchOne` (its answer is read
   * whole and shared when the origin allows it). `target` is the request target it is stored under.
   */
  fill(key: string, target: string, fetchOne: () => Promise<Fetched>): { result: Promise<PlaylistFill>; leader: boolean } {
    return this.#fills.run(key, () => this.#load(target, fetchOne));
  }

  /** This client's rewrite of a cached playlist (its spbhid and Host), computed once per variant. */
  variant(entry: CachedPlaylist, key: string, spbhid: string, host: string | undefined): PlaylistVariant {
    const id = `${spbhid}\n${host ?? ''}`;
    const done = entry.variants.get(id);
    if (done) return done;
    const body = Buffer.from(
      rewritePlaylist(entry.text, { spbhid, proxyAuthorities: host ? [host] : [], originAuthorities: entry.originAuthorities }).text,
      'utf8',
    );
    const variant = { headers: [...entry.headers, 'content-length', String(body.length)], body };
    if (entry.variants.size < MAX_PLAYLIST_VARIANTS && this.#lru.grow(key, body.length + id.length + ENTRY_OVERHEAD_BYTES)) {
      entry.variants.set(id, variant);
    }
    return variant;
  }

  clear(): void {
    this.#lru.clear();
  }

  async #load(target: string, fetchOne: () => Promise<Fetched>): Promise<PlaylistFill> {
    const lru = this.#lru;
    const fetched = await fetchOne();
    const { ex } = fetched;
    if (ex.statusCode !== 200) return { outcome: 'private', fetched, text: undefined };
    const text = await readDocument(ex, this.opts.maxDocumentBytes);
    const ttl = playlistTtlMs(text, this.opts.ttlMs);
    // Not shared, not even with the requests that joined this fetch: they ask the origin themselves.
    if (ttl <= 0 || !isStorableResponse(ex.headers)) return { outcome: 'private', fetched, text };
    const entry: CachedPlaylist = {
      headers: clientResponseHeaders(ex.headers, { cors: true, drop: DOCUMENT_DROPPED }),
      text,
      originAuthorities: fetched.to.authorities,
      variants: new Map(),
    };
    // Stored under the origin that answered (a failover may have picked another one).
    const storeKey = this.key(fetched.origin.id, target);
    lru.set(storeKey, entry, text.length * 2 + storeKey.length + ENTRY_OVERHEAD_BYTES, ttl);
    this.meter.held(lru.bytes, lru.evictions);
    return { outcome: 'cached', entry };
  }
}
