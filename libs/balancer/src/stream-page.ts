import type { StreamMapping, StreamPage, StreamQuery } from './balancer.ts';

/**
 * Paging of stream mappings for the cluster API, shared by every balancer (pure). Pages are in
 * stream URL order (UTF-16 code unit order, as `<` compares) and the cursor is the last URL of a
 * page, so a cursor stays valid while streams come and go: a stream created or dropped between two
 * pages is listed or not, but no other stream is repeated or skipped.
 */

/** Largest page one request may ask for: about 200 bytes a mapping, a 200 KB reply at most. */
export const MAX_STREAM_PAGE = 1_000;

/** `<vhost>/<app>/<stream…>` → its vhost and app (empty strings when the URL has fewer segments). */
export function streamParts(streamUrl: string): { vhost: string; app: string } {
  const a = streamUrl.indexOf('/');
  if (a < 0) return { vhost: streamUrl, app: '' };
  const b = streamUrl.indexOf('/', a + 1);
  return { vhost: streamUrl.slice(0, a), app: streamUrl.slice(a + 1, b < 0 ? undefined : b) };
}

/** Whether a stream URL passes the query's vhost, app and `after` filters (the origin filter is the balancer's). */
export function streamSelected(streamUrl: string, q: StreamQuery): boolean {
  if (q.after !== undefined && !(streamUrl > q.after)) return false;
  if (q.stream_url !== undefined && streamUrl !== q.stream_url) return false;
  if (q.vhost === undefined && q.app === undefined) return true;
  const p = streamParts(streamUrl);
  return (q.vhost === undefined || p.vhost === q.vhost) && (q.app === undefined || p.app === q.app);
}

/**
 * The page of `candidates` (any order, already filtered by origin) that `q` asks for: the `limit`
 * smallest selected URLs, kept in a sorted buffer of at most `limit`: memory O(limit) however many
 * mappings there are, and no sort of the whole set.
 */
export function pageOf(candidates: Iterable<StreamMapping>, q: StreamQuery): StreamPage {
  const limit = Math.max(0, Math.min(q.limit, MAX_STREAM_PAGE));
  const best: StreamMapping[] = [];
  let more = false;
  for (const m of candidates) {
    if (!streamSelected(m.stream_url, q)) continue;
    if (best.length === limit) {
      more = true;
      if (limit === 0 || !(m.stream_url < best[limit - 1]!.stream_url)) continue;
      best.pop();
    }
    // Binary search for the insertion point: `best` stays sorted.
    let lo = 0;
    let hi = best.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (best[mid]!.stream_url < m.stream_url) lo = mid + 1;
      else hi = mid;
    }
    best.splice(lo, 0, m);
  }
  const page: StreamPage = { streams: best };
  if (more && best.length > 0) page.next = best[best.length - 1]!.stream_url;
  return page;
}
