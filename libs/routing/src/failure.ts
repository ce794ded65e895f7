import { errorCode } from '@srs-proxy/runtime';
import { ORIGIN_CONNECT_TIMEOUT, ORIGIN_NO_ENDPOINT, ORIGIN_UNREACHABLE } from './errors.ts';

/**
 * System and client-library codes meaning the request never reached a working origin, so trying
 * another origin cannot duplicate anything and the registry should hear of it. One set for every
 * edge (TCP dials, undici, UDP sockets).
 */
export const CONNECT_FAILURE_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EHOSTDOWN', 'EADDRNOTAVAIL', 'ENOTFOUND', 'EAI_AGAIN',
  // A TCP connect the kernel gave up on, and undici's own connect timeout.
  'ETIMEDOUT', 'UND_ERR_CONNECT_TIMEOUT',
  // Our typed dial failures.
  ORIGIN_UNREACHABLE, ORIGIN_CONNECT_TIMEOUT, ORIGIN_NO_ENDPOINT,
]);

/** Causes followed when classifying a wrapped error; real chains are one or two deep. */
const MAX_CAUSE_DEPTH = 4;

/**
 * `down`: the origin could not be reached (report it, try another). `failed`: it was reached and
 * the session failed there (an answer, a refusal, a timeout after the request went out): retrying
 * elsewhere could repeat a request the origin acted on, so the error goes to the client.
 */
export type OriginFailure = 'down' | 'failed';

export function classifyFailure(err: unknown): OriginFailure {
  let e: unknown = err;
  for (let depth = 0; depth <= MAX_CAUSE_DEPTH && e !== undefined && e !== null; depth++) {
    const code = errorCode(e);
    if (code !== undefined && CONNECT_FAILURE_CODES.has(code)) return 'down';
    e = (e as { cause?: unknown }).cause;
  }
  return 'failed';
}

export function isOriginDown(err: unknown): boolean {
  return classifyFailure(err) === 'down';
}
