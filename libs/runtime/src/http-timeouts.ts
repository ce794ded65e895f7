import type { ServerOptions } from 'node:http';

/**
 * Node enforces `headersTimeout`/`requestTimeout` only on a periodic check (30 s by default), so a
 * slow-loris client that never finishes its headers lives up to ~30 s past the documented bound.
 * Checking every second holds every listener to its documented value within a second.
 */
export const HTTP_TIMEOUT_CHECK_INTERVAL_MS = 1_000;

/**
 * Options for `http.createServer` (or fastify's `http`) with header/request deadlines that hold:
 * `headersTimeoutMs` bounds receiving the request head, `requestTimeoutMs` (optional) the whole
 * request body, `keepAliveTimeoutMs` an idle kept-alive connection.
 */
export function httpServerTimeouts(t: { headersTimeoutMs: number; requestTimeoutMs?: number; keepAliveTimeoutMs?: number }): ServerOptions {
  const opts: ServerOptions = {
    headersTimeout: t.headersTimeoutMs,
    // 0 disables Node's own 300 s default: long-lived responses (FLV) are bounded elsewhere.
    requestTimeout: t.requestTimeoutMs ?? 0,
    connectionsCheckingInterval: Math.min(HTTP_TIMEOUT_CHECK_INTERVAL_MS, t.headersTimeoutMs),
  };
  if (t.keepAliveTimeoutMs !== undefined) opts.keepAliveTimeout = t.keepAliveTimeoutMs;
  return opts;
}
