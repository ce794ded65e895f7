import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import {
  listenTcp, sessionLogger, RateLimitedLog, errorCode, errorMessage, PROXY_VERSION, PROXY_VERSION_STRING, PROXY_SERVER_HEADER,
  type ConfigOf, type Logger, type Gauge,
} from '@srs-proxy/runtime';
import type { EdgeDeps } from '@srs-proxy/bus';
import type { httpEdgeSchema } from './config.ts';
import { route, type Route, type StreamKind } from './route.ts';
import { originRequestHeaders, clientResponseHeaders, CORS_HEADERS, DOCUMENT_DROPPED } from './headers.ts';
import { OriginClient, readDocument } from './origin-client.ts';
import { EdgeRouting, type Fetched, type InFlight, type OriginRequest } from './origin-routing.ts';
import { StreamSessions, type StreamTarget } from './stream-sessions.ts';
import { BodyRelay, type RelayLimits } from './relay.ts';
import { StaticFiles } from './static-files.ts';
import { SegmentCache, type SegmentFill, type StoredResponse } from './cache/segment-cache.ts';
import { PlaylistCache, type PlaylistFill, type PlaylistVariant } from './cache/playlist-cache.ts';
import { isCacheableSegment, isShareableRequest } from './cache/policy.ts';
import { rewritePlaylist } from './hls/playlist-rewrite.ts';
import { rewriteManifest } from './dash/mpd-rewrite.ts';
import { httpEdgeMetrics, kindLabel, BatchedCounter, CacheMeter, LabelCache, type HttpEdgeMetrics } from './edge-metrics.ts';
import { requestSpan } from './span.ts';
import { clientError, UNKNOWN_SESSION } from './errors.ts';

export type HttpEdgeConfig = ConfigOf<typeof httpEdgeSchema>;

/** What the http-edge receives from whoever starts it: the edge collaborators and the clock of every TTL. */
export interface HttpEdgeDeps extends EdgeDeps {
  /** Milliseconds clock of the route, session and edge caches (tests move it instead of sleeping). */
  now?: () => number;
}

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

/** The Go proxy's `/api/v1/versions` data. */
const VERSION = { ...PROXY_VERSION, version: PROXY_VERSION_STRING } as const;
const TEXT = 'text/plain; charset=utf-8';
const SEGMENT_LABEL = kindLabel('segment');

