import { ProxyError } from '@srs-proxy/runtime';

/**
 * Stable error codes of the SRT edge; callers and logs branch on these, never on messages. Origin
 * failures use the shared SRSP_ERR_ORIGIN_* of @srs-proxy/routing.
 */
export const BAD_HANDSHAKE = 'SRSP_ERR_BAD_HANDSHAKE';
export const BAD_STREAM_ID = 'SRSP_ERR_BAD_STREAM_ID';
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

/** The origin handed out a socket id another session of the same caller address already uses. */
export class SocketIdCollisionError extends ProxyError {
  constructor(message: string) {
    super(SOCKET_ID_COLLISION, message);
  }
}
