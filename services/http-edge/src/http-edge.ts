import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { httpServerTimeouts, listenTcp, PROXY_VERSION, PROXY_VERSION_STRING, PROXY_SERVER_HEADER, type ConfigOf, type Drainable, type Logger } from '@srs-proxy/runtime';
import type { EdgeDeps } from '@srs-proxy/bus';
import { OriginProber, routingSettings } from '@srs-proxy/routing';
import type { httpEdgeSchema } from './config.ts';
import { DEFAULT_HTTP_EDGE_LIMITS, type HttpEdgeLimits } from './limits.ts';
import { route, type Route, type StreamKind } from './route.ts';
import { originRequestHeaders, CORS_HEADERS } from './headers.ts';
import { OriginHttpClient, readDocument } from './origin-client.ts';
import { EdgeRouting, type Fetched, type InFlight, type OriginRequest } from './origin-routing.ts';
import { StreamSessions, type StreamTarget } from './stream-sessions.ts';
import { Responder, TEXT } from './responder.ts';
import { LiveStallChecks, probeHttpOrigin } from './stall-checks.ts';
import { StaticFiles } from './static-files.ts';
import { SegmentCache, type SegmentFill } from './cache/segment-cache.ts';
import { PlaylistCache, type PlaylistFill } from './cache/playlist-cache.ts';
import { isCacheableSegment, isShareableRequest } from './cache/policy.ts';
import { httpEdgeMetrics, kindLabel, BatchedCounter, CacheMeter } from './edge-metrics.ts';
import { requestSpan } from './span.ts';

export type HttpEdgeConfig = ConfigOf<typeof httpEdgeSchema>;

/** What the http-edge receives from whoever starts it: the edge collaborators and the clock of every TTL. */
export interface HttpEdgeDeps extends EdgeDeps {
  /** Milliseconds clock of the route, session and edge caches (tests move it instead of sleeping). */
  now?: () => number;
}

/** The Go proxy's `/api/v1/versions` data. */
const VERSION = { ...PROXY_VERSION, version: PROXY_VERSION_STRING } as const;
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
 * CDN edges do (cache/, `PROXY_HLS_*_CACHE_*`). This class dispatches requests; which stream a
 * request is for is StreamSessions' to say, which origin serves it EdgeRouting's, and what the
 * client is sent Responder's.
 */
export class HttpEdge implements Drainable {
  private closed = false;
  /** Requests on the proxied path (FLV/TS relays, origin fetches) not yet answered to the end. */
  private proxying = 0;
  /** Bound port (tests listen on 0). */
  port = 0;
  private server: Server | undefined;
  private staticFiles: StaticFiles | undefined;
  private readonly limits: HttpEdgeLimits;
  private readonly origins: OriginHttpClient;
  private readonly routing: EdgeRouting;
  private readonly sessions: StreamSessions;
  private readonly answer: Responder;
  private readonly stalls: LiveStallChecks;
  /** Undefined when PROXY_HLS_SEGMENT_CACHE_BYTES or its TTL is 0. */
  private readonly segments: SegmentCache | undefined;
  /** Undefined when PROXY_HLS_PLAYLIST_CACHE_TTL is 0. */
  private readonly playlists: PlaylistCache | undefined;
  private readonly requestCount: BatchedCounter;
  private readonly bytesOut: BatchedCounter;
  private readonly cacheCount: BatchedCounter;
  private readonly log: Logger;

  constructor(
    deps: HttpEdgeDeps,
    private readonly config: HttpEdgeConfig,
    limits: Partial<HttpEdgeLimits> = {},
  ) {
    // The connect bound is every edge's PROXY_ORIGIN_CONNECT_TIMEOUT unless a test sets its own.
    this.limits = { ...DEFAULT_HTTP_EDGE_LIMITS, originConnectTimeoutMs: routingSettings(deps.routing).connectTimeoutMs, ...limits };
    const now = deps.now ?? Date.now;
    this.log = deps.logger;
    const m = httpEdgeMetrics(deps.metrics);
    this.requestCount = new BatchedCounter(m.requests, ['kind', 'status']);
    this.bytesOut = new BatchedCounter(m.bytesOut, ['kind']);
    this.cacheCount = new BatchedCounter(m.cacheRequests, ['cache', 'result']);
    const l = this.limits;
    const stallMs = routingSettings(deps.routing).stallTimeoutMs;
    const probeMs = l.originConnectTimeoutMs;
    this.stalls = new LiveStallChecks({
      stallMs,
      // One probe per origin answers for every player of it until the next suspicion.
      prober: new OriginProber({ probe: (ep, signal) => probeHttpOrigin(ep, signal, probeMs), timeoutMs: probeMs, reuseMs: stallMs / 2 }),
      report: (streamUrl, originId, reason) => this.routing.reportFailure(streamUrl, originId, reason),
      log: deps.logger,
    });
    this.answer = new Responder(l, m, this.bytesOut, deps.logger, this.stalls);
    this.origins = new OriginHttpClient({
      connectTimeoutMs: l.originConnectTimeoutMs,
      headersTimeoutMs: l.originHeadersTimeoutMs,
      bodyIdleTimeoutMs: l.originBodyIdleTimeoutMs,
      keepAliveTimeoutMs: l.originKeepAliveMs,
    });
    this.routing = new EdgeRouting({ deps, client: this.origins, ttlMs: l.routeCacheTtlMs, now, onFailover: () => m.failovers.inc() });
    this.sessions = new StreamSessions({
      registry: deps.registry, controlPlane: this.routing.controlPlane, ttlMs: l.routeCacheTtlMs,
      staleMs: routingSettings(deps.routing).staleMaxMs, maxEntries: l.routeCacheMaxEntries, now,
    });
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
    return this.answer.activeRelays;
  }

