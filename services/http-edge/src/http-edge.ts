import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import {
  listenTcp, withSpan, sessionLogger, RateLimitedLog, errorCode, errorMessage,
  type ConfigOf, type Logger,
} from '@srs-proxy/runtime';
import { resolveEndpoint, formatHostPort, NO_ORIGIN, type Endpoint, type HlsSession, type HttpStreamUrl, type OriginRecord } from '@srs-proxy/balancer';
import type { EdgeDeps } from '@srs-proxy/bus';
import type { httpEdgeSchema } from './config.ts';
import { route, streamKeyOf, plausibleSpbhid, type Route, type StreamKind } from './route.ts';
import { originRequestHeaders, clientResponseHeaders, CORS_HEADERS } from './headers.ts';
import { OriginClient, isConnectFailure, type OriginExchange } from './origin-client.ts';
import { BodyRelay, type RelayLimits } from './relay.ts';
import { StaticFiles } from './static-files.ts';
import { TtlCache } from './ttl-cache.ts';
import { rewritePlaylist } from './hls/playlist-rewrite.ts';
import { rewriteManifest } from './dash/mpd-rewrite.ts';
import { httpEdgeMetrics, type HttpEdgeMetrics } from './edge-metrics.ts';
import {
  clientError, DocumentTooLargeError, OriginFailedError, OriginUnreachableError, UnknownSessionError, UNKNOWN_SESSION,
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
}

export const DEFAULT_HTTP_EDGE_LIMITS: HttpEdgeLimits = {
  // About a second of a 4 Mbps stream: absorbs a player's read jitter without pausing the origin.
  clientWindowBytes: 512 * 1024,
  // Hard cap per client whatever the chunk sizes: 16 window's worth, a few seconds of video.
  maxClientBufferBytes: 8 * 1024 * 1024,
  // A live player that has not read for 10 s is frozen; holding the origin paused longer only
  // makes SRS queue (and later drop) for it too.
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
};

/** Rewritten documents get a new length; validators and encodings of the origin no longer apply. */
const DOCUMENT_DROPPED = new Set(['content-length', 'content-encoding', 'etag', 'last-modified', 'accept-ranges', 'content-range']);

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
  ep: Endpoint;
  ex: OriginExchange;
}

function isDocument(kind: StreamKind): boolean {
  return kind === 'hls-playlist' || kind === 'dash-manifest';
}

