/**
 * Header fields as a flat list `[name, value, name, value, …]`, names lower-case: the form
 * undici takes for a request and `res.writeHead` writes without building an object, so a
 * proxied request allocates no per-field objects on its way through. Repeated fields stay
 * separate entries (`set-cookie`).
 */
export type HeaderList = string[];

/** RFC 9110 7.6.1 hop-by-hop fields, plus the legacy proxy ones. */
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
const CORS_LIST: readonly string[] = Object.entries(CORS_HEADERS).flat();

/** Field names a `Connection` header lists are hop-by-hop too. */
function addConnectionTokens(value: string, into: Set<string>): void {
  for (const t of value.split(',')) {
    const n = t.trim().toLowerCase();
    if (n) into.add(n);
  }
}

/** Removes the fields named in `names` from a list (rare: only when `Connection` lists extra fields). */
function without(list: HeaderList, names: ReadonlySet<string>): HeaderList {
  const out: HeaderList = [];
  for (let i = 0; i < list.length; i += 2) if (!names.has(list[i]!)) out.push(list[i]!, list[i + 1]!);
  return out;
}

/** First value of `name` (lower-case) in a list. */
export function headerValue(list: readonly string[], name: string): string | undefined {
  for (let i = 0; i < list.length; i += 2) if (list[i] === name) return list[i + 1];
  return undefined;
}

export interface OriginRequestOptions {
  /** Address of the client (socket peer) for X-Forwarded-For / X-Real-IP. */
  clientIp: string | undefined;
  /**
   * Drop `accept-encoding`, validators and ranges: the body will be rewritten (a document) or
   * shared between clients (a cached segment), so it must be the plain, whole representation.
   */
  forRewrite: boolean;
}

/** Request fields dropped when the response is rewritten or shared: compression and conditional requests. */
const REWRITE_DROPPED = new Set(['accept-encoding', 'if-none-match', 'if-modified-since', 'if-range', 'range']);

/**
 * Client request headers (`req.rawHeaders`, any case) → origin request headers: end-to-end fields
 * kept (Range, User-Agent, Cookie… SRS uses them for hooks and byte ranges), hop-by-hop and
 * `host` dropped, X-Forwarded-For appended and X-Real-IP set to the client's address.
 */
export function originRequestHeaders(raw: readonly string[], opts: OriginRequestOptions): HeaderList {
  let out: HeaderList = [];
  let listed: Set<string> | undefined;
  let priorXff: string | undefined;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    const value = raw[i + 1]!;
    if (name === 'connection') addConnectionTokens(value, (listed ??= new Set()));
    if (name === 'host' || name === 'x-real-ip' || name === 'content-length' || HOP_BY_HOP.has(name)) continue;
    if (name === 'x-forwarded-for') {
      priorXff = priorXff === undefined ? value : `${priorXff}, ${value}`;
      continue;
    }
    if (opts.forRewrite && REWRITE_DROPPED.has(name)) continue;
    out.push(name, value);
  }
  if (listed) out = without(out, listed);
  if (opts.clientIp) {
    const ip = opts.clientIp.startsWith('::ffff:') ? opts.clientIp.slice(7) : opts.clientIp;
    out.push('x-forwarded-for', priorXff ? `${priorXff}, ${ip}` : ip, 'x-real-ip', ip);
  }
  return out;
}

/**
 * Origin response headers (lower-case names) → client response headers: end-to-end fields kept
 * (Content-Type, Cache-Control, Content-Length…), hop-by-hop dropped, CORS set by us (replacing
 * the origin's). `drop` removes fields the caller replaces (e.g. the length of a rewritten body).
 */
export function clientResponseHeaders(origin: readonly string[], opts: { cors: boolean; drop?: ReadonlySet<string> }): HeaderList {
  let out: HeaderList = [];
  let listed: Set<string> | undefined;
  for (let i = 0; i + 1 < origin.length; i += 2) {
    const name = origin[i]!;
    if (name === 'connection') addConnectionTokens(origin[i + 1]!, (listed ??= new Set()));
    if (HOP_BY_HOP.has(name) || opts.drop?.has(name)) continue;
    if (opts.cors && name.startsWith('access-control-')) continue;
    out.push(name, origin[i + 1]!);
  }
  if (listed) out = without(out, listed);
  if (opts.cors) out.push(...CORS_LIST);
  return out;
}

/** Rewritten documents get a new length; validators and encodings of the origin no longer apply. */
export const DOCUMENT_DROPPED: ReadonlySet<string> = new Set(['content-length', 'content-encoding', 'etag', 'last-modified', 'accept-ranges', 'content-range']);
