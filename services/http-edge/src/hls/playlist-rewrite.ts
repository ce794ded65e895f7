import { ProxyError } from '@srs-proxy/runtime';
import { tagUri, type TagContext } from '../uri-tag.ts';

export const BAD_PLAYLIST = 'SRSP_ERR_BAD_PLAYLIST';

/** The origin's body is not an m3u8 playlist (no `#EXTM3U` header). */
export class PlaylistError extends ProxyError {
  constructor(message: string) {
    super(BAD_PLAYLIST, message, { status: 502 });
  }
}

/**
 * Tags whose attribute list may carry a `URI="…"` attribute the player fetches (RFC 8216bis).
 * Other tags are never scanned: `#EXTINF`'s title is free text and may contain anything.
 */
const URI_TAGS = new Set([
  'EXT-X-KEY',
  'EXT-X-SESSION-KEY',
  'EXT-X-MAP',
  'EXT-X-MEDIA',
  'EXT-X-I-FRAME-STREAM-INF',
  'EXT-X-PART',
  'EXT-X-PRELOAD-HINT',
  'EXT-X-RENDITION-REPORT',
  'EXT-X-SESSION-DATA',
]);

export interface PlaylistRewrite {
  text: string;
  /** URIs tagged with the session id. */
  tagged: number;
  /** URIs left alone because they point elsewhere (a CDN, `data:`, `skd:`). */
  foreign: number;
  /** Tag lines whose attribute list could not be parsed (left unchanged). */
  malformed: number;
}

type Ctx = Omit<TagContext, 'separator'>;

/**
 * Rewrites the `URI="…"` attribute of one attribute list. Returns undefined when the list is
 * malformed (unterminated quote), so the caller keeps the line as it was.
 */
function rewriteAttributeList(list: string, ctx: TagContext, counts: { tagged: number; foreign: number }): string | undefined {
  let out = '';
  let i = 0;
  while (i < list.length) {
    const eq = list.indexOf('=', i);
    if (eq < 0) return out + list.slice(i);
    const name = list.slice(i, eq).trim();
    out += list.slice(i, eq + 1);
    i = eq + 1;
    if (list[i] === '"') {
      const close = list.indexOf('"', i + 1);
      if (close < 0) return undefined;
      const value = list.slice(i + 1, close);
      if (name === 'URI') {
        const r = tagUri(value, ctx);
        if (r.outcome === 'tagged') counts.tagged++;
        else if (r.outcome === 'foreign') counts.foreign++;
        out += `"${r.text}"`;
      } else {
        out += `"${value}"`;
      }
      i = close + 1;
    }
    const comma = list.indexOf(',', i);
    if (comma < 0) return out + list.slice(i);
    out += list.slice(i, comma + 1);
    i = comma + 1;
  }
  return out;
}

/**
 * Adds `spbhid=<id>` to every URI of an m3u8 playlist (master or media): URI lines (segments,
 * variant playlists) and the `URI` attribute of the tags above. Parsed line by line, never by
 * substring replacement, so names like `a.tsx` or titles are untouched. Line endings, blank lines,
 * comments and unknown tags are kept byte for byte. The query keeps the Go proxy's shape
 * `seg.ts?spbhid=<id>` / `seg.ts?spbhid=<id>&hls_ctx=…` (one `&`: spec 11.3 allows fixing `&&`).
 */
export function rewritePlaylist(text: string, ctx: Ctx): PlaylistRewrite {
  const tagCtx: TagContext = { ...ctx, separator: '&' };
  const body = text.startsWith('\uFEFF') ? text.slice(1) : text;
  const firstLine = body.slice(0, body.search(/\r?\n|$/)).trim();
  if (firstLine !== '#EXTM3U') throw new PlaylistError('origin response is not an m3u8 playlist (no #EXTM3U header)');

  const counts: PlaylistRewrite = { text: '', tagged: 0, foreign: 0, malformed: 0 };
  const parts = text.split('\n');
  for (let n = 0; n < parts.length; n++) {
    const raw = parts[n]!;
    const cr = raw.endsWith('\r');
    const line = cr ? raw.slice(0, -1) : raw;
    const trimmed = line.trim();
    if (trimmed === '' || n === 0) continue;
    let rewritten: string | undefined;
    if (trimmed.startsWith('#')) {
      if (!trimmed.startsWith('#EXT')) continue;
      const colon = line.indexOf(':');
      if (colon < 0) continue;
      const tag = line.slice(line.indexOf('#') + 1, colon).trim();
      if (!URI_TAGS.has(tag) || !line.includes('URI=')) continue;
      // Counted separately: a list found malformed after its URI was tagged is kept unchanged.
      const lineCounts = { tagged: 0, foreign: 0 };
      const list = rewriteAttributeList(line.slice(colon + 1), tagCtx, lineCounts);
      if (list === undefined) {
        counts.malformed++;
        continue;
      }
      counts.tagged += lineCounts.tagged;
      counts.foreign += lineCounts.foreign;
      rewritten = line.slice(0, colon + 1) + list;
    } else {
      const r = tagUri(line, tagCtx);
      if (r.outcome === 'tagged') counts.tagged++;
      else if (r.outcome === 'foreign') counts.foreign++;
      rewritten = r.text;
    }
    parts[n] = cr ? `${rewritten}\r` : rewritten;
  }
  counts.text = parts.join('\n');
  return counts;
}
