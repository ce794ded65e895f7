/**
 * What the edge caches may store and share (pure functions). Shared caches follow RFC 9111's
 * rules for what must never be shared; the TTLs are ours (segments are immutable under their
 * name, playlists change every target duration).
 */
import { SPBHID } from '../uri-tag.ts';

/** Media segments and init sections (fMP4, audio-only): immutable once they appear in a playlist. */
const SEGMENT_SUFFIXES = ['.ts', '.m4s', '.mp4', '.aac', '.m4a', '.m4v'];

export function isCacheableSegment(path: string): boolean {
  for (const s of SEGMENT_SUFFIXES) if (path.endsWith(s)) return true;
  return false;
}

/**
 * Request fields that make a request unsuitable for a shared answer: a partial response, or an
 * answer the origin may tailor to (or authorise for) this one client.
 */
const PRIVATE_REQUEST_FIELDS = new Set(['range', 'authorization', 'cookie']);

/** Whether a request (its `rawHeaders`) may be answered from, and fill, a shared cache. */
export function isShareableRequest(rawHeaders: readonly string[]): boolean {
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    // Cheap length filter first: the three names are 5, 6 and 13 characters long.
    if ((name.length === 5 || name.length === 6 || name.length === 13) && PRIVATE_REQUEST_FIELDS.has(name.toLowerCase())) return false;
  }
  return true;
}

/**
 * Whether an origin answer may be stored and given to other clients: not when it sets cookies,
 * varies by request fields we do not key on, or says so itself (`no-store`, `private`). A bare
 * `no-cache` is not honoured: live origins send it for players, and a segment never changes.
 */
export function isStorableResponse(headers: readonly string[]): boolean {
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i]!;
    if (name === 'set-cookie' || name === 'vary') return false;
    if (name === 'cache-control' && /(?:^|[\s,])(?:no-store|private)(?:$|[\s,=])/i.test(headers[i + 1]!)) return false;
  }
  return true;
}

/**
 * Query parameters a segment's bytes do not depend on: ours (`spbhid`, which differs per edge
 * session) and SRS's per-player `hls_ctx` (SRS only uses it on segments for per-player byte
 * statistics; keeping it would give every player its own copy of each segment).
 */
export const SEGMENT_KEY_IGNORED: ReadonlySet<string> = new Set([SPBHID, 'hls_ctx']);

/**
 * Only our session id: a playlist's `hls_ctx` identifies the SRS player session it belongs to
 * (SRS keeps that session alive by its playlist requests), so it stays in the key.
 */
export const PLAYLIST_KEY_IGNORED: ReadonlySet<string> = new Set([SPBHID]);

/**
 * The cache key of a request on one origin: origin id, path and query as sent, minus the
 * parameters named in `ignored` (order of the others kept; names compared as sent).
 */
export function cacheKey(originId: string, target: string, ignored: ReadonlySet<string>): string {
  const q = target.indexOf('?');
  if (q < 0) return `${originId}\n${target}`;
  const kept: string[] = [];
  for (const part of target.slice(q + 1).split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    if (!ignored.has(eq < 0 ? part : part.slice(0, eq))) kept.push(part);
  }
  return `${originId}\n${target.slice(0, q)}${kept.length > 0 ? `?${kept.join('&')}` : ''}`;
}

/** `#EXT-X-TARGETDURATION:<s>` and LL-HLS `PART-TARGET=<s>`: how often the playlist changes. */
const TARGET_DURATION = /^#EXT-X-TARGETDURATION:\s*([\d.]+)/m;
const PART_TARGET = /^#EXT-X-PART-INF:.*?PART-TARGET=([\d.]+)/m;

/**
 * How long a playlist may be served from the micro-cache: the configured TTL, but never more
 * than half of the interval at which the playlist changes (parts for LL-HLS), so a player
 * reloading on schedule never misses an update by more than half a step. 0 (not cached) for a
 * master playlist (no target duration): players fetch it once, so sharing it saves nothing, and
 * SRS answers each one with a master naming a new per-player session (`hls_ctx`) that must not be
 * handed to other players.
 */
export function playlistTtlMs(text: string, configuredMs: number): number {
  const target = TARGET_DURATION.exec(text);
  if (!target) return 0;
  let ttl = configuredMs;
  for (const m of [target, PART_TARGET.exec(text)]) {
    if (m) {
      const halfMs = (Number(m[1]) * 1000) / 2;
      if (Number.isFinite(halfMs) && halfMs >= 0) ttl = Math.min(ttl, halfMs);
    }
  }
  return ttl;
}
