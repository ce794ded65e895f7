/**
 * Tagging one URI found in a playlist or manifest with the session id (`spbhid`), so the request
 * the player later makes for it can be routed to the origin that served the playlist. Pure.
 */

/** The query parameter carrying the session id; the Go proxy's name, kept for compatibility. */
export const SPBHID = 'spbhid';

export interface TagContext {
  /** Session id to add. */
  spbhid: string;
  /**
   * Authorities (`host:port`, compared case-insensitively) that mean "this proxy": the request's
   * Host header. Absolute URIs on them are tagged and kept absolute.
   */
  proxyAuthorities: readonly string[];
  /**
   * Authorities of the origin that produced the document. Absolute URIs on them would send the
   * player straight to the origin (usually unreachable from outside); they are made
   * path-absolute so they come back through the proxy, then tagged.
   */
  originAuthorities: readonly string[];
  /** Separator between query parameters in the raw text: `&` in m3u8, `&amp;` in XML. */
  separator: '&' | '&amp;';
}

export type TagOutcome = 'tagged' | 'foreign' | 'empty';

const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*):/;

/** `//authority/path…` → [authority, rest starting at the path]. */
function splitAuthority(afterSlashes: string): [string, string] {
  let end = afterSlashes.length;
  for (const c of ['/', '?', '#']) {
    const i = afterSlashes.indexOf(c);
    if (i >= 0 && i < end) end = i;
  }
  return [afterSlashes.slice(0, end), afterSlashes.slice(end)];
}

/** Drops userinfo and a default port so `h:80` and `h` compare equal for http. */
function canonicalAuthority(authority: string, scheme: string): string {
  let a = authority.toLowerCase();
  const at = a.lastIndexOf('@');
  if (at >= 0) a = a.slice(at + 1);
  if ((scheme === 'http' && a.endsWith(':80')) || (scheme === 'https' && a.endsWith(':443'))) {
    a = a.slice(0, a.lastIndexOf(':'));
  }
  return a;
}

function matches(authority: string, scheme: string, list: readonly string[]): boolean {
  const a = canonicalAuthority(authority, scheme);
  return list.some((x) => canonicalAuthority(x, scheme) === a);
}

/** Adds `spbhid=<id>` first in the query, replacing any spbhid already there. */
function addParam(ref: string, ctx: TagContext): string {
  // The common case, a bare segment name: nothing to keep or replace.
  if (!ref.includes('?') && !ref.includes('#')) return `${ref}?${SPBHID}=${ctx.spbhid}`;
  const hash = ref.indexOf('#');
  const fragment = hash >= 0 ? ref.slice(hash) : '';
  const beforeFragment = hash >= 0 ? ref.slice(0, hash) : ref;
  const q = beforeFragment.indexOf('?');
  const path = q >= 0 ? beforeFragment.slice(0, q) : beforeFragment;
  const query = q >= 0 ? beforeFragment.slice(q + 1) : '';
  const kept = query === '' ? [] : query.split(ctx.separator).filter((p) => p !== '' && p !== SPBHID && !p.startsWith(`${SPBHID}=`));
  const params = [`${SPBHID}=${ctx.spbhid}`, ...kept];
  return `${path}?${params.join(ctx.separator)}${fragment}`;
}

/**
 * Rewrites one URI reference as written in the document (surrounding whitespace preserved).
 * Relative and path-absolute references are tagged; absolute ones only when they point at this
 * proxy or at the origin (the latter made path-absolute); anything else (a CDN, `data:`, `skd:`)
 * is left alone.
 */
export function tagUri(raw: string, ctx: TagContext): { text: string; outcome: TagOutcome } {
  const lead = raw.length - raw.trimStart().length;
  const trail = raw.length - raw.trimEnd().length;
  const ref = raw.trim();
  if (ref === '') return { text: raw, outcome: 'empty' };
  const prefix = raw.slice(0, lead);
  const suffix = raw.slice(raw.length - trail);

  let target = ref;
  // Only a reference with a colon or a leading `//` can be absolute.
  const scheme = ref.includes(':') ? SCHEME.exec(ref) : null;
  if (scheme || ref.startsWith('//')) {
    const schemeName = scheme ? scheme[1]!.toLowerCase() : 'http';
    if (schemeName !== 'http' && schemeName !== 'https') return { text: raw, outcome: 'foreign' };
    const afterScheme = scheme ? ref.slice(scheme[0].length) : ref;
    if (!afterScheme.startsWith('//')) return { text: raw, outcome: 'foreign' };
    const [authority, rest] = splitAuthority(afterScheme.slice(2));
    if (matches(authority, schemeName, ctx.originAuthorities)) {
      target = rest.startsWith('/') ? rest : `/${rest}`;
    } else if (!matches(authority, schemeName, ctx.proxyAuthorities)) {
      return { text: raw, outcome: 'foreign' };
    }
  }
  return { text: prefix + addParam(target, ctx) + suffix, outcome: 'tagged' };
}
