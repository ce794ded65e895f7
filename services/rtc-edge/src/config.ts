import { isIP } from 'node:net';
import { f, ConfigError, type Field } from '@srs-proxy/runtime';

/** An optional IP address written into SDP candidates; anything else stops the process. */
function optionalIp(env: string, doc: string): Field<string | undefined> {
  return {
    env,
    default: undefined,
    doc,
    secret: false,
    parse(raw, variable) {
      if (raw === undefined) return undefined;
      const ip = raw.trim();
      if (isIP(ip) === 0) throw new ConfigError(variable, `"${raw}" is not an IPv4 or IPv6 address`);
      return ip;
    },
  };
}

/** Settings of the rtc-edge service; the first two keep the Go proxy's names and defaults. */
export const rtcEdgeSchema = {
  apiListen: f.listen('PROXY_HTTP_API', '11985',
    'HTTP API listener: WHIP/WHEP signalling, the legacy /rtc/v1/publish/ and /rtc/v1/play/ API, /api/v1/versions.'),
  listen: f.listen('PROXY_WEBRTC_SERVER', '18000',
    'WebRTC media listener (UDP). Its bound port is written into every candidate of the SDP answers.'),
  candidate: optionalIp('PROXY_RTC_CANDIDATE',
    'Public IP written into every candidate of the SDP answers. Unset: keep the IP the origin advertised (upstream behaviour).'),
  idleTimeout: f.duration('PROXY_RTC_IDLE_TIMEOUT', '30s',
    'A relayed WebRTC session with no client datagram for this long is closed. ICE consent checks (RFC 7675) arrive every ~5 s, so 30 s means the client is gone.'),
  maxSessions: f.int('PROXY_RTC_MAX_SESSIONS', '10000',
    'Cap on relayed WebRTC sessions on this edge (each holds one UDP socket); new sessions past it are refused.', 1, 1_000_000),
  maxSessionsPerIp: f.int('PROXY_RTC_MAX_SESSIONS_PER_IP', '100',
    'Cap on relayed WebRTC sessions per client IP, so one host cannot take every socket of the edge.', 1, 1_000_000),
} as const;
