import type { EndpointKind, HlsSession, OriginRecord, OriginStatus, PlacementAnswer, PlacementClaim, RtcSession, StreamMapping } from '@srs-proxy/balancer';
import { injectTraceHeaders } from '@srs-proxy/runtime';
import type { BusTransport } from './transport.ts';
import { BadMessageError, RemoteError } from './errors.ts';
import { subjects } from './subjects.ts';
import { MESSAGE_VERSION, type PickReply, type HlsReply, type RtcReply, type ListOriginsReply, type ListStreamsReply, type GetOriginReply, type AssertPlacementsReply } from './messages.ts';

/**
 * What an edge asks the registry. One call per client session (or per new UDP peer / uncached
 * HLS session id), never per packet. Errors: NoOrigin (RemoteError code SRSP_ERR_NO_ORIGIN),
 * RegistryUnavailableError, RegistryTimeoutError.
 */
export interface RegistryClient {
  pick(streamUrl: string, opts?: { protocol?: EndpointKind; avoid?: string[] }): Promise<{ origin: OriginRecord; fresh: boolean }>;
  reportFailure(originId: string, streamUrl: string, reason: string): Promise<void>;
  hlsLoadOrStore(streamUrl: string, fullUrl: string): Promise<HlsSession>;
  hlsLoad(spbhid: string): Promise<HlsSession | undefined>;
  rtcStore(session: RtcSession): Promise<void>;
  rtcLoad(ufrag: string): Promise<RtcSession | undefined>;
  listOrigins(): Promise<OriginStatus[]>;
  /** One origin by id, if the registry knows it: one small answer instead of the fleet listing. */
  getOrigin(originId: string): Promise<{ origin: OriginRecord; alive: boolean } | undefined>;
  listStreams(limit?: number): Promise<StreamMapping[]>;
  /** Placement leases: claims (at most MAX_PLACEMENT_BATCH) of this edge's live publishers; one answer per claim, in order. */
  assertPlacements(claims: PlacementClaim[], edge?: string): Promise<PlacementAnswer[]>;
  /** Resolves when a registry answers at all (no store access): edge readiness. */
  ping(): Promise<void>;
  /** Clock time of the last answer any registry request got (errors it returned count), or undefined. */
  readonly lastAnswerAt: number | undefined;
}

export class BusRegistryClient implements RegistryClient {
  lastAnswerAt: number | undefined;

  constructor(
    private readonly bus: BusTransport,
    /** PROXY_REGISTRY_TIMEOUT: bounded wait for every registry question. */
    private readonly timeoutMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  private async call<T>(subject: string, data: object): Promise<T> {
    try {
      const reply = (await this.bus.request(subject, { v: MESSAGE_VERSION, ...data }, { timeoutMs: this.timeoutMs, headers: injectTraceHeaders({}) })) as T;
      this.lastAnswerAt = this.now();
      return reply;
    } catch (err) {
      // An error the registry itself returned (no origin, bad message) is still an answer.
      if (err instanceof RemoteError) this.lastAnswerAt = this.now();
      throw err;
    }
  }

  async ping(): Promise<void> {
    await this.call(subjects.ping, {});
  }

  async pick(streamUrl: string, opts: { protocol?: EndpointKind; avoid?: string[] } = {}) {
    const r = await this.call<PickReply>(subjects.pick, { stream_url: streamUrl, ...opts });
    return { origin: r.origin, fresh: r.fresh };
  }

  async reportFailure(originId: string, streamUrl: string, reason: string): Promise<void> {
    await this.call(subjects.reportFailure, { origin_id: originId, stream_url: streamUrl, reason });
  }

  async hlsLoadOrStore(streamUrl: string, fullUrl: string): Promise<HlsSession> {
    const r = await this.call<HlsReply>(subjects.hlsLoadOrStore, { stream_url: streamUrl, full_url: fullUrl });
    if (!r.session) throw new Error('registry returned no HLS session');
    return r.session;
  }

  async hlsLoad(spbhid: string): Promise<HlsSession | undefined> {
    return (await this.call<HlsReply>(subjects.hlsLoad, { spbhid })).session ?? undefined;
  }

  async rtcStore(session: RtcSession): Promise<void> {
    await this.call(subjects.rtcStore, { session });
  }

  async rtcLoad(ufrag: string): Promise<RtcSession | undefined> {
    return (await this.call<RtcReply>(subjects.rtcLoad, { ufrag })).session ?? undefined;
  }

  async listOrigins(): Promise<OriginStatus[]> {
    return (await this.call<ListOriginsReply>(subjects.listOrigins, {})).origins;
  }

  async getOrigin(originId: string): Promise<{ origin: OriginRecord; alive: boolean } | undefined> {
    const r = await this.call<GetOriginReply>(subjects.getOrigin, { origin_id: originId });
    return r.origin ? { origin: r.origin, alive: r.alive } : undefined;
  }

  async assertPlacements(claims: PlacementClaim[], edge?: string): Promise<PlacementAnswer[]> {
    const r = await this.call<AssertPlacementsReply>(subjects.assertPlacements, edge === undefined ? { claims } : { edge, claims });
    if (!Array.isArray(r.results) || r.results.length !== claims.length) {
      throw new BadMessageError(`registry answered ${Array.isArray(r.results) ? r.results.length : 'no'} results for ${claims.length} placement claims`);
    }
    return r.results;
  }

  async listStreams(limit?: number): Promise<StreamMapping[]> {
    return (await this.call<ListStreamsReply>(subjects.listStreams, limit === undefined ? {} : { limit })).streams;
  }
}
