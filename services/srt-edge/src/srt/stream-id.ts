import { streamUrlFromSrt } from '@srs-proxy/balancer';
import { StreamIdError } from '../errors.ts';

/**
 * SRT stream id → (mode, vhost, app, stream), parsed the way SRS parses it
 * (`srs_srt_streamid_info` + `srs_srt_streamid_to_request`, SRS 5–7), so the proxy routes exactly
 * the stream the origin will serve:
 *
 * - `#!::` at offset 0 starts the keyed form. Every `?` becomes `,`; the rest is split on the
 *   separators `=` `,` `&&` `&` `;` (earliest match first) into alternating keys and values; a
 *   repeated key keeps its last value. Keys are whole tokens, so `user=bob` is never `r=bob`.
 *   - `r=app/stream` names the resource. `h=vhost` names the vhost; an `h` holding a path is the
 *     older style: `h=app/stream` (one slash) or `h=vhost/app/stream` (two or more). `r` wins
 *     over a path in `h`; the vhost from `h` stays.
 *   - `m=publish|request` (any case), default `request`; any other mode is refused, as SRS does.
 *   - every other key (`u=`, `s=`, `t=`, tokens…) is kept in `params`, in order.
 * - Anything else is the legacy form: a path `app/stream[?query]`, or a bare `stream` in the
 *   default app `live`. Mode is `request`.
 * - Without a stream id SRS assumes `#!::r=live/livestream,m=publish`; so do we.
 *
 * Differences from SRS, both for inputs SRS turns into unreachable streams: leading slashes of the
 * resource are dropped (`/live/s` is `live/s`, as RTMP players name it), and an empty app or
 * stream, a `#`, or a control character is refused. Only `h=` sets the vhost; `?vhost=` in a
 * legacy query is kept as a parameter, as both SRS and the RTMP path ignore it for the key.
 */
export type SrtMode = 'publish' | 'request';

export interface StreamIdInfo {
  form: 'keyed' | 'legacy';
  mode: SrtMode;
  /** From `h=`; undefined means the default (`localhost` → `__defaultVhost__`). */
  vhost: string | undefined;
  app: string;
  stream: string;
  /** Every key other than `h`, `r`, `m` (keyed form) or the query pairs (legacy form), in order. */
  params: Array<[string, string]>;
}

export const DEFAULT_APP = 'live';
/** What SRS substitutes for an empty stream id (`SrsMpegtsSrtConn::do_cycle`). */
export const DEFAULT_STREAM_ID = '#!::r=live/livestream,m=publish';
const KEYED_PREFIX = '#!::';
const SEPARATORS = ['=', ',', '&&', '&', ';'] as const;
/** Upper bound on the work per stream id; libsrt caps stream ids at 512 bytes. */
const MAX_STREAM_ID_CHARS = 512;
const VHOST_RE = /^[A-Za-z0-9._-]+$/;
const FORBIDDEN_RE = /[\u0000-\u001f\u007f#]/;

/** SRS `srs_string_split(str, separators)`: cut at the earliest separator, drop a trailing empty token. */
function srsSplit(input: string): string[] {
  const out: string[] = [];
  let s = input;
  for (;;) {
    let pos = -1;
    let sep = '';
    for (const candidate of SEPARATORS) {
      const p = s.indexOf(candidate);
      if (p >= 0 && (pos < 0 || p < pos)) {
        pos = p;
        sep = candidate;
      }
    }
    if (pos < 0) break;
    out.push(s.slice(0, pos));
    s = s.slice(pos + sep.length);
  }
  if (s.length > 0) out.push(s);
  return out;
}

function parseMode(value: string): SrtMode {
  const m = value.toLowerCase();
  if (m === 'publish') return 'publish';
  if (m === 'request') return 'request';
  throw new StreamIdError(`unknown mode m=${value}`);
}

function splitResource(subpath: string): { app: string; stream: string; query: string } {
  const path = subpath.replace(/^\/+/, '');
  const slash = path.indexOf('/');
  const app = slash < 0 ? DEFAULT_APP : path.slice(0, slash);
  const rest = slash < 0 ? path : path.slice(slash + 1);
  const q = rest.indexOf('?');
  return { app, stream: q < 0 ? rest : rest.slice(0, q), query: q < 0 ? '' : rest.slice(q + 1) };
}

function checked(info: StreamIdInfo): StreamIdInfo {
  if (info.app === '') throw new StreamIdError('empty app in stream id');
  if (info.stream === '') throw new StreamIdError('empty stream name in stream id');
  if (FORBIDDEN_RE.test(info.app) || FORBIDDEN_RE.test(info.stream)) throw new StreamIdError('forbidden character in stream id resource');
  if (info.vhost !== undefined && !VHOST_RE.test(info.vhost)) throw new StreamIdError(`invalid vhost "${info.vhost}" in stream id`);
  return info;
}

export function parseStreamId(sid: string | undefined): StreamIdInfo {
  const text = sid === undefined || sid === '' ? DEFAULT_STREAM_ID : sid;
  if (text.length > MAX_STREAM_ID_CHARS) throw new StreamIdError(`stream id longer than ${MAX_STREAM_ID_CHARS} characters`);

  if (!text.startsWith(KEYED_PREFIX)) {
    const { app, stream, query } = splitResource(text.includes('/') ? text : `${DEFAULT_APP}/${text}`);
    const params: Array<[string, string]> = [];
    if (query) {
      for (const part of query.split('&')) {
        if (!part) continue;
        const eq = part.indexOf('=');
        params.push(eq < 0 ? [part, ''] : [part.slice(0, eq), part.slice(eq + 1)]);
      }
    }
    return checked({ form: 'legacy', mode: 'request', vhost: undefined, app, stream, params });
  }

  const tokens = srsSplit(text.slice(KEYED_PREFIX.length).replaceAll('?', ','));
  const pairs = new Map<string, string>();
  for (let i = 0; i < tokens.length; i += 2) pairs.set(tokens[i]!, tokens[i + 1] ?? '');

  let mode: SrtMode = 'request';
  let vhost: string | undefined;
  let subpath = '';
  const params: Array<[string, string]> = [];
  // SRS walks a std::map, i.e. keys in byte order: `h` is applied before `r`.
  const h = pairs.get('h');
  if (h !== undefined) {
    const first = h.indexOf('/');
    if (first < 0) {
      vhost = h;
    } else if (first !== h.lastIndexOf('/')) {
      vhost = h.slice(0, first);
      subpath = h.slice(first + 1);
    } else {
      subpath = h;
    }
  }
  const m = pairs.get('m');
  if (m !== undefined) mode = parseMode(m);
  const r = pairs.get('r');
  if (r !== undefined) subpath = r;
  for (const [k, v] of pairs) {
    if (k !== 'h' && k !== 'm' && k !== 'r' && k !== '') params.push([k, v]);
  }
  if (subpath === '') throw new StreamIdError('no resource in stream id (need r=app/stream)');
  if (vhost === '') vhost = undefined;
  const { app, stream } = splitResource(subpath);
  return checked({ form: 'keyed', mode, vhost, app, stream, params });
}

/** The stream URL key, built like every other protocol's (`srt://<h or localhost>/<app>/<stream>`). */
export function streamUrlOf(info: StreamIdInfo): string {
  try {
    return streamUrlFromSrt(info.vhost, `${info.app}/${info.stream}`);
  } catch (err) {
    throw new StreamIdError(`stream id does not form a stream URL: ${err instanceof Error ? err.message : String(err)}`);
  }
}
