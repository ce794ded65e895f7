import { NO_ORIGIN, SESSION_DTO_VERSION, type Balancer, type HlsSession } from '@srs-proxy/balancer';
import {
  subjects, REGISTRY_QUEUE, MESSAGE_VERSION, BAD_MESSAGE,
  type BusTransport, type Headers, type Subscription, type RequestHandler,
  type PickReply, type Ack, type HlsReply, type RtcReply, type ListOriginsReply, type ListStreamsReply, type StreamPickedEvent,
} from '@srs-proxy/bus';
import { errorCode, injectTraceHeaders, newCid, RateLimitedLog, withExtractedContext, withSpan, type Logger } from '@srs-proxy/runtime';
import {
  parsePickRequest, parseReportFailureRequest, parseHlsLoadOrStoreRequest, parseHlsLoadRequest,
  parseRtcStoreRequest, parseRtcLoadRequest, parseListOriginsRequest, parseListStreamsRequest, DEFAULT_LIST_LIMIT,
} from './bus-requests.ts';
import type { PickResult, RegistryMetrics } from './registry-metrics.ts';

export interface RespondersDeps {
  logger: Logger;
  balancer: Balancer;
  bus: BusTransport;
  metrics: RegistryMetrics;
  now: () => number;
}

/**
 * Answers every registry request subject with the balancer. Each subject is served in the queue
 * group REGISTRY_QUEUE, so registry replicas split the requests. The caller's trace context
 * (headers) is restored around each handler; picks get their own span. A bad message is a
 * BadMessageError reply; no handler error escapes to the transport other than as a reply.
 */
export function serveRegistryRequests(deps: RespondersDeps): Subscription[] {
  const { balancer, bus, metrics, now } = deps;
  const errLog = new RateLimitedLog(deps.logger);

  const traced = (name: string, handler: (data: unknown) => Promise<unknown>): RequestHandler =>
    (data, headers) => withExtractedContext(headers, () => withSpan(name, { 'messaging.system': bus.kind }, async () => {
      try {
        return await handler(data);
      } catch (err) {
        const code = errorCode(err);
        if (code !== NO_ORIGIN && code !== BAD_MESSAGE) errLog.warn({ err, subject: name }, `registry request failed: ${String(err)}`);
        throw err;
      }
    }));

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
      return await withExtractedContext(headers, () => withSpan('registry.pick', { 'srsp.stream_url': req.stream_url, 'srsp.protocol': req.protocol ?? '' }, async (span) => {
        try {
          const r = await balancer.pick(req.stream_url, { protocol: req.protocol, avoid: req.avoid });
          result = r.fresh ? (r.replaced ? 'failover' : 'fresh') : 'sticky';
          span.setAttributes({ 'srsp.origin': r.origin.id, 'srsp.pick': result });
          if (r.fresh) {
            const event: StreamPickedEvent = { v: MESSAGE_VERSION, stream_url: req.stream_url, origin_id: r.origin.id, at: now() };
            if (r.replaced) event.replaced = r.replaced;
            bus.publish(subjects.streamPicked, event, injectTraceHeaders({}));
          }
          // Edges only dial endpoints: leave the (often kilobytes of) heartbeat summaries out of the reply.
          const { summaries: _summaries, ...origin } = r.origin;
          return { v: MESSAGE_VERSION, origin, fresh: r.fresh };
        } catch (err) {
          result = errorCode(err) === NO_ORIGIN ? 'no_origin' : 'error';
          if (result === 'error') errLog.warn({ err, stream: req.stream_url }, `pick failed: ${String(err)}`);
          throw err;
        }
      }));
    } finally {
      metrics.picks.inc({ result });
      metrics.pickSeconds.observe((performance.now() - started) / 1000);
    }
  };

  const handlers: Record<string, RequestHandler> = {
    [subjects.pick]: pick,
    [subjects.reportFailure]: traced('registry.report-failure', async (data): Promise<Ack> => {
      const req = parseReportFailureRequest(data);
      deps.logger.warn({ origin: req.origin_id, stream: req.stream_url, reason: req.reason }, 'edge reported origin failure');
      await balancer.reportFailure(req.origin_id, req.stream_url);
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
    [subjects.listStreams]: traced('registry.streams.list', async (data): Promise<ListStreamsReply> => {
      const req = parseListStreamsRequest(data);
      return { v: MESSAGE_VERSION, streams: await balancer.listStreams(req.limit ?? DEFAULT_LIST_LIMIT) };
    }),
  };

  return Object.entries(handlers).map(([subject, handler]) => bus.serve(subject, handler, { queue: REGISTRY_QUEUE }));
}
