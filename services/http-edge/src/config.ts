import { fileURLToPath } from 'node:url';
import { ConfigError, f, type Field } from '@srs-proxy/runtime';

/**
 * Default static directory: the page bundled with this package, so the default always exists
 * whatever the working directory (upstream's `../trunk/research` only exists inside an SRS
 * checkout, and its absence hung the Go proxy at start-up, spec 2.4).
 */
export const BUNDLED_STATIC_DIR = fileURLToPath(new URL('../static', import.meta.url));

/**
 * Longest playlist micro-cache: a live player reloads every target duration (≥ 1 s) and expects
 * each reload to be fresh; half a second of staleness is what CDN edges allow themselves.
 */
export const MAX_PLAYLIST_CACHE_MS = 500;

/** Largest segment cache accepted: the edge holds it in its own heap. */
const MAX_SEGMENT_CACHE_BYTES = 16 * 1024 ** 3;

/** A duration no longer than `maxMs`. */
function boundedDuration(env: string, def: string, maxMs: number, doc: string): Field<number> {
  const base = f.duration(env, def, doc);
  return {
    ...base,
    parse(raw, variable) {
      const ms = base.parse(raw, variable);
      if (ms > maxMs) throw new ConfigError(variable, `${ms}ms is longer than the ${maxMs}ms maximum`);
      return ms;
    },
  };
}

/** Settings of the http-edge service; defaults are the Go proxy's where it has one. */
export const httpEdgeSchema = {
  listen: f.listen('PROXY_HTTP_SERVER', '18080', 'HTTP stream listener (HTTP-FLV, HTTP-TS, HLS, DASH, static files).'),
  staticFiles: f.string('PROXY_STATIC_FILES', BUNDLED_STATIC_DIR,
    'Directory of player pages served for non-stream paths (no listings, nothing outside it). Must exist: a missing directory stops start-up. Default: the page bundled with http-edge.'),
  segmentCacheBytes: f.int('PROXY_HLS_SEGMENT_CACHE_BYTES', String(64 * 1024 * 1024),
    'Memory (bytes) of the edge cache of HLS/DASH segments (.ts .m4s .mp4 .aac .m4a .m4v requested with spbhid), an LRU shared by all players: the players of a live stream fetch the same few segments, so each is fetched from the origin once per TTL, and concurrent requests for one segment make one origin fetch. Segments over 1/8 of it are relayed uncached. 0 turns the cache off.',
    0, MAX_SEGMENT_CACHE_BYTES),
  segmentCacheTtl: f.duration('PROXY_HLS_SEGMENT_CACHE_TTL', '10s',
    'How long a cached segment is served without asking the origin again. A live segment never changes under its name; the TTL only bounds how long a name reused after a republish could still serve the old bytes.'),
  playlistCacheTtl: boundedDuration('PROXY_HLS_PLAYLIST_CACHE_TTL', '500ms', MAX_PLAYLIST_CACHE_MS,
    'Micro-cache of HLS playlists fetched from origins: players asking within this window share one origin fetch (each still gets its own spbhid rewrite). Never longer than half the playlist\'s target (or part) duration, at most 500ms. 0 turns it off.'),
} as const;
