import type { IncomingMessage, ServerResponse } from 'node:http';
import { sessionLogger, RateLimitedLog, errorCode, errorMessage, type Logger, type Gauge } from '@srs-proxy/runtime';
import type { Route, StreamKind } from './route.ts';
import { clientResponseHeaders, CORS_HEADERS, DOCUMENT_DROPPED } from './headers.ts';
import type { Fetched } from './origin-routing.ts';
import type { StreamTarget } from './stream-sessions.ts';
import { BodyRelay, type RelayLimits } from './relay.ts';
import type { LiveStallChecks } from './stall-checks.ts';
import type { StoredResponse } from './cache/segment-cache.ts';
import type { PlaylistVariant } from './cache/playlist-cache.ts';
import { rewritePlaylist } from './hls/playlist-rewrite.ts';
import { rewriteManifest } from './dash/mpd-rewrite.ts';
import { kindLabel, LabelCache, type BatchedCounter, type HttpEdgeMetrics } from './edge-metrics.ts';
import { clientError, UNKNOWN_SESSION } from './errors.ts';

export const TEXT = 'text/plain; charset=utf-8';

/**
 * Everything the http-edge writes to clients: origin bodies relayed with backpressure, answers
 * held in memory, rewritten documents and error texts, with their byte and slow-client counts.
 * Owns the relays running now, so the edge can close them all.
 */
export class Responder {
  readonly #relays = new Set<BodyRelay>();
  readonly #activeStreams: LabelCache<Gauge.Internal<'kind'>>;
  readonly #noisy: RateLimitedLog;

  constructor(
    private readonly limits: RelayLimits,
    private readonly m: HttpEdgeMetrics,
    private readonly bytesOut: BatchedCounter,
    private readonly log: Logger,
    /** Watches live relays for a hung origin (absent: only the origin body-idle bound applies). */
    private readonly stalls?: LiveStallChecks,
  ) {
    this.#activeStreams = new LabelCache((kind) => m.activeStreams.labels(kind));
    this.#noisy = new RateLimitedLog(log);
  }

  /** Live FLV/TS and segment relays running now. */
  get activeRelays(): number {
    return this.#relays.size;
  }

  closeRelays(reason: string): void {
    for (const relay of [...this.#relays]) relay.close(reason);
  }

  /** One client's rewrite of a cached playlist. */
  sendPlaylist(res: ServerResponse, variant: PlaylistVariant): void {
    res.writeHead(200, variant.headers).end(variant.body);
    this.bytesOut.get('hls-playlist').inc(variant.body.length);
  }

  /**
   * Sends a response held in memory. The body is shared, not copied; a client that has not taken
   * all of it after `slowClientTimeoutMs` without socket activity is dropped, so a stalled socket
   * cannot pin an evicted body for long.
   */
  sendStored(kind: StreamKind, res: ServerResponse, stored: StoredResponse): void {
    res.writeHead(stored.status, stored.headers).end(stored.body);
    const label = kindLabel(kind);
    this.bytesOut.get(label).inc(stored.body.length);
    if (res.writableFinished || res.writableLength === 0) return;
    res.setTimeout(this.limits.slowClientTimeoutMs, () => {
      this.m.slowClients.labels(label).inc();
      this.#noisy.warn({ kind: label, queued: res.writableLength }, 'dropped slow client');
      res.destroy();
    });
  }

  /** Streams the origin's response to the client: live FLV/TS, segments, non-200 documents. */
  relay(kind: StreamKind, req: IncomingMessage, res: ServerResponse, target: StreamTarget, fetched: Fetched): void {
    const live = kind === 'flv' || kind === 'ts';
    const label = kindLabel(kind);
    const { statusCode, headers } = fetched.ex;
    res.writeHead(statusCode, clientResponseHeaders(headers, { cors: true }));
    // A pino child costs a bindings serialisation: made only when something is logged with it.
    let sessionLog: Logger | undefined;
    const log = (): Logger => (sessionLog ??= live ? sessionLogger(this.log, { proto: `http-${kind}`, stream: target.streamUrl, origin: fetched.origin.id }) : this.log);
    if (live) {
      if (this.log.isLevelEnabled('info')) log().info({ client: req.socket.remoteAddress, url: target.key?.full, status: statusCode }, 'HTTP start streaming');
      this.#activeStreams.get(kind).inc();
    }
    const bytes = this.bytesOut.get(label);
    const relay = new BodyRelay(fetched.ex, res, this.limits, (n) => bytes.inc(n), (end) => {
      this.#relays.delete(relay);
      if (live) this.stalls?.unwatch(relay);
      if (live) this.#activeStreams.get(kind).dec();
      if (end.reason === 'slow-client') {
        this.m.slowClients.labels(label).inc();
        log().warn({ kind: label, stream: target.streamUrl, detail: end.detail, bytes: end.bytes }, 'dropped slow client');
      } else if (end.reason === 'origin-error') {
        log().warn({ kind: label, stream: target.streamUrl, detail: end.detail, bytes: end.bytes }, 'origin stream broke');
      } else if (live && this.log.isLevelEnabled('info')) {
        log().info({ reason: end.reason, bytes: end.bytes }, 'HTTP client done');
      }
    });
    this.#relays.add(relay);
    if (live) this.stalls?.watch(relay, target.streamUrl, fetched.origin, fetched.to.ep);
    relay.start();
  }

  /** Tags a playlist's or manifest's URIs with the session id and sends it whole. */
  sendDocument(
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
  fail(kind: string, r: Route, res: ServerResponse, err: unknown): void {
    if (res.destroyed) return;
    const { status, text, retryAfter } = clientError(err);
    const detail = { kind: kindLabel(kind), target: r.target.slice(0, 256), code: errorCode(err), err: errorMessage(err), status };
    if (errorCode(err) === UNKNOWN_SESSION) this.#noisy.warn(detail, 'unknown HLS/DASH session id');
    else if (status >= 500) this.#noisy.warn(detail, 'HTTP request failed');
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const body = `${text}\n`;
    const headers: Record<string, string | number> = { ...(kind === 'static' ? {} : CORS_HEADERS), 'content-type': TEXT, 'cache-control': 'no-store', 'content-length': Buffer.byteLength(body) };
    if (retryAfter !== undefined) headers['retry-after'] = retryAfter;
    res.writeHead(status, headers).end(body);
  }
}
