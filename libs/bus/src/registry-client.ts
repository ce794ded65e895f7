import type { EndpointKind, HlsSession, OriginRecord, OriginStatus, RtcSession, StreamMapping } from '@srs-proxy/balancer';
import { injectTraceHeaders } from '@srs-proxy/runtime';
import type { BusTransport } from './transport.ts';
import { subjects } from './subjects.ts';
import { MESSAGE_VERSION, type PickReply, type HlsReply, type RtcReply, type ListOriginsReply, type ListStreamsReply } from './messages.ts';

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
  listStreams(limit?: number): Promise<StreamMapping[]>;
}

export class BusRegistryClient implements RegistryClient {
  constructor(
    private readonly bus: BusTransport,
    /** PROXY_REGISTRY_TIMEOUT: bounded wait for every registry question. */
    private readonly timeoutMs: number,
  ) {}

  private call<T>(subject: string, data: object): Promise<T> {
    return this.bus.request(subject, { v: MESSAGE_VERSION, ...data }, { timeoutMs: this.timeoutMs, headers: injectTraceHeaders({}) }) as Promise<T>;
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

  async listStreams(limit?: number): Promise<StreamMapping[]> {
    return (await this.call<ListStreamsReply>(subjects.listStreams, limit === undefined ? {} : { limit })).streams;
  }
}
