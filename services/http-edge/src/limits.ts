import type { RelayLimits } from './relay.ts';

/** Every wait and bound of the http-edge; tests shrink them through the constructor. */
export interface HttpEdgeLimits extends RelayLimits {
  originConnectTimeoutMs: number;
  originHeadersTimeoutMs: number;
  originBodyIdleTimeoutMs: number;
  originKeepAliveMs: number;
  maxDocumentBytes: number;
  routeCacheTtlMs: number;
  routeCacheMaxEntries: number;
  clientHeadersTimeoutMs: number;
  clientKeepAliveMs: number;
  playlistCacheMaxBytes: number;
}

export const DEFAULT_HTTP_EDGE_LIMITS: HttpEdgeLimits = {
  // About a second of a 4 Mbps stream: absorbs a player's read jitter without pausing the origin.
  clientWindowBytes: 512 * 1024,
  // Hard cap per client whatever the chunk sizes: 16 window's worth, a few seconds of video.
  maxClientBufferBytes: 8 * 1024 * 1024,
  // A live player that has not read for 10 s is frozen; holding the origin paused longer only
  // makes SRS queue (and later drop) for it too. Also how long a response served from memory may
  // sit in a socket that takes none of it before that client is dropped.
  slowClientTimeoutMs: 10_000,
  // Origins sit on the same network: a connect not done in 3 s means the host is gone; fail over.
  originConnectTimeoutMs: 3_000,
  // SRS and nginx answer headers at once (FLV headers precede the first tag); 10 s means stuck.
  originHeadersTimeoutMs: 10_000,
  // A live stream silent for 30 s has no publisher left; longer than slowClientTimeoutMs so a
  // paused origin is never timed out before its slow client is dropped.
  originBodyIdleTimeoutMs: 30_000,
  // Below SRS's and nginx's keep-alive timeouts (both ≥ 5 s), so we never reuse a socket they closed.
  originKeepAliveMs: 4_000,
  // A live playlist is a few KB; a 24 h VOD playlist of 2 s segments is about 3 MB.
  maxDocumentBytes: 4 * 1024 * 1024,
  // Players fetch several segments per playlist refresh and FLV players arrive in bursts: 5 s
  // saves their registry round trips while staying far below the 120 s session TTL and the
  // origin TTL, so expiry is seen quickly (connect failures bypass the cache at once).
  routeCacheTtlMs: 5_000,
  // Bounds the three caches whatever ids clients invent; one entry per active stream/session.
  routeCacheMaxEntries: 50_000,
  // Slow-loris guard: a client has 10 s to send its request headers.
  clientHeadersTimeoutMs: 10_000,
  // Players reuse connections between segment requests within a target duration (≤ 10 s).
  clientKeepAliveMs: 15_000,
  // Playlists live ≤ 500 ms in the micro-cache: 16 MiB holds thousands of live playlists with
  // their per-session rewrites, and bounds a burst of huge VOD playlists.
  playlistCacheMaxBytes: 16 * 1024 * 1024,
};
