import { ProxyError } from '@srs-proxy/runtime';

export const REGISTRY_UNAVAILABLE = 'SRSP_ERR_REGISTRY_UNAVAILABLE';
export const REGISTRY_TIMEOUT = 'SRSP_ERR_TIMEOUT';
export const BAD_MESSAGE = 'SRSP_ERR_BAD_MESSAGE';

/** No registry answered (no responders, bus disconnected). */
export class RegistryUnavailableError extends ProxyError {
  constructor(message: string, cause?: unknown) {
    super(REGISTRY_UNAVAILABLE, message, { status: 503, cause });
  }
}

/** The registry did not answer within the request timeout. */
export class RegistryTimeoutError extends ProxyError {
  constructor(message: string, cause?: unknown) {
    super(REGISTRY_TIMEOUT, message, { status: 504, cause });
  }
}

/** An error the registry returned, re-created on the edge with its original code. */
export class RemoteError extends ProxyError {
  constructor(code: string, message: string) {
    super(code, message, { status: code === 'SRSP_ERR_NO_ORIGIN' ? 503 : 500 });
  }
}

export class BadMessageError extends ProxyError {
  constructor(message: string) {
    super(BAD_MESSAGE, message, { status: 400 });
  }
}
