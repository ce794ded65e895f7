import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import {
  listenTcp, sessionLogger, RateLimitedLog, errorCode, errorMessage,
  type ConfigOf, type Logger, type Gauge,
} from '@srs-proxy/runtime';
import { resolveEndpoint, formatHostPort, NO_ORIGIN, type Endpoint, type HlsSession, type HttpStreamUrl, type OriginRecord } from '@srs-proxy/balancer';
import type { EdgeDeps } from '@srs-proxy/bus';
import type { httpEdgeSchema } from './config.ts';
import { route, streamKeyOf, plausibleSpbhid, type Route, type StreamKind } from './route.ts';
import { originRequestHeaders, clientResponseHeaders, CORS_HEADERS, type HeaderList } from './headers.ts';
import { OriginClient, isConnectFailure, type OriginExchange } from './origin-client.ts';
import { BodyRelay, type RelayLimits } from './relay.ts';
import { StaticFiles } from './static-files.ts';
import { TtlCache } from './ttl-cache.ts';
import { ByteLru } from './cache/byte-lru.ts';
import { Coalescer } from './cache/coalescer.ts';
import {
  cacheKey, isCacheableSegment, isShareableRequest, isStorableResponse, playlistTtlMs, PLAYLIST_KEY_IGNORED, SEGMENT_KEY_IGNORED,
} from './cache/policy.ts';
import { rewritePlaylist } from './hls/playlist-rewrite.ts';
import { rewriteManifest } from './dash/mpd-rewrite.ts';
import { httpEdgeMetrics, BatchedCounter, LabelCache, type HttpEdgeMetrics } from './edge-metrics.ts';
import { requestSpan } from './span.ts';
import {
  clientError, DocumentTooLargeError, OriginFailedError, OriginUnreachableError, UnknownSessionError, DOCUMENT_TOO_LARGE, UNKNOWN_SESSION,
} from './errors.ts';

export type HttpEdgeConfig = ConfigOf<typeof httpEdgeSchema>;

/** Every wait and bound of the http-edge; tests shrink them through the constructor. */
export interface HttpEdgeLimits extends RelayLimits {
  originConnectTimeoutMs: number;
  originHeadersTimeoutMs: number;
  originBodyIdleTimeoutMs: number;
  originKeepAliveMs: number;
  maxDocumentBytes: number;
  routeCacheTtlMs: number;
  routeCacheMaxEntries: number;
  clientHeadersTimeoutMs: number;
  clientKeepAliveMs: number;
  playlistCacheMaxBytes: number;
}

export const DEFAULT_HTTP_EDGE_LIMITS: HttpEdgeLimits = {
  // About a second of a 4 Mbps stream: absorbs a player's read jitter without pausing the origin.
  clientWindowBytes: 512 * 1024,
  // Hard cap per client whatever the chunk sizes: 16 window's worth, a few seconds of video.
  maxClientBufferBytes: 8 * 1024 * 1024,
  // A live player that has not read for 10 s is frozen; holding the origin paused longer only
  // makes SRS queue (and later drop) for it too. Also how long a response served from memory may
  // sit in a socket that takes none of it before that client is dropped.
  slowClientTimeoutMs: 10_000,
  // Origins sit on the same network: a connect not done in 3 s means the host is gone; fail over.
  originConnectTimeoutMs: 3_000,
  // SRS and nginx answer headers at once (FLV headers precede the first tag); 10 s means stuck.
  originHeadersTimeoutMs: 10_000,
  // A live stream silent for 30 s has no publisher left; longer than slowClientTimeoutMs so a
  // paused origin is never timed out before its slow client is dropped.
  originBodyIdleTimeoutMs: 30_000,
  // Below SRS's and nginx's keep-alive timeouts (both ≥ 5 s), so we never reuse a socket they closed.
  originKeepAliveMs: 4_000,
  // A live playlist is a few KB; a 24 h VOD playlist of 2 s segments is about 3 MB.
  maxDocumentBytes: 4 * 1024 * 1024,
  // Players fetch several segments per playlist refresh and FLV players arrive in bursts: 5 s
  // saves their registry round trips while staying far below the 120 s session TTL and the
  // origin TTL, so expiry is seen quickly (connect failures bypass the cache at once).
  routeCacheTtlMs: 5_000,
  // Bounds the three caches whatever ids clients invent; one entry per active stream/session.
  routeCacheMaxEntries: 50_000,
  // Slow-loris guard: a client has 10 s to send its request headers.
  clientHeadersTimeoutMs: 10_000,
  // Players reuse connections between segment requests within a target duration (≤ 10 s).
  clientKeepAliveMs: 15_000,
  // Playlists live ≤ 500 ms in the micro-cache: 16 MiB holds thousands of live playlists with
  // their per-session rewrites, and bounds a burst of huge VOD playlists.
  playlistCacheMaxBytes: 16 * 1024 * 1024,
};

