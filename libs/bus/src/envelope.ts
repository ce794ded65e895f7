import { errorCode, errorMessage } from '@srs-proxy/runtime';
import type { Envelope } from './messages.ts';
import { RemoteError } from './errors.ts';

/** Wraps a handler outcome for the wire; unknown errors become SRSP_ERR_INTERNAL. */
export function okEnvelope<T>(data: T): Envelope<T> {
  return { ok: true, data };
}

export function errorEnvelope(err: unknown): Envelope<never> {
  return { ok: false, error: { code: errorCode(err) ?? 'SRSP_ERR_INTERNAL', message: errorMessage(err) } };
}

/** Unwraps a reply: data, or the remote error re-thrown with its code. */
export function openEnvelope(env: unknown): unknown {
  if (typeof env !== 'object' || env === null || typeof (env as { ok?: unknown }).ok !== 'boolean') {
    throw new RemoteError('SRSP_ERR_BAD_MESSAGE', 'malformed reply from registry');
  }
  const e = env as Envelope<unknown>;
  if (e.ok) return e.data;
  throw new RemoteError(String(e.error?.code ?? 'SRSP_ERR_INTERNAL'), String(e.error?.message ?? 'registry error'));
}
