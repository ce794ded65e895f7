import { ProxyError } from '@srs-proxy/runtime';

/**
 * Error codes of talking to an origin, defined once for every edge. What an edge tells its
 * client for each is decided in client-answer.ts; what is retried elsewhere, in failure.ts.
 */
/** Nothing working answered at the endpoint: refused, unreachable host, DNS, ICMP, a broken handshake. */
export const ORIGIN_UNREACHABLE = 'SRSP_ERR_ORIGIN_UNREACHABLE';
/** The connect (or, over UDP, the protocol handshake that stands for it) was not answered in time. */
export const ORIGIN_CONNECT_TIMEOUT = 'SRSP_ERR_ORIGIN_CONNECT_TIMEOUT';
/** The picked origin advertises no usable endpoint of the protocol. */
export const ORIGIN_NO_ENDPOINT = 'SRSP_ERR_ORIGIN_NO_ENDPOINT';
/** The origin accepted the connection but did not answer the request in time. */
export const ORIGIN_TIMEOUT = 'SRSP_ERR_ORIGIN_TIMEOUT';
/** The origin answered and refused the session (an RTMP `_error`, an error status). */
export const ORIGIN_REJECTED = 'SRSP_ERR_ORIGIN_REJECTED';
/** The origin connection broke, or the origin answered something the edge cannot relay. */
export const ORIGIN_FAILED = 'SRSP_ERR_ORIGIN_FAILED';

export class OriginUnreachableError extends ProxyError {
  constructor(message: string, cause?: unknown) {
    super(ORIGIN_UNREACHABLE, message, { status: 502, cause });
  }
}

export class OriginConnectTimeoutError extends ProxyError {
  constructor(message: string, cause?: unknown) {
    super(ORIGIN_CONNECT_TIMEOUT, message, { status: 504, cause });
  }
}

export class OriginNoEndpointError extends ProxyError {
  constructor(message: string, cause?: unknown) {
    super(ORIGIN_NO_ENDPOINT, message, { status: 502, cause });
  }
}

export class OriginTimeoutError extends ProxyError {
  constructor(message: string, cause?: unknown) {
    super(ORIGIN_TIMEOUT, message, { status: 504, cause });
  }
}

export class OriginRejectedError extends ProxyError {
  constructor(message: string, cause?: unknown) {
    super(ORIGIN_REJECTED, message, { status: 502, cause });
  }
}

export class OriginFailedError extends ProxyError {
  constructor(message: string, cause?: unknown) {
    super(ORIGIN_FAILED, message, { status: 502, cause });
  }
}