/** HLS playlists and DASH manifests: read whole and rewritten so their URIs carry the session id. */
function isDocument(kind: StreamKind): kind is 'hls-playlist' | 'dash-manifest' {
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
 * The HTTP stream edge (spec 6): live HTTP-FLV/HTTP-TS relayed with backpressure, HLS playlists
 * and DASH manifests rewritten so every later request carries the session id (`spbhid`) any
 * replica can resolve through the registry, static player pages, and the Go proxy's versions
 * endpoint. Segments and HLS playlists go through two shared caches with request coalescing, as
 * CDN edges do (cache/, `PROXY_HLS_*_CACHE_*`). This class dispatches requests and answers
 * clients; which stream a request is for is StreamSessions', which origin serves it EdgeRouting's.
 */
export class HttpEdge {
  private closed = false;
  /** Bound port (tests listen on 0). */
  port = 0;
  private server: Server | undefined;
  private staticFiles: StaticFiles | undefined;
  private readonly limits: HttpEdgeLimits;
  private readonly origins: OriginClient;
  private readonly routing: EdgeRouting;
  private readonly sessions: StreamSessions;
  private readonly relays = new Set<BodyRelay>();
  /** Undefined when PROXY_HLS_SEGMENT_CACHE_BYTES or its TTL is 0. */
  private readonly segments: SegmentCache | undefined;
  /** Undefined when PROXY_HLS_PLAYLIST_CACHE_TTL is 0. */
  private readonly playlists: PlaylistCache | undefined;
  private readonly m: HttpEdgeMetrics;
  private readonly requestCount: BatchedCounter;
  private readonly bytesOut: BatchedCounter;
  private readonly activeStreams: LabelCache<Gauge.Internal<'kind'>>;
  private readonly cacheCount: BatchedCounter;
  private readonly log: Logger;
  private readonly noisy: RateLimitedLog;

  constructor(
    deps: HttpEdgeDeps,
    private readonly config: HttpEdgeConfig,
    limits: Partial<HttpEdgeLimits> = {},
  ) {
    this.limits = { ...DEFAULT_HTTP_EDGE_LIMITS, ...limits };
    const now = deps.now ?? Date.now;
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
    const { registry, logger } = deps;
    this.routing = new EdgeRouting({
      registry, client: this.origins, logger, ttlMs: l.routeCacheTtlMs, maxEntries: l.routeCacheMaxEntries, now, onFailover: () => m.failovers.inc(),
    });
    this.sessions = new StreamSessions({ registry, ttlMs: l.routeCacheTtlMs, maxEntries: l.routeCacheMaxEntries, now });
    if (config.segmentCacheBytes > 0 && config.segmentCacheTtl > 0) {
      this.segments = new SegmentCache(
        { maxBytes: config.segmentCacheBytes, ttlMs: config.segmentCacheTtl, now },
        new CacheMeter(m, this.cacheCount, 'segment'),
      );
    }
    if (config.playlistCacheTtl > 0) {
      this.playlists = new PlaylistCache(
        { maxBytes: l.playlistCacheMaxBytes, maxDocumentBytes: l.maxDocumentBytes, ttlMs: config.playlistCacheTtl, now },
        new CacheMeter(m, this.cacheCount, 'playlist'),
      );
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
        segmentCacheTtlMs: this.segments?.ttlMs ?? 0,
        playlistCacheTtlMs: this.playlists?.ttlMs ?? 0,
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
    this.sessions.clear();
    this.routing.clear();
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
      res.writeHead(200, { 'content-type': 'application/json', server: PROXY_SERVER_HEADER, 'content-length': Buffer.byteLength(body) }).end(body);
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
    const shared = (kind === 'segment' || kind === 'hls-playlist') && req.method === 'GET' && isShareableRequest(req.rawHeaders);
    // The hot path of a busy edge: everything in memory, answered without a single await.
    if (shared && this.answerFromMemory(kind, r, req, res)) return;
    const inFlight: InFlight = { gone: false };
    const label = kindLabel(kind);
    res.once('close', () => {
      if (!res.writableFinished) {
        inFlight.gone = true;
        inFlight.ex?.abort(new Error('client went away'));
      }
      this.requestCount.get(label, res.headersSent ? String(res.statusCode) : 'aborted').inc();
    });
    this.proxy(kind, r, req, res, shared, inFlight).catch((err) => this.fail(kind, r, res, err));
  };

  /** Counts a request once, with its final status, when its response ends or breaks. */
  private count(kind: string, res: ServerResponse): void {
    const label = kindLabel(kind);
    res.once('close', () => this.requestCount.get(label, res.headersSent ? String(res.statusCode) : 'aborted').inc());
  }

  /**
   * Serves a segment or playlist request from the caches when its session, its origin and the
   * answer are all in memory. Returns false (having written nothing) otherwise.
   */
  private answerFromMemory(kind: 'segment' | 'hls-playlist', r: Route, req: IncomingMessage, res: ServerResponse): boolean {
    if (kind === 'segment') {
      const segments = this.segments;
      if (!segments || !isCacheableSegment(r.path)) return false;
      const session = this.sessions.cached(r, undefined);
      const origin = session && this.routing.cachedOrigin(session.stream_url);
      const stored = origin && segments.get(segments.key(origin.id, r.target));
      if (!stored) return false;
      segments.meter.count('hit');
      this.requestCount.get(SEGMENT_LABEL, String(stored.status)).inc();
      this.sendStored(kind, res, stored);
      return true;
    }
    const playlists = this.playlists;
    if (!playlists) return false;
    const host = hostOf(req);
    const session = this.sessions.cached(r, host);
    const origin = session && this.routing.cachedOrigin(session.stream_url);
    if (!origin) return false;
    const key = playlists.key(origin.id, r.target);
    const entry = playlists.get(key);
    if (!entry) return false;
    const variant = playlists.variant(entry, key, session.spbhid, host);
    playlists.meter.count('hit');
    this.requestCount.get(kind, '200').inc();
    this.sendPlaylist(res, variant);
    return true;
  }

  private async proxy(kind: StreamKind, r: Route, req: IncomingMessage, res: ServerResponse, shared: boolean, inFlight: InFlight): Promise<void> {
    const host = hostOf(req);
    if (kind === 'segment' && this.segments && isCacheableSegment(r.path)) {
      if (shared) return this.segmentThroughCache(this.segments, r, req, res, inFlight);
      this.segments.meter.count('bypass');
    } else if (kind === 'hls-playlist' && this.playlists) {
      if (shared) return this.playlistThroughCache(this.playlists, r, req, res, host, inFlight);
      this.playlists.meter.count('bypass');
    }
    const { target, fetched } = await requestSpan('http-edge.request', { 'srsp.kind': kindLabel(kind) }, async (span) => {
      const target = await this.sessions.resolve(kind, r, host);
      span.setAttribute('srsp.stream_url', target.streamUrl);
      const fetched = await this.fetch(target, kind, req, r, inFlight);
      span.setAttribute('srsp.origin_id', fetched.origin.id);
      span.setAttribute('http.response.status_code', fetched.ex.statusCode);
      return { target, fetched };
    });
    if (res.destroyed || this.closed) {
      fetched.ex.abort(new Error('client went away'));
      return;
    }
    if (isDocument(kind) && req.method === 'GET' && fetched.ex.statusCode === 200) {
      const text = await readDocument(fetched.ex, this.limits.maxDocumentBytes);
      if (!res.destroyed) this.sendDocument(kind, target, fetched, text, host, res);
      return;
    }
    // From here the relay owns the exchange and reacts to the client leaving itself.
    inFlight.ex = undefined;
    this.relay(kind, req, res, target, fetched);
  }

  /** A cacheable segment: from the cache, by joining a fetch in flight, or by leading one. */
  private async segmentThroughCache(segments: SegmentCache, r: Route, req: IncomingMessage, res: ServerResponse, inFlight: InFlight): Promise<void> {
    const kind = 'segment';
    const { target, fill, leader } = await requestSpan('http-edge.request', { 'srsp.kind': SEGMENT_LABEL }, async (span) => {
      const target = await this.sessions.resolve(kind, r, undefined);
      span.setAttribute('srsp.stream_url', target.streamUrl);
      const origin = await this.routing.pickOrigin(target.streamUrl);
      const key = segments.key(origin.id, r.target);
      const stored = segments.get(key);
      if (stored) return { target, fill: { outcome: 'stored', stored, shared: true } satisfies SegmentFill, leader: false, hit: true };
      const joined = segments.fill(key, r.target, () => this.fetch(target, kind, req, r, { gone: false }, true));
      span.setAttribute('srsp.cache', joined.leader ? 'miss' : 'coalesced');
      return { target, fill: await joined.result, leader: joined.leader, hit: false };
    }).then((x) => {
      segments.meter.count(x.hit ? 'hit' : x.leader ? 'miss' : 'coalesced');
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
    const fetched = await this.fetch(target, kind, req, r, inFlight);
    if (res.destroyed || this.closed) {
      fetched.ex.abort(new Error('client went away'));
      return;
    }
    inFlight.ex = undefined;
    this.relay(kind, req, res, target, fetched);
  }

  /** A playlist: the origin's text from the micro-cache or a shared fetch, rewritten for this client. */
  private async playlistThroughCache(
    playlists: PlaylistCache, r: Route, req: IncomingMessage, res: ServerResponse, host: string | undefined, inFlight: InFlight,
  ): Promise<void> {
    const kind = 'hls-playlist';
    const { target, fill, leader, key } = await requestSpan('http-edge.request', { 'srsp.kind': kind }, async (span) => {
      const target = await this.sessions.resolve(kind, r, host);
      span.setAttribute('srsp.stream_url', target.streamUrl);
      const origin = await this.routing.pickOrigin(target.streamUrl);
      const key = playlists.key(origin.id, r.target);
      const entry = playlists.get(key);
      if (entry) return { target, key, fill: { outcome: 'cached', entry } satisfies PlaylistFill, leader: false, hit: true };
      const joined = playlists.fill(key, r.target, () => this.fetch(target, kind, req, r, { gone: false }));
      span.setAttribute('srsp.cache', joined.leader ? 'miss' : 'coalesced');
      return { target, key, fill: await joined.result, leader: joined.leader, hit: false };
    }).then((x) => {
      playlists.meter.count(x.hit ? 'hit' : x.leader ? 'miss' : 'coalesced');
      return x;
    });
    if (res.destroyed) {
      if (fill.outcome === 'private' && leader) fill.fetched.ex.abort(new Error('client went away'));
      return;
    }
    if (fill.outcome === 'cached') {
      this.sendPlaylist(res, playlists.variant(fill.entry, key, target.spbhid!, host));
      return;
    }
    if (leader) {
      // The origin's answer was not shareable (an error status, cookies, a master playlist…): only its asker gets it.
      if (fill.text !== undefined) this.sendDocument(kind, target, fill.fetched, fill.text, host, res);
      else this.relay(kind, req, res, target, fill.fetched);
      return;
    }
    const fetched = await this.fetch(target, kind, req, r, inFlight);
    if (res.destroyed || this.closed) {
      fetched.ex.abort(new Error('client went away'));
      return;
    }
    if (fetched.ex.statusCode === 200) {
      const text = await readDocument(fetched.ex, this.limits.maxDocumentBytes);
      if (!res.destroyed) this.sendDocument(kind, target, fetched, text, host, res);
      return;
    }
    inFlight.ex = undefined;
    this.relay(kind, req, res, target, fetched);
  }

  /**
   * Asks the stream's origin for the request target (failing over as EdgeRouting does).
   * `shared`: the answer may go to other clients too, so it is asked for whole and uncompressed.
   */
  private fetch(target: StreamTarget, kind: StreamKind, req: IncomingMessage, r: Route, inFlight: InFlight, shared = false): Promise<Fetched> {
    const request: OriginRequest = {
      method: req.method === 'HEAD' ? 'HEAD' : 'GET',
      path: r.target,
      headers: originRequestHeaders(req.rawHeaders, { clientIp: req.socket.remoteAddress, forRewrite: shared || isDocument(kind) }),
    };
    return this.routing.resolveOrigin(target.streamUrl, request, inFlight);
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
    const label = kindLabel(kind);
    this.bytesOut.get(label).inc(stored.body.length);
    if (res.writableFinished || res.writableLength === 0) return;
    res.setTimeout(this.limits.slowClientTimeoutMs, () => {
      this.m.slowClients.labels(label).inc();
      this.noisy.warn({ kind: label, queued: res.writableLength }, 'dropped slow client');
      res.destroy();
    });
  }

  /** Streams the origin's response to the client: live FLV/TS, segments, non-200 documents. */
  private relay(kind: StreamKind, req: IncomingMessage, res: ServerResponse, target: StreamTarget, fetched: Fetched): void {
    const live = kind === 'flv' || kind === 'ts';
    const label = kindLabel(kind);
    const { statusCode, headers } = fetched.ex;
    res.writeHead(statusCode, clientResponseHeaders(headers, { cors: true }));
    // A pino child costs a bindings serialisation: made only when something is logged with it.
    let sessionLog: Logger | undefined;
    const log = (): Logger => (sessionLog ??= live ? sessionLogger(this.log, { proto: `http-${kind}`, stream: target.streamUrl, origin: fetched.origin.id }) : this.log);
    if (live) {
      if (this.log.isLevelEnabled('info')) log().info({ client: req.socket.remoteAddress, url: target.key?.full, status: statusCode }, 'HTTP start streaming');
      this.activeStreams.get(kind).inc();
    }
    const bytes = this.bytesOut.get(label);
    const relay = new BodyRelay(fetched.ex, res, this.limits, (n) => bytes.inc(n), (end) => {
      this.relays.delete(relay);
      if (live) this.activeStreams.get(kind).dec();
      if (end.reason === 'slow-client') {
        this.m.slowClients.labels(label).inc();
        log().warn({ kind: label, stream: target.streamUrl, detail: end.detail, bytes: end.bytes }, 'dropped slow client');
      } else if (end.reason === 'origin-error') {
        log().warn({ kind: label, stream: target.streamUrl, detail: end.detail, bytes: end.bytes }, 'origin stream broke');
      } else if (live && this.log.isLevelEnabled('info')) {
        log().info({ reason: end.reason, bytes: end.bytes }, 'HTTP client done');
      }
    });
    this.relays.add(relay);
    relay.start();
  }

  /** Tags a playlist's or manifest's URIs with the session id and sends it whole. */
  private sendDocument(
    kind: 'hls-playlist' | 'dash-manifest', target: StreamTarget, fetched: Fetched, text: string, host: string | undefined, res: ServerResponse,
  ): void {
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
    const detail = { kind: kindLabel(kind), target: r.target.slice(0, 256), code: errorCode(err), err: errorMessage(err), status };
    if (errorCode(err) === UNKNOWN_SESSION) this.noisy.warn(detail, 'unknown HLS/DASH session id');
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
