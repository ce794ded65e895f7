import { StreamUrlError } from './errors.ts';

/**
 * The stream URL key decides where publishers and players meet: every protocol builds it the
 * same way, byte-compatible with the Go proxy (spec 4.2). Pure functions only.
 */
export const DEFAULT_VHOST = '__defaultVhost__';

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/** Splits `scheme://authority/path?query#frag` the way Go's url.Parse does for our inputs. */
function splitUrl(full: string): { hostname: string; rawPath: string } {
  let rest = full;
  const hash = rest.indexOf('#');
  if (hash >= 0) rest = rest.slice(0, hash);
  const q = rest.indexOf('?');
  if (q >= 0) rest = rest.slice(0, q);
  const scheme = /^[A-Za-z][A-Za-z0-9+.-]*:/.exec(rest);
  if (scheme) rest = rest.slice(scheme[0].length);
  if (!rest.startsWith('//')) return { hostname: '', rawPath: rest };
  rest = rest.slice(2);
  const slash = rest.indexOf('/');
  let authority = slash >= 0 ? rest.slice(0, slash) : rest;
  const rawPath = slash >= 0 ? rest.slice(slash) : '';
  const at = authority.lastIndexOf('@');
  if (at >= 0) authority = authority.slice(at + 1);
  let hostname: string;
  if (authority.startsWith('[')) {
    const end = authority.indexOf(']');
    if (end < 0) throw new StreamUrlError(`invalid host in "${full}"`);
    hostname = authority.slice(1, end);
  } else {
    const colon = authority.lastIndexOf(':');
    hostname = colon >= 0 ? authority.slice(0, colon) : authority;
  }
  return { hostname, rawPath };
}

/** Percent-decodes a path like Go's PathUnescape: malformed escapes are an error. */
function unescapePath(raw: string, full: string): string {
  if (!raw.includes('%')) return raw;
  if (/%(?![0-9A-Fa-f]{2})/.test(raw)) throw new StreamUrlError(`invalid escape in "${full}"`);
  try {
    return decodeURIComponent(raw);
  } catch {
    // Escapes that are not UTF-8: decode byte-wise as latin1 rather than failing the session.
    return raw.replace(/%([0-9A-Fa-f]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16)));
  }
}

/** The vhost part: the hostname as written when it looks like a domain, else the default vhost. */
export function vhostOf(hostname: string): string {
  if (!hostname.includes('.') || IPV4.test(hostname)) return DEFAULT_VHOST;
  return hostname;
}

/**
 * `scheme://host[:port]/app/stream[?query]` → `<vhost>/app/stream`. Query dropped, path
 * percent-decoded, no case folding, no slash normalisation (spec 4.2).
 */
export function normalizeStreamUrl(full: string): string {
  if (typeof full !== 'string' || full.length > 4096) throw new StreamUrlError('stream URL too long');
  const { hostname, rawPath } = splitUrl(full);
  return vhostOf(hostname) + unescapePath(rawPath, full);
}

/** RTMP: `tcUrl + "/" + streamName` (the name may carry `?query`, which is dropped from the key). */
export function streamUrlFromRtmp(tcUrl: string, streamName: string): string {
  return normalizeStreamUrl(`${tcUrl}/${streamName}`);
}

/** SRT: `srt://<h or localhost>/<r>`. */
export function streamUrlFromSrt(host: string | undefined, resource: string): string {
  return normalizeStreamUrl(`srt://${host || 'localhost'}/${resource}`);
}

export interface HttpStreamUrl {
  /** The normalised key. */
  key: string;
  /** `scheme://host/app/stream` before normalisation (logs). */
  unified: string;
  /** `unified + extension` (logs, HLS session record). */
  full: string;
  /** Extension of the request path including the dot (`.flv`), or ''. */
  ext: string;
}

/** Go's path.Ext: the suffix from the last dot of the final path element. */
export function pathExt(path: string): string {
  for (let i = path.length - 1; i >= 0 && path[i] !== '/'; i--) {
    if (path[i] === '.') return path.slice(i);
  }
  return '';
}

/**
 * HTTP (FLV/TS/HLS/DASH, WHIP/WHEP), spec 6.2: the Host header's host only when it carries a
 * port, else the default vhost; `app`/`stream` query parameters win over the path; otherwise the
 * path minus its extension.
 */
export function streamUrlFromHttp(req: { host: string | undefined; path: string; query: URLSearchParams; tls?: boolean }): HttpStreamUrl {
  const scheme = req.tls ? 'https' : 'http';
  let host = DEFAULT_VHOST;
  const h = req.host ?? '';
  if (h.includes(':')) {
    const m = /^(\[[^\]]*\]|[^:]*):(\d*)$/.exec(h);
    if (m && m[1]) host = m[1];
  }
  const app = req.query.get('app') ?? '';
  const stream = req.query.get('stream') ?? '';
  const ext = pathExt(req.path);
  let appStream = '';
  if (app) appStream += `/${app}`;
  if (stream) appStream += `/${stream}`;
  if (!appStream) appStream = ext ? req.path.slice(0, req.path.length - ext.length) : req.path;
  const unified = `${scheme}://${host}${appStream}`;
  return { key: normalizeStreamUrl(unified), unified, full: unified + ext, ext };
}
