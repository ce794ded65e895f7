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
  liveTimeout: f.duration('PROXY_CLUSTER_LIVE_TIMEOUT', '2s',
    'Cluster API: bound on one request to an origin\'s own HTTP API (`/api/v1/streams/`, `/api/v1/clients/`, `/api/v1/summaries`). A LAN origin answers in milliseconds; one that does not within 2 s is reported as not answering and the rest of the view is served.'),
  liveCacheTtl: f.duration('PROXY_CLUSTER_LIVE_CACHE_TTL', '2s',
    'Cluster API: how long an origin\'s live detail is reused. Consoles poll every few seconds; this turns N viewers into one origin request per interval. SRS refreshes its kbps every 10-30 s anyway.'),
  liveConcurrency: f.int('PROXY_CLUSTER_LIVE_CONCURRENCY', '8',
    'Cluster API: origins asked for live detail at once. A view of a 100-origin fleet stays at 8 sockets and a few round trips instead of 300 requests in one burst.', 1, 256),
} as const;
