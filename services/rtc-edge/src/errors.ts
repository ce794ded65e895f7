import { ProxyError } from '@srs-proxy/runtime';

/** Error codes of the rtc-edge; callers (and tests) branch on them. */
export const BAD_SDP = 'SRSP_ERR_BAD_SDP';
export const BAD_RTC_REQUEST = 'SRSP_ERR_BAD_RTC_REQUEST';
export const ORIGIN_FAILED = 'SRSP_ERR_ORIGIN_FAILED';
export const BAD_ORIGIN_ANSWER = 'SRSP_ERR_BAD_ORIGIN_ANSWER';
export const NO_RTC_ENDPOINT = 'SRSP_ERR_NO_RTC_ENDPOINT';

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

/** The origin could not be reached or did not answer in time. */
export class OriginFailedError extends ProxyError {
  constructor(message: string, cause?: unknown) {
    super(ORIGIN_FAILED, message, { status: 502, cause });
  }
}

/** The origin answered 2xx with something the proxy cannot relay (no ICE credentials, no UDP candidate). */
export class BadOriginAnswerError extends ProxyError {
  constructor(message: string, cause?: unknown) {
    super(BAD_ORIGIN_ANSWER, message, { status: 502, cause });
  }
}

/** The picked origin registered no WebRTC API or UDP endpoint. */
export class NoRtcEndpointError extends ProxyError {
  constructor(message: string) {
    super(NO_RTC_ENDPOINT, message, { status: 503 });
  }
}