/** Rewritten documents get a new length; validators and encodings of the origin no longer apply. */
const DOCUMENT_DROPPED = new Set(['content-length', 'content-encoding', 'etag', 'last-modified', 'accept-ranges', 'content-range']);
/** A body held in memory is sent with its own length. */
const LENGTH_DROPPED = new Set(['content-length']);

/** A segment larger than this share of the segment cache is relayed uncached (one video must not flush the rest). */
const MAX_SEGMENT_SHARE = 8;
/** Bookkeeping bytes charged per cache entry besides its body, so tiny entries cannot grow memory unaccounted. */
const ENTRY_OVERHEAD_BYTES = 512;
/** Rewrites kept per cached playlist (one per spbhid × Host a client used); more are computed per request. */
const MAX_PLAYLIST_VARIANTS = 16;
/** Stream keys remembered per Host + target: players repeat a handful of URLs; ids in long ones make them unique anyway. */
const STREAM_KEY_MEMO_ENTRIES = 10_000;
const STREAM_KEY_MEMO_MAX_TARGET = 512;

const VERSION = { major: 1, minor: 5, revision: 0, version: '1.5.0' } as const;
const SERVER_HEADER = `SRSProxy/${VERSION.version}`;
const TEXT = 'text/plain; charset=utf-8';

interface Target {
  streamUrl: string;
  /** Session id to tag a rewritten document with. */
  spbhid?: string;
  key?: HttpStreamUrl;
}

interface Fetched {
  origin: OriginRecord;
  to: OriginTarget;
  ex: OriginExchange;
}

/** What requests to one origin record need, worked out once per record. */
interface OriginTarget {
  ep: Endpoint;
  /** `http://host:port`, the undici origin. */
  url: string;
  /** Authorities by which the origin may name itself in absolute URIs of its documents. */
  authorities: string[];
}

/** The origin request in flight for one client, cancelled if that client leaves first. */
interface InFlight {
  ex?: OriginExchange;
  gone: boolean;
}

/** A whole response held in memory: status, client headers (with the body's length), body. */
interface StoredResponse {
  status: number;
  headers: HeaderList;
  body: Buffer;
}

/** An origin playlist held for a moment; every client gets its own rewrite, kept per variant. */
interface CachedPlaylist {
  headers: HeaderList;
  text: string;
  originAuthorities: string[];
  variants: Map<string, PlaylistVariant>;
}

/** One client's rewrite of a cached playlist, with the headers that go with it. */
interface PlaylistVariant {
  headers: HeaderList;
  body: Buffer;
}

/**
 * How a shared fetch of a segment ended: a stored answer (`shared`: other clients may have it
 * too), a body too large to hold (the leader relays it; the others fetch on their own), or an
 * answer that turned out too large while being read (everyone fetches on their own).
 */
type SegmentFill =
  | { outcome: 'stored'; stored: StoredResponse; shared: boolean }
  | { outcome: 'stream'; fetched: Fetched }
  | { outcome: 'retry' };

/** A shared playlist fetch: the origin's text for everyone, or an answer only its leader may use. */
type PlaylistFill =
  | { outcome: 'cached'; entry: CachedPlaylist }
  | { outcome: 'private'; fetched: Fetched; text: string | undefined };

function isDocument(kind: StreamKind): boolean {
  return kind === 'hls-playlist' || kind === 'dash-manifest';
}

/** The Host header from `rawHeaders` (any case), without building the `headers` object. */
function hostOf(req: IncomingMessage): string | undefined {
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.length === 4 && name.toLowerCase() === 'host') return raw[i + 1];
  }
  return undefined;
}

/**
 * The HTTP stream edge (spec 6): live HTTP-FLV/HTTP-TS relayed with backpressure, HLS and DASH
 * documents rewritten so every later request carries the session id (`spbhid`) any replica can
 * resolve through the registry, static player pages, and the Go proxy's versions endpoint.
 * HLS/DASH segments and HLS playlists are served through two shared caches with request
 * coalescing, as CDN edges do (see `PROXY_HLS_*_CACHE_*`).
 */
export class HttpEdge {
  private closed = false;
  /** Bound port (tests listen on 0). */
  port = 0;
  private server: Server | undefined;
  private staticFiles: StaticFiles | undefined;
  private readonly limits: HttpEdgeLimits;
  private readonly origins: OriginClient;
  private readonly relays = new Set<BodyRelay>();
  /** spbhid → session (segment and nested-playlist requests). */
  private readonly sessionsById: TtlCache<string, HlsSession>;
  /** stream key → session (first playlist request of a stream). */
  private readonly sessionsByStream: TtlCache<string, HlsSession>;
  /** stream URL → origin (short-lived; see pickOrigin). */
  private readonly picks: TtlCache<string, OriginRecord>;
  /** Host + request target → stream key: the same players ask for the same URLs again and again. */
  private readonly streamKeys: TtlCache<string, HttpStreamUrl>;
  /** Origin record → its parsed HTTP endpoint; records are replaced (not mutated) on every pick refresh. */
  private readonly originTargets = new WeakMap<OriginRecord, OriginTarget | null>();
  /** Immutable segments by origin + target; undefined when PROXY_HLS_SEGMENT_CACHE_BYTES is 0. */
  private readonly segments: ByteLru<string, StoredResponse> | undefined;
  private readonly segmentFills = new Coalescer<string, SegmentFill>();
  /** Origin playlists by origin + target, ≤ 500 ms; undefined when PROXY_HLS_PLAYLIST_CACHE_TTL is 0. */
  private readonly playlists: ByteLru<string, CachedPlaylist> | undefined;
  private readonly playlistFills = new Coalescer<string, PlaylistFill>();
  private readonly m: HttpEdgeMetrics;
  private readonly requestCount: BatchedCounter;
  private readonly bytesOut: BatchedCounter;
  private readonly activeStreams: LabelCache<Gauge.Internal<'kind'>>;
  private readonly cacheCount: BatchedCounter;
  /** Evictions already reported per cache (the LRU counts, the metric is a counter). */
  private readonly evictionsSeen = new Map<string, number>();
  private readonly log: Logger;
  private readonly noisy: RateLimitedLog;

