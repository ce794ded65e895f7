import { createHash, timingSafeEqual } from 'node:crypto';
import { RegisterError } from '@srs-proxy/balancer';

/**
 * Pure pieces of the register endpoint: body decoding and authentication. No I/O here, so the
 * fuzz test and the HTTP layer exercise exactly the same decisions.
 */

/**
 * An SRS heartbeat is under 1 KiB; with `summaries on` it carries a few KiB of system stats. 64 KiB
 * leaves an order of magnitude of headroom while bounding what one request can make us buffer and
 * store (the `summaries` object is kept on the origin record).
 */
export const REGISTER_BODY_LIMIT = 64 * 1024;

/**
 * Raw request bytes → the JSON value to validate. Upstream ignores the content type and treats an
 * empty body as `{}`; so do we. Errors name the field `body`.
 */
export function decodeRegisterBody(raw: Buffer | string | undefined): unknown {
  if (raw === undefined) return {};
  const text = typeof raw === 'string' ? raw : raw.toString('utf8');
  if (text.trim().length === 0) return {};
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new RegisterError('body', `parse body: json unmarshal: ${err instanceof Error ? err.message : String(err)}`);
  }
}

export interface RegisterAuthConfig {
  /** `PROXY_HTTP_API_AUTH_TOKEN`: accepted as `Authorization: Bearer <token>`. */
  authToken: string | undefined;
  /** `PROXY_REGISTER_SECRET`: accepted as the last path segment `/api/v1/srs/register/<secret>`. */
  registerSecret: string | undefined;
}

export function authEnabled(cfg: RegisterAuthConfig): boolean {
  return Boolean(cfg.authToken) || Boolean(cfg.registerSecret);
}

/** Constant-time comparison of two secrets of any length (hash first so lengths do not leak). */
export function secretEquals(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/** The token of an `Authorization: Bearer <token>` header, or undefined. */
export function bearerToken(header: string | string[] | undefined): string | undefined {
  const h = Array.isArray(header) ? header[0] : header;
  if (!h) return undefined;
  const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(h);
  return m ? m[1] : undefined;
}

/**
 * May this request register an origin? With auth off (neither setting) anyone may, as upstream.
 * With auth on, either a matching bearer token or a matching secret path segment is enough.
 */
export function registerAuthorized(
  cfg: RegisterAuthConfig,
  req: { authorization: string | string[] | undefined; pathSecret: string | undefined },
): boolean {
  if (!authEnabled(cfg)) return true;
  const token = bearerToken(req.authorization);
  if (cfg.authToken && token !== undefined && secretEquals(token, cfg.authToken)) return true;
  if (cfg.registerSecret && req.pathSecret !== undefined && secretEquals(req.pathSecret, cfg.registerSecret)) return true;
  return false;
}

/** Cluster views expose origin addresses: with a token configured they require it. */
export function viewAuthorized(cfg: RegisterAuthConfig, authorization: string | string[] | undefined): boolean {
  if (!cfg.authToken) return true;
  const token = bearerToken(authorization);
  return token !== undefined && secretEquals(token, cfg.authToken);
}
