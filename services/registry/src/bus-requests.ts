import { ENDPOINT_KINDS, MAX_PLACEMENT_BATCH, SESSION_DTO_VERSION, type EndpointKind, type PlacementClaim, type RtcSession } from '@srs-proxy/balancer';
import {
  BadMessageError, MESSAGE_VERSION,
  type PickRequest, type ReportFailureRequest, type HlsLoadOrStoreRequest, type HlsLoadRequest,
  type RtcStoreRequest, type RtcLoadRequest, type ListStreamsRequest, type GetOriginRequest, type AssertPlacementsRequest,
} from '@srs-proxy/bus';

/**
 * Validation of bus requests (pure: value in, typed request or BadMessageError out). Any replica
 * or edge version may send to us, so nothing is trusted: version, types and sizes are checked
 * before the balancer sees a value.
 */

/** Same bound as the stream URL normaliser: longer keys are rejected there anyway. */
export const MAX_STREAM_URL_LENGTH = 4096;
/** Origin ids are `<server>-<service>-<pid>` of fields capped at 256 chars each. */
export const MAX_ORIGIN_ID_LENGTH = 800;
/** An edge avoids the origins it already failed on for one session: a handful, never hundreds. */
export const MAX_AVOID = 32;
/** Failure reasons only go to logs; keep a log line bounded. */
export const MAX_REASON_LENGTH = 512;
/** STUN usernames are `<answer ufrag>:<offer ufrag>`, each at most 256 chars (RFC 8445). */
export const MAX_UFRAG_LENGTH = 513;
/** spbhid is 7 hex chars; allow other id schemes a little room. */
export const MAX_SPBHID_LENGTH = 64;
/** Upper bound for one listing reply, so a reply stays far below NATS's 1 MiB max payload. */
export const MAX_LIST_LIMIT = 1000;
export const DEFAULT_LIST_LIMIT = 100;
/** An edge names itself in logs only: its role and host, far below this. */
export const MAX_EDGE_NAME_LENGTH = 256;

type Obj = Record<string, unknown>;

function message(data: unknown): Obj {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) throw new BadMessageError('message must be a JSON object');
  const m = data as Obj;
  if (m.v !== MESSAGE_VERSION) throw new BadMessageError(`unsupported message version ${JSON.stringify(m.v) ?? 'undefined'}, expected ${MESSAGE_VERSION}`);
  return m;
}

function str(m: Obj, name: string, max: number, required = true): string | undefined {
  const v = m[name];
  if (v === undefined && !required) return undefined;
  if (typeof v !== 'string' || v.length === 0) throw new BadMessageError(`${name} must be a non-empty string`);
  if (v.length > max) throw new BadMessageError(`${name} is longer than ${max} characters`);
  return v;
}

function int(m: Obj, name: string, min: number, max: number, required = true): number | undefined {
  const v = m[name];
  if (v === undefined && !required) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw new BadMessageError(`${name} must be an integer in ${min}..${max}`);
  return v;
}

export function parsePickRequest(data: unknown): PickRequest {
  const m = message(data);
  const out: PickRequest = { v: MESSAGE_VERSION, stream_url: str(m, 'stream_url', MAX_STREAM_URL_LENGTH)! };
  if (m.protocol !== undefined) {
    if (typeof m.protocol !== 'string' || !(ENDPOINT_KINDS as readonly string[]).includes(m.protocol)) {
      throw new BadMessageError(`protocol must be one of ${ENDPOINT_KINDS.join(', ')}`);
    }
    out.protocol = m.protocol as EndpointKind;
  }
  if (m.avoid !== undefined) {
    if (!Array.isArray(m.avoid) || m.avoid.length > MAX_AVOID) throw new BadMessageError(`avoid must be an array of at most ${MAX_AVOID} origin ids`);
    for (const id of m.avoid) {
      if (typeof id !== 'string' || id.length === 0 || id.length > MAX_ORIGIN_ID_LENGTH) throw new BadMessageError('avoid must contain origin ids');
    }
    out.avoid = m.avoid as string[];
  }
  return out;
}

function protocolOf(m: Obj): EndpointKind | undefined {
  if (m.protocol === undefined) return undefined;
  if (typeof m.protocol !== 'string' || !(ENDPOINT_KINDS as readonly string[]).includes(m.protocol)) {
    throw new BadMessageError(`protocol must be one of ${ENDPOINT_KINDS.join(', ')}`);
  }
  return m.protocol as EndpointKind;
}

