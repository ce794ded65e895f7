import { ProxyError } from '@srs-proxy/runtime';

/** Stable error codes of the SRT edge; callers and logs branch on these, never on messages. */
export const BAD_HANDSHAKE = 'SRSP_ERR_BAD_HANDSHAKE';
export const BAD_STREAM_ID = 'SRSP_ERR_BAD_STREAM_ID';
export const ORIGIN_TIMEOUT = 'SRSP_ERR_ORIGIN_TIMEOUT';
export const ORIGIN_UNREACHABLE = 'SRSP_ERR_ORIGIN_UNREACHABLE';
export const NO_SRT_ENDPOINT = 'SRSP_ERR_NO_SRT_ENDPOINT';
export const SOCKET_ID_COLLISION = 'SRSP_ERR_SOCKET_ID_COLLISION';

/** Why a datagram is not a usable handshake; doubles as the drop-reason label. */
export type HandshakeFault =
  | 'short'
  | 'not-handshake'
  | 'extension-header-truncated'
  | 'extension-truncated'
  | 'too-many-extensions'
  | 'bad-stream-id-encoding'
  | 'stream-id-too-long'
  | 'bad-hsreq';

/** A datagram that claims to be an SRT handshake but cannot be parsed safely. */
export class SrtHandshakeError extends ProxyError {
  constructor(
    readonly fault: HandshakeFault,
    message: string,
  ) {
    super(BAD_HANDSHAKE, message);
  }
}

/** A stream id SRS would not accept, or one that yields no routable stream. */
export class StreamIdError extends ProxyError {
  constructor(message: string) {
    super(BAD_STREAM_ID, message);
  }
}

/** The origin did not finish the SRT handshake within the per-attempt timeout. */
export class OriginTimeoutError extends ProxyError {
  constructor(message: string) {
    super(ORIGIN_TIMEOUT, message);
  }
}

/** The origin's socket reported an error (ICMP port unreachable, DNS failure, …). */
export class OriginUnreachableError extends ProxyError {
  constructor(message: string, cause?: unknown) {
    super(ORIGIN_UNREACHABLE, message, { cause });
  }
}

/** The picked origin advertises no SRT endpoint. */
export class NoSrtEndpointError extends ProxyError {
  constructor(message: string) {
    super(NO_SRT_ENDPOINT, message);
  }
}

/** The origin handed out a socket id another session of the same caller address already uses. */
export class SocketIdCollisionError extends ProxyError {
  constructor(message: string) {
    super(SOCKET_ID_COLLISION, message);
  }
}
