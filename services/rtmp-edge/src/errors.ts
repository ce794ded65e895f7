import { ProxyError } from '@srs-proxy/runtime';

export const ORIGIN_UNREACHABLE = 'SRSP_ERR_ORIGIN_UNREACHABLE';
export const ORIGIN_REJECTED = 'SRSP_ERR_ORIGIN_REJECTED';
export const SETUP_TIMEOUT = 'SRSP_ERR_SETUP_TIMEOUT';
export const IDLE_TIMEOUT = 'SRSP_ERR_IDLE_TIMEOUT';
export const BAD_REQUEST = 'SRSP_ERR_BAD_REQUEST';

/** TCP connect or RTMP handshake to the origin failed: the origin is reported and another tried. */
export class OriginUnreachableError extends ProxyError {
  constructor(message: string, cause?: unknown) {
    super(ORIGIN_UNREACHABLE, message, { status: 502, cause });
  }
}

/** The origin answered but refused the session (`_error`, error status, or closed during replay). */
export class OriginRejectedError extends ProxyError {
  constructor(message: string, cause?: unknown) {
    super(ORIGIN_REJECTED, message, { status: 502, cause });
  }
}

/** A bounded set-up wait ran out (client handshake + identify, or origin replay). */
export class SetupTimeoutError extends ProxyError {
  constructor(message: string) {
    super(SETUP_TIMEOUT, message, { status: 504 });
  }
}

/** The client's request cannot be routed (no tcUrl, bad stream URL, missing stream name). */
export class BadRequestError extends ProxyError {
  constructor(message: string, cause?: unknown) {
    super(BAD_REQUEST, message, { status: 400, cause });
  }
}
