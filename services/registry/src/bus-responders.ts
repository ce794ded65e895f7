import { ProxyTracerProvider, trace } from '@opentelemetry/api';
import { mappingVerdict, NO_ORIGIN, SESSION_DTO_VERSION, type Balancer, type HlsSession, type OriginRecord, type PickOptions, type PlacementAnswer } from '@srs-proxy/balancer';
import {
  subjects, REGISTRY_QUEUE, MESSAGE_VERSION, BAD_MESSAGE,
  type BusTransport, type Headers, type Subscription, type RequestHandler,
  type PickReply, type Ack, type HlsReply, type RtcReply, type ListOriginsReply, type ListStreamsReply, type StreamPickedEvent,
  type StreamOriginFailedEvent, type GetOriginReply, type AssertPlacementsReply,
} from '@srs-proxy/bus';
import { errorCode, injectTraceHeaders, newCid, RateLimitedLog, withExtractedContext, withSpan, type Logger, type Span } from '@srs-proxy/runtime';
import {
  parsePickRequest, parseReportFailureRequest, parseHlsLoadOrStoreRequest, parseHlsLoadRequest,
  parseRtcStoreRequest, parseRtcLoadRequest, parseListOriginsRequest, parseListStreamsRequest, parseGetOriginRequest, parseAssertPlacementsRequest, DEFAULT_LIST_LIMIT, MAX_STREAM_URL_LENGTH,
} from './bus-requests.ts';
import type { PickResult, PlacementClaimResult, RegistryMetrics } from './registry-metrics.ts';
import { PickCache } from './pick-cache.ts';

export interface RespondersDeps {
  logger: Logger;
  balancer: Balancer;
  bus: BusTransport;
  metrics: RegistryMetrics;
  now: () => number;
  /** `PROXY_ORIGIN_SERVER_TTL`: liveness of an origin answered from the pick cache. */
  originTtlMs: number;
  /**
   * Checks whether the store came back empty and, if so, re-writes the origins this registry knows;
   * true when it did. A placement claim naming an origin the store does not know asks it, so a
   * publisher's re-assertion after a Redis restart does not wait for the next sweep.
   */
  restoreStore?: () => Promise<boolean>;
  /** False while the stream's placement settles after a store reset (see RegistryService). */
  placeNew?: (streamUrl: string) => boolean;
}

/** Tracer name runtime's `tracer()` uses; only asked whether an SDK would serve it. */
const TRACER_NAME = 'srs-proxy';

/**
 * Whether a request has to run inside a span and an async trace context: the caller sent a trace
 * context (carry it into the events we publish), or this process exports spans. Otherwise the
 * spans would be no-ops, and entering a context would only switch on Node's promise hooks
 * (AsyncLocalStorage) for every promise of the process.
 */
export function wantsTraceContext(headers: Headers): boolean {
  if (headers.traceparent !== undefined) return true;
  const provider = trace.getTracerProvider();
  // Another API copy's provider: assume an SDK is there.
  if (!(provider instanceof ProxyTracerProvider)) return true;
  return provider.getDelegateTracer(TRACER_NAME) !== undefined;
}

/** Runs `fn` in the caller's trace context and a span when wantsTraceContext, else directly. */
function maybeTraced<T>(headers: Headers, name: string, attrs: () => Record<string, string>, fn: (span: Span | undefined) => Promise<T>): Promise<T> {
  if (!wantsTraceContext(headers)) return fn(undefined);
  return withExtractedContext(headers, () => withSpan(name, attrs(), fn));
}

/**
 * Answers every registry request subject with the balancer. Each subject is served in the queue
 * group REGISTRY_QUEUE, so registry replicas split the requests. The caller's trace context
 * (headers) is restored around each handler, which runs in its own span, whenever tracing is in
 * use (wantsTraceContext). A bad message is a BadMessageError reply; no handler error escapes to
 * the transport other than as a reply.
 *
 * With a shared store (Redis), repeat picks are answered from a PickCache for at most
 * PICK_CACHE_TTL_MS, re-validated on every hit; failure reports and `stream picked` events (from
 * any replica) invalidate it, so a failover is seen at once by every replica on one NATS server.
 */