  async start(): Promise<void> {
    if (this.closed) throw new Error('http-edge is closed');
    this.staticFiles = await StaticFiles.open(this.config.staticFiles);
    const server = createServer(
      {
        noDelay: true,
        // Header deadline held to the second (Node checks every 30 s by default); no request-body
        // deadline: live FLV/TS responses are long, and their clients are bounded by the relay.
        ...httpServerTimeouts({ headersTimeoutMs: this.limits.clientHeadersTimeoutMs, keepAliveTimeoutMs: this.limits.clientKeepAliveMs }),
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

  /** What a drain waits for: proxied requests in flight, live FLV/TS relays among them. */
  get activeSessions(): number {
    return this.proxying;
  }

  /** Stops listening; requests in flight (segments, live relays) go on, idle keep-alive connections close. */
  stopAccepting(): void {
    if (this.server?.listening) this.server.close();
  }

  async close(reason = 'close'): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stalls.close();
    this.answer.closeRelays(reason);
    const server = this.server;
    if (server) {
      // After stopAccepting the server already closed (its 'close' may have fired): only end connections.
      const done = server.listening ? new Promise<void>((resolve) => server.close(() => resolve())) : Promise.resolve();
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
      this.staticFiles!.serve(req, res, r.path).catch((err) => this.answer.fail(kind, r, res, err));
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
    this.proxying++;
    res.once('close', () => {
      this.proxying--;
      if (!res.writableFinished) {
        inFlight.gone = true;
        inFlight.ex?.abort(new Error('client went away'));
      }
      this.requestCount.get(label, res.headersSent ? String(res.statusCode) : 'aborted').inc();
    });
    this.proxy(kind, r, req, res, shared, inFlight).catch((err) => this.answer.fail(kind, r, res, err));
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
      this.answer.sendStored(kind, res, stored);
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
    this.answer.sendPlaylist(res, variant);
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
      if (!res.destroyed) this.answer.sendDocument(kind, target, fetched, text, host, res);
      return;
    }
    // From here the relay owns the exchange and reacts to the client leaving itself.
    inFlight.ex = undefined;
    this.answer.relay(kind, req, res, target, fetched);
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
      if (!res.destroyed) this.answer.sendStored(kind, res, fill.stored);
      return;
    }
    if (fill.outcome === 'stream' && leader) {
      const { fetched } = fill;
      if (res.destroyed || this.closed) {
        fetched.ex.abort(new Error('client went away'));
        return;
      }
      this.answer.relay(kind, req, res, target, fetched);
      return;
    }
    // Not something this client may share: it asks the origin itself.
    const fetched = await this.fetch(target, kind, req, r, inFlight);
    if (res.destroyed || this.closed) {
      fetched.ex.abort(new Error('client went away'));
      return;
    }
    inFlight.ex = undefined;
    this.answer.relay(kind, req, res, target, fetched);
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
      this.answer.sendPlaylist(res, playlists.variant(fill.entry, key, target.spbhid!, host));
      return;
    }
    if (leader) {
      // The origin's answer was not shareable (an error status, cookies, a master playlist…): only its asker gets it.
      if (fill.text !== undefined) this.answer.sendDocument(kind, target, fill.fetched, fill.text, host, res);
      else this.answer.relay(kind, req, res, target, fill.fetched);
      return;
    }
    const fetched = await this.fetch(target, kind, req, r, inFlight);
    if (res.destroyed || this.closed) {
      fetched.ex.abort(new Error('client went away'));
      return;
    }
    if (fetched.ex.statusCode === 200) {
      const text = await readDocument(fetched.ex, this.limits.maxDocumentBytes);
      if (!res.destroyed) this.answer.sendDocument(kind, target, fetched, text, host, res);
      return;
    }
    inFlight.ex = undefined;
    this.answer.relay(kind, req, res, target, fetched);
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
}
