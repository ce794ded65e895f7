import { f } from './config.ts';

/**
 * Settings every service reads: how it finds the cluster (bus, state store), how it logs and
 * traces, and how it shuts down. Service-specific settings live in each service's own schema.
 */
export const commonSchema = {
  loadBalancerType: f.oneOf('PROXY_LOAD_BALANCER_TYPE', 'memory', ['memory', 'redis'] as const,
    'Balancer state store: `memory` (one process) or `redis` (shared by every registry replica).'),
  // least-streams by default: even spread with no origin configuration (summaries are opt-in in SRS) and exact counts.
  loadBalanceStrategy: f.oneOf('PROXY_LOAD_BALANCE_STRATEGY', 'least-streams', ['random', 'least-streams', 'least-load'] as const,
    'Where new streams go: `random` (upstream), `least-streams` (fewest streams placed), `least-load` (heartbeat `summaries` CPU/load, power of two choices). Existing streams never move for load.'),
  redisHost: f.string('PROXY_REDIS_HOST', '127.0.0.1', 'Redis host (redis balancer only).'),
  redisPort: f.int('PROXY_REDIS_PORT', '6379', 'Redis port.', 1, 65535),
  redisPassword: f.secret('PROXY_REDIS_PASSWORD', 'Redis password (never logged).'),
  redisDb: f.int('PROXY_REDIS_DB', '0', 'Redis database index.', 0, 65535),
  redisKeyPrefix: f.string('PROXY_REDIS_KEY_PREFIX', 'srs-proxy:', 'Prefix of every Redis key, so several clusters can share one Redis.'),
  natsUrl: f.url('PROXY_NATS_URL', undefined,
    'NATS server URL(s), comma separated. Empty: standalone mode with the in-process bus. Set: cluster mode over NATS.', ['nats:', 'tls:', 'ws:', 'wss:']),
  natsToken: f.secret('PROXY_NATS_TOKEN', 'NATS auth token (never logged).'),
  originServerTtl: f.duration('PROXY_ORIGIN_SERVER_TTL', '300s',
    'An origin counts as alive this long after its last heartbeat. Upstream default 300s; set 3x the SRS heartbeat interval (e.g. 30s) for fast failover.'),
  registryTimeout: f.duration('PROXY_REGISTRY_TIMEOUT', '2s',
    'How long an edge waits for the registry to answer one request before failing that session.'),
  originConnectTimeout: f.duration('PROXY_ORIGIN_CONNECT_TIMEOUT', '3s',
    'Every edge: bound on reaching one origin (TCP connect; over UDP, name resolution) before it is reported failed and another is tried. Origins sit on the same network: a connect not done in 3 s means the host is gone. SRT caps it at PROXY_SRT_HANDSHAKE_TIMEOUT.'),
  originAttempts: f.int('PROXY_ORIGIN_ATTEMPTS', '3',
    'Every edge: distinct origins tried for one client session, the first included; each unreachable one is reported to the registry and avoided. 3 survives two dead origins (a rack) while the client still waits.', 1, 8),
  originStallTimeout: f.duration('PROXY_ORIGIN_STALL_TIMEOUT', '5s',
    'Every edge: a relayed session whose origin stops reading (writes wait for drain) or stops sending (a player had media, then nothing) for this long is checked; a hung origin (no answer to a fresh handshake within PROXY_ORIGIN_CONNECT_TIMEOUT) is reported and the session closed, so the client reconnects elsewhere. Publishers probe their origin at this interval too: a hung origin keeps accepting bytes into kernel buffers for minutes. A live stream sends media every few hundred ms, so 5 s of silence is abnormal; 5 s + 1 s checks + 3 s probe stays under 15 s.'),
  routeStaleMaxAge: f.duration('PROXY_ROUTE_STALE_MAX_AGE', '30m',
    'Static stability: while the registry, NATS or Redis does not answer, an edge keeps routing streams (and HLS/DASH sessions, WebRTC sessions) it already knows, from answers up to this old; only new streams fail (503 + Retry-After). Long enough to ride out a control-plane outage; counted in srsp_route_stale_answers_total.'),
  placementLeaseInterval: f.duration('PROXY_PLACEMENT_LEASE_INTERVAL', '3s',
    'Every edge with publishers (RTMP, SRT, WHIP): how often it renews the placement of its live publishers\' streams with the registry, in one batched request. A store that lost its state (Redis restarted empty) has every live stream mapped to its publisher\'s origin again within one interval (3s: well within 10s, at one small request per edge). 100ms..60s.',
    100, 60_000),
  graceQuitTimeout: f.duration('PROXY_GRACE_QUIT_TIMEOUT', '20s',
    'On SIGTERM/SIGINT: one total deadline, from the signal, for in-flight requests and live sessions (RTMP, FLV, SRT, WebRTC) to end by themselves; then they are closed.'),
  drainDelay: f.duration('PROXY_DRAIN_DELAY', '3s',
    'On SIGTERM, /readyz turns 503 at once but listeners keep accepting this long, so load balancers and Kubernetes endpoints stop sending clients first. SIGINT skips it.'),
  forceQuitTimeout: f.duration('PROXY_FORCE_QUIT_TIMEOUT', '30s', 'After a shutdown signal the process exits with code 1 once this elapses.'),
  logLevel: f.oneOf('PROXY_LOG_LEVEL', 'info', ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const, 'Log level (pino).'),
  opsServer: f.listen('PROXY_OPS_SERVER', '12026', 'Listener for /healthz, /readyz and /metrics (Prometheus).'),
  otlpEndpoint: f.url('PROXY_OTLP_ENDPOINT', undefined,
    'OTLP/HTTP traces endpoint, e.g. http://jaeger:4318/v1/traces. Empty: tracing off.', ['http:', 'https:']),
} as const;
