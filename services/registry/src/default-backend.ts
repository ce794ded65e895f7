import { parseRegisterBody, type OriginRecord } from '@srs-proxy/balancer';
import { ConfigError, newCid } from '@srs-proxy/runtime';

/**
 * Upstream re-stores the debug backend every 30 s (spec 3.6). It must stay well inside the origin
 * TTL so the record never expires; the service uses min(this, TTL / 3).
 */
export const DEFAULT_BACKEND_REFRESH_MS = 30_000;

export interface DefaultBackendConfig {
  defaultBackendIp: string;
  defaultBackendRtmp: string;
  defaultBackendHttp: string | undefined;
  defaultBackendApi: string;
  defaultBackendRtc: string;
  defaultBackendSrt: string;
}

/**
 * The built-in debug origin (spec 3.8), validated like a heartbeat so a bad
 * `PROXY_DEFAULT_BACKEND_*` value stops start-up naming the variable. Identity
 * `default-<cid>-<cid>-<pid>` like upstream; call `refreshed` to get the record with a new
 * `updated_at` (upstream forgot to refresh it, so its debug backend aged out of memory mode).
 */
export function defaultBackendRecord(cfg: DefaultBackendConfig, now: number, pid: string = String(process.pid)): OriginRecord {
  const body: Record<string, unknown> = {
    ip: cfg.defaultBackendIp,
    server: `default-${newCid()}`,
    service: newCid(),
    pid,
    rtmp: [cfg.defaultBackendRtmp],
    api: [cfg.defaultBackendApi],
    rtc: [cfg.defaultBackendRtc],
    srt: [cfg.defaultBackendSrt],
  };
  if (cfg.defaultBackendHttp) body.http = [cfg.defaultBackendHttp];
  try {
    return parseRegisterBody(body, now);
  } catch (err) {
    const field = (err as { field?: string }).field ?? '';
    const variable = VARIABLE_OF_FIELD[field.replace(/\[\d+\]$/, '')] ?? 'PROXY_DEFAULT_BACKEND_*';
    throw new ConfigError(variable, `invalid default backend: ${err instanceof Error ? err.message : String(err)}`);
  }
}

const VARIABLE_OF_FIELD: Record<string, string> = {
  ip: 'PROXY_DEFAULT_BACKEND_IP',
  rtmp: 'PROXY_DEFAULT_BACKEND_RTMP',
  http: 'PROXY_DEFAULT_BACKEND_HTTP',
  api: 'PROXY_DEFAULT_BACKEND_API',
  rtc: 'PROXY_DEFAULT_BACKEND_RTC',
  srt: 'PROXY_DEFAULT_BACKEND_SRT',
};
