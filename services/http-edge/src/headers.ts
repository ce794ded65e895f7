import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';

/** RFC 9110 7.6.1 hop-by-hop fields, plus `host` (set per origin) and the legacy proxy ones. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/** CORS of spec 6.5: stream responses (and their errors) are readable from any page. */
export const CORS_HEADERS: Readonly<Record<string, string>> = {
  'access-control-allow-origin': '*',
  'access-control-allow-headers': '*',
  'access-control-allow-methods': '*',
};

/** Field names a `Connection` header lists are hop-by-hop too. */
function connectionTokens(value: string | string[] | undefined): Set<string> | undefined {
  if (value === undefined) return undefined;
  const text = Array.isArray(value) ? value.join(',') : value;
  const out = new Set<string>();
  for (const t of text.split(',')) {
    const n = t.trim().toLowerCase();
    if (n) out.add(n);
  }
  return out.size > 0 ? out : undefined;
}

export interface OriginRequestOptions {
  /** Address of the client (socket peer) for X-Forwarded-For / X-Real-IP. */
  clientIp: string | undefined;
  /** Drop `accept-encoding` and validators: the body will be rewritten and must be plain text. */
  forRewrite: boolean;
}

/** Request fields dropped when we rewrite the response: compression and conditional requests. */
const REWRITE_DROPPED = new Set(['accept-encoding', 'if-none-match', 'if-modified-since', 'if-range', 'range']);

/**
 * Client request headers → origin request headers: end-to-end fields kept (Range, User-Agent,
 * Cookie… SRS uses them for hooks and byte ranges), hop-by-hop and `host` dropped,
 * X-Forwarded-For appended and X-Real-IP set to the client's address.
 */
export function originRequestHeaders(incoming: IncomingHttpHeaders, opts: OriginRequestOptions): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  const listed = connectionTokens(incoming.connection);
  for (const [name, value] of Object.entries(incoming)) {
    if (value === undefined || name === 'host' || HOP_BY_HOP.has(name) || listed?.has(name)) continue;
    if (name === 'x-forwarded-for' || name === 'x-real-ip' || name === 'content-length') continue;
    if (opts.forRewrite && REWRITE_DROPPED.has(name)) continue;
    out[name] = value;
  }
  if (opts.clientIp) {
    const ip = opts.clientIp.startsWith('::ffff:') ? opts.clientIp.slice(7) : opts.clientIp;
    const prior = incoming['x-forwarded-for'];
    const priorText = Array.isArray(prior) ? prior.join(', ') : prior;
    out['x-forwarded-for'] = priorText ? `${priorText}, ${ip}` : ip;
    out['x-real-ip'] = ip;
  }
  return out;
}

/**
 * Origin response headers → client response headers: end-to-end fields kept (Content-Type,
 * Cache-Control, Content-Length…), hop-by-hop dropped, CORS set by us (overriding the origin's).
 * `drop` removes fields the caller replaces (e.g. the length of a rewritten body).
 */
export function clientResponseHeaders(
  origin: Record<string, string | string[] | undefined>,
  opts: { cors: boolean; drop?: ReadonlySet<string> },
): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  const listed = connectionTokens(origin.connection);
  for (const [name, value] of Object.entries(origin)) {
    if (value === undefined || HOP_BY_HOP.has(name) || listed?.has(name) || opts.drop?.has(name)) continue;
    if (opts.cors && name.startsWith('access-control-')) continue;
    out[name] = value;
  }
  if (opts.cors) Object.assign(out, CORS_HEADERS);
  return out;
}
