import { f } from '@srs-proxy/runtime';

/** Settings of the srt-edge service; `PROXY_SRT_SERVER` keeps the Go proxy's name and default. */
export const srtEdgeSchema = {
  listen: f.listen('PROXY_SRT_SERVER', '20080', 'SRT listener (UDP).'),
  maxSessions: f.int('PROXY_SRT_MAX_SESSIONS', '2000',
    'Most SRT sessions one edge relays at once (each holds one UDP socket); further callers are rejected with SRT_REJX_OVERLOAD.', 1, 1_000_000),
  maxSessionsPerIp: f.int('PROXY_SRT_MAX_SESSIONS_PER_IP', '100',
    'Most SRT sessions from one source IP, so one host cannot take every slot of the edge.', 1, 1_000_000),
  handshakeTimeout: f.duration('PROXY_SRT_HANDSHAKE_TIMEOUT', '1s',
    'How long one origin may take to complete the SRT handshake before the session fails over to another origin. Two attempts must fit in a libsrt caller\'s 3 s connect timeout.'),
  idleTimeout: f.duration('PROXY_SRT_IDLE_TIMEOUT', '30s',
    'A session whose caller sent no datagram for this long is closed (both peers get an SRT shutdown). Connected libsrt callers send at least a keepalive every second and give up on their own after 5 s of silence, so 30 s only collects callers that vanished.'),
  cookieSecret: f.secret('PROXY_SRT_COOKIE_SECRET',
    'Secret for the SRT SYN cookies. Set the same value on replicas that share one UDP address; empty: random per process.'),
} as const;
