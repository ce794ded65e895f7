import { Agent, request } from 'undici';
import { formatHostPort, type Endpoint } from '@srs-proxy/balancer';
import { OriginFailedError, OriginTimeoutError } from '@srs-proxy/routing';
import { errorCode, errorMessage } from '@srs-proxy/runtime';

/** SRS answers an offer in milliseconds; 10 s covers a loaded origin and bounds the client's wait. */
export const ORIGIN_RESPONSE_TIMEOUT_MS = 10_000;
/** Origin response bodies (SDP answers, JSON) larger than this are refused: real ones are a few KB. */
export const MAX_ORIGIN_BODY_BYTES = 256 * 1024;
/** Idle keep-alive connections to origins are dropped after this long. */
const ORIGIN_KEEPALIVE_MS = 4_000;
/** undici's codes for an origin that accepted the connection and then did not answer in time. */
const RESPONSE_TIMEOUTS = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

export interface OriginResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/**
 * HTTP requests from the edge to origins' API ports (WHIP/WHEP, the legacy JSON API), with
 * bounded connect (PROXY_ORIGIN_CONNECT_TIMEOUT), response and size. A failure keeps undici's
 * error as its cause, so the router can tell a connect failure (try another origin) from the rest.
 */
export class OriginApiClient {
  private readonly agent: Agent;

  constructor(private readonly connectTimeoutMs: number) {
    this.agent = new Agent({
      connect: { timeout: connectTimeoutMs },
      headersTimeout: ORIGIN_RESPONSE_TIMEOUT_MS,
      bodyTimeout: ORIGIN_RESPONSE_TIMEOUT_MS,
      keepAliveTimeout: ORIGIN_KEEPALIVE_MS,
    });
  }

  async send(api: Endpoint, method: string, pathAndQuery: string, headers: Record<string, string>, body: Buffer | undefined): Promise<OriginResponse> {
    const url = `http://${formatHostPort(api.host, api.port)}${pathAndQuery}`;
    let res;
    try {
      res = await request(url, {
        method: method as 'POST',
        headers,
        body: body === undefined || body.length === 0 ? (method === 'POST' || method === 'PATCH' ? '' : undefined) : body,
        dispatcher: this.agent,
        signal: AbortSignal.timeout(ORIGIN_RESPONSE_TIMEOUT_MS + this.connectTimeoutMs),
      });
    } catch (err) {
      if (RESPONSE_TIMEOUTS.has(errorCode(err) ?? '')) throw new OriginTimeoutError(`origin did not answer: ${errorMessage(err)}`, err);
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
