import { ProxyError, errorCode } from '@srs-proxy/runtime';
import { NO_ORIGIN, BAD_STREAM_URL, BAD_ENDPOINT } from '@srs-proxy/balancer';
import { REGISTRY_TIMEOUT, REGISTRY_UNAVAILABLE } from '@srs-proxy/bus';
import { BAD_PLAYLIST } from './hls/playlist-rewrite.ts';
import { BAD_MANIFEST } from './dash/mpd-rewrite.ts';

export const UNKNOWN_SESSION = 'SRSP_ERR_UNKNOWN_HLS_SESSION';
export const ORIGIN_UNREACHABLE = 'SRSP_ERR_ORIGIN_UNREACHABLE';
export const ORIGIN_TIMEOUT = 'SRSP_ERR_ORIGIN_TIMEOUT';
export const ORIGIN_FAILED = 'SRSP_ERR_ORIGIN_FAILED';
export const DOCUMENT_TOO_LARGE = 'SRSP_ERR_DOCUMENT_TOO_LARGE';

/** A playlist/segment request names a session id the registry does not know (or that expired). */
export class UnknownSessionError extends ProxyError {
  constructor(readonly spbhid: string) {
    super(UNKNOWN_SESSION, `no HLS session ${spbhid}`, { status: 404 });
  }
}

/** The origin refused or did not accept the connection (after the failover retry). */
export class OriginUnreachableError extends ProxyError {
  constructor(message: string, cause?: unknown) {
    super(ORIGIN_UNREACHABLE, message, { status: 502, cause });
  }
}

export class OriginTimeoutError extends ProxyError {
  constructor(message: string, cause?: unknown) {
    super(ORIGIN_TIMEOUT, message, { status: 504, cause });
  }
}

/** The origin connection broke or answered something we cannot relay. */
export class OriginFailedError extends ProxyError {
  constructor(message: string, cause?: unknown) {
    super(ORIGIN_FAILED, message, { status: 502, cause });
  }
}

/** A playlist or manifest larger than the rewrite limit. */
export class DocumentTooLargeError extends ProxyError {
  constructor(limit: number) {
    super(DOCUMENT_TOO_LARGE, `origin document larger than ${limit} bytes`, { status: 502 });
  }
}

/**
 * What a client is told for an error: a status and a short text that names no origin address,
 * id or internal detail (spec S9). The full error goes to the log.
 */
export function clientError(err: unknown): { status: number; text: string } {
  switch (errorCode(err)) {
    case NO_ORIGIN:
      return { status: 503, text: 'no origin server available for this stream' };
    case REGISTRY_UNAVAILABLE:
    case REGISTRY_TIMEOUT:
      return { status: 503, text: 'stream routing temporarily unavailable' };
    case UNKNOWN_SESSION:
      return { status: 404, text: 'unknown or expired HLS session id (spbhid); reload the playlist' };
    case BAD_STREAM_URL:
      return { status: 400, text: 'invalid stream URL' };
    case ORIGIN_UNREACHABLE:
    case BAD_ENDPOINT:
      return { status: 502, text: 'origin server unreachable' };
    case ORIGIN_TIMEOUT:
      return { status: 504, text: 'origin server timed out' };
    case ORIGIN_FAILED:
    case BAD_PLAYLIST:
    case BAD_MANIFEST:
    case DOCUMENT_TOO_LARGE:
      return { status: 502, text: 'origin server sent an invalid response' };
    default:
      return { status: 500, text: 'internal error' };
  }
}
