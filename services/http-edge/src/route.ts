import { streamUrlFromHttp, type HttpStreamUrl } from '@srs-proxy/balancer';
import { SPBHID } from './uri-tag.ts';

/**
 * What a request on the HTTP stream port is (spec 6.1, extended with DASH and fMP4 sessions).
 * Pure: the request target and Host header in, a route out.
 */
export type StreamKind = 'flv' | 'ts' | 'hls-playlist' | 'dash-manifest' | 'segment';
export type RouteKind = 'versions' | StreamKind | 'static';

export interface Route {
  kind: RouteKind;
  /** Percent-decoded path (suffix tests and stream keys use it, as upstream). */
  path: string;
  /** Path and query exactly as the client sent them: what the origin is asked for. */
  target: string;
  /** The query as sent (without `?`). */
  rawQuery: string;
  query: URLSearchParams;
  /** Session id of a playlist/segment request, when the query carries one. */
  spbhid: string | undefined;
}

export type RouteResult =
  | ({ ok: true } & Route)
  | { ok: false; redirect: string }
  | { ok: false; redirect?: undefined; reason: string };

export const VERSIONS_PATH = '/api/v1/versions';

/** Longest request target we route; longer ones are refused before any parsing. */
export const MAX_TARGET_LENGTH = 8192;

/** Session ids the registry mints are 7 hex chars; anything outside this shape is unknown. */
const SPBHID_SHAPE = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * Go's path.Clean for a rooted path, keeping a trailing slash (net/http ServeMux's rule):
 * collapses `//`, removes `.` and resolves `..` without escaping the root.
 */
export function cleanPath(p: string): string {
  const out: string[] = [];
  for (const seg of p.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') out.pop();
    else out.push(seg);
  }
  let cleaned = `/${out.join('/')}`;
  if (p.endsWith('/') && cleaned !== '/') cleaned += '/';
  return cleaned;
}

/** Re-encodes a decoded path for a Location header, keeping `/`. */
function encodePath(p: string): string {
  return p.split('/').map(encodeURIComponent).join('/');
}

function kindOf(path: string, spbhid: string | undefined): RouteKind {
  if (path === VERSIONS_PATH) return 'versions';
  if (path.endsWith('.m3u8')) return 'hls-playlist';
  if (path.endsWith('.mpd')) return 'dash-manifest';
  // Upstream: `.flv`/`.ts` with spbhid are HLS segments. Every other URI we tagged in an HLS
  // playlist or a DASH manifest (fMP4 `.m4s`/`.mp4`, `.m4v`, `.aac`, keys, init sections) is a
  // segment of that session too; which of the two tagged it does not change how it is served.
  if (spbhid !== undefined) return 'segment';
  if (path.endsWith('.flv')) return 'flv';
  if (path.endsWith('.ts')) return 'ts';
  return 'static';
}

/** The first value of `name` in a raw query, exactly as URLSearchParams would give it. */
function firstParam(rawQuery: string, name: string): string | null {
  // Escapes and `+` need URLSearchParams' decoding; a plain query is read directly (hot path).
  if (rawQuery.includes('%') || rawQuery.includes('+')) return new URLSearchParams(rawQuery).get(name);
  let from = 0;
  while (from <= rawQuery.length) {
    let amp = rawQuery.indexOf('&', from);
    if (amp < 0) amp = rawQuery.length;
    const eq = rawQuery.indexOf('=', from);
    const nameEnd = eq >= 0 && eq < amp ? eq : amp;
    if (nameEnd - from === name.length && rawQuery.startsWith(name, from)) return nameEnd === amp ? '' : rawQuery.slice(eq + 1, amp);
    from = amp + 1;
  }
  return null;
}

/** A routed request; the parsed query is built only when a caller needs it. */
class RoutedRequest implements Route {
  readonly ok = true;
  #query: URLSearchParams | undefined;

  constructor(
    readonly kind: RouteKind,
    readonly path: string,
    readonly target: string,
    readonly rawQuery: string,
    readonly spbhid: string | undefined,
  ) {}

  get query(): URLSearchParams {
    this.#query ??= new URLSearchParams(this.rawQuery);
    return this.#query;
  }
}

/**
 * Classifies a request target. Paths with `//`, `.` or `..` segments get a redirect to the
 * cleaned path, as the Go proxy's router does; malformed escapes and NULs are refused.
 */
export function route(target: string): RouteResult {
  if (target.length > MAX_TARGET_LENGTH) return { ok: false, reason: 'request target too long' };
  if (target.charCodeAt(0) !== 0x2f) return { ok: false, reason: 'request target must be a path' };
  const q = target.indexOf('?');
  const rawPath = q >= 0 ? target.slice(0, q) : target;
  const rawQuery = q >= 0 ? target.slice(q + 1) : '';
  let path = rawPath;
  if (rawPath.includes('%')) {
    try {
      path = decodeURIComponent(rawPath);
    } catch {
      return { ok: false, reason: 'malformed percent-encoding in path' };
    }
  }
  if (path.includes('\0')) return { ok: false, reason: 'NUL in path' };
  // Only a path with `//` or a dot segment can differ from its cleaned form.
  if (path.includes('//') || path.includes('/.')) {
    const cleaned = cleanPath(path);
    if (cleaned !== path) return { ok: false, redirect: encodePath(cleaned) + (q >= 0 ? `?${rawQuery}` : '') };
  }
  const id = firstParam(rawQuery, SPBHID) || undefined;
  return new RoutedRequest(kindOf(path, id), path, target, rawQuery, id);
}

/** Whether a session id has a shape the registry could have minted (cheap pre-check). */
export function plausibleSpbhid(id: string): boolean {
  return SPBHID_SHAPE.test(id);
}

/** The stream URL key of a request (spec 6.2): Host header, `app`/`stream` query, else the path. */
export function streamKeyOf(r: Route, host: string | undefined): HttpStreamUrl {
  return streamUrlFromHttp({ host, path: r.path, query: r.query });
}
