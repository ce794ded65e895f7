import { ProxyError } from '@srs-proxy/runtime';

/** RTMP-edge codes; origin failures use the shared SRSP_ERR_ORIGIN_* of @srs-proxy/routing. */
export const SETUP_TIMEOUT = 'SRSP_ERR_SETUP_TIMEOUT';
export const IDLE_TIMEOUT = 'SRSP_ERR_IDLE_TIMEOUT';
export const BAD_REQUEST = 'SRSP_ERR_BAD_REQUEST';

/** A bounded set-up wait ran out (client handshake + identify). */
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
