import { Agent, type Dispatcher } from 'undici';
import { formatHostPort, type Endpoint } from '@srs-proxy/balancer';
import { errorCode } from '@srs-proxy/runtime';
import { OriginFailedError, OriginTimeoutError, OriginUnreachableError } from './errors.ts';

export interface OriginClientOptions {
  connectTimeoutMs: number;
  headersTimeoutMs: number;
  bodyIdleTimeoutMs: number;
  keepAliveTimeoutMs: number;
}

/** Failures that mean "nothing is listening there": the registry should hear of them and we re-pick. */
const CONNECT_FAILURES = new Set(['ECONNREFUSED', 'UND_ERR_CONNECT_TIMEOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EHOSTDOWN', 'ENOTFOUND', 'EAI_AGAIN']);

export function isConnectFailure(err: unknown): boolean {
  const code = errorCode(err);
  return code !== undefined && CONNECT_FAILURES.has(code);
}

export interface OriginResponse {
  statusCode: number;
  headers: Record<string, string | string[] | undefined>;
  body: Dispatcher.ResponseData['body'];
}

/**
 * HTTP client towards origins: one undici Agent (a keep-alive pool per origin) with bounded
 * connect, header and body-idle waits. Errors come back typed: connect failures keep their
 * system code (so the caller can fail over), timeouts and broken connections become
 * OriginTimeoutError / OriginFailedError.
 */
export class OriginClient {
  readonly #agent: Agent;

  constructor(opts: OriginClientOptions) {
    this.#agent = new Agent({
      connect: { timeout: opts.connectTimeoutMs },
      headersTimeout: opts.headersTimeoutMs,
      bodyTimeout: opts.bodyIdleTimeoutMs,
      keepAliveTimeout: opts.keepAliveTimeoutMs,
      // Live streams hold a connection each; a per-origin cap would queue players behind them.
      connections: null,
    });
  }

  async request(ep: Endpoint, req: { method: 'GET' | 'HEAD'; path: string; headers: Record<string, string | string[]>; signal: AbortSignal }): Promise<OriginResponse> {
    try {
      const r = await this.#agent.request({
        origin: `http://${formatHostPort(ep.host, ep.port)}`,
        path: req.path,
        method: req.method,
        headers: req.headers,
        signal: req.signal,
      });
      return { statusCode: r.statusCode, headers: r.headers, body: r.body };
    } catch (err) {
      if (isConnectFailure(err) || req.signal.aborted) throw err;
      if (errorCode(err) === 'UND_ERR_HEADERS_TIMEOUT') throw new OriginTimeoutError('origin sent no response headers in time', err);
      throw new OriginFailedError(`origin request failed: ${(err as Error).message}`, err);
    }
  }

  /** The unreachable error reported to callers once failover is exhausted. */
  static unreachable(ep: Endpoint, err: unknown): OriginUnreachableError {
    return new OriginUnreachableError(`cannot connect to origin ${formatHostPort(ep.host, ep.port)}: ${errorCode(err) ?? (err as Error).message}`, err);
  }

  async close(): Promise<void> {
    await this.#agent.destroy();
  }
}
