import type { EndpointKind, HlsSession, OriginRecord, OriginStatus, PlacementAnswer, PlacementClaim, RtcSession, StreamMapping } from '@srs-proxy/balancer';
import type { EventSubject, RequestSubject } from './subjects.ts';
import { subjects } from './subjects.ts';

/** Every message carries `v`; a receiver rejects versions it does not know. */
export const MESSAGE_VERSION = 1;

export interface PickRequest { v: number; stream_url: string; protocol?: EndpointKind; avoid?: string[] }
export interface PickReply { v: number; origin: OriginRecord; fresh: boolean }
export interface ReportFailureRequest { v: number; origin_id: string; stream_url: string; reason: string }
export interface HlsLoadOrStoreRequest { v: number; stream_url: string; full_url: string }
export interface HlsLoadRequest { v: number; spbhid: string }
export interface HlsReply { v: number; session: HlsSession | null }
export interface RtcStoreRequest { v: number; session: RtcSession }
export interface RtcLoadRequest { v: number; ufrag: string }
export interface RtcReply { v: number; session: RtcSession | null }
export interface ListOriginsReply { v: number; origins: OriginStatus[] }
export interface GetOriginRequest { v: number; origin_id: string }
/** The origin when the registry knows it, with its liveness; summaries left out (edges only dial). */
export interface GetOriginReply { v: number; origin: OriginRecord | null; alive: boolean }
export interface ListStreamsRequest { v: number; limit?: number }
export interface ListStreamsReply { v: number; streams: StreamMapping[] }
/**
 * Placement leases of one edge: at most MAX_PLACEMENT_BATCH claims per request (`edge` names the
 * sender in logs). The reply answers each claim, in order.
 */
export interface AssertPlacementsRequest { v: number; edge?: string; claims: PlacementClaim[] }
export interface AssertPlacementsReply { v: number; results: PlacementAnswer[] }
export interface Ack { v: number }

/** Request subject → [request, reply] types. */
export interface RequestMap {
  [subjects.pick]: [PickRequest, PickReply];
  [subjects.reportFailure]: [ReportFailureRequest, Ack];
  [subjects.hlsLoadOrStore]: [HlsLoadOrStoreRequest, HlsReply];
  [subjects.hlsLoad]: [HlsLoadRequest, HlsReply];
  [subjects.rtcStore]: [RtcStoreRequest, Ack];
  [subjects.rtcLoad]: [RtcLoadRequest, RtcReply];
  [subjects.listOrigins]: [{ v: number }, ListOriginsReply];
  [subjects.getOrigin]: [GetOriginRequest, GetOriginReply];
  [subjects.ping]: [{ v: number }, Ack];
  [subjects.listStreams]: [ListStreamsRequest, ListStreamsReply];
  [subjects.assertPlacements]: [AssertPlacementsRequest, AssertPlacementsReply];
}

export interface OriginHeartbeatEvent { v: number; origin_id: string; ip: string; first: boolean; at: number }
export interface StreamPickedEvent { v: number; stream_url: string; origin_id: string; replaced?: string; at: number }
export interface StreamOriginFailedEvent { v: number; stream_url: string; origin_id: string; reason: string; at: number }
export interface OriginExpiredEvent { v: number; origin_id: string; last_seen: number; at: number }

/** Sessions of one edge on one stream, by the protocol its clients speak (`rtmp`, `flv`, `hls`, `webrtc`, `srt`…). */
export interface EdgeStreamSessions { stream_url: string; protocol: string; publishers: number; players: number }

/**
 * An edge's announcement (EDGE_ANNOUNCE_INTERVAL_MS apart). `expires_in_ms`: forget the edge when no
 * newer announcement came by then. `gone`: the edge is shutting down, forget it now. `streams`
 * holds at most MAX_ANNOUNCED_STREAMS entries (`streams_truncated` when more were cut).
 */
export interface EdgeAnnouncement {
  v: number;
  id: string;
  role: string;
  version: string;
  host: string;
  /** Listener addresses of the edge (`rtmp`: `0.0.0.0:1935`…). */
  listen: Record<string, string>;
  pid: number;
  sessions: number;
  started_at: number;
  at: number;
  expires_in_ms: number;
  streams: EdgeStreamSessions[];
  streams_truncated?: boolean;
  gone?: boolean;
}

export interface EventMap {
  [subjects.originHeartbeat]: OriginHeartbeatEvent;
  [subjects.streamPicked]: StreamPickedEvent;
  [subjects.streamOriginFailed]: StreamOriginFailedEvent;
  [subjects.originExpired]: OriginExpiredEvent;
  [subjects.edgeAnnounce]: EdgeAnnouncement;
}

/** Reply envelope on the wire: either data or a typed error. */
export type Envelope<T> = { ok: true; data: T } | { ok: false; error: { code: string; message: string } };

export type { RequestSubject, EventSubject };
