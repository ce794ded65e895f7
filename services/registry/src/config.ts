import { f } from '@srs-proxy/runtime';

/** Settings of the registry service (System API, default backend, registration auth). */
export const registrySchema = {
  systemApi: f.listen('PROXY_SYSTEM_API', '12025', 'System API listener: origin registration (`POST /api/v1/srs/register`) and cluster views.'),
  defaultBackendEnabled: f.onOff('PROXY_DEFAULT_BACKEND_ENABLED', 'off', 'Register a built-in debug origin at start-up (refreshed so it never expires).'),
  defaultBackendIp: f.string('PROXY_DEFAULT_BACKEND_IP', '127.0.0.1', 'Debug origin IP.'),
  defaultBackendRtmp: f.string('PROXY_DEFAULT_BACKEND_RTMP', '1935', 'Debug origin RTMP endpoint.'),
  defaultBackendHttp: f.optionalString('PROXY_DEFAULT_BACKEND_HTTP', 'Debug origin HTTP stream endpoint (no default: without it the debug origin serves no FLV/TS/HLS).'),
  defaultBackendApi: f.string('PROXY_DEFAULT_BACKEND_API', '1985', 'Debug origin HTTP API endpoint (WHIP/WHEP).'),
  defaultBackendRtc: f.string('PROXY_DEFAULT_BACKEND_RTC', '8000', 'Debug origin WebRTC UDP endpoint.'),
  defaultBackendSrt: f.string('PROXY_DEFAULT_BACKEND_SRT', '10080', 'Debug origin SRT UDP endpoint.'),
  authToken: f.secret('PROXY_HTTP_API_AUTH_TOKEN', 'When set, the System API requires `Authorization: Bearer <token>` (newer SRS: heartbeat auth header).'),
  registerSecret: f.secret('PROXY_REGISTER_SECRET', 'When set, registration is also accepted at `/api/v1/srs/register/<secret>` without a header (SRS origins that cannot send headers). Off by default.'),
} as const;
