import { ProxyError } from '@srs-proxy/runtime';

/** Error codes of the balancer; the bus carries them unchanged to edges. */
export const NO_ORIGIN = 'SRSP_ERR_NO_ORIGIN';
export const BAD_ENDPOINT = 'SRSP_ERR_BAD_ENDPOINT';
export const BAD_REGISTER = 'SRSP_ERR_BAD_REGISTER';
export const BAD_STREAM_URL = 'SRSP_ERR_BAD_STREAM_URL';
export const STORE_UNAVAILABLE = 'SRSP_ERR_STORE_UNAVAILABLE';
export const PLACEMENT_SETTLING = 'SRSP_ERR_PLACEMENT_SETTLING';
export const BAD_PLACEMENT = 'SRSP_ERR_BAD_PLACEMENT';

export class NoOriginError extends ProxyError {
  constructor(message: string) {
    super(NO_ORIGIN, message, { status: 503 });
  }
}

export class EndpointError extends ProxyError {
  constructor(message: string) {
    super(BAD_ENDPOINT, message, { status: 400 });
  }
}

/** A register body is invalid; `field` names the offending field. */
export class RegisterError extends ProxyError {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(BAD_REGISTER, message, { status: 400 });
  }
}

export class StreamUrlError extends ProxyError {
  constructor(message: string) {
    super(BAD_STREAM_URL, message, { status: 400 });
  }
}

/** The balancer's state store (Redis) did not answer or refused a command. */
export class StoreUnavailableError extends ProxyError {
  constructor(message: string, cause?: unknown) {
    super(STORE_UNAVAILABLE, message, { status: 503, cause });
  }
}

/** A placement claim batch the balancer refuses (too many claims, empty fields); nothing was written. */
export class PlacementBatchError extends ProxyError {
  constructor(message: string) {
    super(BAD_PLACEMENT, message, { status: 400 });
  }
}

/**
 * The store came back empty moments ago: new placements wait until the edges holding live
 * publishers have re-asserted theirs (a new pick now could send players to the wrong origin).
 */
export class PlacementSettlingError extends ProxyError {
  constructor(message: string) {
    super(PLACEMENT_SETTLING, message, { status: 503 });
  }
}
