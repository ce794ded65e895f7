import { BAD_ENDPOINT, BAD_STREAM_URL, NO_ORIGIN } from '@srs-proxy/balancer';
import { REGISTRY_TIMEOUT, REGISTRY_UNAVAILABLE } from '@srs-proxy/bus';
import { errorCode, errorMessage } from '@srs-proxy/runtime';
import { CONTROL_PLANE_RETRY_MS, CONTROL_PLANE_UNAVAILABLE } from './control-plane.ts';
import {
  ORIGIN_CONNECT_TIMEOUT, ORIGIN_FAILED, ORIGIN_NO_ENDPOINT, ORIGIN_REJECTED, ORIGIN_TIMEOUT, ORIGIN_UNREACHABLE,
} from './errors.ts';

/**
 * What went wrong, as a client may be told: every error an edge can meet maps to one of these by
 * its code, and each protocol adapter below turns it into that protocol's answer. Error messages
 * (origin ids and addresses, registry subjects, stack details) never reach a client: they go to
 * the log. The only message passed through is one an edge marks as written for its client.
 */
export type AnswerKind = 'no-origin' | 'unavailable' | 'bad-request' | 'unreachable' | 'timeout' | 'rejected' | 'invalid' | 'internal';

const KIND_BY_CODE: Readonly<Record<string, AnswerKind>> = {
  [NO_ORIGIN]: 'no-origin',
  [REGISTRY_UNAVAILABLE]: 'unavailable',
  [REGISTRY_TIMEOUT]: 'unavailable',
  [CONTROL_PLANE_UNAVAILABLE]: 'unavailable',
  // The registry's state store, carried over the bus as a remote error.
  SRSP_ERR_STORE_UNAVAILABLE: 'unavailable',
  [BAD_STREAM_URL]: 'bad-request',
  [ORIGIN_UNREACHABLE]: 'unreachable',
  [ORIGIN_NO_ENDPOINT]: 'unreachable',
  [BAD_ENDPOINT]: 'unreachable',
  [ORIGIN_CONNECT_TIMEOUT]: 'timeout',
  [ORIGIN_TIMEOUT]: 'timeout',
  [ORIGIN_REJECTED]: 'rejected',
  [ORIGIN_FAILED]: 'invalid',
};

/** Edge-specific codes: a kind, or `message` for errors whose text is written for the client. */
export type CodeAnswers = Readonly<Record<string, AnswerKind | 'message'>>;

export function answerKind(err: unknown, codes: CodeAnswers = {}): AnswerKind | 'message' {
  const code = errorCode(err);
  if (code === undefined) return 'internal';
  return codes[code] ?? KIND_BY_CODE[code] ?? 'internal';
}

export interface HttpAnswer {
  status: number;
  text: string;
  /** Seconds for a `Retry-After` header: set on answers that a retry soon may change. */
  retryAfter?: number;
}

/** What a 503 for an unreachable control plane tells clients: the guard's retry window. */
const UNAVAILABLE_RETRY_AFTER_S = Math.max(1, Math.ceil(CONTROL_PLANE_RETRY_MS / 1000));

const HTTP_ANSWERS: Readonly<Record<AnswerKind, HttpAnswer>> = {
  'no-origin': { status: 503, text: 'no origin server available for this stream' },
  unavailable: { status: 503, text: 'stream routing temporarily unavailable', retryAfter: UNAVAILABLE_RETRY_AFTER_S },
  'bad-request': { status: 400, text: 'invalid stream URL' },
  unreachable: { status: 502, text: 'origin server unreachable' },
  timeout: { status: 504, text: 'origin server timed out' },
  rejected: { status: 502, text: 'origin server refused the stream' },
  invalid: { status: 502, text: 'origin server sent an invalid response' },
  internal: { status: 500, text: 'internal error' },
};

function passMessage(err: unknown): HttpAnswer {
  const status = (err as { status?: unknown }).status;
  return { status: typeof status === 'number' ? status : 400, text: errorMessage(err) };
}

/** HTTP-FLV/TS, HLS, DASH: a status and a short text. `answers` adds the edge's own codes. */
export function httpAnswer(err: unknown, codes: CodeAnswers = {}, answers: Readonly<Record<string, HttpAnswer>> = {}): HttpAnswer {
  const own = answers[errorCode(err) ?? ''];
  if (own !== undefined) return own;
  const kind = answerKind(err, codes);
  return kind === 'message' ? passMessage(err) : HTTP_ANSWERS[kind];
}

/**
 * WHIP/WHEP and the legacy WebRTC API. No usable origin is 503 (the service is unavailable for
 * this stream, as WHIP clients expect), naming the stream the client asked for.
 */
export function whipAnswer(err: unknown, opts: { stream?: string | undefined; codes?: CodeAnswers } = {}): HttpAnswer {
  const kind = answerKind(err, opts.codes);
  if (kind === 'message') return passMessage(err);
  if (kind === 'no-origin' && opts.stream !== undefined) return { status: 503, text: `no origin server available for ${opts.stream}` };
  if (kind === 'unreachable') return { status: 503, text: HTTP_ANSWERS.unreachable.text };
  return HTTP_ANSWERS[kind];
}

/** An RTMP client's error status: `onStatus` code and description for the session's role. */
export interface RtmpAnswer {
  code: 'NetStream.Publish.BadName' | 'NetStream.Play.StreamNotFound';
  description: string;
}

const RTMP_DESCRIPTIONS: Readonly<Record<AnswerKind, string>> = {
  ...Object.fromEntries(Object.entries(HTTP_ANSWERS).map(([k, a]) => [k, a.text])) as Record<AnswerKind, string>,
  'bad-request': 'invalid stream request',
  // Encoders show the description verbatim: say which part is missing (no address or subject).
  unavailable: 'stream routing temporarily unavailable: registry unreachable',
  timeout: 'timed out',
};

export function rtmpAnswer(err: unknown, role: 'publish' | 'play', codes: CodeAnswers = {}): RtmpAnswer {
  const kind = answerKind(err, codes);
  return {
    code: role === 'publish' ? 'NetStream.Publish.BadName' : 'NetStream.Play.StreamNotFound',
    description: kind === 'message' ? errorMessage(err) : RTMP_DESCRIPTIONS[kind],
  };
}

/** libsrt rejection reasons the edges send (`SRT_REJ_*`, and `SRT_REJX_*` = 1000 + HTTP status). */
export const SrtReject = {
  RESOURCE: 3,
  TIMEOUT: 16,
  BAD_REQUEST: 1400,
  BAD_GATEWAY: 1502,
  UNAVAILABLE: 1503,
} as const;

const SRT_REJECTS: Readonly<Record<AnswerKind, number>> = {
  'no-origin': SrtReject.UNAVAILABLE,
  unavailable: SrtReject.UNAVAILABLE,
  unreachable: SrtReject.UNAVAILABLE,
  internal: SrtReject.UNAVAILABLE,
  'bad-request': SrtReject.BAD_REQUEST,
  // The origin stayed silent: what libsrt itself reports when a listener does not answer.
  timeout: SrtReject.TIMEOUT,
  rejected: SrtReject.BAD_GATEWAY,
  invalid: SrtReject.BAD_GATEWAY,
};

/** An SRT caller's rejection reason. `reasons` maps the edge's own codes to a reason. */
export function srtRejectReason(err: unknown, reasons: Readonly<Record<string, number>> = {}): number {
  const own = reasons[errorCode(err) ?? ''];
  if (own !== undefined) return own;
  const kind = answerKind(err);
  return kind === 'message' ? SrtReject.BAD_REQUEST : SRT_REJECTS[kind];
}
