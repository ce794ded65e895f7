import { httpAnswer, type CodeAnswers, type HttpAnswer } from '@srs-proxy/routing';
import { ProxyError } from '@srs-proxy/runtime';
import { BAD_PLAYLIST } from './hls/playlist-rewrite.ts';
import { BAD_MANIFEST } from './dash/mpd-rewrite.ts';

export const UNKNOWN_SESSION = 'SRSP_ERR_UNKNOWN_HLS_SESSION';
export const DOCUMENT_TOO_LARGE = 'SRSP_ERR_DOCUMENT_TOO_LARGE';

/** A playlist/segment request names a session id the registry does not know (or that expired). */
export class UnknownSessionError extends ProxyError {
  constructor(readonly spbhid: string) {
    super(UNKNOWN_SESSION, `no HLS session ${spbhid}`, { status: 404 });
  }
}

/** A playlist or manifest larger than the rewrite limit. */
export class DocumentTooLargeError extends ProxyError {
  constructor(limit: number) {
    super(DOCUMENT_TOO_LARGE, `origin document larger than ${limit} bytes`, { status: 502 });
  }
}

/** The http-edge's own codes: what each means to a client (origin and routing codes are shared). */
const HTTP_CODES: CodeAnswers = { [BAD_PLAYLIST]: 'invalid', [BAD_MANIFEST]: 'invalid', [DOCUMENT_TOO_LARGE]: 'invalid' };
const HTTP_ANSWERS = { [UNKNOWN_SESSION]: { status: 404, text: 'unknown or expired HLS session id (spbhid); reload the playlist' } };

/**
 * What a client is told for an error: a status and a short text that names no origin address,
 * id or internal detail (spec S9), from the shared HTTP adapter. The full error goes to the log.
 */
export function clientError(err: unknown): HttpAnswer {
  return httpAnswer(err, HTTP_CODES, HTTP_ANSWERS);
}
