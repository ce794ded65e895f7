import { ProxyError } from '@srs-proxy/runtime';

/**
 * Error codes of the rtc-edge; callers (and tests) branch on them. Their messages are written for
 * the client (they describe its request or the answer's shape, never an origin's id or address).
 * Origin failures use the shared SRSP_ERR_ORIGIN_* of @srs-proxy/routing.
 */
export const BAD_SDP = 'SRSP_ERR_BAD_SDP';
export const BAD_RTC_REQUEST = 'SRSP_ERR_BAD_RTC_REQUEST';
export const BAD_ORIGIN_ANSWER = 'SRSP_ERR_BAD_ORIGIN_ANSWER';

/** An offer or answer SDP lacks what the proxy needs (ICE credentials, a UDP candidate). */
export class SdpError extends ProxyError {
  constructor(message: string) {
    super(BAD_SDP, message, { status: 400 });
  }
}

/** The client's request cannot be served (bad body, bad resource URL, too large). */
export class RtcRequestError extends ProxyError {
  constructor(message: string, status = 400) {
    super(BAD_RTC_REQUEST, message, { status });
  }
}

/** The origin answered 2xx with something the proxy cannot relay (no ICE credentials, no UDP candidate). */
export class BadOriginAnswerError extends ProxyError {
  constructor(message: string, cause?: unknown) {
    super(BAD_ORIGIN_ANSWER, message, { status: 502, cause });
  }
}