export function serveRegistryRequests(deps: RespondersDeps): Subscription[] {
  const { balancer, bus, metrics, now } = deps;
  const errLog = new RateLimitedLog(deps.logger);
  // The memory balancer answers from memory already; a cache only pays off in front of a store.
  const cache = balancer.kind === 'redis' ? new PickCache() : undefined;

  const reply = (o: OriginRecord, fresh: boolean): PickReply => {
    // Edges only dial endpoints: leave the (often kilobytes of) heartbeat summaries out of the reply.
    const { summaries: _summaries, ...origin } = o;
    return { v: MESSAGE_VERSION, origin, fresh };
  };

  const traced = (name: string, handler: (data: unknown) => Promise<unknown>): RequestHandler =>
    (data, headers) => maybeTraced(headers, name, () => ({ 'messaging.system': bus.kind }), async () => {
      try {
        return await handler(data);
      } catch (err) {
        const code = errorCode(err);
        if (code !== NO_ORIGIN && code !== BAD_MESSAGE) errLog.warn({ err, subject: name }, `registry request failed: ${String(err)}`);
        throw err;
      }
    });

  const pick = async (data: unknown, headers: Headers): Promise<PickReply> => {
    const started = performance.now();
    let result: PickResult = 'error';
    try {
      let req;
      try {
        req = parsePickRequest(data);
      } catch (err) {
        result = 'bad_request';
        throw err;
      }
      const opts: PickOptions = {};
      if (req.protocol !== undefined) opts.protocol = req.protocol;
      if (req.avoid !== undefined) opts.avoid = req.avoid;
      return await maybeTraced(headers, 'registry.pick', () => ({ 'srsp.stream_url': req.stream_url, 'srsp.protocol': req.protocol ?? '' }), async (span) => {
        try {
          if (cache !== undefined) {
            const t = now();
            const hit = cache.lookup(req.stream_url, t);
            if (hit !== undefined && mappingVerdict(hit, { now: t, originTtlMs: deps.originTtlMs, protocol: opts.protocol, avoid: opts.avoid, failedForStream: false }) === 'keep') {
              result = 'sticky';
              metrics.pickCacheHits.inc();
              span?.setAttributes({ 'srsp.origin': hit.id, 'srsp.pick': result, 'srsp.cached': true });
              return reply(hit, false);
            }
          }
          const stamp = cache?.stamp() ?? 0;
          let r;
          try {
            r = await balancer.pick(req.stream_url, { ...opts, placeNew: deps.placeNew?.(req.stream_url) ?? true });
          } catch (err) {
            // No origin at all may mean a store that came back empty: restore what we know, then pick again.
            if (errorCode(err) !== NO_ORIGIN || deps.restoreStore === undefined || !(await deps.restoreStore().catch(() => false))) throw err;
            r = await balancer.pick(req.stream_url, { ...opts, placeNew: deps.placeNew?.(req.stream_url) ?? true });
          }
          cache?.remember(req.stream_url, r.origin, stamp, now(), r.fresh);
          result = r.fresh ? (r.replaced ? 'failover' : 'fresh') : 'sticky';
          span?.setAttributes({ 'srsp.origin': r.origin.id, 'srsp.pick': result });
          if (r.fresh) {
            const event: StreamPickedEvent = { v: MESSAGE_VERSION, stream_url: req.stream_url, origin_id: r.origin.id, at: now() };
            if (r.replaced) event.replaced = r.replaced;
            bus.publish(subjects.streamPicked, event, span ? injectTraceHeaders({}) : undefined);
          }
          return reply(r.origin, r.fresh);
        } catch (err) {
          result = errorCode(err) === NO_ORIGIN ? 'no_origin' : 'error';
          if (result === 'error') errLog.warn({ err, stream: req.stream_url }, `pick failed: ${String(err)}`);
          throw err;
        }
      });
    } finally {
      metrics.picks.inc({ result });
      metrics.pickSeconds.observe((performance.now() - started) / 1000);
    }
  };

  const claimLabels: Record<PlacementAnswer['outcome'], PlacementClaimResult> = { written: 'written', refreshed: 'refreshed', conflict: 'conflict', 'unknown-origin': 'unknown_origin' };
  const assertPlacements = async (data: unknown): Promise<AssertPlacementsReply> => {
    const req = parseAssertPlacementsRequest(data);
    const results = await balancer.assertPlacement(req.claims);
    const unknown = results.flatMap((r, i) => (r.outcome === 'unknown-origin' ? [i] : []));
    if (unknown.length > 0 && deps.restoreStore !== undefined && (await deps.restoreStore())) {
      const again = await balancer.assertPlacement(unknown.map((i) => req.claims[i]!));
      unknown.forEach((i, k) => (results[i] = again[k]!));
    }
    results.forEach((r, i) => {
      metrics.placementClaims.inc({ outcome: claimLabels[r.outcome] });
      if (r.outcome !== 'conflict') return;
      const claim = req.claims[i]!;
      errLog.warn(
        { stream: claim.stream_url, origin: claim.origin_id, replaced: r.replaced, edge: req.edge },
        `placement conflict: ${claim.stream_url} was mapped to ${r.replaced ?? '?'} while its publisher is on ${claim.origin_id}; the publisher's origin wins`,
      );
      cache?.invalidate(claim.stream_url, now());
      // Every edge's route cache and every replica's pick cache drop the old answer.
      const event: StreamPickedEvent = { v: MESSAGE_VERSION, stream_url: claim.stream_url, origin_id: claim.origin_id, at: now() };
      if (r.replaced !== undefined) event.replaced = r.replaced;
      bus.publish(subjects.streamPicked, event, injectTraceHeaders({}));
    });
    return { v: MESSAGE_VERSION, results };
  };

  const handlers: Record<string, RequestHandler> = {
    [subjects.pick]: pick,
    [subjects.assertPlacements]: traced('registry.streams.assert', assertPlacements),
    [subjects.reportFailure]: traced('registry.report-failure', async (data): Promise<Ack> => {
      const req = parseReportFailureRequest(data);
      deps.logger.warn({ origin: req.origin_id, stream: req.stream_url, reason: req.reason }, 'edge reported origin failure');
      await balancer.reportFailure(req.origin_id, req.stream_url);
      cache?.invalidate(req.stream_url, now());
      // Published before the reply: on one NATS server every replica sees it before a pick the
      // reporting edge sends next, and drops its cached answer.
      const event: StreamOriginFailedEvent = { v: MESSAGE_VERSION, stream_url: req.stream_url, origin_id: req.origin_id, reason: req.reason, at: now() };
      bus.publish(subjects.streamOriginFailed, event, injectTraceHeaders({}));
      return { v: MESSAGE_VERSION };
    }),
    [subjects.hlsLoadOrStore]: traced('registry.hls.load-or-store', async (data): Promise<HlsReply> => {
      const req = parseHlsLoadOrStoreRequest(data);
      const candidate: HlsSession = { v: SESSION_DTO_VERSION, spbhid: newCid(), stream_url: req.stream_url, full_url: req.full_url };
      return { v: MESSAGE_VERSION, session: await balancer.loadOrStoreHls(candidate) };
    }),
    [subjects.hlsLoad]: traced('registry.hls.load', async (data): Promise<HlsReply> => {
      const req = parseHlsLoadRequest(data);
      return { v: MESSAGE_VERSION, session: (await balancer.loadHlsBySpbhid(req.spbhid)) ?? null };
    }),
    [subjects.rtcStore]: traced('registry.rtc.store', async (data): Promise<Ack> => {
      const req = parseRtcStoreRequest(data);
      await balancer.storeRtc(req.session);
      return { v: MESSAGE_VERSION };
    }),
    [subjects.rtcLoad]: traced('registry.rtc.load', async (data): Promise<RtcReply> => {
      const req = parseRtcLoadRequest(data);
      return { v: MESSAGE_VERSION, session: (await balancer.loadRtcByUfrag(req.ufrag)) ?? null };
    }),
    [subjects.listOrigins]: traced('registry.origins.list', async (data): Promise<ListOriginsReply> => {
      parseListOriginsRequest(data);
      return { v: MESSAGE_VERSION, origins: await balancer.listOrigins() };
    }),
    [subjects.ping]: async (): Promise<Ack> => ({ v: MESSAGE_VERSION }),
    [subjects.getOrigin]: traced('registry.origins.get', async (data): Promise<GetOriginReply> => {
      const req = parseGetOriginRequest(data);
      // The balancer has no by-id read; its origin listing is in memory or one store read, and
      // stays here instead of crossing the bus for every WHIP/WHEP DELETE or PATCH.
      const found = (await balancer.listOrigins()).find((o) => o.origin.id === req.origin_id);
      if (found === undefined) return { v: MESSAGE_VERSION, origin: null, alive: false };
      const { summaries: _summaries, ...origin } = found.origin;
      return { v: MESSAGE_VERSION, origin, alive: found.alive };
    }),
    [subjects.listStreams]: traced('registry.streams.list', async (data): Promise<ListStreamsReply> => {
      const req = parseListStreamsRequest(data);
      return { v: MESSAGE_VERSION, streams: await balancer.listStreams(req.limit ?? DEFAULT_LIST_LIMIT) };
    }),
  };

  const subs = Object.entries(handlers).map(([subject, handler]) => bus.serve(subject, handler, { queue: REGISTRY_QUEUE }));
  if (cache !== undefined) {
    // Every replica hears every event (no queue group). Events are checked like requests: a
    // malformed one invalidates nothing, and URLs are bounded as in picks (bounded cache memory).
    const streamOf = (e: { stream_url?: unknown } | null): string | undefined =>
      typeof e?.stream_url === 'string' && e.stream_url.length <= MAX_STREAM_URL_LENGTH ? e.stream_url : undefined;
    subs.push(bus.subscribe(subjects.streamPicked, (data) => {
      const e = data as Partial<StreamPickedEvent> | null;
      const stream = streamOf(e);
      if (stream === undefined || typeof e?.origin_id !== 'string') return;
      // A first pick elsewhere cannot make a read here stale (the store decided atomically): only
      // a failover, or an entry naming another origin, needs dropping.
      if (e.replaced !== undefined || cache.lookup(stream, now()) !== undefined) cache.invalidate(stream, now(), e.origin_id);
    }));
    subs.push(bus.subscribe(subjects.streamOriginFailed, (data) => {
      const stream = streamOf(data as Partial<StreamOriginFailedEvent> | null);
      if (stream !== undefined) cache.invalidate(stream, now());
    }));
    subs.push({ unsubscribe: () => cache.clear() });
  }
  return subs;
}
