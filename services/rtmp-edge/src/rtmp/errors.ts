import { ProxyError } from '@srs-proxy/runtime';

/** Stable codes of the RTMP layer; sessions branch on these, never on message text. */
export const BAD_HANDSHAKE = 'SRSP_ERR_BAD_HANDSHAKE';
export const BAD_CHUNK = 'SRSP_ERR_BAD_CHUNK';
export const BAD_AMF0 = 'SRSP_ERR_BAD_AMF0';
export const BAD_COMMAND = 'SRSP_ERR_BAD_COMMAND';

/** C0/C1 (or S0/S1 from an origin) cannot be answered. */
export class HandshakeError extends ProxyError {
  constructor(message: string) {
    super(BAD_HANDSHAKE, message, { status: 400 });
  }
}

/** The chunk stream violates the protocol or a limit (message size, chunk streams, chunk size). */
export class ChunkError extends ProxyError {
  constructor(message: string) {
    super(BAD_CHUNK, message, { status: 400 });
  }
}

/** An AMF0 value is malformed, unsupported, too deep or too large. */
export class Amf0Error extends ProxyError {
  constructor(message: string) {
    super(BAD_AMF0, message, { status: 400 });
  }
}

/** A command message is well-formed AMF0 but not a usable RTMP command. */
export class CommandError extends ProxyError {
  constructor(message: string) {
    super(BAD_COMMAND, message, { status: 400 });
  }
}
