import { MAX_STREAM_PAGE, type StreamQuery } from '@srs-proxy/balancer';
import { MAX_ORIGIN_ID_LENGTH, MAX_STREAM_URL_LENGTH } from './bus-requests.ts';

/**
 * Query strings of the cluster API → typed queries (pure). A bad value is a ClusterQueryError
 * naming the parameter, answered as 400 with that name; nothing reaches the balancer unchecked.
 */

/** Page size when the client does not ask: one screen of a console. */
export const DEFAULT_STREAM_PAGE = 100;
/** vhost and app are single path segments of a stream URL; SRS limits neither, 256 is plenty. */
export const MAX_SEGMENT_LENGTH = 256;
/** A cursor is a stream URL; base64url makes it 4/3 longer. */
const MAX_CURSOR_LENGTH = Math.ceil((MAX_STREAM_URL_LENGTH * 4) / 3) + 4;

export const BAD_QUERY = 'SRSP_ERR_BAD_QUERY';

export class ClusterQueryError extends Error {
  readonly code = BAD_QUERY;
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
    this.name = 'ClusterQueryError';
  }
}

type Query = Record<string, unknown>;

/** One optional string parameter: given once, non-empty, bounded, no control characters. */
function text(q: Query, name: string, max: number): string | undefined {
  const v = q[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new ClusterQueryError(name, `${name} must be given once`);
  if (v.length === 0) throw new ClusterQueryError(name, `${name} must not be empty`);
  if (v.length > max) throw new ClusterQueryError(name, `${name} is longer than ${max} characters`);
  if (/[\u0000-\u001f]/.test(v)) throw new ClusterQueryError(name, `${name} contains control characters`);
  return v;
}

function segment(q: Query, name: string): string | undefined {
  const v = text(q, name, MAX_SEGMENT_LENGTH);
  if (v !== undefined && v.includes('/')) throw new ClusterQueryError(name, `${name} must not contain "/"`);
  return v;
}

/** Cursors are opaque to clients: the last stream URL of a page, base64url-encoded. */
export function encodeCursor(streamUrl: string): string {
  return Buffer.from(streamUrl, 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string): string {
  if (!/^[A-Za-z0-9_-]+$/.test(cursor)) throw new ClusterQueryError('cursor', 'cursor is not one this API returned');
  const url = Buffer.from(cursor, 'base64url').toString('utf8');
  if (url.length === 0 || url.length > MAX_STREAM_URL_LENGTH || encodeCursor(url) !== cursor) {
    throw new ClusterQueryError('cursor', 'cursor is not one this API returned');
  }
  return url;
}

/** `GET /api/v1/cluster/streams?limit&cursor&origin&vhost&app` */
export function parseStreamQuery(q: Query): StreamQuery {
  const rawLimit = text(q, 'limit', 8);
  let limit = DEFAULT_STREAM_PAGE;
  if (rawLimit !== undefined) {
    limit = /^\d+$/.test(rawLimit) ? Number(rawLimit) : NaN;
    if (!(limit >= 1 && limit <= MAX_STREAM_PAGE)) throw new ClusterQueryError('limit', `limit must be an integer in 1..${MAX_STREAM_PAGE}`);
  }
  const out: StreamQuery = { limit };
  const cursor = text(q, 'cursor', MAX_CURSOR_LENGTH);
  if (cursor !== undefined) out.after = decodeCursor(cursor);
  const origin = text(q, 'origin', MAX_ORIGIN_ID_LENGTH);
  if (origin !== undefined) out.origin_id = origin;
  const vhost = segment(q, 'vhost');
  if (vhost !== undefined) out.vhost = vhost;
  const app = segment(q, 'app');
  if (app !== undefined) out.app = app;
  return out;
}

/** `?stream=<vhost>/<app>/<stream>` of the players view. */
export function parseStreamParam(q: Query): string {
  const v = text(q, 'stream', MAX_STREAM_URL_LENGTH);
  if (v === undefined) throw new ClusterQueryError('stream', 'stream is required (a stream URL as listed, e.g. __defaultVhost__/live/livestream)');
  return v;
}

/** An origin id path parameter. */
export function parseOriginId(id: unknown): string {
  if (typeof id !== 'string' || id.length === 0 || id.length > MAX_ORIGIN_ID_LENGTH || /[\u0000-\u001f]/.test(id)) {
    throw new ClusterQueryError('id', `origin id must be 1..${MAX_ORIGIN_ID_LENGTH} printable characters`);
  }
  return id;
}