/** Placement leases: at most MAX_PLACEMENT_BATCH claims, each a stream URL and an origin id (and the publisher's protocol). */
export function parseAssertPlacementsRequest(data: unknown): AssertPlacementsRequest {
  const m = message(data);
  if (!Array.isArray(m.claims)) throw new BadMessageError('claims must be an array');
  if (m.claims.length > MAX_PLACEMENT_BATCH) throw new BadMessageError(`claims has ${m.claims.length} entries; at most ${MAX_PLACEMENT_BATCH}`);
  const claims = m.claims.map((c: unknown, i: number): PlacementClaim => {
    if (typeof c !== 'object' || c === null || Array.isArray(c)) throw new BadMessageError(`claims[${i}] must be an object`);
    const o = c as Obj;
    const claim: PlacementClaim = { stream_url: str(o, 'stream_url', MAX_STREAM_URL_LENGTH)!, origin_id: str(o, 'origin_id', MAX_ORIGIN_ID_LENGTH)! };
    const protocol = protocolOf(o);
    if (protocol !== undefined) claim.protocol = protocol;
    return claim;
  });
  const edge = str(m, 'edge', MAX_EDGE_NAME_LENGTH, false);
  return edge === undefined ? { v: MESSAGE_VERSION, claims } : { v: MESSAGE_VERSION, edge, claims };
}

export function parseGetOriginRequest(data: unknown): GetOriginRequest {
  const m = message(data);
  return { v: MESSAGE_VERSION, origin_id: str(m, 'origin_id', MAX_ORIGIN_ID_LENGTH)! };
}

export function parseReportFailureRequest(data: unknown): ReportFailureRequest {
  const m = message(data);
  const reason = m.reason === undefined ? '' : m.reason;
  if (typeof reason !== 'string') throw new BadMessageError('reason must be a string');
  return {
    v: MESSAGE_VERSION,
    origin_id: str(m, 'origin_id', MAX_ORIGIN_ID_LENGTH)!,
    stream_url: str(m, 'stream_url', MAX_STREAM_URL_LENGTH)!,
    reason: reason.slice(0, MAX_REASON_LENGTH),
  };
}

export function parseHlsLoadOrStoreRequest(data: unknown): HlsLoadOrStoreRequest {
  const m = message(data);
  return { v: MESSAGE_VERSION, stream_url: str(m, 'stream_url', MAX_STREAM_URL_LENGTH)!, full_url: str(m, 'full_url', MAX_STREAM_URL_LENGTH)! };
}

export function parseHlsLoadRequest(data: unknown): HlsLoadRequest {
  const m = message(data);
  return { v: MESSAGE_VERSION, spbhid: str(m, 'spbhid', MAX_SPBHID_LENGTH)! };
}

export function parseRtcStoreRequest(data: unknown): RtcStoreRequest {
  const m = message(data);
  if (typeof m.session !== 'object' || m.session === null || Array.isArray(m.session)) throw new BadMessageError('session must be an object');
  const s = m.session as Obj;
  const session: RtcSession = {
    v: SESSION_DTO_VERSION,
    ufrag: str(s, 'ufrag', MAX_UFRAG_LENGTH)!,
    stream_url: str(s, 'stream_url', MAX_STREAM_URL_LENGTH)!,
    origin_id: str(s, 'origin_id', MAX_ORIGIN_ID_LENGTH)!,
    rtc_host: str(s, 'rtc_host', 255)!,
    rtc_port: int(s, 'rtc_port', 1, 65535)!,
  };
  if (s.v !== undefined && s.v !== SESSION_DTO_VERSION) throw new BadMessageError(`unsupported session version ${JSON.stringify(s.v)}`);
  return { v: MESSAGE_VERSION, session };
}

export function parseRtcLoadRequest(data: unknown): RtcLoadRequest {
  const m = message(data);
  return { v: MESSAGE_VERSION, ufrag: str(m, 'ufrag', MAX_UFRAG_LENGTH)! };
}

export function parseListOriginsRequest(data: unknown): { v: number } {
  message(data);
  return { v: MESSAGE_VERSION };
}

export function parseListStreamsRequest(data: unknown): ListStreamsRequest {
  const m = message(data);
  const limit = int(m, 'limit', 1, MAX_LIST_LIMIT, false);
  return limit === undefined ? { v: MESSAGE_VERSION } : { v: MESSAGE_VERSION, limit };
}