  constructor(
    private readonly deps: EdgeDeps,
    private readonly config: HttpEdgeConfig,
    limits: Partial<HttpEdgeLimits> = {},
  ) {
    this.limits = { ...DEFAULT_HTTP_EDGE_LIMITS, ...limits };
    this.log = deps.logger;
    this.noisy = new RateLimitedLog(deps.logger);
    this.m = httpEdgeMetrics(deps.metrics);
    const m = this.m;
    this.requestCount = new BatchedCounter(m.requests, ['kind', 'status']);
    this.bytesOut = new BatchedCounter(m.bytesOut, ['kind']);
    this.activeStreams = new LabelCache((kind) => m.activeStreams.labels(kind));
    this.cacheCount = new BatchedCounter(m.cacheRequests, ['cache', 'result']);
    const l = this.limits;
    this.origins = new OriginClient({
      connectTimeoutMs: l.originConnectTimeoutMs,
      headersTimeoutMs: l.originHeadersTimeoutMs,
      bodyIdleTimeoutMs: l.originBodyIdleTimeoutMs,
      keepAliveTimeoutMs: l.originKeepAliveMs,
    });
    this.sessionsById = new TtlCache(l.routeCacheTtlMs, l.routeCacheMaxEntries);
    this.sessionsByStream = new TtlCache(l.routeCacheTtlMs, l.routeCacheMaxEntries);
    this.picks = new TtlCache(l.routeCacheTtlMs, l.routeCacheMaxEntries);
    this.streamKeys = new TtlCache(l.routeCacheTtlMs, STREAM_KEY_MEMO_ENTRIES);
    if (config.segmentCacheBytes > 0 && config.segmentCacheTtl > 0) {
      this.segments = new ByteLru(config.segmentCacheBytes, Math.floor(config.segmentCacheBytes / MAX_SEGMENT_SHARE));
    }
    if (config.playlistCacheTtl > 0) {
      this.playlists = new ByteLru(l.playlistCacheMaxBytes, Math.min(l.playlistCacheMaxBytes, l.maxDocumentBytes * 4));
    }
  }

  /** Live FLV/TS and segment relays running now. */
  get activeRelays(): number {
    return this.relays.size;
  }

  async start(): Promise<void> {
    if (this.closed) throw new Error('http-edge is closed');
    this.staticFiles = await StaticFiles.open(this.config.staticFiles);
    const server = createServer(
      {
        noDelay: true,
        headersTimeout: this.limits.clientHeadersTimeoutMs,
        keepAliveTimeout: this.limits.clientKeepAliveMs,
      },
      this.onRequest,
    );
    this.server = server;
    this.port = await listenTcp(server, this.config.listen);
    this.log.info(
      {
        port: this.port,
        static: this.staticFiles.root,
        segmentCacheBytes: this.segments?.maxBytes ?? 0,
        segmentCacheTtlMs: this.segments ? this.config.segmentCacheTtl : 0,
        playlistCacheTtlMs: this.playlists ? this.config.playlistCacheTtl : 0,
      },
      'HTTP stream server listening',
    );
  }

