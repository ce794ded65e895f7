import { formatHostPort, resolveEndpoint, type OriginRecord } from '@srs-proxy/balancer';
import { RateLimitedLog, type Logger } from '@srs-proxy/runtime';
import { originLoad, type OriginLoad } from './origin-load.ts';
import { MAX_LIVE_ITEMS, parseSrsClients, parseSrsStreams, SrsReplyError, type LiveClient, type LiveStream } from './srs-api.ts';

/**
 * A JSON reply of an SRS API list capped at MAX_LIVE_ITEMS items of ~500 bytes is well under
 * 1 MiB; 4 MiB bounds what one misbehaving origin can make the registry buffer.
 */
export const MAX_ORIGIN_REPLY_BYTES = 4 * 1024 * 1024;
/** Cache entries kept at most (one per origin asked about); bounds memory under id churn. */
export const MAX_LIVE_CACHE_ENTRIES = 4_096;

/** Why an origin's live detail is missing, as clients see it (never the internal error text). */
export type LiveFailure = 'no_api_endpoint' | 'timeout' | 'unreachable' | 'http_error' | 'bad_reply';

/** One origin's live view from its own HTTP API; `error` set (and lists empty) when it did not answer. */
export interface OriginLive {
  origin_id: string;
  /** `host:port` of the origin's HTTP API that was asked. */
  api: string | null;
  ok: boolean;
  error: LiveFailure | null;
  /** ISO time the answer was fetched (answers are reused for the cache TTL). */
  fetched_at: string;
  streams: LiveStream[];
  clients: LiveClient[];
  load: OriginLoad | null;
}

export interface OriginLiveOptions {
  /** PROXY_CLUSTER_LIVE_TIMEOUT: one bound for all three requests to one origin. */
  timeoutMs: number;
  /** PROXY_CLUSTER_LIVE_CACHE_TTL */
  cacheTtlMs: number;
  /** PROXY_CLUSTER_LIVE_CONCURRENCY */
  concurrency: number;
  now: () => number;
  logger: Logger;
}

class LiveFetchError extends Error {
  constructor(
    readonly failure: LiveFailure,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'LiveFetchError';
  }
}

/**
 * Live detail of origins, asked of their own HTTP API (`api` endpoint) on demand: each origin's
 * answer is cached for cacheTtlMs (concurrent askers share one fetch), at most `concurrency`
 * origins are asked at once, and each origin gets timeoutMs. An origin that fails is reported in
 * its entry; the others are still served (partial results).
 */
export class OriginLiveFetcher {
  readonly #cache = new Map<string, { at: number; live: Promise<OriginLive> }>();
  readonly #log: RateLimitedLog;

  constructor(private readonly opts: OriginLiveOptions) {
    this.#log = new RateLimitedLog(opts.logger);
  }

  /** Live detail of each origin, in the given order. Never rejects. */
  async many(origins: readonly OriginRecord[]): Promise<OriginLive[]> {
    const out: OriginLive[] = new Array(origins.length);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < origins.length) {
        const i = next++;
        out[i] = await this.one(origins[i]!);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.opts.concurrency, origins.length) }, worker));
    return out;
  }

  /** Live detail of one origin, from the cache when fresh. Never rejects. */
  one(origin: OriginRecord): Promise<OriginLive> {
    const now = this.opts.now();
    const hit = this.#cache.get(origin.id);
    if (hit !== undefined && now - hit.at < this.opts.cacheTtlMs) return hit.live;
    const live = this.#fetch(origin);
    this.#cache.delete(origin.id);
    this.#cache.set(origin.id, { at: now, live });
    for (const [id, e] of this.#cache) {
      if (this.#cache.size <= MAX_LIVE_CACHE_ENTRIES && now - e.at < this.opts.cacheTtlMs) break;
      this.#cache.delete(id);
    }
    return live;
  }

  async #fetch(origin: OriginRecord): Promise<OriginLive> {
    const base: OriginLive = {
      origin_id: origin.id, api: null, ok: false, error: null, fetched_at: new Date(this.opts.now()).toISOString(), streams: [], clients: [], load: null,
    };
    let api;
    try {
      api = resolveEndpoint(origin, 'api');
    } catch {
      api = undefined;
    }
    if (api === undefined) return { ...base, error: 'no_api_endpoint' };
    const hostPort = formatHostPort(api.host, api.port);
    base.api = hostPort;
    const signal = AbortSignal.timeout(this.opts.timeoutMs);
    try {
      const [streamsBody, clientsBody, summariesBody] = await Promise.all([
        getJson(`http://${hostPort}/api/v1/streams/?count=${MAX_LIVE_ITEMS}`, signal),
        getJson(`http://${hostPort}/api/v1/clients/?count=${MAX_LIVE_ITEMS}`, signal),
        getJson(`http://${hostPort}/api/v1/summaries`, signal),
      ]);
      const streams = parseSrsStreams(streamsBody);
      return { ...base, ok: true, streams, clients: parseSrsClients(clientsBody, streams), load: originLoad(summariesBody) };
    } catch (err) {
      const failure = classify(err);
      this.#log.warn({ origin: origin.id, api: hostPort, failure, err }, `origin ${origin.id} live detail failed: ${failure}`);
      return { ...base, error: failure };
    }
  }
}

function classify(err: unknown): LiveFailure {
  if (err instanceof LiveFetchError) return err.failure;
  if (err instanceof SrsReplyError) return 'bad_reply';
  if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')) return 'timeout';
  return 'unreachable';
}

/** GET a JSON body of at most MAX_ORIGIN_REPLY_BYTES. */
async function getJson(url: string, signal: AbortSignal): Promise<unknown> {
  const res = await fetch(url, { signal, headers: { accept: 'application/json' } });
  if (!res.ok) {
    await res.body?.cancel();
    throw new LiveFetchError('http_error', `HTTP ${res.status} from ${url}`);
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of res.body ?? []) {
    size += (chunk as Uint8Array).byteLength;
    // Leaving the loop by a throw cancels the body (the iterator's return()).
    if (size > MAX_ORIGIN_REPLY_BYTES) {
      throw new LiveFetchError('bad_reply', `reply of ${url} is larger than ${MAX_ORIGIN_REPLY_BYTES} bytes`);
    }
    chunks.push(chunk as Uint8Array);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
  } catch (err) {
    throw new LiveFetchError('bad_reply', `reply of ${url} is not JSON`, { cause: err });
  }
}
