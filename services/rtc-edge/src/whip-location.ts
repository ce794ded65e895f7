import { RtcRequestError } from './errors.ts';

/**
 * WHIP/WHEP resource URLs through the proxy (spec 7.1 step 7, RFC 9725 section 4.3). The origin
 * answers a POST with `Location: <resource>`; the client later sends `DELETE` (end the session)
 * or `PATCH` (trickle ICE) there. The proxy rewrites the Location so those requests come back to
 * it, carrying the origin's id, and maps them back to the origin's own path. Pure functions.
 */

/** Query parameter naming the origin that owns the resource (its registry id). */
export const ORIGIN_PARAM = 'srsp_origin';
/** Query parameter carrying an origin resource path that is not under /rtc/v1/whip|whep/. */
export const RESOURCE_PARAM = 'srsp_resource';
/** Query parameter naming the relayed session (STUN username), so a DELETE also ends the relay. */
export const SESSION_PARAM = 'srsp_session';

export type RtcKind = 'whip' | 'whep';

const RTC_PREFIXES = ['/rtc/v1/whip/', '/rtc/v1/whep/'];

function underRtcPrefix(path: string): boolean {
  return RTC_PREFIXES.some((p) => path.startsWith(p));
}

/**
 * The Location the client sees for an origin's `Location` header value, or undefined when the
 * value cannot be parsed. `originBase` is the origin's API base (`http://10.0.0.5:1985`).
 * A Location naming another host than the origin's API is returned unchanged: the resource lives
 * elsewhere and the client must reach it directly.
 */
export function proxyLocation(originLocation: string, opts: { originBase: string; kind: RtcKind; originId: string; session?: string }): string | undefined {
  let url: URL;
  let base: URL;
  try {
    base = new URL(opts.originBase);
    url = new URL(originLocation, base);
  } catch {
    return undefined;
  }
  if (url.host !== base.host || url.protocol !== base.protocol) return originLocation;
  let origin = `${ORIGIN_PARAM}=${encodeURIComponent(opts.originId)}`;
  if (opts.session !== undefined) origin += `&${SESSION_PARAM}=${encodeURIComponent(opts.session)}`;
  if (underRtcPrefix(url.pathname)) {
    return `${url.pathname}${url.search}${url.search ? '&' : '?'}${origin}`;
  }
  return `/rtc/v1/${opts.kind}/?${origin}&${RESOURCE_PARAM}=${encodeURIComponent(url.pathname + url.search)}`;
}

export interface ResourceTarget {
  /** The origin named by the resource URL; undefined for a URL the proxy did not issue. */
  originId: string | undefined;
  /** Path and query to request on the origin's API. */
  path: string;
  /** The relayed session the resource belongs to, when the proxy issued the URL. */
  session?: string;
}

/**
 * Maps a client's DELETE/PATCH request URL (path + raw query) back to the origin's resource.
 * A `srsp_resource` path must be absolute, stay out of SRS's management API (`/api/`) and contain
 * no dot segments: a client may only reach WHIP/WHEP resources through this.
 */
export function resolveResource(pathname: string, rawQuery: string): ResourceTarget {
  let originId: string | undefined;
  let resource: string | undefined;
  let session: string | undefined;
  const kept: string[] = [];
  for (const part of rawQuery.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const key = eq < 0 ? part : part.slice(0, eq);
    const value = eq < 0 ? '' : part.slice(eq + 1);
    if (key === ORIGIN_PARAM || key === RESOURCE_PARAM || key === SESSION_PARAM) {
      let decoded: string;
      try {
        decoded = decodeURIComponent(value.replace(/\+/g, ' '));
      } catch {
        throw new RtcRequestError(`invalid ${key} parameter`);
      }
      if (key === ORIGIN_PARAM) originId = decoded;
      else if (key === SESSION_PARAM) session = decoded;
      else resource = decoded;
    } else {
      kept.push(part);
    }
  }
  if (resource !== undefined) {
    if (!resource.startsWith('/') || resource.startsWith('//') || resource.includes('\\') || /[\u0000-\u001f\u007f]/.test(resource)) {
      throw new RtcRequestError('invalid resource path', 403);
    }
    const pathOnly = resource.split('?')[0]!;
    if (pathOnly.split('/').some((seg) => seg === '.' || seg === '..' || /^%2e/i.test(seg)) || /^\/api(\/|$)/.test(pathOnly)) {
      throw new RtcRequestError('resource path not allowed', 403);
    }
    return withSession({ originId, path: resource }, session);
  }
  return withSession({ originId, path: kept.length > 0 ? `${pathname}?${kept.join('&')}` : pathname }, session);
}

function withSession(target: ResourceTarget, session: string | undefined): ResourceTarget {
  return session === undefined ? target : { ...target, session };
}