/**
 * The HTTP stream edge (spec 6): live HTTP-FLV/HTTP-TS relayed with backpressure, HLS and DASH
 * documents rewritten so every later request carries the session id (`spbhid`) any replica can
 * resolve through the registry, static player pages, and the Go proxy's versions endpoint.
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
  private readonly m: HttpEdgeMetrics;
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
    this.log.info({ port: this.port, static: this.staticFiles.root }, 'HTTP stream server listening');
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
    this.count(kind, res);
    if (kind === 'versions') {
      const body = JSON.stringify({ code: 0, pid: String(process.pid), data: VERSION });
      res.writeHead(200, { 'content-type': 'application/json', server: SERVER_HEADER, 'content-length': Buffer.byteLength(body) }).end(body);
      return;
    }
    if (kind === 'static') {
      this.staticFiles!.serve(req, res, r.path).catch((err) => this.fail(kind, r, res, err));
      return;
    }
    if (req.method === 'OPTIONS') {
      res.writeHead(200, { ...CORS_HEADERS, 'content-length': 0 }).end();
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { ...CORS_HEADERS, allow: 'GET, HEAD, OPTIONS', 'content-type': TEXT }).end('method not allowed\n');
      return;
    }
    this.proxy(kind, r, req, res).catch((err) => this.fail(kind, r, res, err));
  };

  /** Counts a request once, with its final status, when its response ends or breaks. */
  private count(kind: string, res: ServerResponse): void {
    res.once('close', () => this.m.requests.labels(kind, res.headersSent ? String(res.statusCode) : 'aborted').inc());
  }

  private async proxy(kind: StreamKind, r: Route, req: IncomingMessage, res: ServerResponse): Promise<void> {
    // The origin request in flight, cancelled if the client leaves before the relay owns it.
    const inFlight: { ex?: OriginExchange; gone: boolean } = { gone: false };
    res.once('close', () => {
      if (res.writableFinished) return;
      inFlight.gone = true;
      inFlight.ex?.abort(new Error('client went away'));
    });
    const host = req.headers.host;
    const { target, fetched } = await withSpan('http-edge.request', { 'srsp.kind': kind }, async (span) => {
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
      await this.sendDocument(kind, target, fetched, host, res);
      return;
    }
    // From here the relay owns the exchange and reacts to the client leaving itself.
    inFlight.ex = undefined;
    this.relay(kind, req, res, target, fetched);
  }

  /** Which stream (and HLS session) a request belongs to. */
  private async resolveTarget(kind: StreamKind, r: Route, host: string | undefined): Promise<Target> {
    if (kind === 'flv' || kind === 'ts') {
      const key = streamKeyOf(r, host);
      return { streamUrl: key.key, key };
    }
    let session: HlsSession;
    if (r.spbhid !== undefined) {
      session = await this.sessionById(r.spbhid);
    } else {
      // Only documents reach here without an id (segments are classified by having one).
      const key = streamKeyOf(r, host);
      session = await this.sessionForStream(key);
    }
    return { streamUrl: session.stream_url, spbhid: session.spbhid };
  }

  private async sessionById(spbhid: string): Promise<HlsSession> {
    if (!plausibleSpbhid(spbhid)) throw new UnknownSessionError(spbhid.slice(0, 64));
    const cached = this.sessionsById.get(spbhid);
    if (cached) return cached;
    const session = await this.deps.registry.hlsLoad(spbhid);
    if (!session) throw new UnknownSessionError(spbhid);
    this.sessionsById.set(spbhid, session);
    return session;
  }

  private async sessionForStream(key: HttpStreamUrl): Promise<HlsSession> {
    const cached = this.sessionsByStream.get(key.key);
    if (cached) return cached;
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
  private async pickOrigin(target: Target, avoid: string[] | undefined): Promise<OriginRecord> {
    if (avoid === undefined) {
      const cached = this.picks.get(target.streamUrl);
      if (cached) return cached;
    }
    const { origin } = await this.deps.registry.pick(target.streamUrl, avoid ? { protocol: 'http', avoid } : { protocol: 'http' });
    this.picks.set(target.streamUrl, origin);
    return origin;
  }

  /** Asks the picked origin; a refused connect is reported and retried once on a fresh pick. */
  private async fetch(target: Target, kind: StreamKind, req: IncomingMessage, path: string, inFlight: { ex?: OriginExchange; gone: boolean }): Promise<Fetched> {
    const headers = originRequestHeaders(req.headers, { clientIp: req.socket.remoteAddress, forRewrite: isDocument(kind) });
    const method = req.method === 'HEAD' ? 'HEAD' : 'GET';
    let avoid: string[] | undefined;
    let lastFailure: OriginUnreachableError | undefined;
    for (let attempt = 0; ; attempt++) {
      let origin: OriginRecord;
      try {
        origin = await this.pickOrigin(target, avoid);
      } catch (err) {
        // No other origin to fail over to: the client hears about the unreachable one.
        if (lastFailure && errorCode(err) === NO_ORIGIN) throw lastFailure;
        throw err;
      }
      const ep = resolveEndpoint(origin, 'http');
      if (!ep) throw new OriginUnreachableError(`origin ${origin.id} has no http endpoint`);
      if (inFlight.gone) throw new OriginFailedError('client went away before the origin answered');
      const ex = this.origins.start(ep, { method, path, headers });
      inFlight.ex = ex;
      try {
        await ex.head;
        return { origin, ep, ex };
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
    let log: Logger | undefined;
    if (live) {
      log = sessionLogger(this.log, { proto: `http-${kind}`, stream: target.streamUrl, origin: fetched.origin.id });
      log.info({ client: req.socket.remoteAddress, url: target.key?.full, status: statusCode }, 'HTTP start streaming');
      this.m.activeStreams.labels(kind).inc();
    }
    const bytes = this.m.bytesOut.labels(kind);
    const relay = new BodyRelay(fetched.ex, res, this.limits, (n) => bytes.inc(n), (end) => {
      this.relays.delete(relay);
      if (live) this.m.activeStreams.labels(kind).dec();
      if (end.reason === 'slow-client') {
        this.m.slowClients.labels(kind).inc();
        (log ?? this.log).warn({ kind, stream: target.streamUrl, detail: end.detail, bytes: end.bytes }, 'dropped slow client');
      } else if (end.reason === 'origin-error') {
        (log ?? this.log).warn({ kind, stream: target.streamUrl, detail: end.detail, bytes: end.bytes }, 'origin stream broke');
      } else {
        log?.info({ reason: end.reason, bytes: end.bytes }, 'HTTP client done');
      }
    });
    this.relays.add(relay);
    relay.start();
  }

  /** Reads a playlist/manifest (bounded), tags its URIs with the session id, sends it whole. */
  private async sendDocument(kind: StreamKind, target: Target, fetched: Fetched, host: string | undefined, res: ServerResponse): Promise<void> {
    const { ex } = fetched;
    const headers = ex.headers;
    const encoding = headers['content-encoding'];
    if (encoding !== undefined && encoding !== 'identity') {
      ex.abort(new Error('compressed document'));
      throw new OriginFailedError(`origin compressed the document (${String(encoding)}) although asked for identity`);
    }
    const text = (await collect(ex, this.limits.maxDocumentBytes)).toString('utf8');
    if (res.destroyed) return;
    const originAuthorities = [formatHostPort(fetched.ep.host, fetched.ep.port), formatHostPort(fetched.origin.ip, fetched.ep.port)];
    const ctx = { spbhid: target.spbhid!, proxyAuthorities: host ? [host] : [], originAuthorities };
    const out = Buffer.from(kind === 'hls-playlist' ? rewritePlaylist(text, ctx).text : rewriteManifest(text, ctx).text, 'utf8');
    const outHeaders = clientResponseHeaders(headers, { cors: true, drop: DOCUMENT_DROPPED });
    outHeaders['content-length'] = out.length;
    res.writeHead(200, outHeaders).end(out);
    this.m.bytesOut.labels(kind).inc(out.length);
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
          ex.abort(new DocumentTooLargeError(limit));
          reject(new DocumentTooLargeError(limit));
          return false;
        }
        chunks.push(chunk);
        return true;
      },
      onEnd: () => resolve(Buffer.concat(chunks, total)),
      onError: (err) => reject(new OriginFailedError(`reading the origin document failed: ${errorMessage(err)}`, err)),
    });
  });
}
