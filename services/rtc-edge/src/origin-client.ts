import { Agent, request } from 'undici';
import { formatHostPort, type Endpoint } from '@srs-proxy/balancer';
import { errorCode, errorMessage } from '@srs-proxy/runtime';
import { OriginFailedError } from './errors.ts';

/** Bounds one origin connect: an origin that does not accept in 3 s is down or overloaded; fail over. */
export const ORIGIN_CONNECT_TIMEOUT_MS = 3_000;
/** SRS answers an offer in milliseconds; 10 s covers a loaded origin and bounds the client's wait. */
export const ORIGIN_RESPONSE_TIMEOUT_MS = 10_000;
/** Origin response bodies (SDP answers, JSON) larger than this are refused: real ones are a few KB. */
export const MAX_ORIGIN_BODY_BYTES = 256 * 1024;
/** Idle keep-alive connections to origins are dropped after this long. */
const ORIGIN_KEEPALIVE_MS = 4_000;

export interface OriginResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** Errors that mean the request never reached the origin: safe to retry on another origin. */
const CONNECT_FAILURES = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_CONNECT_TIMEOUT']);

export function isConnectFailure(err: unknown): boolean {
  const cause = err instanceof OriginFailedError ? err.cause : err;
  const code = errorCode(cause);
  return code !== undefined && CONNECT_FAILURES.has(code);
}

/** HTTP requests from the edge to origins' API ports, with bounded connect, response and size. */
export class OriginClient {
  private readonly agent = new Agent({
    connect: { timeout: ORIGIN_CONNECT_TIMEOUT_MS },
    headersTimeout: ORIGIN_RESPONSE_TIMEOUT_MS,
    bodyTimeout: ORIGIN_RESPONSE_TIMEOUT_MS,
    keepAliveTimeout: ORIGIN_KEEPALIVE_MS,
  });

  async send(api: Endpoint, method: string, pathAndQuery: string, headers: Record<string, string>, body: Buffer | undefined): Promise<OriginResponse> {
    const url = `http://${formatHostPort(api.host, api.port)}${pathAndQuery}`;
    let res;
    try {
      res = await request(url, {
        method: method as 'POST',
        headers,
        body: body === undefined || body.length === 0 ? (method === 'POST' || method === 'PATCH' ? '' : undefined) : body,
        dispatcher: this.agent,
        signal: AbortSignal.timeout(ORIGIN_RESPONSE_TIMEOUT_MS + ORIGIN_CONNECT_TIMEOUT_MS),
      });
    } catch (err) {
      throw new OriginFailedError(`origin request failed: ${errorMessage(err)}`, err);
    }
    const chunks: Buffer[] = [];
    let size = 0;
    try {
      for await (const chunk of res.body) {
        const b = chunk as Buffer;
        size += b.length;
        if (size > MAX_ORIGIN_BODY_BYTES) {
          res.body.destroy();
          throw new OriginFailedError(`origin response larger than ${MAX_ORIGIN_BODY_BYTES} bytes`);
        }
        chunks.push(b);
      }
    } catch (err) {
      if (err instanceof OriginFailedError) throw err;
      throw new OriginFailedError(`reading origin response failed: ${errorMessage(err)}`, err);
    }
    return { status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks, size) };
  }

  async close(): Promise<void> {
    await this.agent.destroy();
  }
}