  async close(reason = 'close'): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const relay of [...this.relays]) relay.close(reason);
    const server = this.server;
    if (server) {
      const done = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await done;
    }
    await this.origins.close();
    this.sessionsById.clear();
    this.sessionsByStream.clear();
    this.picks.clear();
    this.streamKeys.clear();
    this.segments?.clear();
    this.playlists?.clear();
    for (const c of [this.requestCount, this.bytesOut, this.cacheCount]) c.detach();
    this.log.info({ reason }, 'HTTP stream server closed');
  }

  private onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    const r = route(req.url ?? '');
    if (!r.ok) {
      this.count('bad', res);
      if (r.redirect !== undefined) res.writeHead(301, { location: r.redirect }).end();
      else res.writeHead(400, { 'content-type': TEXT }).end(`bad request: ${r.reason}\n`);
      return;
    }
    const kind = r.kind;
    if (kind === 'versions') {
      this.count(kind, res);
      const body = JSON.stringify({ code: 0, pid: String(process.pid), data: VERSION });
      res.writeHead(200, { 'content-type': 'application/json', server: SERVER_HEADER, 'content-length': Buffer.byteLength(body) }).end(body);
      return;
    }
    if (kind === 'static') {
      this.count(kind, res);
      this.staticFiles!.serve(req, res, r.path).catch((err) => this.fail(kind, r, res, err));
      return;
    }
    if (req.method === 'OPTIONS') {
      this.count(kind, res);
      res.writeHead(200, { ...CORS_HEADERS, 'content-length': 0 }).end();
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      this.count(kind, res);
      res.writeHead(405, { ...CORS_HEADERS, allow: 'GET, HEAD, OPTIONS', 'content-type': TEXT }).end('method not allowed\n');
      return;
    }
    const hls = kind === 'hls-segment' || kind === 'hls-playlist';
    const shared = hls && req.method === 'GET' && isShareableRequest(req.rawHeaders);
    // The hot path of a busy edge: everything in memory, answered without a single await.
    if (shared && this.answerFromMemory(kind, r, req, res)) return;
    const inFlight: InFlight = { gone: false };
    res.once('close', () => {
      if (!res.writableFinished) {
        inFlight.gone = true;
        inFlight.ex?.abort(new Error('client went away'));
      }
      this.requestCount.get(kind, res.headersSent ? String(res.statusCode) : 'aborted').inc();
    });
    this.proxy(kind, r, req, res, shared, inFlight).catch((err) => this.fail(kind, r, res, err));
  };

  /** Counts a request once, with its final status, when its response ends or breaks. */
  private count(kind: string, res: ServerResponse): void {
    res.once('close', () => this.requestCount.get(kind, res.headersSent ? String(res.statusCode) : 'aborted').inc());
  }

  /**
   * Serves a segment or playlist request from the caches when its session, its origin and the
   * answer are all in memory. Returns false (having written nothing) otherwise.
   */
  private answerFromMemory(kind: StreamKind, r: Route, req: IncomingMessage, res: ServerResponse): boolean {
    if (kind === 'hls-segment') {
      if (!this.segments || !isCacheableSegment(r.path)) return false;
      const session = this.sessionsById.get(r.spbhid!);
      const origin = session && this.picks.get(session.stream_url);
      const stored = origin && this.segments.get(cacheKey(origin.id, r.target, SEGMENT_KEY_IGNORED));
      if (!stored) return false;
      this.cacheCount.get('segment', 'hit').inc();
      this.requestCount.get(kind, String(stored.status)).inc();
      this.sendStored(kind, res, stored);
      return true;
    }
    if (kind === 'hls-playlist') {
      if (!this.playlists) return false;
      const host = hostOf(req);
      const session = r.spbhid !== undefined ? this.sessionsById.get(r.spbhid) : this.sessionsByStream.get(this.streamKey(r, host).key);
      const origin = session && this.picks.get(session.stream_url);
      if (!origin) return false;
      const key = cacheKey(origin.id, r.target, PLAYLIST_KEY_IGNORED);
      const entry = this.playlists.get(key);
      if (!entry) return false;
      const variant = this.playlistVariant(entry, key, session.spbhid, host);
      this.cacheCount.get('playlist', 'hit').inc();
      this.requestCount.get(kind, '200').inc();
      this.sendPlaylist(res, variant);
      return true;
    }
    return false;
  }

  private async proxy(kind: StreamKind, r: Route, req: IncomingMessage, res: ServerResponse, shared: boolean, inFlight: InFlight): Promise<void> {
    const host = hostOf(req);
    if (kind === 'hls-segment' && this.segments && isCacheableSegment(r.path)) {
      if (shared) return this.segmentThroughCache(r, req, res, inFlight);
      this.cacheCount.get('segment', 'bypass').inc();
    } else if (kind === 'hls-playlist' && this.playlists) {
      if (shared) return this.playlistThroughCache(r, req, res, host, inFlight);
      this.cacheCount.get('playlist', 'bypass').inc();
    }
    const { target, fetched } = await requestSpan('http-edge.request', { 'srsp.kind': kind }, async (span) => {
      const target = await this.resolveTarget(kind, r, host);
      span.setAttribute('srsp.stream_url', target.streamUrl);
      const fetched = await this.fetch(target, kind, req, r.target, inFlight);
      span.setAttribute('srsp.origin_id', fetched.origin.id);
      span.setAttribute('http.response.status_code', fetched.ex.statusCode);
      return { target, fetched };
    });
    if (res.destroyed || this.closed) {
      fetched.ex.abort(new Error('client went away'));
      return;
    }
    if (isDocument(kind) && req.method === 'GET' && fetched.ex.statusCode === 200) {
      const text = await this.readDocument(fetched);
      if (!res.destroyed) this.sendDocument(kind, target, fetched, text, host, res);
      return;
    }
    // From here the relay owns the exchange and reacts to the client leaving itself.
    inFlight.ex = undefined;
    this.relay(kind, req, res, target, fetched);
  }

  /** A cacheable segment: from the cache, by joining a fetch in flight, or by leading one. */
  private async segmentThroughCache(r: Route, req: IncomingMessage, res: ServerResponse, inFlight: InFlight): Promise<void> {
    const segments = this.segments!;
    const kind = 'hls-segment';
    const { target, fill, leader } = await requestSpan('http-edge.request', { 'srsp.kind': kind }, async (span) => {
      const target = await this.resolveTarget(kind, r, undefined);
      span.setAttribute('srsp.stream_url', target.streamUrl);
      const origin = await this.pickOrigin(target, undefined);
      const key = cacheKey(origin.id, r.target, SEGMENT_KEY_IGNORED);
      const stored = segments.get(key);
      if (stored) return { target, fill: { outcome: 'stored', stored, shared: true } satisfies SegmentFill, leader: false, hit: true };
      const joined = this.segmentFills.run(key, () => this.fillSegment(target, req, r));
      span.setAttribute('srsp.cache', joined.leader ? 'miss' : 'coalesced');
      return { target, fill: await joined.result, leader: joined.leader, hit: false };
    }).then((x) => {
      this.cacheCount.get('segment', x.hit ? 'hit' : x.leader ? 'miss' : 'coalesced').inc();
      return x;
    });
    if (fill.outcome === 'stored' && (fill.shared || leader)) {
      if (!res.destroyed) this.sendStored(kind, res, fill.stored);
      return;
    }
    if (fill.outcome === 'stream' && leader) {
      const { fetched } = fill;
      if (res.destroyed || this.closed) {
        fetched.ex.abort(new Error('client went away'));
        return;
      }
      this.relay(kind, req, res, target, fetched);
      return;
    }
    // Not something this client may share: it asks the origin itself.
    const fetched = await this.fetch(target, kind, req, r.target, inFlight);
    if (res.destroyed || this.closed) {
      fetched.ex.abort(new Error('client went away'));
      return;
    }
    inFlight.ex = undefined;
    this.relay(kind, req, res, target, fetched);
  }

  /**
   * One origin fetch for every client of a segment: read whole (bounded) into memory, stored if
   * the origin allows sharing it. The fetch belongs to no client, so a leader leaving does not
   * cut it short for the others.
   */
  private async fillSegment(target: Target, req: IncomingMessage, r: Route): Promise<SegmentFill> {
    const segments = this.segments!;
    const fetched = await this.fetch(target, 'hls-segment', req, r.target, { gone: false }, true);
    const { ex } = fetched;
    const declared = Number(ex.header('content-length'));
    if (declared > segments.maxObjectBytes) return { outcome: 'stream', fetched };
    let body: Buffer;
    try {
      body = await collect(ex, segments.maxObjectBytes);
    } catch (err) {
      if (errorCode(err) === DOCUMENT_TOO_LARGE) return { outcome: 'retry' };
      throw err;
    }
    const headers = clientResponseHeaders(ex.headers, { cors: true, drop: LENGTH_DROPPED });
    headers.push('content-length', String(body.length));
    const stored: StoredResponse = { status: ex.statusCode, headers, body };
    const shared = ex.statusCode === 200 && isStorableResponse(ex.headers);
    if (shared) {
      const key = cacheKey(fetched.origin.id, r.target, SEGMENT_KEY_IGNORED);
      segments.set(key, stored, body.length + key.length + ENTRY_OVERHEAD_BYTES, this.config.segmentCacheTtl);
      this.cacheGauges('segment', segments);
    }
    return { outcome: 'stored', stored, shared };
  }

  /** A playlist: the origin's text from the micro-cache or a shared fetch, rewritten for this client. */
  private async playlistThroughCache(r: Route, req: IncomingMessage, res: ServerResponse, host: string | undefined, inFlight: InFlight): Promise<void> {
    const playlists = this.playlists!;
    const kind = 'hls-playlist';
    const { target, fill, leader, key } = await requestSpan('http-edge.request', { 'srsp.kind': kind }, async (span) => {
      const target = await this.resolveTarget(kind, r, host);
      span.setAttribute('srsp.stream_url', target.streamUrl);
      const origin = await this.pickOrigin(target, undefined);
      const key = cacheKey(origin.id, r.target, PLAYLIST_KEY_IGNORED);
      const entry = playlists.get(key);
      if (entry) return { target, key, fill: { outcome: 'cached', entry } satisfies PlaylistFill, leader: false, hit: true };
      const joined = this.playlistFills.run(key, () => this.fillPlaylist(target, req, r));
      span.setAttribute('srsp.cache', joined.leader ? 'miss' : 'coalesced');
      return { target, key, fill: await joined.result, leader: joined.leader, hit: false };
    }).then((x) => {
      this.cacheCount.get('playlist', x.hit ? 'hit' : x.leader ? 'miss' : 'coalesced').inc();
      return x;
    });
    if (res.destroyed) {
      if (fill.outcome === 'private' && leader) fill.fetched.ex.abort(new Error('client went away'));
      return;
    }
    if (fill.outcome === 'cached') {
      this.sendPlaylist(res, this.playlistVariant(fill.entry, key, target.spbhid!, host));
      return;
    }
    if (leader) {
      // The origin's answer was not shareable (an error status, cookies, a master playlist…): only its asker gets it.
      if (fill.text !== undefined) this.sendDocument(kind, target, fill.fetched, fill.text, host, res);
      else this.relay(kind, req, res, target, fill.fetched);
      return;
    }
    const fetched = await this.fetch(target, kind, req, r.target, inFlight);
    if (res.destroyed || this.closed) {
      fetched.ex.abort(new Error('client went away'));
      return;
    }
    if (fetched.ex.statusCode === 200) {
      const text = await this.readDocument(fetched);
      if (!res.destroyed) this.sendDocument(kind, target, fetched, text, host, res);
      return;
    }
    inFlight.ex = undefined;
    this.relay(kind, req, res, target, fetched);
  }

  /** One origin fetch of a playlist for every client asking within the micro-cache TTL. */
  private async fillPlaylist(target: Target, req: IncomingMessage, r: Route): Promise<PlaylistFill> {
    const playlists = this.playlists!;
    const fetched = await this.fetch(target, 'hls-playlist', req, r.target, { gone: false });
    const { ex } = fetched;
    if (ex.statusCode !== 200) return { outcome: 'private', fetched, text: undefined };
    const text = await this.readDocument(fetched);
    const ttl = playlistTtlMs(text, this.config.playlistCacheTtl);
    // Not shared, not even with the requests that joined this fetch: they ask the origin themselves.
    if (ttl <= 0 || !isStorableResponse(ex.headers)) return { outcome: 'private', fetched, text };
    const entry: CachedPlaylist = {
      headers: clientResponseHeaders(ex.headers, { cors: true, drop: DOCUMENT_DROPPED }),
      text,
      originAuthorities: fetched.to.authorities,
      variants: new Map(),
    };
    // Stored under the origin that answered (a failover may have picked another one).
    const storeKey = cacheKey(fetched.origin.id, r.target, PLAYLIST_KEY_IGNORED);
    playlists.set(storeKey, entry, text.length * 2 + storeKey.length + ENTRY_OVERHEAD_BYTES, ttl);
    this.cacheGauges('playlist', playlists);
    return { outcome: 'cached', entry };
  }

  /** This client's rewrite of a cached playlist (its spbhid and Host), computed once per variant. */
  private playlistVariant(entry: CachedPlaylist, key: string, spbhid: string, host: string | undefined): PlaylistVariant {
    const id = `${spbhid}\n${host ?? ''}`;
    const done = entry.variants.get(id);
    if (done) return done;
    const body = Buffer.from(
      rewritePlaylist(entry.text, { spbhid, proxyAuthorities: host ? [host] : [], originAuthorities: entry.originAuthorities }).text,
      'utf8',
    );
    const variant = { headers: [...entry.headers, 'content-length', String(body.length)], body };
    if (entry.variants.size < MAX_PLAYLIST_VARIANTS && this.playlists!.grow(key, body.length + id.length + ENTRY_OVERHEAD_BYTES)) {
      entry.variants.set(id, variant);
    }
    return variant;
  }

  private sendPlaylist(res: ServerResponse, variant: PlaylistVariant): void {
    res.writeHead(200, variant.headers).end(variant.body);
    this.bytesOut.get('hls-playlist').inc(variant.body.length);
  }

  /**
   * Sends a response held in memory. The body is shared, not copied; a client that has not taken
   * all of it after `slowClientTimeoutMs` without socket activity is dropped, so a stalled socket
   * cannot pin an evicted body for long.
   */
  private sendStored(kind: StreamKind, res: ServerResponse, stored: StoredResponse): void {
    res.writeHead(stored.status, stored.headers).end(stored.body);
    this.bytesOut.get(kind).inc(stored.body.length);
    if (res.writableFinished || res.writableLength === 0) return;
    res.setTimeout(this.limits.slowClientTimeoutMs, () => {
      this.m.slowClients.labels(kind).inc();
      this.noisy.warn({ kind, queued: res.writableLength }, 'dropped slow client');
      res.destroy();
    });
  }

  private cacheGauges(cache: 'segment' | 'playlist', lru: ByteLru<string, unknown>): void {
    this.m.cacheBytes.labels(cache).set(lru.bytes);
    const evicted = lru.evictions - (this.evictionsSeen.get(cache) ?? 0);
    if (evicted > 0) {
      this.m.cacheEvictions.labels(cache).inc(evicted);
      this.evictionsSeen.set(cache, lru.evictions);
    }
  }
  /**
   * Which stream (and HLS session) a request belongs to; synchronous when the registry's answer
   * is cached (await on a plain value would still cost a turn of the microtask queue).
   */
  private resolveTarget(kind: StreamKind, r: Route, host: string | undefined): Target | Promise<Target> {
    if (kind === 'flv' || kind === 'ts') {
      const key = this.streamKey(r, host);
      return { streamUrl: key.key, key };
    }
    let session: HlsSession | Promise<HlsSession>;
    if (r.spbhid !== undefined) {
      session = this.sessionById(r.spbhid);
    } else {
      // Only documents reach here without an id (segments are classified by having one).
      session = this.sessionForStream(this.streamKey(r, host));
    }
    return session instanceof Promise
      ? session.then((s) => ({ streamUrl: s.stream_url, spbhid: s.spbhid }))
      : { streamUrl: session.stream_url, spbhid: session.spbhid };
  }

  /** The stream key of a request (spec 6.2), remembered for short targets. */
  private streamKey(r: Route, host: string | undefined): HttpStreamUrl {
    if (r.target.length > STREAM_KEY_MEMO_MAX_TARGET) return streamKeyOf(r, host);
    const memo = host === undefined ? r.target : `${host}\n${r.target}`;
    let key = this.streamKeys.get(memo);
    if (key === undefined) {
      key = streamKeyOf(r, host);
      this.streamKeys.set(memo, key);
    }
    return key;
  }

  /** The HTTP endpoint of an origin record, parsed once per record (undefined: it has none). */
  private originTarget(origin: OriginRecord): OriginTarget | undefined {
    let t = this.originTargets.get(origin);
    if (t === undefined) {
      const ep = resolveEndpoint(origin, 'http');
      const authority = ep && formatHostPort(ep.host, ep.port);
      t = ep ? { ep, url: `http://${authority}`, authorities: [authority!, formatHostPort(origin.ip, ep.port)] } : null;
      this.originTargets.set(origin, t);
    }
    return t ?? undefined;
  }

  private sessionById(spbhid: string): HlsSession | Promise<HlsSession> {
    if (!plausibleSpbhid(spbhid)) throw new UnknownSessionError(spbhid.slice(0, 64));
    return this.sessionsById.get(spbhid) ?? this.loadSession(spbhid);
  }

  private async loadSession(spbhid: string): Promise<HlsSession> {
    const session = await this.deps.registry.hlsLoad(spbhid);
    if (!session) throw new UnknownSessionError(spbhid);
    this.sessionsById.set(spbhid, session);
    return session;
  }

  private sessionForStream(key: HttpStreamUrl): HlsSession | Promise<HlsSession> {
    return this.sessionsByStream.get(key.key) ?? this.storeSession(key);
  }

  private async storeSession(key: HttpStreamUrl): Promise<HlsSession> {
    const session = await this.deps.registry.hlsLoadOrStore(key.key, key.full);
    this.sessionsByStream.set(key.key, session);
    this.sessionsById.set(session.spbhid, session);
    return session;
  }

  /**
   * The stream's origin. Picks are cached for `routeCacheTtlMs` (a player opening a stream, and
   * every segment request, would otherwise wait for a registry round trip); a connect failure
   * drops the entry and asks the registry afresh with the failed origin avoided.
   */
  private pickOrigin(target: Target, avoid: string[] | undefined): OriginRecord | Promise<OriginRecord> {
    if (avoid === undefined) {
      const cached = this.picks.get(target.streamUrl);
      if (cached) return cached;
    }
    return this.deps.registry.pick(target.streamUrl, avoid ? { protocol: 'http', avoid } : { protocol: 'http' }).then(({ origin }) => {
      this.picks.set(target.streamUrl, origin);
      return origin;
    });
  }

  /**
   * Asks the picked origin; a refused connect is reported and retried once on a fresh pick.
   * `shared`: the answer may go to other clients too, so it is asked for whole and uncompressed.
   */
  private async fetch(target: Target, kind: StreamKind, req: IncomingMessage, path: string, inFlight: InFlight, shared = false): Promise<Fetched> {
    const headers = originRequestHeaders(req.rawHeaders, { clientIp: req.socket.remoteAddress, forRewrite: shared || isDocument(kind) });
    const method = req.method === 'HEAD' ? 'HEAD' : 'GET';
    let avoid: string[] | undefined;
    let lastFailure: OriginUnreachableError | undefined;
    for (let attempt = 0; ; attempt++) {
      let origin: OriginRecord;
      try {
        const picked = this.pickOrigin(target, avoid);
        origin = picked instanceof Promise ? await picked : picked;
      } catch (err) {
        // No other origin to fail over to: the client hears about the unreachable one.
        if (lastFailure && errorCode(err) === NO_ORIGIN) throw lastFailure;
        throw err;
      }
      const to = this.originTarget(origin);
      if (!to) throw new OriginUnreachableError(`origin ${origin.id} has no http endpoint`);
      const { ep } = to;
      if (inFlight.gone) throw new OriginFailedError('client went away before the origin answered');
      const ex = this.origins.start(to.url, { method, path, headers });
      inFlight.ex = ex;
      try {
        await ex.head;
        return { origin, to, ex };
      } catch (err) {
        if (!isConnectFailure(err) || inFlight.gone) throw err;
        this.picks.delete(target.streamUrl);
        const reason = `http connect to ${formatHostPort(ep.host, ep.port)} failed: ${errorCode(err)}`;
        this.log.warn({ stream: target.streamUrl, origin: origin.id, err: errorMessage(err), attempt }, 'origin unreachable, reporting it');
        await this.deps.registry.reportFailure(origin.id, target.streamUrl, reason).catch((e: unknown) => {
          this.log.warn({ err: errorMessage(e) }, 'could not report origin failure to the registry');
        });
        lastFailure = OriginClient.unreachable(ep, err);
        if (attempt >= 1) throw lastFailure;
        this.m.failovers.inc();
        avoid = [origin.id];
      }
    }
  }

  /** Streams the origin's response to the client: live FLV/TS, segments, non-200 documents. */
  private relay(kind: StreamKind, req: IncomingMessage, res: ServerResponse, target: Target, fetched: Fetched): void {
    const live = kind === 'flv' || kind === 'ts';
    const { statusCode, headers } = fetched.ex;
    res.writeHead(statusCode, clientResponseHeaders(headers, { cors: true }));
    // A pino child costs a bindings serialisation: made only when something is logged with it.
    let sessionLog: Logger | undefined;
    const log = (): Logger => (sessionLog ??= live ? sessionLogger(this.log, { proto: `http-${kind}`, stream: target.streamUrl, origin: fetched.origin.id }) : this.log);
    if (live) {
      if (this.log.isLevelEnabled('info')) log().info({ client: req.socket.remoteAddress, url: target.key?.full, status: statusCode }, 'HTTP start streaming');
      this.activeStreams.get(kind).inc();
    }
    const bytes = this.bytesOut.get(kind);
    const relay = new BodyRelay(fetched.ex, res, this.limits, (n) => bytes.inc(n), (end) => {
      this.relays.delete(relay);
      if (live) this.activeStreams.get(kind).dec();
      if (end.reason === 'slow-client') {
        this.m.slowClients.labels(kind).inc();
        log().warn({ kind, stream: target.streamUrl, detail: end.detail, bytes: end.bytes }, 'dropped slow client');
      } else if (end.reason === 'origin-error') {
        log().warn({ kind, stream: target.streamUrl, detail: end.detail, bytes: end.bytes }, 'origin stream broke');
      } else if (live && this.log.isLevelEnabled('info')) {
        log().info({ reason: end.reason, bytes: end.bytes }, 'HTTP client done');
      }
    });
    this.relays.add(relay);
    relay.start();
  }

  /** Reads a playlist/manifest whole (bounded); compressed documents are refused. */
  private async readDocument(fetched: Fetched): Promise<string> {
    const { ex } = fetched;
    const encoding = ex.header('content-encoding');
    if (encoding !== undefined && encoding !== 'identity') {
      ex.abort(new Error('compressed document'));
      throw new OriginFailedError(`origin compressed the document (${encoding}) although asked for identity`);
    }
    return (await collect(ex, this.limits.maxDocumentBytes)).toString('utf8');
  }

  /** Tags a playlist/manifest's URIs with the session id and sends it whole. */
  private sendDocument(kind: StreamKind, target: Target, fetched: Fetched, text: string, host: string | undefined, res: ServerResponse): void {
    const ctx = { spbhid: target.spbhid!, proxyAuthorities: host ? [host] : [], originAuthorities: fetched.to.authorities };
    const out = Buffer.from(kind === 'hls-playlist' ? rewritePlaylist(text, ctx).text : rewriteManifest(text, ctx).text, 'utf8');
    const outHeaders = clientResponseHeaders(fetched.ex.headers, { cors: true, drop: DOCUMENT_DROPPED });
    outHeaders.push('content-length', String(out.length));
    res.writeHead(200, outHeaders).end(out);
    this.bytesOut.get(kind).inc(out.length);
  }

  /** Answers an error with a short text (no origin details) and logs the details. */
  private fail(kind: string, r: Route, res: ServerResponse, err: unknown): void {
    if (res.destroyed) return;
    const { status, text } = clientError(err);
    const detail = { kind, target: r.target.slice(0, 256), code: errorCode(err), err: errorMessage(err), status };
    if (errorCode(err) === UNKNOWN_SESSION) this.noisy.warn(detail, 'unknown HLS session id');
    else if (status >= 500) this.noisy.warn(detail, 'HTTP request failed');
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const body = `${text}\n`;
    res
      .writeHead(status, { ...(kind === 'static' ? {} : CORS_HEADERS), 'content-type': TEXT, 'cache-control': 'no-store', 'content-length': Buffer.byteLength(body) })
      .end(body);
  }
}

/** Collects a body up to `limit` bytes; past it the origin request is cut and an error thrown. */
function collect(ex: OriginExchange, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    ex.attach({
      onData(chunk) {
        total += chunk.length;
        if (total > limit) {
          // Rejected first: aborting reports an error to onError below, synchronously.
          reject(new DocumentTooLargeError(limit));
          ex.abort(new DocumentTooLargeError(limit));
          return false;
        }
        chunks.push(chunk);
        return true;
      },
      onEnd: () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total)),
      onError: (err) => reject(new OriginFailedError(`reading the origin document failed: ${errorMessage(err)}`, err)),
    });
  });
}
